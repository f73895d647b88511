//! Issue 16, items 10–12, end to end through the CLI: the pending ledger carries
//! whatever the reader accepted (Windows-31J characters, commas and quotes in CO text)
//! and no message quotes a patient; `purge` is staged, blanks birth dates too, and its
//! ledger is refused by a run of its own month but still carried into the next; the
//! manifest hashes every output and `verify` checks them all in plain words.

mod common;
#[path = "../fuzz/src/ledger_roundtrip.rs"]
mod ledger_roundtrip;
use common::{bin, copy_dir, edit_column, edit_i64_column, root, run_ok, sample};

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use encoding_rs::SHIFT_JIS;
use reseclear::config::IngestConfig;
use reseclear::domain::YearMonth;
use reseclear::generate::{generate, GenerateOptions};
use reseclear::ingest::uke::ReceiptKind;
use reseclear::pending::read_ledger;

fn run(input: &Path, out: &Path, pending: Option<&Path>) -> Output {
    let mut cmd = bin();
    cmd.args(["run", "--quiet", "--input"])
        .arg(input)
        .arg("--out")
        .arg(out);
    if let Some(p) = pending {
        cmd.arg("--pending").arg(p);
    }
    cmd.output().expect("run reseclear")
}

fn manifest(out: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).expect("manifest"))
        .expect("manifest JSON")
}

/// A generated month of July 2026, to carry the sample's (June's) ledger into.
fn july(dir: &Path) {
    generate(&GenerateOptions {
        persons: 600,
        receipts: 200,
        seed: 3,
        tier2: 0.15,
        tier3: 0.2,
        out: dir.to_path_buf(),
        roster_csv: false,
        broken_files: false,
        billing_month: YearMonth::parse_iso("2026-07").expect("month"),
        force: false,
        kinds: ReceiptKind::ALL.to_vec(),
    })
    .expect("generate");
}

fn find_file(dir: &Path, clinic: &str) -> Option<PathBuf> {
    for entry in std::fs::read_dir(dir).ok()? {
        let path = entry.ok()?.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == clinic) {
                // The clinic's one receipt file, whatever its kind names it.
                let f = std::fs::read_dir(&path)
                    .ok()?
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .find(|p| p.is_file());
                if f.is_some() {
                    return f;
                }
            }
            if let Some(f) = find_file(&path, clinic) {
                return Some(f);
            }
        }
    }
    None
}

const NAME: &str = "髙橋①㈱";
const PHONE: &str = "03-9876-5432";
const CO_TEXT: &str = "電話03-9876-5432,住所\"港区芝5-5\",㈱髙崎①";

/// The sample month with one open receipt renamed with Windows-31J characters and
/// given a free-text comment with commas, quotes and a phone number; returns the input
/// directory and the receipt's key as text.
fn sample_with_cp932_receipt(dir: &Path) -> (PathBuf, String) {
    let first = dir.join("plain");
    run_ok(
        bin()
            .args(["run", "--quiet", "--input"])
            .arg(sample())
            .arg("--out")
            .arg(&first),
    );
    let ledger = read_ledger(
        &first.join("pending.parquet"),
        "pending.parquet",
        &IngestConfig::default(),
    )
    .expect("ledger");
    let entry = ledger
        .entries
        .first()
        .expect("the sample leaves receipts open");
    let input = dir.join("in");
    copy_dir(&sample(), &input);
    let org = input
        .join("uke")
        .join(entry.key.organization.code().to_string());
    let file = find_file(&org, entry.key.clinic_code.as_str()).expect("its file");
    let bytes = std::fs::read(&file).expect("read");
    let (text, _, bad) = SHIFT_JIS.decode(&bytes);
    assert!(!bad);
    let mut lines: Vec<String> = text.split("\r\n").map(str::to_string).collect();
    let number = entry.key.receipt_number.to_string();
    let at = lines
        .iter()
        .position(|l| {
            let f: Vec<&str> = l.split(',').collect();
            f.first() == Some(&"RE") && f.get(1) == Some(&number.as_str())
        })
        .expect("the receipt's RE");
    let mut re: Vec<String> = lines[at].split(',').map(str::to_string).collect();
    re[4] = NAME.to_string();
    lines[at] = re.join(",");
    let end = (at + 1..lines.len())
        // 歯科 files open each receipt with its own IR.
        .find(|&i| {
            ["RE,", "GO,", "IR,"]
                .iter()
                .any(|id| lines[i].starts_with(id))
        })
        .expect("the receipt's end");
    lines.insert(end, format!("CO,11,1,810000001,{CO_TEXT}"));
    let joined = lines.join("\r\n");
    let (encoded, _, bad) = SHIFT_JIS.encode(&joined);
    assert!(!bad);
    std::fs::write(&file, &encoded).expect("write");
    (input, entry.key.to_string())
}

