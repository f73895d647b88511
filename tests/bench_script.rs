//! `scripts/bench.sh` works end to end (on a tiny month, with this build's binary):
//! it generates, runs under /usr/bin/time and prints its table. Its figures are not
//! checked — performance is measured by running the script, never by tests.

use std::process::Command;

#[test]
fn bench_script_prints_its_table() {
    let data = tempfile::tempdir().expect("tempdir");
    let out = Command::new("bash")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/bench.sh"))
        .args(["2000", "600"])
        .env("RESECLEAR_BIN", env!("CARGO_BIN_EXE_reseclear"))
        .env("BENCH_DATA", data.path())
        .output()
        .expect("run bench.sh");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "bench.sh failed:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("generate ") && l.ends_with(" KiB")),
        "no generate row with its time and peak RSS in:\n{text}"
    );
    for row in [
        "month",
        "wall time",
        "peak RSS",
        "stage ingest",
        "stage resolve",
        "tier 3 precision",
    ] {
        assert!(text.contains(row), "no {row:?} row in:\n{text}");
    }
    assert!(data.path().join("2000p_600r/truth.parquet").exists());
    assert!(data.path().join("2000p_600r.out/manifest.json").exists());
}
