//! The patient's copay (一部負担金) and the insurer's share of a receipt (DOMAIN §4, §8).
//!
//! The copay billed is HO 負担金額 when the clinic recorded it (as under the high-cost
//! cap); otherwise it is derived: cost × the copay ratio the receipt implies — from
//! 給付割合 when recorded (国保), else from the レセプト種別's patient category and the
//! patient's age — rounded to the nearest 10 yen (5 rounds up). The insurer owes the
//! rest. Where the roster states the patient's real copay_percent, it wins: the
//! difference between what was billed and what was due is the 差額 the insurer later
//! bills or refunds, reported per receipt.

use chrono::{Datelike, NaiveDate};

use crate::domain::{Points, Yen};
use crate::ingest::uke::Receipt;

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
}

impl Billed {
    pub fn of(receipt: &Receipt) -> Billed {
        Billed {
            points: receipt.points(),
            benefit_ratio: receipt.benefit_ratio,
            patient_category: receipt.receipt_type.as_bytes().get(3).copied(),
            birth_date: receipt.birth_date,
            recorded_copay: receipt.insurance.as_ref().and_then(|h| h.copay),
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

/// The money of one receipt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Money {
    pub cost: Yen,
    /// The copay due: HO 負担金額 when recorded, else cost × the percent due.
    pub copay: Yen,
    /// cost − copay: what the insurer owes.
    pub insurer_share: Yen,
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
    Money {
        cost,
        copay,
        insurer_share: cost - copay,
        copay_diff: billed - copay,
        percent_due,
        percent_billed,
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

    #[test]
    fn rounding_to_ten_yen_rounds_five_up() {
        assert_eq!(round_to_10(3702), 3700);
        assert_eq!(round_to_10(3705), 3710);
        assert_eq!(round_to_10(3709), 3710);
        assert_eq!(round_to_10(0), 0);
    }
}
