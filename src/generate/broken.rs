//! Deliberately broken UKE files (`--broken-files`), one per way a real file goes wrong,
//! each from its own clinic, with truth saying which receipts the engine must quarantine:
//! - `undecodable_name`: bytes that are not Shift_JIS inside an RE 氏名 (that receipt);
//! - `undecodable_name_end`: a lone lead byte at the end of an RE 氏名 (that receipt);
//! - `truncated`: the file stops in the middle of its last record, no GO (all);
//! - `go_count_mismatch`: GO 総件数 off by one (all);
//! - `go_points_mismatch`: GO 総合計点数 off (all);
//! - `bad_check_digit`: one HO 保険者番号 with a wrong check digit (that receipt);
//! - `impossible_era_date`: one birth date 平成32年 (`4320115`) (that receipt);
//! - `duplicate_receipt_number`: two receipts with the same number (both).
//!
//! GO totals always count every receipt written (so only the intended fault shows).

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::claims::{header, Case, Ctx, Filler, Spec};
use super::clinics::{clinic, Clinic, KindOf};
use super::people::days;
use super::truth::{Expected, TruthRow};
use super::GenerateError;
use crate::domain::{InsuranceKind, Organization, Points, ReceiptKey};
use crate::ingest::uke::model::Receipt;
use crate::ingest::uke::writer::{
    assign_lines, encode_line, encode_text, uke_lines, DateStyle, UkeLine, EOF_BYTE,
};
use crate::ingest::uke::ReceiptKind;

/// The kinds of breakage, in the order the files are made.
pub const KINDS: [&str; 8] = [
    "undecodable_name",
    "undecodable_name_end",
    "truncated",
    "go_count_mismatch",
    "go_points_mismatch",
    "bad_check_digit",
    "impossible_era_date",
    "duplicate_receipt_number",
];

/// One broken file: its path relative to the output directory, bytes and truth rows.
pub struct BrokenFile {
    pub path: String,
    pub bytes: Vec<u8>,
    pub truth: Vec<TruthRow>,
}

/// A person billable as tier 1 to `org`, drawn at random.
fn tier1_person(rng: &mut ChaCha8Rng, ctx: &Ctx<'_>, org: Organization) -> Option<(u32, u32)> {
    let w = ctx.world;
    let d = w.dates;
    for _ in 0..100_000 {
        let p = rng.random_range(0..w.persons.len());
        let Some(q) = w.period_on(p, d.care_start) else {
            continue;
        };
        let period = &w.periods[q];
        if period.on_roster
            && period.covers_range(d.care_start, d.care_end)
            && ctx.reg.insurers[usize::from(period.insurer)].organization() == org
        {
            return Some((p as u32, q as u32));
        }
    }
    None
}

