//! Month to month: generated months chained through the pending ledger, with
//! apportionment of what stays open. Conservation is a property over random months,
//! bases and scopes — the manifest's equations, and the same accounts recomputed from
//! the Parquet rows against the UKE files and the ledger read here; the statements must agree with the receipts they sum; the
//! analysts' `apportion` re-run must reproduce the run's files byte for byte; and a
//! ledger given to the wrong run is refused.

mod common;
use common::{bin, copy_dir, run_ok};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use reseclear::apportion::{read_share_rows, ApportionConfig, Basis, Scope};
use reseclear::config::Config;
use reseclear::domain::{InsurerNumber, YearMonth, Yen};
use reseclear::generate::{generate, GenerateOptions};
use reseclear::ingest::uke::ReceiptKind;
use reseclear::manifest::Manifest;
use reseclear::report::read_apportionment_totals;
use reseclear::run::{run_with, RunOptions};

/// A generated month in `dir`: a small population, many tier-2/3 receipts so that
/// some stay open.
fn month(dir: &Path, seed: u64, billing: &str) {
    generate(&GenerateOptions {
        persons: 600,
        receipts: 200,
        seed,
        tier2: 0.15,
        tier3: 0.2,
        out: dir.to_path_buf(),
        roster_csv: false,
        broken_files: seed.is_multiple_of(2),
        billing_month: YearMonth::parse_iso(billing).expect("month"),
        force: false,
        kinds: ReceiptKind::ALL.to_vec(),
    })
    .expect("generate");
}

fn config(basis: Basis, scope: Scope, hold_months: u32) -> Config {
    Config {
        apportion: ApportionConfig {
            basis,
            scope,
            hold_months,
        },
        ..Config::default()
    }
}

/// Per insurer from the files: (routed yen from receipts.parquet, apportioned yen from
/// apportionment.parquet), and from statements.csv: (routed_yen, apportioned_yen,
/// owed_yen).
type PerInsurer = BTreeMap<InsurerNumber, (Yen, Yen)>;

fn sums_from_outputs(run: &Path, out: &Path) -> PerInsurer {
    let mut sums = PerInsurer::new();
    for r in read_share_rows(&run.join("receipts.parquet")).expect("receipts.parquet") {
        if let (true, Some(insurer)) = (r.status.is_routed(), r.resolved_insurer) {
            sums.entry(insurer).or_default().0 += r.insurer_share;
        }
    }
    let parts = read_apportionment_totals(&out.join("apportionment.parquet"))
        .expect("apportionment.parquet");
    for (insurer, p) in parts.by_insurer {
        sums.entry(insurer).or_default().1 += p.yen;
    }
    sums
}

fn statements_csv(out: &Path) -> BTreeMap<InsurerNumber, (Yen, Yen, Yen)> {
    let mut reader = csv::Reader::from_path(out.join("statements.csv")).expect("statements.csv");
    let headers = reader.headers().expect("header").clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("statements.csv lacks {name}"))
    };
    let (n, routed, apportioned, owed) = (
        col("insurer_number"),
        col("routed_yen"),
        col("apportioned_yen"),
        col("owed_yen"),
    );
    let yen = |s: &str| Yen(s.parse().expect("yen"));
    let mut out = BTreeMap::new();
    for row in reader.records() {
        let row = row.expect("row");
        let insurer = InsurerNumber::parse(&row[n]).expect("insurer number");
        let previous = out.insert(
            insurer,
            (yen(&row[routed]), yen(&row[apportioned]), yen(&row[owed])),
        );
        assert!(previous.is_none(), "insurer {insurer} twice in statements");
    }
    out
}

/// The statements say what the receipts and the apportionment add up to, insurer by
/// insurer, and owed = routed + apportioned.
fn assert_statements_agree(out: &Path) {
    assert_statements_agree_with(out, out);
}

