//! Looking receipts' insurance cards up in the roster.
//!
//! The roster is national (up to ~125 million periods) while one month's receipts name
//! a small part of it, so the index is built for the receipts at hand only: one pass
//! over the roster's columns keeps the rows whose card (insurer number + 記号 + 番号)
//! some receipt names, and a second keeps every period of the persons found, so a
//! person can be followed to another insurer. Memory grows with the receipts, not with
//! the roster.

use std::borrow::Cow;

use arrow::array::{
    Array, AsArray, Date32Array, RecordBatch, StringArray, UInt64Array, UInt8Array,
};
use arrow::datatypes::{Date32Type, UInt64Type, UInt8Type};
use chrono::NaiveDate;
use compact_str::CompactString;
use rayon::prelude::*;
use unicode_normalization::UnicodeNormalization;

use super::matcher::fasthash::{IdMap, IdSet};
use crate::domain::{InsurerNumber, Sex};
use crate::ingest::roster::{idx, Roster, TextColumn};
use crate::stable_hash::{hash_str, person_id_hash, StableHasher};

/// A card as written: insurer number, 記号 and 番号, compared after NFKC (full-width
/// digits are the same as ASCII ones), without spaces, hyphens or leading zeros.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CardKey {
    pub insurer: CompactString,
    pub symbol: CompactString,
    pub number: CompactString,
}

impl CardKey {
    pub fn new(insurer: &str, symbol: &str, number: &str) -> CardKey {
        CardKey {
            insurer: insurer.into(),
            symbol: card_text(symbol).into(),
            number: card_text(number).into(),
        }
    }
}

/// 記号・番号 as compared: NFKC, no white space or hyphen-like characters, no leading
/// zeros (clinics and insurers pad differently). Borrowed in the common case (ASCII
/// digits and letters): the roster's tens of millions of cards are read through it.
fn card_text(s: &str) -> Cow<'_, str> {
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

/// One eligibility period of the roster, with what the resolver compares: a view of
/// one roster row. Dates, insurer and copay come from the index's own copy (a roster of
/// tens of millions of rows is read at random here, and each column touched is a cache
/// miss); text is borrowed from the roster's Arrow columns when asked for.
#[derive(Clone, Copy)]
pub struct Period<'r> {
    pub person_id: &'r str,
    pub insurer: InsurerNumber,
    pub birth_date: NaiveDate,
    pub sex: Sex,
    pub valid_from: NaiveDate,
    /// Inclusive; `None` while still valid.
    pub valid_to: Option<NaiveDate>,
    pub copay_percent: Option<u8>,
    batch: &'r RecordBatch,
    row: usize,
}

impl<'r> Period<'r> {
    /// Whether the period covers any day from `first` to `last`.
    pub fn overlaps(&self, first: NaiveDate, last: NaiveDate) -> bool {
        self.valid_from <= last && self.valid_to.is_none_or(|to| to >= first)
    }

    pub fn covers(&self, day: NaiveDate) -> bool {
        self.overlaps(day, day)
    }

    /// 枝番, when the roster gives one.
    pub fn branch(&self) -> Option<&'r str> {
        self.text(idx::BRANCH).filter(|b| !b.is_empty())
    }

    /// 氏名 as on the roster.
    pub fn name(&self) -> &'r str {
        self.text(idx::NAME).unwrap_or_default()
    }

    /// カナ氏名 as on the roster (empty when not given).
    pub fn name_kana(&self) -> &'r str {
        self.text(idx::NAME_KANA).unwrap_or_default()
    }

    fn text(&self, column: usize) -> Option<&'r str> {
        TextColumn::of(self.batch, column)?.get(self.row)
    }

    /// Whether the row's card is `key` (text compared).
    fn has_card(&self, key: &CardKey) -> bool {
        self.insurer.as_str() == key.insurer
            && card_text(self.text(idx::SYMBOL).unwrap_or_default()) == key.symbol.as_str()
            && card_text(self.text(idx::NUMBER).unwrap_or_default()) == key.number.as_str()
    }
}

