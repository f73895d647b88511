//! The name and kana values blocking keys and term frequencies are made of, for a
//! patient (from its [`NameKey`] and [`KanaKey`]) or a roster row (from a
//! [`RowValueCache`], without allocating per row).
//!
//! The scan looks at every roster row (tens of millions) but keeps only hashes of its
//! normalized name and kana. Rows share family and given names (a 10M-person roster
//! has about a thousand distinct family names), so each distinct part, as written, is
//! normalized once per thread, and a row's values borrow the normalized parts: a whole
//! name is its family and given parts one after the other ([`Joined`]), hashed without
//! being joined. The values are exactly those of [`NameKey`] and [`KanaKey`] (tested);
//! the person records the matcher compares are still built from those.

use std::borrow::Cow;

use compact_str::CompactString;

use crate::resolve::normalize::{
    kana_strip_voicing, normalize_kana, normalize_kanji_name, split_kana_name, split_kanji_name,
};
use crate::stable_hash::StableHasher;

use super::blocking::{tf_hash, TfSlots, TfTable};
use super::fasthash::FxMap;
use super::keys::{kana_parts_join, KanaKey, NameKey};

/// A string given as up to two pieces, one after the other: hashed as the whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Joined<'a>(&'a str, &'a str);

impl<'a> Joined<'a> {
    pub fn whole(s: &'a str) -> Joined<'a> {
        Joined(s, "")
    }

    /// [`StableHasher::field`] of the whole.
    pub fn field(self, h: &mut StableHasher) {
        h.write(self.0.as_bytes());
        h.field(self.1.as_bytes());
    }

    fn is_empty(self) -> bool {
        self.0.is_empty() && self.1.is_empty()
    }
}

/// A kanji name's values: the key of the whole, and of its parts when it was written
/// with a space between them (see [`NameKey`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct NameValues<'a> {
    pub full: Joined<'a>,
    pub family: Option<&'a str>,
    pub given: Option<&'a str>,
}

impl<'a> NameValues<'a> {
    pub fn of(key: &'a NameKey) -> NameValues<'a> {
        NameValues {
            full: Joined::whole(&key.full),
            family: key.family.as_deref(),
            given: key.given.as_deref(),
        }
    }
}

/// A kana name's values (see [`KanaKey`]), and its parts with voiced marks stripped.
#[derive(Debug, Clone)]
pub(crate) struct KanaValues<'a> {
    pub full: Joined<'a>,
    pub full_unvoiced: Joined<'a>,
    pub family: Option<&'a str>,
    pub given: Option<&'a str>,
    pub family_unvoiced: Option<Cow<'a, str>>,
    pub given_unvoiced: Option<Cow<'a, str>>,
}

impl<'a> KanaValues<'a> {
    pub fn of(key: &'a KanaKey) -> KanaValues<'a> {
        let unvoiced =
            |part: &Option<CompactString>| part.as_deref().map(kana_strip_voicing).map(Cow::Owned);
        KanaValues {
            full: Joined::whole(&key.full),
            full_unvoiced: Joined::whole(&key.full_unvoiced),
            family: key.family.as_deref(),
            given: key.given.as_deref(),
            family_unvoiced: unvoiced(&key.family),
            given_unvoiced: unvoiced(&key.given),
        }
    }
}

/// Most values a [`RowValueCache`] holds per script before it stops adding: distinct
/// family and given names are few, but a roster without spaces in its names has as many
/// distinct values as persons.
const CACHE_LIMIT: usize = 200_000;

/// The term-frequency slots of a normalized part, as a family name and as a given name.
fn part_slots(tf: &TfSlots, key: &str, tables: [TfTable; 2]) -> [Option<u32>; 2] {
    tables.map(|t| tf.slot(t as usize, tf_hash(t, key)))
}

/// A normalized kanji value, with its term-frequency slots.
#[derive(Debug)]
struct KanjiPart {
    key: String,
    slots: [Option<u32>; 2],
}

impl KanjiPart {
    fn new(raw: &str, tf: &TfSlots) -> KanjiPart {
        let key = normalize_kanji_name(raw);
        KanjiPart {
            slots: part_slots(tf, &key, [TfTable::NameFamily, TfTable::NameGiven]),
            key,
        }
    }
}

/// A normalized kana value, the same with voiced marks stripped, and its
/// term-frequency slots.
#[derive(Debug)]
struct KanaPart {
    key: String,
    unvoiced: String,
    slots: [Option<u32>; 2],
}

impl KanaPart {
    fn new(raw: &str, tf: &TfSlots) -> KanaPart {
        let key = normalize_kana(raw);
        KanaPart {
            unvoiced: kana_strip_voicing(&key),
            slots: part_slots(tf, &key, [TfTable::KanaFamily, TfTable::KanaGiven]),
            key,
        }
    }
}

/// Normalized values by what was written, in the order first seen. Past
/// [`CACHE_LIMIT`] a value is normalized for the row at hand and forgotten at the next
/// one. What was written is copied, inline in the table for a short name: a key
/// borrowed from the roster would send each lookup to a cold row gigabytes away.
#[derive(Debug)]
struct Parts<P> {
    index: FxMap<CompactString, u32>,
    parts: Vec<P>,
    limit: usize,
}

impl<P> Parts<P> {
    fn new(limit: usize) -> Parts<P> {
        Parts {
            index: FxMap::default(),
            parts: Vec::new(),
            limit,
        }
    }

