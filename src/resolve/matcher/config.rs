//! The matcher's configuration: `[matching]` in the run's TOML (documented in
//! `schemas/config.md`). Every key has a default; blocking rules are data.

use serde::{Deserialize, Serialize};

/// The vocabulary of blocking keys. Each is computed the same way for a patient and for
/// a roster row; a patient or row without a value for a key (no kana, a name written
/// without the space between family and given name) never blocks on a rule using it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlockingKey {
    /// The birth date.
    BirthDate,
    /// Year and month of birth (a slip in the day still blocks).
    BirthYearMonth,
    /// Year of birth.
    BirthYear,
    /// Month and day of birth without the year (a slip in the year, a wrong era).
    BirthMonthDay,
    /// 1 male, 2 female.
    Sex,
    /// The whole kana name, normalized (`normalize_kana`) with voiced marks stripped, so
    /// that ヤマザキ and ヤマサキ, ｻﾄｳ and さとう block together.
    Kana,
    /// The family part of the kana name (before the first space), normalized, unvoiced.
    KanaFamily,
    /// The given part of the kana name, normalized, unvoiced.
    KanaGiven,
    /// The whole kanji name, normalized (`normalize_kanji_name`: variants folded,
    /// spaces removed), so 渡邊 太郎 and 渡辺太郎 block together.
    Name,
    /// The family part of the kanji name (before the first space), normalized.
    NameFamily,
    /// The given part of the kanji name, normalized.
    NameGiven,
}

impl BlockingKey {
    pub fn as_str(self) -> &'static str {
        match self {
            BlockingKey::BirthDate => "birth_date",
            BlockingKey::BirthYearMonth => "birth_year_month",
            BlockingKey::BirthYear => "birth_year",
            BlockingKey::BirthMonthDay => "birth_month_day",
            BlockingKey::Sex => "sex",
            BlockingKey::Kana => "kana",
            BlockingKey::KanaFamily => "kana_family",
            BlockingKey::KanaGiven => "kana_given",
            BlockingKey::Name => "name",
            BlockingKey::NameFamily => "name_family",
            BlockingKey::NameGiven => "name_given",
        }
    }
}

/// A rule's display name: its keys joined by `,` (`birth_date,sex`).
pub fn rule_name(rule: &[BlockingKey]) -> String {
    rule.iter()
        .map(|k| k.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// Configuration of tier-3 matching. `MatchConfig::default()` is the documented default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MatchConfig {
    /// Blocking rules: a roster person is a candidate for a patient when they agree on
    /// every key of at least one rule. Their pair counts are reported per rule.
    pub blocking_rules: Vec<Vec<BlockingKey>>,
    /// A block (one rule, one key value) holding more persons than this is skipped for
    /// that rule and reported as capped: the other rules still reach the patient.
    pub max_block_size: usize,
    /// `matched` needs the best candidate's match probability at least this …
    pub accept_probability: f64,
    /// … and its match weight ahead of the runner-up's by at least this many bits.
    pub min_margin_bits: f64,
    /// Below `accept_probability` but at least this: `review` (clerical band). A best
    /// candidate that passes `accept_probability` without the margin is `review` too.
    pub review_probability: f64,
    /// Expectation maximisation (m probabilities): at most this many iterations per
    /// training session (one session per blocking rule) …
    pub em_max_iterations: u32,
    /// … stopping when no m probability and not λ moves by more than this.
    pub em_tolerance: f64,
    /// A session with fewer candidate pairs than this is skipped (its fields keep the
    /// built-in prior m probabilities unless another session estimates them).
    pub em_min_pairs: u64,
    /// u probabilities: random (patient, roster person) pairs compared.
    pub u_pairs: u64,
    /// Roster persons sampled (uniformly, by a seeded hash of person_id) for those pairs.
    pub u_sample_persons: usize,
    /// With fewer roster persons than this, u is not estimated (a small roster's random
    /// pairs hold too many true matches): the built-in prior u probabilities are used.
    pub u_min_persons: usize,
    /// Seed of the u sampling; the same seed and inputs give the same model.
    pub seed: u64,
    /// Floor of a term-frequency-adjusted u probability (Splink's tf_minimum_u_value).
    pub tf_min_u: f64,
    /// Share of tier-3 patients taken to be on the roster, for the prior λ. `None`
    /// (the default): estimated from the EM sessions.
    pub patients_on_roster: Option<f64>,
}

impl Default for MatchConfig {
    fn default() -> Self {
        use BlockingKey::*;
        MatchConfig {
            // Every rule joins a name (or name part) with a birth date (or part of
            // one), so that a block's size stays in the tens on a national roster. A
            // rule on birth date and sex, or on a kana name and sex, grows with the
            // roster (~1,700 persons a block at 125 million) and makes the comparisons
            // grow as receipts × roster.
            blocking_rules: vec![
                vec![BirthDate, KanaFamily],
                vec![BirthDate, KanaGiven],
                vec![BirthDate, NameFamily],
                vec![BirthDate, NameGiven],
                vec![Kana, BirthYearMonth],
                vec![Name, BirthYear],
                vec![Kana, BirthMonthDay],
            ],
            max_block_size: 1_000,
            accept_probability: 0.99,
            min_margin_bits: 6.0,
            review_probability: 0.5,
            em_max_iterations: 50,
            em_tolerance: 1e-4,
            em_min_pairs: 500,
            u_pairs: 500_000,
            u_sample_persons: 4_000,
            u_min_persons: 1_000,
            seed: 42,
            tf_min_u: 1e-8,
            patients_on_roster: None,
        }
    }
}
