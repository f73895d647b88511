//! Blocking: which roster persons are compared with which patient, and everything else
//! that needs one look at each roster row.
//!
//! The roster is read twice, batch by batch, in parallel, and never copied:
//! 1. **Scan.** Each row's blocking keys (one per rule) are computed and looked up
//!    among the keys the patients have; a row whose key some patient has is a *hit*.
//!    The same pass counts, for term-frequency adjustment, how many rows carry each
//!    name and kana value that some patient has, and keeps the rows of a uniform
//!    sample of persons (the `k` smallest seeded hashes of person_id) for u estimation;
//!    those `k` hashes also estimate the number of distinct persons.
//! 2. **Collect.** Every period of the persons hit or sampled is gathered into one
//!    [`PersonRecord`] per person, normalized once.
//!
//! Memory grows with the patients' blocks and the sample, not with the roster: only
//! the keys patients need are held, and only the rows that hit are remembered.
//! Results do not depend on the number of threads: hits are sorted, counts are sums,
//! the sample is a set.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use arrow::array::{Array, AsArray, Date32Array, RecordBatch, StringArray, UInt8Array};
use arrow::datatypes::{Date32Type, UInt8Type};
use chrono::{Datelike, NaiveDate};
use rayon::prelude::*;

use crate::domain::InsurerNumber;
use crate::ingest::insurers::InsurerMaster;
use crate::ingest::roster::{idx, Roster, TextColumn};
use crate::stable_hash::StableHasher;

use super::config::BlockingKey;
use super::fasthash::{FxMap, IdMap, IdSet};
use super::keys::{
    kind_bit, AddressKey, KanaKey, NameKey, OrgKey, PartCache, PersonRecord, Shared,
};
use super::prefilter::Prefilter;
use super::values::{Joined, KanaValues, NameValues, RowValueCache, RowValues};

// ---------------------------------------------------------------------------------
// Blocking keys.

/// What blocking keys are made of, for a patient or a roster row.
pub(crate) struct BlockValues<'a> {
    pub birth: NaiveDate,
    pub sex: u8,
    pub name: Option<NameValues<'a>>,
    pub kana: Option<KanaValues<'a>>,
}

/// Hashers already fed their seeds, for the rules and the term-frequency tables: a
/// seed is as long as a name, and the scan hashes with a dozen of them per roster row.
struct Seeded {
    rules: Vec<StableHasher>,
    tf: [StableHasher; TF_TABLES],
}

/// Rules seeded ahead (the matcher uses at most 64).
const SEEDED_RULES: usize = 64;

static SEEDED: LazyLock<Seeded> = LazyLock::new(|| Seeded {
    rules: (0..SEEDED_RULES).map(rule_hasher).collect(),
    tf: std::array::from_fn(|t| StableHasher::new(0x7f00 + t as u64)),
});

fn rule_hasher(rule_index: usize) -> StableHasher {
    StableHasher::new(0x5eed_b10c ^ rule_index as u64)
}

/// The key of `rule` (its position `rule_index` salts the hash) for these values, or
/// `None` when a value the rule needs is missing.
pub(crate) fn rule_key(
    rule_index: usize,
    rule: &[BlockingKey],
    v: &BlockValues<'_>,
) -> Option<u64> {
    let mut h = SEEDED
        .rules
        .get(rule_index)
        .copied()
        .unwrap_or_else(|| rule_hasher(rule_index));
    for key in rule {
        match key {
            BlockingKey::BirthDate => {
                let d = v.birth;
                h.write(&d.year().to_le_bytes());
                h.field(&[d.month() as u8, d.day() as u8]);
            }
            BlockingKey::BirthYearMonth => {
                let d = v.birth;
                h.write(&d.year().to_le_bytes());
                h.field(&[d.month() as u8]);
            }
            BlockingKey::BirthYear => h.field(&v.birth.year().to_le_bytes()),
            BlockingKey::BirthMonthDay => {
                let d = v.birth;
                h.field(&[d.month() as u8, d.day() as u8]);
            }
            BlockingKey::Sex => h.field(&[v.sex]),
            BlockingKey::Kana => v.kana.as_ref()?.full_unvoiced.field(&mut h),
            BlockingKey::KanaFamily => {
                h.field(v.kana.as_ref()?.family_unvoiced.as_deref()?.as_bytes())
            }
            BlockingKey::KanaGiven => {
                h.field(v.kana.as_ref()?.given_unvoiced.as_deref()?.as_bytes())
            }
            BlockingKey::Name => v.name.as_ref()?.full.field(&mut h),
            BlockingKey::NameFamily => h.field(v.name.as_ref()?.family?.as_bytes()),
            BlockingKey::NameGiven => h.field(v.name.as_ref()?.given?.as_bytes()),
        }
    }
    Some(h.finish())
}

