//! The small parsers every reader leans on, with round-trip invariants: see
//! `reseclear_fuzz::targets::dates_and_numbers`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use reseclear_fuzz::targets;

fuzz_target!(|data: &[u8]| {
    targets::dates_and_numbers(data);
});
