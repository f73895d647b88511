//! What a tier-3 patient declared, gathered from every place it is written: the RE
//! record (name, kana, sex, birth date), the receipt's 摘要 free-text comments, and the
//! digitized declaration form (`declarations.csv`), which wins where both give a value
//! (DOMAIN §5).
//!
//! Declarations are joined to receipts by (clinic code, billing month, receipt number),
//! and by the receiving organization when the declaration gives it. A declaration that
//! fits no tier-3 receipt, or fits two (a clinic's files to both organizations share
//! receipt numbers), is reported rather than guessed.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::comments::parse_declared_comments;
use crate::domain::{ClinicCode, InsuranceKind, Sex, YearMonth};
use crate::ingest::declarations::Declaration;
use crate::ingest::uke::{Comment, Receipt};
use crate::validate::{QuarantineRow, Scope};

/// A tier-3 patient as declared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declared {
    pub name: String,
    pub kana: String,
    pub birth_date: NaiveDate,
    pub sex: Sex,
    pub address: Option<String>,
    pub insurer_name: Option<String>,
    pub employer: Option<String>,
    pub phone: Option<String>,
    pub insurance_kind: InsuranceKind,
    /// The day care was given and eligibility could not be confirmed, when declared.
    pub confirmation_date: Option<NaiveDate>,
    pub declared_copay_percent: Option<u8>,
    /// Whether a row of `declarations.csv` was used.
    pub has_form: bool,
    /// Comment texts that could not be read as any declared item (reported, not PII-
    /// logged).
    pub unparsed_comments: usize,
}

/// Joins declarations to the tier-3 receipts: for each receipt (by position), the
/// index of its declaration; and rows reporting declarations that fit no receipt or
/// more than one.
pub fn join_declarations(
    tier3: &[&Receipt],
    declarations: &[Declaration],
    file: &str,
) -> (Vec<Option<usize>>, Vec<QuarantineRow>) {
    type Key = (ClinicCode, YearMonth, u32);
    let mut receipts_by_key: BTreeMap<Key, Vec<usize>> = BTreeMap::new();
    for (i, r) in tier3.iter().enumerate() {
        receipts_by_key
            .entry((r.key.clinic_code, r.key.billing_month, r.key.receipt_number))
            .or_default()
            .push(i);
    }
    let mut joined = vec![None; tier3.len()];
    let mut rows = Vec::new();
    for (d_index, d) in declarations.iter().enumerate() {
        let fits: Vec<usize> = receipts_by_key
            .get(&(d.clinic_code, d.billing_month, d.receipt_number))
            .into_iter()
            .flatten()
            .copied()
            .filter(|&i| {
                d.organization
                    .is_none_or(|o| tier3[i].key.organization == o)
            })
            .collect();
        let problem = match fits.as_slice() {
            [i] if joined[*i].is_none() => {
                joined[*i] = Some(d_index);
                None
            }
            [_] => Some("a second declaration for the same receipt: the first is used".to_string()),
            [] => Some("no tier-3 receipt (numbers unknown) has this key".to_string()),
            _ => Some(format!(
                "{} tier-3 receipts (one per receiving organization) have this key: give the organization column",
                fits.len()
            )),
        };
        if let Some(reason) = problem {
            rows.push(
                QuarantineRow::new(file, d.line, "declarations", "-", "", reason, Scope::Notice)
                    .with_receipt(d.key_string()),
            );
        }
    }
    (joined, rows)
}

/// What a tier-3 receipt declares, the form winning over the receipt.
pub fn declared(receipt: &Receipt, form: Option<&Declaration>) -> Declared {
    let comments = parse_declared_comments(
        receipt
            .comments
            .iter()
            .filter(|c| c.code == Comment::FREE_TEXT)
            .map(|c| c.text.as_str()),
    );
    let pick = |form_value: Option<&String>, receipt_value: Option<String>| {
        form_value
            .filter(|v| !v.trim().is_empty())
            .cloned()
            .or(receipt_value.filter(|v| !v.trim().is_empty()))
    };
    let receipt_kana = Some(receipt.kana_name.to_string())
        .filter(|k| !k.is_empty())
        .or(comments.kana_name.clone());
    let kind_from_form = form
        .map(|f| f.insurance_kind)
        .filter(|k| *k != InsuranceKind::Unknown);
    Declared {
        name: pick(
            form.and_then(|f| f.name.as_ref()),
            Some(receipt.name.to_string()),
        )
        .unwrap_or_default(),
        kana: pick(form.and_then(|f| f.name_kana.as_ref()), receipt_kana).unwrap_or_default(),
        birth_date: form
            .and_then(|f| f.birth_date)
            .unwrap_or(receipt.birth_date),
        sex: form.and_then(|f| f.sex).unwrap_or(receipt.sex),
        address: pick(
            form.and_then(|f| f.address.as_ref()),
            comments.address.clone(),
        ),
        insurer_name: pick(
            form.and_then(|f| f.insurer_name.as_ref()),
            comments.insurer_name.clone(),
        ),
        employer: pick(
            form.and_then(|f| f.employer.as_ref()),
            comments.employer.clone(),
        ),
        phone: pick(
            form.and_then(|f| f.phone.as_ref()),
            comments.contact.clone(),
        ),
        insurance_kind: kind_from_form
            .or(comments.insurance_kind)
            .unwrap_or(InsuranceKind::Unknown),
        confirmation_date: form.and_then(|f| f.confirmation_date),
        declared_copay_percent: form.and_then(|f| f.declared_copay_percent),
        has_form: form.is_some(),
        unparsed_comments: comments.unparsed.len(),
    }
}
