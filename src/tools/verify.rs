//! `reseclear verify --run DIR`: the conservation checks recomputed from a finished
//! run's files, independently of the run that wrote them — for auditors, and after a
//! retention purge, which must leave every account as it was. Each check reads the
//! files themselves (`receipts.parquet`, `apportionment.parquet`, `statements.parquet`
//! and `statements.csv`, `pending.parquet`) and compares them with one another and with
//! `manifest.json`, whose sha256 of every output file it checks too. A check that fails
//! says, in words, which file and which figure disagree.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use crate::domain::Yen;
use crate::ingest::parquet_table::{opt_str, Table};
use crate::ingest::IngestError;
use crate::report::read_apportionment_totals;
use crate::report::OWED_BY_KIND;
use crate::resolve::outcome::Status;
use crate::run::{
    APPORTIONMENT_FILE, LEDGER_FILE, MANIFEST_FILE, RECEIPTS_FILE, STATEMENTS_CSV,
    STATEMENTS_PARQUET,
};

/// One check: what was compared, and whether it held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub name: &'static str,
    pub ok: bool,
    /// What was found, in words (both sides when they differ).
    pub detail: String,
}

/// Every check of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verification {
    pub checks: Vec<Check>,
}

impl Verification {
    pub fn ok(&self) -> bool {
        self.checks.iter().all(|c| c.ok)
    }

    fn check(&mut self, name: &'static str, ok: bool, detail: String) {
        self.checks.push(Check { name, ok, detail });
    }
}

impl fmt::Display for Verification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in &self.checks {
            writeln!(
                f,
                "{:<4} {:<44} {}",
                if c.ok { "ok" } else { "FAIL" },
                c.name,
                c.detail
            )?;
        }
        writeln!(
            f,
            "{}",
            if self.ok() {
                "every account balances"
            } else {
                "the accounts do NOT balance"
            }
        )
    }
}

/// Totals of `receipts.parquet` by status: receipts, cost yen, insurer-share yen.
#[derive(Debug, Default)]
struct ByStatus {
    receipts: BTreeMap<String, u64>,
    cost: BTreeMap<String, Yen>,
    share: BTreeMap<String, Yen>,
    /// Routed insurer share by insurer.
    routed: BTreeMap<String, Yen>,
    apportioned_share: Yen,
    /// Of the accepted rows' cost: Σ public_expense_yen and Σ patient_yen.
    public_expense: Yen,
    patients: Yen,
    /// Accepted rows whose cost ≠ insurer share + 公費 + patient, or whose copay ≠
    /// 公費 + patient.
    rows_not_adding: u64,
    /// Insurer share of the routed and apportioned rows (what statements owe) by
    /// `receipt_kind`.
    owed_by_kind: BTreeMap<String, Yen>,
}

fn receipts_by_status(path: &Path) -> Result<ByStatus, IngestError> {
    let table = Table::read(
        path,
        &[
            "status",
            "cost_yen",
            "insurer_share_yen",
            "copay_yen",
            "public_expense_yen",
            "patient_yen",
            "resolved_insurer",
            "receipt_kind",
        ],
    )?;
    table.check_rows_within_a_run()?;
    let mut out = ByStatus::default();
    for b in table.batches() {
        let status = b.utf8("status")?;
        let cost = b.yen("cost_yen", Yen::RECEIPT_RANGE)?;
        let share = b.yen("insurer_share_yen", Yen::RECEIPT_RANGE)?;
        let copay = b.yen("copay_yen", Yen::RECEIPT_RANGE)?;
        let public = b.yen("public_expense_yen", Yen::RECEIPT_RANGE)?;
        let patient = b.yen("patient_yen", Yen::RECEIPT_RANGE)?;
        let insurer = b.utf8("resolved_insurer")?;
        let kind = b.utf8("receipt_kind")?;
        for i in 0..b.num_rows() {
            let s = opt_str(status, i).unwrap_or_default().to_string();
            let (cost, share) = (cost.or_zero(i)?, share.or_zero(i)?);
            *out.receipts.entry(s.clone()).or_insert(0) += 1;
            *out.cost.entry(s.clone()).or_default() += cost;
            let parsed = Status::parse(&s);
            if parsed != Some(Status::Quarantined) {
                *out.share.entry(s.clone()).or_default() += share;
                let (copay, public, patient) =
                    (copay.or_zero(i)?, public.or_zero(i)?, patient.or_zero(i)?);
                out.public_expense += public;
                out.patients += patient;
                out.rows_not_adding +=
                    u64::from(cost != share + public + patient || copay != public + patient);
            }
            if parsed.is_some_and(|p| p.is_routed() || p == Status::Apportioned) {
                let k = opt_str(kind, i).unwrap_or("unknown");
                *out.owed_by_kind.entry(k.to_string()).or_default() += share;
            }
            if parsed.is_some_and(Status::is_routed) {
                if let Some(n) = opt_str(insurer, i) {
                    *out.routed.entry(n.to_string()).or_default() += share;
                }
            }
            if parsed == Some(Status::Apportioned) {
                out.apportioned_share += share;
            }
        }
    }
    Ok(out)
}

