//! The patient's copay (一部負担金) and the insurer's share of a receipt (DOMAIN §4, §8).
//!
//! The copay billed is HO 負担金額 when the clinic recorded it (as under the high-cost
//! cap); otherwise it is derived: cost × the copay ratio the receipt implies — from
//! 給付割合 when recorded (国保), else from the レセプト種別's patient category and the
//! patient's age — rounded to the nearest 10 yen (5 rounds up). The insurer owes the
//! rest. Where the roster states the patient's real copay_percent, it wins: the
//! difference between what was billed and what was due is the 差額 the insurer later
//! bills or refunds, reported per receipt.
//!
//! A receipt that also bills 公費 (KO records) is paid as the 併用 rule has it: the
//! insurance comes first (保険優先), so the insurer owes cost − copay whatever the 公費
//! pays; the 公費 covers the copay of the care it covers, less the patient's part under
//! it (KO 負担金額; 調剤 KO 一部負担金額). The spec leaves that field empty when the
//! patient owes nothing under the 公費. A 公費-only receipt (no HO) is owed by no
//! insurer: its public payer pays the cost less the patient's part.

use chrono::{Datelike, NaiveDate};

use crate::domain::{Points, Yen};
use crate::ingest::uke::{PublicExpense, Receipt};

/// Copay percent due by age on a day (DOMAIN §8), for the ordinary income band:
/// preschool (until the 31 March after the 6th birthday) 20; then 30 until 70; from
/// the month after turning 70 (the birth month itself when born on the 1st) until the
/// 75th birthday 20; from the 75th birthday (後期高齢者医療) 10. High earners pay 30
/// from 70 on; only the roster or the receipt can say so.
pub fn copay_percent_by_age(birth: NaiveDate, on: NaiveDate) -> u8 {
    let age = age_on(birth, on);
    if on <= preschool_end(birth) {
        return 20;
    }
    if age >= 75 {
        return 10;
    }
    // 70th birthday; the 1st-of-month rule shifts the start a month earlier.
    let seventy = add_years(birth, 70);
    let first_month_at_20 = if birth.day() == 1 {
        (seventy.year(), seventy.month())
    } else if seventy.month() == 12 {
        (seventy.year() + 1, 1)
    } else {
        (seventy.year(), seventy.month() + 1)
    };
    if (on.year(), on.month()) >= first_month_at_20 {
        20
    } else {
        30
    }
}

/// The 31 March on or after the day a child reaches six — legally the day before the
/// 6th birthday, so a child born on 1 April leaves preschool a year earlier.
fn preschool_end(birth: NaiveDate) -> NaiveDate {
    let reached = add_years(birth, 6).pred_opt().unwrap_or(birth);
    let year = if (reached.month(), reached.day()) <= (3, 31) {
        reached.year()
    } else {
        reached.year() + 1
    };
    NaiveDate::from_ymd_opt(year, 3, 31).unwrap_or(reached)
}

fn add_years(d: NaiveDate, years: i32) -> NaiveDate {
    // 29 February becomes 28 February in a common year.
    NaiveDate::from_ymd_opt(d.year() + years, d.month(), d.day())
        .or_else(|| NaiveDate::from_ymd_opt(d.year() + years, d.month(), 28))
        .unwrap_or(d)
}

/// Age in whole years on a day (a birthday counts from the day itself).
pub fn age_on(birth: NaiveDate, on: NaiveDate) -> i32 {
    let mut age = on.year() - birth.year();
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age
}

/// What a receipt billed, as its money is worked out from: the points, and what says
/// which copay percent applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Billed {
    pub points: Points,
    /// RE 8 給付割合.
    pub benefit_ratio: Option<u8>,
    /// The 4th digit of RE 3 レセプト種別 (the patient category), when there is one.
    pub patient_category: Option<u8>,
    pub birth_date: NaiveDate,
    /// HO 12 負担金額, when recorded.
    pub recorded_copay: Option<Yen>,
    /// Whether the receipt has an HO record (a medical insurance pays its part).
    pub insured: bool,
    /// What its KO records say, when it has any.
    pub public: Option<PublicCover>,
}

