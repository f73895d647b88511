//! `declarations.csv` read with every `ingest.csv_encoding`: see
//! `reseclear_fuzz::targets::declarations_csv`. An error or quarantine rows are fine; a panic
//! is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;
use reseclear_fuzz::{scratch_dir, targets};

fuzz_target!(|data: &[u8]| {
    let _ = targets::declarations_csv(data, scratch_dir());
});