// ---------------------------------------------------------------------------------
// Term-frequency tables (only for values some patient has).

/// The term-frequency tables: values of one kind counted over roster rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TfTable {
    NameFamily = 0,
    NameGiven = 1,
    NameFull = 2,
    KanaFamily = 3,
    KanaGiven = 4,
    KanaFull = 5,
    /// (kanji name, kana name) together: how often a kanji name is read this way.
    NameKanaPair = 6,
    /// The kanji name on rows that have a kana name (the denominator of the pair's
    /// conditional frequency).
    NameFullWithKana = 7,
}

pub(crate) const TF_TABLES: usize = 8;

pub(crate) fn tf_hash(table: TfTable, value: &str) -> u64 {
    tf_hash_of(table, Joined::whole(value))
}

fn tf_hash_of(table: TfTable, value: Joined<'_>) -> u64 {
    let mut h = SEEDED.tf[table as usize];
    value.field(&mut h);
    h.finish()
}

fn tf_pair_hash(name: Joined<'_>, kana: Joined<'_>) -> u64 {
    let mut h = SEEDED.tf[TfTable::NameKanaPair as usize];
    name.field(&mut h);
    kana.field(&mut h);
    h.finish()
}

/// The hashes of a patient's values, per table.
pub(crate) fn tf_hashes(
    name: Option<&NameValues<'_>>,
    kana: Option<&KanaValues<'_>>,
) -> [Option<u64>; TF_TABLES] {
    let mut out = tf_whole_hashes(name, kana);
    if let Some(n) = name {
        out[TfTable::NameFamily as usize] = n.family.map(|s| tf_hash(TfTable::NameFamily, s));
        out[TfTable::NameGiven as usize] = n.given.map(|s| tf_hash(TfTable::NameGiven, s));
    }
    if let Some(k) = kana {
        out[TfTable::KanaFamily as usize] = k.family.map(|s| tf_hash(TfTable::KanaFamily, s));
        out[TfTable::KanaGiven as usize] = k.given.map(|s| tf_hash(TfTable::KanaGiven, s));
    }
    out
}

/// The hashes of the values that are whole names, per table (`None` for the family
/// and given name tables: a roster row's come with its cached parts).
fn tf_whole_hashes(
    name: Option<&NameValues<'_>>,
    kana: Option<&KanaValues<'_>>,
) -> [Option<u64>; TF_TABLES] {
    let mut out = [None; TF_TABLES];
    if let Some(n) = name {
        out[TfTable::NameFull as usize] = Some(tf_hash_of(TfTable::NameFull, n.full));
    }
    if let Some(k) = kana {
        out[TfTable::KanaFull as usize] = Some(tf_hash_of(TfTable::KanaFull, k.full));
    }
    if let (Some(n), Some(k)) = (name, kana) {
        out[TfTable::NameKanaPair as usize] = Some(tf_pair_hash(n.full, k.full));
        out[TfTable::NameFullWithKana as usize] =
            Some(tf_hash_of(TfTable::NameFullWithKana, n.full));
    }
    out
}

/// Which values are counted: value hash → slot, per table.
#[derive(Debug, Default)]
pub(crate) struct TfSlots {
    pub slots: [IdMap<u64, u32>; TF_TABLES],
}

impl TfSlots {
    pub fn slot(&self, table: usize, hash: u64) -> Option<u32> {
        self.slots[table].get(&hash).copied()
    }

