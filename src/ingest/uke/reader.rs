//! Reading one UKE file into typed receipts and quarantine rows.
//!
//! The reader is a small state machine over records: IR (or YK) opens the file, each RE
//! opens a receipt that the records after it (HO, KO, SN, CO, SY, SI …) belong to, and
//! GO closes the file with totals that are checked against what was read. What goes
//! wrong is scoped as narrowly as is safe:
//! - a record the engine uses (RE, HO, KO, SN, CO) that is malformed or undecodable
//!   quarantines its receipt;
//! - an unknown record id, or an undecodable record the engine only counts, is a
//!   record-level row and the receipt goes on;
//! - a bad IR, bad or missing GO (a truncated file), totals that do not match, or
//!   records after GO quarantine every receipt of the file.
//!
//! The whole file is decoded from Shift_JIS in one pass when it can be (the fast path:
//! fields are then `&str` slices of that one buffer, with no allocation per field); only
//! when that fails is it decoded line by line to find the lines at fault.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::Path;

use encoding_rs::SHIFT_JIS;
use rayon::prelude::*;

use super::model::*;
use crate::config::IngestConfig;
use crate::domain::{
    parse_uke_date, parse_uke_month, ClinicCode, InsurerNumber, Organization, Points, ReceiptKey,
    Sex, Yen,
};
use crate::ingest::IngestError;
use crate::validate::{QuarantineRow, Scope};

/// Record ids of the 医科, DPC, 歯科 and 調剤 specifications that the engine reads or
/// counts. Anything else is an unknown record.
const KNOWN_RECORDS: &[&str] = &[
    "IR", "YK", "RE", "HO", "KO", "KH", "SN", "JD", "MF", "SY", "SI", "IY", "TO", "CO", "NI", "SJ",
    "TI", "TK", "GR", "BU", "SB", "KK", "GA", "HH", "GT", "CD", "TS", "HS", "SS", "SH", "CZ", "KI",
    "GO",
];

/// EOF byte that ends a UKE file.
const EOF_BYTE: u8 = 0x1A;

/// A receipt taken out of the run, with what could be read of it (for the accounts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuarantinedReceipt {
    /// The key, when IR and the receipt number could be read.
    pub key: Option<ReceiptKey>,
    pub receipt_number: Option<u32>,
    pub line: u64,
    /// 合計点数 when it could be read.
    pub points: Option<Points>,
    /// The first reason; every reason has its own quarantine row.
    pub reason: String,
}

/// Everything read from one UKE file.
#[derive(Debug, Clone, Default)]
pub struct UkeFile {
    /// Path as shown in outputs (relative to the input directory).
    pub path: String,
    pub bytes: u64,
    /// sha256 of the file's bytes (hex), for the manifest.
    pub sha256: String,
    pub lines: u64,
    pub header: Option<ClinicHeader>,
    /// Receipts that passed validation.
    pub receipts: Vec<Receipt>,
    /// Receipts that did not, with their reasons.
    pub quarantined: Vec<QuarantinedReceipt>,
    pub totals: Option<Totals>,
    /// Records read, by record id (unknown ids included).
    pub record_counts: BTreeMap<String, u64>,
    pub quarantine: Vec<QuarantineRow>,
}

impl UkeFile {
    /// Whether every receipt of the file was quarantined as a unit.
    pub fn quarantined_whole(&self) -> bool {
        self.quarantine.iter().any(|r| r.scope == Scope::File)
    }
}

/// Reads and parses one file. Only I/O failure is an error; everything about the
/// content is in the returned quarantine rows.
pub fn read_uke_file(
    path: &Path,
    display: &str,
    config: &IngestConfig,
) -> Result<UkeFile, IngestError> {
    let bytes = match crate::ingest::text::read_bounded(path)? {
        Ok(bytes) => bytes,
        Err(long) => return Ok(unreadable(path, display, long)),
    };
    let mut file = parse_uke(display, &bytes, config);
    file.sha256 = crate::manifest::sha256_bytes(&bytes);
    Ok(file)
}

/// A file with a line no UKE record could have: quarantined whole, unread (its
/// receipts cannot be counted, so the quarantine row says so).
fn unreadable(path: &Path, display: &str, long: crate::ingest::text::LongLine) -> UkeFile {
    let mut file = UkeFile {
        path: display.to_string(),
        bytes: std::fs::metadata(path).map(|m| m.len()).unwrap_or(0),
        sha256: crate::manifest::sha256_file(path).unwrap_or_default(),
        lines: long.line,
        ..UkeFile::default()
    };
    file.quarantine.push(QuarantineRow::new(
        display,
        long.line,
        "-",
        "-",
        "",
        format!(
            "line {} is longer than {} bytes, which no UKE record is: the file is not read, and its receipts are not counted",
            long.line,
            crate::ingest::text::MAX_LINE_BYTES
        ),
        Scope::File,
    ));
    file
}