#[test]
fn windows_31j_characters_and_commas_in_an_open_receipt_are_carried_and_never_quoted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (input, key) = sample_with_cp932_receipt(dir.path());
    let out = dir.path().join("out");
    let done = run(&input, &out, None);
    let stderr = String::from_utf8_lossy(&done.stderr);
    for secret in [NAME, "髙橋", PHONE] {
        assert!(
            !stderr.contains(secret),
            "a message quotes the patient: {stderr}"
        );
    }
    assert!(done.status.success(), "the run fails: {stderr}");
    let quarantine = std::fs::read_to_string(out.join("quarantine.csv")).expect("quarantine");
    for secret in [NAME, "髙橋", PHONE] {
        assert!(!quarantine.contains(secret), "{quarantine}");
    }

    // The ledger holds the receipt as it was read, and reads it back whole.
    let ledger = read_ledger(
        &out.join("pending.parquet"),
        "pending.parquet",
        &IngestConfig::default(),
    )
    .expect("ledger");
    assert!(
        ledger.file.quarantined.is_empty(),
        "{:?}",
        ledger.file.quarantine
    );
    let entry = ledger
        .entries
        .iter()
        .find(|e| e.key.to_string() == key)
        .expect("the receipt is on the ledger");
    assert!(entry.uke.contains(&format!(",{NAME},")), "{}", entry.uke);
    assert!(
        entry
            .uke
            .contains(&format!("CO,11,1,810000001,{CO_TEXT}\r\n")),
        "{}",
        entry.uke
    );
    let receipt = ledger
        .file
        .receipts
        .iter()
        .find(|r| r.key.to_string() == key)
        .expect("read back");
    assert_eq!(receipt.name.as_str(), NAME);
    assert!(receipt.comments.iter().any(|c| c.text.as_str() == CO_TEXT));

    // Carried into July, nothing of it is quarantined.
    let next_input = dir.path().join("july");
    july(&next_input);
    let next = dir.path().join("out-july");
    run_ok(
        bin()
            .args(["run", "--quiet", "--input"])
            .arg(&next_input)
            .arg("--out")
            .arg(&next)
            .arg("--pending")
            .arg(out.join("pending.parquet")),
    );
    let m = manifest(&next);
    assert_eq!(
        m["pending"]["carried_in_quarantined"], 0,
        "{}",
        m["pending"]
    );
    assert_eq!(m["pending"]["carried_in"], ledger.rows_read);
}

/// The sample month (June) and July run with its ledger; returns (june, july input).
fn june_and_july(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let (june, july_in, july_out) = (dir.join("m1"), dir.join("in2"), dir.join("m2"));
    assert!(run(&sample(), &june, None).status.success());
    july(&july_in);
    run_ok(
        bin()
            .args(["run", "--quiet", "--input"])
            .arg(&july_in)
            .arg("--out")
            .arg(&july_out)
            .arg("--pending")
            .arg(june.join("pending.parquet")),
    );
    (june, july_in, july_out)
}

fn purge(run: &Path, next: &Path) -> Output {
    bin()
        .args(["purge", "--run"])
        .arg(run)
        .arg("--superseded-by")
        .arg(next)
        .output()
        .expect("purge")
}

