//! `report.html`: the run report page, built from a finished run's outputs by
//! `reseclear::report::html::write_report_html`. The sample month is run by the binary;
//! the page must show the manifest's accounts, the match-weight histogram, the review
//! queue with masked person ids, the apportionment and statements by insurer and the
//! quarantine reasons; be byte-identical when built twice; and run its script in a
//! headless Chromium without errors.

mod common;
use common::root;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use reseclear::ingest::parquet_table::{opt_str, Table};
use reseclear::report::html::{
    mask_person_id, render_report_html, write_report_html, HtmlOptions, REPORT_HTML_FILE,
};
use serde_json::Value;

const CHROMIUM: &str = "/usr/bin/chromium";
/// Tier-3 matches need p ≥ 0.9999999 to be accepted: about half of the sample month's
/// tier-3 receipts go to review instead.
const REVIEW_CONFIG: &str = "[matching]\naccept_probability = 0.9999999\n";
/// Open claims are final at once: apportionment has rows.
const HOLD_0_CONFIG: &str = "[apportion]\nhold_months = 0\n";

/// A finished run of the sample month.
struct Run {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    label: &'static str,
}

impl Run {
    fn manifest(&self) -> Value {
        let text = std::fs::read_to_string(self.dir.join("manifest.json")).unwrap();
        serde_json::from_str(&text).unwrap()
    }

    fn report(&self, options: &HtmlOptions) -> String {
        let out = self.dir.join(REPORT_HTML_FILE);
        let summary = write_report_html(&self.dir, &out, options).expect("report.html");
        assert_eq!(summary.path, out);
        let html = std::fs::read_to_string(&out).unwrap();
        assert_eq!(summary.bytes, html.len() as u64);
        let name = format!(
            "{}{}",
            self.label,
            if options.show_pii { "-pii" } else { "" }
        );
        dump_for_people(&name, &html);
        html
    }
}

/// With `RESECLEAR_HTML_DUMP_DIR` set, pages are also copied there to be looked at.
fn dump_for_people(name: &str, html: &str) {
    if let Some(dir) = std::env::var_os("RESECLEAR_HTML_DUMP_DIR") {
        let dir = PathBuf::from(dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.html")), html).unwrap();
    }
}

/// Runs the sample month with a configuration (TOML; empty for the defaults).
fn run_sample(label: &'static str, config: &str) -> Run {
    let tmp = tempfile::Builder::new()
        .prefix(&format!("report-html-{label}-"))
        .tempdir()
        .unwrap();
    let dir = tmp.path().join("run");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_reseclear"));
    cmd.args(["run", "--input"])
        .arg(root().join("fixtures/sample"))
        .arg("--out")
        .arg(&dir);
    if !config.is_empty() {
        let path = tmp.path().join("config.toml");
        std::fs::write(&path, config).unwrap();
        cmd.arg("--config").arg(&path);
    }
    let out = cmd.output().expect("run reseclear");
    assert!(
        out.status.success(),
        "reseclear run failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    Run {
        _tmp: tmp,
        dir,
        label,
    }
}

/// `3,507,520`, as the page writes numbers.
fn grouped(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    if n < 0 {
        out.push('-');
    }
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// The part of the page from the element with `id` to the end of its section.
fn section<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no element with id {id}"));
    let rest = &html[start..];
    let end = rest.find("</section>").unwrap_or(rest.len());
    &rest[..end]
}

fn n(m: &Value, pointer: &str) -> i64 {
    m.pointer(pointer)
        .and_then(Value::as_i64)
        .unwrap_or_else(|| panic!("manifest has no number at {pointer}"))
}

/// Every person_id in the run's Parquet outputs.
fn person_ids(dir: &Path) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    for file in ["receipts.parquet", "match_report.parquet"] {
        let table = Table::read(&dir.join(file), &["person_id"]).unwrap();
        for batch in table.batches() {
            let col = batch.utf8("person_id").unwrap();
            for row in 0..batch.num_rows() {
                if let Some(p) = opt_str(col, row) {
                    ids.insert(p.to_string());
                }
            }
        }
    }
    ids
}