/// What a receipt's 公費 (its KO records) cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublicCover {
    /// The points of the care the 公費 cover: the largest KO 合計点数 (each KO states
    /// the part of the care its 公費 covers; the first 公費 covers the most). `None`
    /// when no KO writes one: the whole receipt.
    pub points: Option<Points>,
    /// What the patient pays under the 公費: the smallest KO 負担金額 written (each
    /// further 公費 covers what the one before left to the patient); `None` when no KO
    /// writes one, which the spec does when the patient owes nothing under them.
    pub patient_part: Option<Yen>,
}

impl PublicCover {
    fn of(kos: &[PublicExpense]) -> Option<PublicCover> {
        if kos.is_empty() {
            return None;
        }
        Some(PublicCover {
            points: kos.iter().filter_map(|k| k.points).max(),
            patient_part: kos.iter().filter_map(|k| k.copay).min(),
        })
    }
}

impl Billed {
    pub fn of(receipt: &Receipt) -> Billed {
        Billed {
            points: receipt.points(),
            benefit_ratio: receipt.benefit_ratio,
            patient_category: receipt.receipt_type.as_bytes().get(3).copied(),
            birth_date: receipt.birth_date,
            recorded_copay: receipt.insurance.as_ref().and_then(|h| h.copay),
            insured: receipt.insurance.is_some(),
            public: PublicCover::of(&receipt.public_expenses),
        }
    }
}

/// The copay percents a receipt allows, the first being the one it most likely
/// billed: 100 − 給付割合 when recorded (国保); else the レセプト種別's patient category
/// (4th digit): 3/4 未就学者 20; 7/8 高齢受給者・後期 一般 20 from 70, 10 or 20 from 75
/// (the 2割 band of 後期 has no code of its own); 9/0 7割給付 30; others 30.
pub fn receipt_copay_percents(receipt: &Billed, on: NaiveDate) -> &'static [u8] {
    if let Some(ratio) = receipt.benefit_ratio {
        return match ratio {
            90 => &[10],
            80 => &[20],
            70 => &[30],
            _ => &[30],
        };
    }
    match receipt.patient_category {
        Some(b'3' | b'4') => &[20],
        Some(b'7' | b'8') if age_on(receipt.birth_date, on) >= 75 => &[10, 20],
        Some(b'7' | b'8') => &[20],
        _ => &[30],
    }
}

/// Rounds yen to the nearest 10 (5 rounds up), as copays are.
pub fn round_to_10(yen: i64) -> i64 {
    (yen + 5).div_euclid(10) * 10
}

/// The money of one receipt: cost = insurer_share + public_share + patient_pays, and
/// copay = public_share + patient_pays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Money {
    pub cost: Yen,
    /// What the insurance does not pay: the copay due (HO 負担金額 when recorded, else
    /// cost × the percent due); a 公費-only receipt's whole cost.
    pub copay: Yen,
    /// cost − copay: what the insurer owes.
    pub insurer_share: Yen,
    /// Of the copay, what the receipt's 公費 pay.
    pub public_share: Yen,
    /// Of the copay, what the patient pays.
    pub patient_pays: Yen,
    /// What was billed to the patient minus what was due (positive: the patient paid
    /// too much). Zero when nothing tells them apart.
    pub copay_diff: Yen,
    /// The percent due and where it came from.
    pub percent_due: u8,
    pub percent_billed: u8,
}