fn json_counts(v: &serde_json::Value) -> BTreeMap<String, u64> {
    v.as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(u64::MAX)))
                .collect()
        })
        .unwrap_or_default()
}

fn json_yen(v: &serde_json::Value) -> BTreeMap<String, Yen> {
    v.as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), Yen(v.as_i64().unwrap_or(i64::MIN))))
                .collect()
        })
        .unwrap_or_default()
}

/// A figure per status (or insurer) of a file against the manifest's, in words: "ok"
/// with the figures, or each one that differs, naming both files.
fn show_yen(by: &BTreeMap<String, Yen>) -> String {
    let parts: Vec<String> = by.iter().map(|(k, y)| format!("{k} {y}")).collect();
    if parts.is_empty() {
        "none".to_string()
    } else {
        parts.join(", ")
    }
}

fn same<T: PartialEq + fmt::Display + Copy>(
    what: &str,
    file: (&str, &BTreeMap<String, T>),
    manifest: &BTreeMap<String, T>,
) -> (bool, String) {
    let (file_name, figures) = file;
    if figures == manifest {
        let list: Vec<String> = figures.iter().map(|(k, v)| format!("{k} {v}")).collect();
        return (true, list.join(", "));
    }
    let keys: std::collections::BTreeSet<&String> = figures.keys().chain(manifest.keys()).collect();
    let differ: Vec<String> = keys
        .into_iter()
        .filter(|k| figures.get(*k) != manifest.get(*k))
        .map(|k| {
            let show = |v: Option<&T>| v.map_or_else(|| "none".to_string(), |v| v.to_string());
            format!(
                "{what} {k}: {file_name} has {}, {MANIFEST_FILE} says {}",
                show(figures.get(k)),
                show(manifest.get(k))
            )
        })
        .collect();
    (false, differ.join("; "))
}

/// Each output file listed in the manifest against the file as it is, and the files
/// the manifest does not list.
fn check_outputs(dir: &Path, manifest: &serde_json::Value, v: &mut Verification) {
    let Some(listed) = manifest["outputs"].as_array() else {
        v.check(
            "output files = the manifest's sha256",
            false,
            format!("{MANIFEST_FILE} lists no output files (a run older than the hashes): run the month again to have them hashed"),
        );
        return;
    };
    let mut problems = Vec::new();
    let mut names = std::collections::BTreeSet::new();
    for o in listed {
        let name = o["path"].as_str().unwrap_or_default();
        names.insert(name.to_string());
        let want = o["sha256"].as_str().unwrap_or_default();
        match crate::manifest::sha256_file(&dir.join(name)) {
            Ok(sha) if sha == want => {}
            Ok(_) => problems.push(format!(
                "{name} is not the file the manifest hashed (its sha256 differs): it was changed after the run"
            )),
            Err(e) => problems.push(format!("{name} cannot be read ({e})")),
        }
    }
    match crate::manifest::output_names(dir) {
        Ok(present) => problems.extend(
            present
                .iter()
                .filter(|f| !names.contains(*f))
                .map(|f| format!("{f} is not listed in {MANIFEST_FILE}")),
        ),
        Err(e) => problems.push(format!("{} cannot be listed ({e})", dir.display())),
    }
    let ok = problems.is_empty();
    v.check(
        "output files = the manifest's sha256",
        ok,
        if ok {
            format!("{} files", listed.len())
        } else {
            problems.join("; ")
        },
    );
}

