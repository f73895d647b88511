//! Writing UKE files (DOMAIN §4): the inverse of the reader, used by the generator, by
//! round-trip tests, and by the pending ledger, which keeps each open receipt as a
//! one-receipt UKE file (it blanks the fields made up here; see `pending::uke_text`).
//!
//! A file is Shift_JIS text restricted to ASCII, JIS X 0201 kana and the JIS X 0208
//! repertoire (vendor extensions such as 髙 or ① are refused, never replaced), CR LF
//! line ends and a final EOF byte 0x1A. Field counts per record follow the layouts of
//! the reader: IR 10, RE 38, HO 15, KO 12, SN 9, CO 5, GO 4. Records of a receipt come
//! in the order RE, HO, KO…, SN, CO…, then the records the engine only counts
//! (`Receipt::other_records`, in key order), whose content is made up here,
//! deterministically, from the receipt.

use std::path::Path;

use chrono::{Datelike, NaiveDate};
use encoding_rs::SHIFT_JIS;

use super::model::{ClinicHeader, InsurerField, Receipt};
use crate::domain::{CareDays, Era, Points, YearMonth};

/// How dates are written: current specifications use Western `YYYYMM` / `YYYYMMDD`,
/// older ones Japanese-era `GYYMM` / `GYYMMDD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DateStyle {
    #[default]
    Western,
    Era,
}

/// Why a file could not be written as valid UKE.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UkeWriteError {
    // The messages never quote the text: it is a patient's name, address or phone.
    #[error("line {line}: a field holds text not encodable in Shift_JIS within JIS X 0208")]
    Unencodable { line: u64, text: String },
    #[error("line {line}: field {field} contains a comma or a line break")]
    Separator {
        line: u64,
        field: usize,
        text: String,
    },
    #[error("{0}: a date before 明治 cannot be written in era form")]
    NoEra(NaiveDate),
}

/// EOF byte that ends a UKE file.
pub const EOF_BYTE: u8 = 0x1A;

/// Writes a whole file: IR, every receipt, GO with totals computed from the receipts
/// (総件数 = number of receipts, 総合計点数 = sum of [`Receipt::points`], volume 99).
/// Appends to `out`.
pub fn write_uke(
    header: &ClinicHeader,
    receipts: &[Receipt],
    dates: DateStyle,
    out: &mut Vec<u8>,
) -> Result<(), UkeWriteError> {
    let count = receipts.len() as u64;
    let points: Points = receipts.iter().map(Receipt::points).sum();
    write_uke_with_totals(header, receipts, dates, count, points, out)
}

/// As [`write_uke`], with GO totals as given (to write files whose totals are wrong).
pub fn write_uke_with_totals(
    header: &ClinicHeader,
    receipts: &[Receipt],
    dates: DateStyle,
    receipt_count: u64,
    total_points: Points,
    out: &mut Vec<u8>,
) -> Result<(), UkeWriteError> {
    for line in uke_lines(header, receipts, dates, receipt_count, total_points)? {
        encode_line(&line, out)?;
    }
    out.push(EOF_BYTE);
    Ok(())
}

/// The lines of a file as text (without line ends), records in writing order, GO last.
/// Callers that need to damage a file on purpose edit these and then encode them with
/// [`encode_line`].
pub fn uke_lines(
    header: &ClinicHeader,
    receipts: &[Receipt],
    dates: DateStyle,
    receipt_count: u64,
    total_points: Points,
) -> Result<Vec<UkeLine>, UkeWriteError> {
    let mut lines = Vec::with_capacity(2 + receipts.len() * 8);
    lines.push(ir_line(header, dates)?);
    for r in receipts {
        receipt_lines(r, dates, &mut lines)?;
    }
    let go = UkeLine::new(
        lines.len() as u64 + 1,
        vec![
            "GO".into(),
            receipt_count.to_string(),
            total_points.0.to_string(),
            "99".into(),
        ],
    );
    lines.push(go);
    Ok(lines)
}

