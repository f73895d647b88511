//! `roster.parquet`: arbitrary bytes as a Parquet roster, see
//! `reseclear_fuzz::targets::roster_parquet`. An error is fine; a panic that escapes
//! `read_roster` is a finding. Panics of the parquet/arrow crates that the reader's
//! guard turns into an error are not (see `no_panic_escapes`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use reseclear_fuzz::{no_panic_escapes, scratch_dir, targets};

fuzz_target!(|data: &[u8]| {
    let _ = no_panic_escapes("read_roster", || {
        targets::roster_parquet(data, scratch_dir())
    });
});