#[test]
fn a_purge_that_fails_half_way_leaves_the_run_as_it_was() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (june, _, july_out) = june_and_july(dir.path());
    // The page cannot be drawn again: the purge fails after purging the ledger.
    std::fs::write(june.join("match_report.parquet"), b"not parquet").expect("damage");
    let before: Vec<(String, Vec<u8>)> = std::fs::read_dir(&june)
        .expect("list")
        .map(|e| {
            let p = e.expect("entry").path();
            (
                p.file_name().expect("name").to_string_lossy().into_owned(),
                std::fs::read(&p).expect("read"),
            )
        })
        .collect();
    let failed = purge(&june, &july_out);
    assert!(!failed.status.success());
    let err = String::from_utf8_lossy(&failed.stderr);
    assert!(err.contains("match_report.parquet"), "{err}");
    for (name, bytes) in &before {
        assert_eq!(
            &std::fs::read(june.join(name)).expect("read"),
            bytes,
            "{name} changed by a purge that failed"
        );
    }
    assert!(!june.join("purge_log.csv").exists());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .expect("list")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// A manifest rewritten by hand (the same fields, other whitespace): the purge cannot
/// add its record to the text as the run wrote it, so it refuses and purges nothing,
/// rather than write a manifest with two `outputs`. A manifest as the run wrote it is
/// purged, and reads back as before with the tail replaced.
#[test]
fn a_purge_refuses_a_manifest_not_as_a_run_writes_it_and_splices_one_that_is() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (june, _, july_out) = june_and_july(dir.path());
    let compact = dir.path().join("compact");
    copy_dir(&june, &compact);
    let text = serde_json::to_string(&manifest(&june)).expect("json");
    std::fs::write(compact.join("manifest.json"), &text).expect("write");
    let ledger = std::fs::read(compact.join("pending.parquet")).expect("ledger");
    let refused = purge(&compact, &july_out);
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        err.contains("manifest.json") && err.contains("nothing was purged"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(compact.join("manifest.json")).expect("read"),
        text
    );
    assert_eq!(
        std::fs::read(compact.join("pending.parquet")).expect("read"),
        ledger
    );

    let before = manifest(&june);
    assert!(purge(&june, &july_out).status.success());
    let after = manifest(&june);
    let mut fields = after.as_object().expect("object").clone();
    let old = before.as_object().expect("object");
    for key in ["outputs", "purges"] {
        fields.remove(key);
    }
    let mut kept = old.clone();
    for key in ["outputs", "purges"] {
        kept.remove(key);
    }
    assert_eq!(fields, kept, "every field but the tail as the run wrote it");
    assert_eq!(after["purges"].as_array().map(Vec::len), Some(1), "{after}");
}

