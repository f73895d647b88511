//! Dates as receipts write them. Older UKE specifications use Japanese-era dates
//! (`GYYMM`, `GYYMMDD`, era code G: 1 明治 … 5 令和); current ones use Western dates
//! (`YYYYMM`, `YYYYMMDD`). Both are accepted and told apart by length. A date must exist
//! in the calendar *and* in its era: 平成32年 or 平成31年5月1日 (already 令和) are errors.

use std::fmt;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

use super::DomainError;

/// The five modern eras, with the code UKE uses for each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Era {
    Meiji = 1,
    Taisho = 2,
    Showa = 3,
    Heisei = 4,
    Reiwa = 5,
}

impl Era {
    pub fn from_code(code: u8) -> Option<Era> {
        Some(match code {
            1 => Era::Meiji,
            2 => Era::Taisho,
            3 => Era::Showa,
            4 => Era::Heisei,
            5 => Era::Reiwa,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Era::Meiji => "明治",
            Era::Taisho => "大正",
            Era::Showa => "昭和",
            Era::Heisei => "平成",
            Era::Reiwa => "令和",
        }
    }

    /// First day of the era (inclusive).
    pub fn first_day(self) -> NaiveDate {
        let (y, m, d) = match self {
            Era::Meiji => (1868, 1, 25),
            Era::Taisho => (1912, 7, 30),
            Era::Showa => (1926, 12, 25),
            Era::Heisei => (1989, 1, 8),
            Era::Reiwa => (2019, 5, 1),
        };
        ymd(y, m, d)
    }

    /// Last day of the era (inclusive), `None` for the current era.
    pub fn last_day(self) -> Option<NaiveDate> {
        let next = match self {
            Era::Meiji => Era::Taisho,
            Era::Taisho => Era::Showa,
            Era::Showa => Era::Heisei,
            Era::Heisei => Era::Reiwa,
            Era::Reiwa => return None,
        };
        next.first_day().pred_opt()
    }

    /// The era a calendar date falls in, if any of the five.
    pub fn of(date: NaiveDate) -> Option<Era> {
        [Era::Reiwa, Era::Heisei, Era::Showa, Era::Taisho, Era::Meiji]
            .into_iter()
            .find(|e| date >= e.first_day())
    }

    /// Western year of the era's year `n` (元年 = 1).
    fn western_year(self, n: i32) -> i32 {
        self.first_day().year() + n - 1
    }
}

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    // Only called with the era constants above, which are valid dates.
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
}

/// A calendar month (`billing_month`, `care_month`). Displays as `YYYY-MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct YearMonth {
    year: i32,
    month: u8,
}

impl YearMonth {
    pub fn new(year: i32, month: u32) -> Result<Self, DomainError> {
        if !(1..=12).contains(&month) || !(1868..=9999).contains(&year) {
            return Err(DomainError::InvalidDate(format!(
                "{year:04}-{month:02} is not a month"
            )));
        }
        Ok(YearMonth {
            year,
            month: month as u8,
        })
    }

    pub fn year(self) -> i32 {
        self.year
    }

    pub fn month(self) -> u32 {
        u32::from(self.month)
    }

    pub fn first_day(self) -> NaiveDate {
        ymd(self.year, self.month(), 1)
    }

    pub fn last_day(self) -> NaiveDate {
        self.next().first_day().pred_opt().unwrap_or(NaiveDate::MAX)
    }

    /// How many days it has (the day of [`Self::last_day`]), without making a date: the
    /// UKE reader asks it of every day of care it reads.
    pub fn days(self) -> u32 {
        let leap = self.year % 4 == 0 && (self.year % 100 != 0 || self.year % 400 == 0);
        match self.month {
            2 if leap => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        }
    }

