//! Looking receipts' insurance cards up in the roster.
//!
//! The roster is national (up to ~125 million periods) while one month's receipts name
//! a small part of it, so the index is built for the receipts at hand only: one pass
//! over the roster's columns keeps the rows whose card (insurer number + 記号 + 番号)
//! some receipt names, and a second keeps every period of the persons found, so a
//! person can be followed to another insurer. Memory grows with the receipts, not with
//! the roster.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{Date32Type, UInt8Type};
use chrono::NaiveDate;
use unicode_normalization::UnicodeNormalization;

use crate::domain::{InsurerNumber, Sex};
use crate::ingest::roster::{idx, Roster};

/// A card as written: insurer number, 記号 and 番号, compared after NFKC (full-width
/// digits are the same as ASCII ones), without spaces, hyphens or leading zeros.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CardKey {
    pub insurer: String,
    pub symbol: String,
    pub number: String,
}

impl CardKey {
    pub fn new(insurer: &str, symbol: &str, number: &str) -> CardKey {
        CardKey {
            insurer: insurer.to_string(),
            symbol: card_text(symbol),
            number: card_text(number),
        }
    }
}

/// 記号・番号 as compared: NFKC, no white space or hyphen-like characters, no leading
/// zeros (clinics and insurers pad differently).
pub fn card_text(s: &str) -> String {
    card_text_cow(s).into_owned()
}

/// [`card_text`] without allocating in the common case (ASCII digits and letters),
/// for the pass over the whole roster.
fn card_text_cow(s: &str) -> Cow<'_, str> {
    if s.bytes().all(|b| b.is_ascii_alphanumeric()) {
        let trimmed = s.trim_start_matches('0');
        return Cow::Borrowed(if trimmed.is_empty() && !s.is_empty() {
            "0"
        } else {
            trimmed
        });
    }
    let t: String = s
        .nfkc()
        .filter(|c| !c.is_whitespace() && !matches!(c, '-' | '‐' | '−' | 'ー' | '－'))
        .collect();
    let trimmed = t.trim_start_matches('0');
    Cow::Owned(if trimmed.is_empty() && !t.is_empty() {
        "0".to_string()
    } else {
        trimmed.to_string()
    })
}

/// One eligibility period of the roster, with what the resolver compares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    pub person_id: String,
    pub insurer: InsurerNumber,
    pub symbol: String,
    pub number: String,
    pub branch: Option<String>,
    pub name: String,
    pub name_kana: String,
    pub birth_date: NaiveDate,
    pub sex: Sex,
    pub valid_from: NaiveDate,
    /// Inclusive; `None` while still valid.
    pub valid_to: Option<NaiveDate>,
    pub copay_percent: Option<u8>,
    /// Line of the roster input, as evidence.
    pub source_line: u64,
}

impl Period {
    /// Whether the period covers any day from `first` to `last`.
    pub fn overlaps(&self, first: NaiveDate, last: NaiveDate) -> bool {
        self.valid_from <= last && self.valid_to.is_none_or(|to| to >= first)
    }

    pub fn covers(&self, day: NaiveDate) -> bool {
        self.overlaps(day, day)
    }
}

/// The roster rows the month's receipts need.
#[derive(Debug, Default)]
pub struct CardIndex {
    by_card: HashMap<CardKey, Vec<usize>>,
    by_person: BTreeMap<String, Vec<usize>>,
    periods: Vec<Period>,
}

impl CardIndex {
    /// Builds the index for the cards given: rows with one of those cards, and every
    /// period of their persons (sorted by `valid_from`).
    pub fn build(roster: &Roster, cards: &HashSet<CardKey>) -> CardIndex {
        Self::build_with_persons(roster, cards, BTreeSet::new())
    }

