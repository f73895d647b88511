//! Money is integer yen, never floating point. Receipts state their cost in points
//! (点数); one point is ten yen.

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, RangeInclusive, Sub};

use serde::{Deserialize, Serialize};

/// An amount of yen.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Yen(pub i64);

/// A number of 診療報酬 points.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Points(pub i64);

impl Points {
    pub const YEN_PER_POINT: i64 = 10;

    /// The most points one receipt may state: the UKE 合計点数 field is eight digits.
    /// A receipt's points above it are quarantined at reading (an input limit), so a
    /// receipt's cost, and any sum of the receipts a run can hold, fit in `i64` yen.
    pub const MAX_PER_RECEIPT: i64 = 99_999_999;

    /// Medical cost of these points: 合計点数 × 10. Saturates rather than wraps for
    /// amounts no reader lets through ([`Points::MAX_PER_RECEIPT`]); use
    /// [`Points::checked_to_yen`] where an amount is not yet bounded.
    pub fn to_yen(self) -> Yen {
        Yen(self.0.saturating_mul(Self::YEN_PER_POINT))
    }

    /// 合計点数 × 10, or `None` when it would overflow.
    pub fn checked_to_yen(self) -> Option<Yen> {
        self.0.checked_mul(Self::YEN_PER_POINT).map(Yen)
    }
}

/// A run's file read back holds more than any run can: it was changed after its run, or
/// is not reseclear's. Every reader of run outputs refuses it in these words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BeyondARun {
    #[error(
        "more than {} rows, the most receipts a run holds",
        Yen::MAX_RECEIPTS_PER_RUN
    )]
    Rows,
    #[error(
        "row {row}: {column} is {value}, expected {} to {} yen; the file was changed after its run, or is not reseclear's: use the run's own file",
        range.start(),
        range.end()
    )]
    Yen {
        row: u64,
        column: String,
        value: i64,
        range: RangeInclusive<i64>,
    },
}

impl Yen {
    /// The most yen one receipt can cost: [`Points::MAX_PER_RECEIPT`] × 10.
    pub const MAX_PER_RECEIPT: i64 = Points::MAX_PER_RECEIPT * Points::YEN_PER_POINT;

    /// The most receipts one run may hold (read and carried in); more is refused at
    /// ingest. National months are near 2 × 10^8.
    pub const MAX_RECEIPTS_PER_RUN: u64 = 1_000_000_000;

    /// The most yen a run can hold: every sum of a run's receipts' amounts (per
    /// insurer, per status, per month) lies within it, and it fits in `i64` with room,
    /// which is why such sums use plain `+` (a broken bound traps: overflow checks are
    /// on in every profile).
    pub const MAX_PER_RUN: i64 = Self::MAX_PER_RECEIPT * Self::MAX_RECEIPTS_PER_RUN as i64;

    /// The range of one receipt's cost, share or part.
    pub const RECEIPT_RANGE: std::ops::RangeInclusive<i64> = 0..=Self::MAX_PER_RECEIPT;

    /// The range of a sum of a run's receipts (a statement's routed, apportioned, owed).
    pub const RUN_RANGE: std::ops::RangeInclusive<i64> = 0..=Self::MAX_PER_RUN;

    /// `value` of `column` at `row` of a run's file, read back as yen within `range`.
    pub fn read_back(
        row: u64,
        column: &str,
        value: i64,
        range: &RangeInclusive<i64>,
    ) -> Result<Yen, BeyondARun> {
        if range.contains(&value) {
            return Ok(Yen(value));
        }
        Err(BeyondARun::Yen {
            row,
            column: column.to_string(),
            value,
            range: range.clone(),
        })
    }

    /// `rows` rows of a run's file, each a receipt (or one part of one), at most
    /// [`Yen::MAX_RECEIPTS_PER_RUN`], below which its sums cannot overflow.
    pub fn check_rows(rows: u64) -> Result<(), BeyondARun> {
        if rows > Self::MAX_RECEIPTS_PER_RUN {
            return Err(BeyondARun::Rows);
        }
        Ok(())
    }

    /// `self + o`, or `None` when it would overflow.
    pub fn checked_add(self, o: Yen) -> Option<Yen> {
        self.0.checked_add(o.0).map(Yen)
    }
}

impl Points {
    /// `self + o`, or `None` when it would overflow.
    pub fn checked_add(self, o: Points) -> Option<Points> {
        self.0.checked_add(o.0).map(Points)
    }
}

macro_rules! integer_amount {
    ($t:ident) => {
        impl Add for $t {
            type Output = $t;
            fn add(self, o: $t) -> $t {
                $t(self.0 + o.0)
            }
        }
        impl AddAssign for $t {
            fn add_assign(&mut self, o: $t) {
                self.0 += o.0;
            }
        }
        impl Sub for $t {
            type Output = $t;
            fn sub(self, o: $t) -> $t {
                $t(self.0 - o.0)
            }
        }
        impl Sum for $t {
            fn sum<I: Iterator<Item = $t>>(it: I) -> $t {
                $t(it.map(|v| v.0).sum())
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

integer_amount!(Yen);
integer_amount!(Points);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_point_is_ten_yen() {
        assert_eq!(Points(1234).to_yen(), Yen(12340));
        assert_eq!([Yen(1), Yen(2)].into_iter().sum::<Yen>(), Yen(3));
    }

    #[test]
    fn overflow_is_none_never_a_wrapped_amount() {
        assert_eq!(Points(i64::MAX / 10 + 1).checked_to_yen(), None);
        assert_eq!(Points(i64::MAX).to_yen(), Yen(i64::MAX));
        assert_eq!(Yen(i64::MAX).checked_add(Yen(1)), None);
        assert_eq!(Points(i64::MAX).checked_add(Points(1)), None);
        assert_eq!(
            Points(Points::MAX_PER_RECEIPT).checked_to_yen(),
            Some(Yen(999_999_990))
        );
    }

    proptest::proptest! {
        /// Checked arithmetic agrees with 128-bit arithmetic: the exact amount when it
        /// fits in i64, `None` when it does not; never a wrapped number.
        #[test]
        fn checked_amounts_are_exact_or_none(a in proptest::num::i64::ANY, b in proptest::num::i64::ANY) {
            let wide = i128::from(a) * 10;
            let fits = i64::try_from(wide).ok();
            proptest::prop_assert_eq!(Points(a).checked_to_yen().map(|y| y.0), fits);
            let sum = i64::try_from(i128::from(a) + i128::from(b)).ok();
            proptest::prop_assert_eq!(Yen(a).checked_add(Yen(b)).map(|y| y.0), sum);
            proptest::prop_assert_eq!(Points(a).checked_add(Points(b)).map(|p| p.0), sum);
            // Bounded receipt points always have a cost, and it is ten yen a point.
            let p = a.rem_euclid(Points::MAX_PER_RECEIPT + 1);
            proptest::prop_assert_eq!(Points(p).checked_to_yen(), Some(Yen(p * 10)));
        }
    }
}