#[test]
fn a_purged_ledger_is_refused_by_its_own_month_and_carried_whole_into_the_next() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (june, july_in, july_out) = june_and_july(dir.path());
    let rows = read_ledger(
        &june.join("pending.parquet"),
        "pending.parquet",
        &IngestConfig::default(),
    )
    .expect("ledger")
    .rows_read;
    let done = purge(&june, &july_out);
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    let ledger = june.join("pending.parquet");

    // Birth dates go too: the form's, and the receipt's day and month.
    let read = read_ledger(&ledger, "pending.parquet", &IngestConfig::default()).expect("ledger");
    assert!(
        read.file.quarantined.is_empty(),
        "{:?}",
        read.file.quarantine
    );
    assert!(read
        .entries
        .iter()
        .all(|e| e
            .declaration
            .as_ref()
            .is_none_or(|d| d.birth_date.is_none() && d.name.is_none() && d.phone.is_none())));
    for e in &read.entries {
        let re = e
            .uke
            .split("\r\n")
            .find(|l| l.starts_with("RE,"))
            .expect("RE");
        let f: Vec<&str> = re.split(',').collect();
        assert_eq!(f[4], reseclear::tools::purge::PURGED_NAME, "{re}");
        assert!(f[6].ends_with("0101"), "{re}");
        // カタカナ氏名 where the text's kind puts it (its header's layout).
        let kana = e
            .uke
            .get(..2)
            .and_then(ReceiptKind::of_header)
            .and_then(|k| k.layout().re.kana)
            .map_or(usize::MAX, |f| f.pos - 1);
        assert_eq!(f.get(kana).copied().unwrap_or_default(), "", "{re}");
    }

    // June again, with the purged June ledger: refused.
    let again = run(&sample(), &dir.path().join("again"), Some(&ledger));
    assert_eq!(again.status.code(), Some(2));
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(
        err.contains("pending.parquet") && err.contains("2026-06 run"),
        "{err}"
    );

    // Into July: every claim is retried, none quarantined.
    let out = dir.path().join("m2-again");
    let carried = run(&july_in, &out, Some(&ledger));
    assert!(
        carried.status.success(),
        "{}",
        String::from_utf8_lossy(&carried.stderr)
    );
    let m = manifest(&out);
    assert_eq!(m["pending"]["carried_in"], rows);
    assert_eq!(
        m["pending"]["carried_in_quarantined"], 0,
        "{}",
        m["pending"]
    );

    // The purge left a run that verifies, its new hashes in the manifest.
    let v = bin()
        .args(["verify", "--run"])
        .arg(&june)
        .output()
        .expect("verify");
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stdout));
    let m = manifest(&june);
    let purges = m["purges"].as_array().expect("purges");
    assert_eq!(purges.len(), 1);
    assert!(purges[0]["files"]
        .as_array()
        .expect("files")
        .iter()
        .any(|f| f["file"] == "pending.parquet"));
}

fn verify(run: &Path) -> (bool, String) {
    let v = bin()
        .args(["verify", "--run"])
        .arg(run)
        .output()
        .expect("verify");
    (
        v.status.success(),
        String::from_utf8_lossy(&v.stdout).into_owned(),
    )
}

#[test]
fn the_manifest_hashes_every_output_and_verify_checks_them_in_words() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    assert!(run(&sample(), &out, None).status.success());
    let m = manifest(&out);
    let listed: Vec<(String, String)> = m["outputs"]
        .as_array()
        .expect("outputs")
        .iter()
        .map(|o| {
            (
                o["path"].as_str().expect("path").to_string(),
                o["sha256"].as_str().expect("sha256").to_string(),
            )
        })
        .collect();
    let mut present: Vec<String> = std::fs::read_dir(&out)
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n != "manifest.json" && n != "timings.json")
        .collect();
    present.sort();
    let names: Vec<String> = listed.iter().map(|(n, _)| n.clone()).collect();
    assert_eq!(names, present);
    for (name, sha) in &listed {
        let bytes = std::fs::read(out.join(name)).expect("read");
        assert_eq!(&reseclear::manifest::sha256_bytes(&bytes), sha, "{name}");
    }
    let (ok, text) = verify(&out);
    assert!(ok, "{text}");
    assert!(
        !text.contains('{') && !text.contains("Some("),
        "debug output: {text}"
    );

    // A changed page fails the hash check, naming the file.
    let page = dir.path().join("page");
    copy_dir(&out, &page);
    let mut html = std::fs::read(page.join("report.html")).expect("page");
    html.extend_from_slice(b"<!-- edited -->");
    std::fs::write(page.join("report.html"), html).expect("write");
    let (ok, text) = verify(&page);
    assert!(!ok, "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("FAIL") && l.contains("report.html")),
        "{text}"
    );

    // A file the run did not write is named too.
    std::fs::remove_file(page.join("report.html")).expect("remove");
    std::fs::copy(out.join("report.html"), page.join("report.html")).expect("copy");
    std::fs::write(page.join("extra.csv"), b"a,b\n").expect("write");
    let (ok, text) = verify(&page);
    assert!(!ok, "{text}");
    assert!(
        text.lines().any(|l| l.starts_with("FAIL")
            && l.contains("extra.csv is not listed")
            && !l.contains("report.html")),
        "{text}"
    );

    // A statements.parquet that owes one yen more: both the hash and the figures.
    let stmt = dir.path().join("stmt");
    copy_dir(&out, &stmt);
    let insurer = bump_owed(&stmt.join("statements.parquet"));
    let (ok, text) = verify(&stmt);
    assert!(!ok, "{text}");
    let line = text
        .lines()
        .find(|l| l.starts_with("FAIL") && l.contains("statements.csv = statements.parquet"))
        .unwrap_or_else(|| panic!("no statements.parquet check failed: {text}"));
    assert!(
        line.contains(&insurer) && line.contains("statements.parquet has"),
        "{line}"
    );
    assert!(!text.contains('{'), "debug output: {text}");

    // A receipt whose patient pays ten yen more than its copay leaves: the split of
    // its cost no longer adds up, and the manifest's patients' yen differ.
    let split = dir.path().join("split");
    copy_dir(&out, &split);
    edit_i64_column(&split.join("receipts.parquet"), "patient_yen", |i, v| {
        v + if i == 0 { 10 } else { 0 }
    });
    let (ok, text) = verify(&split);
    assert!(!ok, "{text}");
    assert!(
        text.lines().any(|l| l.starts_with("FAIL")
            && l.contains("cost = insurer + public expense + patient")
            && l.contains("1 rows of receipts.parquet do not add up")),
        "{text}"
    );
    // And a statement owing a kind what it does not owe.
    let kinds = dir.path().join("kinds");
    copy_dir(&out, &kinds);
    edit_i64_column(
        &kinds.join("statements.parquet"),
        "owed_shika_yen",
        |i, v| v + i64::from(i == 0),
    );
    let (ok, text) = verify(&kinds);
    assert!(!ok, "{text}");
    assert!(
        text.lines().any(|l| l.starts_with("FAIL")
            && l.contains("statements by kind = receipts by kind")
            && l.contains("1 rows of statements.parquet whose owed ≠ Σ owed by kind")),
        "{text}"
    );
}

