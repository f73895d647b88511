//! Issue 16, items 7, 8, 9 and 13, end to end through the `reseclear` binary: walking
//! the input (symbolic links, FIFOs, devices, identical copies), the encoding of a UKE
//! file decided for the whole file, broken CSV inputs, and CSV cells a spreadsheet
//! would run as formulas. Every run has a timeout, so a hang fails the test.

mod common;
use common::{root, sample_copy};

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

struct Ran {
    code: Option<i32>,
    stderr: String,
}

/// Runs `reseclear run` on `input` into `out`, killed after 120 s (a hang is a
/// failure, not a stuck CI job).
fn run(input: &Path, out: &Path) -> Ran {
    let mut child = Command::new(env!("CARGO_BIN_EXE_reseclear"))
        .args(["run", "--quiet", "--input"])
        .arg(input)
        .arg("--out")
        .arg(out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn reseclear");
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            let mut stderr = String::new();
            use std::io::Read;
            child
                .stderr
                .take()
                .expect("stderr")
                .read_to_string(&mut stderr)
                .expect("read stderr");
            return Ran {
                code: status.code(),
                stderr,
            };
        }
        if start.elapsed() > Duration::from_secs(120) {
            child.kill().expect("kill");
            panic!("reseclear run did not end within 120 s: it hangs");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn run_ok(input: &Path) -> (tempfile::TempDir, serde_json::Value, String) {
    let out = tempfile::tempdir().expect("tempdir");
    let ran = run(input, out.path());
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.path().join("manifest.json")).expect("manifest"),
    )
    .expect("manifest is JSON");
    assert_eq!(manifest["conservation"]["balanced"], true, "{manifest}");
    let quarantine =
        std::fs::read_to_string(out.path().join("quarantine.csv")).expect("quarantine.csv");
    (out, manifest, quarantine)
}

/// The quarantine rows of `file` (its lines of quarantine.csv).
fn rows_of<'q>(quarantine: &'q str, file: &str) -> Vec<&'q str> {
    quarantine
        .lines()
        .filter(|l| l.starts_with(&format!("{file},")))
        .collect()
}

fn n(v: &serde_json::Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a number: {v}"))
}

const SAMPLE_FILES: u64 = 18;
const SAMPLE_RECEIPTS: u64 = 425;

#[test]
fn symbolic_links_out_of_the_input_or_into_a_loop_are_not_followed() {
    let input = sample_copy();
    let d = input.path();
    // A loop (uke/1/loop → the input directory), a system file dressed as a UKE file,
    // and a link to nowhere.
    std::os::unix::fs::symlink(d, d.join("uke/1/loop")).expect("symlink");
    std::os::unix::fs::symlink("/etc/passwd", d.join("uke/2/PASSWD.UKE")).expect("symlink");
    std::os::unix::fs::symlink(d.join("gone"), d.join("uke/GONE.UKE")).expect("symlink");
    let (_out, m, q) = run_ok(d);
    // Each file once: before, the loop read every file again (41 times in all).
    assert_eq!(n(&m["uke"]["files"]), SAMPLE_FILES, "{}", m["uke"]);
    assert_eq!(n(&m["uke"]["receipts_read"]), SAMPLE_RECEIPTS);
    for (file, says) in [
        ("uke/1/loop", "already walked"),
        ("uke/2/PASSWD.UKE", "outside the input directory"),
        ("uke/GONE.UKE", "cannot be followed"),
    ] {
        let rows = rows_of(&q, file);
        assert_eq!(rows.len(), 1, "{file}: {q}");
        assert!(
            rows[0].contains(says) && rows[0].ends_with(",notice,"),
            "{}",
            rows[0]
        );
    }
    // Nothing of the system file was read.
    assert!(!q.contains("root:"), "{q}");
}

#[test]
fn a_roster_behind_a_link_out_of_the_input_is_a_clear_error_naming_it() {
    let input = sample_copy();
    let elsewhere = tempfile::tempdir().expect("tempdir");
    let d = input.path();
    std::fs::rename(
        d.join("roster.parquet"),
        elsewhere.path().join("roster.parquet"),
    )
    .expect("move");
    std::os::unix::fs::symlink(
        elsewhere.path().join("roster.parquet"),
        d.join("roster.parquet"),
    )
    .expect("symlink");
    let out = tempfile::tempdir().expect("tempdir");
    let ran = run(d, out.path());
    assert_eq!(ran.code, Some(2), "{}", ran.stderr);
    assert!(
        ran.stderr.contains("missing the roster")
            && ran
                .stderr
                .contains("roster.parquet: a symbolic link to a path outside the input directory"),
        "{}",
        ran.stderr
    );
}