    pub fn add(&mut self, table: usize, hash: u64) {
        let n = self.slots[table].len() as u32;
        self.slots[table].entry(hash).or_insert(n);
    }
}

// ---------------------------------------------------------------------------------
// Roster columns.

/// The roster columns the matcher reads, checked (a batch of another shape is skipped,
/// never a panic).
pub(crate) struct Cols<'a> {
    pub person: &'a StringArray,
    pub insurer: TextColumn<'a>,
    pub name: &'a StringArray,
    pub kana: &'a StringArray,
    pub birth: &'a Date32Array,
    pub sex: &'a UInt8Array,
    pub address: TextColumn<'a>,
    pub employer: TextColumn<'a>,
}

impl<'a> Cols<'a> {
    pub fn of(batch: &'a RecordBatch) -> Option<Cols<'a>> {
        if batch.num_columns() <= idx::SOURCE_LINE {
            return None;
        }
        Some(Cols {
            person: batch.column(idx::PERSON_ID).as_string_opt::<i32>()?,
            insurer: TextColumn::of(batch, idx::INSURER_NUMBER)?,
            name: batch.column(idx::NAME).as_string_opt::<i32>()?,
            kana: batch.column(idx::NAME_KANA).as_string_opt::<i32>()?,
            birth: batch
                .column(idx::BIRTH_DATE)
                .as_primitive_opt::<Date32Type>()?,
            sex: batch.column(idx::SEX).as_primitive_opt::<UInt8Type>()?,
            address: TextColumn::of(batch, idx::ADDRESS)?,
            employer: TextColumn::of(batch, idx::EMPLOYER)?,
        })
    }

    /// The roster reader has trimmed every value; empty is absent.
    fn text(a: &'a StringArray, row: usize) -> Option<&'a str> {
        (!a.is_null(row))
            .then(|| a.value(row))
            .filter(|s| !s.is_empty())
    }

    pub fn person(&self, row: usize) -> Option<&'a str> {
        Self::text(self.person, row)
    }

    /// The person_id at `row`, or `None` past the end.
    pub fn person_checked(&self, row: usize) -> Option<&'a str> {
        (row < self.person.len())
            .then(|| self.person(row))
            .flatten()
    }

    pub fn name(&self, row: usize) -> Option<&'a str> {
        Self::text(self.name, row)
    }

    pub fn kana(&self, row: usize) -> Option<&'a str> {
        Self::text(self.kana, row)
    }

    pub fn address(&self, row: usize) -> Option<&'a str> {
        self.address.get(row).filter(|s| !s.is_empty())
    }

    pub fn employer(&self, row: usize) -> Option<&'a str> {
        self.employer.get(row).filter(|s| !s.is_empty())
    }

    pub fn insurer(&self, row: usize) -> Option<&'a str> {
        self.insurer.get(row).filter(|s| !s.is_empty())
    }

    pub fn birth(&self, row: usize) -> Option<NaiveDate> {
        (!self.birth.is_null(row))
            .then(|| self.birth.value_as_date(row))
            .flatten()
    }

    pub fn sex(&self, row: usize) -> u8 {
        if self.sex.is_null(row) {
            return 0;
        }
        match self.sex.value(row) {
            1 => 1,
            2 => 2,
            _ => 0,
        }
    }
}

// ---------------------------------------------------------------------------------
// Pass 1: scan.

/// A roster row whose key for one rule some patient has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Hit {
    pub rule: u8,
    pub key: u64,
    pub batch: u32,
    pub row: u32,
}

/// A row position.
pub(crate) type RowPos = (u32, u32);

/// What the scan found.
#[derive(Debug, Default)]
pub(crate) struct Scan {
    /// Sorted.
    pub hits: Vec<Hit>,
    pub tf_counts: [Vec<u64>; TF_TABLES],
    /// Rows with a name; rows with a kana name (the denominators of the frequencies).
    pub rows_named: u64,
    pub rows_kana: u64,
    /// The sampled persons: (hash of person_id, first row seen) for the `k` smallest
    /// hashes, by hash.
    pub sample: Vec<(u64, RowPos)>,
    /// Distinct persons on the roster: exact when fewer than `k`, else estimated from
    /// the `k`-th smallest hash.
    pub persons: f64,
    /// Batches whose columns were not the validated roster's.
    pub skipped_batches: u64,
}

