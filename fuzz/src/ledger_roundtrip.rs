//! The pending ledger's round-trip promise, checked by the `ledger_roundtrip` fuzz target
//! and, over its seeds, by `tests/trust_outputs.rs` (which includes this file by path):
//! every receipt the UKE reader accepted is written as the ledger writes it
//! (`pending::uke_text`, a row of `pending.parquet`) and read back whole: the same key,
//! no quarantined row, the stored text byte for byte, and written again from the
//! receipt read back, the same text (a fixed point). Panics where the promise breaks.

use std::path::Path;

use reseclear::config::IngestConfig;
use reseclear::domain::Yen;
use reseclear::ingest::uke::parse_uke;
use reseclear::pending::{read_ledger, uke_text, write_ledger, LedgerEntry};
use reseclear::resolve::outcome::Status;

/// Checks the round trip of the receipts in `data` through a ledger written at `ledger`;
/// returns the entries written (none when `data` has no IR header).
pub fn check(data: &[u8], ledger: &Path) -> Vec<LedgerEntry> {
    let config = IngestConfig::default();
    let file = parse_uke("input.UKE", data, &config);
    let Some(header) = file.header.as_ref() else {
        return Vec::new();
    };
    let mut entries: Vec<LedgerEntry> = Vec::new();
    for r in &file.receipts {
        let text = match uke_text(header, r) {
            Ok(t) => t,
            Err(e) => panic!("an accepted receipt cannot be written to the ledger: {e}"),
        };
        if entries.iter().any(|e| e.key == r.key) {
            continue;
        }
        entries.push(LedgerEntry {
            key: r.key,
            tier: 3,
            last_status: Status::Pending,
            first_pending_month: r.key.billing_month,
            age_months: 0,
            ledger_month: r.key.billing_month,
            cost_yen: r.points().checked_to_yen().unwrap_or(Yen(0)),
            insurer_share_yen: Yen(0),
            reason: String::new(),
            uke: text,
            declaration: None,
            kind: file.kind.map(|k| k.of_receipt(r)),
            header: None,
        });
    }
    entries.sort_by_key(|e| e.key);
    write_ledger(ledger, &entries).expect("write the ledger");
    let name = ledger
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("pending.parquet");
    let read = read_ledger(ledger, name, &config).expect("read the ledger back");
    assert!(
        read.file.quarantined.is_empty(),
        "a written row does not read back: {:?}",
        read.file.quarantine
    );
    assert_eq!(read.entries.len(), entries.len());
    for ((written, back), receipt) in entries.iter().zip(&read.entries).zip(&read.file.receipts) {
        assert_eq!(written.key, back.key);
        assert_eq!(written.uke, back.uke, "the stored text changed");
        assert_eq!(written.kind, back.kind, "the kind of claim changed");
        let header = back.header.as_ref().expect("the IR read back");
        let again = uke_text(header, receipt).expect("the receipt read back writes");
        assert_eq!(
            written.uke, again,
            "the receipt read back is not the one written"
        );
    }
    entries
}