/// As [`assert_statements_agree`] for an `apportion` output `out` of the run `run`.
fn assert_statements_agree_with(run: &Path, out: &Path) {
    let sums = sums_from_outputs(run, out);
    let statements = statements_csv(out);
    for (insurer, (routed, apportioned)) in &sums {
        let (s_routed, s_apportioned, s_owed) = statements
            .get(insurer)
            .unwrap_or_else(|| panic!("no statement for {insurer}"));
        assert_eq!(
            (s_routed, s_apportioned),
            (routed, apportioned),
            "{insurer}"
        );
        assert_eq!(*s_owed, *routed + *apportioned, "{insurer}");
    }
    for (insurer, (routed, apportioned, owed)) in &statements {
        if !sums.contains_key(insurer) {
            assert_eq!((routed.0, apportioned.0, owed.0), (0, 0, 0), "{insurer}");
        }
    }
}

/// The manifest's accounts in the words of the issue: receipts in = routed + open +
/// apportioned + quarantined (+ public-only), yen likewise. These are the engine's own
/// figures; [`assert_rows_conserve`] checks them against the rows and the inputs.
fn assert_conserved(m: &Manifest) {
    let c = &m.conservation;
    assert!(c.balanced, "{:?}", c.problems);
    let r = &c.receipts;
    let by = |s: &str| r.by_status.get(s).copied().unwrap_or(0);
    let statuses = [
        "verified",
        "rerouted",
        "matched",
        "review",
        "no_match",
        "pending",
        "apportioned",
        "final_unresolved",
        "public_only",
        "quarantined",
    ];
    assert_eq!(
        r.receipts_in,
        statuses.iter().map(|s| by(s)).sum::<u64>(),
        "{:?}",
        r.by_status
    );
    assert!(r.by_status.keys().all(|k| statuses.contains(&k.as_str())));
    assert_eq!(r.carried_out, by("review") + by("no_match") + by("pending"));
    let y = &c.yen;
    assert_eq!(y.yen_in, y.by_status.values().copied().sum::<Yen>());
    let s = &c.insurer_share;
    assert_eq!(s.apportioned, m.apportionment.yen);
    assert_eq!(s.owed, s.routed + s.apportioned);
}

/// The month's receipts as its UKE files hold them, read here line by line without the
/// engine's reader: (RE records, Σ 合計点数 × 10 over the receipts whose 合計点数 is
/// 1–8 digits — the HO's, or the first KO's of a receipt without HO).
fn uke_receipts_and_yen(input: &Path) -> (u64, Yen) {
    fn walk(dir: &Path, files: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("list") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(&path, files);
            } else if path.extension().is_some_and(|e| e == "UKE" || e == "CYO") {
                files.push(path);
            }
        }
    }
    let points = |field: Option<&[u8]>| {
        field
            .filter(|f| (1..=8).contains(&f.len()) && f.iter().all(u8::is_ascii_digit))
            .map(|f| {
                std::str::from_utf8(f)
                    .expect("digits")
                    .parse::<i64>()
                    .expect("points")
            })
    };
    let mut files = Vec::new();
    walk(input, &mut files);
    let (mut receipts, mut yen) = (0, 0);
    for file in files {
        let bytes = std::fs::read(&file).expect("read");
        let body = bytes.split(|&b| b == 0x1A).next().unwrap_or_default();
        // (HO points, first KO points) of the receipt being read.
        let mut current: Option<(Option<i64>, Option<i64>)> = None;
        let mut close = |r: Option<(Option<i64>, Option<i64>)>| {
            if let Some((ho, ko)) = r {
                yen += 10 * ho.or(ko).unwrap_or(0);
            }
        };
        for line in body.split(|&b| b == b'\n') {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let mut fields = line.split(|&b| b == b',');
            match fields.next() {
                Some(b"RE") => {
                    receipts += 1;
                    close(current.replace((None, None)));
                }
                Some(b"HO") => {
                    if let Some((ho @ None, _)) = current.as_mut() {
                        *ho = points(fields.nth(4));
                    }
                }
                Some(b"KO") => {
                    if let Some((_, ko @ None)) = current.as_mut() {
                        *ko = points(fields.nth(4));
                    }
                }
                _ => {}
            }
        }
        close(current);
    }
    (receipts, Yen(yen))
}

/// Every batch of the Parquet file at `path`.
fn batches(path: &Path) -> Vec<arrow::array::RecordBatch> {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .expect("parquet")
        .build()
        .expect("reader")
        .map(|b| b.expect("batch"))
        .collect()
}