/// Makes the broken files. `serial0` is the first clinic serial not used by other clinics.
pub fn broken_files(
    rng: &mut ChaCha8Rng,
    ctx: &Ctx<'_>,
    serial0: u32,
) -> Result<Vec<BrokenFile>, GenerateError> {
    let mut out = Vec::new();
    let billing = ctx.world.dates.billing_month;
    for (k, kind) in KINDS.iter().enumerate() {
        let org = if k % 2 == 0 {
            Organization::ShiharaiKikin
        } else {
            Organization::Kokuhoren
        };
        let pref = rng.random_range(1..=47);
        // Broken files are 医科 files: their faults are the file's, not the kind's.
        let mut c: Clinic = clinic(
            rng,
            pref,
            (serial0 + k as u32 * 7_919) % 10_000,
            KindOf::Exactly(ReceiptKind::Ika),
        );
        c.dates = if *kind == "impossible_era_date" {
            DateStyle::Era
        } else {
            DateStyle::Western
        };
        let n = if *kind == "duplicate_receipt_number" {
            4
        } else {
            3
        };
        let path = format!("uke/{}/{}/RECEIPTC.UKE", org.code(), c.code);
        let mut receipts: Vec<Receipt> = Vec::new();
        let mut truth: Vec<TruthRow> = Vec::new();
        for i in 0..n {
            let Some((person, current)) = tier1_person(rng, ctx, org) else {
                break;
            };
            let number = if *kind == "duplicate_receipt_number" && i == 3 {
                2
            } else {
                i as u32 + 1
            };
            let key = ReceiptKey {
                organization: org,
                clinic_code: c.code,
                billing_month: billing,
                receipt_number: number,
            };
            let spec = Spec {
                person,
                case: Case::T1,
                filed: current,
                current,
                clinic: u32::MAX,
                org,
                care_date: days(ctx.world.dates.care_start, rng.random_range(0..28)),
                inpatient: false,
                filler: Filler::Sevens,
                declared: InsuranceKind::Unknown,
                order: 0,
            };
            let built = ctx.build(rng, &spec, key, &c, &path);
            receipts.push(built.receipt);
            truth.push(built.truth);
        }
        if receipts.len() < 2 {
            continue;
        }
        assign_lines(ReceiptKind::Ika, &mut receipts);
        let count = receipts.len() as u64;
        let points: Points = receipts.iter().map(Receipt::points).sum();
        // Wrong whichever way 公費 receipts are counted (once, or once per payer).
        let payers: u64 = receipts.iter().map(Receipt::payer_count).sum();
        let payer_points: Points = receipts
            .iter()
            .map(|r| {
                r.insurance.as_ref().map(|h| h.points).unwrap_or_default()
                    + r.public_expenses.iter().filter_map(|k| k.points).sum()
            })
            .sum();
        let (count, points) = match *kind {
            "go_count_mismatch" => (payers + 1, points),
            "go_points_mismatch" => (count, payer_points + Points(137)),
            _ => (count, points),
        };
        let hdr = header(&c, org, billing);
        let mut lines = uke_lines(&hdr, &receipts, c.dates, count, points)
            .map_err(|e| GenerateError::uke(&path, e))?;
        // Which receipts the fault hits (index into `receipts`); None = the whole file.
        let hit: Option<Vec<usize>> = match *kind {
            "undecodable_name"
            | "undecodable_name_end"
            | "bad_check_digit"
            | "impossible_era_date" => Some(vec![1]),
            "duplicate_receipt_number" => Some(vec![1, 3]),
            _ => None,
        };
        let re_line = |i: usize| receipts[i].line as usize - 1;
        match *kind {
            "bad_check_digit" => {
                let ho = receipts[1].insurance.as_ref().map(|h| h.line as usize - 1);
                if let Some(h) = ho {
                    let f = &mut lines[h].fields[1];
                    let trimmed = f.trim_start().to_string();
                    let last = trimmed.as_bytes()[trimmed.len() - 1] - b'0';
                    let bad = format!("{}{}", &trimmed[..trimmed.len() - 1], (last + 1) % 10);
                    *f = format!("{bad:>8}");
                    truth[1].filed_insurer = bad;
                }
            }
            "impossible_era_date" => lines[re_line(1)].fields[6] = "4320115".into(),
            _ => {}
        }
        let mut bytes = Vec::new();
        let n_lines = lines.len();
        for (li, line) in lines.iter().enumerate() {
            let last = li + 1 == n_lines;
            if *kind == "truncated" && last {
                break; // GO never written
            }
            if (*kind == "undecodable_name" || *kind == "undecodable_name_end") && li == re_line(1)
            {
                encode_with_bad_name(line, *kind == "undecodable_name_end", &mut bytes)
                    .map_err(|e| GenerateError::uke(&path, e))?;
                continue;
            }
            encode_line(line, &mut bytes).map_err(|e| GenerateError::uke(&path, e))?;
        }
        if *kind == "truncated" {
            // Cut the last record in the middle, after a comma.
            bytes.truncate(bytes.len() - 2);
            let cut = bytes.len() - 10;
            if let Some(comma) = bytes[..cut].iter().rposition(|&b| b == b',') {
                bytes.truncate(comma + 1);
            }
        } else {
            bytes.push(EOF_BYTE);
        }
        for (i, t) in truth.iter_mut().enumerate() {
            let quarantined = hit.as_ref().is_none_or(|h| h.contains(&i));
            if quarantined {
                t.expected_status = Expected::Quarantined;
                t.expected_insurer = None;
                t.notes.push(format!("broken_file:{kind}"));
            } else {
                t.notes.push(format!("in_broken_file:{kind}"));
            }
        }
        out.push(BrokenFile { path, bytes, truth });
    }
    Ok(out)
}

/// Encodes an RE line with bytes that are not Shift_JIS in its 氏名 (field 5): a lead
/// byte followed by a space (0x81 0x20) after the first character, or a lone lead byte
/// 0x82 at the end of the field.
fn encode_with_bad_name(
    line: &UkeLine,
    at_end: bool,
    out: &mut Vec<u8>,
) -> Result<(), crate::ingest::uke::writer::UkeWriteError> {
    let mut clean = line.clone();
    clean.fields[4] = String::new();
    let mut tmp = Vec::new();
    encode_line(&clean, &mut tmp)?;
    let mut name = Vec::new();
    encode_text(&line.fields[4], &mut name).map_err(|text| {
        crate::ingest::uke::writer::UkeWriteError::Unencodable {
            line: line.line,
            text,
        }
    })?;
    if at_end {
        name.push(0x82);
    } else {
        let split = 2.min(name.len());
        name.splice(split..split, [0x81, 0x20]);
    }
    // The name field sits after the fourth comma.
    let pos = tmp
        .iter()
        .enumerate()
        .filter(|(_, &b)| b == b',')
        .nth(3)
        .map_or(tmp.len(), |(i, _)| i + 1);
    tmp.splice(pos..pos, name);
    out.extend_from_slice(&tmp);
    Ok(())
}
