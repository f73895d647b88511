//! The no-loss promises of the output directory, through the binary: no command deletes
//! or overwrites what is not its own earlier output, one writer at a time, and a kill at
//! any instant (at each pause point of `output_dir`, or hundreds of times at random)
//! leaves either the old output or the new one, complete and verifiable.

mod common;
use common::{bin, copy_dir, sample};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn ok(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("run reseclear");
    assert!(
        out.status.success(),
        "reseclear failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The command's exit code (2) and its one-line error.
fn refused(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run reseclear");
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    err
}

fn run(input: &Path, out: &Path) -> Command {
    let mut cmd = bin();
    cmd.args(["--quiet", "run", "--input"])
        .arg(input)
        .arg("--out")
        .arg(out);
    cmd
}

/// Every file below `dir` (hidden ones too), relative path → bytes; timings.json, the
/// one output that differs between runs, as its name only.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).expect("list") {
            let path = entry.expect("entry").path();
            let rel = path
                .strip_prefix(root)
                .expect("below")
                .to_string_lossy()
                .into_owned();
            if path.is_dir() {
                walk(root, &path, out);
            } else if rel == "timings.json" {
                out.insert(rel, Vec::new());
            } else {
                out.insert(rel, std::fs::read(&path).expect("read"));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn run_force_never_deletes_its_input_a_parent_of_it_or_a_foreign_directory() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let input = tmp.path().join("month");
    copy_dir(&sample(), &input);
    let before = tree(tmp.path());
    for (out, words) in [
        (input.clone(), "is the same directory as "),
        (tmp.path().to_path_buf(), "contains "),
        (input.join("uke/out"), "lies inside "),
    ] {
        let err = refused(run(&input, &out).arg("--force"));
        assert!(
            err.contains(&format!("{words}{}", input.display()))
                && err.contains("an input of this command"),
            "{}: {err}",
            out.display()
        );
    }
    // A directory of someone else's files: never replaced, --force or not.
    let foreign = tmp.path().join("notes");
    std::fs::create_dir(&foreign).expect("mkdir");
    std::fs::write(foreign.join("mine.txt"), "keep me").expect("write");
    for force in [false, true] {
        let mut cmd = run(&input, &foreign);
        if force {
            cmd.arg("--force");
        }
        let err = refused(&mut cmd);
        assert!(
            err.contains("is not a complete earlier `reseclear run` output"),
            "{err}"
        );
    }
    // The root directory and the home directory (a stand-in home here).
    let home = tmp.path().join("home");
    std::fs::create_dir(&home).expect("mkdir");
    std::fs::write(home.join(".profile"), "mine").expect("write");
    let err = refused(run(&input, &home).arg("--force").env("HOME", &home));
    assert!(err.contains("is your home directory"), "{err}");
    let err = refused(run(&input, Path::new("/")).arg("--force"));
    assert!(err.contains("is the root directory"), "{err}");
    // The ledger given as --pending is an input too.
    let last = tmp.path().join("last");
    ok(&mut run(&input, &last));
    let err = refused(
        run(&input, &last)
            .arg("--force")
            .arg("--pending")
            .arg(last.join("pending.parquet")),
    );
    assert!(err.contains("contains"), "{err}");
    std::fs::remove_dir_all(&last).expect("rm");

    let mut after = tree(tmp.path());
    after.remove("home/.profile");
    after.remove("notes/mine.txt");
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>()
    );
    assert!(before == after, "the input month changed");
    assert_eq!(names(&foreign), ["mine.txt"]);
    assert_eq!(names(&home), [".profile"]);
}

#[test]
fn apportion_never_replaces_the_run_it_reads_nor_a_run_directory() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let runs = tmp.path().join("runs");
    let month = runs.join("2026-06");
    ok(&mut run(&sample(), &month));
    let before = tree(&runs);
    let apportion = |out: &Path| {
        let mut cmd = bin();
        cmd.args(["--quiet", "apportion", "--basis", "headcount", "--run"])
            .arg(&month)
            .arg("--out")
            .arg(out)
            .arg("--force");
        cmd
    };
    let err = refused(&mut apportion(&month));
    assert!(err.contains("is ") && err.contains("an input"), "{err}");
    let err = refused(&mut apportion(&runs));
    assert!(err.contains("contains"), "{err}");
    // Another month's run is not an `apportion` output.
    let other = tmp.path().join("other");
    ok(&mut run(&sample(), &other));
    let err = refused(&mut apportion(&other));
    assert!(
        err.contains("is not a complete earlier `reseclear apportion` output"),
        "{err}"
    );
    assert!(before == tree(&runs), "the run changed");
    // Its own earlier output is replaced with --force, and only with it.
    let out = tmp.path().join("headcount");
    ok(&mut apportion(&out));
    let mut again = bin();
    again
        .args(["apportion", "--run"])
        .arg(&month)
        .arg("--out")
        .arg(&out);
    let err = refused(&mut again);
    assert!(err.contains("already holds an apportion output"), "{err}");
    ok(&mut apportion(&out));
}

