//! The fuzz targets' entry functions ([`targets`], [`ledger_roundtrip`]) and what the
//! targets need around them: the readers under test take a path, so each input is
//! written to a file in one scratch directory per process.

pub mod ledger_roundtrip;
pub mod targets;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// A directory of this process's own (in memory when /dev/shm exists), created once;
/// each target writes its input there under the file name its reader expects.
pub fn scratch_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let base = Path::new("/dev/shm");
        let base = if base.is_dir() {
            base.to_path_buf()
        } else {
            std::env::temp_dir()
        };
        let dir = base.join(format!("reseclear-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create the fuzz scratch directory");
        dir
    })
}

/// Runs `read` and aborts (a crash for libFuzzer) only if a panic escapes it.
///
/// libfuzzer-sys installs a panic hook that aborts on *any* panic, even one the code
/// under test catches. The Parquet readers deliberately catch panics of the parquet and
/// arrow crates on damaged files and return an error (`ingest::parquet_guard`), so the
/// Parquet targets replace that hook with one that only remembers the message; a panic
/// that is not caught inside `read` is reported with that message and aborts.
pub fn no_panic_escapes<T>(what: &str, read: impl FnOnce() -> T) -> T {
    static HOOK: std::sync::Once = std::sync::Once::new();
    static LAST_PANIC: std::sync::Mutex<String> = std::sync::Mutex::new(String::new());
    HOOK.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            if let Ok(mut last) = LAST_PANIC.lock() {
                *last = info.to_string();
            }
        }))
    });
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(read)) {
        Ok(value) => value,
        Err(_) => {
            let last = LAST_PANIC.lock().map(|s| s.clone()).unwrap_or_default();
            eprintln!("a panic escaped {what}: {last}");
            std::process::abort();
        }
    }
}
