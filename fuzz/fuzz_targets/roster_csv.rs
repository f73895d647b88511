//! `roster.csv` read with every `ingest.csv_encoding`: see
//! `reseclear_fuzz::targets::roster_csv`. An error or quarantine rows are fine; a panic
//! is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;
use reseclear_fuzz::{scratch_dir, targets};

fuzz_target!(|data: &[u8]| {
    let _ = targets::roster_csv(data, scratch_dir());
});