/// Reads many files in parallel; results come back in the order given. `progress`
/// advances by one per file read.
pub fn read_uke_files(
    files: &[(std::path::PathBuf, String)],
    config: &IngestConfig,
    progress: &dyn crate::progress::Progress,
) -> Vec<Result<UkeFile, IngestError>> {
    files
        .par_iter()
        .map(|(path, display)| {
            let file = read_uke_file(path, display, config);
            progress.advance(1);
            file
        })
        .collect()
}

/// Parses the bytes of one UKE file.
pub fn parse_uke(display: &str, bytes: &[u8], config: &IngestConfig) -> UkeFile {
    let mut file = UkeFile {
        path: display.to_string(),
        bytes: bytes.len() as u64,
        ..UkeFile::default()
    };
    let body = match bytes.iter().position(|&b| b == EOF_BYTE) {
        Some(end) => {
            let rest = &bytes[end + 1..];
            if rest.iter().any(|b| !b.is_ascii_whitespace()) {
                file.quarantine.push(QuarantineRow::new(
                    display,
                    0,
                    "-",
                    "-",
                    "",
                    format!("{} bytes after the EOF byte 0x1A were ignored", rest.len()),
                    Scope::Notice,
                ));
            }
            &bytes[..end]
        }
        None => {
            if !bytes.is_empty() {
                file.quarantine.push(QuarantineRow::new(
                    display,
                    0,
                    "-",
                    "-",
                    "",
                    "file does not end with the EOF byte 0x1A",
                    Scope::Notice,
                ));
            }
            bytes
        }
    };
    if body.iter().all(u8::is_ascii_whitespace) {
        file.quarantine.push(QuarantineRow::new(
            display,
            0,
            "-",
            "-",
            "",
            "file is empty: expected IR, receipts and GO",
            Scope::File,
        ));
        return file;
    }

    // Fast path: the whole file decodes; lines borrow from one buffer.
    let whole = SHIFT_JIS.decode_without_bom_handling_and_without_replacement(body);
    let owned_lines: Vec<Option<Cow<'_, str>>>;
    let lines: Vec<Option<&str>> = match &whole {
        Some(text) => text.split('\n').map(Some).collect(),
        None => {
            owned_lines = body
                .split(|&b| b == b'\n')
                .map(|l| SHIFT_JIS.decode_without_bom_handling_and_without_replacement(l))
                .collect();
            owned_lines.iter().map(|l| l.as_deref()).collect()
        }
    };
    Parser::new(&mut file, config).run(&lines, body);
    file
}

/// Field names as shown in quarantine rows.
mod field {
    pub const RE_NUMBER: &str = "RE.2 レセプト番号";
    pub const RE_TYPE: &str = "RE.3 レセプト種別";
    pub const RE_CARE_MONTH: &str = "RE.4 診療年月";
    pub const RE_NAME: &str = "RE.5 氏名";
    pub const RE_SEX: &str = "RE.6 男女区分";
    pub const RE_BIRTH: &str = "RE.7 生年月日";
    pub const RE_BENEFIT: &str = "RE.8 給付割合";
    pub const HO_INSURER: &str = "HO.2 保険者番号";
    pub const HO_DAYS: &str = "HO.5 診療実日数";
    pub const HO_POINTS: &str = "HO.6 合計点数";
    pub const HO_COPAY: &str = "HO.12 負担金額";
    pub const KO_DAYS: &str = "KO.5 診療実日数";
    pub const KO_POINTS: &str = "KO.6 合計点数";
    pub const IR_ORG: &str = "IR.2 審査支払機関";
    pub const IR_PREF: &str = "IR.3 都道府県";
    pub const IR_CLINIC: &str = "IR.5 医療機関コード";
    pub const IR_MONTH: &str = "IR.8 請求年月";
    pub const GO_COUNT: &str = "GO.2 総件数";
    pub const GO_POINTS: &str = "GO.3 総合計点数";
}

/// A receipt being read: its fields so far and its problems.
struct Draft {
    line: u64,
    receipt_number: Option<u32>,
    receipt_type: String,
    care_month: Option<crate::domain::YearMonth>,
    name: String,
    sex: Option<Sex>,
    birth_date: Option<chrono::NaiveDate>,
    benefit_ratio: Option<u8>,
    special_notes: String,
    chart_number: String,
    kana_name: String,
    patient_state: String,
    insurance: Option<HealthInsurance>,
    /// HO seen but unreadable: the receipt's points are unknown.
    insurance_broken: bool,
    public_expenses: Vec<PublicExpense>,
    confirmation: Option<EligibilityConfirmation>,
    comments: Vec<Comment>,
    other_records: BTreeMap<String, u32>,
    /// Receipt-scope problems (field, value, reason, pii).
    problems: Vec<QuarantineRow>,
}

