//! Pause points, so that crash and concurrency tests can stop a command at a chosen
//! instant instead of guessing with sleeps: with `RESECLEAR_PAUSE_AT=NAME` (a comma
//! separated list) and `RESECLEAR_PAUSE_FILE=PATH` in its environment, a command that
//! reaches point `NAME` writes `PATH` (the point's name and its pid) and waits until
//! the file is removed. Without both variables a point does nothing. The points are
//! named where they are placed (`output_dir`: `begun`, `staged`, `exchanged`,
//! `set-aside`).

use std::path::PathBuf;
use std::sync::OnceLock;

struct Pause {
    at: Vec<String>,
    file: PathBuf,
}

fn config() -> Option<&'static Pause> {
    static CONFIG: OnceLock<Option<Pause>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let at = std::env::var("RESECLEAR_PAUSE_AT").ok()?;
            let file = std::env::var_os("RESECLEAR_PAUSE_FILE")?;
            Some(Pause {
                at: at.split(',').map(|s| s.trim().to_string()).collect(),
                file: PathBuf::from(file),
            })
        })
        .as_ref()
}

/// Pauses here if the environment asks for this point.
pub fn point(name: &str) {
    let Some(pause) = config() else {
        return;
    };
    if !pause.at.iter().any(|a| a == name) {
        return;
    }
    if std::fs::write(&pause.file, format!("{name} {}\n", std::process::id())).is_err() {
        return;
    }
    while pause.file.exists() {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}
