//! The identity of a receipt: (receiving organization, clinic code, billing month,
//! receipt number). A clinic numbers each file it sends from 1, so the organization
//! that received the file is part of the key whenever one run holds both
//! organizations' files (DOMAIN §3).

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{DomainError, Organization, YearMonth};

/// 医療機関コード (or 薬局コード): 7 digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClinicCode([u8; 7]);

impl ClinicCode {
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let b = s.trim().as_bytes();
        if b.len() != 7 || !b.iter().all(u8::is_ascii_digit) {
            return Err(DomainError::malformed("a clinic code of 7 digits", s));
        }
        let mut a = [0u8; 7];
        a.copy_from_slice(b);
        Ok(ClinicCode(a))
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl fmt::Display for ClinicCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ClinicCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ClinicCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        ClinicCode::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A receipt's key. Ordered by organization, clinic, month, number, which is the
/// order every output is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ReceiptKey {
    pub organization: Organization,
    pub clinic_code: ClinicCode,
    pub billing_month: YearMonth,
    pub receipt_number: u32,
}

impl fmt::Display for ReceiptKey {
    /// `clinic_code:billing_month:receipt_number@organization`, e.g. `1312345:2026-05:17@1`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}@{}",
            self.clinic_code,
            self.billing_month,
            self.receipt_number,
            self.organization.code()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clinic_code_is_seven_digits() {
        assert_eq!(ClinicCode::parse("1312345").unwrap().as_str(), "1312345");
        assert!(ClinicCode::parse("131234").is_err());
        assert!(ClinicCode::parse("13123456").is_err());
    }

    #[test]
    fn key_displays_for_humans() {
        let k = ReceiptKey {
            organization: Organization::Kokuhoren,
            clinic_code: ClinicCode::parse("1312345").unwrap(),
            billing_month: YearMonth::new(2026, 5).unwrap(),
            receipt_number: 17,
        };
        assert_eq!(k.to_string(), "1312345:2026-05:17@2");
    }
}
