//! `roster.parquet`: arbitrary bytes as a Parquet roster (footer and metadata
//! decoding, page decoding, column types, then row validation). An error is fine; a
//! panic that escapes `read_roster` is a finding. Panics of the parquet/arrow crates
//! that the reader's guard turns into an error are not (see `no_panic_escapes`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use reseclear::config::CsvEncoding;
use reseclear::ingest::roster::read_roster;
use reseclear_fuzz::{no_panic_escapes, scratch_file};

fuzz_target!(|data: &[u8]| {
    let path = scratch_file("roster.parquet", data);
    let _ = no_panic_escapes("read_roster", || {
        read_roster(&path, "roster.parquet", CsvEncoding::Auto)
    });
});
