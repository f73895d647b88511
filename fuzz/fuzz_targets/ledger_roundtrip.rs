//! The pending ledger's round trip: arbitrary bytes through the UKE reader, then every
//! receipt it accepted written as the ledger writes it (`pending::uke_text`, a row of
//! `pending.parquet`) and read back (`pending::read_ledger`). Whatever the reader
//! accepted must be written without error and read back whole: the same key, no
//! quarantined row, the stored text byte for byte as written, and written again from
//! the receipt read back, the same text (a fixed point).
#![no_main]

use libfuzzer_sys::fuzz_target;
use reseclear::config::IngestConfig;
use reseclear::domain::Yen;
use reseclear::ingest::uke::parse_uke;
use reseclear::pending::{read_ledger, uke_text, write_ledger, LedgerEntry};
use reseclear::resolve::outcome::Status;
use reseclear_fuzz::scratch_file;

fuzz_target!(|data: &[u8]| {
    let config = IngestConfig::default();
    let file = parse_uke("fuzz.UKE", data, &config);
    let Some(header) = file.header.as_ref() else {
        return;
    };
    let mut entries = Vec::new();
    for r in &file.receipts {
        let text = match uke_text(header, r) {
            Ok(t) => t,
            Err(e) => panic!("an accepted receipt cannot be written to the ledger: {e}"),
        };
        if entries.iter().any(|e: &LedgerEntry| e.key == r.key) {
            continue;
        }
        entries.push(LedgerEntry {
            key: r.key,
            tier: 3,
            last_status: Status::Pending,
            first_pending_month: r.key.billing_month,
            age_months: 0,
            ledger_month: r.key.billing_month,
            cost_yen: Yen(0),
            insurer_share_yen: Yen(0),
            reason: String::new(),
            uke: text,
            declaration: None,
            header: None,
        });
    }
    entries.sort_by_key(|e| e.key);
    let path = scratch_file("pending.parquet", b"");
    write_ledger(&path, &entries).expect("write the ledger");
    let read = read_ledger(&path, "pending.parquet", &config).expect("read the ledger back");
    assert!(
        read.file.quarantined.is_empty(),
        "a written row does not read back: {:?}",
        read.file.quarantine
    );
    assert_eq!(read.entries.len(), entries.len());
    for ((written, back), receipt) in entries.iter().zip(&read.entries).zip(&read.file.receipts) {
        assert_eq!(written.key, back.key);
        assert_eq!(written.uke, back.uke, "the stored text changed");
        let header = back.header.as_ref().expect("the IR read back");
        let again = uke_text(header, receipt).expect("the receipt read back writes");
        assert_eq!(written.uke, again, "the receipt read back is not the one written");
    }
});