/// Recomputes the accounts of the run in `dir` from its files.
pub fn verify(dir: &Path) -> Result<Verification, IngestError> {
    let manifest_path = dir.join(MANIFEST_FILE);
    let text =
        std::fs::read_to_string(&manifest_path).map_err(|e| IngestError::io(&manifest_path, e))?;
    let manifest: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| IngestError::invalid(&manifest_path, format!("not JSON: {e}")))?;
    let c = &manifest["conservation"];
    let mut v = Verification::default();
    v.check(
        "manifest says balanced",
        c["balanced"] == serde_json::Value::Bool(true),
        match c["problems"].as_array() {
            Some(p) if p.is_empty() => "no equation fails".to_string(),
            Some(p) => p
                .iter()
                .map(|q| q.as_str().unwrap_or_default())
                .collect::<Vec<_>>()
                .join("; "),
            None => format!("{MANIFEST_FILE} has no conservation.problems"),
        },
    );

    check_outputs(dir, &manifest, &mut v);

    let receipts = receipts_by_status(&dir.join(RECEIPTS_FILE))?;
    let (ok, detail) = same(
        "receipts",
        (RECEIPTS_FILE, &receipts.receipts),
        &json_counts(&c["receipts"]["by_status"]),
    );
    v.check("receipts by status", ok, detail);
    let in_total: u64 = receipts.receipts.values().sum();
    let receipts_in = c["receipts"]["receipts_in"].as_u64().unwrap_or(u64::MAX);
    v.check(
        "receipts in = Σ rows of receipts.parquet",
        in_total == receipts_in,
        format!(
            "{RECEIPTS_FILE} has {in_total} rows, {MANIFEST_FILE} says {receipts_in} receipts in"
        ),
    );
    let (ok, detail) = same(
        "cost yen",
        (RECEIPTS_FILE, &receipts.cost),
        &json_yen(&c["yen"]["by_status"]),
    );
    v.check("cost yen by status", ok, detail);
    let (ok, detail) = same(
        "insurer share yen",
        (RECEIPTS_FILE, &receipts.share),
        &json_yen(&c["insurer_share"]["by_status"]),
    );
    v.check("insurer share by status", ok, detail);
    let paid = &c["yen"]["paid_by"];
    let paid_by = |k: &str| Yen(paid[k].as_i64().unwrap_or(i64::MIN));
    v.check(
        "cost = insurer + public expense + patient",
        receipts.rows_not_adding == 0
            && receipts.public_expense == paid_by("public_expense")
            && receipts.patients == paid_by("patients"),
        format!(
            "{} rows of {RECEIPTS_FILE} do not add up; 公費 {} and patients {} yen, {MANIFEST_FILE} says {} and {}",
            receipts.rows_not_adding,
            receipts.public_expense,
            receipts.patients,
            paid_by("public_expense"),
            paid_by("patients"),
        ),
    );

    let parts = read_apportionment_totals(&dir.join(APPORTIONMENT_FILE))?;
    v.check(
        "each receipt's parts sum to its amount",
        parts.receipts_not_summing == 0,
        format!(
            "{APPORTIONMENT_FILE}: {} of {} receipts do not",
            parts.receipts_not_summing, parts.receipts
        ),
    );
    let apportioned_receipts = receipts.receipts.get("apportioned").copied().unwrap_or(0);
    v.check(
        "apportioned receipts = receipts apportioned",
        parts.receipts == apportioned_receipts && parts.claims_yen == receipts.apportioned_share,
        format!(
            "{APPORTIONMENT_FILE} has {} receipts, {} yen; {RECEIPTS_FILE} has {} apportioned, {} yen",
            parts.receipts, parts.claims_yen, apportioned_receipts, receipts.apportioned_share
        ),
    );

    let statements = read_statements_parquet(&dir.join(STATEMENTS_PARQUET))?;
    let csv = read_statements(&dir.join(STATEMENTS_CSV))?;
    let csv_differ: Vec<String> = statements
        .keys()
        .chain(csv.keys())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .filter(|k| statements.get(*k) != csv.get(*k))
        .map(|k| {
            let show = |v: Option<&(Yen, Yen, Yen)>| {
                v.map_or_else(
                    || "no row".to_string(),
                    |(r, a, o)| format!("routed {r}, apportioned {a}, owed {o}"),
                )
            };
            format!(
                "insurer {k}: {STATEMENTS_PARQUET} has {}, {STATEMENTS_CSV} has {}",
                show(statements.get(k)),
                show(csv.get(k))
            )
        })
        .collect();
    v.check(
        "statements.csv = statements.parquet",
        csv_differ.is_empty(),
        if csv_differ.is_empty() {
            format!("{} insurers", statements.len())
        } else {
            csv_differ
                .into_iter()
                .take(5)
                .collect::<Vec<_>>()
                .join("; ")
        },
    );
    let mut wrong = Vec::new();
    // Each owed is bounded by a run's yen, their sum is not: checked.
    let mut owed_total = Some(Yen(0));
    for (insurer, (routed, apportioned, owed)) in &statements {
        let expect_routed = receipts.routed.get(insurer).copied().unwrap_or_default();
        let expect_apportioned = crate::domain::InsurerNumber::parse(insurer)
            .ok()
            .and_then(|n| parts.by_insurer.get(&n))
            .map(|p| p.yen)
            .unwrap_or_default();
        if *routed != expect_routed
            || *apportioned != expect_apportioned
            || routed.checked_add(*apportioned) != Some(*owed)
        {
            wrong.push(format!(
                "{insurer}: {STATEMENTS_PARQUET} routed {routed}, apportioned {apportioned}, owed {owed}; {RECEIPTS_FILE} routed {expect_routed}, {APPORTIONMENT_FILE} {expect_apportioned}"
            ));
        }
        owed_total = owed_total.and_then(|t| t.checked_add(*owed));
    }
    let missing = receipts
        .routed
        .keys()
        .filter(|k| !statements.contains_key(*k))
        .count();
    v.check(
        "statements = receipts + parts, per insurer",
        wrong.is_empty() && missing == 0,
        format!(
            "{} insurers; {} differ{}; {missing} routed insurers of {RECEIPTS_FILE} without a statement",
            statements.len(),
            wrong.len(),
            if wrong.is_empty() {
                String::new()
            } else {
                format!(
                    " ({})",
                    wrong.iter().take(5).cloned().collect::<Vec<_>>().join("; ")
                )
            }
        ),
    );
    let owed = Yen(c["insurer_share"]["owed"].as_i64().unwrap_or(i64::MIN));
    v.check(
        "Σ owed of statements = manifest owed",
        owed_total == Some(owed),
        match owed_total {
            Some(t) => format!("{STATEMENTS_PARQUET} owes {t} yen, {MANIFEST_FILE} says {owed}"),
            None => format!("{STATEMENTS_PARQUET}'s owed yen sum beyond any run's ({MANIFEST_FILE} says {owed})"),
        },
    );

    let (statement_kinds, rows_not_adding) = statements_by_kind(&dir.join(STATEMENTS_PARQUET))?;
    let receipt_kinds: BTreeMap<String, Yen> = receipts
        .owed_by_kind
        .iter()
        .filter(|(_, y)| **y != Yen(0))
        .map(|(k, y)| (k.clone(), *y))
        .collect();
    let manifest_kinds = json_yen(&c["insurer_share"]["owed_by_kind"]);
    v.check(
        "statements by kind = receipts by kind",
        rows_not_adding == 0
            && statement_kinds == receipt_kinds
            && statement_kinds == manifest_kinds,
        format!(
            "{rows_not_adding} rows of {STATEMENTS_PARQUET} whose owed ≠ Σ owed by kind; by kind {} there, {} in {RECEIPTS_FILE} (routed and apportioned), {} in {MANIFEST_FILE}",
            show_yen(&statement_kinds),
            show_yen(&receipt_kinds),
            show_yen(&manifest_kinds)
        ),
    );

    let ledger_rows = Table::read(&dir.join(LEDGER_FILE), &["last_status"])?.num_rows() as u64;
    let open: u64 = ["review", "no_match", "pending"]
        .iter()
        .filter_map(|s| receipts.receipts.get(*s))
        .sum();
    let carried_out = c["receipts"]["carried_out"].as_u64().unwrap_or(u64::MAX);
    v.check(
        "pending ledger rows = open receipts",
        ledger_rows == open && ledger_rows == carried_out,
        format!("{LEDGER_FILE} has {ledger_rows} rows, {RECEIPTS_FILE} {open} open receipts, {MANIFEST_FILE} {carried_out} carried out"),
    );
    Ok(v)
}