    /// Drops the values of the previous row that were not cached: those past the
    /// cached ones (nothing is cached once anything is not).
    fn next_row(&mut self) {
        self.parts.truncate(self.index.len());
    }

    fn id(&mut self, raw: &str, make: impl FnOnce(&str) -> P) -> u32 {
        if let Some(&id) = self.index.get(raw) {
            return id;
        }
        let id = self.parts.len() as u32;
        self.parts.push(make(raw));
        if self.index.len() < self.limit {
            self.index.insert(CompactString::from(raw), id);
        }
        id
    }

    fn get(&self, id: u32) -> &P {
        &self.parts[id as usize]
    }
}

/// Which cached values a row's name is made of.
#[derive(Debug, Clone, Copy)]
enum Ids {
    /// Written without a space: normalized whole.
    Whole(u32),
    /// Family, given, and the raw whole when the joined parts cannot be the key of the
    /// whole (kana whose given name does not normalize on its own).
    Split(u32, u32, Option<u32>),
}

/// A roster row's name and kana values.
#[derive(Debug)]
pub(crate) struct RowValues<'c> {
    pub name: Option<NameValues<'c>>,
    pub kana: Option<KanaValues<'c>>,
    /// The term-frequency slots of its family and given names and kana (`None` for a
    /// part it does not have, or no patient has).
    pub part_slots: [(TfTable, Option<u32>); 4],
}

/// One thread's normalized names and kana, for the scan of roster rows, with their
/// slots in one set of term-frequency tables.
#[derive(Debug)]
pub(crate) struct RowValueCache<'t> {
    kanji: Parts<KanjiPart>,
    kana: Parts<KanaPart>,
    tf: &'t TfSlots,
}

