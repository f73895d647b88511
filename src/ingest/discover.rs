//! Walking a claim month's input directory: which files are there to be read.
//!
//! The walk finds every regular file below the directory and says, with a `notice`
//! row naming the path, what it does not read: a symbolic link that leads out of the
//! directory, nowhere, or into a directory already walked (a loop); a FIFO, socket or
//! device (reading one could hang the run, or never end); a file byte-identical to one
//! already taken (its receipts would count twice). It does not decide what a file is:
//! [`is_uke`] does that, by name (`*.UKE`, `*.CYO`) or by its first record.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use crate::validate::{QuarantineRow, Scope};

/// One regular file found below the input directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundFile {
    /// The path as walked (below the directory given, links not resolved).
    pub path: PathBuf,
    /// The path relative to the input directory, `/`-separated: how outputs name it.
    pub display: String,
    /// Directly in the input directory (where the roster and the master are).
    pub top_level: bool,
    /// Its size in bytes when it was found.
    pub len: u64,
}

/// What a walk found: the files to consider, sorted by `display`, and a notice for
/// each path it would not read.
#[derive(Debug, Clone, Default)]
pub struct Walk {
    pub files: Vec<FoundFile>,
    pub notices: Vec<QuarantineRow>,
}

/// Whether a file found is a receipt file: named as clinics and pharmacies name them
/// (`*.UKE`, `*.CYO`, any case), or, whatever its name, opening with a receipt file's
/// header record (`IR,`, `UK,` or `YK,`, after a UTF-8 BOM if any). A file that cannot
/// be opened is taken by its name alone (reading it then says why it fails).
pub fn is_uke(file: &FoundFile) -> bool {
    let named = file
        .path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("uke") || e.eq_ignore_ascii_case("cyo"));
    named || opens_with_header(&file.path)
}

/// The first bytes of `path` are a receipt file's header record.
fn opens_with_header(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 6];
    let Ok(f) = std::fs::File::open(path) else {
        return false;
    };
    let mut read = 0;
    let mut f = f.take(head.len() as u64);
    while read < head.len() {
        match f.read(&mut head[read..]) {
            Ok(0) | Err(_) => break,
            Ok(n) => read += n,
        }
    }
    let head = &head[..read];
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    matches!(
        head,
        [b'I', b'R', b',', ..] | [b'U', b'K', b',', ..] | [b'Y', b'K', b',', ..]
    )
}

/// Walks `dir` (see the module doc). Only a directory that cannot be listed is an
/// error; everything else is a notice.
pub fn walk(dir: &Path) -> std::io::Result<Walk> {
    let base = dir.canonicalize()?;
    let mut walker = Walker {
        dir,
        base: base.clone(),
        visited: HashSet::from([base]),
        walk: Walk::default(),
    };
    walker.walk_dir(dir, true)?;
    let mut walk = walker.walk;
    walk.files.sort_by(|a, b| a.display.cmp(&b.display));
    Ok(walk)
}

struct Walker<'a> {
    dir: &'a Path,
    /// The input directory with every link resolved: a link must stay below it.
    base: PathBuf,
    /// Directories walked, links resolved: a link to one of them is a loop or a
    /// second way into the same files.
    visited: HashSet<PathBuf>,
    walk: Walk,
}

impl Walker<'_> {
    fn notice(&mut self, display: &str, reason: String) {
        self.walk.notices.push(QuarantineRow::new(
            display,
            0,
            "-",
            "-",
            "",
            reason,
            Scope::Notice,
        ));
    }

    fn walk_dir(&mut self, here: &Path, top_level: bool) -> std::io::Result<()> {
        let mut entries = std::fs::read_dir(here)?.collect::<Result<Vec<_>, _>>()?;
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let path = entry.path();
            let display = relative(self.dir, &path);
            let kind = entry.file_type()?;
            let (real, meta) = if kind.is_symlink() {
                match std::fs::canonicalize(&path) {
                    Err(e) => {
                        self.notice(
                            &display,
                            format!(
                                "a symbolic link that cannot be followed ({e}: it leads nowhere or into a loop): not read"
                            ),
                        );
                        continue;
                    }
                    Ok(target) if !target.starts_with(&self.base) => {
                        self.notice(
                            &display,
                            "a symbolic link to a path outside the input directory: not followed, not read; copy the file in if it belongs to the month".into(),
                        );
                        continue;
                    }
                    Ok(target) => (target, std::fs::metadata(&path)?),
                }
            } else {
                (path.clone(), entry.metadata()?)
            };
            if meta.is_dir() {
                let real = if kind.is_symlink() {
                    real
                } else {
                    real.canonicalize()?
                };
                if !self.visited.insert(real) {
                    self.notice(
                        &display,
                        "a symbolic link to a directory already walked (a loop, or a second path to the same files): not followed".into(),
                    );
                    continue;
                }
                self.walk_dir(&path, false)?;
            } else if meta.is_file() {
                self.walk.files.push(FoundFile {
                    path,
                    display,
                    top_level,
                    len: meta.len(),
                });
            } else {
                self.notice(
                    &display,
                    format!(
                        "not a regular file ({}): not read",
                        special_kind(&meta.file_type())
                    ),
                );
            }
        }
        Ok(())
    }
}