#[test]
fn generate_replaces_only_an_earlier_generated_month_and_only_with_force() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let generate = |out: &Path, force: bool| {
        let mut cmd = bin();
        cmd.args([
            "--quiet",
            "generate",
            "--persons",
            "200",
            "--receipts",
            "50",
            "--out",
        ])
        .arg(out);
        if force {
            cmd.arg("--force");
        }
        cmd
    };
    let foreign = tmp.path().join("mine");
    std::fs::create_dir(&foreign).expect("mkdir");
    std::fs::write(foreign.join("notes.txt"), "keep").expect("write");
    for force in [false, true] {
        let err = refused(&mut generate(&foreign, force));
        assert!(
            err.contains("is not a complete earlier `reseclear generate` output"),
            "{err}"
        );
    }
    assert_eq!(names(&foreign), ["notes.txt"]);
    let month = tmp.path().join("month");
    ok(&mut generate(&month, false));
    let first = tree(&month);
    let err = refused(&mut generate(&month, false));
    assert!(
        err.contains("already holds a generate output (its truth.parquet)"),
        "{err}"
    );
    ok(&mut generate(&month, true));
    assert!(first == tree(&month), "same seed, same month");
    assert_eq!(
        names(tmp.path()),
        ["mine", "month"],
        "no work directory left"
    );
}

/// A command paused at `point` (see `reseclear::pause`), and the file that holds it.
struct Paused {
    child: Child,
    file: PathBuf,
}

fn pause_at(mut cmd: Command, point: &str, dir: &Path) -> Paused {
    let file = dir.join(format!("pause-{point}"));
    let child = cmd
        .env("RESECLEAR_PAUSE_AT", point)
        .env("RESECLEAR_PAUSE_FILE", &file)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let start = Instant::now();
    while !file.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "never reached {point}"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    Paused { child, file }
}

impl Paused {
    fn kill(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reap");
        let _ = std::fs::remove_file(&self.file);
    }

    fn resume(mut self) -> Output {
        std::fs::remove_file(&self.file).expect("resume");
        let status = self.child.wait().expect("wait");
        let mut stderr = Vec::new();
        if let Some(mut e) = self.child.stderr.take() {
            std::io::Read::read_to_end(&mut e, &mut stderr).expect("stderr");
        }
        Output {
            status,
            stdout: Vec::new(),
            stderr,
        }
    }
}

fn config(dir: &Path, hold: u32) -> PathBuf {
    let path = dir.join(format!("hold{hold}.toml"));
    std::fs::write(&path, format!("[apportion]\nhold_months = {hold}\n")).expect("config");
    path
}

/// Two different complete runs of the sample month (apportioned at once, or held), as
/// references for what `out` may hold after a kill.
fn references(dir: &Path) -> [BTreeMap<String, Vec<u8>>; 2] {
    [0, 1].map(|hold| {
        let out = dir.join(format!("reference{hold}"));
        ok(run(&sample(), &out).arg("--config").arg(config(dir, hold)));
        tree(&out)
    })
}

/// `out` holds one of the references whole, and `verify` passes on it.
fn old_or_new(out: &Path, refs: &[BTreeMap<String, Vec<u8>>; 2]) -> usize {
    let now = tree(out);
    let which = refs.iter().position(|r| *r == now).unwrap_or_else(|| {
        panic!(
            "{} holds neither complete run: {:?}",
            out.display(),
            now.keys().collect::<Vec<_>>()
        )
    });
    let v = bin()
        .args(["verify", "--run"])
        .arg(out)
        .output()
        .expect("verify");
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stdout));
    which
}