impl std::fmt::Debug for Period<'_> {
    /// Without names (personal data) and without the batch.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Period")
            .field("person_id", &self.person_id)
            .field("insurer", &self.insurer)
            .field("valid_from", &self.valid_from)
            .field("valid_to", &self.valid_to)
            .finish_non_exhaustive()
    }
}

/// Tag of the 番号 hash of the first look at a roster row.
const NUMBER_HASH: u64 = 0xb4a9;

/// A roster row: batch and row within it.
type RowPos = (u32, u32);

/// The roster rows the month's receipts need, as positions in the roster with their
/// fixed-size fields (40 bytes a period): a national month names millions of persons,
/// so no text is copied.
#[derive(Debug)]
pub struct CardIndex<'r> {
    roster: &'r Roster,
    /// The periods kept in (person_id hash, valid_from, source_line) order: each
    /// person's together, oldest first.
    rows: Vec<Slot>,
    /// The run of `rows` of each person_id hash.
    by_person: IdMap<u64, (u32, u32)>,
    /// Positions in `rows` of the periods carrying a wanted card, by the card's hash
    /// (the card itself is compared on lookup).
    by_card: IdMap<u64, Vec<u32>>,
    /// Hashes that several wanted cards share: their rows are compared on lookup.
    shared_hashes: IdSet<u64>,
}

/// A kept period's position and fixed-size fields.
#[derive(Debug, Clone, Copy)]
struct Slot {
    pos: RowPos,
    insurer: InsurerNumber,
    birth: i32,
    from: i32,
    /// `None` while still valid.
    to: Option<i32>,
    line: u64,
    copay: Option<u8>,
    sex: Sex,
}

/// A roster row kept for the index, with what it is sorted and filed by.
struct Kept {
    person_hash: u64,
    slot: Slot,
    /// The hash of its card, when the card is wanted.
    card: Option<u64>,
}

/// The wanted cards, by hash.
struct Wanted<'k> {
    by_hash: IdMap<u64, Vec<&'k CardKey>>,
    /// Hashes of their 番号, to pass over most roster rows without normalizing
    /// anything else (a hash set of numbers, not of text: a lookup is one cache miss).
    numbers: IdSet<u64>,
}

impl<'k> Wanted<'k> {
    fn new(cards: impl IntoIterator<Item = &'k CardKey>) -> Wanted<'k> {
        let mut wanted = Wanted {
            by_hash: IdMap::default(),
            numbers: IdSet::default(),
        };
        for key in cards {
            wanted.numbers.insert(hash_str(NUMBER_HASH, &key.number));
            let list = wanted
                .by_hash
                .entry(card_hash(&key.insurer, &key.symbol, &key.number))
                .or_default();
            if !list.contains(&key) {
                list.push(key);
            }
        }
        wanted
    }

    /// The hash of the row's card when it is wanted.
    fn find(&self, insurer: &str, symbol: &str, number: &str) -> Option<u64> {
        let number = card_text(number);
        if !self.numbers.contains(&hash_str(NUMBER_HASH, &number)) {
            return None;
        }
        let symbol = card_text(symbol);
        let hash = card_hash(insurer, &symbol, &number);
        self.by_hash
            .get(&hash)?
            .iter()
            .any(|k| k.insurer == insurer && k.symbol == symbol && k.number == number)
            .then_some(hash)
    }
}

/// A card's hash over its compared form (insurer as written, 記号 and 番号 after
/// [`card_text`]).
fn card_hash(insurer: &str, symbol: &str, number: &str) -> u64 {
    let mut h = StableHasher::new(0xca4d);
    h.field(insurer.as_bytes());
    h.field(symbol.as_bytes());
    h.field(number.as_bytes());
    h.finish()
}

/// The columns the index reads, downcast once a batch; a batch of another shape is
/// passed over.
struct RowCols<'r> {
    card: CardCols<'r>,
    birth: &'r Date32Array,
    from: &'r Date32Array,
    to: &'r Date32Array,
    line: &'r UInt64Array,
    copay: &'r UInt8Array,
    sex: &'r UInt8Array,
}