/// One record: its 1-based line number in the file and its fields (field 1 is the id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UkeLine {
    pub line: u64,
    pub fields: Vec<String>,
}

impl UkeLine {
    fn new(line: u64, fields: Vec<String>) -> Self {
        UkeLine { line, fields }
    }

    pub fn id(&self) -> &str {
        self.fields.first().map(String::as_str).unwrap_or("")
    }
}

/// Encodes one record as Shift_JIS followed by CR LF. Fields must not contain commas or
/// line breaks (UKE fields are never quoted), and the text must be JIS X 0208.
pub fn encode_line(line: &UkeLine, out: &mut Vec<u8>) -> Result<(), UkeWriteError> {
    for (i, f) in line.fields.iter().enumerate() {
        if f.contains([',', '\r', '\n', '\u{1A}']) {
            return Err(UkeWriteError::Separator {
                line: line.line,
                field: i + 1,
                text: f.clone(),
            });
        }
        if i > 0 {
            out.push(b',');
        }
        encode_text(f, out).map_err(|text| UkeWriteError::Unencodable {
            line: line.line,
            text,
        })?;
    }
    out.extend_from_slice(b"\r\n");
    Ok(())
}

/// Appends `text` as Shift_JIS, refusing anything outside ASCII, JIS X 0201 kana and
/// JIS X 0208 (the returned error is the offending text).
pub fn encode_text(text: &str, out: &mut Vec<u8>) -> Result<(), String> {
    if text.is_ascii() {
        out.extend_from_slice(text.as_bytes());
        return Ok(());
    }
    let (bytes, _, had_errors) = SHIFT_JIS.encode(text);
    if had_errors || !is_jis_x0208_sjis(&bytes) {
        return Err(text.to_string());
    }
    out.extend_from_slice(&bytes);
    Ok(())
}

/// Whether `text` can be written to a UKE file.
pub fn is_uke_text(text: &str) -> bool {
    let mut v = Vec::new();
    encode_text(text, &mut v).is_ok()
}

/// Whether Shift_JIS bytes stay inside ASCII, JIS X 0201 kana and JIS X 0208: lead
/// bytes 0x81–0x84 (rows 1–8), 0x88 (row 16, from trail 0x9F), 0x89–0x9F and 0xE0–0xE9,
/// 0xEA up to 0xA4 (row 84). Rows 9–15 (NEC specials such as ①, 0x87) and 0xED–0xFC
/// (NEC/IBM extensions such as 髙 and 﨑) are out.
fn is_jis_x0208_sjis(b: &[u8]) -> bool {
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c < 0x80 || (0xA1..=0xDF).contains(&c) {
            i += 1;
            continue;
        }
        let Some(&t) = b.get(i + 1) else {
            return false;
        };
        let ok = match c {
            0x81..=0x84 | 0x89..=0x9F | 0xE0..=0xE9 => true,
            0x88 => t >= 0x9F,
            0xEA => t <= 0xA4,
            _ => false,
        };
        if !ok {
            return false;
        }
        i += 2;
    }
    true
}

/// Sets the `line` of every record of the receipts to where [`write_uke`] writes it
/// (IR is line 1), and returns the line of GO.
pub fn assign_lines(receipts: &mut [Receipt]) -> u64 {
    let mut n = 1u64;
    for r in receipts {
        n += 1;
        r.line = n;
        if let Some(ho) = &mut r.insurance {
            n += 1;
            ho.line = n;
        }
        for ko in &mut r.public_expenses {
            n += 1;
            ko.line = n;
        }
        if let Some(sn) = &mut r.confirmation {
            n += 1;
            sn.line = n;
        }
        for co in &mut r.comments {
            n += 1;
            co.line = n;
        }
        n += r.other_records.total();
    }
    n + 1
}