#[test]
fn a_kill_at_each_pause_point_leaves_the_old_or_the_new_run() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let refs = references(tmp.path());
    let out = tmp.path().join("run");
    ok(run(&sample(), &out)
        .arg("--config")
        .arg(config(tmp.path(), 0)));
    for (point, expected) in [("begun", 0), ("staged", 0), ("exchanged", 1)] {
        let mut cmd = run(&sample(), &out);
        cmd.arg("--force")
            .arg("--config")
            .arg(config(tmp.path(), 1));
        pause_at(cmd, point, tmp.path()).kill();
        assert_eq!(old_or_new(&out, &refs), expected, "killed at {point}");
        // The next run clears what the killed one left and takes over its stale lock.
        let mut again = run(&sample(), &out);
        again
            .args(["--log-level", "warn", "--force", "--config"])
            .arg(config(tmp.path(), 0));
        let o = ok(&mut again);
        assert_eq!(old_or_new(&out, &refs), 0);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("took over a stale lock"), "{point}: {err}");
        assert!(
            !err.contains('\x1b'),
            "no colour codes off a terminal: {err}"
        );
        let left: Vec<String> = names(tmp.path())
            .into_iter()
            .filter(|n| n.starts_with(".run"))
            .collect();
        assert!(left.is_empty(), "{point}: left {left:?}");
    }
}

#[test]
fn a_second_writer_of_the_same_out_fails_at_once_naming_the_first() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("run");
    let first = pause_at(run(&sample(), &out), "staged", tmp.path());
    let pid = first.child.id();
    // Every file is private from its creation, not only once put in place.
    {
        use std::os::unix::fs::PermissionsExt;
        let work = tmp.path().join(".run.reseclear");
        let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode(&work), 0o700);
        assert_eq!(mode(&work.join("lock")), 0o600);
        let staged = names(&work.join("new"));
        assert!(
            staged.contains(&"receipts.parquet".to_string()),
            "{staged:?}"
        );
        for name in staged {
            assert_eq!(mode(&work.join("new").join(&name)), 0o600, "{name}");
        }
    }
    let second = bin()
        .args(["--log-format", "json", "run", "--input"])
        .arg(sample())
        .arg("--out")
        .arg(&out)
        .arg("--force")
        .output()
        .expect("second run");
    assert_eq!(second.status.code(), Some(2));
    let err = String::from_utf8_lossy(&second.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    let v: serde_json::Value = serde_json::from_str(err.trim()).expect("one JSON object");
    assert_eq!(v["code"], "output_locked", "{v}");
    let message = v["message"].as_str().expect("message");
    assert!(
        message.contains(&format!("pid {pid}, `reseclear run`")),
        "{message}"
    );
    let done = first.resume();
    assert!(done.status.success(), "{done:?}");
    ok(bin().args(["verify", "--run"]).arg(&out));
}

