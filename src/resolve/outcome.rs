//! What resolution decides for a receipt, and the evidence it gives. One
//! [`Resolution`] per receipt; together they make `receipts.parquet`.

use std::fmt;

use compact_str::CompactString;
use serde::Serialize;

use crate::domain::{InsuranceKind, InsurerNumber, ReceiptKey};

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

/// The decision for one receipt, with its evidence in words (no personal data).
#[derive(Debug, Clone, PartialEq)]
pub struct Resolution {
    pub key: ReceiptKey,
    /// 1 current card, 2 past card, 3 numbers unknown; 0 when never classified
    /// (quarantined before it could be).
    pub tier: u8,
    pub status: Status,
    /// HO 保険者番号 as filed (filler included); short text is kept inline (a month is
    /// millions of resolutions).
    pub filed_insurer: CompactString,
    pub resolved_insurer: Option<InsurerNumber>,
    pub person_id: Option<CompactString>,
    /// Roster line of the period chosen.
    pub period_line: Option<u64>,
    /// The chosen period's `copay_percent`, which wins over the receipt's.
    pub copay_percent: Option<u8>,
    /// The day eligibility is judged on: the declaration's confirmation date for tier 3
    /// when given, else the first day of the care month.
    pub care_date: chrono::NaiveDate,
    /// Tier 3: the best candidate's match weight (log2 odds) and probability.
    pub match_weight: Option<f64>,
    pub match_probability: Option<f64>,
    /// The insurance kind the patient declared (tier 3), `Unknown` otherwise: it
    /// narrows who shares if the receipt is ever apportioned.
    pub declared_kind: InsuranceKind,
    pub reason: String,
}
