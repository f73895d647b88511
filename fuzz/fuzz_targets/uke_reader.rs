//! UKE receipt files: arbitrary bytes through the whole reader (Shift_JIS decoding,
//! record splitting, every record's fields, totals). Quarantine rows are fine; a panic
//! is a bug ("never panic on input", src/ingest/mod.rs).
#![no_main]

use libfuzzer_sys::fuzz_target;
use reseclear::config::IngestConfig;
use reseclear::ingest::uke::parse_uke;

fuzz_target!(|data: &[u8]| {
    let file = parse_uke("fuzz.UKE", data, &IngestConfig::default());
    // The reader accounts for the bytes it was given.
    assert_eq!(file.bytes, data.len() as u64);
});