    pub fn next(self) -> YearMonth {
        if self.month == 12 {
            YearMonth {
                year: self.year + 1,
                month: 1,
            }
        } else {
            YearMonth {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    pub fn of(date: NaiveDate) -> YearMonth {
        YearMonth {
            year: date.year(),
            month: date.month() as u8,
        }
    }

    /// Parses `YYYY-MM` (the form reseclear's own files use).
    pub fn parse_iso(s: &str) -> Result<Self, DomainError> {
        let b = s.as_bytes();
        if b.len() != 7 || b[4] != b'-' {
            return Err(DomainError::malformed("a month as YYYY-MM", s));
        }
        let year = digits(&b[0..4]).ok_or_else(|| DomainError::malformed("YYYY-MM", s))?;
        let month = digits(&b[5..7]).ok_or_else(|| DomainError::malformed("YYYY-MM", s))?;
        YearMonth::new(year as i32, month)
    }

    /// Months from `self` to `later` (0 when equal, negative if `later` is earlier).
    pub fn months_until(self, later: YearMonth) -> i32 {
        (later.year - self.year) * 12 + i32::from(later.month) - i32::from(self.month)
    }
}

impl fmt::Display for YearMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl Serialize for YearMonth {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for YearMonth {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        YearMonth::parse_iso(&s).map_err(serde::de::Error::custom)
    }
}

fn digits(b: &[u8]) -> Option<u32> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0')))
}

/// Parses a UKE day: `GYYMMDD` (7 digits, era) or `YYYYMMDD` (8 digits, Western).
pub fn parse_uke_date(s: &str) -> Result<NaiveDate, DomainError> {
    let b = s.as_bytes();
    if !b.iter().all(u8::is_ascii_digit) || !(b.len() == 7 || b.len() == 8) {
        return Err(DomainError::malformed(
            "a date as GYYMMDD (era) or YYYYMMDD",
            s,
        ));
    }
    let (year, era) = if b.len() == 7 {
        let era = Era::from_code(b[0] - b'0').ok_or_else(|| {
            DomainError::InvalidDate(format!("{s}: era code {} is not 1–5", b[0] - b'0'))
        })?;
        let n = digits(&b[1..3]).unwrap_or(0) as i32;
        if n == 0 {
            return Err(DomainError::InvalidDate(format!(
                "{s}: year 0 of {}",
                era.name()
            )));
        }
        (era.western_year(n), Some((era, n)))
    } else {
        (digits(&b[0..4]).unwrap_or(0) as i32, None)
    };
    let (mm, dd) = (
        digits(&b[b.len() - 4..b.len() - 2]).unwrap_or(0),
        digits(&b[b.len() - 2..]).unwrap_or(0),
    );
    let date = NaiveDate::from_ymd_opt(year, mm, dd).ok_or_else(|| {
        DomainError::InvalidDate(format!("{s}: {year:04}-{mm:02}-{dd:02} is not a date"))
    })?;
    if let Some((era, n)) = era {
        let inside = date >= era.first_day() && era.last_day().is_none_or(|l| date <= l);
        if !inside {
            return Err(DomainError::InvalidDate(format!(
                "{s}: {}{n}年{mm}月{dd}日 does not exist ({} runs {}–{})",
                era.name(),
                era.name(),
                era.first_day(),
                era.last_day().map(|d| d.to_string()).unwrap_or_default()
            )));
        }
    } else if year < 1868 {
        return Err(DomainError::InvalidDate(format!(
            "{s}: year {year} is before 1868"
        )));
    }
    Ok(date)
}

/// Parses a UKE month: `GYYMM` (5 digits, era) or `YYYYMM` (6 digits, Western).
/// An era month is valid when at least one of its days lies inside the era.
pub fn parse_uke_month(s: &str) -> Result<YearMonth, DomainError> {
    let b = s.as_bytes();
    if !b.iter().all(u8::is_ascii_digit) || !(b.len() == 5 || b.len() == 6) {
        return Err(DomainError::malformed(
            "a month as GYYMM (era) or YYYYMM",
            s,
        ));
    }
    if b.len() == 6 {
        let year = digits(&b[0..4]).unwrap_or(0) as i32;
        return YearMonth::new(year, digits(&b[4..6]).unwrap_or(0))
            .map_err(|e| DomainError::InvalidDate(format!("{s}: {e}")));
    }
    let era = Era::from_code(b[0] - b'0').ok_or_else(|| {
        DomainError::InvalidDate(format!("{s}: era code {} is not 1–5", b[0] - b'0'))
    })?;
    let n = digits(&b[1..3]).unwrap_or(0) as i32;
    let month = digits(&b[3..5]).unwrap_or(0);
    let ym = YearMonth::new(era.western_year(n), month)
        .map_err(|e| DomainError::InvalidDate(format!("{s}: {e}")))?;
    let overlaps = n > 0
        && ym.last_day() >= era.first_day()
        && era.last_day().is_none_or(|l| ym.first_day() <= l);
    if !overlaps {
        return Err(DomainError::InvalidDate(format!(
            "{s}: {}{n}年{month}月 does not exist",
            era.name()
        )));
    }
    Ok(ym)
}

/// Parses `YYYY-MM-DD` (reseclear's CSV contracts).
pub fn parse_iso_date(s: &str) -> Result<NaiveDate, DomainError> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return Err(DomainError::malformed("a date as YYYY-MM-DD", s));
    }
    let (y, m, d) = match (digits(&b[0..4]), digits(&b[5..7]), digits(&b[8..10])) {
        (Some(y), Some(m), Some(d)) => (y as i32, m, d),
        _ => return Err(DomainError::malformed("a date as YYYY-MM-DD", s)),
    };
    NaiveDate::from_ymd_opt(y, m, d)
        .filter(|_| y >= 1868)
        .ok_or_else(|| DomainError::InvalidDate(format!("{s} is not a date")))
}

