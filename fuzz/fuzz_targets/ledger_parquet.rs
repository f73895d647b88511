//! The pending ledger of an earlier run (`pending.parquet`): arbitrary bytes as the
//! ledger, including its embedded UKE text, which is re-parsed per row. An error or
//! quarantined rows are fine; a panic that escapes `read_ledger` is a finding. Panics of
//! the parquet/arrow crates that the reader's guard turns into an error are not (see
//! `no_panic_escapes`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use reseclear::config::IngestConfig;
use reseclear::pending::read_ledger;
use reseclear_fuzz::{no_panic_escapes, scratch_file};

fuzz_target!(|data: &[u8]| {
    let path = scratch_file("pending.parquet", data);
    let _ = no_panic_escapes("read_ledger", || {
        read_ledger(&path, "pending.parquet", &IngestConfig::default())
    });
});
