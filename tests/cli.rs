//! End to end through the `reseclear` binary: the sample month, a generated month,
//! bad input directories, and byte-identical outputs whatever the thread count.

mod common;
use common::{bin, root, run_ok, sample_copy};

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;

/// Runs the sample month into a fresh directory.
fn run_sample() -> (tempfile::TempDir, Output) {
    let out_dir = tempfile::tempdir().expect("tempdir");
    let out = run_ok(
        bin()
            .args(["run", "--input"])
            .arg(root().join("fixtures/sample"))
            .arg("--out")
            .arg(out_dir.path()),
    );
    (out_dir, out)
}

fn manifest(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("manifest.json")).expect("manifest.json");
    serde_json::from_str(&text).expect("manifest is JSON")
}

fn u(v: &serde_json::Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// The `expected_status` column of a generator's truth file.
fn expected_statuses(path: &Path) -> Vec<String> {
    use arrow::array::{Array, AsArray};
    let file = std::fs::File::open(path).expect("truth.parquet");
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .expect("parquet")
        .build()
        .expect("reader");
    let mut out = Vec::new();
    for batch in reader {
        let batch = batch.expect("batch");
        let col = batch
            .column_by_name("expected_status")
            .expect("expected_status column");
        let col = arrow::compute::cast(col, &arrow::datatypes::DataType::Utf8).expect("text");
        let col = col.as_string::<i32>();
        out.extend((0..col.len()).map(|i| col.value(i).to_string()));
    }
    out
}

#[test]
fn help_lists_every_command() {
    let out = run_ok(bin().arg("--help"));
    let text = String::from_utf8_lossy(&out.stdout);
    // The first word of each line of the Commands: section, exactly.
    let listed: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(
        listed,
        [
            "run",
            "apportion",
            "compare",
            "explain",
            "report",
            "verify",
            "purge",
            "evaluate",
            "generate",
            "help"
        ],
        "{text}"
    );
}

#[test]
fn the_sample_month_runs_and_its_accounts_balance() {
    let (out_dir, out) = run_sample();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("balanced"), "{stdout}");
    let m = manifest(out_dir.path());
    let c = &m["conservation"];
    assert_eq!(c["balanced"], true);
    let receipts_in = u(&c["receipts"]["receipts_in"]);
    assert!(
        receipts_in >= 100,
        "sample has hundreds of receipts, got {receipts_in}"
    );
    assert_eq!(
        receipts_in,
        u(&c["receipts"]["accepted"]) + u(&c["receipts"]["quarantined"])
    );
    // The summary says who pays the accepted yen and the receipts of each kind, as the
    // manifest has them.
    let paid = &c["yen"]["paid_by"];
    assert_eq!(
        u(&paid["insurers"]) + u(&paid["public_expense"]) + u(&paid["patients"]),
        u(&c["yen"]["accepted"])
    );
    let line = format!(
        "accepted paid by {:>10}  insurers + {} 公費 + {} patients",
        u(&paid["insurers"]),
        u(&paid["public_expense"]),
        u(&paid["patients"])
    );
    assert!(stdout.contains(&line), "{line} in {stdout}");
    assert!(
        stdout.contains(&format!(
            "receipts by kind chozai {}, dpc {}, ika {}, shika {}",
            u(&c["by_kind"]["chozai"]["receipts_in"]),
            u(&c["by_kind"]["dpc"]["receipts_in"]),
            u(&c["by_kind"]["ika"]["receipts_in"]),
            u(&c["by_kind"]["shika"]["receipts_in"])
        )),
        "{stdout}"
    );
    assert_eq!(
        u(&c["yen"]["yen_in"]),
        u(&c["yen"]["accepted"]) + u(&c["yen"]["quarantined"])
    );
    // The sample carries deliberately broken files: the quarantine shows them.
    assert!(u(&m["uke"]["files_quarantined"]) >= 2);
    assert!(u(&c["receipts"]["quarantined"]) >= 4);
    let q = std::fs::read_to_string(out_dir.path().join("quarantine.csv")).expect("quarantine.csv");
    assert!(q.starts_with("file,line,record,field,value,reason,scope,receipt_key"));
    for expected in [
        "without GO",
        "check digit",
        "総件数",
        "総合計点数",
        "Shift_JIS",
        "appears 2 times",
    ] {
        assert!(
            q.contains(expected),
            "quarantine.csv lacks a row about {expected}"
        );
    }
    // The sample holds every kind of claim, each read and accepted (DPC receipts are
    // the DPC hospitals' stays, a few of a small month).
    for (kind, least) in [("ika", 10), ("dpc", 10), ("shika", 10), ("chozai", 10)] {
        let k = &m["uke"]["by_kind"][kind];
        assert!(u(&k["receipts_accepted"]) >= least, "{kind}: {k}");
    }
    // Every input is listed with its hash.
    let inputs = m["inputs"].as_array().expect("inputs");
    assert!(inputs
        .iter()
        .all(|i| i["sha256"].as_str().is_some_and(|h| h.len() == 64)));
    assert!(inputs.iter().any(|i| i["kind"] == "roster"));
}