/// Σ of the Int64 column `name` of `path` (nulls skipped) and the rows.
fn rows_and_sum(path: &Path, name: &str) -> (u64, Yen) {
    use arrow::array::AsArray;
    let (mut rows, mut sum) = (0, 0);
    for b in batches(path) {
        rows += b.num_rows() as u64;
        let col = b
            .column_by_name(name)
            .unwrap_or_else(|| panic!("no {name}"));
        sum += col
            .as_primitive::<arrow::datatypes::Int64Type>()
            .iter()
            .flatten()
            .sum::<i64>();
    }
    (rows, Yen(sum))
}

/// `receipts.parquet`'s rows by status: (rows, Σ cost_yen, Σ insurer_share_yen).
fn receipt_rows_by_status(out: &Path) -> BTreeMap<String, (u64, Yen, Yen)> {
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::Int64Type;
    let mut by = BTreeMap::<String, (u64, Yen, Yen)>::new();
    for b in batches(&out.join("receipts.parquet")) {
        let col = |n: &str| {
            b.column_by_name(n)
                .unwrap_or_else(|| panic!("no {n}"))
                .clone()
        };
        let (status, cost, share) = (col("status"), col("cost_yen"), col("insurer_share_yen"));
        let (status, cost, share) = (
            status.as_string::<i32>(),
            cost.as_primitive::<Int64Type>(),
            share.as_primitive::<Int64Type>(),
        );
        for i in 0..b.num_rows() {
            let e = by.entry(status.value(i).to_string()).or_default();
            e.0 += 1;
            if !cost.is_null(i) {
                e.1 += Yen(cost.value(i));
            }
            if !share.is_null(i) {
                e.2 += Yen(share.value(i));
            }
        }
    }
    by
}

/// The receipts (distinct keys) with parts in `apportionment.parquet`.
fn receipts_apportioned(path: &Path) -> u64 {
    use arrow::array::AsArray;
    use arrow::datatypes::{UInt32Type, UInt8Type};
    let mut keys = std::collections::BTreeSet::new();
    for b in batches(path) {
        let col = |n: &str| {
            b.column_by_name(n)
                .unwrap_or_else(|| panic!("no {n}"))
                .clone()
        };
        let (org, clinic, month, number) = (
            col("organization"),
            col("clinic_code"),
            col("billing_month"),
            col("receipt_number"),
        );
        for i in 0..b.num_rows() {
            keys.insert((
                org.as_primitive::<UInt8Type>().value(i),
                clinic.as_string::<i32>().value(i).to_string(),
                month.as_string::<i32>().value(i).to_string(),
                number.as_primitive::<UInt32Type>().value(i),
            ));
        }
    }
    keys.len() as u64
}

/// Conservation recomputed from the output rows, against the inputs read here: every
/// receipt in (the UKE files' RE records, the ledger's rows) is one row of
/// `receipts.parquet` and its yen are there; the open rows are the next ledger's rows;
/// the apportioned rows' insurer shares are `apportionment.parquet`'s parts; and the
/// manifest's accounts are these counts and sums.
fn assert_rows_conserve(input: &Path, ledger_in: Option<&Path>, out: &Path, m: &Manifest) {
    let (uke_receipts, uke_yen) = uke_receipts_and_yen(input);
    let (ledger_receipts, ledger_yen) =
        ledger_in.map_or((0, Yen(0)), |l| rows_and_sum(l, "cost_yen"));
    let by = receipt_rows_by_status(out);
    let rows: u64 = by.values().map(|v| v.0).sum();
    let yen: Yen = by.values().map(|v| v.1).sum();
    assert_eq!(rows, uke_receipts + ledger_receipts, "{by:?}");
    assert_eq!(yen, uke_yen + ledger_yen, "{by:?}");
    let of = |s: &str| by.get(s).copied().unwrap_or_default();
    let (ledger_out, _) = rows_and_sum(&out.join("pending.parquet"), "cost_yen");
    assert_eq!(
        ledger_out,
        of("review").0 + of("no_match").0 + of("pending").0
    );
    let apportionment = out.join("apportionment.parquet");
    let (_, parts_yen) = rows_and_sum(&apportionment, "amount_yen");
    assert_eq!(parts_yen, of("apportioned").2);
    assert_eq!(receipts_apportioned(&apportionment), of("apportioned").0);
    // The manifest says what the rows say.
    let c = &m.conservation;
    assert_eq!(c.receipts.receipts_in, rows);
    assert_eq!(c.yen.yen_in, yen);
    for (status, (n, cost, _)) in &by {
        assert_eq!(c.receipts.by_status.get(status), Some(n), "{status}");
        assert_eq!(c.yen.by_status.get(status), Some(cost), "{status}");
    }
    assert_eq!(
        c.receipts.by_status.len(),
        by.len(),
        "{:?}",
        c.receipts.by_status
    );
}