/// The inputs of the scan.
pub(crate) struct ScanPlan<'p> {
    pub rules: &'p [Vec<BlockingKey>],
    /// Per rule, the keys some patient has.
    pub needed: &'p [IdSet<u64>],
    pub tf: &'p TfSlots,
    pub sample_size: usize,
    pub seed: u64,
}

struct Acc<'t> {
    hits: Vec<Hit>,
    counts: [Vec<u64>; TF_TABLES],
    rows_named: u64,
    rows_kana: u64,
    bottom: BTreeMap<u64, RowPos>,
    skipped: u64,
    values: RowValueCache<'t>,
    /// The hasher of person_ids for the sample, fed its seed.
    sample_seed: StableHasher,
}

impl<'t> Acc<'t> {
    fn new(plan: &ScanPlan<'t>) -> Acc<'t> {
        let tf = plan.tf;
        Acc {
            hits: Vec::new(),
            counts: std::array::from_fn(|t| vec![0; tf.slots[t].len()]),
            rows_named: 0,
            rows_kana: 0,
            bottom: BTreeMap::new(),
            skipped: 0,
            values: RowValueCache::new(tf),
            sample_seed: StableHasher::new(plan.seed),
        }
    }

    fn offer(&mut self, k: usize, hash: u64, pos: RowPos) {
        if k == 0 {
            return;
        }
        if self.bottom.len() >= k {
            match self.bottom.last_key_value() {
                Some((&max, _)) if hash > max => return,
                _ => {}
            }
        }
        let e = self.bottom.entry(hash).or_insert(pos);
        if pos < *e {
            *e = pos;
        }
        while self.bottom.len() > k {
            self.bottom.pop_last();
        }
    }

    fn merge(mut self, other: Acc<'t>, k: usize) -> Acc<'t> {
        self.hits.extend(other.hits);
        for (a, b) in self.counts.iter_mut().zip(other.counts) {
            for (x, y) in a.iter_mut().zip(b) {
                *x += y;
            }
        }
        self.rows_named += other.rows_named;
        self.rows_kana += other.rows_kana;
        for (h, pos) in other.bottom {
            self.offer(k, h, pos);
        }
        self.skipped += other.skipped;
        self
    }
}

/// Pass 1 over the roster.
pub(crate) fn scan(roster: &Roster, plan: &ScanPlan<'_>) -> Scan {
    let k = plan.sample_size;
    let filters = Filters {
        needed: plan
            .needed
            .iter()
            .map(|keys| Prefilter::new(keys.iter().copied()))
            .collect(),
        tf: std::array::from_fn(|t| Prefilter::new(plan.tf.slots[t].keys().copied())),
        any_needed: plan.needed.iter().any(|s| !s.is_empty()),
    };
    let acc = roster
        .batches
        .par_iter()
        .enumerate()
        .fold(
            || Acc::new(plan),
            |mut acc, (b, batch)| {
                let Some(cols) = Cols::of(batch) else {
                    acc.skipped += 1;
                    return acc;
                };
                for row in 0..batch.num_rows() {
                    scan_row(&mut acc, plan, &filters, &cols, (b as u32, row));
                }
                acc
            },
        )
        .reduce(|| Acc::new(plan), |a, b| a.merge(b, k));
    let mut hits = acc.hits;
    hits.sort_unstable();
    let sample: Vec<(u64, RowPos)> = acc.bottom.into_iter().collect();
    let persons = if sample.len() < k || k < 2 {
        sample.len() as f64
    } else {
        let kth = sample[k - 1].0 as f64 / 2f64.powi(64);
        ((k - 1) as f64 / kth.max(f64::MIN_POSITIVE)).max(k as f64)
    };
    Scan {
        hits,
        tf_counts: acc.counts,
        rows_named: acc.rows_named,
        rows_kana: acc.rows_kana,
        sample,
        persons,
        skipped_batches: acc.skipped,
    }
}

/// What the scan looks up first: per rule, then per term-frequency table, a filter of
/// the keys patients have.
struct Filters {
    needed: Vec<Prefilter>,
    tf: [Prefilter; TF_TABLES],
    any_needed: bool,
}

fn scan_row(
    acc: &mut Acc<'_>,
    plan: &ScanPlan<'_>,
    filters: &Filters,
    cols: &Cols<'_>,
    (batch, row): (u32, usize),
) {
    let Some(person) = cols.person(row) else {
        return;
    };
    let pos = (batch, row as u32);
    let mut sample_hash = acc.sample_seed;
    sample_hash.field(person.as_bytes());
    acc.offer(plan.sample_size, sample_hash.finish(), pos);
    let RowValues {
        name,
        kana,
        part_slots,
    } = acc.values.row(cols.name(row), cols.kana(row));
    acc.rows_named += u64::from(name.is_some());
    acc.rows_kana += u64::from(kana.is_some());
    let wholes = tf_whole_hashes(name.as_ref(), kana.as_ref());
    let whole_slots = wholes.iter().enumerate().map(|(t, h)| {
        let h = h.filter(|&h| filters.tf[t].may_contain(h));
        (t, h.and_then(|h| plan.tf.slot(t, h)))
    });
    let part_slots = part_slots
        .into_iter()
        .map(|(table, slot)| (table as usize, slot));
    for (t, slot) in whole_slots.chain(part_slots) {
        if let Some(slot) = slot {
            acc.counts[t][slot as usize] += 1;
        }
    }
    if !filters.any_needed {
        return;
    }
    let Some(birth) = cols.birth(row) else {
        return;
    };
    let values = BlockValues {
        birth,
        sex: cols.sex(row),
        name,
        kana,
    };
    for (r, rule) in plan.rules.iter().enumerate() {
        if plan.needed[r].is_empty() {
            continue;
        }
        if let Some(key) = rule_key(r, rule, &values) {
            if filters.needed[r].may_contain(key) && plan.needed[r].contains(&key) {
                acc.hits.push(Hit {
                    rule: r as u8,
                    key,
                    batch,
                    row: row as u32,
                });
            }
        }
    }
}

// ---------------------------------------------------------------------------------
// Pass 2: collect persons.

/// The person_id at a row position (empty when the batch or row is not there).
pub(crate) fn person_at(roster: &Roster, (b, r): RowPos) -> &str {
    roster
        .batches
        .get(b as usize)
        .and_then(Cols::of)
        .and_then(|c| c.person_checked(r as usize))
        .unwrap_or("")
}

/// The roster rows of the persons named (`index` gives each one's position among
/// them), as (person, batch, row), sorted.
pub(crate) fn person_rows(roster: &Roster, index: &FxMap<&str, u32>) -> Vec<(u32, u32, u32)> {
    let mut rows: Vec<(u32, u32, u32)> = roster
        .batches
        .par_iter()
        .enumerate()
        .map(|(b, batch)| {
            let mut out = Vec::new();
            if let Some(cols) = Cols::of(batch) {
                for row in 0..batch.num_rows() {
                    if let Some(&i) = cols.person(row).and_then(|p| index.get(p)) {
                        out.push((i, b as u32, row as u32));
                    }
                }
            }
            out
        })
        .flatten()
        .collect();
    rows.par_sort_unstable();
    rows
}

/// Gathers the periods of each person in `rows` (from [`person_rows`]) into one record,
/// returned with the person's position, in position order. Each distinct address,
/// employer and insurer name is normalized once (households share addresses, companies
/// employ many) into `Shared`, which the records refer to by index.
pub(crate) fn collect_persons(
    roster: &Roster,
    rows: &[(u32, u32, u32)],
    insurers: &InsurerMaster,
) -> (Vec<(u32, PersonRecord)>, Shared) {
    let cols: Vec<Option<Cols<'_>>> = roster.batches.iter().map(Cols::of).collect();
    let at = |&(_, b, r): &(u32, u32, u32)| {
        cols.get(b as usize)
            .and_then(Option::as_ref)
            .map(|c| (c, r as usize))
    };

    // Distinct addresses, employers and insurer names, normalized once each.
    let mut shared = Shared::default();
    let addresses = normalize_distinct(
        rows.par_iter()
            .filter_map(|p| at(p).and_then(|(c, r)| c.address(r)))
            .collect(),
        AddressKey::new,
        &mut shared.addresses,
    );
    let employers = normalize_distinct(
        rows.par_iter()
            .filter_map(|p| at(p).and_then(|(c, r)| c.employer(r)))
            .collect(),
        OrgKey::new,
        &mut shared.orgs,
    );
    // Insurers: (number, kind bit, name key index) from the master, once each.
    let master: Vec<(InsurerNumber, u8, Option<u32>)> = insurers
        .iter()
        .map(|i| {
            let name = OrgKey::new(&i.name).map(|k| {
                shared.orgs.push(k);
                (shared.orgs.len() - 1) as u32
            });
            (i.number, kind_bit(i.kind), name)
        })
        .collect();

    let groups: Vec<&[(u32, u32, u32)]> = rows.chunk_by(|a, b| a.0 == b.0).collect();
    let tables = Tables {
        addresses: &addresses,
        employers: &employers,
        master: &master,
    };
    let records: Vec<(u32, PersonRecord)> = groups
        .par_iter()
        .map_init(PartCache::new, |cache, g| {
            (g[0].0, build_person(g, &cols, &tables, cache))
        })
        .collect();
    (records, shared)
}

/// Distinct raw values → index of their key in a shared table (`None`: no key).
type Normalized<'a> = FxMap<&'a str, Option<u32>>;

/// Normalizes each distinct value of `values` once (in parallel), appending the keys to
/// `table` in a deterministic order (the values' byte order).
fn normalize_distinct<'a, K: Send>(
    mut distinct: Vec<&'a str>,
    key: impl Fn(&str) -> Option<K> + Sync,
    table: &mut Vec<K>,
) -> Normalized<'a> {
    distinct.par_sort_unstable();
    distinct.dedup();
    let keys: Vec<Option<K>> = distinct.par_iter().map(|s| key(s)).collect();
    let mut out = Normalized::default();
    out.reserve(distinct.len());
    for (raw, k) in distinct.into_iter().zip(keys) {
        let idx = k.map(|k| {
            table.push(k);
            (table.len() - 1) as u32
        });
        out.insert(raw, idx);
    }
    out
}