impl Draft {
    fn points(&self) -> Option<Points> {
        if self.insurance_broken {
            return None;
        }
        Some(billed_points(
            self.insurance.as_ref(),
            &self.public_expenses,
        ))
    }

    fn payer_count(&self) -> u64 {
        u64::from(self.insurance.is_some() || self.insurance_broken)
            + self.public_expenses.len() as u64
    }
}

struct Parser<'f, 'c> {
    file: &'f mut UkeFile,
    config: &'c IngestConfig,
    header: Option<ClinicHeader>,
    /// The IR could not be read: receipts have no key and the file is quarantined.
    header_broken: bool,
    seen_ir: bool,
    draft: Option<Draft>,
    drafts: Vec<Draft>,
    after_go: Option<u64>,
    /// File-scope problems.
    file_problems: Vec<QuarantineRow>,
}

impl<'f, 'c> Parser<'f, 'c> {
    fn new(file: &'f mut UkeFile, config: &'c IngestConfig) -> Self {
        Parser {
            file,
            config,
            header: None,
            header_broken: false,
            seen_ir: false,
            draft: None,
            drafts: Vec::new(),
            after_go: None,
            file_problems: Vec::new(),
        }
    }

    fn run(mut self, lines: &[Option<&str>], raw: &[u8]) {
        let raw_lines: Vec<&[u8]> = raw.split(|&b| b == b'\n').collect();
        let mut last_nonempty = lines.len();
        while last_nonempty > 0 {
            match lines[last_nonempty - 1] {
                Some(l) if l.trim_end_matches('\r').is_empty() => last_nonempty -= 1,
                _ => break,
            }
        }
        self.file.lines = last_nonempty as u64;
        let mut fields = Vec::with_capacity(64);
        for (i, line) in lines[..last_nonempty].iter().enumerate() {
            let n = i as u64 + 1;
            match line {
                Some(text) => self.record(n, text.strip_suffix('\r').unwrap_or(text), &mut fields),
                None => self.undecodable(n, raw_lines.get(i).copied().unwrap_or_default()),
            }
        }
        self.finish();
    }

    fn count(&mut self, id: &str) {
        match self.file.record_counts.get_mut(id) {
            Some(c) => *c += 1,
            None => {
                self.file.record_counts.insert(id.to_string(), 1);
            }
        }
    }

    fn display(&self) -> &str {
        &self.file.path
    }

    /// A line that is not valid Shift_JIS.
    fn undecodable(&mut self, n: u64, raw: &[u8]) {
        let id = raw
            .get(..2)
            .filter(|b| b.iter().all(u8::is_ascii_uppercase))
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_else(|| "??".to_string());
        self.count(&id);
        let offset = first_bad_byte(raw);
        let position = raw[..offset.min(raw.len())]
            .iter()
            .filter(|&&b| b == b',')
            .count()
            + 1;
        let field = format!("{id}.{position}");
        let reason = format!(
            "bytes at offset {offset} of the line (field {position}) are not valid Shift_JIS (JIS X 0208)"
        );
        let row =
            |scope| QuarantineRow::new(self.display(), n, &id, &field, "", reason.clone(), scope);
        match id.as_str() {
            "IR" | "YK" | "GO" => {
                let r = row(Scope::File);
                self.file_problems.push(r);
                if id != "GO" {
                    self.seen_ir = true;
                    self.header_broken = true;
                }
            }
            "RE" => {
                let r = row(Scope::Receipt);
                self.close_draft();
                let mut d = Draft::new(n);
                // レセプト番号 is ASCII: read it from the raw bytes so the quarantined
                // receipt keeps its key.
                d.receipt_number = raw
                    .split(|&b| b == b',')
                    .nth(1)
                    .and_then(|f| std::str::from_utf8(f).ok())
                    .and_then(parse_int::<u32>)
                    .filter(|&v| v > 0);
                d.problems.push(r);
                self.draft = Some(d);
            }
            "HO" | "KO" | "SN" | "CO" => {
                let r = row(Scope::Receipt);
                if id == "HO" {
                    if let Some(d) = self.draft.as_mut() {
                        d.insurance_broken = true;
                    }
                }
                self.receipt_problem(n, r);
            }
            _ => {
                let r = row(Scope::Record);
                self.file.quarantine.push(r);
            }
        }
    }

    /// A problem that quarantines the current receipt; outside a receipt, the file.
    fn receipt_problem(&mut self, _n: u64, row: QuarantineRow) {
        match self.draft.as_mut() {
            Some(d) => d.problems.push(row),
            None => {
                let mut row = row;
                row.scope = Scope::File;
                row.reason = format!("{} (before any RE)", row.reason);
                self.file_problems.push(row);
            }
        }
    }