impl<'t> RowValueCache<'t> {
    pub fn new(tf: &'t TfSlots) -> RowValueCache<'t> {
        Self::with_limit(CACHE_LIMIT, tf)
    }

    fn with_limit(limit: usize, tf: &'t TfSlots) -> RowValueCache<'t> {
        RowValueCache {
            kanji: Parts::new(limit),
            kana: Parts::new(limit),
            tf,
        }
    }

    /// The values of a row's kanji name and kana name: those of [`NameKey::kanji`] and
    /// [`KanaKey::new`] (`None` where those are).
    pub fn row(&mut self, name: Option<&str>, kana: Option<&str>) -> RowValues<'_> {
        self.kanji.next_row();
        self.kana.next_row();
        let name = name.map(|raw| self.kanji_ids(raw));
        let kana = kana.map(|raw| self.kana_ids(raw));
        let (name, [name_family, name_given]) = match name.and_then(|ids| self.name_values(ids)) {
            Some((values, slots)) => (Some(values), slots),
            None => (None, [None; 2]),
        };
        let (kana, [kana_family, kana_given]) = match kana.and_then(|ids| self.kana_values(ids)) {
            Some((values, slots)) => (Some(values), slots),
            None => (None, [None; 2]),
        };
        RowValues {
            name,
            kana,
            part_slots: [
                (TfTable::NameFamily, name_family),
                (TfTable::NameGiven, name_given),
                (TfTable::KanaFamily, kana_family),
                (TfTable::KanaGiven, kana_given),
            ],
        }
    }

    fn kanji_ids(&mut self, raw: &str) -> Ids {
        let tf = self.tf;
        let (family, given) = split_kanji_name(raw);
        if given.is_empty() {
            return Ids::Whole(self.kanji.id(raw, |r| KanjiPart::new(r, tf)));
        }
        let f = self.kanji.id(family, |r| KanjiPart::new(r, tf));
        let g = self.kanji.id(given, |r| KanjiPart::new(r, tf));
        Ids::Split(f, g, None)
    }

    /// As [`KanaKey::cached`]: the whole is the parts joined when [`kana_parts_join`].
    fn kana_ids(&mut self, raw: &str) -> Ids {
        let tf = self.tf;
        let (family, given) = split_kana_name(raw);
        if given.is_empty() {
            return Ids::Whole(self.kana.id(raw, |r| KanaPart::new(r, tf)));
        }
        let f = self.kana.id(family, |r| KanaPart::new(r, tf));
        let g = self.kana.id(given, |r| KanaPart::new(r, tf));
        let joinable = kana_parts_join(given, &self.kana.get(g).key);
        let whole = (!joinable).then(|| self.kana.id(raw, |r| KanaPart::new(r, tf)));
        Ids::Split(f, g, whole)
    }

    /// A name's values, and the slots of its family and given names.
    fn name_values(&self, ids: Ids) -> Option<(NameValues<'_>, [Option<u32>; 2])> {
        let (values, slots) = match ids {
            Ids::Whole(w) => (
                NameValues {
                    full: Joined::whole(&self.kanji.get(w).key),
                    family: None,
                    given: None,
                },
                [None; 2],
            ),
            Ids::Split(f, g, _) => {
                let (f, g) = (self.kanji.get(f), self.kanji.get(g));
                let (f, g) = (part(f, &f.key), part(g, &g.key));
                (
                    NameValues {
                        full: Joined(f.map_or("", |p| &p.key), g.map_or("", |p| &p.key)),
                        family: f.map(|p| p.key.as_str()),
                        given: g.map(|p| p.key.as_str()),
                    },
                    [f.and_then(|p| p.slots[0]), g.and_then(|p| p.slots[1])],
                )
            }
        };
        (!values.full.is_empty()).then_some((values, slots))
    }

    /// A kana name's values, and the slots of its family and given names.
    fn kana_values(&self, ids: Ids) -> Option<(KanaValues<'_>, [Option<u32>; 2])> {
        let (values, slots) = match ids {
            Ids::Whole(w) => {
                let w = self.kana.get(w);
                (
                    KanaValues {
                        full: Joined::whole(&w.key),
                        full_unvoiced: Joined::whole(&w.unvoiced),
                        family: None,
                        given: None,
                        family_unvoiced: None,
                        given_unvoiced: None,
                    },
                    [None; 2],
                )
            }
            Ids::Split(f, g, whole) => {
                let (f, g) = (self.kana.get(f), self.kana.get(g));
                let (full, full_unvoiced) = match whole {
                    Some(w) => {
                        let w = self.kana.get(w);
                        (Joined::whole(&w.key), Joined::whole(&w.unvoiced))
                    }
                    None => (Joined(&f.key, &g.key), Joined(&f.unvoiced, &g.unvoiced)),
                };
                let (f, g) = (part(f, &f.key), part(g, &g.key));
                (
                    KanaValues {
                        full,
                        full_unvoiced,
                        family: f.map(|p| p.key.as_str()),
                        given: g.map(|p| p.key.as_str()),
                        family_unvoiced: f.map(|p| Cow::Borrowed(p.unvoiced.as_str())),
                        given_unvoiced: g.map(|p| Cow::Borrowed(p.unvoiced.as_str())),
                    },
                    [f.and_then(|p| p.slots[0]), g.and_then(|p| p.slots[1])],
                )
            }
        };
        (!values.full.is_empty()).then_some((values, slots))
    }
}

/// A part of a name, unless it normalized to nothing (then the name has no such part).
fn part<'p, P>(p: &'p P, key: &str) -> Option<&'p P> {
    (!key.is_empty()).then_some(p)
}