/// Keys (`clinic:YYYY-MM:number@organization`) of the receipts with status `review`,
/// in key order.
fn review_keys(dir: &Path) -> Vec<String> {
    let table = Table::read(
        &dir.join("receipts.parquet"),
        &[
            "organization",
            "clinic_code",
            "billing_month",
            "receipt_number",
            "status",
        ],
    )
    .unwrap();
    let mut keys = Vec::new();
    for batch in table.batches() {
        let (org, clinic, month, number, status) = (
            batch.u8("organization").unwrap(),
            batch.utf8("clinic_code").unwrap(),
            batch.utf8("billing_month").unwrap(),
            batch.u32("receipt_number").unwrap(),
            batch.utf8("status").unwrap(),
        );
        for row in 0..batch.num_rows() {
            if status.value(row) == "review" {
                keys.push((
                    org.value(row),
                    clinic.value(row).to_string(),
                    month.value(row).to_string(),
                    number.value(row),
                ));
            }
        }
    }
    keys.sort();
    keys.into_iter()
        .map(|(o, c, m, n)| format!("{c}:{m}:{n}@{o}"))
        .collect()
}

#[test]
fn the_page_shows_the_accounts_histogram_queue_and_quarantine_reasons() {
    let run = run_sample("default", "");
    let m = run.manifest();
    let html = run.report(&HtmlOptions::default());

    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.ends_with("</html>\n"));
    // Self-contained: nothing fetched.
    for outside in ["http://", "https://", "src=\"", "<link"] {
        let hits: Vec<_> = html
            .match_indices(outside)
            .filter(|(i, _)| !html[*i..].starts_with("http://www.w3.org/2000/svg"))
            .collect();
        assert!(hits.is_empty(), "the page refers outside itself: {outside}");
    }
    // The summary numbers, as the manifest has them.
    for (key, pointer) in [
        ("receipts_in", "/conservation/receipts/receipts_in"),
        ("yen_in", "/conservation/yen/yen_in"),
        ("share_in", "/conservation/insurer_share/share_in"),
        ("owed", "/conservation/insurer_share/owed"),
        ("quarantine_rows", "/quarantine/rows"),
    ] {
        let card = format!("data-key=\"{key}\">{}<", grouped(n(&m, pointer)));
        assert!(html.contains(&card), "missing {card}");
    }
    assert!(html.contains("accounts balanced"));
    let accounts = section(&html, "accounts");
    for status in m["conservation"]["receipts"]["by_status"]
        .as_object()
        .unwrap()
        .keys()
    {
        let yen = n(&m, &format!("/conservation/yen/by_status/{status}"));
        assert!(
            accounts.contains(&format!("{status}</td>")),
            "status {status}"
        );
        assert!(accounts.contains(&grouped(yen)), "{status} yen {yen}");
    }
    assert!(accounts.contains("agreeing with the manifest"));
    // Receipts per kind, as the manifest counts them.
    let kinds = m["uke"]["by_kind"].as_object().unwrap();
    assert!(!kinds.is_empty());
    for kind in kinds.keys() {
        let row = format!(
            "<code>{kind}</code></td><td class=\"num\">{}</td><td class=\"num\">{}</td>",
            grouped(n(&m, &format!("/uke/by_kind/{kind}/files"))),
            grouped(n(&m, &format!("/uke/by_kind/{kind}/receipts_read"))),
        );
        assert!(html.contains(&row), "missing {row}");
        // Then the kind's receipts through the run, its last cell what it is owed.
        let routed: i64 = ["verified", "rerouted", "matched"]
            .iter()
            .map(|s| {
                m.pointer(&format!("/conservation/by_kind/{kind}/by_status/{s}"))
                    .and_then(serde_json::Value::as_i64)
                    .unwrap_or(0)
            })
            .sum();
        assert!(routed > 0, "{kind}");
        let owed = n(
            &m,
            &format!("/conservation/insurer_share/owed_by_kind/{kind}"),
        );
        let tail = format!(
            "<td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            0,
            grouped(owed)
        );
        let at = html.find(&row).unwrap_or_default();
        let line = &html[at..at + html[at..].find("</tr>").unwrap_or_default() + 5];
        assert!(
            line.contains(&format!("<td class=\"num\">{}</td>", grouped(routed)))
                && line.ends_with(&tail),
            "{kind}: {line}"
        );
    }
    // Histogram with both thresholds (defaults: p 0.99 and 0.5).
    let matching = section(&html, "matching");
    assert!(matching.contains("<svg") && matching.contains("data-chart=\"weight-histogram\""));
    assert!(matching.contains("accept: p ≥ 0.99 (6.63 bits)"));
    assert!(matching.contains("review: p ≥ 0.5 (0.00 bits)"));
    // Review queue heading (the sample month has none in review by default).
    assert!(html.contains("<section id=\"review\"><h2 title=\"click to fold\">Review queue</h2>"));
    assert!(section(&html, "review").contains("No receipt is in review."));
    // No claim final with the default hold.
    assert!(html.contains("id=\"apportionment-empty\""));
    // Quarantine: every reason of quarantine.csv, and each scope.
    let quarantine = section(&html, "quarantine");
    let mut reader = csv::Reader::from_path(run.dir.join("quarantine.csv")).unwrap();
    let (mut rows, mut masked) = (0, 0);
    for record in reader.records() {
        let record = record.unwrap();
        rows += 1;
        let (value, reason) = (&record[4], &record[5]);
        if value.starts_with("<masked:") {
            // The run scrubs the reason of a masked value: no digit of it is left.
            masked += 1;
            assert!(
                !reason.chars().any(|c| c.is_ascii_digit()),
                "a reason quotes the value it masks: {reason}"
            );
        } else {
            assert!(
                quarantine.contains(&html_escape(reason)),
                "quarantine reason not shown: {reason}"
            );
        }
    }
    assert_eq!(rows as i64, n(&m, "/quarantine/rows"));
    assert!(masked > 0, "the sample month has a masked birth date");
    for (scope, count) in m["quarantine"]["by_scope"].as_object().unwrap() {
        assert!(quarantine.contains(&format!(
            "<tr><td>{scope}</td><td class=\"num\">{}</td></tr>",
            count.as_i64().unwrap()
        )));
    }
    // The duplicate receipt number is one reason with two rows.
    assert!(quarantine.contains(
        "<span class=\"count\">2</span> <span class=\"scope scope-receipt\">receipt</span> <span class=\"pattern\">receipt number # appears # times in the file (lines #, #)</span>"
    ));
    // No person id, not even of the matched receipts.
    for id in person_ids(&run.dir) {
        assert!(!html.contains(&id), "person_id {id} unmasked");
    }
    // The script hook a headless check looks for.
    assert!(html.contains("<div id=\"script-errors\" class=\"script-errors\" hidden></div>"));
    assert!(html.contains("window.onerror"));
    assert!(html.contains("document.body.dataset.ready = \"1\""));
}