#[test]
fn the_sample_month_agrees_with_its_truth_file() {
    // Receipts the generator meant to be quarantined are exactly those the run
    // quarantined, counted per receipt.
    let truth = expected_statuses(&root().join("fixtures/sample/truth.parquet"));
    let expected_quarantined = truth.iter().filter(|s| s.as_str() == "quarantined").count() as u64;
    let (out_dir, _) = run_sample();
    let m = manifest(out_dir.path());
    assert_eq!(
        u(&m["conservation"]["receipts"]["receipts_in"]),
        truth.len() as u64
    );
    assert_eq!(
        u(&m["conservation"]["receipts"]["quarantined"]),
        expected_quarantined
    );
}

#[test]
fn outputs_are_byte_identical_across_thread_counts_and_runs() {
    let input = tempfile::tempdir().expect("tempdir");
    run_ok(
        bin()
            .args([
                "generate",
                "--persons",
                "3000",
                "--receipts",
                "600",
                "--seed",
                "11",
                "--broken-files",
                "--out",
            ])
            .arg(input.path()),
    );
    // No hold, so that the open receipts are apportioned and every output has rows.
    let config = tempfile::tempdir().expect("tempdir");
    let hold0 = config.path().join("hold0.toml");
    std::fs::write(&hold0, "[apportion]\nhold_months = 0\n").expect("config");
    let mut outputs = Vec::new();
    for threads in ["1", "2", "2"] {
        let out = tempfile::tempdir().expect("tempdir");
        run_ok(
            bin()
                .env("RAYON_NUM_THREADS", threads)
                .args(["run", "--input"])
                .arg(input.path())
                .arg("--out")
                .arg(out.path())
                .arg("--config")
                .arg(&hold0),
        );
        // Every output but the wall-clock timings.
        let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(out.path())
            .expect("list outputs")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.file_name().is_some_and(|n| n != "timings.json"))
            .map(|p| {
                let name = p
                    .file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned();
                (name, std::fs::read(&p).expect("output"))
            })
            .collect();
        files.sort();
        assert!(
            files.len() >= 10,
            "outputs: {:?}",
            files.iter().map(|f| &f.0).collect::<Vec<_>>()
        );
        outputs.push(files);
    }
    assert_eq!(outputs[0], outputs[1], "1 thread vs 2 threads");
    assert_eq!(outputs[1], outputs[2], "two runs");
}

