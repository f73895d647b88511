//! Issue 17, end to end: the sample month with the hand-written files of the other
//! writers' kinds added (a DPC hospital's file holding a DPC stay and an outpatient
//! 医科 receipt, a 歯科 file opening with UK, a 調剤 file) runs, balances per kind and
//! verifies; each receipt's kind is its own, and an open DPC receipt keeps its kind on
//! the pending ledger.

mod common;
use common::{bin, run_ok, sample_copy};

use std::collections::BTreeMap;
use std::path::Path;

use arrow::array::RecordBatch;
use arrow::array::{Array, AsArray};
use arrow::datatypes::{Int64Type, UInt32Type};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

/// A hand-written golden file as a clinic sends it: Shift_JIS, CR LF, the EOF byte.
fn place(input: &Path, golden: &str, to: &str) {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data")
            .join(golden),
    )
    .expect("golden")
    .replace('\n', "\r\n");
    let (bytes, _, unmappable) = encoding_rs::SHIFT_JIS.encode(&text);
    assert!(!unmappable, "{golden}");
    let mut bytes = bytes.into_owned();
    bytes.push(0x1A);
    let path = input.join(to);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, bytes).expect("write");
}

/// (file, receipt number) → (receipt_kind, status, cost_yen, insurer_share_yen) of
/// receipts.parquet's accepted rows.
type Rows = BTreeMap<(String, u32), (String, String, i64, i64)>;

/// The record batches of a Parquet output.
fn batches(path: &Path) -> Vec<RecordBatch> {
    let file = std::fs::File::open(path).expect("open");
    ParquetRecordBatchReaderBuilder::try_new(file)
        .expect("parquet")
        .build()
        .expect("reader")
        .map(|b| b.expect("batch"))
        .collect()
}

fn receipt_rows(path: &Path) -> Rows {
    let mut out = BTreeMap::new();
    for b in batches(path) {
        let text = |c: &str| b.column_by_name(c).expect(c).as_string::<i32>().clone();
        let (files, kinds, statuses) = (text("file"), text("receipt_kind"), text("status"));
        let number = b.column_by_name("receipt_number").expect("number");
        let number = number.as_primitive::<UInt32Type>();
        let yen = |c: &str| {
            b.column_by_name(c)
                .expect(c)
                .as_primitive::<Int64Type>()
                .clone()
        };
        let (cost, share) = (yen("cost_yen"), yen("insurer_share_yen"));
        for i in 0..b.num_rows() {
            if statuses.value(i) == "quarantined" {
                continue;
            }
            out.insert(
                (files.value(i).to_string(), number.value(i)),
                (
                    kinds.value(i).to_string(),
                    statuses.value(i).to_string(),
                    cost.value(i),
                    share.value(i),
                ),
            );
        }
    }
    out
}

const DPC_FILE: &str = "uke/1/2712345/RECEIPTC.UKE";

#[test]
fn a_month_with_every_writers_kind_runs_balanced_per_kind_and_each_receipt_keeps_its_kind() {
    let input = sample_copy();
    place(input.path(), "hand_written_dpc.uke.txt", DPC_FILE);
    place(
        input.path(),
        "hand_written_shika.uke.txt",
        "uke/1/1312345/RECEIPTS.UKE",
    );
    place(
        input.path(),
        "hand_written_chozai.uke.txt",
        "uke/1/1398765/nested/RECEIPTY.CYO",
    );
    let out = tempfile::tempdir().expect("tempdir");
    run_ok(
        bin()
            .args(["run", "--quiet", "--input"])
            .arg(input.path())
            .arg("--out")
            .arg(out.path()),
    );
    let verify = run_ok(bin().args(["verify", "--run"]).arg(out.path()));
    assert!(
        String::from_utf8_lossy(&verify.stdout).contains("every account balances"),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("manifest.json")).expect("manifest"))
            .expect("json");
    assert_eq!(manifest["conservation"]["balanced"], true);
    let q = std::fs::read_to_string(out.path().join("quarantine.csv")).expect("quarantine");
    for f in [
        DPC_FILE,
        "uke/1/1312345/RECEIPTS.UKE",
        "uke/1/1398765/nested/RECEIPTY.CYO",
    ] {
        assert!(
            !q.lines()
                .any(|l| l.starts_with(f) && !l.contains(",notice,")),
            "{f} reads without a record error:\n{q}"
        );
    }

    let rows = receipt_rows(&out.path().join("receipts.parquet"));
    let kind = |file: &str, n: u32| {
        rows.get(&(file.to_string(), n))
            .unwrap_or_else(|| panic!("{file} receipt {n} in receipts.parquet"))
            .clone()
    };
    // The stay carries BU, SB, CD: DPC; the same hospital's outpatient receipt: 医科.
    let stay = kind(DPC_FILE, 1);
    assert_eq!((stay.0.as_str(), stay.2), ("dpc", 482_100));
    assert_eq!(kind(DPC_FILE, 2).0, "ika");
    assert_eq!(kind("uke/1/1312345/RECEIPTS.UKE", 1).0, "shika");
    assert_eq!(kind("uke/1/1398765/nested/RECEIPTY.CYO", 1).0, "chozai");

    // The manifest's kinds are the rows' kinds: the DPC file counts once as a DPC
    // file, its receipts once each under their own kind.
    let by_kind = &manifest["uke"]["by_kind"];
    let mut rows_of_kind: BTreeMap<&str, u64> = BTreeMap::new();
    for (k, ..) in rows.values() {
        *rows_of_kind.entry(k.as_str()).or_default() += 1;
    }
    for k in ["ika", "dpc", "shika", "chozai"] {
        assert_eq!(
            by_kind[k]["receipts_accepted"].as_u64(),
            Some(rows_of_kind[k]),
            "{k}: {by_kind}"
        );
    }
    // Statements owe each kind what its routed receipts' shares add up to.
    let owed = &manifest["conservation"]["insurer_share"]["owed_by_kind"];
    let routed_dpc: i64 = rows
        .values()
        .filter(|(k, s, ..)| {
            k == "dpc" && ["verified", "rerouted", "matched"].contains(&s.as_str())
        })
        .map(|r| r.3)
        .sum();
    assert_eq!(owed["dpc"].as_i64().unwrap_or(0), routed_dpc, "{owed}");

    // An open DPC receipt is on the ledger as DPC (its text has no DPC record left).
    let mut ledger_kinds = BTreeMap::new();
    for b in batches(&out.path().join("pending.parquet")) {
        let clinic = b
            .column_by_name("clinic_code")
            .expect("clinic")
            .as_string::<i32>()
            .clone();
        let number = b.column_by_name("receipt_number").expect("number");
        let number = number.as_primitive::<UInt32Type>().clone();
        let kind = b
            .column_by_name("receipt_kind")
            .expect("receipt_kind")
            .as_string::<i32>()
            .clone();
        for i in 0..b.num_rows() {
            assert!(kind.is_valid(i), "every ledger row has its kind");
            ledger_kinds.insert(
                (clinic.value(i).to_string(), number.value(i)),
                kind.value(i).to_string(),
            );
        }
    }
    // Its card is on no roster of the sample: it stays open.
    assert_eq!(stay.1, "no_match");
    assert_eq!(
        ledger_kinds
            .get(&("2712345".to_string(), 1))
            .map(String::as_str),
        Some("dpc"),
        "{ledger_kinds:?}"
    );
}