    fn record<'t>(&mut self, n: u64, text: &'t str, fields: &mut Vec<&'t str>) {
        let id = text.split_once(',').map_or(text, |(id, _)| id).trim();
        if text.trim().is_empty() {
            self.count("");
            let row = QuarantineRow::new(
                self.display(),
                n,
                "-",
                "-",
                "",
                "empty line inside the file",
                Scope::Record,
            );
            self.file.quarantine.push(row);
            return;
        }
        self.count(id);
        if let Some(go_line) = self.after_go {
            let row = QuarantineRow::new(
                self.display(),
                n,
                id,
                "-",
                "",
                format!("record after GO (line {go_line}): the file should end at GO"),
                Scope::File,
            );
            self.file_problems.push(row);
            return;
        }
        if !self.seen_ir && id != "IR" && id != "YK" {
            self.seen_ir = true;
            self.header_broken = true;
            let row = QuarantineRow::new(
                self.display(),
                n,
                id,
                "-",
                "",
                "the file must start with IR (or YK)",
                Scope::File,
            );
            self.file_problems.push(row);
        }
        // Only the records the engine reads are split into fields (one reused buffer);
        // the rest (most lines of a file: SY, SI, IY …) are only counted.
        if matches!(id, "IR" | "YK" | "RE" | "HO" | "KO" | "SN" | "CO" | "GO") {
            fields.clear();
            fields.extend(text.split(','));
        }
        let split = || &fields[..];
        match id {
            "IR" | "YK" => self.header(n, id, split()),
            "RE" => self.receipt(n, split()),
            "HO" => self.health_insurance(n, split()),
            "KO" => self.public_expense(n, split()),
            "SN" => self.confirmation(n, split()),
            "CO" => self.comment(n, split()),
            "GO" => self.totals(n, split()),
            _ if KNOWN_RECORDS.contains(&id) => match self.draft.as_mut() {
                Some(d) => *d.other_records.entry(id.to_string()).or_insert(0) += 1,
                None => {
                    let row = QuarantineRow::new(
                        self.display(),
                        n,
                        id,
                        "-",
                        "",
                        format!("{id} record before any RE"),
                        Scope::Record,
                    );
                    self.file.quarantine.push(row);
                }
            },
            _ => {
                let row = QuarantineRow::new(
                    self.display(),
                    n,
                    id,
                    "1 レコード識別",
                    id,
                    "unknown record id (expected IR, RE, HO, KO, SN, SY, SI, IY, CO, GO …)",
                    Scope::Record,
                );
                self.file.quarantine.push(row);
            }
        }
    }

    fn header(&mut self, n: u64, id: &str, f: &[&str]) {
        if self.seen_ir {
            let row = QuarantineRow::new(
                self.display(),
                n,
                id,
                "-",
                "",
                "a second IR: one file holds one clinic's claims",
                Scope::File,
            );
            self.file_problems.push(row);
            return;
        }
        self.seen_ir = true;
        let mut bad = |field: &str, value: &str, reason: String| {
            self.file_problems.push(QuarantineRow::new(
                &self.file.path,
                n,
                id,
                field,
                value,
                reason,
                Scope::File,
            ));
        };
        let organization = Organization::parse(get(f, 2))
            .map_err(|e| bad(field::IR_ORG, get(f, 2), e.to_string()))
            .ok();
        let prefecture = parse_int::<u8>(get(f, 3))
            .filter(|p| (1..=47).contains(p))
            .or_else(|| {
                bad(
                    field::IR_PREF,
                    get(f, 3),
                    "expected a prefecture code 01–47".into(),
                );
                None
            });
        let clinic = ClinicCode::parse(get(f, 5))
            .map_err(|e| bad(field::IR_CLINIC, get(f, 5), e.to_string()))
            .ok();
        let month = parse_uke_month(get(f, 8))
            .map_err(|e| bad(field::IR_MONTH, get(f, 8), e.to_string()))
            .ok();
        match (organization, prefecture, clinic, month) {
            (Some(organization), Some(prefecture), Some(clinic_code), Some(billing_month)) => {
                self.header = Some(ClinicHeader {
                    organization,
                    prefecture,
                    fee_table: get(f, 4).trim().to_string(),
                    clinic_code,
                    clinic_name: get(f, 7).to_string(),
                    billing_month,
                })
            }
            _ => self.header_broken = true,
        }
    }

    /// A receipt's key as shown in quarantine rows, `?` for what is unknown.
    fn key_text(&self, number: Option<u32>) -> String {
        let number = number.map(|n| n.to_string()).unwrap_or_else(|| "?".into());
        match self.header.as_ref().filter(|_| !self.header_broken) {
            Some(h) => format!(
                "{}:{}:{number}@{}",
                h.clinic_code,
                h.billing_month,
                h.organization.code()
            ),
            None => format!("?:?:{number}"),
        }
    }

    fn close_draft(&mut self) {
        if let Some(d) = self.draft.take() {
            self.drafts.push(d);
        }
    }

    fn receipt(&mut self, n: u64, f: &[&str]) {
        self.close_draft();
        let mut d = Draft::new(n);
        let file = self.file.path.clone();
        let bad = |d: &mut Draft, field: &str, value: &str, reason: String, pii: bool| {
            let row = if pii {
                QuarantineRow::new_pii(&file, n, "RE", field, value, reason, Scope::Receipt)
            } else {
                QuarantineRow::new(&file, n, "RE", field, value, reason, Scope::Receipt)
            };
            d.problems.push(row);
        };
        if f.len() < 8 {
            bad(
                &mut d,
                "-",
                "",
                format!("RE has {} fields, expected 38", f.len()),
                false,
            );
        }
        d.receipt_number = parse_int::<u32>(get(f, 2)).filter(|&v| v > 0);
        if d.receipt_number.is_none() {
            bad(
                &mut d,
                field::RE_NUMBER,
                get(f, 2),
                "expected a receipt number of 1 to 6 digits".into(),
                false,
            );
        }
        d.receipt_type = get(f, 3).trim().to_string();
        if d.receipt_type.len() != 4 || !d.receipt_type.bytes().all(|b| b.is_ascii_digit()) {
            let v = d.receipt_type.clone();
            bad(
                &mut d,
                field::RE_TYPE,
                &v,
                "expected a 4-digit レセプト種別".into(),
                false,
            );
        }
        match parse_uke_month(get(f, 4).trim()) {
            Ok(m) => d.care_month = Some(m),
            Err(e) => bad(
                &mut d,
                field::RE_CARE_MONTH,
                get(f, 4),
                e.to_string(),
                false,
            ),
        }
        d.name = get(f, 5).trim().to_string();
        if d.name.is_empty() {
            bad(&mut d, field::RE_NAME, "", "氏名 is empty".into(), false);
        }
        match Sex::parse(get(f, 6)) {
            Ok(s) => d.sex = Some(s),
            Err(e) => bad(&mut d, field::RE_SEX, get(f, 6), e.to_string(), false),
        }
        match parse_uke_date(get(f, 7).trim()) {
            Ok(b) => d.birth_date = Some(b),
            Err(e) => bad(&mut d, field::RE_BIRTH, get(f, 7), e.to_string(), true),
        }
        let ratio = get(f, 8).trim();
        if !ratio.is_empty() {
            match parse_int::<u8>(ratio).filter(|&r| r <= 100) {
                Some(r) => d.benefit_ratio = Some(r),
                None => bad(
                    &mut d,
                    field::RE_BENEFIT,
                    ratio,
                    "expected 給付割合 as a percentage 0–100 (e.g. 70) or empty".into(),
                    false,
                ),
            }
        }
        if let (Some(care), Some(birth)) = (d.care_month, d.birth_date) {
            // A slip a person should see, but no reason to hold the claim: the birth
            // date decides neither the card nor the money of tiers 1 and 2, and tier 3
            // matching tolerates slips.
            if birth > care.last_day() {
                let row = QuarantineRow::new_pii(
                    &file,
                    n,
                    "RE",
                    field::RE_BIRTH,
                    get(f, 7),
                    format!("born after the care month {care}"),
                    Scope::Notice,
                )
                .with_receipt(self.key_text(d.receipt_number));
                self.file.quarantine.push(row);
            }
        }
        d.special_notes = get(f, 12).trim().to_string();
        d.chart_number = get(f, 14).trim().to_string();
        d.kana_name = get(f, 37).trim().to_string();
        d.patient_state = get(f, 38).trim().to_string();
        self.draft = Some(d);
    }

    /// The current receipt, or a record-level row when a receipt record comes before RE.
    fn current(&mut self, n: u64, id: &str) -> Option<&mut Draft> {
        if self.draft.is_none() {
            let row = QuarantineRow::new(
                self.display(),
                n,
                id,
                "-",
                "",
                format!("{id} record before any RE"),
                Scope::File,
            );
            self.file_problems.push(row);
        }
        self.draft.as_mut()
    }

    fn health_insurance(&mut self, n: u64, f: &[&str]) {
        let file = self.file.path.clone();
        let config = self.config;
        let Some(d) = self.current(n, "HO") else {
            return;
        };
        let bad = |d: &mut Draft, field: &str, value: &str, reason: String| {
            d.problems.push(QuarantineRow::new(
                &file,
                n,
                "HO",
                field,
                value,
                reason,
                Scope::Receipt,
            ));
        };
        if d.insurance.is_some() || d.insurance_broken {
            bad(d, "-", "", "more than one HO in the receipt".into());
            return;
        }
        let raw = get(f, 2);
        let insurer = if config.is_filler_insurer(raw) {
            Some(InsurerField::Filler(raw.trim().to_string()))
        } else {
            match InsurerNumber::parse(raw) {
                Ok(num) => Some(InsurerField::Known(num)),
                Err(e) => {
                    bad(d, field::HO_INSURER, raw, e.to_string());
                    None
                }
            }
        };
        let days = optional_int::<u32>(get(f, 5));
        if days.is_err() {
            bad(
                d,
                field::HO_DAYS,
                get(f, 5),
                "expected a number of days".into(),
            );
        }
        let points = parse_int::<i64>(get(f, 6));
        if points.is_none() {
            bad(
                d,
                field::HO_POINTS,
                get(f, 6),
                "expected 合計点数 as a whole number of points".into(),
            );
        }
        let copay = optional_int::<i64>(get(f, 12));
        if copay.is_err() {
            bad(
                d,
                field::HO_COPAY,
                get(f, 12),
                "expected 負担金額 in whole yen or empty".into(),
            );
        }
        match (insurer, points) {
            (Some(insurer), Some(points)) => {
                d.insurance = Some(HealthInsurance {
                    line: n,
                    insurer,
                    symbol: get(f, 3).trim().to_string(),
                    number: get(f, 4).trim().to_string(),
                    days: days.ok().flatten(),
                    points: Points(points),
                    copay: copay.ok().flatten().map(Yen),
                })
            }
            (_, None) => d.insurance_broken = true,
            // Points are known; the receipt is quarantined for its insurer number but
            // its points still count towards the file's totals.
            (None, Some(points)) => {
                d.insurance = Some(HealthInsurance {
                    line: n,
                    insurer: InsurerField::Filler(String::new()),
                    symbol: String::new(),
                    number: String::new(),
                    days: None,
                    points: Points(points),
                    copay: None,
                })
            }
        }
    }

    fn public_expense(&mut self, n: u64, f: &[&str]) {
        let file = self.file.path.clone();
        let Some(d) = self.current(n, "KO") else {
            return;
        };
        let mut bad = |field: &str, value: &str, reason: &str| {
            d.problems.push(QuarantineRow::new(
                &file,
                n,
                "KO",
                field,
                value,
                reason,
                Scope::Receipt,
            ))
        };
        let days = optional_int::<u32>(get(f, 5));
        if days.is_err() {
            bad(field::KO_DAYS, get(f, 5), "expected a number of days");
        }
        let points = optional_int::<i64>(get(f, 6));
        if points.is_err() {
            bad(
                field::KO_POINTS,
                get(f, 6),
                "expected 合計点数 as a whole number",
            );
        }
        if d.public_expenses.len() == 4 {
            bad("-", "", "more than four KO records in the receipt");
        }
        d.public_expenses.push(PublicExpense {
            line: n,
            payer_number: get(f, 2).trim().to_string(),
            recipient_number: get(f, 3).trim().to_string(),
            days: days.ok().flatten(),
            points: points.ok().flatten().map(Points),
        });
    }

    fn confirmation(&mut self, n: u64, f: &[&str]) {
        let Some(d) = self.current(n, "SN") else {
            return;
        };
        let payer_kind = get(f, 2).trim();
        // One SN per payer: the medical-insurance one (負担者種別 1) is the one used.
        if d.confirmation.is_some() || (payer_kind != "1" && !payer_kind.is_empty()) {
            *d.other_records.entry("SN".to_string()).or_insert(0) += 1;
            return;
        }
        d.confirmation = Some(EligibilityConfirmation {
            line: n,
            payer_kind: payer_kind.to_string(),
            confirmation_kind: get(f, 3).trim().to_string(),
            insurer_number: get(f, 4).trim().to_string(),
            symbol: get(f, 5).trim().to_string(),
            number: get(f, 6).trim().to_string(),
            branch: get(f, 7).trim().to_string(),
            recipient_number: get(f, 8).trim().to_string(),
        });
    }

    fn comment(&mut self, n: u64, f: &[&str]) {
        let Some(d) = self.current(n, "CO") else {
            return;
        };
        // Fields are never quoted, but a comma typed into free text would split it:
        // everything from field 5 on is the text.
        let text = if f.len() > 5 {
            f[4..].join(",")
        } else {
            get(f, 5).to_string()
        };
        d.comments.push(Comment {
            line: n,
            care_category: get(f, 2).trim().to_string(),
            burden_category: get(f, 3).trim().to_string(),
            code: get(f, 4).trim().to_string(),
            text: text.trim().to_string(),
        });
    }

    fn totals(&mut self, n: u64, f: &[&str]) {
        self.close_draft();
        self.after_go = Some(n);
        let count = parse_int::<u64>(get(f, 2));
        let points = parse_int::<i64>(get(f, 3));
        let mut bad = |field: &str, value: &str, reason: &str| {
            self.file_problems.push(QuarantineRow::new(
                &self.file.path,
                n,
                "GO",
                field,
                value,
                reason,
                Scope::File,
            ))
        };
        if count.is_none() {
            bad(
                field::GO_COUNT,
                get(f, 2),
                "expected 総件数 as a whole number",
            );
        }
        if points.is_none() {
            bad(
                field::GO_POINTS,
                get(f, 3),
                "expected 総合計点数 as a whole number",
            );
        }
        if let (Some(receipt_count), Some(p)) = (count, points) {
            self.file.totals = Some(Totals {
                line: n,
                receipt_count,
                total_points: Points(p),
                volume: get(f, 4).trim().to_string(),
            });
        }
    }

    /// Checks the file's totals and builds the receipts.
    fn finish(mut self) {
        self.close_draft();
        if !self.seen_ir {
            self.header_broken = true;
        }
        match &self.file.totals {
            None if self.after_go.is_none() => {
                let last = self.file.lines;
                self.file_problems.push(QuarantineRow::new(
                    &self.file.path,
                    last,
                    "GO",
                    "-",
                    "",
                    format!(
                        "file ends at line {last} without GO: truncated? ({} receipts read)",
                        self.drafts.len()
                    ),
                    Scope::File,
                ));
            }
            None => {}
            Some(t) => {
                let t = t.clone();
                self.check_totals(&t);
            }
        }
        self.duplicate_numbers();
        let file_reason = self
            .file_problems
            .iter()
            .find(|r| r.scope == Scope::File)
            .map(|r| r.reason.clone());
        let header = self.header.clone().filter(|_| !self.header_broken);
        for mut d in std::mem::take(&mut self.drafts) {
            let key = match (&header, d.receipt_number) {
                (Some(h), Some(number)) => Some(ReceiptKey {
                    organization: h.organization,
                    clinic_code: h.clinic_code,
                    billing_month: h.billing_month,
                    receipt_number: number,
                }),
                _ => None,
            };
            let key_text = self.key_text(d.receipt_number);
            let points = d.points();
            // A care month after the billing month cannot be billed yet.
            let mut problems = std::mem::take(&mut d.problems);
            if let (Some(h), Some(care)) = (&header, d.care_month) {
                if care > h.billing_month {
                    problems.push(QuarantineRow::new(
                        &self.file.path,
                        d.line,
                        "RE",
                        field::RE_CARE_MONTH,
                        &care.to_string(),
                        format!(
                            "care month {care} is after the billing month {}",
                            h.billing_month
                        ),
                        Scope::Receipt,
                    ));
                }
            }
            let reason = problems
                .first()
                .map(|r| r.reason.clone())
                .or_else(|| file_reason.clone());
            match (reason, key, d.care_month, d.sex, d.birth_date) {
                (None, Some(key), Some(care_month), Some(sex), Some(birth_date)) => {
                    self.file.receipts.push(Receipt {
                        key,
                        line: d.line,
                        receipt_type: d.receipt_type,
                        care_month,
                        name: d.name,
                        sex,
                        birth_date,
                        benefit_ratio: d.benefit_ratio,
                        special_notes: d.special_notes,
                        chart_number: d.chart_number,
                        kana_name: d.kana_name,
                        patient_state: d.patient_state,
                        insurance: d.insurance,
                        public_expenses: d.public_expenses,
                        confirmation: d.confirmation,
                        comments: d.comments,
                        other_records: d.other_records,
                    })
                }
                (reason, ..) => {
                    for row in problems {
                        self.file.quarantine.push(row.with_receipt(&key_text));
                    }
                    self.file.quarantined.push(QuarantinedReceipt {
                        key,
                        receipt_number: d.receipt_number,
                        line: d.line,
                        points,
                        reason: reason.unwrap_or_else(|| "receipt incomplete".to_string()),
                    });
                }
            }
        }
        self.file.header = self.header.take();
        self.file.quarantine.append(&mut self.file_problems);
    }

    /// GO 総件数 may count receipts once, or once per payer (HO and each KO): either is
    /// accepted. 総合計点数 is the sum of the receipts' points.
    fn check_totals(&mut self, t: &Totals) {
        let receipts = self.drafts.len() as u64;
        let payers: u64 = self.drafts.iter().map(Draft::payer_count).sum();
        if t.receipt_count != receipts && t.receipt_count != payers {
            self.file_problems.push(QuarantineRow::new(
                &self.file.path,
                t.line,
                "GO",
                field::GO_COUNT,
                &t.receipt_count.to_string(),
                format!(
                    "GO 総件数 {} does not match the {receipts} receipts read ({payers} counted per payer)",
                    t.receipt_count
                ),
                Scope::File,
            ));
        }
        let points: Option<Vec<Points>> = self.drafts.iter().map(Draft::points).collect();
        match points {
            Some(points) => {
                let sum: Points = points.into_iter().sum();
                let per_payer: Points = self
                    .drafts
                    .iter()
                    .map(|d| {
                        d.insurance.as_ref().map(|h| h.points).unwrap_or_default()
                            + d.public_expenses.iter().filter_map(|k| k.points).sum()
                    })
                    .sum();
                if t.total_points != sum && t.total_points != per_payer {
                    self.file_problems.push(QuarantineRow::new(
                        &self.file.path,
                        t.line,
                        "GO",
                        field::GO_POINTS,
                        &t.total_points.to_string(),
                        format!(
                            "GO 総合計点数 {} does not match the {} points of the receipts read",
                            t.total_points, sum
                        ),
                        Scope::File,
                    ));
                }
            }
            None => self.file_problems.push(QuarantineRow::new(
                &self.file.path,
                t.line,
                "GO",
                field::GO_POINTS,
                &t.total_points.to_string(),
                "GO 総合計点数 could not be checked: a receipt's 合計点数 is unreadable",
                Scope::Notice,
            )),
        }
        if t.volume != "99" && !t.volume.is_empty() {
            self.file_problems.push(QuarantineRow::new(
                &self.file.path,
                t.line,
                "GO",
                "GO.4 マルチボリューム識別",
                &t.volume,
                "not the last volume (99) of a multi-volume file: totals checked for this volume alone",
                Scope::Notice,
            ));
        }
    }

    /// The same receipt number twice in one file: both receipts are quarantined, as
    /// neither can be told to be the right one.
    fn duplicate_numbers(&mut self) {
        let mut first_line: BTreeMap<u32, u64> = BTreeMap::new();
        let mut lines_of: BTreeMap<u32, Vec<u64>> = BTreeMap::new();
        for d in &self.drafts {
            if let Some(num) = d.receipt_number {
                first_line.entry(num).or_insert(d.line);
                lines_of.entry(num).or_default().push(d.line);
            }
        }
        let file = self.file.path.clone();
        for d in &mut self.drafts {
            let Some(num) = d.receipt_number else {
                continue;
            };
            let lines = &lines_of[&num];
            if lines.len() > 1 {
                let list = lines
                    .iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(", ");
                d.problems.push(QuarantineRow::new(
                    &file,
                    d.line,
                    "RE",
                    field::RE_NUMBER,
                    &num.to_string(),
                    format!(
                        "receipt number {num} appears {} times in the file (lines {list})",
                        lines.len()
                    ),
                    Scope::Receipt,
                ));
            }
        }
    }
}