#[test]
fn the_same_run_gives_the_same_bytes() {
    let run = run_sample("review-twice", REVIEW_CONFIG);
    let first = run.report(&HtmlOptions::default());
    let (second, summary) = render_report_html(&run.dir, &HtmlOptions::default()).unwrap();
    assert_eq!(first, second);
    assert_eq!(summary.bytes, first.len() as u64);
    let again = std::fs::read(run.dir.join(REPORT_HTML_FILE)).unwrap();
    write_report_html(
        &run.dir,
        &run.dir.join(REPORT_HTML_FILE),
        &HtmlOptions::default(),
    )
    .unwrap();
    assert_eq!(
        again,
        std::fs::read(run.dir.join(REPORT_HTML_FILE)).unwrap()
    );
}

#[test]
fn apportionment_and_statements_show_the_top_insurers() {
    let run = run_sample("hold0", HOLD_0_CONFIG);
    let m = run.manifest();
    let options = HtmlOptions::default();
    let html = run.report(&options);

    let table = Table::read(
        &run.dir.join("apportionment.parquet"),
        &["insurer_number", "amount_yen"],
    )
    .unwrap();
    let mut by_insurer: BTreeMap<String, i64> = BTreeMap::new();
    for batch in table.batches() {
        let insurer = batch.utf8("insurer_number").unwrap();
        let amount = batch.i64("amount_yen").unwrap();
        for row in 0..batch.num_rows() {
            *by_insurer
                .entry(insurer.value(row).to_string())
                .or_default() += amount.value(row);
        }
    }
    assert!(
        !by_insurer.is_empty(),
        "hold_months = 0 apportions the open claims"
    );
    let mut ranked: Vec<(String, i64)> = by_insurer.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let apportionment = section(&html, "apportionment");
    assert!(apportionment.contains("data-chart=\"apportionment-bars\""));
    let table_html = section(&html, "apportionment-table");
    for (insurer, yen) in ranked.iter().take(options.top_insurers) {
        assert!(
            table_html.contains(&format!("<td class=\"insurer\">{insurer}</td>")),
            "insurer {insurer} missing from the apportionment table"
        );
        assert!(table_html.contains(&grouped(*yen)));
    }
    let total = n(&m, "/apportionment/yen");
    assert_eq!(total, ranked.iter().map(|r| r.1).sum::<i64>());
    assert!(table_html.contains(&format!(
        "<td class=\"num\">{}</td><td class=\"num\">100%</td>",
        grouped(total)
    )));

    // Statements: the top insurers by owed yen, and the totals.
    let statements = section(&html, "statements-table");
    let mut reader = csv::Reader::from_path(run.dir.join("statements.csv")).unwrap();
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (insurer_at, owed_at) = (col("insurer_number"), col("owed_yen"));
    let mut owed: Vec<(i64, String)> = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[owed_at].parse().unwrap(), r[insurer_at].to_string())
        })
        .collect();
    owed.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    for (yen, insurer) in owed.iter().take(options.top_insurers) {
        assert!(
            statements.contains(&format!("<td class=\"insurer\">{insurer}</td>")),
            "insurer {insurer} ({yen} yen owed) missing from the statements table"
        );
    }
    assert!(statements.contains(&grouped(n(&m, "/conservation/insurer_share/owed"))));
    assert!(
        section(&html, "statements").contains("<p class=\"check ok\">Σ owed over the statements")
    );
}