#[cfg(test)]
mod tests {
    use super::super::blocking::tf_hashes;
    use super::super::keys::AWKWARD_KANA;
    use super::*;

    fn joined(j: Joined<'_>) -> String {
        format!("{}{}", j.0, j.1)
    }

    /// Rows' values equal the keys' values, through the cache and past its limit.
    #[test]
    fn row_values_are_the_keys_values() {
        let names = [
            "渡邊　太郎",
            "渡辺太郎",
            "  ",
            "髙橋 ",
            " 一郎",
            "山田 　花子",
            "ｻﾄｳ ﾊﾅｺ",
        ];
        let kanas: Vec<&str> = AWKWARD_KANA
            .into_iter()
            .chain(["ﾔﾏｻﾞｷ ﾀﾛｳ", "ヤマザキタロウ", "", "　"])
            .collect();
        // Slots for the values of some of them, as patients would have them.
        let mut tf = TfSlots::default();
        for (i, raw) in names.iter().enumerate().step_by(2) {
            let name = NameKey::kanji(raw);
            let kana = KanaKey::new(kanas[i]);
            let hashes = tf_hashes(
                name.as_ref().map(NameValues::of).as_ref(),
                kana.as_ref().map(KanaValues::of).as_ref(),
            );
            for (t, h) in hashes.iter().enumerate() {
                if let Some(h) = h {
                    tf.add(t, *h);
                }
            }
        }
        for limit in [CACHE_LIMIT, 3, 0] {
            check_rows(&mut RowValueCache::with_limit(limit, &tf), &names, &kanas);
        }
    }

    fn check_rows(cache: &mut RowValueCache<'_>, names: &[&str], kanas: &[&str]) {
        let tf = cache.tf;
        for _ in 0..2 {
            for (i, &raw) in names.iter().enumerate() {
                let kana = kanas[i % kanas.len()];
                let key = NameKey::kanji(raw);
                let kana_key = KanaKey::new(kana);
                let row = cache.row(Some(raw), Some(kana));
                let want = tf_hashes(
                    key.as_ref().map(NameValues::of).as_ref(),
                    kana_key.as_ref().map(KanaValues::of).as_ref(),
                );
                for (t, slot) in row.part_slots {
                    let t = t as usize;
                    assert_eq!(slot, want[t].and_then(|h| tf.slot(t, h)), "{raw} {kana}");
                }
                assert_eq!(row.name.is_some(), key.is_some(), "{raw}");
                if let (Some(n), Some(key)) = (row.name, &key) {
                    let want = NameValues::of(key);
                    assert_eq!(joined(n.full), key.full, "{raw}");
                    assert_eq!((n.family, n.given), (want.family, want.given), "{raw}");
                }
                check_kana(row.kana, kana_key.as_ref(), kana);
            }
            for &raw in kanas {
                let row = cache.row(None, Some(raw));
                check_kana(row.kana, KanaKey::new(raw).as_ref(), raw);
            }
        }
    }

    fn check_kana(row: Option<KanaValues<'_>>, key: Option<&KanaKey>, raw: &str) {
        assert_eq!(row.is_some(), key.is_some(), "{raw}");
        let (Some(row), Some(key)) = (row, key) else {
            return;
        };
        let want = KanaValues::of(key);
        assert_eq!(joined(row.full), key.full, "{raw}");
        assert_eq!(joined(row.full_unvoiced), key.full_unvoiced, "{raw}");
        assert_eq!((row.family, row.given), (want.family, want.given), "{raw}");
        assert_eq!(row.family_unvoiced, want.family_unvoiced, "{raw}");
        assert_eq!(row.given_unvoiced, want.given_unvoiced, "{raw}");
    }

    #[test]
    fn joined_hashes_as_the_whole() {
        let mut a = StableHasher::new(7);
        Joined("ヤマダ", "タロウ").field(&mut a);
        let mut b = StableHasher::new(7);
        b.field("ヤマダタロウ".as_bytes());
        assert_eq!(a.finish(), b.finish());
    }
}