fn run_month(input: &Path, out: &Path, config: &Config, pending: Option<&Path>) -> Manifest {
    let options = RunOptions {
        pending,
        ..RunOptions::default()
    };
    run_with(input, out, config, options)
        .unwrap_or_else(|e| panic!("run of {}: {e}", input.display()))
        .manifest
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    /// Two generated months chained through the ledger: every account balances in both,
    /// the ledger's receipts all come back in month 2, and with a hold of 1 none of them
    /// is carried again.
    #[test]
    fn months_chained_through_the_ledger_conserve_receipts_and_yen(
        seed in 1u64..10_000,
        basis in prop_oneof![Just(Basis::Claims), Just(Basis::Headcount)],
        scope in prop_oneof![Just(Scope::Prefecture), Just(Scope::National)],
    ) {
        let dir = tempfile::tempdir().expect("tempdir");
        let (in1, in2, out1, out2) = (
            dir.path().join("in1"),
            dir.path().join("in2"),
            dir.path().join("out1"),
            dir.path().join("out2"),
        );
        month(&in1, seed, "2026-06");
        month(&in2, seed + 1, "2026-07");
        let config = config(basis, scope, 1);
        let m1 = run_month(&in1, &out1, &config, None);
        assert_conserved(&m1);
        assert_rows_conserve(&in1, None, &out1, &m1);
        assert_statements_agree(&out1);
        // A month that resolves everything has no ledger to chain; try another.
        prop_assume!(m1.pending.carried_out > 0);
        prop_assert_eq!(m1.apportionment.receipts, 0);

        let m2 = run_month(&in2, &out2, &config, Some(&out1.join("pending.parquet")));
        assert_conserved(&m2);
        let ledger = out1.join("pending.parquet");
        assert_rows_conserve(&in2, Some(&ledger), &out2, &m2);
        assert_statements_agree(&out2);
        prop_assert_eq!(m2.conservation.receipts.carried_in, m1.pending.carried_out);
        prop_assert_eq!(m2.conservation.yen.carried_in, {
            // The cost of the receipts month 1 left open.
            let open = ["review", "no_match", "pending"];
            open.iter()
                .filter_map(|s| m1.conservation.yen.by_status.get(*s))
                .copied()
                .sum::<Yen>()
        });
        // Hold 1: every carried receipt is resolved or final now; only month 2's own
        // open receipts go on.
        prop_assert_eq!(m2.pending.carried_out, m2.pending.new_open);
        prop_assert_eq!(
            m2.pending.made_final + m2.pending.carried_in_resolved,
            m2.pending.carried_in
        );
        prop_assert_eq!(
            m2.apportionment.receipts + m2.apportionment.unapportionable,
            m2.pending.made_final
        );
    }
}

/// A generated month with a hold of 0, so its open receipts are apportioned at once.
fn apportioned_month() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("in");
    month(&input, 7, "2026-06");
    std::fs::write(
        dir.path().join("hold0.toml"),
        "[apportion]\nhold_months = 0\n",
    )
    .expect("config");
    let out = dir.path().join("run");
    run_ok(
        bin()
            .args(["run", "--input"])
            .arg(&input)
            .arg("--out")
            .arg(&out)
            .arg("--config")
            .arg(dir.path().join("hold0.toml")),
    );
    (dir, out)
}

const APPORTION_OUTPUTS: [&str; 3] = [
    "apportionment.parquet",
    "statements.csv",
    "statements.parquet",
];

