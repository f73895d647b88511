//! Issue 16 items 5 and 6, end to end: amounts that would overflow or go negative are
//! quarantined receipts, and a file with a stray GO or several clinics' files in one is
//! quarantined whole; the rest of the month runs, balances and passes `verify`.

mod common;
use common::{bin, copy_dir, sample};

use std::path::Path;
use std::process::Output;

const FILE: &str = "uke/2/4826772/RECEIPTC.UKE";
const OTHER: &str = "uke/2/1910017/RECEIPTC.UKE";

/// The file's CRLF lines, without the EOF byte 0x1A at its end.
fn lines(path: &Path) -> Vec<Vec<u8>> {
    let mut bytes = std::fs::read(path).expect("read uke");
    while bytes.last() == Some(&0x1a) {
        bytes.pop();
    }
    bytes
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l).to_vec())
        .filter(|l| !l.is_empty())
        .collect()
}

fn write_lines(path: &Path, lines: &[Vec<u8>]) {
    let mut out = Vec::new();
    for l in lines {
        out.extend_from_slice(l);
        out.extend_from_slice(b"\r\n");
    }
    std::fs::write(path, out).expect("write uke");
}

/// A copy of the sample month with `edit` applied to `FILE`'s lines.
fn month_with(edit: impl FnOnce(&Path, &mut Vec<Vec<u8>>)) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("in");
    copy_dir(&sample(), &input);
    let path = input.join(FILE);
    let mut l = lines(&path);
    edit(&input, &mut l);
    write_lines(&path, &l);
    dir
}

fn run(dir: &Path) -> Output {
    bin()
        .args(["run", "--quiet", "--input"])
        .arg(dir.join("in"))
        .arg("--out")
        .arg(dir.join("out"))
        .output()
        .expect("run reseclear")
}

fn verify(dir: &Path) -> Output {
    bin()
        .args(["verify", "--run"])
        .arg(dir.join("out"))
        .output()
        .expect("run verify")
}

/// Runs the month; asserts it succeeds, balances and verifies; returns quarantine.csv.
fn run_balanced(dir: &Path) -> String {
    let out = run(dir);
    assert!(
        out.status.success(),
        "run failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = verify(dir);
    assert!(
        v.status.success(),
        "verify failed: {}",
        String::from_utf8_lossy(&v.stdout)
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("out/manifest.json")).expect("manifest"))
            .expect("manifest json");
    let c = &manifest["conservation"];
    let n = |v: &serde_json::Value| v.as_i64().expect("a number");
    let r = &c["receipts"];
    assert_eq!(
        n(&r["receipts_in"]),
        n(&r["accepted"]) + n(&r["quarantined"]),
        "{r}"
    );
    let y = &c["yen"];
    assert_eq!(
        n(&y["yen_in"]),
        n(&y["accepted"]) + n(&y["quarantined"]),
        "{y}"
    );
    assert!(
        n(&y["yen_in"]) > 0 && n(&y["yen_in"]) < 1_000_000_000_000,
        "{y}"
    );
    QUARANTINED.with(|q| q.set(n(&r["quarantined"])));
    std::fs::read_to_string(dir.join("out/quarantine.csv")).expect("quarantine.csv")
}

thread_local! {
    /// The receipts the last `run_balanced` quarantined.
    static QUARANTINED: std::cell::Cell<i64> = const { std::cell::Cell::new(0) };
}

/// The RE records of the (edited) FILE.
fn receipts_in_file(dir: &Path) -> i64 {
    lines(&dir.join("in").join(FILE))
        .iter()
        .filter(|l| l.starts_with(b"RE,"))
        .count() as i64
}

/// `FILE`'s first receipt is quarantined for `field` (its row holding `reason`), and the
/// rest of the file is accepted: no file-scope row.
fn only_the_receipt_quarantined(q: &str, field: &str, reason: &str) {
    let rows = rows_of(q, FILE);
    assert!(
        rows.iter()
            .any(|r| r.contains(field) && r.contains(reason) && r.contains(",receipt,4826772:")),
        "{rows:#?}"
    );
    assert!(!rows.iter().any(|r| r.ends_with(",file,")), "{rows:#?}");
}

fn rows_of<'q>(q: &'q str, file: &str) -> Vec<&'q str> {
    q.lines().filter(|l| l.starts_with(file)).collect()
}

#[test]
fn a_stray_go_mid_file_quarantines_the_file_and_the_month_balances() {
    let dir = month_with(|_, l| {
        // After the first receipt (RE, HO, SN and its records) comes a GO.
        let second_re = l
            .iter()
            .enumerate()
            .skip(2)
            .find(|(_, l)| l.starts_with(b"RE,"))
            .map(|(i, _)| i)
            .expect("second RE");
        l.insert(second_re, b"GO,1,637,99".to_vec());
    });
    let q = run_balanced(dir.path());
    let rows = rows_of(&q, FILE);
    assert!(
        rows.iter().any(|r| r.contains("record after GO")
            && r.contains("split it into one IR … GO file")
            && r.ends_with(",file,")),
        "{rows:#?}"
    );
    // Reported once per file, not once per line after GO.
    assert_eq!(
        rows.iter()
            .filter(|r| r.contains("record after GO"))
            .count(),
        1,
        "{rows:#?}"
    );
    // Every receipt of the file, those after the stray GO too, is quarantined.
    let quarantined = QUARANTINED.with(|q| q.get());
    assert!(quarantined >= receipts_in_file(dir.path()), "{quarantined}");
}