/// Works out a receipt's money. `roster_percent` is the chosen period's
/// `copay_percent`, which wins over the receipt's where present; a 差額 is reported
/// only when the percent due is not one the receipt allows.
pub fn receipt_money(receipt: &Billed, on: NaiveDate, roster_percent: Option<u8>) -> Money {
    let cost = receipt.points.to_yen();
    if !receipt.insured {
        return public_only_money(cost, receipt.public);
    }
    let allowed = receipt_copay_percents(receipt, on);
    let due = roster_percent.filter(|p| matches!(p, 10 | 20 | 30));
    let percent_billed = match due {
        Some(p) if allowed.contains(&p) => p,
        _ => allowed.first().copied().unwrap_or(30),
    };
    let percent_due = due.unwrap_or(percent_billed);
    let share_of = |percent: u8| Yen(round_to_10(cost.0 * i64::from(percent) / 100));
    let copay = match receipt.recorded_copay {
        // A recorded amount (as under the high-cost cap) stands.
        Some(recorded) => recorded,
        None => share_of(percent_due),
    };
    let billed = match receipt.recorded_copay {
        Some(recorded) => recorded,
        None => share_of(percent_billed),
    };
    let public_share = receipt.public.map_or(Yen(0), |cover| {
        public_part_of_copay(copay, receipt.points, cover)
    });
    Money {
        cost,
        copay,
        insurer_share: cost - copay,
        public_share,
        patient_pays: copay - public_share,
        copay_diff: billed - copay,
        percent_due,
        percent_billed,
    }
}

/// What the 公費 pay of a copay: the copay of the care they cover (all of it, or the
/// share of the points their KO 合計点数 states, rounded down to the yen), less the
/// patient's part under them. Never negative, never more than the copay.
fn public_part_of_copay(copay: Yen, points: Points, cover: PublicCover) -> Yen {
    let covered = match cover.points {
        Some(p) if p.0 < points.0 && points.0 > 0 => {
            // Both at most Points::MAX_PER_RECEIPT and the copay at most the cost: no
            // overflow in i128.
            let part = i128::from(copay.0) * i128::from(p.0.max(0)) / i128::from(points.0);
            Yen(i64::try_from(part).unwrap_or(copay.0))
        }
        _ => copay,
    };
    let patient = cover.patient_part.unwrap_or(Yen(0)).0.clamp(0, covered.0);
    Yen(covered.0 - patient)
}

