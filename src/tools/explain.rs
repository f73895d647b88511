//! `reseclear explain --run DIR KEY`: why one receipt went where it went, in a
//! terminal — the receipt as read, its tier and status, the candidates with every
//! field's comparison level and weight (a waterfall in text), the chosen insurer
//! period, the copay check, its time on the pending ledger and, if apportioned, its
//! parts. Read from the run's outputs only. Personal data is masked unless
//! `show_pii`: `person_id`, and the declared name, kana, address and phone the pending
//! ledger carries for an open receipt.

use std::fmt::{self, Write as _};
use std::path::{Path, PathBuf};

use arrow::array::{Array, Float64Array, Int64Array, StringArray, UInt8Array};

use crate::domain::{ClinicCode, Organization, YearMonth};
use crate::ingest::insurers::read_insurers;
use crate::ingest::parquet_table::{opt_str, Batch, Table};
use crate::ingest::IngestError;
use crate::report::html::mask_person_id;
use crate::run::{
    APPORTIONMENT_FILE, INSURERS_FILE, LEDGER_FILE, MATCH_REPORT_FILE, RECEIPTS_FILE,
};
use crate::validate::mask_pii;

#[derive(Debug, thiserror::Error)]
pub enum ExplainError {
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error("{0:?} is not a receipt key: expected CLINIC:YYYY-MM:NUMBER (7-digit clinic code, billing month, receipt number), optionally @1 or @2 for the organization")]
    Key(String),
    #[error("{path}: no receipt {key}")]
    NotFound { path: PathBuf, key: String },
    #[error(
        "{key} is a receipt of both organizations; say which with @1 (支払基金) or @2 (国保連)"
    )]
    Ambiguous { key: String },
}

/// A receipt key as typed: the organization may be left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct WantedKey {
    clinic: ClinicCode,
    month: YearMonth,
    number: u32,
    organization: Option<u8>,
}

impl WantedKey {
    fn parse(s: &str) -> Result<WantedKey, ExplainError> {
        let bad = || ExplainError::Key(s.to_string());
        let (body, organization) = match s.split_once('@') {
            Some((b, o)) => (b, Some(Organization::parse(o).map_err(|_| bad())?.code())),
            None => (s, None),
        };
        let mut parts = body.split(':');
        let (Some(c), Some(m), Some(n), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        Ok(WantedKey {
            clinic: ClinicCode::parse(c).map_err(|_| bad())?,
            month: YearMonth::parse_iso(m).map_err(|_| bad())?,
            number: n.trim().parse().map_err(|_| bad())?,
            organization,
        })
    }

    /// Rows of a batch with this key (organization, clinic, month, number columns).
    fn rows(&self, b: &Batch<'_>) -> Result<Vec<(usize, u8)>, IngestError> {
        let org = b.u8("organization")?;
        let clinic = b.utf8("clinic_code")?;
        let month = b.utf8("billing_month")?;
        let number = b.u32("receipt_number")?;
        let (c, m) = (self.clinic.to_string(), self.month.to_string());
        Ok((0..b.num_rows())
            .filter(|&i| {
                !org.is_null(i)
                    && opt_str(clinic, i) == Some(c.as_str())
                    && opt_str(month, i) == Some(m.as_str())
                    && !number.is_null(i)
                    && number.value(i) == self.number
                    && self.organization.is_none_or(|o| o == org.value(i))
            })
            .map(|i| (i, org.value(i)))
            .collect())
    }
}

/// Options of `explain`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ExplainOptions {
    pub show_pii: bool,
}

/// The explanation, ready to print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    pub text: String,
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

fn text(a: &StringArray, i: usize) -> String {
    opt_str(a, i).unwrap_or("-").to_string()
}

fn int(a: &Int64Array, i: usize) -> String {
    if a.is_null(i) {
        "-".into()
    } else {
        a.value(i).to_string()
    }
}

fn float(a: &Float64Array, i: usize, digits: usize) -> String {
    if a.is_null(i) {
        "-".into()
    } else {
        format!("{:.*}", digits, a.value(i))
    }
}