#[test]
fn two_clinics_files_concatenated_are_quarantined_and_the_month_balances() {
    let dir = month_with(|input, l| {
        l.extend(lines(&input.join(OTHER)));
        // The other clinic's file is now inside FILE only.
        std::fs::remove_file(input.join(OTHER)).expect("rm other");
    });
    let q = run_balanced(dir.path());
    let rows = rows_of(&q, FILE);
    assert!(
        rows.iter()
            .any(|r| r.contains("record after GO") && r.ends_with(",file,")),
        "{rows:#?}"
    );
    let quarantined = QUARANTINED.with(|q| q.get());
    assert!(quarantined >= receipts_in_file(dir.path()), "{quarantined}");
}

/// The other clinic's file copied after this one's EOF byte: before, its receipts were
/// "bytes after EOF, ignored" — a notice, and lost from the accounts.
#[test]
fn a_file_concatenated_after_the_eof_byte_is_read_and_quarantined_with_its_receipts() {
    let dir = month_with(|_, _| {});
    let input = dir.path().join("in");
    let mut bytes = std::fs::read(input.join(FILE)).expect("read");
    bytes.push(0x1a);
    bytes.extend(std::fs::read(input.join(OTHER)).expect("read other"));
    std::fs::write(input.join(FILE), bytes).expect("write");
    std::fs::remove_file(input.join(OTHER)).expect("rm other");
    let other_receipts = lines(&sample().join(OTHER))
        .iter()
        .filter(|l| l.starts_with(b"RE,"))
        .count() as i64;
    let q = run_balanced(dir.path());
    let rows = rows_of(&q, FILE);
    assert!(
        rows.iter()
            .any(|r| r.contains("records after the EOF byte 0x1A") && r.ends_with(",notice,")),
        "{rows:#?}"
    );
    assert!(
        rows.iter()
            .any(|r| r.contains("record after GO") && r.ends_with(",file,")),
        "{rows:#?}"
    );
    // Both clinics' receipts are quarantined, none ignored.
    let quarantined = QUARANTINED.with(|q| q.get());
    let own = lines(&sample().join(FILE))
        .iter()
        .filter(|l| l.starts_with(b"RE,"))
        .count() as i64;
    assert!(quarantined >= own + other_receipts, "{quarantined}");
}

/// Sets the first HO's 合計点数 (field 6) and 負担金額 (field 12) and GO's total to
/// match, so only the bound or the copay check can quarantine the receipt.
fn first_ho(points: &'static str, copay: &'static str) -> impl FnOnce(&Path, &mut Vec<Vec<u8>>) {
    move |_, l| {
        let ho = l.iter().position(|l| l.starts_with(b"HO,")).expect("HO");
        let text = String::from_utf8(l[ho].clone()).expect("ascii HO");
        let mut f: Vec<String> = text.split(',').map(String::from).collect();
        let old: i128 = f[5].parse().expect("points");
        f[5] = points.to_string();
        while f.len() < 13 {
            f.push(String::new());
        }
        f[11] = copay.to_string();
        l[ho] = f.join(",").into_bytes();
        let go = l.iter().position(|l| l.starts_with(b"GO,")).expect("GO");
        let text = String::from_utf8(l[go].clone()).expect("ascii GO");
        let mut g: Vec<String> = text.split(',').map(String::from).collect();
        let total: i128 = g[2].parse::<i128>().expect("total") - old
            + points.parse::<i128>().expect("new points");
        g[2] = total.to_string();
        l[go] = g.join(",").into_bytes();
    }
}

#[test]
fn points_near_i64_max_are_a_quarantined_receipt_not_a_wrapped_cost() {
    // × 10 would overflow i64; today it wrapped and verify passed.
    let dir = month_with(first_ho("922337203685477580", ""));
    let q = run_balanced(dir.path());
    only_the_receipt_quarantined(&q, ",HO,HO.6 合計点数,922337203685477580,", "0 to 99999999");
}

#[test]
fn a_copay_above_the_cost_is_a_quarantined_receipt_not_a_negative_share() {
    let dir = month_with(first_ho("100", "5000"));
    let q = run_balanced(dir.path());
    only_the_receipt_quarantined(
        &q,
        ",HO,HO.12 負担金額,5000,",
        "more than the receipt's cost 1000 yen",
    );
}

#[test]
fn a_public_expense_copay_above_its_cost_is_a_quarantined_receipt() {
    // A KO after the first HO: 100 points, the patient's part under it 5000 yen.
    let dir = month_with(|_, l| {
        let ho = l.iter().position(|l| l.starts_with(b"HO,")).expect("HO");
        l.insert(ho + 1, b"KO,12130012,1234567,,1,100,5000,,,,,".to_vec());
    });
    let q = run_balanced(dir.path());
    only_the_receipt_quarantined(
        &q,
        ",KO,KO.7 負担金額,5000,",
        "more than this 公費's cost 1000 yen",
    );
}

