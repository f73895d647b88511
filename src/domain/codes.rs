//! Small code sets of the receipt world.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::DomainError;

/// 男女区分: 1 male, 2 female.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Sex {
    #[serde(rename = "1")]
    Male = 1,
    #[serde(rename = "2")]
    Female = 2,
}

impl Sex {
    pub fn parse(s: &str) -> Result<Sex, DomainError> {
        match s.trim() {
            "1" => Ok(Sex::Male),
            "2" => Ok(Sex::Female),
            _ => Err(DomainError::malformed("sex 1 (male) or 2 (female)", s)),
        }
    }

    pub fn code(self) -> u8 {
        self as u8
    }
}

/// Insurance kind, as the declaration form asks it and the insurer master records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InsuranceKind {
    /// 社保: employee insurance (協会けんぽ, 健保組合, 共済, 船員 …).
    Shaho,
    /// 国保: municipal 国民健康保険 and 国保組合.
    Kokuho,
    /// 後期: 後期高齢者医療.
    Koki,
    /// その他 (自衛官 and the like).
    Other,
    Unknown,
}

impl InsuranceKind {
    /// Parses the contract's codes; an empty field is `Unknown`.
    pub fn parse(s: &str) -> Result<InsuranceKind, DomainError> {
        Ok(match s.trim() {
            "shaho" => InsuranceKind::Shaho,
            "kokuho" => InsuranceKind::Kokuho,
            "koki" => InsuranceKind::Koki,
            "other" => InsuranceKind::Other,
            "unknown" | "" => InsuranceKind::Unknown,
            _ => {
                return Err(DomainError::malformed(
                    "shaho, kokuho, koki, other or unknown",
                    s,
                ))
            }
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            InsuranceKind::Shaho => "shaho",
            InsuranceKind::Kokuho => "kokuho",
            InsuranceKind::Koki => "koki",
            InsuranceKind::Other => "other",
            InsuranceKind::Unknown => "unknown",
        }
    }
}

impl fmt::Display for InsuranceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// 審査支払機関 that received a file (IR field 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Organization {
    /// 1: 社会保険診療報酬支払基金 (employee insurance).
    #[serde(rename = "1")]
    ShiharaiKikin = 1,
    /// 2: 国民健康保険団体連合会 (国保 and 後期).
    #[serde(rename = "2")]
    Kokuhoren = 2,
}

impl Organization {
    pub fn parse(s: &str) -> Result<Organization, DomainError> {
        match s.trim() {
            "1" => Ok(Organization::ShiharaiKikin),
            "2" => Ok(Organization::Kokuhoren),
            _ => Err(DomainError::malformed(
                "審査支払機関 1 (支払基金) or 2 (国保連)",
                s,
            )),
        }
    }

    pub fn code(self) -> u8 {
        self as u8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        assert_eq!(Sex::parse("2").unwrap(), Sex::Female);
        assert!(Sex::parse("3").is_err());
        assert_eq!(InsuranceKind::parse("").unwrap(), InsuranceKind::Unknown);
        assert_eq!(InsuranceKind::parse("koki").unwrap().as_str(), "koki");
        assert!(InsuranceKind::parse("社保").is_err());
        assert_eq!(Organization::parse("2").unwrap().code(), 2);
    }
}
