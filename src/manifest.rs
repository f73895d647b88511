//! The run manifest: what went in (every input with its size and sha256), the
//! configuration used, what was read and quarantined, and the conservation accounts
//! that prove nothing was lost. It holds no timestamps or timings, so the same inputs
//! and configuration give a byte-identical manifest.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::domain::{Points, YearMonth, Yen};

/// Version of the manifest's layout; bumped when a field changes meaning.
pub const MANIFEST_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    pub manifest_version: u32,
    pub engine: Engine,
    /// The run's month: the latest 請求年月 of its UKE files (`None` when no file could
    /// say). Pending claims are aged in run months.
    pub run_month: Option<YearMonth>,
    pub config: Config,
    pub inputs: Vec<InputFile>,
    pub uke: UkeCounts,
    pub declarations: Option<TableCounts>,
    pub roster: TableCounts,
    pub insurers: TableCounts,
    pub quarantine: QuarantineCounts,
    pub matching: MatchingCounts,
    pub pending: PendingCounts,
    pub apportionment: ApportionmentCounts,
    pub conservation: Conservation,
    /// Every output file of the run (but the manifest itself and `timings.json`), by
    /// name, with its size and sha256, as it was put in place; `verify` checks them.
    /// Written last, once every other output is; a purge replaces it (see `purges`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub outputs: Vec<OutputFile>,
}

/// One output file of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutputFile {
    /// The file's name in the run directory.
    pub path: String,
    pub bytes: u64,
    pub sha256: String,
}

/// The outputs a manifest does not hash: itself, and the timings, which differ from
/// run to run.
pub const UNHASHED_OUTPUTS: [&str; 2] = [crate::run::MANIFEST_FILE, crate::run::TIMINGS_FILE];

/// The names of the files of the run directory `dir` but [`UNHASHED_OUTPUTS`], sorted.
pub fn output_names(dir: &Path) -> std::io::Result<Vec<String>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if !entry.file_type()?.is_file() {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        if !UNHASHED_OUTPUTS.contains(&name.as_str()) {
            out.push(name);
        }
    }
    out.sort();
    Ok(out)
}

/// The files of the run directory `dir` but [`UNHASHED_OUTPUTS`], by name, with their
/// sizes and sha256.
pub fn output_files(dir: &Path) -> std::io::Result<Vec<OutputFile>> {
    output_names(dir)?
        .into_iter()
        .map(|name| {
            let path = dir.join(&name);
            Ok(OutputFile {
                bytes: std::fs::metadata(&path)?.len(),
                sha256: sha256_file(&path)?,
                path: name,
            })
        })
        .collect()
}

/// The pending ledger: what came in from the previous run, what became of it, and what
/// goes on to the next.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PendingCounts {
    pub hold_months: u32,
    /// Rows of the ledger given with `--pending` (0 without one).
    pub carried_in: u64,
    /// Of those, rows that could not be retried (quarantined).
    pub carried_in_quarantined: u64,
    /// Ledger receipts resolved this run (verified, rerouted, matched).
    pub carried_in_resolved: u64,
    /// Receipts of this month's files left open.
    pub new_open: u64,
    /// Receipts whose hold ended this run (apportioned or final_unresolved).
    pub made_final: u64,
    /// Rows of the ledger this run writes (`pending.parquet`).
    pub carried_out: u64,
    /// carried_out by age in months.
    pub carried_out_by_age: BTreeMap<u32, u64>,
}

/// The month's apportionment of final-unresolved receipts.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ApportionmentCounts {
    pub receipts: u64,
    /// Rows of `apportionment.parquet` (receipt × insurer).
    pub parts: u64,
    pub yen: Yen,
    /// Receipts whose configured scope had no eligible insurer, so widened to national.
    pub widened: u64,
    /// Receipts whose declared kind was not used.
    pub kind_dropped: u64,
    /// Receipts by the basis used (`claims`, `headcount`, `equal`).
    pub by_basis: BTreeMap<String, u64>,
    /// Final-unresolved receipts no insurer can share in.
    pub unapportionable: u64,
}

