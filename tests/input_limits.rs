//! Inputs built to exhaust the engine: a gigantic line, a file of random bytes, an
//! empty file, a directory of 10,000 tiny files, a roster with a billion-character
//! field. Each gives a clear error or a quarantine row, and the run's memory stays
//! bounded: every child process of this test binary is measured (getrusage of the
//! waited-for children), so these tests live alone in their own binary.

mod common;
use common::{bin, copy_dir, sample};

use std::io::Write;
use std::path::Path;
use std::process::Output;

/// The `*.UKE` files below `dir`, counted independently of the engine.
/// Receipt files under `dir`: 医科, DPC and 歯科 `.UKE`, 調剤 `.CYO`.
fn count_uke(dir: &Path) -> u64 {
    let mut n = 0;
    for entry in std::fs::read_dir(dir).expect("list") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            n += count_uke(&path);
        } else if path.extension().is_some_and(|e| e == "UKE" || e == "CYO") {
            n += 1;
        }
    }
    n
}

fn run(input: &Path, out: &Path) -> Output {
    bin()
        .args(["run", "--input"])
        .arg(input)
        .arg("--out")
        .arg(out)
        .output()
        .expect("run reseclear")
}

/// Peak resident memory of the largest child process waited for so far, in MiB.
fn children_peak_mib() -> i64 {
    // SAFETY: getrusage only writes the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    assert_eq!(rc, 0, "getrusage");
    usage.ru_maxrss / 1024
}

/// Well above a sample run (~60 MiB), far below any of the inputs here read whole.
const BOUND_MIB: i64 = 400;

fn quarantine(out: &Path) -> String {
    std::fs::read_to_string(out.join("quarantine.csv")).expect("quarantine.csv")
}

#[test]
fn hostile_uke_files_are_quarantined_in_bounded_memory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("in");
    copy_dir(&sample(), &input);
    let hostile = input.join("uke/hostile");
    std::fs::create_dir_all(&hostile).expect("mkdir");
    // One line of 2 GiB: a sparse file of NUL bytes, no disk used.
    let giant = std::fs::File::create(hostile.join("GIANT.UKE")).expect("create");
    giant.set_len(2 << 30).expect("sparse");
    // Random bytes.
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let random: Vec<u8> = (0..1 << 20)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect();
    std::fs::write(hostile.join("RANDOM.UKE"), &random).expect("write");
    std::fs::write(hostile.join("EMPTY.UKE"), b"").expect("write");

    let out = dir.path().join("out");
    let result = run(&input, &out);
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let q = quarantine(&out);
    let row = |name: &str| {
        q.lines()
            .find(|l| l.starts_with(&format!("uke/hostile/{name},")))
            .unwrap_or_else(|| panic!("no quarantine row for {name}:\n{q}"))
            .to_string()
    };
    assert!(row("GIANT.UKE").contains("longer than 1048576 bytes"));
    assert!(row("GIANT.UKE").ends_with(",file,"), "{}", row("GIANT.UKE"));
    assert!(row("EMPTY.UKE").contains("empty"));
    // Random bytes: an undecodable record, and the file judged truncated (no GO).
    let random: Vec<&str> = q
        .lines()
        .filter(|l| l.starts_with("uke/hostile/RANDOM.UKE,"))
        .collect();
    assert!(
        random
            .iter()
            .any(|l| l.contains("are not valid Shift_JIS") && l.ends_with(",record,")),
        "{random:?}"
    );
    assert!(
        random.iter().any(
            |l| l.contains("without GO: truncated? (0 receipts read)") && l.ends_with(",file,")
        ),
        "{random:?}"
    );
    assert!(
        children_peak_mib() < BOUND_MIB,
        "peak {} MiB",
        children_peak_mib()
    );
}

#[test]
fn a_roster_field_of_a_billion_characters_is_a_clear_error_in_bounded_memory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("in");
    copy_dir(&sample(), &input);
    std::fs::remove_file(input.join("roster.parquet")).expect("rm");
    let path = input.join("roster.csv");
    let mut f = std::fs::File::create(&path).expect("create");
    f.write_all(
        b"person_id,insurer_number,symbol,number,branch,name_kanji,name_kana,birth_date,sex,postal_code,address,valid_from,valid_to,copay_percent,relationship\n",
    )
    .expect("write");
    f.write_all(b"p1,01130012,1,2,,").expect("write");
    // A billion-character name: sparse NULs, then the rest of the row.
    let at = f.metadata().expect("meta").len();
    f.set_len(at + 1_000_000_000).expect("sparse");
    drop(f);
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .expect("open");
    f.write_all(",ヤマダ,1980-01-01,1,,,2020-01-01,,30,1\n".as_bytes())
        .expect("write");
    drop(f);

    let result = run(&input, &dir.path().join("out"));
    assert!(!result.status.success());
    let err = String::from_utf8_lossy(&result.stderr);
    assert!(
        err.contains("roster.csv") && err.contains("line 2 is longer than"),
        "{err}"
    );
    assert!(
        children_peak_mib() < BOUND_MIB,
        "peak {} MiB",
        children_peak_mib()
    );
}

#[test]
fn ten_thousand_tiny_files_are_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("in");
    copy_dir(&sample(), &input);
    let tiny = input.join("uke/tiny");
    std::fs::create_dir_all(&tiny).expect("mkdir");
    for i in 0..10_000u32 {
        // A clinic's empty claim file: IR and GO with no receipts.
        let text = format!(
            "IR,1,13,1,{:07},,診療所,202606,00,\r\nGO,0,0,99\r\n",
            1_000_000 + i
        );
        let (bytes, _, bad) = encoding_rs::SHIFT_JIS.encode(&text);
        assert!(!bad);
        let mut bytes = bytes.into_owned();
        bytes.push(0x1a);
        std::fs::write(tiny.join(format!("{i:05}.UKE")), bytes).expect("write");
    }
    let out = dir.path().join("out");
    let result = run(&input, &out);
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).expect("read"))
            .expect("json");
    // Exactly the sample's files and the ten thousand: a count that wrapped or skipped
    // the tiny files must fail here.
    assert_eq!(
        m["uke"]["files"].as_u64(),
        Some(count_uke(&sample()) + 10_000),
        "{}",
        m["uke"]
    );
    assert_eq!(m["conservation"]["balanced"], true);
    assert!(
        children_peak_mib() < BOUND_MIB,
        "peak {} MiB",
        children_peak_mib()
    );
}
