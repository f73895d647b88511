//! Crash-safe, single-writer output directories. A command that writes a directory
//! (`run`, `apportion`, `generate`, `purge`) builds its outputs in a staging directory
//! beside `--out` and puts them in place only when they are complete, so that a kill
//! at any instant leaves either the old output or the new one, whole:
//!
//! - **What may be replaced.** `--out` may be new, an empty directory, or a complete
//!   earlier output of the same command (its marker file, with the signature that
//!   command writes); `--force` is needed for the last. Nothing else is ever deleted or
//!   overwritten, `--force` or not: not a directory holding other files, not `/` or
//!   `$HOME`, not a directory that is, contains or lies inside one of the command's
//!   inputs (so `run --force` cannot delete the month it reads, nor `apportion --force`
//!   the run it re-apportions).
//! - **One writer.** A lock file (`flock`, released by the kernel when its holder dies)
//!   holds the writer's pid, command and start time; a second writer of the same
//!   `--out` fails at once, naming the holder. A lock whose holder has died is stale:
//!   it is taken over with a notice.
//! - **Atomic replacement.** The new directory and the old one are swapped in one
//!   `renameat2(RENAME_EXCHANGE)`, then the old one is removed. On a file system that
//!   cannot exchange, the old directory is first renamed aside and the next writer puts
//!   it back if the new one never arrived.
//!
//! Everything of ours lives in one hidden work directory beside `--out`,
//! `.<name>.reseclear/` (its `OWNER` file says so): the lock, the staging directory
//! `new/` and the replaced directory `old/`. It is removed when a command ends, and
//! only a directory holding that `OWNER` file is ever cleared. The outputs hold
//! personal data, so directories are made 0700 and files 0600.

use std::fs::File;
use std::io::Write;
use std::path::{Component, Path, PathBuf};

use crate::pause;

/// The command whose output a directory is, and how its output is recognized.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputKind {
    /// The command, as the user types it (`run`, `apportion`, `generate`).
    pub command: &'static str,
    /// The file a complete output holds (written last).
    pub marker: &'static str,
    pub signature: Signature,
}

/// What the marker file of a complete output looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signature {
    /// A JSON object with this top-level key.
    JsonKey(&'static str),
    /// A Parquet file (magic bytes at both ends).
    Parquet,
}

impl OutputKind {
    /// Whether `dir` holds a complete output of this command.
    pub fn is_output(&self, dir: &Path) -> bool {
        let marker = dir.join(self.marker);
        match self.signature {
            Signature::JsonKey(key) => std::fs::read(&marker)
                .ok()
                .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
                .is_some_and(|v| v.get(key).is_some()),
            Signature::Parquet => std::fs::read(&marker)
                .is_ok_and(|b| b.len() >= 8 && b.starts_with(b"PAR1") && b.ends_with(b"PAR1")),
        }
    }
}

/// Why an output directory could not be prepared or put in place.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("{path} already holds {} {command} output (its {marker}); give another --out, or --force to replace it", article(command))]
    Exists {
        path: PathBuf,
        command: &'static str,
        marker: &'static str,
    },
    #[error("{path} is not a complete earlier `reseclear {command}` output (no valid {marker}), so it is never replaced, --force or not; give an empty or new directory as --out")]
    NotOurs {
        path: PathBuf,
        command: &'static str,
        marker: &'static str,
    },
    #[error(
        "{path} {relation} {input}, an input of this command; give an --out outside the inputs"
    )]
    Overlaps {
        path: PathBuf,
        relation: &'static str,
        input: PathBuf,
    },
    #[error("{path} is {what}; reseclear never writes its outputs there, give a directory of their own as --out")]
    Forbidden { path: PathBuf, what: &'static str },
    #[error("{path} is being written by another reseclear ({holder}); wait for it to finish, or give another --out")]
    Locked { path: PathBuf, holder: String },
    #[error("{path} holds files reseclear did not put there; move them away (reseclear only clears its own work directories)")]
    Foreign { path: PathBuf },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl OutputError {
    /// A stable code for the refusal, for machines reading `--log-format json`.
    pub fn code(&self) -> &'static str {
        match self {
            OutputError::Exists { .. } => "output_exists",
            OutputError::NotOurs { .. } => "output_not_ours",
            OutputError::Overlaps { .. } => "output_overlaps_input",
            OutputError::Forbidden { .. } => "output_forbidden",
            OutputError::Locked { .. } => "output_locked",
            OutputError::Foreign { .. } => "output_foreign",
            OutputError::Io { .. } => "output_io",
        }
    }
}

fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> OutputError + '_ {
    move |source| OutputError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The work directory's identity file: only a directory holding it is ever cleared.
const OWNER_FILE: &str = "OWNER";
const OWNER_TEXT: &str = "reseclear work directory (lock, staging); removed when the command ends; safe to delete when no reseclear is running\n";

/// A staging directory for the outputs that will become `out`, and the lock on `out`.
#[derive(Debug)]
pub struct Staging {
    work: PathBuf,
    out: PathBuf,
    kind: OutputKind,
    done: bool,
    /// Held while the staging lives (the lock is the open file).
    _lock: Lock,
}

impl Staging {
    /// Prepares to write `out` as `kind`'s output. `inputs` are the paths the command
    /// reads: `out` may be none of them, nor contain nor lie inside one. An `out` that
    /// holds a complete earlier output of `kind` needs `force`; an `out` that holds
    /// anything else is refused.
    pub fn begin(
        out: &Path,
        kind: OutputKind,
        force: bool,
        inputs: &[&Path],
    ) -> Result<Staging, OutputError> {
        let out = resolve(out)?;
        guard(&out, inputs)?;
        let parent = out.parent().ok_or_else(|| OutputError::Forbidden {
            path: out.clone(),
            what: "the root directory",
        })?;
        std::fs::create_dir_all(parent).map_err(io(parent))?;
        let work = work_path(&out);
        open_work_dir(&work)?;
        let lock = Lock::take(&work, &out, kind.command)?;
        let staging = Staging {
            work,
            out,
            kind,
            done: false,
            _lock: lock,
        };
        staging.recover()?;
        staging.check_out(force)?;
        let new = staging.work.join("new");
        if new.exists() {
            tracing::warn!(path = %new.display(), "removing the staging directory of an earlier command that did not finish");
            std::fs::remove_dir_all(&new).map_err(io(&new))?;
        }
        create_private_dir(&new)?;
        pause::point("begun");
        Ok(staging)
    }

    /// Where to write the outputs.
    pub fn path(&self) -> PathBuf {
        self.work.join("new")
    }

    /// Puts back an old output that an earlier writer renamed aside (on a file system
    /// without exchange) and was killed before putting the new one in place.
    fn recover(&self) -> Result<(), OutputError> {
        let old = self.work.join("old");
        if !old.exists() {
            return Ok(());
        }
        if !self.out.exists() && self.kind.is_output(&old) {
            tracing::warn!(path = %self.out.display(), "putting back the earlier output that an interrupted replacement had set aside");
            std::fs::rename(&old, &self.out).map_err(io(&self.out))?;
        } else {
            std::fs::remove_dir_all(&old).map_err(io(&old))?;
        }
        Ok(())
    }

    fn check_out(&self, force: bool) -> Result<(), OutputError> {
        let out = &self.out;
        let Ok(meta) = std::fs::symlink_metadata(out) else {
            return Ok(());
        };
        let not_ours = || OutputError::NotOurs {
            path: out.clone(),
            command: self.kind.command,
            marker: self.kind.marker,
        };
        if !meta.is_dir() {
            return Err(not_ours());
        }
        if std::fs::read_dir(out).map_err(io(out))?.next().is_none() {
            return Ok(());
        }
        if !self.kind.is_output(out) {
            return Err(not_ours());
        }
        if !force {
            return Err(OutputError::Exists {
                path: out.clone(),
                command: self.kind.command,
                marker: self.kind.marker,
            });
        }
        Ok(())
    }

    /// Makes every file private and puts the staging directory in place as `out`,
    /// replacing the earlier output in one exchange.
    pub fn commit(mut self) -> Result<PathBuf, OutputError> {
        let new = self.path();
        pause::point("staged");
        make_private(&new)?;
        sync_dir(&new)?;
        if std::fs::symlink_metadata(&self.out).is_ok() {
            let old = self.work.join("old");
            if exchange(&new, &self.out).map_err(io(&self.out))? {
                pause::point("exchanged");
                std::fs::rename(&new, &old).map_err(io(&new))?;
            } else {
                std::fs::rename(&self.out, &old).map_err(io(&self.out))?;
                pause::point("set-aside");
                std::fs::rename(&new, &self.out).map_err(io(&self.out))?;
            }
            std::fs::remove_dir_all(&old).map_err(io(&old))?;
        } else {
            std::fs::rename(&new, &self.out).map_err(io(&self.out))?;
        }
        if let Some(parent) = self.out.parent() {
            sync_dir(parent)?;
        }
        self.done = true;
        Ok(self.out.clone())
    }