#[test]
fn the_review_queue_shows_ranked_candidates_with_person_ids_masked() {
    let run = run_sample("review", REVIEW_CONFIG);
    let m = run.manifest();
    let in_review = n(&m, "/conservation/receipts/by_status/review");
    assert!(
        in_review >= 3,
        "the review config should put receipts in review"
    );
    let keys = review_keys(&run.dir);
    assert_eq!(keys.len() as i64, in_review);

    let html = run.report(&HtmlOptions::default());
    let queue = section(&html, "review");
    assert_eq!(
        queue.matches("class=\"review-item\"").count() as i64,
        in_review
    );
    assert!(queue.contains("id=\"review-filter\""));
    assert!(queue.contains("data-chart=\"waterfall\""));
    assert!(queue.contains("log2 prior odds"));
    assert!(queue.contains("<th class=\"num\">log2 BF</th><th class=\"num\">running</th>"));
    for key in &keys {
        assert!(queue.contains(&format!("<span class=\"key\">{key}</span>")));
    }
    let ids = person_ids(&run.dir);
    assert!(!ids.is_empty());
    for id in &ids {
        assert!(!html.contains(id.as_str()), "person_id {id} unmasked");
    }
    let masked: Vec<String> = ids.iter().map(|id| mask_person_id(id, false)).collect();
    assert!(masked.iter().any(|m| queue.contains(m.as_str())));

    // With show_pii the candidates' ids are shown.
    let shown = run.report(&HtmlOptions {
        show_pii: true,
        ..HtmlOptions::default()
    });
    assert!(ids
        .iter()
        .any(|id| section(&shown, "review").contains(id.as_str())));
    assert!(shown.contains("personal data shown"));

    // A cap keeps the first receipts by key and says how many more there are.
    let (capped, summary) = render_report_html(
        &run.dir,
        &HtmlOptions {
            review_limit: 2,
            ..HtmlOptions::default()
        },
    )
    .unwrap();
    assert_eq!(summary.review_receipts as i64, in_review);
    assert_eq!(summary.review_shown, 2);
    let queue = section(&capped, "review");
    assert_eq!(queue.matches("class=\"review-item\"").count(), 2);
    for (i, key) in keys.iter().enumerate() {
        let present = queue.contains(&format!("<span class=\"key\">{key}</span>"));
        assert_eq!(present, i < 2, "{key}");
    }
    assert!(queue.contains(&format!("<b>{}</b> more are not shown", in_review - 2)));
}