#[test]
fn a_generated_month_with_a_csv_roster_runs() {
    let input = tempfile::tempdir().expect("tempdir");
    run_ok(
        bin()
            .args([
                "generate",
                "--persons",
                "1500",
                "--receipts",
                "300",
                "--seed",
                "3",
                "--roster-csv",
                "--out",
            ])
            .arg(input.path()),
    );
    let out = tempfile::tempdir().expect("tempdir");
    run_ok(
        bin()
            .args(["run", "--input"])
            .arg(input.path())
            .arg("--out")
            .arg(out.path()),
    );
    let m = manifest(out.path());
    assert_eq!(m["conservation"]["balanced"], true);
    assert_eq!(u(&m["conservation"]["receipts"]["quarantined"]), 0);
    assert!(m["inputs"]
        .as_array()
        .expect("inputs")
        .iter()
        .any(|i| i["path"] == "roster.csv"));
}

#[test]
fn generate_makes_only_the_kinds_asked_for_and_refuses_an_unknown_one() {
    let input = tempfile::tempdir().expect("tempdir");
    let generate = |kinds: &str, dir: &Path| {
        bin()
            .args([
                "generate",
                "--persons",
                "800",
                "--receipts",
                "200",
                "--kinds",
                kinds,
            ])
            .arg("--out")
            .arg(dir)
            .output()
            .expect("generate")
    };
    // A month of `kinds` made and run: its manifest.
    let month_of = |kinds: &str, dir: &Path| {
        let made = generate(kinds, dir);
        assert!(
            made.status.success(),
            "{}",
            String::from_utf8_lossy(&made.stderr)
        );
        let out = tempfile::tempdir().expect("tempdir");
        run_ok(
            bin()
                .args(["run", "--input"])
                .arg(dir)
                .arg("--out")
                .arg(out.path()),
        );
        manifest(out.path())
    };
    let m = month_of("shika,chozai", input.path());
    assert_eq!(m["conservation"]["balanced"], true);
    let by_kind = m["uke"]["by_kind"].as_object().expect("by_kind");
    let kinds: Vec<&str> = by_kind.keys().map(String::as_str).collect();
    assert_eq!(kinds, ["chozai", "shika"]);
    assert_eq!(u(&m["conservation"]["receipts"]["quarantined"]), 0);
    // DPC alone: DPC hospitals' stays, every receipt a DPC one (with 医科 too, their
    // outpatients' receipts are 医科 ones).
    let dpc = tempfile::tempdir().expect("tempdir");
    let m = month_of("dpc", dpc.path());
    let by_kind = m["uke"]["by_kind"].as_object().expect("by_kind");
    assert_eq!(by_kind.keys().collect::<Vec<_>>(), ["dpc"], "{by_kind:?}");
    assert!(
        u(&by_kind["dpc"]["receipts_accepted"]) >= 100,
        "{by_kind:?}"
    );
    let bad = generate("ika,kampo", &input.path().join("bad"));
    assert!(!bad.status.success());
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(
        stderr.contains("--kinds kampo: expected ika, dpc, shika or chozai"),
        "{stderr}"
    );
}

#[test]
fn an_empty_input_directory_is_a_clear_error() {
    let input = tempfile::tempdir().expect("tempdir");
    let out = tempfile::tempdir().expect("tempdir");
    let result = bin()
        .args(["run", "--input"])
        .arg(input.path())
        .arg("--out")
        .arg(out.path())
        .output()
        .expect("run");
    assert_eq!(result.status.code(), Some(2));
    let err = String::from_utf8_lossy(&result.stderr);
    assert!(
        err.contains("missing receipt files (*.UKE, *.CYO, or any file opening with IR, UK or YK)"),
        "{err}"
    );
    assert!(err.contains("roster"), "{err}");
    assert!(err.contains(&input.path().display().to_string()), "{err}");
}

#[test]
fn a_missing_input_directory_is_a_clear_error() {
    let out = tempfile::tempdir().expect("tempdir");
    let result = bin()
        .args(["run", "--input", "/nonexistent/month", "--out"])
        .arg(out.path())
        .output()
        .expect("run");
    assert_eq!(result.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&result.stderr).contains("/nonexistent/month: not a directory"));
}

