//! 保険者番号: 8 digits (法別番号 2 + 都道府県 2 + 保険者別番号 3 + 検証番号 1), or 6 digits
//! for 国保 (都道府県 2 + 保険者別番号 3 + 検証番号 1). The check digit is validated on
//! construction (DOMAIN §7), so an `InsurerNumber` in hand is always well formed.
//!
//! Filler numbers (`77777777`, `99999999`, …) are *not* recognised here: they are tier-3
//! markers decided by configuration before this type is ever built (see `ingest::uke`).

use std::fmt;

use serde::{Deserialize, Serialize};

use super::DomainError;

/// A validated insurer number, stored without padding ("01130012", "131045").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InsurerNumber {
    digits: [u8; 8],
    len: u8,
}

impl InsurerNumber {
    /// Parses a 6- or 8-digit number. Leading and trailing ASCII spaces are ignored,
    /// because UKE right-aligns a 6-digit 国保 number in an 8-character field; and an
    /// 8-digit number starting `00` is a 6-digit 国保 number padded with zeros (no
    /// 法別番号 is 00, and the zeros leave the check digit unchanged).
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let s = raw.trim_matches(' ');
        let s = match s.strip_prefix("00") {
            Some(six) if s.len() == 8 => six,
            _ => s,
        };
        let bytes = s.as_bytes();
        if !(bytes.len() == 6 || bytes.len() == 8) || !bytes.iter().all(u8::is_ascii_digit) {
            return Err(DomainError::malformed(
                "an insurer number of 6 or 8 digits",
                raw,
            ));
        }
        let mut digits = [0u8; 8];
        digits[..bytes.len()].copy_from_slice(bytes);
        let len = bytes.len();
        let expected = check_digit(&bytes[..len - 1]);
        let found = bytes[len - 1] - b'0';
        if found != expected {
            return Err(DomainError::CheckDigit {
                number: s.to_string(),
                found,
                expected,
            });
        }
        Ok(InsurerNumber {
            digits,
            len: len as u8,
        })
    }

    /// The number made of `body` (5 or 7 digits) and its check digit: how insurers'
    /// numbers are issued.
    pub fn from_body(body: &str) -> Result<Self, DomainError> {
        if !(body.len() == 5 || body.len() == 7) || !body.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DomainError::malformed(
                "5 or 7 digits before the check digit",
                body,
            ));
        }
        Self::parse(&format!("{body}{}", check_digit(body.as_bytes())))
    }

    pub fn as_str(&self) -> &str {
        // The digits are ASCII by construction.
        std::str::from_utf8(&self.digits[..self.len as usize]).unwrap_or_default()
    }

    /// 国保 (municipal or 国保組合) numbers have 6 digits and no 法別番号.
    pub fn is_kokuho(&self) -> bool {
        self.len == 6
    }

    /// 法別番号 (the scheme) for 8-digit numbers.
    pub fn law_code(&self) -> Option<&str> {
        (self.len == 8).then(|| &self.as_str()[..2])
    }

    /// 都道府県番号 (01–47).
    pub fn prefecture(&self) -> u8 {
        let s = self.as_str().as_bytes();
        let p = if self.len == 8 { &s[2..4] } else { &s[0..2] };
        (p[0] - b'0') * 10 + (p[1] - b'0')
    }
}

/// The 検証番号 for a body of digits: from the rightmost body digit leftwards multiply by
/// 2, 1, 2, 1, …; add the digits of the products; the check digit is (10 − sum mod 10) mod 10.
pub fn check_digit(body: &[u8]) -> u8 {
    let sum: u32 = body
        .iter()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            let p = if i % 2 == 0 { d * 2 } else { d };
            p / 10 + p % 10
        })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

impl fmt::Display for InsurerNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for InsurerNumber {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for InsurerNumber {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for InsurerNumber {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        InsurerNumber::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_gets_its_check_digit() {
        assert_eq!(
            InsurerNumber::from_body("0113001").unwrap().as_str(),
            "01130012"
        );
        assert_eq!(
            InsurerNumber::from_body("13104").unwrap().as_str(),
            "131045"
        );
        assert!(InsurerNumber::from_body("011300").is_err());
    }

    #[test]
    fn real_insurer_numbers_pass() {
        for n in ["01130012", "01270016", "39280003", "131045", "77777779"] {
            assert!(InsurerNumber::parse(n).is_ok(), "{n} should be valid");
        }
    }

    #[test]
    fn six_digit_kokuho_right_aligned_in_eight() {
        let n = InsurerNumber::parse("  131045").unwrap();
        assert_eq!(n.as_str(), "131045");
        assert!(n.is_kokuho());
        assert_eq!(n.prefecture(), 13);
        assert_eq!(n.law_code(), None);
    }

    #[test]
    fn a_zero_padded_kokuho_number_is_the_six_digit_one() {
        assert_eq!(
            InsurerNumber::parse("00131045").unwrap(),
            InsurerNumber::parse("131045").unwrap()
        );
        assert!(InsurerNumber::parse("00131046").is_err());
    }

    #[test]
    fn parts_of_an_eight_digit_number() {
        let n = InsurerNumber::parse("39280003").unwrap();
        assert_eq!(n.law_code(), Some("39"));
        assert_eq!(n.prefecture(), 28);
    }

    #[test]
    fn bad_check_digit_names_the_expected_digit() {
        let e = InsurerNumber::parse("01130013").unwrap_err();
        assert_eq!(
            e,
            DomainError::CheckDigit {
                number: "01130013".into(),
                found: 3,
                expected: 2
            }
        );
    }

    #[test]
    fn wrong_shapes_are_rejected() {
        for n in ["", "1234567", "0113001X", "123456789", "１３１０４５"] {
            assert!(matches!(
                InsurerNumber::parse(n),
                Err(DomainError::Malformed { .. })
            ));
        }
    }
}