/// `statements.parquet` by kind of claim: Σ `owed_<kind>_yen` of each kind owed
/// anything, and the rows whose `owed_yen` ≠ Σ of their kinds.
fn statements_by_kind(path: &Path) -> Result<(BTreeMap<String, Yen>, u64), IngestError> {
    let mut wanted: Vec<&str> = OWED_BY_KIND.iter().map(|(_, c)| *c).collect();
    wanted.push("owed_yen");
    let table = Table::read(path, &wanted)?;
    let mut by_kind = BTreeMap::new();
    let mut not_adding = 0u64;
    for b in table.batches() {
        let owed = b.yen("owed_yen", Yen::RUN_RANGE)?;
        let kinds = OWED_BY_KIND
            .iter()
            .map(|(_, c)| b.yen(c, Yen::RUN_RANGE))
            .collect::<Result<Vec<_>, _>>()?;
        for i in 0..b.num_rows() {
            let mut sum = Yen(0);
            for ((kind, _), column) in OWED_BY_KIND.iter().zip(&kinds) {
                let y = column.or_zero(i)?;
                // Each is bounded by a run's yen, and so are the four of a row together
                // unless the file is wrong: checked.
                sum = sum.checked_add(y).unwrap_or(Yen(i64::MIN));
                if y != Yen(0) {
                    *by_kind.entry(kind.as_str().to_string()).or_insert(Yen(0)) += y;
                }
            }
            not_adding += u64::from(sum != owed.or_zero(i)?);
        }
    }
    Ok((by_kind, not_adding))
}