    /// Keeps the outputs of a command that must not be put in place (its accounts do
    /// not balance) beside `out` as `<out>.failed`, for inspection, and returns that
    /// path. An earlier `<out>.failed` is replaced only if it is an output of the same
    /// command; otherwise the first free `<out>.failed.N` is taken.
    pub fn set_aside(mut self) -> Result<PathBuf, OutputError> {
        let new = self.path();
        make_private(&new)?;
        let mut n = 1u32;
        let failed = loop {
            let candidate = match n {
                1 => with_suffix(&self.out, ".failed"),
                n => with_suffix(&self.out, &format!(".failed.{n}")),
            };
            match std::fs::symlink_metadata(&candidate) {
                Err(_) => break candidate,
                Ok(meta) if meta.is_dir() && self.kind.is_output(&candidate) => {
                    std::fs::remove_dir_all(&candidate).map_err(io(&candidate))?;
                    break candidate;
                }
                Ok(_) => n += 1,
            }
        };
        std::fs::rename(&new, &failed).map_err(io(&failed))?;
        self.done = true;
        Ok(failed)
    }
}

impl Drop for Staging {
    /// A command that failed (an error, not a kill) leaves nothing behind; one that
    /// finished leaves no work directory. (A kill leaves the work directory, which the
    /// next writer clears.)
    fn drop(&mut self) {
        let new = self.work.join("new");
        if !self.done {
            let _ = std::fs::remove_dir_all(&new);
        }
        if !new.exists() {
            remove_work_dir(&self.work);
        }
    }
}

/// `out` made absolute, with every existing ancestor's symbolic links resolved, so that
/// it can be compared with the inputs.
fn resolve(out: &Path) -> Result<PathBuf, OutputError> {
    let absolute = std::path::absolute(out).map_err(io(out))?;
    let mut existing = absolute.as_path();
    let mut rest = Vec::new();
    while std::fs::symlink_metadata(existing).is_err() {
        let Some(name) = existing.file_name() else {
            break;
        };
        rest.push(name.to_os_string());
        existing = existing.parent().unwrap_or(Path::new("/"));
    }
    let mut resolved = std::fs::canonicalize(existing).map_err(io(existing))?;
    for name in rest.iter().rev() {
        match Path::new(name).components().next() {
            Some(Component::Normal(_)) => resolved.push(name),
            Some(Component::CurDir) => {}
            _ => {
                return Err(OutputError::Forbidden {
                    path: out.to_path_buf(),
                    what: "a path with `..` below a directory that does not exist",
                })
            }
        }
    }
    Ok(resolved)
}

/// The places an output may never be.
fn guard(out: &Path, inputs: &[&Path]) -> Result<(), OutputError> {
    if out.parent().is_none() {
        return Err(OutputError::Forbidden {
            path: out.to_path_buf(),
            what: "the root directory",
        });
    }
    if let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        if std::fs::canonicalize(&home).is_ok_and(|h| h == out) {
            return Err(OutputError::Forbidden {
                path: out.to_path_buf(),
                what: "your home directory",
            });
        }
    }
    for input in inputs {
        let Ok(input) = std::fs::canonicalize(input) else {
            continue;
        };
        let relation = if input == out {
            "is the same directory as"
        } else if input.starts_with(out) {
            "contains"
        } else if out.starts_with(&input) {
            "lies inside"
        } else {
            continue;
        };
        return Err(OutputError::Overlaps {
            path: out.to_path_buf(),
            relation,
            input,
        });
    }
    Ok(())
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    path.with_file_name(format!("{name}{suffix}"))
}

/// The work directory for `out`: hidden, beside it, on the same file system (so the
/// renames are atomic).
fn work_path(out: &Path) -> PathBuf {
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    out.with_file_name(format!(".{name}.reseclear"))
}

