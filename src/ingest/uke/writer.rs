//! Writing UKE files (DOMAIN §4): the inverse of the reader, used by the generator, by
//! round-trip tests, and by the pending ledger, which keeps each open receipt as a
//! one-receipt UKE file (it blanks the fields made up here; see `pending::uke_text`).
//!
//! A file is Shift_JIS text restricted to ASCII, JIS X 0201 kana and the JIS X 0208
//! repertoire (vendor extensions such as 髙 or ① are refused, never replaced), CR LF
//! line ends and a final EOF byte 0x1A. It is written in the layout of its header's
//! kind (`ClinicHeader::kind`), the reader's tables (`layout.rs`): IR, UK or YK and
//! RE, HO, KO with each kind's field counts and positions, 歯科's IR before each
//! receipt; SN 9 and CO 5 fields, GO 4. Records of a receipt come in the order RE,
//! HO, KO…, SN, CO…, then the records the engine only counts
//! (`Receipt::other_records`, in key order; `details.rs`), whose content is made up,
//! deterministically, from the receipt, except its days of care.

use std::path::Path;

use chrono::{Datelike, NaiveDate};
use encoding_rs::SHIFT_JIS;

use super::details::{detail_records, mix};
use super::layout::{Field, ReceiptKind};
use super::model::{ClinicHeader, InsurerField, Receipt};
use crate::domain::{Era, Points, YearMonth};

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
    lines.push(header_line(header, dates)?);
    for r in receipts {
        receipt_lines(header, r, dates, &mut lines)?;
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

/// Sets the `line` of every record of the receipts to where [`write_uke`] writes them
/// in a file of `kind` (its header is line 1; 歯科 opens each receipt with an IR), and
/// returns the line of GO.
pub fn assign_lines(kind: ReceiptKind, receipts: &mut [Receipt]) -> u64 {
    let receipt_header = u64::from(kind.layout().receipt_header.is_some());
    let mut n = 1u64;
    for r in receipts {
        n += 1 + receipt_header;
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

/// The file's header record in its kind's layout (IR 医科 and DPC, UK 歯科, YK 調剤):
/// then マルチボリューム識別 `00` and a made-up telephone number after 請求年月.
fn header_line(h: &ClinicHeader, dates: DateStyle) -> Result<UkeLine, UkeWriteError> {
    let l = h.kind.layout().header;
    let mut f = vec![String::new(); l.fields];
    f[0] = l.id.into();
    let mut set = |field: Field, value: String| f[field.pos - 1] = value;
    set(l.organization, h.organization.code().to_string());
    set(l.prefecture, format!("{:02}", h.prefecture));
    set(l.fee_table, h.fee_table.clone());
    set(l.clinic, h.clinic_code.to_string());
    set(l.name, h.clinic_name.clone());
    set(l.billing_month, format_month(h.billing_month, dates)?);
    f[l.billing_month.pos] = "00".into();
    f[l.billing_month.pos + 1] = clinic_phone(h);
    Ok(UkeLine::new(1, f))
}

/// The IR that opens each receipt of a 歯科 file (9 fields: 審査支払機関, 都道府県,
/// 点数表, 医療機関コード, 請求年月 at 7, a telephone number at 8).
fn receipt_header_line(h: &ClinicHeader, dates: DateStyle) -> Result<Vec<String>, UkeWriteError> {
    Ok(vec![
        "IR".into(),
        h.organization.code().to_string(),
        format!("{:02}", h.prefecture),
        h.fee_table.clone(),
        h.clinic_code.to_string(),
        String::new(),
        format_month(h.billing_month, dates)?,
        clinic_phone(h),
        String::new(),
    ])
}

/// The fields this writer makes up that no reader keeps (record id, 1-based position),
/// for the file header `kind`: the telephone numbers of the header records and 医科's
/// RE 22 診療科. The pending ledger blanks them, so it invents nothing.
pub fn made_up_fields(kind: ReceiptKind) -> Vec<(&'static str, usize)> {
    let l = kind.layout();
    let mut fields = vec![(l.header.id, l.header.billing_month.pos + 2)];
    match l.receipt_header {
        Some(id) => fields.push((id, 8)),
        None if matches!(kind, ReceiptKind::Ika | ReceiptKind::Dpc) => {
            fields.push(("RE", DEPARTMENT))
        }
        None => {}
    }
    fields
}

/// A made-up but stable telephone number for the clinic (IR field 10).
fn clinic_phone(h: &ClinicHeader) -> String {
    let code = h.clinic_code.as_str();
    format!("0{}-{}-{}", 3 + h.prefecture % 7, &code[1..4], &code[3..7])
}

/// 医科 RE 22 診療科1.
const DEPARTMENT: usize = 22;

/// Appends the records of one receipt to `lines`, in the layout of the file's kind.
fn receipt_lines(
    h: &ClinicHeader,
    r: &Receipt,
    dates: DateStyle,
    lines: &mut Vec<UkeLine>,
) -> Result<(), UkeWriteError> {
    let layout = h.kind.layout();
    let push = |lines: &mut Vec<UkeLine>, f: Vec<String>| {
        let n = lines.len() as u64 + 1;
        lines.push(UkeLine::new(n, f));
    };
    if layout.receipt_header.is_some() {
        push(lines, receipt_header_line(h, dates)?);
    }
    let l = layout.re;
    let mut re = vec![String::new(); l.fields];
    re[0] = "RE".into();
    let set = |f: &mut Vec<String>, field: Field, value: String| f[field.pos - 1] = value;
    set(&mut re, l.number, r.key.receipt_number.to_string());
    set(&mut re, l.receipt_type, r.receipt_type.to_string());
    set(&mut re, l.care_month, format_month(r.care_month, dates)?);
    set(&mut re, l.name, r.name.to_string());
    set(&mut re, l.sex, r.sex.code().to_string());
    set(&mut re, l.birth_date, format_date(r.birth_date, dates)?);
    set(
        &mut re,
        l.benefit_ratio,
        r.benefit_ratio.map(|b| b.to_string()).unwrap_or_default(),
    );
    set(&mut re, l.special_notes, r.special_notes.to_string());
    set(&mut re, l.chart_number, r.chart_number.to_string());
    if let Some(kana) = l.kana {
        set(&mut re, kana, r.kana_name.to_string());
    }
    if let Some(state) = l.patient_state {
        set(&mut re, state, r.patient_state.to_string());
    }
    if matches!(h.kind, ReceiptKind::Ika | ReceiptKind::Dpc) {
        re[DEPARTMENT - 1] = department(r);
    }
    push(lines, re);

    if let Some(ho) = &r.insurance {
        let l = layout.ho;
        let mut f = vec![String::new(); l.fields];
        f[0] = "HO".into();
        let insurer = match &ho.insurer {
            InsurerField::Known(num) => format!("{:>8}", num.as_str()),
            InsurerField::Filler(s) => s.to_string(),
        };
        set(&mut f, l.insurer, insurer);
        set(&mut f, l.symbol, ho.symbol.to_string());
        set(&mut f, l.number, ho.number.to_string());
        set(
            &mut f,
            l.days,
            ho.days.map(|d| d.to_string()).unwrap_or_default(),
        );
        set(&mut f, l.points, ho.points.0.to_string());
        set(
            &mut f,
            l.copay,
            ho.copay.map(|y| y.0.to_string()).unwrap_or_default(),
        );
        push(lines, f);
    }
    for ko in &r.public_expenses {
        let l = layout.ko;
        let mut f = vec![String::new(); l.fields];
        f[0] = "KO".into();
        set(&mut f, l.payer, ko.payer_number.to_string());
        set(&mut f, l.recipient, ko.recipient_number.to_string());
        set(
            &mut f,
            l.days,
            ko.days.map(|d| d.to_string()).unwrap_or_default(),
        );
        set(
            &mut f,
            l.points,
            ko.points.map(|p| p.0.to_string()).unwrap_or_default(),
        );
        set(
            &mut f,
            l.copay,
            ko.copay.map(|y| y.0.to_string()).unwrap_or_default(),
        );
        push(lines, f);
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
        push(lines, f);
    }
    for co in &r.comments {
        let f = vec![
            "CO".into(),
            co.care_category.to_string(),
            co.burden_category.to_string(),
            co.code.to_string(),
            co.text.to_string(),
        ];
        push(lines, f);
    }
    for f in detail_records(h.kind, r, dates)? {
        push(lines, f);
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{CareDays, ClinicCode, InsurerNumber, Organization, ReceiptKey, Sex};
    use crate::ingest::uke::model::{
        Comment, EligibilityConfirmation, HealthInsurance, OtherRecords,
    };

    fn header() -> ClinicHeader {
        ClinicHeader {
            kind: ReceiptKind::Ika,
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
        let go_line = assign_lines(ReceiptKind::Ika, &mut rs);
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