/// Explains the receipt `key` of the run in `dir`.
pub fn explain(
    dir: &Path,
    key: &str,
    options: ExplainOptions,
) -> Result<Explanation, ExplainError> {
    let mut wanted = WantedKey::parse(key)?;
    let mask = |id: &str| mask_person_id(id, options.show_pii);
    let receipts_path = dir.join(RECEIPTS_FILE);
    let receipts = Table::read(&receipts_path, &["status"])?;
    let mut found: Vec<(Batch<'_>, usize, u8)> = Vec::new();
    for b in receipts.batches() {
        for (i, org) in wanted.rows(&b)? {
            found.push((b, i, org));
        }
    }
    let (b, i, org) = match found.as_slice() {
        [] => {
            return Err(ExplainError::NotFound {
                path: receipts_path,
                key: key.to_string(),
            })
        }
        [one] => *one,
        _ => {
            return Err(ExplainError::Ambiguous {
                key: key.to_string(),
            })
        }
    };
    wanted.organization = Some(org);
    let insurers = read_insurers(
        &dir.join(INSURERS_FILE),
        INSURERS_FILE,
        crate::config::CsvEncoding::Auto,
    )
    .map(|r| r.master)
    .ok();
    let insurer_name = |n: &str| {
        insurers
            .as_ref()
            .and_then(|m| {
                crate::domain::InsurerNumber::parse(n)
                    .ok()
                    .and_then(|n| m.get(&n).map(|i| format!(" ({})", i.name)))
            })
            .unwrap_or_default()
    };

    let mut out = String::new();
    let s = |name: &str| b.utf8(name);
    let status = text(s("status")?, i);
    let _ = writeln!(
        out,
        "receipt {}:{}:{}@{org} ({})",
        wanted.clinic,
        wanted.month,
        wanted.number,
        if org == 1 {
            "支払基金"
        } else {
            "国保連"
        }
    );
    let _ = writeln!(
        out,
        "  read from       {} line {}",
        text(s("file")?, i),
        b.u64("line")?.value(i)
    );
    let prefecture = b.u8("clinic_prefecture")?;
    let _ = writeln!(
        out,
        "  clinic          prefecture {}",
        if prefecture.is_null(i) {
            "-".into()
        } else {
            format!("{:02}", prefecture.value(i))
        }
    );
    let tier = b.u8("tier")?.value(i);
    let _ = writeln!(
        out,
        "  tier            {tier} ({})",
        match tier {
            1 => "filed with a current card",
            2 => "filed with a past card",
            3 => "insurer and insured numbers unknown",
            _ => "not classified",
        }
    );
    let _ = writeln!(out, "  status          {status}");
    let filed = text(s("filed_insurer")?, i);
    let _ = writeln!(out, "  filed insurer   {filed}{}", insurer_name(&filed));
    let resolved = text(s("resolved_insurer")?, i);
    let _ = writeln!(
        out,
        "  resolved to     {resolved}{}",
        insurer_name(&resolved)
    );
    if let Some(p) = opt_str(s("person_id")?, i) {
        let _ = writeln!(out, "  person          {}", mask(p));
    }
    let weight = b.record_batch().column_by_name("match_weight");
    if let Some(w) = weight.and_then(|w| w.as_any().downcast_ref::<Float64Array>()) {
        if !w.is_null(i) {
            let p = b
                .record_batch()
                .column_by_name("match_probability")
                .and_then(|p| p.as_any().downcast_ref::<Float64Array>())
                .map(|p| float(p, i, 6))
                .unwrap_or_default();
            let _ = writeln!(out, "  match weight    {:.2} (probability {p})", w.value(i));
        }
    }
    let _ = writeln!(out, "  declared kind   {}", text(s("declared_kind")?, i));
    let _ = writeln!(out, "  why             {}", text(s("reason")?, i));

    let _ = writeln!(out, "\ncopay check");
    let yen = |name: &str| b.i64(name).map(|a| int(a, i));
    let _ = writeln!(
        out,
        "  cost            {} yen (合計点数 × 10)",
        yen("cost_yen")?
    );
    let _ = writeln!(out, "  copay due       {} yen", yen("copay_yen")?);
    let _ = writeln!(out, "  insurer share   {} yen", yen("insurer_share_yen")?);
    let _ = writeln!(
        out,
        "  公費 pay         {} yen (of the copay, as its KO records say)",
        yen("public_expense_yen")?
    );
    let _ = writeln!(out, "  patient pays    {} yen", yen("patient_yen")?);
    let _ = writeln!(
        out,
        "  copay 差額       {} yen (billed − due)",
        yen("copay_diff_yen")?
    );

    if let Some(first) = opt_str(s("first_pending_month")?, i) {
        let months = b.u32("pending_months")?;
        let _ = writeln!(
            out,
            "\npending ledger\n  open since      {first} ({} month(s) at this run)",
            if months.is_null(i) {
                0
            } else {
                months.value(i)
            }
        );
        ledger_form(dir, &wanted, options, &mut out)?;
    }

    candidates(dir, &wanted, &mask, &mut out)?;
    parts(dir, &wanted, &insurer_name, &mut out)?;
    Ok(Explanation { text: out })
}

/// The declared form the ledger carries for an open receipt, masked unless show_pii.
fn ledger_form(
    dir: &Path,
    wanted: &WantedKey,
    options: ExplainOptions,
    out: &mut String,
) -> Result<(), IngestError> {
    let path = dir.join(LEDGER_FILE);
    if !path.exists() {
        return Ok(());
    }
    let table = Table::read(&path, &["has_form"])?;
    for b in table.batches() {
        for (i, _) in wanted.rows(&b)? {
            let has = b.boolean("has_form")?;
            if has.is_null(i) || !has.value(i) {
                let _ = writeln!(out, "  declaration     none carried");
                continue;
            }
            let _ = writeln!(out, "  declaration carried on the ledger:");
            for (column, label, personal) in [
                ("form_name", "name", true),
                ("form_name_kana", "kana", true),
                ("form_birth_date", "birth date", true),
                ("form_sex", "sex", false),
                ("form_address", "address", true),
                ("form_phone", "phone", true),
                ("form_insurance_kind", "kind", false),
                ("form_insurer_name", "insurer name", false),
                ("form_confirmation_date", "care date", false),
            ] {
                if let Some(v) = opt_str(b.utf8(column)?, i) {
                    let shown = if personal && !options.show_pii {
                        mask_pii(v)
                    } else {
                        v.to_string()
                    };
                    let _ = writeln!(out, "    {label:<14}{shown}");
                }
            }
        }
    }
    Ok(())
}

/// The match report's candidates, each field's level and weight.
fn candidates(
    dir: &Path,
    wanted: &WantedKey,
    mask: &dyn Fn(&str) -> String,
    out: &mut String,
) -> Result<(), IngestError> {
    let table = Table::read(&dir.join(MATCH_REPORT_FILE), &["decision"])?;
    let mut header_done = false;
    let mut last_rank: Option<u8> = None;
    for b in table.batches() {
        let decision: &StringArray = b.utf8("decision")?;
        let rank: &UInt8Array = b.u8("rank")?;
        let person: &StringArray = b.utf8("person_id")?;
        let weight: &Float64Array = b
            .record_batch()
            .column_by_name("match_weight")
            .and_then(|c| c.as_any().downcast_ref::<Float64Array>())
            .ok_or_else(|| IngestError::invalid(table.path(), "match_weight is not Float64"))?;
        let probability = b
            .record_batch()
            .column_by_name("match_probability")
            .and_then(|c| c.as_any().downcast_ref::<Float64Array>());
        let field: &StringArray = b.utf8("field")?;
        let level: &StringArray = b.utf8("level")?;
        let bf = b
            .record_batch()
            .column_by_name("log2_bayes_factor")
            .and_then(|c| c.as_any().downcast_ref::<Float64Array>());
        let reason: &StringArray = b.utf8("reason")?;
        for (i, _) in wanted.rows(&b)? {
            if !header_done {
                let _ = writeln!(
                    out,
                    "\nmatching (decision {}): {}",
                    text(decision, i),
                    text(reason, i)
                );
                header_done = true;
            }
            if rank.is_null(i) {
                let _ = writeln!(out, "  no candidate");
                continue;
            }
            if last_rank != Some(rank.value(i)) {
                last_rank = Some(rank.value(i));
                let _ = writeln!(
                    out,
                    "  candidate {}  {}  weight {}  probability {}",
                    rank.value(i),
                    opt_str(person, i).map(mask).unwrap_or_default(),
                    float(weight, i, 2),
                    probability.map(|p| float(p, i, 6)).unwrap_or_default()
                );
            }
            if let Some(f) = opt_str(field, i) {
                let _ = writeln!(
                    out,
                    "      {f:<14} {:<28} {:>+8}",
                    text(level, i),
                    bf.map(|a| float(a, i, 2)).unwrap_or_default()
                );
            }
        }
    }
    Ok(())
}

/// The receipt's parts of the month's apportionment.
fn parts(
    dir: &Path,
    wanted: &WantedKey,
    insurer_name: &dyn Fn(&str) -> String,
    out: &mut String,
) -> Result<(), IngestError> {
    let table = Table::read(&dir.join(APPORTIONMENT_FILE), &["amount_yen"])?;
    let mut first = true;
    for b in table.batches() {
        let insurer = b.utf8("insurer_number")?;
        let amount = b.i64("amount_yen")?;
        let claim = b.i64("claim_amount_yen")?;
        let value = b.u64("basis_value")?;
        let total = b.u64("basis_total")?;
        let basis = b.utf8("basis")?;
        let scope = b.utf8("scope")?;
        let reason = b.utf8("reason")?;
        for (i, _) in wanted.rows(&b)? {
            if first {
                let _ = writeln!(
                    out,
                    "\napportioned: {} yen, basis {}, scope {}{}",
                    int(claim, i),
                    text(basis, i),
                    text(scope, i),
                    opt_str(reason, i)
                        .filter(|r| !r.is_empty())
                        .map(|r| format!(" ({r})"))
                        .unwrap_or_default()
                );
                first = false;
            }
            let n = text(insurer, i);
            let _ = writeln!(
                out,
                "  {n:<10} {:>10} yen   share {}/{}{}",
                int(amount, i),
                value.value(i),
                total.value(i),
                insurer_name(&n)
            );
        }
    }
    Ok(())
}
