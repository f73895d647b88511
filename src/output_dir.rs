//! Crash-safe output directories. A run (or a re-run apportionment) writes into a
//! staging directory beside `--out` and renames it into place only when its accounts
//! balance, so `--out` holds a whole run or nothing: a run killed mid-way leaves no
//! partial `--out`, and the next run clears the leftover staging directory.
//!
//! The outputs hold personal data, so the directory is created 0700 and every file in
//! it is made 0600 before it is put in place.

use std::path::{Path, PathBuf};

/// Why an output directory could not be prepared or put in place.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error(
        "{path} already holds a run (its {marker}); give another --out, or --force to replace it"
    )]
    Exists { path: PathBuf, marker: String },
    #[error(
        "{path} exists and is not an empty directory; give another --out, or --force to replace it"
    )]
    NotEmpty { path: PathBuf },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> OutputError + '_ {
    move |source| OutputError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A staging directory for the outputs that will become `out`.
#[derive(Debug)]
pub struct Staging {
    dir: PathBuf,
    out: PathBuf,
    done: bool,
}

/// The staging directory's name for `out`: hidden, beside it, on the same file system
/// (so the final rename is atomic).
fn staging_path(out: &Path, suffix: &str) -> PathBuf {
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    out.with_file_name(format!(".{name}.{suffix}"))
}

impl Staging {
    /// Prepares to write `out`. An `out` that holds a run (`marker` present) or any
    /// other content is refused unless `force`; an empty directory is fine. A staging
    /// directory left by a killed run is removed.
    pub fn begin(out: &Path, marker: &str, force: bool) -> Result<Staging, OutputError> {
        if out.exists() && !force {
            if out.join(marker).exists() {
                return Err(OutputError::Exists {
                    path: out.to_path_buf(),
                    marker: marker.to_string(),
                });
            }
            let empty = out.is_dir() && std::fs::read_dir(out).map_err(io(out))?.next().is_none();
            if !empty {
                return Err(OutputError::NotEmpty {
                    path: out.to_path_buf(),
                });
            }
        }
        if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        let dir = staging_path(out, "partial");
        if dir.exists() {
            tracing::warn!(path = %dir.display(), "removing the staging directory of an earlier run that did not finish");
            std::fs::remove_dir_all(&dir).map_err(io(&dir))?;
        }
        create_private_dir(&dir)?;
        Ok(Staging {
            dir,
            out: out.to_path_buf(),
            done: false,
        })
    }

    /// Where to write the outputs.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Makes every file private and renames the staging directory to `out` (replacing
    /// what `--force` allowed to be replaced).
    pub fn commit(mut self) -> Result<PathBuf, OutputError> {
        make_private(&self.dir)?;
        if self.out.exists() {
            let old = staging_path(&self.out, "replaced");
            if old.exists() {
                std::fs::remove_dir_all(&old).map_err(io(&old))?;
            }
            std::fs::rename(&self.out, &old).map_err(io(&self.out))?;
            std::fs::rename(&self.dir, &self.out).map_err(io(&self.out))?;
            std::fs::remove_dir_all(&old).map_err(io(&old))?;
        } else {
            std::fs::rename(&self.dir, &self.out).map_err(io(&self.out))?;
        }
        self.done = true;
        Ok(self.out.clone())
    }

    /// Keeps the outputs of a run that must not be put in place (its accounts do not
    /// balance) beside `out` as `<out>.failed`, for inspection, and returns that path.
    pub fn set_aside(mut self) -> Result<PathBuf, OutputError> {
        make_private(&self.dir)?;
        let failed = self.out.with_file_name(format!(
            "{}.failed",
            self.out
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "out".into())
        ));
        if failed.exists() {
            std::fs::remove_dir_all(&failed).map_err(io(&failed))?;
        }
        std::fs::rename(&self.dir, &failed).map_err(io(&failed))?;
        self.done = true;
        Ok(failed)
    }
}

impl Drop for Staging {
    /// A run that failed (an error, not a kill) leaves nothing behind.
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
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

    #[test]
    fn a_committed_directory_replaces_nothing_without_force() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let out = tmp.path().join("run");
        let s = Staging::begin(&out, "manifest.json", false).expect("begin");
        std::fs::write(s.path().join("manifest.json"), "{}").expect("write");
        assert!(!out.exists(), "nothing in place before commit");
        s.commit().expect("commit");
        assert!(out.join("manifest.json").exists());
        assert!(matches!(
            Staging::begin(&out, "manifest.json", false),
            Err(OutputError::Exists { .. })
        ));
        let s = Staging::begin(&out, "manifest.json", true).expect("force");
        std::fs::write(s.path().join("manifest.json"), "{\"new\":1}").expect("write");
        s.commit().expect("commit");
        assert_eq!(
            std::fs::read_to_string(out.join("manifest.json")).expect("read"),
            "{\"new\":1}"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
            assert_eq!(mode(&out), 0o700);
            assert_eq!(mode(&out.join("manifest.json")), 0o600);
        }
    }

    #[test]
    fn a_dropped_staging_leaves_nothing_and_other_content_is_refused() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let out = tmp.path().join("run");
        {
            let s = Staging::begin(&out, "manifest.json", false).expect("begin");
            std::fs::write(s.path().join("x"), "x").expect("write");
        }
        assert_eq!(std::fs::read_dir(tmp.path()).expect("list").count(), 0);
        std::fs::create_dir(&out).expect("mkdir");
        Staging::begin(&out, "manifest.json", false).expect("an empty directory is fine");
        std::fs::write(out.join("notes.txt"), "mine").expect("write");
        assert!(matches!(
            Staging::begin(&out, "manifest.json", false),
            Err(OutputError::NotEmpty { .. })
        ));
    }
}