/// Adds one yen to `owed_yen` of the first insurer owing something; returns its number.
fn bump_owed(path: &Path) -> String {
    use arrow::array::AsArray;
    use arrow::datatypes::Int64Type;
    let file = std::fs::File::open(path).expect("open");
    let batch = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .expect("parquet")
        .build()
        .expect("reader")
        .next()
        .expect("a batch")
        .expect("batch");
    let owed = batch
        .column_by_name("owed_yen")
        .expect("owed_yen")
        .as_primitive::<Int64Type>();
    let row = (0..owed.len())
        .find(|&i| owed.value(i) != 0)
        .expect("an insurer owing");
    let insurer = batch
        .column_by_name("insurer_number")
        .expect("insurer_number")
        .as_string::<i32>()
        .value(row)
        .to_string();
    edit_i64_column(path, "owed_yen", |i, v| v + i64::from(i == row));
    insurer
}

/// The fuzz target `ledger_roundtrip` on its seeds (`fuzz/seeds/ledger_roundtrip`, the
/// one with Windows-31J characters, user-defined-area characters, commas and quotes
/// in a CO text among them): every receipt the reader accepts is written to the ledger
/// and read back as it was.
#[test]
fn every_receipt_the_reader_accepts_round_trips_through_the_ledger() {
    let seeds = root().join("fuzz/seeds/ledger_roundtrip");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut receipts = 0;
    let mut cp932 = false;
    let mut dpc = false;
    let seeds: Vec<_> = std::fs::read_dir(&seeds)
        .expect("seeds")
        .map(|seed| seed.expect("seed").path())
        .collect();
    // Every seed, and no fewer: a directory renamed or emptied fails.
    assert_eq!(seeds.len(), 6, "{seeds:?}");
    for seed in seeds {
        let data = std::fs::read(&seed).expect("read");
        let entries = ledger_roundtrip::check(&data, &dir.path().join("pending.parquet"));
        assert!(!entries.is_empty(), "{}: no receipt", seed.display());
        cp932 |= entries
            .iter()
            .any(|e| e.uke.contains('髙') && e.uke.contains('\u{E757}'));
        // The DPC seed's stay is carried as DPC, its text holding no DPC record.
        dpc |= entries
            .iter()
            .any(|e| e.kind == Some(ReceiptKind::Dpc) && !e.uke.contains("\r\nBU,"));
        receipts += entries.len();
    }
    assert!(receipts >= 4, "{receipts}");
    assert!(cp932, "the Windows-31J seed was read");
    assert!(dpc, "the DPC seed was read");
}

