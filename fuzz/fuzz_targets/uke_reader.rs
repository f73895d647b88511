//! UKE receipt files: see `reseclear_fuzz::targets::uke_reader`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use reseclear_fuzz::targets;

fuzz_target!(|data: &[u8]| {
    targets::uke_reader(data);
});