/// A 公費-only receipt: no insurer owes anything; the patient pays their part under
/// the 公費 (bounded by the cost), the 公費 the rest.
fn public_only_money(cost: Yen, cover: Option<PublicCover>) -> Money {
    let patient = cover
        .and_then(|c| c.patient_part)
        .unwrap_or(Yen(0))
        .0
        .clamp(0, cost.0.max(0));
    Money {
        cost,
        copay: cost,
        insurer_share: Yen(0),
        public_share: Yen(cost.0 - patient),
        patient_pays: Yen(patient),
        copay_diff: Yen(0),
        percent_due: 0,
        percent_billed: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, dd: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, dd).unwrap()
    }

    #[test]
    fn preschool_until_the_march_after_the_sixth_birthday() {
        let birth = d(2019, 9, 9);
        assert_eq!(copay_percent_by_age(birth, d(2026, 3, 31)), 20);
        assert_eq!(copay_percent_by_age(birth, d(2026, 4, 1)), 30);
        assert_eq!(copay_percent_by_age(d(2019, 4, 2), d(2026, 3, 31)), 20);
        // Born 1 April, or early in the year: six is reached before the 31 March.
        assert_eq!(copay_percent_by_age(d(2019, 4, 1), d(2025, 4, 1)), 30);
        assert_eq!(copay_percent_by_age(d(2019, 4, 1), d(2025, 3, 31)), 20);
        assert_eq!(copay_percent_by_age(d(2019, 2, 10), d(2025, 4, 1)), 30);
    }

    #[test]
    fn seventy_from_the_next_month_or_the_birth_month_when_born_on_the_first() {
        let birth = d(1956, 5, 15);
        assert_eq!(copay_percent_by_age(birth, d(2026, 5, 20)), 30);
        assert_eq!(copay_percent_by_age(birth, d(2026, 6, 1)), 20);
        let first = d(1956, 5, 1);
        assert_eq!(copay_percent_by_age(first, d(2026, 5, 1)), 20);
        assert_eq!(copay_percent_by_age(first, d(2026, 4, 30)), 30);
    }

    #[test]
    fn seventy_five_from_the_birthday() {
        let birth = d(1951, 5, 15);
        assert_eq!(copay_percent_by_age(birth, d(2026, 5, 14)), 20);
        assert_eq!(copay_percent_by_age(birth, d(2026, 5, 15)), 10);
    }

    fn billed(points: i64, public: Option<PublicCover>, insured: bool) -> Billed {
        Billed {
            points: Points(points),
            benefit_ratio: None,
            patient_category: Some(b'2'),
            birth_date: d(1980, 4, 15),
            recorded_copay: None,
            insured,
            public,
        }
    }

    fn cover(points: Option<i64>, patient_part: Option<i64>) -> Option<PublicCover> {
        Some(PublicCover {
            points: points.map(Points),
            patient_part: patient_part.map(Yen),
        })
    }

    /// The 併用 rule: the insurer's 7割 stands; the 公費 covers the 3割 less the
    /// patient's part under it, and the parts add up to the cost.
    #[test]
    fn a_public_expense_pays_the_copay_less_the_patients_part() {
        let money = |points, public| {
            let m = receipt_money(&billed(points, public, true), d(2026, 5, 10), None);
            assert_eq!(m.cost, m.insurer_share + m.public_share + m.patient_pays);
            assert_eq!(m.copay, m.public_share + m.patient_pays);
            m
        };
        let m = money(1000, cover(Some(1000), Some(500)));
        assert_eq!(
            (m.cost, m.copay, m.insurer_share),
            (Yen(10_000), Yen(3000), Yen(7000))
        );
        assert_eq!((m.public_share, m.patient_pays), (Yen(2500), Yen(500)));
        // No 負担金額 written: the patient owes nothing under the 公費.
        let m = money(1000, cover(None, None));
        assert_eq!((m.public_share, m.patient_pays), (Yen(3000), Yen(0)));
        // A 公費 covering part of the care covers the copay of that part only.
        let m = money(1000, cover(Some(400), None));
        assert_eq!((m.public_share, m.patient_pays), (Yen(1200), Yen(1800)));
        // A patient's part larger than what the 公費 covers leaves the 公費 nothing.
        let m = money(1000, cover(Some(100), Some(900)));
        assert_eq!((m.public_share, m.patient_pays), (Yen(0), Yen(3000)));
        // No KO: the patient pays the copay.
        let m = money(1000, None);
        assert_eq!((m.public_share, m.patient_pays), (Yen(0), Yen(3000)));
    }

    #[test]
    fn a_public_only_receipt_is_owed_by_no_insurer() {
        let on = d(2026, 5, 10);
        let m = receipt_money(
            &billed(1000, cover(Some(1000), Some(2000)), false),
            on,
            None,
        );
        assert_eq!(
            (m.insurer_share, m.public_share, m.patient_pays),
            (Yen(0), Yen(8000), Yen(2000))
        );
        assert_eq!((m.copay, m.copay_diff), (Yen(10_000), Yen(0)));
        let m = receipt_money(&billed(1000, cover(None, None), false), on, None);
        assert_eq!((m.public_share, m.patient_pays), (Yen(10_000), Yen(0)));
    }

    #[test]
    fn the_public_cover_takes_the_widest_points_and_the_smallest_patient_part() {
        let ko = |points: Option<i64>, copay: Option<i64>| PublicExpense {
            line: 1,
            payer_number: "".into(),
            recipient_number: "".into(),
            days: None,
            points: points.map(Points),
            copay: copay.map(Yen),
        };
        assert_eq!(PublicCover::of(&[]), None);
        assert_eq!(
            PublicCover::of(&[
                ko(Some(900), Some(1000)),
                ko(Some(400), Some(200)),
                ko(None, None)
            ]),
            Some(PublicCover {
                points: Some(Points(900)),
                patient_part: Some(Yen(200))
            })
        );
    }

    #[test]
    fn rounding_to_ten_yen_rounds_five_up() {
        assert_eq!(round_to_10(3702), 3700);
        assert_eq!(round_to_10(3705), 3710);
        assert_eq!(round_to_10(3709), 3710);
        assert_eq!(round_to_10(0), 0);
    }
}