struct Tables<'t, 'a> {
    addresses: &'t Normalized<'a>,
    employers: &'t Normalized<'a>,
    master: &'t [(InsurerNumber, u8, Option<u32>)],
}

fn sorted_dedup<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort_unstable();
    v.dedup();
    v
}

fn build_person(
    rows: &[(u32, u32, u32)],
    cols: &[Option<Cols<'_>>],
    tables: &Tables<'_, '_>,
    cache: &mut PartCache,
) -> PersonRecord {
    let mut names = Vec::new();
    let mut kanas = Vec::new();
    let mut births = Vec::new();
    let mut sexes = 0u8;
    let mut addresses = Vec::new();
    let mut insurer_numbers = Vec::new();
    let mut employers = Vec::new();
    for &(_, b, r) in rows {
        let Some(c) = cols.get(b as usize).and_then(Option::as_ref) else {
            continue;
        };
        let r = r as usize;
        names.extend(c.name(r));
        kanas.extend(c.kana(r));
        births.extend(c.birth(r));
        sexes |= c.sex(r);
        addresses.extend(
            c.address(r)
                .and_then(|a| tables.addresses.get(a).copied().flatten()),
        );
        insurer_numbers.extend(c.insurer(r));
        employers.extend(
            c.employer(r)
                .and_then(|e| tables.employers.get(e).copied().flatten()),
        );
    }
    let insurers_found: Vec<InsurerNumber> = sorted_dedup(
        sorted_dedup(insurer_numbers)
            .into_iter()
            .filter_map(|n| InsurerNumber::parse(n).ok())
            .collect(),
    );
    let mut kinds = 0u8;
    let mut insurer_names = Vec::new();
    for n in &insurers_found {
        if let Ok(i) = tables.master.binary_search_by(|(m, _, _)| m.cmp(n)) {
            let (_, kind, name) = &tables.master[i];
            kinds |= kind;
            insurer_names.extend(*name);
        }
    }
    PersonRecord {
        names: sorted_dedup(
            sorted_dedup(names)
                .into_iter()
                .filter_map(|n| NameKey::kanji_cached(n, cache))
                .collect(),
        ),
        kanas: sorted_dedup(
            sorted_dedup(kanas)
                .into_iter()
                .filter_map(|k| KanaKey::cached(k, cache))
                .collect(),
        ),
        birth_dates: sorted_dedup(births),
        sexes,
        addresses: sorted_dedup(addresses),
        insurers: insurers_found,
        insurer_names: sorted_dedup(insurer_names),
        kinds,
        employers: sorted_dedup(employers),
    }
}

// ---------------------------------------------------------------------------------
// Blocks.

/// Persons by (rule, key): the blocks the patients' keys open.
#[derive(Debug, Default)]
pub(crate) struct Blocks {
    /// (rule, key) → range in `persons`.
    ranges: IdMap<(u8, u64), (u32, u32)>,
    persons: Vec<u32>,
}

impl Blocks {
    /// `hits` sorted; `persons` gives each hit's person index.
    pub fn build(hits: &[Hit], persons: &[Option<u32>]) -> Blocks {
        let mut triples: Vec<(u8, u64, u32)> = hits
            .iter()
            .zip(persons)
            .filter_map(|(h, p)| p.map(|p| (h.rule, h.key, p)))
            .collect();
        triples.par_sort_unstable();
        triples.dedup();
        let mut blocks = Blocks::default();
        blocks.persons.reserve(triples.len());
        let mut i = 0;
        while i < triples.len() {
            let (rule, key, _) = triples[i];
            let start = blocks.persons.len() as u32;
            while i < triples.len() && triples[i].0 == rule && triples[i].1 == key {
                blocks.persons.push(triples[i].2);
                i += 1;
            }
            blocks
                .ranges
                .insert((rule, key), (start, blocks.persons.len() as u32));
        }
        blocks
    }

    /// The persons of a block, sorted by index.
    pub fn get(&self, rule: u8, key: u64) -> &[u32] {
        match self.ranges.get(&(rule, key)) {
            Some(&(a, b)) => &self.persons[a as usize..b as usize],
            None => &[],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_need_their_values() {
        let d = NaiveDate::from_ymd_opt(1980, 4, 15).unwrap();
        let kana = KanaKey::new("ヤマザキ タロウ").unwrap();
        let kana2 = KanaKey::new("ﾔﾏｻｷ ﾀﾛｳ").unwrap();
        fn v(k: Option<&KanaKey>) -> BlockValues<'_> {
            BlockValues {
                birth: NaiveDate::from_ymd_opt(1980, 4, 15).unwrap(),
                sex: 1,
                name: None,
                kana: k.map(KanaValues::of),
            }
        }
        let rule = [BlockingKey::KanaFamily, BlockingKey::BirthYearMonth];
        assert_eq!(rule_key(0, &rule, &v(None)), None);
        assert_eq!(
            rule_key(0, &rule, &v(Some(&kana))),
            rule_key(0, &rule, &v(Some(&kana2)))
        );
        assert_ne!(
            rule_key(0, &rule, &v(Some(&kana))),
            rule_key(1, &rule, &v(Some(&kana)))
        );
        let name_rule = [BlockingKey::NameFamily];
        let unsplit = NameKey::kanji("山田太郎").unwrap();
        let values = BlockValues {
            birth: d,
            sex: 1,
            name: Some(NameValues::of(&unsplit)),
            kana: None,
        };
        assert_eq!(rule_key(0, &name_rule, &values), None);
    }
}