/// Creates the work directory (0700, with its `OWNER` file), or opens an existing one
/// that is ours.
fn open_work_dir(work: &Path) -> Result<(), OutputError> {
    match create_private_dir(work) {
        Ok(()) => {}
        Err(OutputError::Io { source, .. })
            if source.kind() == std::io::ErrorKind::AlreadyExists =>
        {
            if !std::fs::symlink_metadata(work).is_ok_and(|m| m.is_dir())
                || !work.join(OWNER_FILE).is_file()
            {
                return Err(OutputError::Foreign {
                    path: work.to_path_buf(),
                });
            }
            return Ok(());
        }
        Err(e) => return Err(e),
    }
    let owner = work.join(OWNER_FILE);
    std::fs::write(&owner, OWNER_TEXT).map_err(io(&owner))
}

/// Removes the work directory if it holds nothing but its `OWNER` file and a lock
/// file. (Best effort: a leftover is cleared by the next writer.)
fn remove_work_dir(work: &Path) {
    let Ok(entries) = std::fs::read_dir(work) else {
        return;
    };
    let ours = entries.flatten().all(|e| {
        let name = e.file_name();
        name == OWNER_FILE || name == LOCK_FILE
    });
    if ours {
        let _ = std::fs::remove_file(work.join(LOCK_FILE));
        let _ = std::fs::remove_file(work.join(OWNER_FILE));
        let _ = std::fs::remove_dir(work);
    }
}

const LOCK_FILE: &str = "lock";

/// An advisory lock on an output directory: the open, `flock`ed lock file.
#[derive(Debug)]
struct Lock {
    _file: File,
}

impl Lock {
    /// Takes the lock in `work` or fails at once naming its holder. The file is checked
    /// to still be the one at its path after locking (a finishing writer may have
    /// removed it meanwhile).
    fn take(work: &Path, out: &Path, command: &str) -> Result<Lock, OutputError> {
        let path = work.join(LOCK_FILE);
        for _ in 0..8 {
            let opened = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path);
            let mut file = match opened {
                Ok(file) => file,
                // A finishing writer removed the work directory meanwhile.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    open_work_dir(work)?;
                    continue;
                }
                Err(e) => return Err(io(&path)(e)),
            };
            match file.try_lock() {
                Ok(()) => {}
                Err(std::fs::TryLockError::WouldBlock) => {
                    let holder = std::fs::read_to_string(&path)
                        .ok()
                        .map(|t| t.trim().to_string())
                        .filter(|t| !t.is_empty())
                        .unwrap_or_else(|| "holder unknown".into());
                    return Err(OutputError::Locked {
                        path: out.to_path_buf(),
                        holder,
                    });
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(io(&path)(e)),
            }
            if !same_file(&file, &path) {
                continue;
            }
            let stale = std::fs::read_to_string(&path).unwrap_or_default();
            if !stale.trim().is_empty() {
                tracing::warn!(path = %out.display(), lock = stale.trim(), "took over a stale lock: its holder is no longer running");
            }
            let holder = format!(
                "pid {}, `reseclear {command}`, started {}",
                std::process::id(),
                chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ")
            );
            file.set_len(0).map_err(io(&path))?;
            file.write_all(holder.as_bytes()).map_err(io(&path))?;
            file.flush().map_err(io(&path))?;
            return Ok(Lock { _file: file });
        }
        Err(OutputError::Locked {
            path: out.to_path_buf(),
            holder: "the lock file keeps changing hands".into(),
        })
    }
}

#[cfg(unix)]
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_: &File, path: &Path) -> bool {
    path.exists()
}