#[test]
fn a_bad_config_key_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = dir.path().join("c.toml");
    std::fs::write(&cfg, "[ingest]\nfiller_insurer = []\n").expect("write");
    let result = bin()
        .args(["run", "--input"])
        .arg(root().join("fixtures/sample"))
        .arg("--out")
        .arg(dir.path().join("out"))
        .arg("--config")
        .arg(&cfg)
        .output()
        .expect("run");
    assert_eq!(result.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&result.stderr).contains("filler_insurer"));
}

#[test]
fn tiers_one_and_two_of_the_sample_agree_with_the_truth() {
    let (out_dir, _) = run_sample();
    assert!(out_dir.path().join("receipts.parquet").is_file());
    let ev = reseclear::tools::evaluate::evaluate(
        &root().join("fixtures/sample/truth.parquet"),
        out_dir.path(),
    )
    .expect("evaluate");
    assert_eq!(ev.unpaired, 0);
    assert!(ev.tier2_rerouted_expected > 0);
    assert_eq!(
        ev.tier2_rerouted_correct, ev.tier2_rerouted_expected,
        "{ev}"
    );
    let verified = |s: &str| {
        ev.confusion
            .get(&("verified".to_string(), s.to_string()))
            .copied()
            .unwrap_or(0)
    };
    let expected_verified: u64 = ev
        .confusion
        .iter()
        .filter(|((e, _), _)| e == "verified")
        .map(|(_, n)| n)
        .sum();
    assert_eq!(verified("verified"), expected_verified, "{ev}");
    assert_eq!(ev.pending_false, 0, "{ev}");
    // The evaluate command prints the same table.
    let out = run_ok(
        bin()
            .args(["evaluate", "--truth"])
            .arg(root().join("fixtures/sample/truth.parquet"))
            .arg("--run")
            .arg(out_dir.path()),
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("tier 2 re-routing"));
}

/// Family names on the sample roster (at least two characters, so that they are
/// unlikely to occur by chance in other text).
fn roster_family_names() -> Vec<String> {
    use arrow::array::{Array, AsArray};
    let file = std::fs::File::open(root().join("fixtures/sample/roster.parquet")).expect("roster");
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .expect("parquet")
        .build()
        .expect("reader");
    let mut names = std::collections::BTreeSet::new();
    for batch in reader {
        let batch = batch.expect("batch");
        let col = batch.column_by_name("name").expect("name column");
        let col = col.as_string::<i32>();
        for i in 0..col.len() {
            let family = col
                .value(i)
                .split([' ', '　'])
                .next()
                .unwrap_or("")
                .to_string();
            if family.chars().count() >= 2 {
                names.insert(family);
            }
        }
    }
    names.into_iter().collect()
}

#[test]
fn no_patient_name_reaches_the_logs_or_the_quarantine_file() {
    let names = roster_family_names();
    assert!(names.len() > 50);
    let out_dir = tempfile::tempdir().expect("tempdir");
    let out = run_ok(
        bin()
            .args(["--log-level", "trace", "run", "--input"])
            .arg(root().join("fixtures/sample"))
            .arg("--out")
            .arg(out_dir.path()),
    );
    let logs =
        String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
    assert!(
        logs.contains("inputs found"),
        "trace logs were captured: {logs}"
    );
    let quarantine =
        std::fs::read_to_string(out_dir.path().join("quarantine.csv")).expect("quarantine");
    for name in &names {
        assert!(!logs.contains(name.as_str()), "a name reached the logs");
        assert!(
            !quarantine.contains(name.as_str()),
            "a name reached quarantine.csv"
        );
    }
}