#[test]
fn a_fifo_or_a_device_is_skipped_with_a_notice_not_read_forever() {
    let input = sample_copy();
    let d = input.path();
    let fifo = d.join("uke/1/STUCK.UKE");
    let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).expect("path");
    // SAFETY: a NUL-terminated path and a mode; mkfifo touches nothing else.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
    // /dev/zero through a link inside the input: a device, never ending.
    std::os::unix::fs::symlink("/dev/zero", d.join("uke/ZERO.UKE")).expect("symlink");
    let (_out, m, q) = run_ok(d);
    assert_eq!(n(&m["uke"]["files"]), SAMPLE_FILES);
    let fifo_rows = rows_of(&q, "uke/1/STUCK.UKE");
    assert_eq!(fifo_rows.len(), 1, "{q}");
    assert!(fifo_rows[0].contains("not a regular file (a FIFO)"), "{q}");
    assert_eq!(rows_of(&q, "uke/ZERO.UKE").len(), 1, "{q}");
}

#[test]
fn a_byte_identical_copy_is_read_once_with_a_notice_naming_both() {
    let input = sample_copy();
    let d = input.path();
    std::fs::create_dir_all(d.join("uke/resent/4826772")).expect("mkdir");
    std::fs::copy(
        d.join("uke/1/4826772/RECEIPTC.UKE"),
        d.join("uke/resent/4826772/RECEIPTC.UKE"),
    )
    .expect("copy");
    let (_out, m, q) = run_ok(d);
    assert_eq!(n(&m["uke"]["files"]), SAMPLE_FILES);
    assert_eq!(n(&m["uke"]["receipts_read"]), SAMPLE_RECEIPTS);
    // Not read, so its receipts are not quarantined as duplicates either.
    assert_eq!(n(&m["uke"]["receipts_quarantined"]), 15);
    let rows = rows_of(&q, "uke/resent/4826772/RECEIPTC.UKE");
    assert_eq!(rows.len(), 1, "{q}");
    assert!(
        rows[0].contains("byte-identical to uke/1/4826772/RECEIPTC.UKE"),
        "{}",
        rows[0]
    );
}

/// The sample's file at `rel`, decoded from Shift_JIS.
fn sample_text(rel: &str) -> String {
    let bytes = std::fs::read(root().join("fixtures/sample").join(rel)).expect("read");
    let (text, _, bad) = encoding_rs::SHIFT_JIS.decode(&bytes);
    assert!(!bad);
    text.into_owned()
}

/// Receipts (RE records) in a UKE text.
fn receipts_in(text: &str) -> u64 {
    text.lines().filter(|l| l.starts_with("RE,")).count() as u64
}

#[test]
fn a_utf8_bom_or_mixed_uke_file_is_quarantined_whole_not_read_as_mojibake() {
    let input = sample_copy();
    let d = input.path();
    let (a, b, c) = (
        "uke/1/1910017/RECEIPTC.UKE",
        "uke/2/1910017/RECEIPTC.UKE",
        "uke/2/4826772/RECEIPTC.UKE",
    );
    // A UTF-8 file whose IR line happens to be ASCII (the clinic's name in letters):
    // read line by line, its first lines decode and the rest were mojibake.
    let text_a = sample_text(a);
    let ascii_ir: Vec<String> = text_a
        .split("\r\n")
        .map(|l| {
            if l.starts_with("IR,") {
                let mut f: Vec<&str> = l.split(',').collect();
                f[6] = "CLINIC";
                f.join(",")
            } else {
                l.to_string()
            }
        })
        .collect();
    std::fs::write(d.join(a), ascii_ir.join("\r\n")).expect("write");
    // A Shift_JIS file behind a UTF-8 byte order mark.
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend(std::fs::read(d.join(b)).expect("read"));
    std::fs::write(d.join(b), bom).expect("write");
    // Shift_JIS, but one RE line (a name) in UTF-8.
    let text_c = sample_text(c);
    let mut mixed = Vec::new();
    let mut done = false;
    for line in text_c.split_inclusive("\r\n") {
        if !done && line.starts_with("RE,") && !line.is_ascii() {
            mixed.extend(line.as_bytes());
            done = true;
        } else {
            mixed.extend(encoding_rs::SHIFT_JIS.encode(line).0.iter());
        }
    }
    assert!(done);
    std::fs::write(d.join(c), mixed).expect("write");

    let (out, m, q) = run_ok(d);
    for (file, says) in [
        (a, "is UTF-8 text (line 2 is its first beyond ASCII)"),
        (b, "byte order mark"),
        (c, "mixed encodings"),
    ] {
        let whole: Vec<&str> = rows_of(&q, file)
            .into_iter()
            .filter(|r| r.contains(",file,"))
            .collect();
        assert_eq!(whole.len(), 1, "{file}: {q}");
        assert!(whole[0].contains(says), "{}", whole[0]);
    }
    // Every receipt of the three is counted and quarantined, none accepted.
    let in_three = receipts_in(&text_a) + receipts_in(&sample_text(b)) + receipts_in(&text_c);
    assert_eq!(n(&m["uke"]["receipts_read"]), SAMPLE_RECEIPTS);
    assert_eq!(
        n(&m["uke"]["receipts_quarantined"]),
        15 + in_three,
        "{}",
        m["uke"]
    );
    assert_eq!(n(&m["uke"]["files_quarantined"]), 3 + 3, "{}", m["uke"]);
    drop(out);
}

