//! `insurers.csv`: arbitrary bytes written to a scratch file and read with every
//! `ingest.csv_encoding` (auto, utf-8, shift_jis). An error or quarantine rows are
//! fine; a panic is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;
use reseclear::ingest::insurers::read_insurers;
use reseclear_fuzz::{scratch_file, CSV_ENCODINGS};

fuzz_target!(|data: &[u8]| {
    let path = scratch_file("insurers.csv", data);
    for encoding in CSV_ENCODINGS {
        let _ = read_insurers(&path, "insurers.csv", encoding);
    }
});