/// The columns of a row's card and person.
struct CardCols<'r> {
    person: &'r StringArray,
    insurer: TextColumn<'r>,
    symbol: TextColumn<'r>,
    number: &'r StringArray,
}

impl<'r> CardCols<'r> {
    /// The hash of the card at `row` when it is wanted.
    fn wanted(&self, wanted: &Wanted<'_>, row: usize) -> Option<u64> {
        wanted.find(
            self.insurer.get(row).unwrap_or_default(),
            self.symbol.get(row).unwrap_or_default(),
            self.number.value(row),
        )
    }
}

impl<'r> RowCols<'r> {
    fn of(batch: &'r RecordBatch) -> Option<RowCols<'r>> {
        let date = |c: usize| batch.columns().get(c)?.as_primitive_opt::<Date32Type>();
        let small = |c: usize| batch.columns().get(c)?.as_primitive_opt::<UInt8Type>();
        let text = |c: usize| batch.columns().get(c)?.as_string_opt::<i32>();
        Some(RowCols {
            card: CardCols {
                person: text(idx::PERSON_ID)?,
                insurer: TextColumn::of(batch, idx::INSURER_NUMBER)?,
                symbol: TextColumn::of(batch, idx::SYMBOL)?,
                number: text(idx::NUMBER)?,
            },
            birth: date(idx::BIRTH_DATE)?,
            from: date(idx::VALID_FROM)?,
            to: date(idx::VALID_TO)?,
            line: batch
                .columns()
                .get(idx::SOURCE_LINE)?
                .as_primitive_opt::<UInt64Type>()?,
            copay: small(idx::COPAY_PERCENT)?,
            sex: small(idx::SEX)?,
        })
    }

    /// The fixed-size fields of the row (batch `b`); the roster reader has validated
    /// every column.
    fn slot(&self, b: u32, row: usize) -> Option<Slot> {
        let day = |a: &Date32Array| a.is_valid(row).then(|| a.value(row));
        Some(Slot {
            pos: (b, row as u32),
            insurer: InsurerNumber::parse(self.card.insurer.get(row)?).ok()?,
            birth: day(self.birth)?,
            from: day(self.from)?,
            to: day(self.to),
            line: self.line.value(row),
            copay: self.copay.is_valid(row).then(|| self.copay.value(row)),
            sex: match self.sex.value(row) {
                1 => Sex::Male,
                2 => Sex::Female,
                _ => return None,
            },
        })
    }
}

impl<'r> CardIndex<'r> {
    /// Builds the index for the cards given: rows with one of those cards, and every
    /// period of their persons.
    pub fn build<'k>(roster: &'r Roster, cards: impl IntoIterator<Item = &'k CardKey>) -> Self {
        Self::build_with_persons(roster, cards, &[])
    }

