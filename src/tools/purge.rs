//! `reseclear purge --run DIR`: the retention promise of the declaration form (prompt
//! disposal, DOMAIN §5). Once a run's month is settled, the personal data that came
//! from patients' declarations is removed from its outputs; the money and the decisions
//! stay, so the run still passes `reseclear verify`.
//!
//! Of a run's outputs only the pending ledger holds personal data: the form's fields
//! (`form_name`, `form_name_kana`, `form_birth_date`, `form_address`,
//! `form_other_residence`, `form_phone`, `form_employer`) and, in the receipt's UKE
//! text, the RE name (RE 5), birth date (RE 7) and kana (RE 37) and the 摘要 free-text
//! comments (CO 5), where clinics write what the patient declared. The reader needs a
//! name and a birth date to read a receipt, so a purged receipt keeps
//! [`PURGED_NAME`] for its name and 1 January of its birth year for its birth date (the
//! age, which sets the copay, within a year; the day that identifies gone): a purged
//! ledger still reads back, and carried into another month its claims are retried, not
//! quarantined. `receipts.parquet`, the match report and statements hold none;
//! `quarantine.csv` masks what it quotes. `report.html` is written again with its
//! defaults (masked), in case `report --show-pii` wrote it.
//!
//! A ledger with open claims is what the next month retries them from, so it is purged
//! only when the next run has read it: `--superseded-by NEXT_RUN` must name a run whose
//! manifest lists this ledger (by sha256) as its pending input. Every purge appends a
//! line to `purge_log.csv` in the run directory.
//!
//! A purge is staged like a run: the run is copied to a staging directory beside it,
//! the copy is purged, its manifest's `outputs` are hashed again (and the purge recorded
//! in its `purges`), and the copy is put in place of the run by [`Staging::commit`]. A
//! purge killed half-way leaves the run as it was.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, RecordBatch, StringArray};

use crate::ingest::parquet_table::Table;
use crate::ingest::uke::ReceiptKind;
use crate::ingest::IngestError;
use crate::manifest::{output_files, sha256_file, OutputFile};
use crate::output_dir::{OutputError, Staging};
use crate::report::html::{write_report_html, HtmlOptions, HtmlReportError, REPORT_HTML_FILE};
use crate::report::{write_parquet, ReportError};
use crate::run::{LEDGER_FILE, MANIFEST_FILE, RUN_OUTPUT};

/// The log of purges, in the run directory.
pub const PURGE_LOG_FILE: &str = "purge_log.csv";

/// The name a purged receipt keeps in RE 5 (the reader refuses an empty 氏名).
pub const PURGED_NAME: &str = "消去済";

/// The ledger's form columns that hold declared personal data.
const FORM_COLUMNS: [&str; 7] = [
    "form_name",
    "form_name_kana",
    "form_birth_date",
    "form_address",
    "form_other_residence",
    "form_phone",
    "form_employer",
];