/// Issue 16, item 5, on outputs edited after their run: amounts near `i64::MAX` in
/// receipts.parquet or apportionment.parquet are findings or clear errors of `verify`,
/// `apportion`, `compare` and `report`, never an overflow (a panic, with overflow
/// checks on) nor a wrapped sum.
#[test]
fn amounts_near_i64_max_in_edited_outputs_are_errors_not_overflows() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("run");
    // No hold, so that the sample's open receipts are apportioned.
    let hold0 = dir.path().join("hold0.toml");
    std::fs::write(&hold0, "[apportion]\nhold_months = 0\n").expect("config");
    run_ok(
        bin()
            .args(["run", "--quiet", "--input"])
            .arg(sample())
            .arg("--out")
            .arg(&out)
            .arg("--config")
            .arg(&hold0),
    );
    let huge = dir.path().join("huge");
    copy_dir(&out, &huge);
    // The first two receipts not quarantined (apportion skips quarantined rows).
    let statuses = string_column(&huge.join("receipts.parquet"), "status");
    let edited: Vec<usize> = (0..statuses.len())
        .filter(|&i| statuses[i] != "quarantined")
        .take(2)
        .collect();
    assert_eq!(edited.len(), 2, "{statuses:?}");
    for column in ["cost_yen", "insurer_share_yen"] {
        edit_i64_column(&huge.join("receipts.parquet"), column, |i, v| {
            if edited.contains(&i) {
                i64::MAX - 1
            } else {
                v
            }
        });
    }
    let first = format!("row {}: ", edited[0] + 1);
    edit_i64_column(&huge.join("apportionment.parquet"), "amount_yen", |i, v| {
        if i < 2 {
            i64::MAX - 1
        } else {
            v
        }
    });
    let stderr = refused(bin().args(["verify", "--run"]).arg(&huge), "verify");
    assert!(
        stderr.contains("receipts.parquet")
            && stderr.contains(&format!(
                "{first}cost_yen is 9223372036854775806, expected 0 to 999999990 yen"
            )),
        "{stderr}"
    );
    let again = dir.path().join("again");
    let apportion = ["apportion", "--quiet", "--run"];
    let stderr = refused(
        bin().args(apportion).arg(&huge).arg("--out").arg(again),
        "apportion",
    );
    assert!(
        stderr.contains("receipts.parquet")
            && stderr.contains(&format!("{first}insurer_share_yen is 9223372036854775806")),
        "{stderr}"
    );
    let stderr = refused(bin().arg("compare").arg(&out).arg(&huge), "compare");
    assert!(
        stderr.contains("apportionment.parquet") && stderr.contains("amount_yen"),
        "{stderr}"
    );
    let html = dir.path().join("report.html");
    let stderr = refused(
        bin()
            .args(["report", "--run"])
            .arg(&huge)
            .arg("--out")
            .arg(html),
        "report",
    );
    assert!(stderr.contains("9223372036854775806"), "{stderr}");
}

/// The stderr of `command`, which must refuse (exit non-zero) without a panic.
fn refused(command: &mut Command, what: &str) -> String {
    let o = command.output().expect(what);
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{what}: {stderr}");
    assert!(
        !o.status.success() && o.status.code() != Some(101),
        "{what}: {}: {stderr}",
        o.status
    );
    stderr
}