/// How tier-3 matching went: blocking rules with their candidate counts (as Splink
/// reports them), the pairs compared, the training of the model, the decisions.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MatchingCounts {
    pub patients: u64,
    pub blocking: Vec<crate::resolve::matcher::BlockingCount>,
    pub candidate_pairs: u64,
    pub em_iterations: u32,
    pub em_converged: bool,
    /// Decisions by kind (`matched`, `review`, `no_match`).
    pub decisions: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Engine {
    pub name: &'static str,
    pub version: &'static str,
}

impl Default for Engine {
    fn default() -> Self {
        Engine {
            name: env!("CARGO_PKG_NAME"),
            version: env!("CARGO_PKG_VERSION"),
        }
    }
}

/// One input file.
#[derive(Debug, Clone, Serialize)]
pub struct InputFile {
    /// Path relative to the input directory; for the pending ledger, its file name.
    pub path: String,
    /// `uke`, `declarations`, `roster`, `insurers` or `pending`.
    pub kind: &'static str,
    pub bytes: u64,
    pub sha256: String,
    /// For CSV inputs: the encoding read, and whether it was detected (`auto`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoding: Option<String>,
}

/// What the UKE files held.
#[derive(Debug, Clone, Default, Serialize)]
pub struct UkeCounts {
    pub files: u64,
    /// Files whose receipts were all quarantined as a unit.
    pub files_quarantined: u64,
    pub lines: u64,
    /// Records read, by record id.
    pub records: BTreeMap<String, u64>,
    /// Receipts (RE records) read.
    pub receipts_read: u64,
    pub receipts_accepted: u64,
    pub receipts_quarantined: u64,
    /// Receipts by tier as filed (1 current numbers, 2/3 decided in resolution; here
    /// only whether HO carries a filler): `known_insurer`, `filler_insurer`, `no_ho`.
    pub accepted_by_insurer_field: BTreeMap<String, u64>,
    /// The same by receipt kind (`ika`, `dpc`, `shika`, `chozai`; `unknown` for a file
    /// whose header could not be read), so each kind's month can be reconciled alone.
    pub by_kind: BTreeMap<&'static str, KindCounts>,
}

/// What the UKE files of one receipt kind held.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct KindCounts {
    pub files: u64,
    pub files_quarantined: u64,
    pub receipts_read: u64,
    pub receipts_accepted: u64,
    pub receipts_quarantined: u64,
    /// 合計点数 of the accepted receipts.
    pub accepted_points: i64,
    /// Their cost (合計点数 × 10), the yen the kind brings into the month.
    pub accepted_yen: i64,
}

/// A CSV or Parquet input.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TableCounts {
    pub rows_read: u64,
    pub rows_accepted: u64,
    pub rows_quarantined: u64,
    /// Rows kept with a field set aside.
    pub field_problems: u64,
    /// Further counts particular to the input (e.g. `overlapping_persons`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub other: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct QuarantineCounts {
    pub rows: u64,
    /// Rows by scope (`file`, `receipt`, `record`, `row`, `field`, `notice`).
    pub by_scope: BTreeMap<String, u64>,
}

/// The accounts: every receipt and every yen read is somewhere, and every yen an
/// insurer owes is on its statement.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Conservation {
    pub receipts: ReceiptAccount,
    pub yen: YenAccount,
    pub insurer_share: ShareAccount,
    /// The receipts and yen of each kind of claim (`ika`, `dpc`, `shika`, `chozai`;
    /// `unknown` for a file whose header could not be read).
    pub by_kind: BTreeMap<String, KindAccount>,
    pub balanced: bool,
    /// The equations that do not hold, in words (empty when balanced).
    pub problems: Vec<String>,
}

/// One kind's receipts through the run, counted from the receipts read and again from
/// the output rows: receipts_in = read (its files', `uke.by_kind`) + carried_in (the
/// ledger's of the kind) = Σ by status; yen_in = Σ yen by status. The kinds' sums are
/// the month's.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct KindAccount {
    pub receipts_in: u64,
    pub read: u64,
    pub carried_in: u64,
    pub yen_in: Yen,
    /// The rows of the kind by status (`quarantined` included).
    pub by_status: BTreeMap<String, u64>,
    pub yen_by_status: BTreeMap<String, Yen>,
}