#[test]
fn a_run_with_no_hold_apportions_its_open_receipts_to_the_yen() {
    let (_dir, out) = apportioned_month();
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).expect("read"))
            .expect("json");
    assert_eq!(m["conservation"]["balanced"], true, "{}", m["conservation"]);
    let apportioned = m["apportionment"]["receipts"].as_u64().expect("count");
    assert!(apportioned > 0, "{}", m["apportionment"]);
    assert_eq!(m["pending"]["carried_out"], 0);
    // Each receipt's parts sum to its insurer share in receipts.parquet.
    let shares: BTreeMap<String, Yen> = read_share_rows(&out.join("receipts.parquet"))
        .expect("receipts")
        .into_iter()
        .filter(|r| r.status == reseclear::resolve::outcome::Status::Apportioned)
        .map(|r| (r.key.to_string(), r.insurer_share))
        .collect();
    assert_eq!(shares.len() as u64, apportioned);
    let totals = read_apportionment_totals(&out.join("apportionment.parquet")).expect("read");
    assert_eq!(totals.receipts, apportioned);
    assert_eq!(totals.claims_yen, shares.values().copied().sum::<Yen>());
    assert_eq!(
        totals.by_insurer.values().map(|p| p.yen).sum::<Yen>(),
        totals.claims_yen
    );
    assert_statements_agree(&out);
}

#[test]
fn apportion_alone_with_the_same_basis_reproduces_the_run_byte_for_byte() {
    let (dir, out) = apportioned_month();
    let again = dir.path().join("again");
    run_ok(
        bin()
            .args(["apportion", "--run"])
            .arg(&out)
            .arg("--out")
            .arg(&again),
    );
    for f in APPORTION_OUTPUTS {
        let a = std::fs::read(out.join(f)).expect("run output");
        let b = std::fs::read(again.join(f)).expect("apportion output");
        assert!(a == b, "{f} differs between the run and `apportion`");
    }
    // And the re-run itself is repeatable, whatever the thread count.
    let third = dir.path().join("third");
    run_ok(
        bin()
            .env("RAYON_NUM_THREADS", "1")
            .args(["apportion", "--run"])
            .arg(&out)
            .args(["--basis", "claims", "--scope", "prefecture", "--out"])
            .arg(&third),
    );
    for f in APPORTION_OUTPUTS {
        assert_eq!(
            std::fs::read(again.join(f)).expect("a"),
            std::fs::read(third.join(f)).expect("b"),
            "{f}"
        );
    }
}

#[test]
fn another_basis_moves_yen_between_insurers_and_compare_says_how_much() {
    let (dir, out) = apportioned_month();
    let headcount = dir.path().join("headcount");
    run_ok(
        bin()
            .args(["apportion", "--run"])
            .arg(&out)
            .args(["--basis", "headcount", "--scope", "national", "--out"])
            .arg(&headcount),
    );
    assert_statements_agree_with(&out, &headcount);
    let a = read_apportionment_totals(&out.join("apportionment.parquet")).expect("a");
    let b = read_apportionment_totals(&headcount.join("apportionment.parquet")).expect("b");
    // The same receipts and yen, split otherwise.
    assert_eq!((a.receipts, a.claims_yen), (b.receipts, b.claims_yen));
    assert_ne!(a.by_insurer, b.by_insurer);

    let printed = run_ok(bin().arg("compare").arg(&out).arg(&headcount));
    let text = String::from_utf8_lossy(&printed.stdout);
    let comparison = reseclear::tools::compare::compare(&out, &headcount).expect("compare");
    let differing: Vec<_> = comparison.differing().collect();
    assert!(!differing.is_empty());
    for (insurer, pa, pb) in &differing {
        let line = text
            .lines()
            .find(|l| l.starts_with(insurer.as_str()))
            .unwrap_or_else(|| panic!("{insurer} not printed:\n{text}"));
        let diff = format!("{:+}", pb.yen.0 - pa.yen.0);
        assert!(line.ends_with(&diff), "{line} should end with {diff}");
    }
    // Yen only moves: what some insurers gain the others lose.
    let net: i64 = differing.iter().map(|(_, a, b)| b.yen.0 - a.yen.0).sum();
    assert_eq!(net, 0);
    assert!(
        text.contains(&format!("{} yen moved", comparison.yen_moved())),
        "{text}"
    );
}