/// `statements.parquet`: insurer → (routed, apportioned, owed).
fn read_statements_parquet(path: &Path) -> Result<BTreeMap<String, (Yen, Yen, Yen)>, IngestError> {
    let table = Table::read(
        path,
        &[
            "insurer_number",
            "routed_yen",
            "apportioned_yen",
            "owed_yen",
        ],
    )?;
    let mut out = BTreeMap::new();
    for b in table.batches() {
        let insurer = b.utf8("insurer_number")?;
        let (r, a, o) = (
            b.yen("routed_yen", Yen::RUN_RANGE)?,
            b.yen("apportioned_yen", Yen::RUN_RANGE)?,
            b.yen("owed_yen", Yen::RUN_RANGE)?,
        );
        for i in 0..b.num_rows() {
            out.insert(
                opt_str(insurer, i).unwrap_or_default().to_string(),
                (r.or_zero(i)?, a.or_zero(i)?, o.or_zero(i)?),
            );
        }
    }
    Ok(out)
}

/// `statements.csv`: insurer → (routed, apportioned, owed).
fn read_statements(path: &Path) -> Result<BTreeMap<String, (Yen, Yen, Yen)>, IngestError> {
    let mut reader =
        csv::Reader::from_path(path).map_err(|e| IngestError::invalid(path, e.to_string()))?;
    let headers = reader
        .headers()
        .map_err(|e| IngestError::invalid(path, e.to_string()))?
        .clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| IngestError::invalid(path, format!("missing column {name}")))
    };
    let (n, r, a, o) = (
        col("insurer_number")?,
        col("routed_yen")?,
        col("apportioned_yen")?,
        col("owed_yen")?,
    );
    let mut out = BTreeMap::new();
    for (line, row) in reader.records().enumerate() {
        let row = row.map_err(|e| IngestError::invalid(path, e.to_string()))?;
        let yen = |i: usize| {
            row.get(i)
                .and_then(|s| s.parse::<i64>().ok())
                .filter(|v| Yen::RUN_RANGE.contains(v))
                .map(Yen)
                .ok_or_else(|| {
                    IngestError::invalid(
                        path,
                        format!(
                            "line {}: {} is not yen from 0 to {}",
                            line + 2,
                            headers.get(i).unwrap_or_default(),
                            Yen::MAX_PER_RUN
                        ),
                    )
                })
        };
        out.insert(
            row.get(n).unwrap_or_default().to_string(),
            (yen(r)?, yen(a)?, yen(o)?),
        );
    }
    Ok(out)
}