/// A date as people write it on forms and in 摘要 comments: 令和8年5月12日, 令和元年,
/// R8.5.12, R08/05/12, H31.4.30, S55.4.15, 2026/5/12, 2026-05-12, 2026.5.12,
/// 2026年5月12日, 20260512 — full-width digits and spaces allowed. The date must exist,
/// in its era too (平成31年5月1日 does not).
pub fn parse_written_date(written: &str) -> Option<NaiveDate> {
    let compact: String = written
        .nfkc()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect();
    let compact = compact.as_str();
    const ERAS: [(&str, u8); 10] = [
        ("令和", 5),
        ("平成", 4),
        ("昭和", 3),
        ("大正", 2),
        ("明治", 1),
        ("r", 5),
        ("h", 4),
        ("s", 3),
        ("t", 2),
        ("m", 1),
    ];
    if let Some((code, rest)) = ERAS
        .iter()
        .find_map(|&(prefix, code)| compact.strip_prefix(prefix).map(|rest| (code, rest)))
    {
        let (y, m, d) = year_month_day(rest, true)?;
        if !(1..=99).contains(&y) {
            return None;
        }
        return parse_uke_date(&format!("{code}{y:02}{m:02}{d:02}")).ok();
    }
    if compact.len() == 8 && compact.bytes().all(|b| b.is_ascii_digit()) {
        return parse_uke_date(compact).ok();
    }
    let (y, m, d) = year_month_day(compact, false)?;
    if !(1000..=9999).contains(&y) {
        return None;
    }
    parse_uke_date(&format!("{y:04}{m:02}{d:02}")).ok()
}