/// receipts_in = read + carried_in = accepted + quarantined = the sum over statuses
/// (verified + rerouted + matched + review + no_match + pending + apportioned +
/// final_unresolved + public_only + quarantined); carried_out = review + no_match +
/// pending.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ReceiptAccount {
    pub receipts_in: u64,
    /// RE records of this month's UKE files.
    pub read: u64,
    /// Receipts of the pending ledger given with `--pending`.
    pub carried_in: u64,
    pub accepted: u64,
    pub quarantined: u64,
    /// Receipts by resolution status (`quarantined` included).
    pub by_status: BTreeMap<String, u64>,
    /// Rows of the ledger written for the next run.
    pub carried_out: u64,
}

/// Medical cost (合計点数 × 10) of the receipts in (this month's and the ledger's):
/// yen_in = accepted + quarantined = the sum over statuses. Receipts whose points could
/// not be read have no yen; they are counted apart.
#[derive(Debug, Clone, Default, Serialize)]
pub struct YenAccount {
    pub points_in: Points,
    pub yen_in: Yen,
    /// Of yen_in, the ledger's receipts.
    pub carried_in: Yen,
    pub accepted: Yen,
    pub quarantined: Yen,
    pub quarantined_receipts_without_points: u64,
    /// Yen by resolution status (`quarantined` included).
    pub by_status: BTreeMap<String, Yen>,
    /// Who pays the accepted yen: accepted = insurers + public_expense + patients.
    pub paid_by: PaidBy,
}

/// The accepted receipts' cost by who pays it: the insurers (their share, cost − copay;
/// the insurer share's `share_in`), the 公費 (of the copays, as the KO records say) and
/// the patients (the rest of the copays).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PaidBy {
    pub insurers: Yen,
    pub public_expense: Yen,
    pub patients: Yen,
}

/// The insurer share (cost − copay) of the accepted receipts: share_in = the sum over
/// statuses; routed (verified + rerouted + matched) + apportioned = owed = Σ over
/// insurers' statements; apportioned = Σ of the parts in `apportionment.parquet`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ShareAccount {
    pub share_in: Yen,
    pub by_status: BTreeMap<String, Yen>,
    pub routed: Yen,
    /// Σ insurer share of the receipts apportioned.
    pub apportioned: Yen,
    /// Σ of their parts.
    pub apportioned_parts: Yen,
    /// Σ owed over the statements.
    pub owed: Yen,
    /// The same by the kind of claim (the statements' `owed_<kind>_yen`).
    pub owed_by_kind: BTreeMap<String, Yen>,
    /// Per insurer with anything owed: routed + apportioned = owed.
    pub by_insurer: BTreeMap<String, InsurerAccount>,
}

/// One insurer's line of the accounts (its statement's totals).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct InsurerAccount {
    pub routed: Yen,
    pub apportioned: Yen,
    pub owed: Yen,
}