#[test]
fn a_file_with_cr_alone_line_ends_is_quarantined_whole_with_its_receipts_counted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("in");
    copy_dir(&sample(), &input);
    let path = input.join(FILE);
    let crlf = std::fs::read(&path).expect("read");
    let receipts = lines(&path)
        .iter()
        .filter(|l| l.starts_with(b"RE,"))
        .count();
    // The sample file is Shift_JIS: replace CR LF in its bytes, not in text.
    let mut cr = Vec::new();
    let mut i = 0;
    while i < crlf.len() {
        if crlf[i..].starts_with(b"\r\n") {
            cr.push(b'\r');
            i += 2;
        } else {
            cr.push(crlf[i]);
            i += 1;
        }
    }
    std::fs::write(&path, cr).expect("write");
    let q = run_balanced(dir.path());
    let rows = rows_of(&q, FILE);
    assert!(
        rows.iter()
            .any(|r| r.contains("lines end with CR alone, without LF") && r.ends_with(",file,")),
        "{rows:#?}"
    );
    // Every receipt of the file is counted, now quarantined with the file.
    let manifest = |dir: &Path| -> serde_json::Value {
        let bytes = std::fs::read(dir.join("out/manifest.json")).expect("manifest");
        serde_json::from_slice(&bytes).expect("json")
    };
    let before = tempfile::tempdir().expect("tempdir");
    copy_dir(&sample(), &before.path().join("in"));
    run_balanced(before.path());
    let (after, before) = (manifest(dir.path()), manifest(before.path()));
    let count = |m: &serde_json::Value, k: &str| m["uke"][k].as_u64().expect(k);
    assert_eq!(
        count(&after, "receipts_read"),
        count(&before, "receipts_read")
    );
    assert_eq!(
        count(&after, "receipts_accepted") + receipts as u64,
        count(&before, "receipts_accepted")
    );
    assert_eq!(
        count(&after, "files_quarantined"),
        count(&before, "files_quarantined") + 1
    );
}

/// Issue 17 item 6: a KO's 負担金額 splits the copay between the 公費 and the patient;
/// the insurer's share stands (保険優先), and a 公費-only receipt is owed by no insurer.
#[test]
fn a_public_expense_pays_the_copay_less_the_patients_part_and_no_insurer_owes_a_public_only_receipt(
) {
    let dir = month_with(|_, l| {
        // Receipt 1: a 公費 covering all of its points, the patient's part under it 200
        // yen.
        let ho = l.iter().position(|l| l.starts_with(b"HO,")).expect("HO");
        let text = String::from_utf8(l[ho].clone()).expect("ascii HO");
        let points = text.split(',').nth(5).expect("HO 合計点数").to_string();
        l.insert(
            ho + 1,
            format!("KO,54136015,1234567,,1,{points},200,,,,,").into_bytes(),
        );
        // Receipt 2's HO becomes a KO: a 公費-only receipt of the same points.
        let second = l
            .iter()
            .enumerate()
            .filter(|(_, l)| l.starts_with(b"HO,"))
            .nth(1)
            .map(|(i, _)| i)
            .expect("a second HO");
        let text = String::from_utf8(l[second].clone()).expect("ascii HO");
        let points = text.split(',').nth(5).expect("HO 合計点数").to_string();
        l[second] = format!("KO,12130012,7654321,,1,{points},,,,,,").into_bytes();
    });
    run_balanced(dir.path());
    let explain = |number: u32| {
        let out = bin()
            .args(["explain", "--run"])
            .arg(dir.path().join("out"))
            .arg(format!("4826772:2026-06:{number}@2"))
            .output()
            .expect("explain");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    };
    // The yen of an explained line, e.g. "copay due       900 yen".
    let yen = |text: &str, label: &str| -> i64 {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(label))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{label} in\n{text}"))
    };
    let first = explain(1);
    let (cost, copay) = (yen(&first, "cost"), yen(&first, "copay due"));
    assert!(copay > 200, "{first}");
    assert_eq!(yen(&first, "insurer share"), cost - copay, "{first}");
    assert_eq!(yen(&first, "公費 pay"), copay - 200, "{first}");
    assert_eq!(yen(&first, "patient pays"), 200, "{first}");
    let public_first = copay - 200;
    let second = explain(2);
    assert!(second.contains("status          public_only"), "{second}");
    assert!(second.contains("insurer share   0 yen"), "{second}");
    assert!(second.contains("patient pays    0 yen"), "{second}");
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.path().join("out/manifest.json")).expect("manifest"),
    )
    .expect("json");
    let public = manifest["conservation"]["yen"]["paid_by"]["public_expense"]
        .as_i64()
        .expect("public_expense");
    let second_cost = yen(&second, "cost");
    assert!(public >= public_first + second_cost, "{public}");
}