/// The Utf8 column `column` of the Parquet file at `path`, nulls as "".
fn string_column(path: &Path, column: &str) -> Vec<String> {
    use arrow::array::{Array, AsArray};
    let file = std::fs::File::open(path).expect("open");
    parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .expect("parquet")
        .build()
        .expect("reader")
        .flat_map(|b| {
            let b = b.expect("batch");
            let a = b
                .column_by_name(column)
                .expect("column")
                .as_string::<i32>()
                .clone();
            (0..a.len())
                .map(|i| {
                    if a.is_null(i) {
                        String::new()
                    } else {
                        a.value(i).to_string()
                    }
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Issue 16, item 5, on an edited pending ledger: a cost beyond any receipt's, or one
/// that is not the receipt text's 合計点数 × 10, is a quarantined ledger row with its
/// reason; the next month still runs and balances.
#[test]
fn an_edited_ledger_cost_is_quarantined_with_its_reason() {
    let dir = tempfile::tempdir().expect("tempdir");
    let june = dir.path().join("june");
    run_ok(
        bin()
            .args(["run", "--quiet", "--input"])
            .arg(sample())
            .arg("--out")
            .arg(&june),
    );
    let ledger = dir.path().join("pending.parquet");
    std::fs::copy(june.join("pending.parquet"), &ledger).expect("copy");
    edit_i64_column(&ledger, "cost_yen", |i, v| match i {
        0 => i64::MAX - 1,
        1 => v + 10,
        _ => v,
    });
    let input = dir.path().join("july-in");
    july(&input);
    let out = dir.path().join("july");
    let o = run(&input, &out, Some(&ledger));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let quarantine = std::fs::read_to_string(out.join("quarantine.csv")).expect("quarantine");
    assert!(
        quarantine.contains("ledger row cannot be retried: cost_yen is 9223372036854775806, expected 0 to 999999990 yen"),
        "{quarantine}"
    );
    assert!(
        quarantine.contains("ledger row cannot be retried: cost_yen is ")
            && quarantine.contains(", but the receipt text's 合計点数 is "),
        "{quarantine}"
    );
    let m = manifest(&out);
    assert_eq!(m["conservation"]["balanced"], true, "{m}");
    assert_eq!(
        m["conservation"]["receipts"]["carried_in"],
        m["pending"]["carried_in"]
    );
}

/// A ledger row's receipt_kind must fit its text's header (a DPC receipt's text opens
/// with IR, as 医科's): a row claiming another kind, or no kind of claim at all, is a
/// quarantined receipt of the ledger with its reason, never read under the wrong kind.
#[test]
fn a_ledger_kind_that_does_not_fit_its_text_is_quarantined() {
    use arrow::array::{Array, ArrayRef, StringArray};
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("run");
    assert!(run(&sample(), &out, None).status.success());
    let ledger = out.join("pending.parquet");
    let uke = string_column(&ledger, "uke");
    assert!(uke.len() >= 3, "the sample leaves receipts open");
    let header = |i: usize| match uke[i].get(..2) {
        Some("IR") => "ika",
        Some("UK") => "shika",
        _ => "chozai",
    };
    // Row 0 claims a kind its text is not, row 1 a kind that does not exist; the rest
    // keep theirs.
    let wrong = if header(0) == "shika" {
        "chozai"
    } else {
        "shika"
    };
    edit_column(&ledger, "receipt_kind", |old| {
        let old = old.as_any().downcast_ref::<StringArray>().expect("text");
        let edited: StringArray = (0..old.len())
            .map(|i| match i {
                0 => Some(wrong.to_string()),
                1 => Some("kampo".to_string()),
                _ => Some(old.value(i).to_string()),
            })
            .collect();
        std::sync::Arc::new(edited) as ArrayRef
    });
    let read = read_ledger(&ledger, "pending.parquet", &IngestConfig::default()).expect("ledger");
    let reasons: Vec<&str> = read
        .file
        .quarantined
        .iter()
        .map(|q| q.reason.as_str())
        .collect();
    let expected = [
        format!(
            "receipt_kind is {wrong}, but the receipt text is a {} file",
            header(0)
        ),
        "receipt_kind is not ika, dpc, shika or chozai".to_string(),
    ];
    assert_eq!(reasons, expected);
    assert_eq!(
        read.entries.len() + read.file.quarantined.len(),
        uke.len(),
        "every row read or quarantined"
    );
}