#[test]
fn optional_outputs_may_be_missing_and_failing_accounts_are_shown() {
    let run = run_sample("missing", HOLD_0_CONFIG);
    let full = run.report(&HtmlOptions::default());
    std::fs::remove_file(run.dir.join("statements.parquet")).unwrap();
    let (from_csv, _) = render_report_html(&run.dir, &HtmlOptions::default()).unwrap();
    assert_eq!(
        section(&full, "statements-table"),
        section(&from_csv, "statements-table"),
        "statements.csv and statements.parquet give the same table"
    );
    for file in [
        "statements.csv",
        "match_report.parquet",
        "apportionment.parquet",
        "quarantine.csv",
    ] {
        std::fs::remove_file(run.dir.join(file)).unwrap();
    }
    let (bare, _) = render_report_html(&run.dir, &HtmlOptions::default()).unwrap();
    assert!(bare.contains("apportionment.parquet is missing"));
    assert!(bare.contains("quarantine.csv is missing"));
    assert!(bare.contains("Neither statements.parquet nor statements.csv is present"));

    // Accounts that do not balance: the failing equations are shown.
    let mut manifest = run.manifest();
    manifest["conservation"]["balanced"] = Value::Bool(false);
    manifest["conservation"]["problems"] =
        serde_json::json!(["owed 10 ≠ routed 4 + apportioned <5>"]);
    std::fs::write(
        run.dir.join("manifest.json"),
        serde_json::to_string_pretty(&manifest).unwrap(),
    )
    .unwrap();
    let (unbalanced, summary) = render_report_html(&run.dir, &HtmlOptions::default()).unwrap();
    assert!(!summary.balanced);
    assert!(unbalanced.contains("accounts do NOT balance"));
    assert!(unbalanced.contains("<li>owed 10 ≠ routed 4 + apportioned &lt;5&gt;</li>"));

    std::fs::remove_file(run.dir.join("manifest.json")).unwrap();
    let err = render_report_html(&run.dir, &HtmlOptions::default()).unwrap_err();
    assert!(err.to_string().contains("manifest.json"), "{err}");
}

/// Runs headless Chromium on a page and returns the DOM after its scripts ran.
fn chromium_dom(page: &Path, profile: &Path) -> String {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is not installed: the report's script is checked in a headless browser. \
         Install it with `apt-get install -y chromium` (CI does so in .ci/run)."
    );
    let stdout_path = profile.join("dom.html");
    let stderr_path = profile.join("chromium.log");
    let mut child = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        // Files, not pipes: the DOM is larger than a pipe holds while we wait.
        .stdout(Stdio::from(std::fs::File::create(&stdout_path).unwrap()))
        .stderr(Stdio::from(std::fs::File::create(&stderr_path).unwrap()))
        .spawn()
        .expect("start chromium");
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for chromium") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish in 120 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let dom = String::from_utf8_lossy(&std::fs::read(&stdout_path).unwrap()).into_owned();
    assert!(
        dom.contains("<body"),
        "chromium dumped no DOM ({status}): {}",
        String::from_utf8_lossy(&std::fs::read(&stderr_path).unwrap_or_default())
    );
    dom
}

/// The text inside the element with id `script-errors`.
fn script_errors(dom: &str) -> &str {
    let start = dom
        .find("id=\"script-errors\"")
        .expect("script-errors element");
    let open_end = start + dom[start..].find('>').unwrap() + 1;
    let close = open_end + dom[open_end..].find("</div>").unwrap();
    &dom[open_end..close]
}

#[test]
fn headless_chromium_runs_the_page_script_without_errors() {
    let run = run_sample("chromium", REVIEW_CONFIG);
    run.report(&HtmlOptions::default());
    let page = run.dir.join(REPORT_HTML_FILE);
    let profile = tempfile::tempdir().unwrap();
    let dom = chromium_dom(&page, profile.path());
    assert!(
        dom.contains("data-ready=\"1\""),
        "the script did not finish"
    );
    assert_eq!(script_errors(&dom), "", "script errors");
    assert!(
        dom.contains("of ") && dom.contains(" shown</span>"),
        "the filter counted the queue"
    );

    // The hook reports a failing script in the DOM.
    let html = std::fs::read_to_string(&page).unwrap();
    let broken = html.replacen(
        "<script>(function",
        "<script>undefinedFunctionOfTheReport();</script><script>(function",
        1,
    );
    assert_ne!(broken, html);
    let broken_page = run.dir.join("broken.html");
    std::fs::write(&broken_page, broken).unwrap();
    let profile = tempfile::tempdir().unwrap();
    let dom = chromium_dom(&broken_page, profile.path());
    assert!(
        dom.contains("data-ready=\"error\""),
        "errors set data-ready"
    );
    assert!(script_errors(&dom).contains("undefinedFunctionOfTheReport"));
}