/// `Y<sep>M<sep>D[日]` with separators 年 月 . / - ; 元 for year 1 when `gannen`.
fn year_month_day(s: &str, gannen: bool) -> Option<(u32, u32, u32)> {
    fn number(s: &str, gannen: bool) -> Option<(u32, &str)> {
        if gannen {
            if let Some(rest) = s.strip_prefix('元') {
                return Some((1, rest));
            }
        }
        let len = s.bytes().take_while(u8::is_ascii_digit).count();
        if len == 0 || len > 4 {
            return None;
        }
        Some((s[..len].parse().ok()?, &s[len..]))
    }
    fn separator(s: &str, word: char) -> Option<&str> {
        s.strip_prefix(word)
            .or_else(|| s.strip_prefix(['.', '/', '-']))
    }
    let (y, rest) = number(s, gannen)?;
    let rest = separator(rest, '年')?;
    let (m, rest) = number(rest, false)?;
    let rest = separator(rest, '月')?;
    let (d, rest) = number(rest, false)?;
    if !matches!(rest, "" | "日") || m > 12 || d > 31 {
        return None;
    }
    Some((y, m, d))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_the_last_days() {
        for year in 1868..=9999 {
            for month in 1..=12 {
                let m = YearMonth::new(year, month).expect("month");
                assert_eq!(m.days(), m.last_day().day(), "{m}");
            }
        }
    }

    fn d(y: i32, m: u32, dd: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, dd).unwrap()
    }

    #[test]
    fn era_dates_convert_at_the_boundaries() {
        assert_eq!(parse_uke_date("4010108").unwrap(), d(1989, 1, 8)); // 平成元年1月8日
        assert_eq!(parse_uke_date("3640107").unwrap(), d(1989, 1, 7)); // 昭和64年1月7日
        assert_eq!(parse_uke_date("4310430").unwrap(), d(2019, 4, 30)); // 平成31年4月30日
        assert_eq!(parse_uke_date("5010501").unwrap(), d(2019, 5, 1)); // 令和元年5月1日
        assert_eq!(parse_uke_date("3011225").unwrap(), d(1926, 12, 25)); // 昭和元年
        assert_eq!(parse_uke_date("2010730").unwrap(), d(1912, 7, 30)); // 大正元年
        assert_eq!(parse_uke_date("3450815").unwrap(), d(1970, 8, 15));
    }

    #[test]
    fn western_dates_are_told_apart_by_length() {
        assert_eq!(parse_uke_date("20240229").unwrap(), d(2024, 2, 29));
        assert_eq!(parse_uke_month("202604").unwrap().to_string(), "2026-04");
        assert_eq!(parse_uke_month("50804").unwrap().to_string(), "2026-04"); // 令和8年4月
    }

    #[test]
    fn dates_outside_their_era_are_rejected() {
        for s in [
            "4320101", // 平成32年: 平成 ended in its 31st year
            "4010107", // 平成元年1月7日 was still 昭和
            "4310501", // 平成31年5月1日 was already 令和
            "5000101", // year 0
            "6010101", // no era 6
        ] {
            assert!(parse_uke_date(s).is_err(), "{s} should be rejected");
        }
        assert!(parse_uke_month("43201").is_err()); // 平成32年1月
        assert!(parse_uke_month("43105").is_err()); // 平成31年5月 had no 平成 day
        assert!(parse_uke_month("43104").is_ok());
    }

    #[test]
    fn impossible_calendar_dates_are_rejected() {
        for s in [
            "4120230",
            "20230229",
            "20261301",
            "20260132",
            "2026013",
            "2026-01-01",
            "",
        ] {
            assert!(parse_uke_date(s).is_err(), "{s} should be rejected");
        }
        assert!(parse_uke_month("202613").is_err());
        assert!(parse_uke_month("202600").is_err());
    }

    #[test]
    fn iso_forms() {
        assert_eq!(parse_iso_date("1955-03-31").unwrap(), d(1955, 3, 31));
        assert!(parse_iso_date("1955-02-30").is_err());
        assert!(parse_iso_date("1955/03/31").is_err());
        assert_eq!(
            YearMonth::parse_iso("2026-10").unwrap().next().to_string(),
            "2026-11"
        );
        assert_eq!(
            YearMonth::parse_iso("2026-12").unwrap().next().to_string(),
            "2027-01"
        );
        assert!(YearMonth::parse_iso("2026-13").is_err());
    }

    #[test]
    fn written_dates_as_on_forms() {
        for s in [
            "昭和55年4月15日",
            "S55.4.15",
            "s55/04/15",
            "1980-04-15",
            "1980/4/15",
            "１９８０年４月１５日",
            " 1980 - 04 - 15 ",
        ] {
            assert_eq!(parse_written_date(s), Some(d(1980, 4, 15)), "{s}");
        }
        assert_eq!(parse_written_date("令和元年5月1日"), Some(d(2019, 5, 1)));
        assert_eq!(parse_written_date("平成31年5月1日"), None);
        assert_eq!(parse_written_date("1980-02-30"), None);
        assert_eq!(parse_written_date("unknown"), None);
    }

    #[test]
    fn era_of_a_date() {
        assert_eq!(Era::of(d(2019, 4, 30)), Some(Era::Heisei));
        assert_eq!(Era::of(d(2019, 5, 1)), Some(Era::Reiwa));
    }
}