#[test]
fn a_ledger_is_refused_by_the_run_of_its_own_month() {
    let dir = tempfile::tempdir().expect("tempdir");
    // The sample's own month: the ledger of 2026-06 given to a 2026-06 run.
    let sample = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/sample");
    let first = dir.path().join("sample");
    run_ok(
        bin()
            .args(["run", "--input"])
            .arg(&sample)
            .arg("--out")
            .arg(&first),
    );
    let ledger = first.join("pending.parquet");
    {
        let again = bin()
            .args(["run", "--input"])
            .arg(&sample)
            .arg("--out")
            .arg(dir.path().join("again"))
            .arg("--pending")
            .arg(&ledger)
            .output()
            .expect("run");
        assert!(!again.status.success());
        let err = String::from_utf8_lossy(&again.stderr);
        assert!(
            err.contains("pending.parquet") && err.contains("2026-06 run"),
            "{err}"
        );
    }
}

#[test]
fn a_file_that_is_not_a_ledger_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sample = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/sample");
    let run = |ledger: &Path| {
        bin()
            .args(["run", "--input"])
            .arg(&sample)
            .arg("--out")
            .arg(dir.path().join("out"))
            .arg("--pending")
            .arg(ledger)
            .output()
            .expect("run")
    };
    // A Parquet file of another kind: the sample's roster.
    let out = run(&sample.join("roster.parquet"));
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("roster.parquet") && err.contains("missing column(s)") && err.contains("uke"),
        "{err}"
    );
    // Not Parquet at all.
    let junk = dir.path().join("pending.parquet");
    std::fs::write(&junk, b"not parquet").expect("write");
    let out = run(&junk);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("Parquet"));
}

#[test]
fn the_ledger_reads_back_as_written_and_a_damaged_row_is_quarantined_not_lost() {
    use reseclear::config::IngestConfig;
    use reseclear::pending::{read_ledger, write_ledger};

    let dir = tempfile::tempdir().expect("tempdir");
    let sample = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/sample");
    let first = dir.path().join("sample");
    run_month(&sample, &first, &Config::default(), None);
    let path = first.join("pending.parquet");
    let ledger = read_ledger(&path, "pending.parquet", &IngestConfig::default()).expect("read");
    assert!(ledger.rows_read >= 3, "the sample leaves receipts open");
    assert_eq!(ledger.entries.len() as u64, ledger.rows_read);
    assert!(ledger.file.quarantined.is_empty());
    assert!(
        ledger.declarations().next().is_some(),
        "tier-3 forms are carried"
    );
    for (entry, receipt) in ledger.entries.iter().zip(&ledger.file.receipts) {
        assert_eq!(entry.key, receipt.key);
        assert_eq!(entry.cost_yen, receipt.points().to_yen());
    }
    // Written again, the same bytes.
    let again = dir.path().join("again.parquet");
    write_ledger(&again, &ledger.entries).expect("write");
    assert_eq!(
        std::fs::read(&path).expect("a"),
        std::fs::read(&again).expect("b")
    );

    // Damage: receipt text that is not UKE, and a status that is not open.
    let mut damaged = ledger.entries.clone();
    damaged[0].uke = "RE,not a receipt".into();
    damaged[1].last_status = reseclear::resolve::outcome::Status::Verified;
    let bad = dir.path().join("pending.parquet");
    write_ledger(&bad, &damaged).expect("write");
    let read = read_ledger(&bad, "pending.parquet", &IngestConfig::default()).expect("read");
    assert_eq!(read.file.quarantined.len(), 2);
    assert_eq!(read.entries.len() as u64, ledger.rows_read - 2);
    for (q, e) in read.file.quarantined.iter().zip(&damaged) {
        assert_eq!(q.key, Some(e.key));
        assert_eq!(q.points.map(|p| p.to_yen()), Some(e.cost_yen), "cost kept");
    }
    assert!(read.file.quarantine[0].reason.contains("does not parse"));
    assert!(read.file.quarantine[1].reason.contains("last_status"));

    // A later month retries the rest; the damaged rows are quarantined receipts and
    // the accounts still balance.
    let next = dir.path().join("in2");
    month(&next, 3, "2026-07");
    let out = dir.path().join("out2");
    let m = run_month(&next, &out, &Config::default(), Some(&bad));
    assert_conserved(&m);
    assert_eq!(m.pending.carried_in, ledger.rows_read);
    assert_eq!(m.pending.carried_in_quarantined, 2);
    let quarantine = std::fs::read_to_string(out.join("quarantine.csv")).expect("quarantine");
    assert_eq!(
        quarantine
            .lines()
            .filter(|l| l.starts_with("pending.parquet,"))
            .count(),
        2,
        "{quarantine}"
    );
}

