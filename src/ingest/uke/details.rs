//! The detail records a written receipt carries beyond what the engine reads (SY, SI,
//! IY, TO of 医科; HS, SS of 歯科; SH, CZ of 調剤; JD of every kind …), one per count
//! in `Receipt::other_records`, in the layout of the file's kind. Their content is made
//! up, deterministically, from the receipt — except the days of care, which are the
//! receipt's own, marked where the kind's layout puts them, so a file written here reads
//! back to the same days.

use chrono::Datelike;

use super::layout::{DayForm, ReceiptKind};
use super::model::Receipt;
use super::writer::{format_date, DateStyle, UkeWriteError};
use crate::domain::CareDays;

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

/// Procedures (SI): (診療識別, 診療行為コード).
const PROCEDURES: &[(&str, &str)] = &[
    ("12", "112007410"),
    ("11", "111000110"),
    ("13", "113001810"),
    ("60", "160000310"),
    ("60", "160008010"),
    ("21", "120000710"),
    ("80", "180018910"),
    ("70", "170011810"),
    ("40", "140000610"),
];

/// Dental procedures (SS): (診療識別, 歯科診療行為コード), made up in the master's form.
const DENTAL: &[(&str, &str)] = &[
    ("11", "301000110"),
    ("12", "301001610"),
    ("40", "309000110"),
    ("41", "309002110"),
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

pub(super) fn mix(mut x: u64) -> u64 {
    // splitmix64 finaliser: stable, cheap, good enough to vary made-up content.
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// A record being built: field 1 is its id, the rest empty until set.
struct Record(Vec<String>);

impl Record {
    fn new(id: &str, fields: usize) -> Record {
        let mut f = vec![String::new(); fields.max(1)];
        f[0] = id.to_string();
        Record(f)
    }

    /// Sets field `pos` (1-based), growing the record to reach it.
    fn set(&mut self, pos: usize, value: impl Into<String>) {
        if self.0.len() < pos {
            self.0.resize(pos, String::new());
        }
        self.0[pos - 1] = value.into();
    }
}

/// Shares a receipt's points among its priced records, so that the file looks
/// internally consistent (the last one takes what is left).
struct Shares {
    left: i64,
    records: u32,
    seen: u32,
}

impl Shares {
    fn next(&mut self, h: u64) -> i64 {
        self.seen += 1;
        if self.seen >= self.records {
            return std::mem::take(&mut self.left);
        }
        let remaining = i64::from(self.records - self.seen + 1);
        let even = self.left / remaining;
        let p = (even / 2 + (h % (even.max(1) as u64 + 1)) as i64).min(self.left);
        self.left -= p;
        p
    }
}

/// The receipt's detail records in the layout of `kind` (the file's header kind), in
/// `other_records` order.
pub(super) fn detail_records(
    kind: ReceiptKind,
    r: &Receipt,
    dates: DateStyle,
) -> Result<Vec<Vec<String>>, UkeWriteError> {
    let layout = kind.layout();
    let seed = mix(u64::from(r.key.receipt_number) << 20 ^ r.points().0 as u64);
    let priced: &[&str] = match kind {
        ReceiptKind::Shika => &["SS"],
        ReceiptKind::Chozai => &["CZ"],
        ReceiptKind::Ika | ReceiptKind::Dpc => &["SI", "IY", "TO"],
    };
    let mut shares = Shares {
        left: r.points().0.max(0),
        records: priced.iter().map(|id| r.other_records.get(id)).sum(),
        seen: 0,
    };
    // The receipt's records with day columns, and which of them is being written.
    let column_records: u32 = layout
        .day_fields
        .iter()
        .filter(|d| d.form == DayForm::Columns)
        .map(|d| r.other_records.get(d.id))
        .sum();
    let mut column_record = 0usize;
    let mut dated_record = 0usize;
    let first_day = format_date(r.care_month.first_day(), dates)?;
    let mut out = Vec::with_capacity(r.other_records.total() as usize);
    for (id, count) in &r.other_records {
        for i in 0..count {
            let h = mix(seed ^ (u64::from(i) << 8) ^ id.as_bytes()[0] as u64);
            let day_fields = layout.day_fields_of(id);
            // A dated record's day (調剤 CZ 調剤月日): the receipt's days in turn.
            let dated = match day_fields.map(|d| d.form) {
                Some(DayForm::Date) => {
                    let nth = dated_record % r.care_days.len().max(1) as usize;
                    dated_record += 1;
                    match r
                        .care_days
                        .days()
                        .nth(nth)
                        .and_then(|d| r.care_month.first_day().with_day(d))
                    {
                        None => String::new(),
                        Some(date) => match dates {
                            DateStyle::Western => format_date(date, dates)?,
                            DateStyle::Era => date.format("%m%d").to_string(),
                        },
                    }
                }
                _ => String::new(),
            };
            let mut f = Record::new(id, 1);
            match (kind, id) {
                (_, "SY") => {
                    let (code, modifier) = DIAGNOSES[(h % DIAGNOSES.len() as u64) as usize];
                    f.set(2, code);
                    f.set(3, first_day.clone());
                    f.set(4, "1"); // 転帰区分: 継続
                    f.set(5, modifier);
                    f.set(7, if i == 0 { "01" } else { "" }); // 主傷病
                    f.set(8, "");
                }
                (ReceiptKind::Ika | ReceiptKind::Dpc, "SI") => {
                    let (cat, code) = PROCEDURES[(h % PROCEDURES.len() as u64) as usize];
                    f.set(2, cat);
                    f.set(3, "1"); // 負担区分
                    f.set(4, code);
                    f.set(6, shares.next(h >> 16).to_string());
                    f.set(7, "1"); // 回数
                }
                (ReceiptKind::Ika | ReceiptKind::Dpc, "IY") => {
                    let (cat, code, qty) = DRUGS[(h % DRUGS.len() as u64) as usize];
                    f.set(2, cat);
                    f.set(3, "1");
                    f.set(4, code);
                    f.set(5, qty);
                    f.set(6, shares.next(h >> 16).to_string());
                    f.set(7, "1");
                }
                (ReceiptKind::Ika | ReceiptKind::Dpc, "TO") => {
                    let (cat, code) = DEVICES[(h % DEVICES.len() as u64) as usize];
                    f.set(2, cat);
                    f.set(3, "1");
                    f.set(4, code);
                    f.set(5, "1"); // 使用量
                    f.set(6, shares.next(h >> 16).to_string());
                    f.set(7, "1");
                }
                (ReceiptKind::Shika, "SS") => {
                    let (cat, code) = DENTAL[(h % DENTAL.len() as u64) as usize];
                    f.set(2, cat);
                    f.set(3, "1");
                    f.set(4, code);
                    f.set(77, shares.next(h >> 16).to_string()); // 点数, after 35 加算 pairs
                    f.set(78, "1"); // 回数
                }
                (ReceiptKind::Shika, "HS") => f.set(4, ""), // 傷病名部位: made up empty
                (ReceiptKind::Chozai, "SH") => {
                    f.set(2, (i + 1).to_string()); // 剤番号
                    f.set(3, "1"); // 剤形
                    f.set(5, "");
                }
                (ReceiptKind::Chozai, "CZ") => {
                    f.set(2, (i + 1).to_string());
                    // 処方月日 (made up as the day of dispensing), then 調剤月日.
                    f.set(3, dated.clone());
                    f.set(6, shares.next(h >> 16).to_string()); // made-up 調剤数量 / 点数
                    f.set(10, "");
                }
                (ReceiptKind::Chozai, "IY") => {
                    let (_, code, qty) = DRUGS[(h % DRUGS.len() as u64) as usize];
                    f.set(2, (i + 1).to_string());
                    f.set(3, "1");
                    f.set(4, code);
                    f.set(5, qty);
                }
                (_, "JD") => f.set(2, "1"), // 負担者種別: 医療保険
                (_, "SN") => {
                    f.set(2, "2"); // 第1公費
                    f.set(3, "01");
                    f.set(9, "");
                }
                _ => f.set(2, ""),
            }
            match day_fields {
                Some(d) if d.form == DayForm::Columns => {
                    mark_columns(
                        &mut f,
                        d.first,
                        r.care_days,
                        column_record,
                        column_records as usize,
                    );
                    column_record += 1;
                }
                Some(d) => f.set(d.first, dated),
                None => {}
            }
            out.push(f.0);
        }
    }
    Ok(out)
}

/// The 31 day fields from `first` (日ごとの回数 of SI/IY/TO/SS, 受診等区分 of JD): the
/// receipt's days dealt out over its `records` day-column records in turn (the
/// `record`-th gets the days at `record`, `record + records` … of the set; one left
/// without a day marks the first day of care), so that together they mark exactly the
/// receipt's days.
fn mark_columns(f: &mut Record, first: usize, days: CareDays, record: usize, records: usize) {
    let marked: Vec<u32> = days.days().collect();
    let mut mine: Vec<u32> = marked
        .iter()
        .copied()
        .skip(record)
        .step_by(records.max(1))
        .collect();
    if mine.is_empty() {
        mine.extend(marked.first());
    }
    for d in 1..=31u32 {
        let value = if mine.contains(&d) { "1" } else { "" };
        f.set(first + d as usize - 1, value);
    }
}
