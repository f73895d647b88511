//! Receipt keys must be unique across the run. The same key in two files (a file sent
//! twice, or two files numbered from 1 by one clinic in one month) cannot be paid twice
//! and cannot be told apart: every copy is quarantined.

use std::collections::BTreeMap;

use crate::domain::ReceiptKey;
use crate::ingest::uke::QuarantinedReceipt;
use crate::resolve::claim::ClaimFile;
use crate::validate::{QuarantineRow, Scope};

/// Moves every receipt whose key occurs in more than one file to quarantine. Files are
/// taken in the order given (sorted by path by the caller), so the result is the same
/// on every run.
pub fn quarantine_duplicate_keys(files: &mut [ClaimFile]) {
    let mut seen: BTreeMap<ReceiptKey, Vec<(usize, u64)>> = BTreeMap::new();
    for (i, f) in files.iter().enumerate() {
        for r in &f.claims {
            seen.entry(r.key).or_default().push((i, r.line));
        }
    }
    let places: BTreeMap<ReceiptKey, String> = seen
        .into_iter()
        .filter(|(_, v)| v.len() > 1)
        .map(|(k, v)| {
            let list = v
                .iter()
                .map(|(i, line)| format!("{}:{line}", files[*i].file.path))
                .collect::<Vec<_>>()
                .join(", ");
            (k, list)
        })
        .collect();
    if places.is_empty() {
        return;
    }
    for f in files.iter_mut() {
        let (dups, keep): (Vec<_>, Vec<_>) = std::mem::take(&mut f.claims)
            .into_iter()
            .partition(|r| places.contains_key(&r.key));
        f.claims = keep;
        let f = &mut f.file;
        for r in dups {
            let reason = format!(
                "receipt key {} occurs in more than one file ({})",
                r.key, places[&r.key]
            );
            f.quarantine.push(
                QuarantineRow::new(
                    &f.path,
                    r.line,
                    "RE",
                    "RE.2 レセプト番号",
                    &r.key.receipt_number.to_string(),
                    reason.clone(),
                    Scope::Receipt,
                )
                .with_receipt(r.key),
            );
            f.quarantined.push(QuarantinedReceipt {
                key: Some(r.key),
                receipt_number: Some(r.key.receipt_number),
                line: r.line,
                points: Some(r.points()),
                reason,
            });
        }
    }
}