#[test]
fn a_final_receipt_no_insurer_can_share_in_is_reported_and_still_accounted_for() {
    // The sample month with an insurer master holding no 国保 or 後期 insurer: the
    // 国保連's open receipts have no one to be apportioned to.
    let dir = tempfile::tempdir().expect("tempdir");
    let sample = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/sample");
    let input = dir.path().join("in");
    copy_dir(&sample, &input);
    let master = std::fs::read_to_string(sample.join("insurers.csv")).expect("insurers");
    let kept: Vec<&str> = master
        .lines()
        .filter(|l| !l.contains(",kokuho,") && !l.contains(",koki,"))
        .collect();
    assert!(
        kept.len() < master.lines().count(),
        "the sample has 国保 insurers"
    );
    std::fs::write(input.join("insurers.csv"), kept.join("\n") + "\n").expect("write");
    let out = dir.path().join("out");
    let m = run_month(
        &input,
        &out,
        &config(Basis::Claims, Scope::Prefecture, 0),
        None,
    );
    assert_conserved(&m);
    assert!(m.apportionment.unapportionable > 0, "{:?}", m.apportionment);
    let finals = m
        .conservation
        .receipts
        .by_status
        .get("final_unresolved")
        .copied();
    assert_eq!(finals, Some(m.apportionment.unapportionable));
    let quarantine = std::fs::read_to_string(out.join("quarantine.csv")).expect("read");
    let notices = quarantine
        .lines()
        .filter(|l| l.contains(",apportionment,") && l.contains("no insurer to apportion among"))
        .count() as u64;
    assert_eq!(notices, m.apportionment.unapportionable, "{quarantine}");
    assert_statements_agree(&out);
}

#[test]
fn a_settled_run_is_purged_of_declared_personal_data_and_still_verifies() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sample = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/sample");
    let (first, next_input, next) = (
        dir.path().join("m1"),
        dir.path().join("in2"),
        dir.path().join("m2"),
    );
    run_month(&sample, &first, &Config::default(), None);
    month(&next_input, 3, "2026-07");
    run_month(
        &next_input,
        &next,
        &Config::default(),
        Some(&first.join("pending.parquet")),
    );
    let verify = |run: &Path| {
        bin()
            .args(["verify", "--run"])
            .arg(run)
            .output()
            .expect("verify")
    };
    assert!(verify(&first).status.success());

    // The declared names are in the ledger before the purge.
    let names = declared_names(&first.join("pending.parquet"));
    assert!(!names.is_empty(), "the sample's ledger carries forms");
    assert!(texts(&first.join("pending.parquet"), "uke")
        .iter()
        .any(|t| t
            .split("\r\n")
            .any(|l| l.starts_with("RE,") && l.split(',').nth(4) != Some(""))));
    // The manifest changes: it hashes the purged files again (and records the purge).
    let kept: Vec<Vec<u8>> = [
        "receipts.parquet",
        "apportionment.parquet",
        "statements.csv",
        "statements.parquet",
    ]
    .iter()
    .map(|f| std::fs::read(first.join(f)).expect("read"))
    .collect();

    // The ledger's claims are open: only the run that read it settles them.
    let refused = bin()
        .args(["purge", "--run"])
        .arg(&first)
        .output()
        .expect("purge");
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--superseded-by"));
    let wrong = bin()
        .args(["purge", "--run"])
        .arg(&first)
        .arg("--superseded-by")
        .arg(&first)
        .output()
        .expect("purge");
    assert!(!wrong.status.success(), "a run does not supersede itself");

    run_ok(
        bin()
            .args(["purge", "--run"])
            .arg(&first)
            .arg("--superseded-by")
            .arg(&next),
    );
    let ledger = std::fs::read(first.join("pending.parquet")).expect("ledger");
    for name in &names {
        assert!(
            !ledger.windows(name.len()).any(|w| w == name.as_bytes()),
            "a declared name is left in the purged ledger"
        );
    }
    assert!(declared_names(&first.join("pending.parquet")).is_empty());
    for t in texts(&first.join("pending.parquet"), "uke") {
        // カタカナ氏名 where the text's kind puts it (its header's layout).
        let kana = t
            .get(..2)
            .and_then(ReceiptKind::of_header)
            .and_then(|k| k.layout().re.kana)
            .map_or(usize::MAX, |f| f.pos - 1);
        for re in t.split("\r\n").filter(|l| l.starts_with("RE,")) {
            let f: Vec<&str> = re.split(',').collect();
            assert_eq!(
                f.get(4).copied(),
                Some(reseclear::tools::purge::PURGED_NAME),
                "{re}"
            );
            assert_eq!(
                f.get(kana).copied().unwrap_or_default(),
                "",
                "RE kana blanked: {re}"
            );
        }
    }
    for (f, before) in [
        "receipts.parquet",
        "apportionment.parquet",
        "statements.csv",
        "statements.parquet",
    ]
    .iter()
    .zip(&kept)
    {
        assert_eq!(
            &std::fs::read(first.join(f)).expect("read"),
            before,
            "{f} changed"
        );
    }
    let v = verify(&first);
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stdout));
    let ledger_lines = |log: &str| -> Vec<String> {
        log.lines()
            .filter(|l| l.contains(",pending.parquet,"))
            .map(str::to_string)
            .collect()
    };
    let log = std::fs::read_to_string(first.join("purge_log.csv")).expect("purge log");
    assert!(log.starts_with("purged_at,run_month,file,"), "{log}");
    assert_eq!(ledger_lines(&log).len(), 1, "{log}");
    assert!(ledger_lines(&log)[0].contains(",2026-06,pending.parquet,"));
    assert!(
        log.contains(",report.html,"),
        "the page is written again, masked"
    );
    // Purging again finds nothing, needs no next run, and is logged too.
    run_ok(bin().args(["purge", "--run"]).arg(&first));
    let log = std::fs::read_to_string(first.join("purge_log.csv")).expect("purge log");
    let lines = ledger_lines(&log);
    assert_eq!(lines.len(), 2, "{log}");
    let fields: Vec<&str> = lines[1].split(',').collect();
    assert_eq!(fields[4], "0", "nothing left to blank: {log}");
    assert_eq!(fields[5], fields[6], "the ledger is unchanged: {log}");
}