#[test]
fn an_unterminated_quote_or_a_nul_in_declarations_quarantines_that_row_only() {
    let input = sample_copy();
    let d = input.path();
    let text = std::fs::read_to_string(d.join("declarations.csv")).expect("read");
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let rows = lines.len() as u64 - 1;
    // Line 3: an opening quote never closed; line 6: a NUL byte.
    lines[2] = lines[2].replacen(',', ",\"", 1);
    lines[5].push('\0');
    std::fs::write(d.join("declarations.csv"), lines.join("\n") + "\n").expect("write");
    let (_out, m, q) = run_ok(d);
    // Before: the quote swallowed every row after line 3 into one field.
    assert_eq!(
        n(&m["declarations"]["rows_read"]),
        rows,
        "{}",
        m["declarations"]
    );
    assert_eq!(n(&m["declarations"]["rows_quarantined"]), 2);
    assert_eq!(n(&m["declarations"]["rows_accepted"]), rows - 2);
    let bad = rows_of(&q, "declarations.csv");
    assert!(
        bad.iter()
            .any(|r| r.starts_with("declarations.csv,3,") && r.contains("unterminated quote")),
        "{q}"
    );
    assert!(
        bad.iter()
            .any(|r| r.starts_with("declarations.csv,6,") && r.contains("NUL")),
        "{q}"
    );
    // No personal data of the rows shown.
    assert!(!q.contains("鈴木"), "{q}");
}

#[test]
fn an_unterminated_quote_in_a_csv_roster_does_not_swallow_the_rest() {
    let input = tempfile::tempdir().expect("tempdir");
    let generated = Command::new(env!("CARGO_BIN_EXE_reseclear"))
        .args([
            "generate",
            "--persons",
            "600",
            "--receipts",
            "120",
            "--seed",
            "5",
            "--roster-csv",
            "--quiet",
            "--out",
        ])
        .arg(input.path())
        .output()
        .expect("generate");
    assert!(generated.status.success(), "{generated:?}");
    let path = input.path().join("roster.csv");
    let text = std::fs::read_to_string(&path).expect("roster.csv");
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let rows = lines.len() as u64 - 1;
    // A quote opened in the name of line 10 and never closed.
    let mut fields: Vec<String> = lines[9].split(',').map(str::to_string).collect();
    fields[5] = format!("\"{}", fields[5]);
    lines[9] = fields.join(",");
    // A ragged row (a field short) right after it, on line 11: it must keep its line.
    let cut = lines[10].rfind(',').expect("comma");
    lines[10].truncate(cut);
    std::fs::write(&path, lines.join("\n") + "\n").expect("write");
    let (_out, m, q) = run_ok(input.path());
    assert_eq!(n(&m["roster"]["rows_read"]), rows, "{}", m["roster"]);
    assert_eq!(n(&m["roster"]["rows_quarantined"]), 2, "{}", m["roster"]);
    assert_eq!(n(&m["roster"]["rows_accepted"]), rows - 2);
    assert!(
        rows_of(&q, "roster.csv")
            .iter()
            .any(|r| r.starts_with("roster.csv,10,") && r.contains("unterminated quote")),
        "{q}"
    );
    assert!(
        rows_of(&q, "roster.csv")
            .iter()
            .any(|r| r.starts_with("roster.csv,11,") && r.contains("expected 15 fields")),
        "{q}"
    );
}

