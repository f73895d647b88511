//! The days of a care month on which a receipt's care was given, as its detail
//! records mark them (the 1日 … 31日 fields of 医科/歯科 SI, IY, TO …; 調剤's
//! dispensing dates). Eligibility is checked on these days: a card is valid for a
//! receipt when it is valid on every day of care, not on some day of the month.

use std::fmt;

use chrono::NaiveDate;

use super::YearMonth;

/// A set of days of one month, 1–31 (bit `d − 1` is day `d`). Empty when the receipt
/// records no day (older files, records without day fields): the month rule applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct CareDays(u32);

impl CareDays {
    pub const NONE: CareDays = CareDays(0);

    /// The set with `day` added; `None` for a day outside 1–31.
    #[must_use]
    pub fn with(self, day: u32) -> Option<CareDays> {
        (1..=31)
            .contains(&day)
            .then(|| CareDays(self.0 | 1 << (day - 1)))
    }

    /// Both sets' days.
    #[must_use]
    pub fn union(self, other: CareDays) -> CareDays {
        CareDays(self.0 | other.0)
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn len(self) -> u32 {
        self.0.count_ones()
    }

    pub fn contains(self, day: u32) -> bool {
        (1..=31).contains(&day) && self.0 & (1 << (day - 1)) != 0
    }

    /// The days, rising.
    pub fn days(self) -> impl Iterator<Item = u32> {
        (1..=31).filter(move |d| self.contains(*d))
    }

    pub fn first(self) -> Option<u32> {
        (!self.is_empty()).then(|| self.0.trailing_zeros() + 1)
    }

    pub fn last(self) -> Option<u32> {
        (!self.is_empty()).then(|| 32 - self.0.leading_zeros())
    }

    /// The days as dates of `month`; a day the month does not have (the reader refuses
    /// them) is left out.
    pub fn dates(self, month: YearMonth) -> impl Iterator<Item = NaiveDate> {
        let first = month.first_day();
        self.days()
            .filter_map(move |d| first.checked_add_days(chrono::Days::new(u64::from(d - 1))))
            .filter(move |d| YearMonth::of(*d) == month)
    }
}

/// Days as a receipt reason shows them: runs joined, `3, 10–12, 20`.
impl fmt::Display for CareDays {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut days = self.days().peekable();
        let mut first = true;
        while let Some(start) = days.next() {
            let mut end = start;
            while days.peek() == Some(&(end + 1)) {
                end += 1;
                days.next();
            }
            if !first {
                f.write_str(", ")?;
            }
            first = false;
            if end == start {
                write!(f, "{start}")?;
            } else {
                write!(f, "{start}–{end}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn of(days: &[u32]) -> CareDays {
        days.iter()
            .fold(CareDays::NONE, |s, d| s.with(*d).expect("day"))
    }

    #[test]
    fn days_outside_a_month_are_refused() {
        assert_eq!(CareDays::NONE.with(0), None);
        assert_eq!(CareDays::NONE.with(32), None);
        assert!(CareDays::NONE.with(31).is_some_and(|s| s.contains(31)));
    }

    #[test]
    fn shown_as_runs() {
        assert_eq!(of(&[3, 10, 11, 12, 20]).to_string(), "3, 10–12, 20");
        assert_eq!(of(&[1]).to_string(), "1");
        assert_eq!(CareDays::NONE.to_string(), "");
        assert_eq!(of(&[30, 31]).to_string(), "30–31");
    }

    #[test]
    fn dates_stay_in_their_month() {
        let april = YearMonth::new(2026, 4).expect("month");
        let dates: Vec<String> = of(&[1, 30, 31])
            .dates(april)
            .map(|d| d.to_string())
            .collect();
        assert_eq!(dates, ["2026-04-01", "2026-04-30"]);
    }

    proptest! {
        #[test]
        fn a_set_holds_exactly_its_days(days in proptest::collection::btree_set(1u32..=31, 0..31)) {
            let set = days.iter().fold(CareDays::NONE, |s, d| s.with(*d).expect("day"));
            prop_assert_eq!(set.days().collect::<Vec<_>>(), days.iter().copied().collect::<Vec<_>>());
            prop_assert_eq!(set.len() as usize, days.len());
            prop_assert_eq!(set.first(), days.first().copied());
            prop_assert_eq!(set.last(), days.last().copied());
        }
    }
}