/// What a file that is neither a regular file nor a directory is, in words.
fn special_kind(kind: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a FIFO";
        }
        if kind.is_socket() {
            return "a socket";
        }
        if kind.is_block_device() || kind.is_char_device() {
            return "a device";
        }
    }
    let _ = kind;
    "not a file or directory"
}

/// Files whose bytes are the same as an earlier one's (in `files`' order): each
/// later copy is removed from `files`, with a notice naming both. Only files of equal
/// size are hashed.
pub fn drop_identical(files: &mut Vec<FoundFile>) -> std::io::Result<Vec<QuarantineRow>> {
    let mut by_len: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
    for (i, f) in files.iter().enumerate() {
        by_len.entry(f.len).or_default().push(i);
    }
    let mut dropped: Vec<(usize, usize)> = Vec::new();
    for group in by_len.values().filter(|g| g.len() > 1) {
        let mut first_of: BTreeMap<String, usize> = BTreeMap::new();
        for &i in group {
            let hash = crate::manifest::sha256_file(&files[i].path)?;
            match first_of.get(&hash) {
                Some(&first) => dropped.push((i, first)),
                None => {
                    first_of.insert(hash, i);
                }
            }
        }
    }
    dropped.sort_unstable();
    let notices = dropped
        .iter()
        .map(|&(i, first)| {
            QuarantineRow::new(
                &files[i].display,
                0,
                "-",
                "-",
                "",
                format!(
                    "byte-identical to {}: the file is read once, as {}; this copy is not read",
                    files[first].display, files[first].display
                ),
                Scope::Notice,
            )
        })
        .collect();
    let gone: HashSet<usize> = dropped.iter().map(|&(i, _)| i).collect();
    let mut i = 0;
    files.retain(|_| {
        i += 1;
        !gone.contains(&(i - 1))
    });
    Ok(notices)
}

/// `path` relative to `base`, `/`-separated.
pub fn relative(base: &Path, path: &Path) -> String {
    path.strip_prefix(base)
        .unwrap_or(path)
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(walk: &Walk) -> Vec<&str> {
        walk.files.iter().map(|f| f.display.as_str()).collect()
    }

    #[test]
    fn links_out_loops_and_fifos_are_notices_not_files() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("uke/1")).unwrap();
        std::fs::write(d.join("uke/1/A.UKE"), "x").unwrap();
        std::os::unix::fs::symlink(d.join("uke"), d.join("uke/1/loop")).unwrap();
        std::os::unix::fs::symlink("/etc/hostname", d.join("uke/B.UKE")).unwrap();
        std::os::unix::fs::symlink(d.join("nowhere"), d.join("C.UKE")).unwrap();
        let walk = walk(d).unwrap();
        assert_eq!(names(&walk), ["uke/1/A.UKE"]);
        let noticed: Vec<&str> = walk.notices.iter().map(|n| n.file.as_str()).collect();
        assert_eq!(noticed, ["C.UKE", "uke/1/loop", "uke/B.UKE"]);
        assert!(walk.notices.iter().all(|n| n.scope == Scope::Notice));
    }

    #[test]
    fn identical_files_are_kept_once() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for (name, text) in [("a.UKE", "same"), ("b.UKE", "same"), ("c.UKE", "sane")] {
            std::fs::write(d.join(name), text).unwrap();
        }
        let mut files = walk(d).unwrap().files;
        let notices = drop_identical(&mut files).unwrap();
        assert_eq!(
            files.iter().map(|f| f.display.as_str()).collect::<Vec<_>>(),
            ["a.UKE", "c.UKE"]
        );
        assert_eq!(notices.len(), 1);
        assert_eq!(notices[0].file, "b.UKE");
        assert!(notices[0].reason.contains("a.UKE"));
    }
}
