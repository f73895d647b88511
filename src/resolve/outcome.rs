//! What resolution decides for a receipt, and the evidence it gives. One
//! [`Resolution`] per receipt; together they make `receipts.parquet`.

use std::fmt;

use chrono::NaiveDate;
use compact_str::CompactString;
use serde::Serialize;

use crate::domain::{CareDays, InsuranceKind, InsurerNumber, ReceiptKey, YearMonth};

/// Where a receipt stands after resolution (`receipts.parquet` column `status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Tier 1: the card names a roster period valid in the care month.
    Verified,
    /// Tier 2: a past card, followed by person to the period valid in the care month.
    Rerouted,
    /// Tier 3: matched to a roster person with a period valid on the date of care.
    Matched,
    /// A person must decide: ranked candidates, or several persons on one card.
    Review,
    /// Nothing on the roster identifies the patient.
    NoMatch,
    /// The patient is identified, but no period covers the date of care yet (the new
    /// insurer has not registered): carried to the next run, never guessed.
    Pending,
    /// Still unresolved after the hold on the pending ledger (final-unresolved, DOMAIN
    /// §9): its insurer share is split among insurers (see `apportionment.parquet`).
    Apportioned,
    /// Final-unresolved, but no insurer can share in it (the insurer master has none of
    /// the receiving organization's kinds): reported, its yen owed by no one.
    FinalUnresolved,
    /// Taken out at validation (see `quarantine.csv`).
    Quarantined,
    /// A 公費-only receipt (no HO): its payer is the public body, not an insurer.
    PublicOnly,
}

impl Status {
    /// Every status, in the order of the enum.
    pub const ALL: [Status; 10] = [
        Status::Verified,
        Status::Rerouted,
        Status::Matched,
        Status::Review,
        Status::NoMatch,
        Status::Pending,
        Status::Apportioned,
        Status::FinalUnresolved,
        Status::Quarantined,
        Status::PublicOnly,
    ];

    /// The status named `s` (as in `receipts.parquet`).
    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Resolved to an insurer (and so owed by it): verified, rerouted or matched.
    pub fn is_routed(self) -> bool {
        matches!(self, Status::Verified | Status::Rerouted | Status::Matched)
    }

    /// Unresolved but open: carried on the pending ledger to the next run.
    pub fn is_open(self) -> bool {
        matches!(self, Status::Review | Status::NoMatch | Status::Pending)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Verified => "verified",
            Status::Rerouted => "rerouted",
            Status::Matched => "matched",
            Status::Review => "review",
            Status::NoMatch => "no_match",
            Status::Pending => "pending",
            Status::Apportioned => "apportioned",
            Status::FinalUnresolved => "final_unresolved",
            Status::Quarantined => "quarantined",
            Status::PublicOnly => "public_only",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The decision for one receipt, with its evidence in words (no personal data). A
/// month is tens of millions of resolutions, all held until the outputs are written:
/// what the receipt itself tells (the insurer filed) is not copied here, and the
/// commonest reason is kept as its dates.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolution {
    pub key: ReceiptKey,
    /// 1 current card, 2 past card, 3 numbers unknown; 0 when never classified
    /// (quarantined before it could be).
    pub tier: u8,
    pub status: Status,
    pub resolved_insurer: Option<InsurerNumber>,
    /// Short ids are kept inline.
    pub person_id: Option<CompactString>,
    /// The chosen period's `copay_percent`, which wins over the receipt's.
    pub copay_percent: Option<u8>,
    /// The day eligibility is judged on: the declaration's confirmation date for tier 3
    /// when given, else the first day of the care month.
    pub care_date: NaiveDate,
    /// Tier 3: the best candidate's match weight and probability.
    pub score: Option<Box<MatchScore>>,
    /// The insurance kind the patient declared (tier 3), `Unknown` otherwise: it
    /// narrows who shares if the receipt is ever apportioned.
    pub declared_kind: InsuranceKind,
    pub reason: Reason,
}

/// A tier-3 receipt's best candidate, as scored.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MatchScore {
    /// log2 odds.
    pub weight: f64,
    pub probability: f64,
}

/// Why a receipt went where it went, in words.
#[derive(Debug, Clone, PartialEq)]
pub enum Reason {
    None,
    /// Tier 1 on a card with one person: the card's period valid on every day of care
    /// (`days`), or in the care month when the receipt marks no day.
    CardValid {
        month: YearMonth,
        days: CareDays,
        from: NaiveDate,
        to: Option<NaiveDate>,
    },
    /// Words that do not depend on the receipt.
    Fixed(&'static str),
    Text(Box<str>),
}

impl From<String> for Reason {
    fn from(text: String) -> Reason {
        Reason::Text(text.into_boxed_str())
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::None => Ok(()),
            Reason::CardValid {
                month,
                days,
                from,
                to,
            } => {
                if days.is_empty() {
                    write!(f, "card valid in {month} (period from {from}")?;
                } else {
                    write!(
                        f,
                        "card valid on every day of care, {month}: {days} (period from {from}"
                    )?;
                }
                if let Some(to) = to {
                    write!(f, " to {to}")?;
                }
                f.write_str(")")?;
                if days.is_empty() {
                    f.write_str("; no day of care recorded, so the card is checked on the month")?;
                }
                Ok(())
            }
            Reason::Fixed(text) => f.write_str(text),
            Reason::Text(text) => f.write_str(text),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_card_valid_reason_reads_as_its_dates() {
        let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date");
        let month = YearMonth::new(2026, 5).expect("month");
        let open = Reason::CardValid {
            month,
            days: CareDays::NONE,
            from: day("2024-12-12"),
            to: None,
        };
        assert_eq!(
            open.to_string(),
            "card valid in 2026-05 (period from 2024-12-12); no day of care recorded, so the card is checked on the month"
        );
        let days = [3, 10, 11, 12]
            .into_iter()
            .fold(CareDays::NONE, |s, d| s.with(d).expect("day"));
        let closed = Reason::CardValid {
            month,
            days,
            from: day("2024-12-12"),
            to: Some(day("2026-05-20")),
        };
        assert_eq!(
            closed.to_string(),
            "card valid on every day of care, 2026-05: 3, 10–12 (period from 2024-12-12 to 2026-05-20)"
        );
        assert_eq!(Reason::from("x".to_string()).to_string(), "x");
        assert_eq!(Reason::Fixed("y").to_string(), "y");
        assert_eq!(Reason::None.to_string(), "");
    }
}