#[test]
fn a_saved_match_model_can_be_used_instead_of_training() {
    let (first, _) = run_sample();
    let second = tempfile::tempdir().expect("tempdir");
    run_ok(
        bin()
            .args(["run", "--input"])
            .arg(root().join("fixtures/sample"))
            .arg("--out")
            .arg(second.path())
            .arg("--match-model")
            .arg(first.path().join("match_model.json")),
    );
    let m = manifest(second.path());
    assert_eq!(
        m["matching"]["em_iterations"], 0,
        "no training with a given model"
    );
    // The same model gives the same decisions.
    let ev = reseclear::tools::evaluate::evaluate(
        &root().join("fixtures/sample/truth.parquet"),
        second.path(),
    )
    .expect("evaluate");
    assert_eq!(ev.tier3_matched_correct, ev.tier3_match_expected, "{ev}");
    // A file that is not a model is refused with its name.
    let bad = tempfile::tempdir().expect("tempdir");
    let not_model = bad.path().join("model.json");
    std::fs::write(&not_model, "[1, 2]").expect("write");
    let result = bin()
        .args(["run", "--input"])
        .arg(root().join("fixtures/sample"))
        .arg("--out")
        .arg(bad.path().join("out"))
        .arg("--match-model")
        .arg(&not_model)
        .output()
        .expect("run");
    assert_eq!(result.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&result.stderr).contains("is not a match model"));
}

#[test]
fn the_sample_month_matches_its_truth_in_every_tier() {
    let (out_dir, _) = run_sample();
    let ev = reseclear::tools::evaluate::evaluate(
        &root().join("fixtures/sample/truth.parquet"),
        out_dir.path(),
    )
    .expect("evaluate");
    assert!(ev.tier3_match_expected > 5, "{ev}");
    assert_eq!(
        ev.tier3_matched, ev.tier3_matched_correct,
        "no wrong auto-match: {ev}"
    );
    assert!(ev.tier3_recall() >= 0.9, "{ev}");
    assert_eq!(ev.pending_correct, ev.pending_expected, "{ev}");
    assert!(out_dir.path().join("match_report.parquet").is_file());
}

#[test]
fn an_empty_roster_leaves_every_claim_unresolved_and_accounted_for() {
    let input = sample_copy();
    std::fs::remove_file(input.path().join("roster.parquet")).expect("rm roster");
    std::fs::write(
        input.path().join("roster.csv"),
        "person_id,insurer_number,symbol,number,branch,name,name_kana,birth_date,sex,postal_code,address,employer,valid_from,valid_to,copay_percent\n",
    )
    .expect("write roster");
    let out = tempfile::tempdir().expect("tempdir");
    run_ok(
        bin()
            .args(["run", "--input"])
            .arg(input.path())
            .arg("--out")
            .arg(out.path()),
    );
    let m = manifest(out.path());
    assert_eq!(m["conservation"]["balanced"], true);
    let by_status = m["conservation"]["receipts"]["by_status"]
        .as_object()
        .expect("by_status");
    for resolved in ["verified", "rerouted", "matched"] {
        assert!(
            by_status.get(resolved).is_none(),
            "{resolved} without a roster: {by_status:?}"
        );
    }
    assert!(u(&by_status["no_match"]) > 300);
}

#[test]
fn the_match_report_holds_the_evidence_of_tier_two_and_three() {
    use arrow::array::{Array, AsArray};
    let (out, _) = run_sample();
    let file = std::fs::File::open(out.path().join("match_report.parquet")).expect("match_report");
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .expect("parquet")
        .build()
        .expect("reader");
    let mut tiers = std::collections::BTreeSet::new();
    let mut fields = std::collections::BTreeSet::new();
    for batch in reader {
        let batch = batch.expect("batch");
        let tier = batch
            .column_by_name("tier")
            .expect("tier")
            .as_primitive::<arrow::datatypes::UInt8Type>();
        let field = batch
            .column_by_name("field")
            .expect("field")
            .as_string::<i32>();
        for i in 0..batch.num_rows() {
            tiers.insert(tier.value(i));
            if !field.is_null(i) {
                fields.insert(field.value(i).to_string());
            }
        }
    }
    assert_eq!(tiers, [2u8, 3].into_iter().collect());
    for f in ["name", "kana", "birth_date", "sex"] {
        assert!(fields.contains(f), "no {f} comparison in {fields:?}");
    }
}