impl Conservation {
    /// Fills in `balanced` and `problems` from the accounts.
    pub fn check(mut self) -> Self {
        let r = &self.receipts;
        let y = &self.yen;
        let s = &self.insurer_share;
        let status_receipts: u64 = r.by_status.values().sum();
        let open: u64 = ["review", "no_match", "pending"]
            .iter()
            .filter_map(|k| r.by_status.get(*k))
            .sum();
        let status_yen: Yen = y.by_status.values().copied().sum();
        let status_share: Yen = s.by_status.values().copied().sum();
        let status_apportioned = s.by_status.get("apportioned").copied().unwrap_or_default();
        let insurers = s
            .by_insurer
            .values()
            .fold(InsurerAccount::default(), |a, b| InsurerAccount {
                routed: a.routed + b.routed,
                apportioned: a.apportioned + b.apportioned,
                owed: a.owed + b.owed,
            });
        let mut problems = Vec::new();
        let mut expect = |holds: bool, what: String| {
            if !holds {
                problems.push(what);
            }
        };
        expect(
            r.receipts_in == r.read + r.carried_in,
            format!(
                "receipts in {} ≠ read {} + carried in {}",
                r.receipts_in, r.read, r.carried_in
            ),
        );
        expect(
            r.receipts_in == r.accepted + r.quarantined,
            format!(
                "receipts in {} ≠ accepted {} + quarantined {}",
                r.receipts_in, r.accepted, r.quarantined
            ),
        );
        expect(
            r.receipts_in == status_receipts,
            format!(
                "receipts in {} ≠ Σ by status {status_receipts}",
                r.receipts_in
            ),
        );
        expect(
            r.carried_out == open,
            format!(
                "carried out {} ≠ review + no_match + pending {open}",
                r.carried_out
            ),
        );
        expect(
            y.yen_in == y.accepted + y.quarantined,
            format!(
                "yen in {} ≠ accepted {} + quarantined {}",
                y.yen_in, y.accepted, y.quarantined
            ),
        );
        expect(
            y.yen_in == status_yen,
            format!("yen in {} ≠ Σ by status {status_yen}", y.yen_in),
        );
        expect(
            y.points_in.to_yen() == y.yen_in,
            format!("points in {} × 10 ≠ yen in {}", y.points_in.0, y.yen_in),
        );
        let paid = y.paid_by;
        expect(
            y.accepted == paid.insurers + paid.public_expense + paid.patients
                && paid.insurers == s.share_in,
            format!(
                "accepted yen {} ≠ paid by insurers {} + 公費 {} + patients {} (insurer share in {})",
                y.accepted, paid.insurers, paid.public_expense, paid.patients, s.share_in
            ),
        );
        expect(
            s.share_in == status_share,
            format!(
                "insurer share in {} ≠ Σ by status {status_share}",
                s.share_in
            ),
        );
        expect(
            s.apportioned == status_apportioned,
            format!(
                "apportioned {} ≠ insurer share of apportioned receipts {status_apportioned}",
                s.apportioned
            ),
        );
        expect(
            s.apportioned == s.apportioned_parts,
            format!(
                "apportioned {} ≠ Σ parts {}",
                s.apportioned, s.apportioned_parts
            ),
        );
        expect(
            s.owed == s.routed + s.apportioned,
            format!(
                "owed {} ≠ routed {} + apportioned {}",
                s.owed, s.routed, s.apportioned
            ),
        );
        expect(
            insurers.routed == s.routed
                && insurers.apportioned == s.apportioned
                && insurers.owed == s.owed,
            format!(
                "Σ over insurers (routed {}, apportioned {}, owed {}) ≠ totals",
                insurers.routed, insurers.apportioned, insurers.owed
            ),
        );
        for (insurer, a) in &s.by_insurer {
            expect(
                a.owed == a.routed + a.apportioned,
                format!(
                    "insurer {insurer}: owed {} ≠ routed {} + apportioned {}",
                    a.owed, a.routed, a.apportioned
                ),
            );
        }
        let owed_by_kind: Yen = s.owed_by_kind.values().copied().sum();
        expect(
            owed_by_kind == s.owed,
            format!("owed {} ≠ Σ owed by kind of claim {owed_by_kind}", s.owed),
        );
        let (mut kinds_in, mut kinds_yen) = (0u64, Yen(0));
        for (kind, k) in &self.by_kind {
            let rows: u64 = k.by_status.values().sum();
            let yen: Yen = k.yen_by_status.values().copied().sum();
            kinds_in += k.receipts_in;
            kinds_yen += k.yen_in;
            expect(
                k.receipts_in == k.read + k.carried_in && k.receipts_in == rows,
                format!(
                    "{kind}: receipts in {} ≠ read {} + carried in {}, or ≠ its rows {rows}",
                    k.receipts_in, k.read, k.carried_in
                ),
            );
            expect(
                k.yen_in == yen,
                format!("{kind}: yen in {} ≠ its rows' {yen}", k.yen_in),
            );
        }
        expect(
            kinds_in == r.receipts_in && kinds_yen == y.yen_in,
            format!(
                "Σ over kinds (receipts {kinds_in}, yen {kinds_yen}) ≠ the month's (receipts {}, yen {})",
                r.receipts_in, y.yen_in
            ),
        );
        self.balanced = problems.is_empty();
        self.problems = problems;
        self
    }
}