impl Draft {
    fn new(line: u64) -> Draft {
        Draft {
            line,
            receipt_number: None,
            receipt_type: String::new(),
            care_month: None,
            name: String::new(),
            sex: None,
            birth_date: None,
            benefit_ratio: None,
            special_notes: String::new(),
            chart_number: String::new(),
            kana_name: String::new(),
            patient_state: String::new(),
            insurance: None,
            insurance_broken: false,
            public_expenses: Vec::new(),
            confirmation: None,
            comments: Vec::new(),
            other_records: BTreeMap::new(),
            problems: Vec::new(),
        }
    }
}

/// Field `pos` (1-based; field 1 is the record id), empty when the record is shorter.
fn get<'a>(fields: &[&'a str], pos: usize) -> &'a str {
    fields.get(pos - 1).copied().unwrap_or("")
}

/// A whole number of ASCII digits (surrounding spaces allowed).
fn parse_int<T: std::str::FromStr>(s: &str) -> Option<T> {
    let s = s.trim();
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Empty → `Ok(None)`; digits → `Ok(Some)`; anything else → `Err`.
fn optional_int<T: std::str::FromStr>(s: &str) -> Result<Option<T>, ()> {
    if s.trim().is_empty() {
        Ok(None)
    } else {
        parse_int(s).map(Some).ok_or(())
    }
}

/// Offset of the first byte at which Shift_JIS decoding fails.
fn first_bad_byte(raw: &[u8]) -> usize {
    let mut decoder = SHIFT_JIS.new_decoder_without_bom_handling();
    let mut out = String::with_capacity(raw.len() * 3 + 16);
    let (result, read) = decoder.decode_to_string_without_replacement(raw, &mut out, true);
    match result {
        encoding_rs::DecoderResult::Malformed(len, consumed) => {
            read.saturating_sub(usize::from(len) + usize::from(consumed))
        }
        _ => read,
    }
}