#[test]
fn files_the_run_does_not_read_are_reported_not_skipped_silently() {
    let input = sample_copy();
    std::fs::write(input.path().join("pending.parquet"), b"PAR1").expect("write");
    std::fs::write(input.path().join("notes.txt"), b"x").expect("write");
    let out = tempfile::tempdir().expect("tempdir");
    run_ok(
        bin()
            .args(["run", "--input"])
            .arg(input.path())
            .arg("--out")
            .arg(out.path()),
    );
    let q = std::fs::read_to_string(out.path().join("quarantine.csv")).expect("quarantine.csv");
    let line_of = |file: &str| {
        q.lines()
            .find(|l| l.starts_with(file))
            .unwrap_or_default()
            .to_string()
    };
    assert!(
        line_of("pending.parquet,").contains("give it with --pending"),
        "{q}"
    );
    assert!(line_of("notes.txt,").contains("ignored"), "{q}");
    assert!(line_of("truth.parquet,").contains("ignored"), "{q}");
}

#[test]
fn an_out_holding_a_run_is_refused_unless_forced() {
    let (out, _) = run_sample();
    let again = bin()
        .args(["run", "--input"])
        .arg(root().join("fixtures/sample"))
        .arg("--out")
        .arg(out.path())
        .output()
        .expect("run");
    assert!(!again.status.success());
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(
        err.contains("already holds a run") && err.contains("--force"),
        "{err}"
    );
    let before = std::fs::read(out.path().join("manifest.json")).expect("manifest");
    run_ok(
        bin()
            .args(["run", "--input"])
            .arg(root().join("fixtures/sample"))
            .arg("--out")
            .arg(out.path())
            .arg("--force"),
    );
    assert_eq!(
        before,
        std::fs::read(out.path().join("manifest.json")).expect("manifest"),
        "the forced re-run replaced the run with an identical one"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777;
        assert_eq!(mode(out.path()), 0o700, "outputs hold personal data");
        for entry in std::fs::read_dir(out.path()).expect("list") {
            let path = entry.expect("entry").path();
            assert_eq!(mode(&path), 0o600, "{}", path.display());
        }
    }
}

#[test]
fn quiet_runs_print_nothing_and_json_logs_are_json_lines() {
    let out = tempfile::tempdir().expect("tempdir");
    let quiet = run_ok(
        bin()
            .args(["--quiet", "run", "--input"])
            .arg(root().join("fixtures/sample"))
            .arg("--out")
            .arg(out.path())
            .arg("--force"),
    );
    assert!(quiet.stdout.is_empty(), "--quiet printed on stdout");
    assert!(
        quiet.stderr.is_empty(),
        "progress is not drawn when stderr is not a terminal: {}",
        String::from_utf8_lossy(&quiet.stderr)
    );
    let json = run_ok(
        bin()
            .args([
                "--log-format",
                "json",
                "--log-level",
                "debug",
                "run",
                "--input",
            ])
            .arg(root().join("fixtures/sample"))
            .arg("--out")
            .arg(out.path())
            .arg("--force"),
    );
    let logs = String::from_utf8_lossy(&json.stderr);
    assert!(logs.lines().count() > 3, "{logs}");
    for line in logs.lines() {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(v["level"].is_string() && v["fields"].is_object(), "{line}");
    }
}