/// sha256 of a file, streamed (rosters are large).
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// sha256 of bytes already in memory.
pub fn sha256_bytes(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_known_text() {
        assert_eq!(
            sha256_bytes(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn conservation_detects_a_lost_receipt() {
        let ok = Conservation {
            receipts: ReceiptAccount {
                receipts_in: 3,
                read: 3,
                carried_in: 0,
                accepted: 2,
                quarantined: 1,
                by_status: BTreeMap::from([("verified".into(), 2), ("quarantined".into(), 1)]),
                carried_out: 0,
            },
            yen: YenAccount {
                points_in: Points(30),
                yen_in: Yen(300),
                carried_in: Yen(0),
                accepted: Yen(200),
                quarantined: Yen(100),
                quarantined_receipts_without_points: 0,
                by_status: BTreeMap::from([
                    ("verified".into(), Yen(200)),
                    ("quarantined".into(), Yen(100)),
                ]),
                paid_by: PaidBy {
                    insurers: Yen(140),
                    public_expense: Yen(20),
                    patients: Yen(40),
                },
            },
            insurer_share: ShareAccount {
                share_in: Yen(140),
                by_status: BTreeMap::from([("verified".into(), Yen(140))]),
                routed: Yen(140),
                owed: Yen(140),
                owed_by_kind: BTreeMap::from([("shika".into(), Yen(140))]),
                by_insurer: BTreeMap::from([(
                    "01130012".into(),
                    InsurerAccount {
                        routed: Yen(140),
                        apportioned: Yen(0),
                        owed: Yen(140),
                    },
                )]),
                ..ShareAccount::default()
            },
            by_kind: BTreeMap::from([(
                "shika".into(),
                KindAccount {
                    receipts_in: 3,
                    read: 3,
                    carried_in: 0,
                    yen_in: Yen(300),
                    by_status: BTreeMap::from([("verified".into(), 2), ("quarantined".into(), 1)]),
                    yen_by_status: BTreeMap::from([
                        ("verified".into(), Yen(200)),
                        ("quarantined".into(), Yen(100)),
                    ]),
                },
            )]),
            balanced: false,
            problems: Vec::new(),
        }
        .check();
        assert!(ok.balanced, "{:?}", ok.problems);
        // A receipt whose row lost its kind: its kind's rows fall short, and an
        // `unknown` kind has a row it never read.
        let mut kindless = ok.clone();
        if let Some(k) = kindless.by_kind.get_mut("shika") {
            k.by_status.insert("verified".into(), 1);
            k.yen_by_status.insert("verified".into(), Yen(100));
        }
        kindless.by_kind.insert(
            "unknown".into(),
            KindAccount {
                by_status: BTreeMap::from([("verified".into(), 1)]),
                yen_by_status: BTreeMap::from([("verified".into(), Yen(100))]),
                ..KindAccount::default()
            },
        );
        let kindless = kindless.check();
        assert!(!kindless.balanced);
        assert_eq!(
            kindless.problems,
            [
                "shika: receipts in 3 ≠ read 3 + carried in 0, or ≠ its rows 2",
                "shika: yen in 300 ≠ its rows' 200",
                "unknown: receipts in 0 ≠ read 0 + carried in 0, or ≠ its rows 1",
                "unknown: yen in 0 ≠ its rows' 100",
            ]
        );
        // A 公費 share counted that no one pays (or a patient's part lost).
        let mut unpaid = ok.clone();
        unpaid.yen.paid_by.public_expense = Yen(30);
        assert_eq!(
            unpaid.check().problems,
            ["accepted yen 200 ≠ paid by insurers 140 + 公費 30 + patients 40 (insurer share in 140)"]
        );
        let mut lost = ok.clone();
        lost.receipts.accepted = 1;
        assert!(!lost.check().balanced);
        let mut misfiled = ok.clone();
        misfiled.yen.by_status.insert("verified".into(), Yen(190));
        let misfiled = misfiled.check();
        assert!(!misfiled.balanced);
        assert_eq!(
            misfiled.problems,
            vec!["yen in 300 ≠ Σ by status 290".to_string()]
        );
        let mut unowed = ok.clone();
        unowed.insurer_share.by_insurer.clear();
        assert!(!unowed.check().balanced);
        let mut kind_unowed = ok.clone();
        kind_unowed.insurer_share.owed_by_kind.clear();
        assert_eq!(
            kind_unowed.check().problems,
            ["owed 140 ≠ Σ owed by kind of claim 0"]
        );
    }
}