#[test]
fn cells_a_spreadsheet_would_run_are_written_with_a_leading_apostrophe() {
    let input = sample_copy();
    let d = input.path();
    // A file name and a declared clinic code that are formulas.
    std::fs::write(d.join("=HYPERLINK(\"http-x\").txt"), b"x").expect("write");
    let text = std::fs::read_to_string(d.join("declarations.csv")).expect("read");
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines[1] = lines[1].replacen("1910017,", "@SUM(1+1),", 1);
    std::fs::write(d.join("declarations.csv"), lines.join("\n") + "\n").expect("write");
    let (_out, _m, q) = run_ok(d);
    let mut reader = csv::Reader::from_reader(q.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    assert!(
        rows.iter()
            .any(|r| &r[0] == "'=HYPERLINK(\"http-x\").txt" && &r[6] == "notice"),
        "{q}"
    );
    assert!(rows.iter().any(|r| &r[4] == "'@SUM(1+1)"), "{q}");
    // No cell of the file starts a formula.
    for r in &rows {
        for cell in r {
            let formula = cell.starts_with(['=', '+', '@', '\t', '\r'])
                || cell.starts_with('-') && cell != "-" && cell.parse::<f64>().is_err();
            assert!(!formula, "{cell:?} in {q}");
        }
    }
}

#[test]
fn a_nested_pharmacy_file_is_read_by_its_content_and_any_other_file_is_a_notice() {
    let input = sample_copy();
    let (_out, before, _q) = run_ok(input.path());
    let pharmacy = input.path().join("uke/9/1398765");
    std::fs::create_dir_all(&pharmacy).expect("mkdir");
    // A 調剤 file as pharmacies file it: RECEIPTY.CYO, opening with YK, two receipts.
    let text = include_str!("data/hand_written_chozai.uke.txt").replace('\n', "\r\n");
    let (bytes, _, unmappable) = encoding_rs::SHIFT_JIS.encode(&text);
    assert!(!unmappable);
    let mut bytes = bytes.into_owned();
    bytes.push(0x1A);
    std::fs::write(pharmacy.join("RECEIPTY.CYO"), bytes).expect("write");
    std::fs::write(pharmacy.join("NOTES.TXT"), b"sent 2026-06-10\r\n").expect("write");
    let (_out, manifest, quarantine) = run_ok(input.path());
    assert_eq!(
        rows_of(&quarantine, "uke/9/1398765/NOTES.TXT"),
        ["uke/9/1398765/NOTES.TXT,0,-,-,,\"not an input of a claim month (a receipt file: *.UKE, *.CYO or opening with IR, UK or YK; roster.parquet/csv, insurers.csv, declarations.csv): ignored\",notice,"],
        "{quarantine}"
    );
    assert!(
        rows_of(&quarantine, "uke/9/1398765/RECEIPTY.CYO").is_empty(),
        "the pharmacy file reads without a record error: {quarantine}"
    );
    assert_eq!(n(&manifest["uke"]["files"]), n(&before["uke"]["files"]) + 1);
    assert_eq!(
        n(&manifest["uke"]["receipts_accepted"]),
        n(&before["uke"]["receipts_accepted"]) + 2,
        "both 調剤 receipts are read"
    );
    // The manifest counts the kind on its own: one more file, two receipts of 358 + 500
    // points.
    let counts = |m: &serde_json::Value| {
        let chozai = &m["uke"]["by_kind"]["chozai"];
        [
            "files",
            "receipts_read",
            "receipts_accepted",
            "accepted_points",
            "accepted_yen",
        ]
        .map(|k| chozai.get(k).map_or(0, n))
    };
    let (was, is) = (counts(&before), counts(&manifest));
    assert_eq!(
        [0, 1, 2, 3, 4].map(|i| is[i] - was[i]),
        [1, 2, 2, 858, 8580],
        "{}",
        manifest["uke"]["by_kind"]
    );
    // Every kind's counts add up to the month's.
    for count in [
        "files",
        "receipts_read",
        "receipts_accepted",
        "receipts_quarantined",
    ] {
        let by_kind = manifest["uke"]["by_kind"].as_object().expect("by_kind");
        let sum: u64 = by_kind.values().map(|k| n(&k[count])).sum();
        assert_eq!(sum, n(&manifest["uke"][count]), "{count}");
    }
}