    /// As [`CardIndex::build`], also keeping every period of the persons named.
    /// Each pass over the roster runs in parallel over its batches; the result does
    /// not depend on the number of threads.
    pub fn build_with_persons<'k>(
        roster: &'r Roster,
        cards: impl IntoIterator<Item = &'k CardKey>,
        persons: &[&str],
    ) -> Self {
        let wanted = Wanted::new(cards);
        let batches: Vec<(u32, RowCols<'r>)> = roster
            .batches
            .iter()
            .enumerate()
            .filter_map(|(b, batch)| Some((b as u32, RowCols::of(batch)?)))
            .collect();
        // Pass 1: the rows holding a wanted card (row, card hash), in row order, and
        // their persons' hashes.
        let holders: Vec<Vec<(u32, u64)>> = batches
            .par_iter()
            .map(|(_, c)| {
                (0..c.card.person.len())
                    .filter_map(|row| Some((row as u32, c.card.wanted(&wanted, row)?)))
                    .collect()
            })
            .collect();
        let mut named: IdSet<u64> = persons.iter().map(|p| person_id_hash(p)).collect();
        named.extend(batches.iter().zip(&holders).flat_map(|((_, c), rows)| {
            rows.iter()
                .map(|&(row, _)| person_id_hash(c.card.person.value(row as usize)))
        }));
        tracing::debug!(cards = wanted.by_hash.len(), "card index: holders found");
        // Pass 2: every period of those persons (by person_id hash: a row of another
        // person with the same hash is kept too, which does no harm, see `person`),
        // with the card hash pass 1 found on its row.
        let mut kept: Vec<Kept> = batches
            .par_iter()
            .zip(&holders)
            .map(|(&(b, ref c), holders)| {
                let mut holders = holders.iter().peekable();
                (0..c.card.person.len())
                    .filter_map(|row| {
                        let card = holders.next_if(|h| h.0 == row as u32).map(|h| h.1);
                        let person_hash = person_id_hash(c.card.person.value(row));
                        if !named.contains(&person_hash) {
                            return None;
                        }
                        Some(Kept {
                            person_hash,
                            slot: c.slot(b, row)?,
                            card,
                        })
                    })
                    .collect::<Vec<_>>()
            })
            .flatten()
            .collect();
        drop((named, holders));
        tracing::debug!(periods = kept.len(), "card index: periods found");
        // Sorted by numbers only (a person_id hash, then start and line): tens of
        // millions of rows sort without reading the roster's text.
        kept.par_sort_unstable_by_key(|k| (k.person_hash, k.slot.from, k.slot.line));
        let mut index = CardIndex {
            roster,
            rows: Vec::with_capacity(kept.len()),
            by_person: IdMap::default(),
            by_card: IdMap::default(),
            shared_hashes: wanted
                .by_hash
                .iter()
                .filter(|(_, cards)| cards.len() > 1)
                .map(|(h, _)| *h)
                .collect(),
        };
        let mut start = 0u32;
        for (i, k) in kept.iter().enumerate() {
            let i = i as u32;
            index.rows.push(k.slot);
            if kept
                .get(i as usize + 1)
                .is_none_or(|next| next.person_hash != k.person_hash)
            {
                index.by_person.insert(k.person_hash, (start, i + 1));
                start = i + 1;
            }
            if let Some(hash) = k.card {
                index.by_card.entry(hash).or_default().push(i);
            }
        }
        index
    }

    /// Periods carrying this card, each person's oldest first.
    pub fn card<'a>(&'a self, key: &'a CardKey) -> impl Iterator<Item = Period<'r>> + 'a {
        let hash = card_hash(&key.insurer, &key.symbol, &key.number);
        self.by_card
            .get(&hash)
            .into_iter()
            .flatten()
            .filter_map(|&i| self.period(i))
            .filter(move |p| !self.shared_hashes.contains(&hash) || p.has_card(key))
    }

    /// Every period of a person, oldest first. (Periods are filed by the hash of
    /// person_id; persons sharing one are told apart here.)
    pub fn person<'a>(&'a self, person_id: &'a str) -> impl Iterator<Item = Period<'r>> + 'a {
        let (start, end) = self
            .by_person
            .get(&person_id_hash(person_id))
            .copied()
            .unwrap_or((0, 0));
        (start..end)
            .filter_map(|i| self.period(i))
            .filter(move |p| p.person_id == person_id)
    }

    /// Periods kept.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    fn period(&self, i: u32) -> Option<Period<'r>> {
        let slot = self.rows.get(i as usize)?;
        let batch = self.roster.batches.get(slot.pos.0 as usize)?;
        let row = slot.pos.1 as usize;
        let day = |d: i32| Date32Type::to_naive_date_opt(d);
        Some(Period {
            person_id: batch
                .column(idx::PERSON_ID)
                .as_string_opt::<i32>()?
                .value(row),
            insurer: slot.insurer,
            birth_date: day(slot.birth)?,
            sex: slot.sex,
            valid_from: day(slot.from)?,
            valid_to: match slot.to {
                Some(to) => Some(day(to)?),
                None => None,
            },
            copay_percent: slot.copay,
            batch,
            row,
        })
    }
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
