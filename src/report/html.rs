//! `report.html`: one self-contained page a person reads after a run — the run's
//! accounts, the tier-3 match weights, the clerical review queue with the evidence of
//! every candidate (Splink-style waterfalls), the apportionment and statements by
//! insurer, and the quarantine reasons.
//!
//! It is built from a finished run's outputs only (`manifest.json`, `receipts.parquet`,
//! `match_report.parquet`, `apportionment.parquet`, `statements.parquet` or
//! `statements.csv`, `quarantine.csv`), never from the inputs, so it holds no names,
//! kana or addresses; `person_id` (a roster key, personal data too) is shown masked to
//! its last three characters unless [`HtmlOptions::show_pii`].
//!
//! What it is not: a data export. The Parquet files are streamed batch by batch and
//! aggregated; the page embeds totals, the top insurers, the first receipts of the
//! review queue and the first rows of each quarantine reason, so a month of millions of
//! receipts still gives a page of a few megabytes at most. Inline CSS, a few lines of
//! JavaScript and SVG charts drawn here: no network, no external library. The same run
//! directory gives a byte-identical page (no timestamps, sorted iteration).

mod aggregate;
mod page;
mod svg;

use std::path::{Path, PathBuf};

/// The page's file name in a run directory.
pub const REPORT_HTML_FILE: &str = "report.html";

/// What the page shows and how much of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HtmlOptions {
    /// Show personal data: `person_id` unmasked. (The run's outputs hold no names, kana
    /// or addresses, so there are none to show either way.) Default: false.
    pub show_pii: bool,
    /// Receipts of the review queue shown, the first by receipt key (organization,
    /// clinic, billing month, receipt number); the page says how many more exist.
    pub review_limit: usize,
    /// Insurers shown in the apportionment chart and table and in the statements table,
    /// the top by yen; the rest are summed in one line.
    pub top_insurers: usize,
    /// Quarantine reasons shown (by count), and example rows shown per reason.
    pub quarantine_reasons: usize,
    pub quarantine_examples: usize,
}

impl Default for HtmlOptions {
    fn default() -> Self {
        HtmlOptions {
            show_pii: false,
            review_limit: 200,
            top_insurers: 20,
            quarantine_reasons: 50,
            quarantine_examples: 5,
        }
    }
}

/// What was written, for the command line to report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HtmlSummary {
    pub path: PathBuf,
    pub bytes: u64,
    /// Rows of `receipts.parquet` read.
    pub receipts: u64,
    /// Receipts with status `review`, and how many of them the page shows.
    pub review_receipts: u64,
    pub review_shown: u64,
    /// Insurers with a part in `apportionment.parquet`.
    pub apportioned_insurers: u64,
    /// Rows of `quarantine.csv`, and the distinct reasons they were grouped into.
    pub quarantine_rows: u64,
    pub quarantine_reasons: u64,
    /// `conservation.balanced` of the manifest.
    pub balanced: bool,
}

/// Why the page could not be built or written.
#[derive(Debug, thiserror::Error)]
pub enum HtmlReportError {
    #[error("{path}: cannot read: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: Parquet: {source}")]
    Parquet {
        path: PathBuf,
        source: parquet::errors::ParquetError,
    },
    #[error("{path}: Arrow: {source}")]
    Arrow {
        path: PathBuf,
        source: arrow::error::ArrowError,
    },
    #[error("{path}: CSV: {source}")]
    Csv { path: PathBuf, source: csv::Error },
    #[error("{path}: not valid JSON: {source}")]
    Json {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl HtmlReportError {
    fn invalid(path: &Path, message: impl Into<String>) -> Self {
        HtmlReportError::Invalid {
            path: path.to_path_buf(),
            message: message.into(),
        }
    }
}

/// Builds the page for the finished run in `run_dir` and writes it to `out`
/// (conventionally `run_dir/report.html`, [`REPORT_HTML_FILE`]).
///
/// `manifest.json` and `receipts.parquet` are required; a missing
/// `match_report.parquet`, `apportionment.parquet`, statements file or `quarantine.csv`
/// is said on the page in its section.
pub fn write_report_html(
    run_dir: &Path,
    out: &Path,
    options: &HtmlOptions,
) -> Result<HtmlSummary, HtmlReportError> {
    let (html, mut summary) = render_report_html(run_dir, options)?;
    let write = |source| HtmlReportError::Write {
        path: out.to_path_buf(),
        source,
    };
    std::fs::write(out, html.as_bytes()).map_err(write)?;
    // Person ids (and with show_pii, unmasked): private, like every output.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(out, std::fs::Permissions::from_mode(0o600)).map_err(write)?;
    }
    summary.path = out.to_path_buf();
    Ok(summary)
}

/// The page as a string, with its summary (`path` empty, `bytes` its length).
pub fn render_report_html(
    run_dir: &Path,
    options: &HtmlOptions,
) -> Result<(String, HtmlSummary), HtmlReportError> {
    let data = aggregate::read_run(run_dir, options)?;
    let html = page::render(&data, options);
    let summary = HtmlSummary {
        path: PathBuf::new(),
        bytes: html.len() as u64,
        receipts: data.receipts.rows,
        review_receipts: data.receipts.review_total,
        review_shown: data.review.len() as u64,
        apportioned_insurers: data
            .apportionment
            .as_ref()
            .map_or(0, |a| a.by_insurer.len() as u64),
        quarantine_rows: data.quarantine.as_ref().map_or(0, |q| q.rows),
        quarantine_reasons: data
            .quarantine
            .as_ref()
            .map_or(0, |q| q.groups.len() as u64),
        balanced: data.balanced(),
    };
    Ok((html, summary))
}

/// `person_id` as the page shows it: a fixed mask (the length is not shown) and its last
/// three characters — none of them for an id shorter than six, where three would be half
/// of it — or whole with `show_pii`.
pub fn mask_person_id(person_id: &str, show_pii: bool) -> String {
    if show_pii {
        return person_id.to_string();
    }
    let chars: Vec<char> = person_id.chars().collect();
    if chars.len() < 6 {
        return "••••".to_string();
    }
    let tail: String = chars[chars.len() - 3..].iter().collect();
    format!("••••{tail}")
}

/// Text made safe for HTML and SVG content and attribute values.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(ch),
        }
    }
    out
}

/// An integer with thousands separators: `3,507,520`, `-1,200`.
fn int(n: impl Into<i128>) -> String {
    let n: i128 = n.into();
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
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

/// A float with `places` decimals, never `-0.00`.
fn dec(x: f64, places: usize) -> String {
    let s = format!("{x:.places$}");
    if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') {
        s[1..].to_string()
    } else {
        s
    }
}

/// The match weight (log2 odds) of a match probability; infinite at 0 and 1.
fn weight_of_probability(p: f64) -> f64 {
    (p / (1.0 - p)).log2()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn person_ids_are_masked_to_their_last_three_characters() {
        assert_eq!(mask_person_id("P0001234", false), "••••234");
        assert_eq!(mask_person_id("P12", false), "••••");
        assert_eq!(mask_person_id("P0001234", true), "P0001234");
    }

    #[test]
    fn numbers_are_grouped_and_escaped_text_is_inert() {
        assert_eq!(int(3_507_520i64), "3,507,520");
        assert_eq!(int(-1_200i64), "-1,200");
        assert_eq!(int(999u64), "999");
        assert_eq!(dec(-0.001, 2), "0.00");
        assert_eq!(dec(-1.256, 2), "-1.26");
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        assert!((weight_of_probability(0.5)).abs() < 1e-12);
        assert!((weight_of_probability(0.99) - 6.6294).abs() < 1e-3);
    }
}
