//! Helpers shared by the end-to-end test binaries: the binary, the sample month, a copy
//! of a directory. Each binary uses some of them, hence `dead_code` allowed here.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The `reseclear` binary under test.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_reseclear"))
}

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The bundled sample month.
pub fn sample() -> PathBuf {
    root().join("fixtures/sample")
}

/// Runs `cmd`, which must succeed; its output.
pub fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("run reseclear");
    assert!(
        out.status.success(),
        "reseclear failed: {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Copies the directory tree `from` to `to`.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("list") {
        let path = entry.expect("entry").path();
        let target = to.join(path.file_name().expect("name"));
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).expect("copy");
        }
    }
}

/// A copy of the sample month in a temporary directory.
pub fn sample_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_dir(&sample(), dir.path());
    dir
}
