//! Domain types shared by every stage: insurer numbers, Japanese-era dates, money,
//! codes and the receipt key. Each type validates on construction, so a value that
//! exists is a value that is valid; parsing errors say what was expected.

mod care_days;
mod codes;
mod date;
mod insurer_number;
mod money;
mod receipt_key;

pub use care_days::CareDays;
pub use codes::{InsuranceKind, Organization, Sex};
pub use date::{
    parse_iso_date, parse_uke_date, parse_uke_month, parse_written_date, Era, YearMonth,
};
pub use insurer_number::{check_digit, InsurerNumber};
pub use money::{BeyondARun, Points, Yen};
pub use receipt_key::{ClinicCode, ReceiptKey};

/// Why a value from an input could not become a domain value.
///
/// The message names what was expected; the caller adds where (file, line, field).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("expected {expected}, found {found:?}")]
    Malformed {
        expected: &'static str,
        found: String,
    },
    #[error("insurer number {number:?}: check digit is {found}, expected {expected}")]
    CheckDigit {
        number: String,
        found: u8,
        expected: u8,
    },
    #[error("{0}")]
    InvalidDate(String),
}

impl DomainError {
    pub(crate) fn malformed(expected: &'static str, found: &str) -> Self {
        DomainError::Malformed {
            expected,
            found: found.to_string(),
        }
    }
}