#[test]
fn explain_tells_why_each_kind_of_receipt_went_where_it_went() {
    use arrow::array::{Array, AsArray};
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("hold0.toml");
    std::fs::write(&config, "[apportion]\nhold_months = 0\n").expect("config");
    let held = dir.path().join("held");
    let apportioned = dir.path().join("apportioned");
    for (out, extra) in [(&held, None), (&apportioned, Some(&config))] {
        let mut cmd = bin();
        cmd.args(["run", "--input"])
            .arg(root().join("fixtures/sample"))
            .arg("--out")
            .arg(out);
        if let Some(c) = extra {
            cmd.arg("--config").arg(c);
        }
        run_ok(&mut cmd);
    }
    // One receipt key per status, from receipts.parquet.
    let keys = |run: &Path| -> BTreeMap<String, String> {
        let file = std::fs::File::open(run.join("receipts.parquet")).expect("receipts");
        let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
            .expect("parquet")
            .build()
            .expect("reader");
        let mut out = BTreeMap::new();
        for batch in reader {
            let batch = batch.expect("batch");
            let col = |n: &str| batch.column_by_name(n).expect("column").clone();
            let (org, clinic, month, number, status) = (
                col("organization"),
                col("clinic_code"),
                col("billing_month"),
                col("receipt_number"),
                col("status"),
            );
            let org = org.as_primitive::<arrow::datatypes::UInt8Type>();
            let number = number.as_primitive::<arrow::datatypes::UInt32Type>();
            for i in 0..batch.num_rows() {
                if org.is_null(i) {
                    continue;
                }
                out.entry(status.as_string::<i32>().value(i).to_string())
                    .or_insert(format!(
                        "{}:{}:{}@{}",
                        clinic.as_string::<i32>().value(i),
                        month.as_string::<i32>().value(i),
                        number.value(i),
                        org.value(i)
                    ));
            }
        }
        out
    };
    let explain = |run: &Path, key: &str, pii: bool| {
        let mut cmd = bin();
        cmd.args(["explain", "--run"]).arg(run).arg(key);
        if pii {
            cmd.arg("--show-pii");
        }
        String::from_utf8_lossy(&run_ok(&mut cmd).stdout).into_owned()
    };
    let held_keys = keys(&held);
    let expected: [(&str, &Path, &[&str]); 5] = [
        (
            "verified",
            &held,
            &["tier            1", "resolved to     "],
        ),
        ("rerouted", &held, &["tier            2", "period"]),
        (
            "matched",
            &held,
            &["tier            3", "candidate 1", "birth_date"],
        ),
        (
            "pending",
            &held,
            &["open since      2026-06", "declaration"],
        ),
        ("apportioned", &apportioned, &["apportioned: ", "share "]),
    ];
    for (status, run, needles) in expected {
        let key = if status == "apportioned" {
            keys(run)[status].clone()
        } else {
            held_keys[status].clone()
        };
        let text = explain(run, &key, false);
        assert!(
            text.contains(&format!("status          {status}")),
            "{status}:\n{text}"
        );
        for n in needles {
            assert!(text.contains(n), "{status}: no {n:?} in\n{text}");
        }
        assert!(text.contains("copay check") && text.contains("insurer share"));
    }
    // Person ids are masked unless asked for.
    let matched = explain(&held, &held_keys["matched"], false);
    let shown = explain(&held, &held_keys["matched"], true);
    assert!(matched.contains("person          ••••"), "{matched}");
    assert!(!shown.contains("••••"), "{shown}");
    // A key that is not one is a clear error.
    let bad = bin()
        .args(["explain", "--run"])
        .arg(&held)
        .arg("nonsense")
        .output()
        .expect("run");
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("CLINIC:YYYY-MM:NUMBER"));
}

/// Cards (insurer, 記号, 番号) the sample roster gives to more than one person.
fn family_cards() -> std::collections::BTreeSet<(String, String, String)> {
    use arrow::array::AsArray;
    let file = std::fs::File::open(root().join("fixtures/sample/roster.parquet")).expect("roster");
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .expect("parquet")
        .build()
        .expect("reader");
    let mut persons: BTreeMap<(String, String, String), std::collections::BTreeSet<String>> =
        BTreeMap::new();
    for batch in reader {
        let batch = batch.expect("batch");
        let text = |n: &str| {
            let col = batch.column_by_name(n).expect("column");
            arrow::compute::cast(col, &arrow::datatypes::DataType::Utf8).expect("text")
        };
        let (ins, sym, num, pid) = (
            text("insurer_number"),
            text("symbol"),
            text("number"),
            text("person_id"),
        );
        for i in 0..batch.num_rows() {
            let v = |a: &arrow::array::ArrayRef| a.as_string::<i32>().value(i).to_string();
            persons
                .entry((v(&ins), v(&sym), v(&num)))
                .or_default()
                .insert(v(&pid));
        }
    }
    persons
        .into_iter()
        .filter(|(_, p)| p.len() > 1)
        .map(|(card, _)| card)
        .collect()
}