    /// As [`CardIndex::build`], also keeping every period of the persons named.
    pub fn build_with_persons(
        roster: &Roster,
        cards: &HashSet<CardKey>,
        mut persons: BTreeSet<String>,
    ) -> CardIndex {
        // Most rows carry no wanted card: test the number first, without allocating.
        let numbers: HashSet<&str> = cards.iter().map(|c| c.number.as_str()).collect();
        for batch in &roster.batches {
            let ins = batch.column(idx::INSURER_NUMBER).as_string::<i32>();
            let sym = batch.column(idx::SYMBOL).as_string::<i32>();
            let num = batch.column(idx::NUMBER).as_string::<i32>();
            let pid = batch.column(idx::PERSON_ID).as_string::<i32>();
            for row in 0..batch.num_rows() {
                if !numbers.contains(card_text_cow(num.value(row)).as_ref()) {
                    continue;
                }
                let key = CardKey::new(ins.value(row), sym.value(row), num.value(row));
                if cards.contains(&key) {
                    persons.insert(pid.value(row).to_string());
                }
            }
        }
        let mut index = CardIndex::default();
        for batch in &roster.batches {
            let pid = batch.column(idx::PERSON_ID).as_string::<i32>();
            for row in 0..batch.num_rows() {
                if persons.contains(pid.value(row)) {
                    if let Some(p) = period_at(batch, row) {
                        index.periods.push(p);
                    }
                }
            }
        }
        index.periods.sort_by(|a, b| {
            (&a.person_id, a.valid_from, a.source_line).cmp(&(
                &b.person_id,
                b.valid_from,
                b.source_line,
            ))
        });
        for (i, p) in index.periods.iter().enumerate() {
            index
                .by_person
                .entry(p.person_id.clone())
                .or_default()
                .push(i);
            let key = CardKey::new(p.insurer.as_str(), &p.symbol, &p.number);
            if cards.contains(&key) {
                index.by_card.entry(key).or_default().push(i);
            }
        }
        index
    }

    /// Periods carrying this card, in (person, valid_from) order.
    pub fn card(&self, key: &CardKey) -> impl Iterator<Item = &Period> {
        self.by_card
            .get(key)
            .into_iter()
            .flatten()
            .map(|&i| &self.periods[i])
    }

    /// Every period of a person, oldest first.
    pub fn person(&self, person_id: &str) -> impl Iterator<Item = &Period> {
        self.by_person
            .get(person_id)
            .into_iter()
            .flatten()
            .map(|&i| &self.periods[i])
    }
}

/// The period at one roster row; the roster reader has validated every column.
fn period_at(batch: &RecordBatch, row: usize) -> Option<Period> {
    let text = |c: usize| batch.column(c).as_string::<i32>().value(row).to_string();
    let opt_text = |c: usize| {
        let a = batch.column(c).as_string::<i32>();
        (!a.is_null(row)).then(|| a.value(row).to_string())
    };
    let date = |c: usize| {
        let a = batch.column(c).as_primitive::<Date32Type>();
        (!a.is_null(row)).then(|| a.value_as_date(row)).flatten()
    };
    let u8_at = |c: usize| {
        let a = batch.column(c).as_primitive::<UInt8Type>();
        (!a.is_null(row)).then(|| a.value(row))
    };
    Some(Period {
        person_id: text(idx::PERSON_ID),
        insurer: InsurerNumber::parse(&text(idx::INSURER_NUMBER)).ok()?,
        symbol: text(idx::SYMBOL),
        number: text(idx::NUMBER),
        branch: opt_text(idx::BRANCH).filter(|b| !b.is_empty()),
        name: text(idx::NAME),
        name_kana: opt_text(idx::NAME_KANA).unwrap_or_default(),
        birth_date: date(idx::BIRTH_DATE)?,
        sex: Sex::parse(&u8_at(idx::SEX)?.to_string()).ok()?,
        valid_from: date(idx::VALID_FROM)?,
        valid_to: date(idx::VALID_TO),
        copay_percent: u8_at(idx::COPAY_PERCENT),
        source_line: batch
            .column(idx::SOURCE_LINE)
            .as_primitive::<arrow::datatypes::UInt64Type>()
            .value(row),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn card_text_ignores_width_spaces_and_padding() {
        assert_eq!(card_text("１２３"), "123");
        assert_eq!(card_text(" 00456789 "), "456789");
        assert_eq!(card_text("国１２"), "国12");
        assert_eq!(card_text("12-34"), "1234");
        assert_eq!(card_text("000"), "0");
        assert_eq!(card_text(""), "");
    }
}