#[test]
fn verify_finds_a_statement_that_does_not_add_up() {
    let (_dir, out) = apportioned_month();
    let path = out.join("statements.csv");
    let text = std::fs::read_to_string(&path).expect("statements");
    // Add one yen to the first insurer that owes something.
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let header: Vec<&str> = lines[0].split(',').collect();
    let owed = header
        .iter()
        .position(|h| *h == "owed_yen")
        .expect("owed_yen");
    let row = lines
        .iter()
        .position(|l| {
            l.split(',')
                .nth(owed)
                .is_some_and(|v| v != "0" && v != "owed_yen")
        })
        .expect("an insurer owing");
    let mut fields: Vec<String> = lines[row].split(',').map(str::to_string).collect();
    fields[owed] = (fields[owed].parse::<i64>().expect("yen") + 1).to_string();
    lines[row] = fields.join(",");
    std::fs::write(&path, lines.join("\n") + "\n").expect("write");
    let v = bin()
        .args(["verify", "--run"])
        .arg(&out)
        .output()
        .expect("verify");
    assert!(!v.status.success());
    let text = String::from_utf8_lossy(&v.stdout);
    assert!(text.contains("FAIL statements"), "{text}");
}

/// The non-empty `form_name` values of a ledger.
fn declared_names(path: &Path) -> Vec<String> {
    texts(path, "form_name")
}

/// The non-empty values of a text column of a ledger.
fn texts(path: &Path, column: &str) -> Vec<String> {
    use arrow::array::{Array, AsArray};
    let table = reseclear::ingest::parquet_table::Table::read(path, &[column]).expect("ledger");
    let mut out = Vec::new();
    for b in table.batches() {
        let values = b.record_batch().column_by_name(column).expect("column");
        let values = values.as_string::<i32>();
        out.extend(
            (0..values.len())
                .filter(|&i| values.is_valid(i))
                .map(|i| values.value(i).to_string()),
        );
    }
    out.retain(|n| !n.is_empty());
    out
}