#[derive(Debug, thiserror::Error)]
pub enum PurgeError {
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error(transparent)]
    Report(#[from] ReportError),
    #[error(transparent)]
    Html(#[from] HtmlReportError),
    #[error(transparent)]
    Output(#[from] OutputError),
    #[error("{path}: {message}")]
    Refused { path: PathBuf, message: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// What a purge did to one file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Purged {
    pub file: String,
    pub rows: u64,
    /// Values blanked.
    pub values: u64,
    pub sha256_before: String,
    pub sha256_after: String,
}

fn io_at(path: &Path) -> impl FnOnce(std::io::Error) -> PurgeError + '_ {
    move |source| PurgeError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn sha(path: &Path) -> Result<String, PurgeError> {
    sha256_file(path).map_err(io_at(path))
}

/// Purges the run in `dir`. `superseded_by` is the next run, required when the ledger
/// still holds personal data of open claims.
pub fn purge(dir: &Path, superseded_by: Option<&Path>) -> Result<Vec<Purged>, PurgeError> {
    if !RUN_OUTPUT.is_output(dir) {
        return Err(PurgeError::Refused {
            path: dir.to_path_buf(),
            message: format!(
                "not the output directory of a run (no valid {MANIFEST_FILE}); give --run the directory a `reseclear run` wrote"
            ),
        });
    }
    let manifest = read_json(&dir.join(MANIFEST_FILE))?;
    if manifest["conservation"]["balanced"] != serde_json::Value::Bool(true) {
        return Err(PurgeError::Refused {
            path: dir.join(MANIFEST_FILE),
            message: "the run's accounts do not balance; it cannot be settled, so it is not purged"
                .into(),
        });
    }
    let ledger = dir.join(LEDGER_FILE);
    let before = sha(&ledger)?;
    let table = Table::read(&ledger, &FORM_COLUMNS)?;
    let batches: Vec<RecordBatch> = table.batches().map(|b| b.record_batch().clone()).collect();
    let (purged, values) = purge_batches(&batches).map_err(|source| ReportError::Arrow {
        path: ledger.clone(),
        source,
    })?;
    if values > 0 {
        check_superseded(&ledger, &before, superseded_by)?;
    }
    let rows = table.num_rows() as u64;
    drop(table);

    // The run is copied and the copy purged; the copy replaces the run at the end.
    let staging = Staging::begin(dir, RUN_OUTPUT, true, &[])?;
    let stage = staging.path();
    copy_files(dir, &stage)?;
    let staged_ledger = stage.join(LEDGER_FILE);
    let after = if values > 0 {
        let batch = arrow::compute::concat_batches(&crate::pending::ledger_schema(), &purged)
            .map_err(|source| ReportError::Arrow {
                path: ledger.clone(),
                source,
            })?;
        write_parquet(&staged_ledger, &batch)?;
        sha(&staged_ledger)?
    } else {
        before.clone()
    };
    let mut done = vec![Purged {
        file: LEDGER_FILE.to_string(),
        rows,
        values,
        sha256_before: before,
        sha256_after: after,
    }];
    // A page written with `report --show-pii` is written again, masked.
    let page = stage.join(REPORT_HTML_FILE);
    if page.exists() {
        let before = sha(&page)?;
        write_report_html(&stage, &page, &HtmlOptions::default())?;
        let after = sha(&page)?;
        done.push(Purged {
            file: REPORT_HTML_FILE.to_string(),
            rows: 0,
            values: u64::from(before != after),
            sha256_before: before,
            sha256_after: after,
        });
    }
    append_log(&stage, manifest["run_month"].as_str().unwrap_or(""), &done)?;
    rehash_manifest(&stage, &manifest, &done)?;
    staging.commit()?;
    Ok(done)
}

/// Copies the files of `from` (and of its directories) into `to`.
fn copy_files(from: &Path, to: &Path) -> Result<(), PurgeError> {
    for entry in std::fs::read_dir(from).map_err(io_at(from))? {
        let entry = entry.map_err(io_at(from))?;
        let (path, target) = (entry.path(), to.join(entry.file_name()));
        if entry.file_type().map_err(io_at(&path))?.is_dir() {
            std::fs::create_dir_all(&target).map_err(io_at(&target))?;
            copy_files(&path, &target)?;
        } else {
            std::fs::copy(&path, &target).map_err(io_at(&path))?;
        }
    }
    Ok(())
}

/// One purge as the manifest records it: the files it changed, with their sha256
/// before and after (keys in alphabetical order, as earlier purges read back).
#[derive(serde::Serialize)]
struct PurgeRecord<'a> {
    files: Vec<PurgeRecordFile<'a>>,
}

#[derive(serde::Serialize)]
struct PurgeRecordFile<'a> {
    file: &'a str,
    sha256_after: &'a str,
    sha256_before: &'a str,
    values_blanked: u64,
}

/// The manifest's fields a purge writes, last in the manifest.
#[derive(serde::Serialize)]
struct ManifestTail {
    outputs: Vec<OutputFile>,
    purges: Vec<serde_json::Value>,
}

/// Writes the staged run's manifest again with the sha256 of every output as the purge
/// left it (`outputs`) and the purge appended to `purges`. Everything before `outputs`
/// is kept byte for byte.
fn rehash_manifest(
    stage: &Path,
    manifest: &serde_json::Value,
    done: &[Purged],
) -> Result<(), PurgeError> {
    let path = stage.join(MANIFEST_FILE);
    let text = std::fs::read_to_string(&path).map_err(io_at(&path))?;
    // `outputs` and `purges` are the manifest's last fields; an older manifest has none.
    let at = text
        .find(",\n  \"outputs\": ")
        .or_else(|| text.find(",\n  \"purges\": "));
    let refused = || PurgeError::Refused {
        path: path.clone(),
        message: "the manifest's text is not as a run writes it (its last fields are not \
                  outputs and purges): nothing was purged; restore manifest.json from the run"
            .into(),
    };
    let head = match at {
        Some(at) => &text[..at],
        None if manifest.get("outputs").is_none() && manifest.get("purges").is_none() => {
            text.trim_end().trim_end_matches('}').trim_end()
        }
        None => return Err(refused()),
    };
    let record = PurgeRecord {
        files: done
            .iter()
            .filter(|p| p.sha256_before != p.sha256_after)
            .map(|p| PurgeRecordFile {
                file: &p.file,
                sha256_after: &p.sha256_after,
                sha256_before: &p.sha256_before,
                values_blanked: p.values,
            })
            .collect(),
    };
    let mut purges = manifest["purges"].as_array().cloned().unwrap_or_default();
    purges.push(serde_json::to_value(&record).map_err(|e| io_at(&path)(e.into()))?);
    let tail = ManifestTail {
        outputs: output_files(stage).map_err(io_at(stage))?,
        purges,
    };
    let tail_value = serde_json::to_value(&tail).map_err(|e| io_at(&path)(e.into()))?;
    let tail = serde_json::to_string_pretty(&tail).map_err(|e| io_at(&path)(e.into()))?;
    let body = tail.strip_prefix('{').unwrap_or(&tail);
    // The manifest's text is kept as the run wrote it (its keys in the run's order),
    // so the new tail is spliced on rather than the whole written anew; the result must
    // read as the manifest it stands for — every field as it was, the tail replaced —
    // or nothing is written.
    let spliced = format!("{head},{body}\n");
    let mut expected = manifest.clone();
    if let (Some(fields), serde_json::Value::Object(new)) = (expected.as_object_mut(), tail_value) {
        fields.extend(new);
    }
    match serde_json::from_str::<serde_json::Value>(&spliced) {
        Ok(read) if read == expected => std::fs::write(&path, spliced).map_err(io_at(&path)),
        _ => Err(refused()),
    }
}

fn read_json(path: &Path) -> Result<serde_json::Value, PurgeError> {
    let text = std::fs::read_to_string(path).map_err(|source| PurgeError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|e| PurgeError::Refused {
        path: path.to_path_buf(),
        message: format!("not a run manifest: {e}"),
    })
}

/// A ledger still holding personal data is purged only when `next` read it.
fn check_superseded(ledger: &Path, sha256: &str, next: Option<&Path>) -> Result<(), PurgeError> {
    let refuse = |message: String| PurgeError::Refused {
        path: ledger.to_path_buf(),
        message,
    };
    let Some(next) = next else {
        return Err(refuse(
            "the ledger holds open claims the next month retries from it; give --superseded-by NEXT_RUN, the run that read it with --pending".into(),
        ));
    };
    let m = read_json(&next.join(MANIFEST_FILE))?;
    let read_it = m["inputs"].as_array().is_some_and(|inputs| {
        inputs
            .iter()
            .any(|i| i["kind"] == "pending" && i["sha256"].as_str() == Some(sha256))
    });
    if !read_it {
        return Err(refuse(format!(
            "the run in {} did not read this ledger (no pending input with its sha256 {sha256})",
            next.display()
        )));
    }
    Ok(())
}

/// Blanks the personal data of every batch; returns the batches and how many values
/// were blanked.
fn purge_batches(
    batches: &[RecordBatch],
) -> Result<(Vec<RecordBatch>, u64), arrow::error::ArrowError> {
    let mut values = 0u64;
    let mut out = Vec::with_capacity(batches.len());
    for batch in batches {
        let schema = batch.schema();
        let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
        for (i, field) in schema.fields().iter().enumerate() {
            let name = field.name().as_str();
            let Some(text) = columns[i].as_any().downcast_ref::<StringArray>() else {
                continue;
            };
            let replaced: Option<StringArray> = if FORM_COLUMNS.contains(&name) {
                values += (text.len() - text.null_count()) as u64;
                Some(StringArray::new_null(text.len()))
            } else if name == "uke" {
                Some(
                    text.iter()
                        .map(|t| {
                            t.map(|t| {
                                let (clean, n) = purge_uke_text(t);
                                values += n;
                                clean
                            })
                        })
                        .collect(),
                )
            } else {
                None
            };
            if let Some(r) = replaced {
                columns[i] = Arc::new(r);
            }
        }
        out.push(RecordBatch::try_new(schema, columns)?);
    }
    Ok((out, values))
}

/// The UKE text without the patient's name (RE 5, [`PURGED_NAME`] kept in its place),
/// the day and month of birth (RE 7, 1 January of the year kept), the kana (RE 37 in
/// 医科, 26 in 歯科, 42 in 調剤: the layout of the text's header record) and
/// the text of free-text comments (CO 5 of comment code 810000001), and how many values
/// were blanked.
pub fn purge_uke_text(text: &str) -> (String, u64) {
    let mut blanked = 0u64;
    let mut lines = Vec::new();
    // Where RE holds the name, birth date and kana: the kind's layout, by the header
    // record the text opens with (歯科 and 調剤 receipts are written in theirs).
    let re = text
        .get(..2)
        .and_then(ReceiptKind::of_header)
        .unwrap_or(ReceiptKind::Ika)
        .layout()
        .re;
    for line in text.split("\r\n") {
        let mut fields: Vec<String> = match line.split(',').next() {
            // CO: the text is everything after the fourth comma (it may hold commas).
            Some("CO") => line.splitn(5, ',').map(str::to_string).collect(),
            _ => line.split(',').map(str::to_string).collect(),
        };
        match fields.first().map(String::as_str) {
            Some("RE") => {
                if let Some(f) = fields
                    .get_mut(re.name.pos - 1)
                    .filter(|f| !f.is_empty() && *f != PURGED_NAME)
                {
                    *f = PURGED_NAME.to_string();
                    blanked += 1;
                }
                // YYYYMMDD: the ledger writes Western dates (1 January of an era
                // year need not be in the era, so an era date would not read back).
                if let Some(f) = fields
                    .get_mut(re.birth_date.pos - 1)
                    .filter(|f| f.len() == 8 && f.is_ascii() && &f[4..] != "0101")
                {
                    f.replace_range(4.., "0101");
                    blanked += 1;
                }
                if let Some(f) = re
                    .kana
                    .and_then(|k| fields.get_mut(k.pos - 1))
                    .filter(|f| !f.is_empty())
                {
                    f.clear();
                    blanked += 1;
                }
            }
            Some("CO") if fields.get(3).map(String::as_str) == Some("810000001") => {
                if let Some(f) = fields.get_mut(4).filter(|f| !f.is_empty()) {
                    f.clear();
                    blanked += 1;
                }
            }
            _ => {}
        }
        lines.push(fields.join(","));
    }
    (lines.join("\r\n"), blanked)
}

fn private(path: &Path) -> Result<(), PurgeError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(
            |source| PurgeError::Io {
                path: path.to_path_buf(),
                source,
            },
        )?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Appends one line per file to `purge_log.csv` (created with a header).
fn append_log(dir: &Path, run_month: &str, done: &[Purged]) -> Result<(), PurgeError> {
    let path = dir.join(PURGE_LOG_FILE);
    let io = |source| PurgeError::Io {
        path: path.clone(),
        source,
    };
    let new = !path.exists();
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(io)?;
    if new {
        writeln!(
            f,
            "purged_at,run_month,file,rows,values_blanked,sha256_before,sha256_after"
        )
        .map_err(io)?;
    }
    let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ");
    for p in done {
        writeln!(
            f,
            "{now},{run_month},{},{},{},{},{}",
            crate::csv_cell::neutralize(&p.file),
            p.rows,
            p.values,
            p.sha256_before,
            p.sha256_after
        )
        .map_err(io)?;
    }
    drop(f);
    private(&path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_kana_and_free_text_comments_are_blanked_and_nothing_else() {
        // RE has 38 fields: 氏名 is field 5, カタカナ氏名 field 37.
        let mut re = vec![String::new(); 38];
        for (i, v) in [
            (0, "RE"),
            (1, "6"),
            (2, "1112"),
            (3, "202604"),
            (4, "小林　誠"),
            (5, "1"),
            (6, "19650930"),
            (36, "コバヤシ　マコト"),
        ] {
            re[i] = v.to_string();
        }
        let text = [
            "IR,1,13,1,1312345,,みなと内科,202605,00,".to_string(),
            re.join(","),
            "HO,77777777,7777777,7777777,1,1234,,,,,,,,,".to_string(),
            "CO,11,1,810000001,住所:東京都港区1-2-3, 電話 03-0000-0000".to_string(),
            "CO,11,1,820100001,コード".to_string(),
            "GO,1,1234,99".to_string(),
        ]
        .join("\r\n");
        let text = text.as_str();
        let (clean, n) = purge_uke_text(text);
        assert_eq!(n, 4);
        for gone in ["小林", "コバヤシ", "港区", "03-0000", "19650930"] {
            assert!(!clean.contains(gone), "{gone} left in {clean}");
        }
        for kept in [
            "みなと内科",
            "RE,6,1112,202604,消去済,1,19650101,",
            "HO,77777777",
            "CO,11,1,820100001,コード",
            "GO,1,1234,99",
        ] {
            assert!(clean.contains(kept), "{kept} lost from {clean}");
        }
        assert_eq!(clean.lines().count(), text.lines().count());
        let re = clean.split("\r\n").nth(1).expect("RE");
        assert_eq!(re.split(',').count(), 38, "RE keeps its 38 fields");
        assert_eq!(purge_uke_text(&clean).1, 0, "a second purge finds nothing");
    }

    /// 歯科 and 調剤 receipts go on the ledger in their own layouts (カタカナ at RE 26 and
    /// 42): the purge finds the name, birth date and kana where each kind keeps them.
    #[test]
    fn a_purge_blanks_every_kinds_personal_fields() {
        use crate::generate::sample_files;
        use crate::ingest::uke::writer::assign_lines;
        for f in sample_files(800, 300, 5) {
            let mut receipts: Vec<_> = f
                .receipts
                .iter()
                .filter(|r| !r.kana_name.is_empty())
                .take(1)
                .cloned()
                .collect();
            let Some(r) = receipts.first_mut() else {
                continue;
            };
            r.key.receipt_number = 1;
            assign_lines(f.header.kind, &mut receipts);
            let text = crate::pending::uke_text(&f.header, &receipts[0]).expect("text");
            let (clean, n) = purge_uke_text(&text);
            let r = &receipts[0];
            assert!(n >= 3, "{:?}: {n} values", f.header.kind);
            for gone in [
                r.name.as_str(),
                r.kana_name.as_str(),
                &r.birth_date.format("%Y%m%d").to_string(),
            ] {
                assert!(
                    !clean.contains(gone) || gone.ends_with("0101"),
                    "{:?}: {gone} left",
                    f.header.kind
                );
            }
        }
    }
}