#[test]
fn a_full_disk_fails_the_run_cleanly_and_keeps_the_old_one() {
    use std::os::unix::process::CommandExt;
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("run");
    ok(&mut run(&sample(), &out));
    let before = tree(&out);
    let mut cmd = run(&sample(), &out);
    cmd.arg("--force");
    // SAFETY: setrlimit and signal are async-signal-safe; the child only then execs.
    unsafe {
        cmd.pre_exec(|| {
            // Writing past 16 KiB fails (EFBIG) as on a full disk, instead of a signal.
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let limit = libc::rlimit {
                rlim_cur: 16 << 10,
                rlim_max: 16 << 10,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let err = refused(&mut cmd);
    assert!(err.contains(".run.reseclear/new/"), "names the file: {err}");
    assert!(before == tree(&out), "the old run is intact");
    assert_eq!(names(tmp.path()), ["run"], "nothing left behind");
}

#[test]
fn fatal_errors_are_one_json_object_with_a_code_and_log_levels_are_checked() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let o = bin()
        .args(["--log-format", "json", "run", "--input"])
        .arg(tmp.path().join("missing"))
        .arg("--out")
        .arg(tmp.path().join("out"))
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    let v: serde_json::Value = serde_json::from_str(err.trim()).expect("one JSON object");
    assert_eq!(v["code"], "input_missing", "{v}");
    assert_eq!(v["level"], "ERROR");
    assert!(
        v["message"]
            .as_str()
            .is_some_and(|m| m.contains("not a directory")),
        "{v}"
    );
    let o = bin()
        .args(["--log-level", "verbose", "run", "--input"])
        .arg(sample())
        .arg("--out")
        .arg(tmp.path().join("out"))
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(2), "a usage error");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("invalid value 'verbose' for '--log-level"),
        "{err}"
    );
    assert!(!tmp.path().join("out").exists());
}

/// xorshift: the same kill times in every CI run.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

/// Starts `cmd`, kills it after `delay` (unless it finished first).
fn kill_after(mut cmd: Command, delay: Duration) {
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    std::thread::sleep(delay);
    let _ = child.kill();
    child.wait().expect("reap");
}

#[test]
fn two_hundred_and_fifty_random_kills_of_run_apportion_and_purge_each_leave_a_complete_output() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let refs = references(tmp.path());
    let configs = [config(tmp.path(), 0), config(tmp.path(), 1)];
    let out = tmp.path().join("run");
    ok(run(&sample(), &out).arg("--config").arg(&configs[0]));
    // The slower of the two configurations, each timed once: kills land anywhere from
    // the start to well after a run's end, so that both outcomes are seen however the
    // machine's load shifts the runs' times.
    let mut run_time = 0;
    for config in [&configs[1], &configs[0], &configs[1]] {
        let started = Instant::now();
        ok(run(&sample(), &out)
            .arg("--force")
            .arg("--config")
            .arg(config));
        run_time = run_time.max(started.elapsed().as_micros() as u64);
    }
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    let mut seen = [0u32; 2];
    for i in 0..150 {
        let mut cmd = run(&sample(), &out);
        cmd.arg("--force").arg("--config").arg(&configs[i % 2]);
        kill_after(cmd, Duration::from_micros(rng.below(run_time * 2)));
        seen[old_or_new(&out, &refs)] += 1;
    }
    assert!(seen[0] > 0 && seen[1] > 0, "{seen:?}");

    // apportion: its own output, replaced again and again.
    let apportioned = [0, 1].map(|b| {
        let dir = tmp.path().join(format!("apportioned{b}"));
        ok(&mut apportion(&out, &dir, b));
        tree(&dir)
    });
    let target = tmp.path().join("apportion");
    ok(&mut apportion(&out, &target, 0));
    let started = Instant::now();
    ok(apportion(&out, &target, 1).arg("--force"));
    let apportion_time = started.elapsed().as_micros() as u64;
    for i in 0..60 {
        let mut cmd = apportion(&out, &target, i % 2);
        cmd.arg("--force");
        kill_after(
            cmd,
            Duration::from_micros(rng.below(apportion_time + apportion_time / 4)),
        );
        let now = tree(&target);
        assert!(
            apportioned.contains(&now),
            "kill {i}: neither complete apportionment: {:?}",
            now.keys().collect::<Vec<_>>()
        );
    }

    // purge: rewrites the run in place; a kill leaves the run as it was, or purged
    // once more (its log one entry longer) and still verifiable.
    let settled = tmp.path().join("settled");
    ok(run(&sample(), &settled).arg("--config").arg(&configs[0]));
    let purge = || {
        let mut cmd = bin();
        cmd.args(["--quiet", "purge", "--run"]).arg(&settled);
        cmd
    };
    ok(&mut purge());
    let started = Instant::now();
    ok(&mut purge());
    let purge_time = started.elapsed().as_micros() as u64;
    let mut purged = 0;
    for i in 0..40 {
        let before = tree(&settled);
        kill_after(
            purge(),
            Duration::from_micros(rng.below(purge_time + purge_time / 4)),
        );
        let now = tree(&settled);
        if now != before {
            let (old, new) = (&before["purge_log.csv"], &now["purge_log.csv"]);
            assert!(
                new.len() > old.len() && new.starts_with(old),
                "kill {i}: the purge log lost entries"
            );
            purged += 1;
        }
        ok(bin().args(["verify", "--run"]).arg(&settled));
    }
    assert!(purged < 40, "some purges were killed before they finished");
}

fn apportion(run: &Path, out: &Path, basis: usize) -> Command {
    let mut cmd = bin();
    cmd.args(["--quiet", "apportion", "--basis"])
        .arg(["claims", "headcount"][basis])
        .arg("--run")
        .arg(run)
        .arg("--out")
        .arg(out);
    cmd
}

#[test]
fn purge_of_a_directory_that_is_not_a_run_says_so_once() {
    let err = refused(bin().args(["purge", "--run"]).arg(sample()));
    assert_eq!(
        err.trim(),
        format!(
            "error: {}: not the output directory of a run (no valid manifest.json); give --run the directory a `reseclear run` wrote",
            sample().display()
        )
    );
    // A cause the error already quotes is not printed twice.
    let tmp = tempfile::tempdir().expect("tempdir");
    let err = refused(
        bin()
            .args(["run", "--input"])
            .arg(sample())
            .arg("--out")
            .arg(tmp.path().join("out"))
            .arg("--config")
            .arg(tmp.path().join("missing.toml")),
    );
    assert_eq!(err.matches("No such file or directory").count(), 1, "{err}");
}