#[test]
fn explain_shows_a_family_card_without_branch_going_to_review() {
    // A sample receipt filed on a family card, its SN (枝番) removed and its birth date
    // matching no one on the card: a person must decide which family member it is.
    let input = sample_copy();
    let families = family_cards();
    assert!(!families.is_empty(), "the sample roster has family cards");
    let mut edited: Option<String> = None;
    let mut files = vec![input.path().join("uke")];
    while let Some(dir) = files.pop() {
        for entry in std::fs::read_dir(&dir).expect("list") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                files.push(path);
                continue;
            }
            if edited.is_some() {
                continue;
            }
            let bytes = std::fs::read(&path).expect("read");
            let (text, _, bad) = encoding_rs::SHIFT_JIS.decode(&bytes);
            if bad {
                continue; // a deliberately broken file
            }
            let lines: Vec<&str> = text.split("\r\n").collect();
            // A file with Western dates (era-dated files write dates otherwise).
            let Some(ir) = lines.first().filter(|l| {
                l.starts_with("IR,") && l.split(',').nth(7).is_some_and(|m| m.len() == 6)
            }) else {
                continue;
            };
            // Find RE, HO on a family card, SN with a 枝番.
            let target = (0..lines.len()).find(|&i| {
                let ho: Vec<&str> = lines
                    .get(i + 1)
                    .map(|l| l.split(',').collect())
                    .unwrap_or_default();
                lines[i].starts_with("RE,")
                    && ho.first() == Some(&"HO")
                    && families.contains(&(
                        ho[1].trim().to_string(),
                        ho[2].to_string(),
                        ho[3].to_string(),
                    ))
                    && lines.get(i + 2).is_some_and(|l| l.starts_with("SN,"))
            });
            let Some(re) = target else { continue };
            let mut fields: Vec<String> = lines[re].split(',').map(str::to_string).collect();
            fields[6] = "19000101".into();
            let ir: Vec<&str> = ir.split(',').collect();
            let key = format!(
                "{}:{}-{}:{}@{}",
                ir[4],
                &ir[7][..4],
                &ir[7][4..6],
                fields[1],
                ir[1]
            );
            let mut out: Vec<String> = Vec::new();
            for (i, l) in lines.iter().enumerate() {
                if i == re {
                    out.push(fields.join(","));
                } else if i != re + 2 {
                    out.push(l.to_string());
                }
            }
            let joined = out.join("\r\n");
            let (bytes, _, bad) = encoding_rs::SHIFT_JIS.encode(&joined);
            assert!(!bad);
            std::fs::write(&path, bytes).expect("write");
            edited = Some(key);
        }
    }
    let key = edited.expect("a sample receipt on a family card with 枝番");
    let out = tempfile::tempdir().expect("tempdir");
    run_ok(
        bin()
            .args(["run", "--input"])
            .arg(input.path())
            .arg("--out")
            .arg(out.path())
            .arg("--force"),
    );
    let text = String::from_utf8_lossy(
        &run_ok(bin().args(["explain", "--run"]).arg(out.path()).arg(&key)).stdout,
    )
    .into_owned();
    assert!(text.contains("status          review"), "{key}:\n{text}");
    assert!(text.contains("persons share the card"), "{text}");
    assert!(
        text.contains("open since"),
        "a review stays on the ledger:\n{text}"
    );
}