/// Writes a file at `path`, creating its parent directories.
pub fn write_uke_file(
    path: &Path,
    header: &ClinicHeader,
    receipts: &[Receipt],
    dates: DateStyle,
) -> Result<(), WriteFileError> {
    let mut buf = Vec::new();
    write_uke(header, receipts, dates, &mut buf)?;
    write_bytes(path, &buf)
}

/// Writes bytes at `path`, creating its parent directories.
pub fn write_bytes(path: &Path, bytes: &[u8]) -> Result<(), WriteFileError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|source| WriteFileError::Io {
            path: dir.display().to_string(),
            source,
        })?;
    }
    std::fs::write(path, bytes).map_err(|source| WriteFileError::Io {
        path: path.display().to_string(),
        source,
    })
}

/// A file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteFileError {
    #[error(transparent)]
    Uke(#[from] UkeWriteError),
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

/// A month as the style writes it: `YYYYMM` or `GYYMM` (the era of the month's first day).
pub fn format_month(m: YearMonth, style: DateStyle) -> Result<String, UkeWriteError> {
    match style {
        DateStyle::Western => Ok(format!("{:04}{:02}", m.year(), m.month())),
        DateStyle::Era => {
            let d = m.first_day();
            let era = Era::of(d).ok_or(UkeWriteError::NoEra(d))?;
            Ok(format!(
                "{}{:02}{:02}",
                era as u8,
                d.year() - era.first_day().year() + 1,
                m.month()
            ))
        }
    }
}

/// A day as the style writes it: `YYYYMMDD` or `GYYMMDD`.
pub fn format_date(d: NaiveDate, style: DateStyle) -> Result<String, UkeWriteError> {
    match style {
        DateStyle::Western => Ok(format!("{:04}{:02}{:02}", d.year(), d.month(), d.day())),
        DateStyle::Era => {
            let era = Era::of(d).ok_or(UkeWriteError::NoEra(d))?;
            Ok(format!(
                "{}{:02}{:02}{:02}",
                era as u8,
                d.year() - era.first_day().year() + 1,
                d.month(),
                d.day()
            ))
        }
    }
}

fn ir_line(h: &ClinicHeader, dates: DateStyle) -> Result<UkeLine, UkeWriteError> {
    Ok(UkeLine::new(
        1,
        vec![
            "IR".into(),
            h.organization.code().to_string(),
            format!("{:02}", h.prefecture),
            h.fee_table.clone(),
            h.clinic_code.to_string(),
            String::new(),
            h.clinic_name.clone(),
            format_month(h.billing_month, dates)?,
            "00".into(),
            clinic_phone(h),
        ],
    ))
}

/// A made-up but stable telephone number for the clinic (IR field 10).
fn clinic_phone(h: &ClinicHeader) -> String {
    let code = h.clinic_code.as_str();
    format!("0{}-{}-{}", 3 + h.prefecture % 7, &code[1..4], &code[3..7])
}

fn empty(n: usize) -> impl Iterator<Item = String> {
    std::iter::repeat_n(String::new(), n)
}

/// Appends the records of one receipt to `lines`.
fn receipt_lines(
    r: &Receipt,
    dates: DateStyle,
    lines: &mut Vec<UkeLine>,
) -> Result<(), UkeWriteError> {
    // RE: 38 fields.
    let mut re: Vec<String> = Vec::with_capacity(38);
    re.push("RE".into());
    re.push(r.key.receipt_number.to_string());
    re.push(r.receipt_type.to_string());
    re.push(format_month(r.care_month, dates)?);
    re.push(r.name.to_string());
    re.push(r.sex.code().to_string());
    re.push(format_date(r.birth_date, dates)?);
    re.push(r.benefit_ratio.map(|b| b.to_string()).unwrap_or_default());
    re.extend(empty(3)); // 9 入院年月日, 10 病棟区分, 11 一部負担金区分
    re.push(r.special_notes.to_string()); // 12
    re.push(String::new()); // 13 病床数
    re.push(r.chart_number.to_string()); // 14
    re.extend(empty(7)); // 15–21
    re.push(department(r)); // 22 診療科1
    re.extend(empty(14)); // 23–36
    re.push(r.kana_name.to_string()); // 37
    re.push(r.patient_state.to_string()); // 38
    debug_assert_eq!(re.len(), 38);
    let n = lines.len() as u64 + 1;
    lines.push(UkeLine::new(n, re));

    if let Some(ho) = &r.insurance {
        let insurer = match &ho.insurer {
            InsurerField::Known(num) => format!("{:>8}", num.as_str()),
            InsurerField::Filler(s) => s.to_string(),
        };
        let mut f: Vec<String> = Vec::with_capacity(15);
        f.push("HO".into());
        f.push(insurer);
        f.push(ho.symbol.to_string());
        f.push(ho.number.to_string());
        f.push(ho.days.map(|d| d.to_string()).unwrap_or_default());
        f.push(ho.points.0.to_string());
        f.extend(empty(5)); // 7–11
        f.push(ho.copay.map(|y| y.0.to_string()).unwrap_or_default()); // 12
        f.extend(empty(3)); // 13–15
        let n = lines.len() as u64 + 1;
        lines.push(UkeLine::new(n, f));
    }
    for ko in &r.public_expenses {
        let mut f: Vec<String> = Vec::with_capacity(12);
        f.push("KO".into());
        f.push(ko.payer_number.to_string());
        f.push(ko.recipient_number.to_string());
        f.push(String::new()); // 4 任意給付区分
        f.push(ko.days.map(|d| d.to_string()).unwrap_or_default());
        f.push(ko.points.map(|p| p.0.to_string()).unwrap_or_default());
        f.push(ko.copay.map(|y| y.0.to_string()).unwrap_or_default()); // 7 負担金額
        f.extend(empty(5)); // 8–12
        let n = lines.len() as u64 + 1;
        lines.push(UkeLine::new(n, f));
    }
    if let Some(sn) = &r.confirmation {
        let f = vec![
            "SN".into(),
            sn.payer_kind.to_string(),
            sn.confirmation_kind.to_string(),
            sn.insurer_number.to_string(),
            sn.symbol.to_string(),
            sn.number.to_string(),
            sn.branch.to_string(),
            sn.recipient_number.to_string(),
            String::new(),
        ];
        let n = lines.len() as u64 + 1;
        lines.push(UkeLine::new(n, f));
    }
    for co in &r.comments {
        let f = vec![
            "CO".into(),
            co.care_category.to_string(),
            co.burden_category.to_string(),
            co.code.to_string(),
            co.text.to_string(),
        ];
        let n = lines.len() as u64 + 1;
        lines.push(UkeLine::new(n, f));
    }
    other_lines(r, dates, lines)
}

/// 診療科 code (RE 22) for some receipts, stable per receipt; mostly empty.
fn department(r: &Receipt) -> String {
    let h = mix(u64::from(r.key.receipt_number) ^ 0x5eed);
    if h.is_multiple_of(4) {
        ["01", "13", "23", "31", "09"][(h / 4 % 5) as usize].to_string()
    } else {
        String::new()
    }
}

/// Diagnoses (SY): (傷病名コード, 修飾語コード) pairs that look like the master's.
const DIAGNOSES: &[(&str, &str)] = &[
    ("8833421", ""),
    ("2500013", ""),
    ("4659007", ""),
    ("4739012", ""),
    ("2724004", ""),
    ("4770003", ""),
    ("5329011", "8002"),
    ("7245001", ""),
    ("7194001", "2057"),
    ("4930006", ""),
    ("3659001", ""),
    ("5589001", ""),
];

/// Procedures (SI): (診療識別, 診療行為コード, 点数).
const PROCEDURES: &[(&str, &str, i64)] = &[
    ("12", "112007410", 75),
    ("11", "111000110", 291),
    ("13", "113001810", 225),
    ("60", "160000310", 11),
    ("60", "160008010", 144),
    ("21", "120000710", 42),
    ("80", "180018910", 100),
    ("70", "170011810", 210),
    ("40", "140000610", 61),
];

/// Devices (TO): (診療識別, 特定器材コード, made up in the master's 7-prefixed form).
const DEVICES: &[(&str, &str)] = &[
    ("40", "700590000"),
    ("31", "710010000"),
    ("50", "730380000"),
];

/// Drugs (IY): (診療識別, 医薬品コード, 数量).
const DRUGS: &[(&str, &str, &str)] = &[
    ("21", "620004839", "1"),
    ("21", "610463147", "2"),
    ("21", "620000033", "3"),
    ("23", "620008601", "1"),
    ("21", "621983401", "1"),
    ("33", "620007313", "1"),
];

fn mix(mut x: u64) -> u64 {
    // splitmix64 finaliser: stable, cheap, good enough to vary made-up content.
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// The records the engine only counts, with made-up content. SI and IY lines share the
/// receipt's points between them so the file looks internally consistent.
fn other_lines(
    r: &Receipt,
    dates: DateStyle,
    lines: &mut Vec<UkeLine>,
) -> Result<(), UkeWriteError> {
    let seed = mix(u64::from(r.key.receipt_number) << 20 ^ r.points().0 as u64);
    let billed: u32 = ["SI", "IY", "TO"]
        .iter()
        .map(|id| r.other_records.get(id))
        .sum();
    let total = r.points().0.max(0);
    let mut left = total;
    let mut billed_seen = 0u32;
    let first_day = format_date(r.care_month.first_day(), dates)?;
    let mut share = |h: u64| -> i64 {
        billed_seen += 1;
        if billed_seen >= billed {
            return std::mem::take(&mut left);
        }
        let remaining = i64::from(billed - billed_seen + 1);
        let even = left / remaining;
        let p = (even / 2 + (h % (even.max(1) as u64 + 1)) as i64).min(left);
        left -= p;
        p
    };
    // The receipt's day-marking records, and which of them is being written.
    let day_lines: u32 = ["SI", "IY", "TO", "JD"]
        .iter()
        .map(|id| r.other_records.get(id))
        .sum();
    let mut day_line = 0usize;
    for (id, count) in &r.other_records {
        for i in 0..count {
            let h = mix(seed ^ (u64::from(i) << 8) ^ id.as_bytes()[0] as u64);
            let mut f: Vec<String> = vec![id.to_string()];
            match id {
                "SY" => {
                    let (code, modifier) = DIAGNOSES[(h % DIAGNOSES.len() as u64) as usize];
                    f.push(code.into());
                    f.push(first_day.clone());
                    f.push("1".into()); // 転帰区分: 継続
                    f.push(modifier.into());
                    f.push(String::new()); // 傷病名称 (only for 未コード化傷病名)
                    f.push(if i == 0 { "01".into() } else { String::new() }); // 主傷病
                    f.push(String::new());
                }
                "SI" => {
                    let (cat, code, _) = PROCEDURES[(h % PROCEDURES.len() as u64) as usize];
                    let points = share(h >> 16);
                    f.push(cat.into());
                    f.push("1".into());
                    f.push(code.into());
                    f.push(String::new());
                    f.push(points.to_string());
                    f.push("1".into());
                    f.extend(empty(6)); // 8–13 コメント 1–3 (コード, 文字データ)
                    day_counts(&mut f, r.care_days, &mut day_line, day_lines as usize);
                }
                "IY" => {
                    let (cat, code, qty) = DRUGS[(h % DRUGS.len() as u64) as usize];
                    let points = share(h >> 16);
                    f.push(cat.into());
                    f.push("1".into());
                    f.push(code.into());
                    f.push(qty.into());
                    f.push(points.to_string());
                    f.push("1".into());
                    f.extend(empty(6)); // 8–13
                    day_counts(&mut f, r.care_days, &mut day_line, day_lines as usize);
                }
                "TO" => {
                    let (cat, code) = DEVICES[(h % DEVICES.len() as u64) as usize];
                    let points = share(h >> 16);
                    f.push(cat.into());
                    f.push("1".into());
                    f.push(code.into());
                    f.push("1".into()); // 5 使用量
                    f.push(points.to_string());
                    f.push("1".into());
                    f.extend(empty(4)); // 8 単位コード, 9 単価, 10 加算, 11 商品名
                    f.extend(empty(6)); // 12–17 コメント 1–3
                    day_counts(&mut f, r.care_days, &mut day_line, day_lines as usize);
                }
                "JD" => {
                    f.push("1".into()); // 2 負担者種別: 医療保険
                    day_counts(&mut f, r.care_days, &mut day_line, day_lines as usize);
                }
                "SN" => {
                    f.push("2".into()); // 第1公費
                    f.push("01".into());
                    f.extend(empty(6));
                }
                _ => f.push(String::new()),
            }
            let n = lines.len() as u64 + 1;
            lines.push(UkeLine::new(n, f));
        }
    }
    Ok(())
}

/// The 31 day fields of SI/IY/TO (日ごとの回数) and JD (受診等区分): the receipt's days of care dealt out over its
/// `lines` day-marking records in turn (the `line`-th gets the days at `line`,
/// `line + lines` … of the set; one left without a day marks the first day of care),
/// so that the records together mark exactly the receipt's days.
fn day_counts(f: &mut Vec<String>, days: CareDays, line: &mut usize, lines: usize) {
    let marked: Vec<u32> = days.days().collect();
    let mut mine: Vec<u32> = marked
        .iter()
        .copied()
        .skip(*line)
        .step_by(lines.max(1))
        .collect();
    if mine.is_empty() {
        mine.extend(marked.first());
    }
    *line += 1;
    for d in 1..=31 {
        f.push(if mine.contains(&d) {
            "1".into()
        } else {
            String::new()
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ClinicCode, InsurerNumber, Organization, ReceiptKey, Sex};
    use crate::ingest::uke::model::{
        Comment, EligibilityConfirmation, HealthInsurance, OtherRecords,
    };

    fn header() -> ClinicHeader {
        ClinicHeader {
            organization: Organization::Kokuhoren,
            prefecture: 13,
            fee_table: "1".into(),
            clinic_code: ClinicCode::parse("0112345").unwrap(),
            clinic_name: "山田内科クリニック".into(),
            billing_month: YearMonth::new(2026, 6).unwrap(),
        }
    }

    fn receipt(number: u32) -> Receipt {
        let h = header();
        Receipt {
            key: ReceiptKey {
                organization: h.organization,
                clinic_code: h.clinic_code,
                billing_month: h.billing_month,
                receipt_number: number,
            },
            line: 0,
            receipt_type: "1112".into(),
            care_month: YearMonth::new(2026, 5).unwrap(),
            name: "山田　太郎".into(),
            sex: Sex::Male,
            birth_date: NaiveDate::from_ymd_opt(1970, 8, 15).unwrap(),
            benefit_ratio: Some(70),
            special_notes: Default::default(),
            chart_number: "A-12".into(),
            kana_name: "ヤマダ　タロウ".into(),
            patient_state: Default::default(),
            care_days: CareDays::NONE.with(12).unwrap(),
            insurance: Some(HealthInsurance {
                line: 0,
                insurer: InsurerField::Known(InsurerNumber::parse("131045").unwrap()),
                symbol: "12".into(),
                number: "3456".into(),
                days: Some(2),
                points: Points(812),
                copay: None,
            }),
            public_expenses: vec![],
            confirmation: Some(EligibilityConfirmation {
                line: 0,
                payer_kind: "1".into(),
                confirmation_kind: "01".into(),
                insurer_number: "131045".into(),
                symbol: "12".into(),
                number: "3456".into(),
                branch: "00".into(),
                recipient_number: Default::default(),
            }),
            comments: vec![Comment {
                line: 0,
                care_category: Default::default(),
                burden_category: Default::default(),
                code: Comment::FREE_TEXT.into(),
                text: "不詳".into(),
            }],
            other_records: OtherRecords::from([("SI", 2), ("SY", 1)]),
        }
    }

    fn decode(bytes: &[u8]) -> String {
        SHIFT_JIS
            .decode_without_bom_handling_and_without_replacement(bytes)
            .unwrap()
            .into_owned()
    }

    #[test]
    fn layout_field_counts_and_line_ends() {
        let mut rs = vec![receipt(1), receipt(2)];
        let go_line = assign_lines(&mut rs);
        let mut out = Vec::new();
        write_uke(&header(), &rs, DateStyle::Western, &mut out).unwrap();
        assert_eq!(out.last(), Some(&EOF_BYTE));
        let body = &out[..out.len() - 1];
        assert!(body.ends_with(b"\r\n"));
        let text = decode(body);
        let lines: Vec<&str> = text.trim_end_matches("\r\n").split("\r\n").collect();
        assert_eq!(lines.len() as u64, go_line);
        for l in &lines {
            let n = l.split(',').count();
            let want = match &l[..2] {
                "IR" => 10,
                "RE" => 38,
                "HO" => 15,
                "KO" => 12,
                "SN" => 9,
                "CO" => 5,
                "GO" => 4,
                "SY" => 8,
                "SI" | "IY" => 44,
                other => panic!("unexpected record {other}"),
            };
            assert_eq!(n, want, "{l}");
        }
        assert_eq!(
            lines[0],
            "IR,2,13,1,0112345,,山田内科クリニック,202606,00,09-112-2345"
        );
        assert!(lines[2].starts_with("HO,  131045,12,3456,2,812,"));
        assert_eq!(*lines.last().unwrap(), "GO,2,1624,99");
        assert_eq!(rs[1].line, 9);
        // SI points add up to the receipt's.
        let si: i64 = lines
            .iter()
            .filter(|l| l.starts_with("SI"))
            .map(|l| l.split(',').nth(5).unwrap().parse::<i64>().unwrap())
            .sum();
        assert_eq!(si, 1624);
    }

    #[test]
    fn era_dates() {
        let d = NaiveDate::from_ymd_opt(1970, 8, 15).unwrap();
        assert_eq!(format_date(d, DateStyle::Era).unwrap(), "3450815");
        assert_eq!(format_date(d, DateStyle::Western).unwrap(), "19700815");
        let m = YearMonth::new(2026, 5).unwrap();
        assert_eq!(format_month(m, DateStyle::Era).unwrap(), "50805");
        let m = YearMonth::new(2019, 5).unwrap();
        assert_eq!(format_month(m, DateStyle::Era).unwrap(), "50105");
        for s in ["3450815", "4010108", "5080501"] {
            let d = crate::domain::parse_uke_date(s).unwrap();
            assert_eq!(format_date(d, DateStyle::Era).unwrap(), s);
        }
    }

    #[test]
    fn refuses_text_outside_jis_x0208_and_commas() {
        assert!(is_uke_text("渡邊　齋藤　ｻﾄｳ　－"));
        assert!(!is_uke_text("髙橋")); // IBM extension
        assert!(!is_uke_text("﨑"));
        assert!(!is_uke_text("①"));
        assert!(!is_uke_text("😀"));
        let mut r = receipt(1);
        r.name = "髙橋　一郎".into();
        let mut out = Vec::new();
        let e = write_uke(&header(), &[r], DateStyle::Western, &mut out).unwrap_err();
        assert!(matches!(e, UkeWriteError::Unencodable { line: 2, .. }));
        let mut r = receipt(1);
        r.comments[0].text = "住所,東京".into();
        assert!(matches!(
            write_uke(&header(), &[r], DateStyle::Western, &mut Vec::new()),
            Err(UkeWriteError::Separator { field: 5, .. })
        ));
    }
}
