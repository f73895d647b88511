//! Run configuration: a TOML file whose every key has a default, echoed into the
//! run manifest so a run can be reproduced from its outputs.

use std::path::Path;

use serde::{Deserialize, Serialize};

/// Configuration of a run. `Config::default()` is the documented default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub ingest: IngestConfig,
    /// Tier-3 matching (`[matching]`): blocking rules, thresholds, training.
    pub matching: crate::resolve::matcher::MatchConfig,
    /// The pending ledger's hold and apportionment (`[apportion]`): basis, scope,
    /// hold_months.
    pub apportion: crate::apportion::ApportionConfig,
}

/// How inputs are read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IngestConfig {
    /// 保険者番号 values that mean "insurer unknown" (recognised before check-digit
    /// validation): the My Number guidance's 7s (and 77777779, which passes the check
    /// digit) and the disaster handling's 9s.
    pub filler_insurer_numbers: Vec<String>,
    /// Digits that, repeated to fill 記号 or 番号, mean "insured number unknown".
    pub filler_insured_digits: String,
    /// Shortest run of one filler digit taken as filler (shorter runs may be real).
    pub filler_insured_min_len: usize,
    /// Encoding of CSV inputs: `auto` (UTF-8 when the bytes are valid UTF-8, else
    /// Shift_JIS when they decode as Shift_JIS; the choice is recorded in the manifest),
    /// `utf-8` or `shift_jis`.
    pub csv_encoding: CsvEncoding,
}

impl Default for IngestConfig {
    fn default() -> Self {
        IngestConfig {
            filler_insurer_numbers: ["77777777", "77777779", "99999999"]
                .map(String::from)
                .to_vec(),
            filler_insured_digits: "79".to_string(),
            filler_insured_min_len: 3,
            csv_encoding: CsvEncoding::Auto,
        }
    }
}

/// The encoding of a CSV input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum CsvEncoding {
    Auto,
    #[serde(rename = "utf-8")]
    #[value(name = "utf-8")]
    Utf8,
    ShiftJis,
}

impl IngestConfig {
    /// Whether an insurer-number field (as written, spaces trimmed) is a filler.
    pub fn is_filler_insurer(&self, raw: &str) -> bool {
        let s = raw.trim();
        self.filler_insurer_numbers.iter().any(|f| f == s)
    }

    /// Whether a 記号 or 番号 field is filler: one configured digit repeated, at least
    /// `filler_insured_min_len` times (full-width digits count, as clinics type them).
    pub fn is_filler_insured(&self, raw: &str) -> bool {
        let mut chars = raw.trim().chars().map(ascii_digit);
        let Some(first) = chars.next() else {
            return false;
        };
        if !self.filler_insured_digits.contains(first) {
            return false;
        }
        let mut n = 1;
        for c in chars {
            if c != first {
                return false;
            }
            n += 1;
        }
        n >= self.filler_insured_min_len
    }
}

fn ascii_digit(c: char) -> char {
    match c {
        '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
        _ => c,
    }
}

/// Why a configuration file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("config {path} is not valid: {source}")]
    Parse {
        path: String,
        source: Box<toml::de::Error>,
    },
}

impl Config {
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        toml::from_str(&text).map_err(|source| ConfigError::Parse {
            path: path.display().to_string(),
            source: Box::new(source),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fillers_are_recognised() {
        let c = IngestConfig::default();
        assert!(c.is_filler_insurer("77777777"));
        assert!(c.is_filler_insurer("99999999"));
        assert!(!c.is_filler_insurer("01130012"));
        assert!(c.is_filler_insured("7777777"));
        assert!(c.is_filler_insured("９９９９９９９９９"));
        assert!(!c.is_filler_insured("77"));
        assert!(!c.is_filler_insured("7779"));
        assert!(!c.is_filler_insured(""));
    }

    #[test]
    fn empty_file_gives_defaults_and_unknown_keys_are_refused() {
        assert_eq!(toml::from_str::<Config>("").unwrap(), Config::default());
        assert!(toml::from_str::<Config>("[ingest]\nfoo = 1\n").is_err());
        let c: Config = toml::from_str("[ingest]\ncsv_encoding = \"shift_jis\"\n").unwrap();
        assert_eq!(c.ingest.csv_encoding, CsvEncoding::ShiftJis);
    }
}