/// Swaps `a` and `b` atomically. `Ok(false)` when the file system cannot.
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<bool> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| {
        CString::new(p.as_os_str().as_bytes())
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))
    };
    let (ca, cb) = (c(a)?, c(b)?);
    // SAFETY: both are valid NUL-terminated paths; renameat2 reads them only.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            ca.as_ptr(),
            libc::AT_FDCWD,
            cb.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc == 0 {
        return Ok(true);
    }
    let e = std::io::Error::last_os_error();
    match e.raw_os_error() {
        Some(libc::EINVAL) | Some(libc::ENOSYS) | Some(libc::EOPNOTSUPP) => Ok(false),
        _ => Err(e),
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> std::io::Result<bool> {
    Ok(false)
}

/// Flushes a directory's entries (and, for the staging directory, its files) to disk,
/// so that what is renamed into place is on disk before the rename is.
fn sync_dir(dir: &Path) -> Result<(), OutputError> {
    for entry in std::fs::read_dir(dir).map_err(io(dir))? {
        let path = entry.map_err(io(dir))?.path();
        if path.is_file() {
            File::open(&path)
                .and_then(|f| f.sync_all())
                .map_err(io(&path))?;
        }
    }
    #[cfg(unix)]
    File::open(dir)
        .and_then(|f| f.sync_all())
        .map_err(io(dir))?;
    Ok(())
}

fn create_private_dir(dir: &Path) -> Result<(), OutputError> {
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(io(dir))
}

/// 0700 for the directory, 0600 for each file in it.
fn make_private(dir: &Path) -> Result<(), OutputError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io(dir))?;
        for entry in std::fs::read_dir(dir).map_err(io(dir))? {
            let path = entry.map_err(io(dir))?.path();
            let mode = if path.is_dir() { 0o700 } else { 0o600 };
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))
                .map_err(io(&path))?;
        }
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KIND: OutputKind = OutputKind {
        command: "run",
        marker: "manifest.json",
        signature: Signature::JsonKey("engine"),
    };

    fn write_run(dir: &Path, text: &str) {
        std::fs::write(
            dir.join("manifest.json"),
            format!("{{\"engine\":\"{text}\"}}"),
        )
        .expect("write");
    }

    fn entries(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .expect("list")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_committed_directory_replaces_only_its_own_kind_and_only_with_force() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let out = tmp.path().join("run");
        let s = Staging::begin(&out, KIND, false, &[]).expect("begin");
        write_run(&s.path(), "old");
        assert!(!out.exists(), "nothing in place before commit");
        s.commit().expect("commit");
        assert_eq!(entries(tmp.path()), ["run"], "no work directory left");
        assert!(matches!(
            Staging::begin(&out, KIND, false, &[]),
            Err(OutputError::Exists { .. })
        ));
        let s = Staging::begin(&out, KIND, true, &[]).expect("force");
        write_run(&s.path(), "new");
        s.commit().expect("commit");
        assert_eq!(
            std::fs::read_to_string(out.join("manifest.json")).expect("read"),
            "{\"engine\":\"new\"}"
        );
        assert_eq!(entries(tmp.path()), ["run"]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
            assert_eq!(mode(&out), 0o700);
            assert_eq!(mode(&out.join("manifest.json")), 0o600);
        }
        // Another command's output, or a marker without the signature, is not ours.
        let other = OutputKind {
            command: "apportion",
            marker: "apportion.json",
            signature: Signature::JsonKey("source_run"),
        };
        assert!(matches!(
            Staging::begin(&out, other, true, &[]),
            Err(OutputError::NotOurs { .. })
        ));
        std::fs::write(out.join("manifest.json"), "not json").expect("write");
        assert!(matches!(
            Staging::begin(&out, KIND, true, &[]),
            Err(OutputError::NotOurs { .. })
        ));
    }

    #[test]
    fn a_dropped_staging_leaves_nothing_and_other_content_is_refused_even_with_force() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let out = tmp.path().join("run");
        {
            let s = Staging::begin(&out, KIND, false, &[]).expect("begin");
            std::fs::write(s.path().join("x"), "x").expect("write");
        }
        assert_eq!(entries(tmp.path()), Vec::<String>::new());
        std::fs::create_dir(&out).expect("mkdir");
        Staging::begin(&out, KIND, false, &[]).expect("an empty directory is fine");
        std::fs::write(out.join("notes.txt"), "mine").expect("write");
        for force in [false, true] {
            let err = Staging::begin(&out, KIND, force, &[]).expect_err("refused");
            assert!(matches!(err, OutputError::NotOurs { .. }), "{err}");
        }
        assert_eq!(entries(&out), ["notes.txt"], "the user's file is untouched");
        let file = tmp.path().join("file");
        std::fs::write(&file, "mine").expect("write");
        assert!(matches!(
            Staging::begin(&file, KIND, true, &[]),
            Err(OutputError::NotOurs { .. })
        ));
    }

    #[test]
    fn an_output_overlapping_an_input_or_a_forbidden_place_is_refused() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let input = tmp.path().join("month");
        std::fs::create_dir_all(input.join("uke")).expect("mkdir");
        write_run(&input, "looks like a run");
        let cases: [(PathBuf, &str); 4] = [
            (input.clone(), "is the same directory as"),
            (tmp.path().to_path_buf(), "contains"),
            (input.join("uke/out"), "lies inside"),
            (input.join("./uke/.."), "is the same directory as"),
        ];
        for (out, relation) in &cases {
            let err = Staging::begin(out, KIND, true, &[&input]);
            match err {
                Err(OutputError::Overlaps { relation: r, .. }) => {
                    assert_eq!(&r, relation, "{}", out.display())
                }
                other => panic!("{}: {other:?}", out.display()),
            }
        }
        assert!(matches!(
            Staging::begin(Path::new("/"), KIND, true, &[]),
            Err(OutputError::Forbidden { .. })
        ));
        if let Some(home) = std::env::var_os("HOME") {
            assert!(matches!(
                Staging::begin(Path::new(&home), KIND, true, &[]),
                Err(OutputError::Forbidden { .. })
            ));
        }
        assert!(input.join("uke").is_dir() && input.join("manifest.json").is_file());
    }

    #[test]
    fn a_second_writer_is_refused_naming_the_first_and_a_stale_lock_is_taken_over() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let out = tmp.path().join("run");
        let first = Staging::begin(&out, KIND, false, &[]).expect("begin");
        let err = Staging::begin(&out, KIND, true, &[]).expect_err("locked");
        let text = err.to_string();
        assert!(
            text.contains(&format!("pid {}", std::process::id())) && text.contains("reseclear run"),
            "{text}"
        );
        assert!(first.path().is_dir(), "the refused writer cleared nothing");
        drop(first);
        // A lock file left by a writer that died: its lock is not held.
        let work = work_path(&resolve(&out).expect("resolve"));
        open_work_dir(&work).expect("work dir");
        std::fs::write(work.join(LOCK_FILE), "pid 999999, `reseclear run`").expect("write");
        let s = Staging::begin(&out, KIND, false, &[]).expect("stale lock taken over");
        write_run(&s.path(), "new");
        s.commit().expect("commit");
        assert_eq!(entries(tmp.path()), ["run"]);
    }

    #[test]
    fn a_foreign_work_directory_is_never_cleared() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let out = tmp.path().join("run");
        let work = tmp.path().join(".run.reseclear");
        std::fs::create_dir(&work).expect("mkdir");
        std::fs::write(work.join("mine"), "x").expect("write");
        assert!(matches!(
            Staging::begin(&out, KIND, true, &[]),
            Err(OutputError::Foreign { .. })
        ));
        assert!(work.join("mine").is_file());
    }

    #[test]
    fn an_interrupted_replacement_without_exchange_is_recovered() {
        // What a kill between the two renames of the fallback leaves: no `out`, the old
        // output in `old/`, the new one in `new/`.
        let tmp = tempfile::tempdir().expect("tempdir");
        let out = tmp.path().join("run");
        let work = tmp.path().join(".run.reseclear");
        open_work_dir(&work).expect("work dir");
        for name in ["old", "new"] {
            create_private_dir(&work.join(name)).expect("mkdir");
            write_run(&work.join(name), name);
        }
        let s = Staging::begin(&out, KIND, true, &[]).expect("begin");
        assert_eq!(
            std::fs::read_to_string(out.join("manifest.json")).expect("old put back"),
            "{\"engine\":\"old\"}"
        );
        assert_eq!(entries(&s.path()), Vec::<String>::new(), "a fresh staging");
    }

    #[test]
    fn a_failed_output_is_set_aside_without_clearing_what_is_not_ours() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let out = tmp.path().join("run");
        let s = Staging::begin(&out, KIND, false, &[]).expect("begin");
        write_run(&s.path(), "failed");
        let kept = s.set_aside().expect("set aside");
        assert_eq!(kept, resolve(&tmp.path().join("run.failed")).expect("path"));
        let s = Staging::begin(&out, KIND, false, &[]).expect("begin");
        write_run(&s.path(), "failed again");
        assert_eq!(s.set_aside().expect("set aside"), kept, "ours: replaced");
        std::fs::write(kept.join("manifest.json"), "a user's file").expect("write");
        let s = Staging::begin(&out, KIND, false, &[]).expect("begin");
        write_run(&s.path(), "third");
        let elsewhere = s.set_aside().expect("set aside");
        assert_eq!(
            elsewhere,
            resolve(&tmp.path().join("run.failed.2")).expect("path")
        );
        assert_eq!(
            std::fs::read_to_string(kept.join("manifest.json")).expect("read"),
            "a user's file"
        );
        assert!(elsewhere.join("manifest.json").is_file());
    }
}
