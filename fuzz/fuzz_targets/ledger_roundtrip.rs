//! The pending ledger's round trip over arbitrary bytes: see
//! `reseclear_fuzz::ledger_roundtrip::check`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use reseclear_fuzz::{ledger_roundtrip, scratch_dir};

fuzz_target!(|data: &[u8]| {
    ledger_roundtrip::check(data, &scratch_dir().join("pending.parquet"));
});
