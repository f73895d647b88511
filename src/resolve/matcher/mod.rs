//! Tier 3: find the roster person behind a receipt filed with insurer and insured
//! numbers unknown (DOMAIN §8) — explainable probabilistic record linkage in the style
//! of Splink / fastLink (Fellegi–Sunter).
//!
//! For each [`Patient`] (what the receipt, its 摘要 and the declaration say), the
//! matcher
//! 1. **blocks** ([`blocking`]): roster persons sharing all keys of some configured
//!    rule (birth date + sex, kana family + birth year-month, …) become candidates —
//!    only among one insurer's subscribers when the insurer is known;
//! 2. **compares** ([`compare`]) each candidate field by field, at levels from exact to
//!    else, over all the person's periods (names before and after marriage, old and new
//!    addresses, every insurer and employer);
//! 3. **weighs** ([`model`]): each level has m and u probabilities (u from random pairs,
//!    m by EM over the candidate pairs, exact names adjusted by term frequency); a
//!    candidate's match weight is log2 prior odds plus the log2 Bayes factors;
//! 4. **decides** ([`decide`]): `matched`, `review` (clerical review, with the ranked
//!    candidates) or `no_match`.
//!
//! Every decision carries its evidence: per candidate, each field's level and Bayes
//! factor. Nothing here routes a claim: which insurer (the period valid on the date of
//! care, or pending) is the caller's business. Nothing here logs personal data; logs
//! carry counts only.
//!
//! Results are the same whatever the number of threads, and the same for the same
//! inputs, config and seed.

pub(crate) mod blocking;
mod compare;
mod config;
mod decide;
pub(crate) mod fasthash;
mod keys;
mod model;
mod prefilter;
mod values;

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::domain::{InsuranceKind, InsurerNumber, Sex};
use crate::ingest::insurers::InsurerMaster;
use crate::ingest::roster::Roster;

use blocking::{
    collect_persons, person_at, person_rows, rule_key, scan, tf_hashes, BlockValues, Blocks, Cols,
    ScanPlan, TfSlots, TfTable, TF_TABLES,
};
use compare::{compare, Field, Levels, N_FIELDS};
use decide::{decide, rank, score, Empty};
use fasthash::{FxMap, IdSet};
use keys::{PatientKeys, PersonRecord};
use model::{
    expectation_maximisation, prior_m, prior_u, random_pair_counts, u_from_counts, Params, Prior,
    Session, TermFrequency, Tf, Thresholds, Training,
};
use values::{KanaValues, NameValues};

pub use config::{rule_name, BlockingKey, MatchConfig};
pub use decide::MAX_REPORTED_CANDIDATES;
pub use model::{
    em_for_test, EmOutcome, FieldModel, LevelModel, MatchModel, Prior as ModelPrior,
    Session as TrainingSession, TermFrequency as ModelTermFrequency, Thresholds as ModelThresholds,
    Training as ModelTraining, MODEL_VERSION,
};

/// One tier-3 receipt's patient, as the receipt (RE), its 摘要 comments and the
/// declaration (which wins where both give a value) describe them.
#[derive(Debug, Clone, PartialEq)]
pub struct Patient {
    /// Kanji name (RE 氏名 or the declaration); may be empty.
    pub name: String,
    /// Kana name; may be empty.
    pub kana: String,
    pub birth_date: NaiveDate,
    pub sex: Sex,
    pub address: Option<String>,
    pub insurer_name: Option<String>,
    pub employer: Option<String>,
    /// Kept for the caller; the roster has no phone numbers, so it is not compared.
    pub phone: Option<String>,
    pub insurance_kind: InsuranceKind,
    /// "Insurer known, insured unknown": candidates only among persons with a period
    /// at this insurer.
    pub within_insurer: Option<InsurerNumber>,
}

/// What the matcher concludes for a patient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Auto-accepted: the best candidate is probable enough and clearly ahead.
    Matched,
    /// Clerical review, with the ranked candidates.
    Review,
    /// No candidate is probable enough (or there is none).
    NoMatch,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Matched => "matched",
            Decision::Review => "review",
            Decision::NoMatch => "no_match",
        }
    }
}

impl std::fmt::Display for Decision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How one field compared, and what it added to the match weight.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldComparison {
    /// `name`, `kana`, `birth_date`, `sex`, `address`, `insurer_name`, `employer`,
    /// `kind`.
    pub field: &'static str,
    /// The level (see `schemas/match_model.md`), e.g. `exact`, `jaro_winkler>=0.90`,
    /// `day_month_swap`, `same_locality`, `missing`.
    pub level: &'static str,
    /// log2 Bayes factor (term-frequency adjusted for exact names and kana).
    pub log2_bayes_factor: f64,
}

/// A roster person considered for a patient.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    pub person_id: String,
    /// log2 prior odds + the sum of the comparisons' log2 Bayes factors.
    pub match_weight: f64,
    pub match_probability: f64,
    pub comparisons: Vec<FieldComparison>,
}

/// The matcher's answer for one patient.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PatientResult {
    pub decision: Decision,
    /// Best first (weight, then person_id), at most [`MAX_REPORTED_CANDIDATES`].
    pub candidates: Vec<Candidate>,
    /// Why, in words without personal data.
    pub reason: String,
}

/// What one blocking rule contributed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BlockingCount {
    /// The rule's keys joined by `,`.
    pub rule: String,
    /// (patient, person) pairs the rule generated (after the insurer restriction).
    pub candidate_pairs: u64,
    /// Distinct blocks skipped for holding more than `max_block_size` persons.
    pub capped_blocks: u64,
    /// Patients for whom this rule's block was skipped as capped.
    pub capped_patients: u64,
}

/// Everything a matching run produced.
#[derive(Debug, Clone, PartialEq)]
pub struct MatchRun {
    /// One per patient, in the patients' order.
    pub results: Vec<PatientResult>,
    /// The model used: trained here, or the one given (thresholds: this run's).
    pub model: MatchModel,
    /// One per blocking rule, in config order.
    pub blocking: Vec<BlockingCount>,
    /// Distinct (patient, person) pairs compared.
    pub candidate_pairs: u64,
    /// EM iterations of the longest training session (0 when a model was given).
    pub em_iterations: u32,
    /// Every session that ran converged (true when a model was given).
    pub em_converged: bool,
}

/// Most blocking rules used (their membership is a bit mask).
const MAX_RULES: usize = 64;

/// Share of patients taken to be on the roster when nothing else tells.
const DEFAULT_PATIENTS_ON_ROSTER: f64 = 0.9;

/// Matches tier-3 patients against the roster. With `model`, its m, u and λ are used
/// instead of training; term frequencies are always counted on this roster.
pub fn match_patients(
    patients: &[Patient],
    roster: &Roster,
    insurers: &InsurerMaster,
    config: &MatchConfig,
    model: Option<&MatchModel>,
) -> MatchRun {
    let started = std::time::Instant::now();
    let lap = |stage: &str| {
        tracing::debug!(
            stage,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "matcher stage done"
        );
    };
    let rules: Vec<Vec<BlockingKey>> = config
        .blocking_rules
        .iter()
        .filter(|r| !r.is_empty())
        .take(MAX_RULES)
        .cloned()
        .collect();
    if rules.len() < config.blocking_rules.len() {
        tracing::warn!(
            given = config.blocking_rules.len(),
            used = rules.len(),
            "empty blocking rules (or more than 64) ignored"
        );
    }

    // Patients' keys, blocking keys and term-frequency slots.
    let keys: Vec<PatientKeys> = patients.par_iter().map(PatientKeys::new).collect();
    let block_keys: Vec<Vec<Option<u64>>> = keys
        .par_iter()
        .map(|k| {
            let values = BlockValues {
                birth: k.birth_date,
                sex: k.sex,
                name: k.name.as_ref().map(NameValues::of),
                kana: k.kana.as_ref().map(KanaValues::of),
            };
            (0..rules.len())
                .map(|r| rule_key(r, &rules[r], &values))
                .collect()
        })
        .collect();
    let mut needed: Vec<IdSet<u64>> = vec![IdSet::default(); rules.len()];
    for ks in &block_keys {
        for (r, k) in ks.iter().enumerate() {
            if let Some(k) = k {
                needed[r].insert(*k);
            }
        }
    }
    let patient_tf: Vec<[Option<u64>; TF_TABLES]> = keys
        .iter()
        .map(|k| {
            tf_hashes(
                k.name.as_ref().map(NameValues::of).as_ref(),
                k.kana.as_ref().map(KanaValues::of).as_ref(),
            )
        })
        .collect();
    let mut slots = TfSlots::default();
    for hashes in &patient_tf {
        for (t, h) in hashes.iter().enumerate() {
            if let Some(h) = h {
                slots.add(t, *h);
            }
        }
    }

    lap("patient keys");
    // Pass 1.
    let train = model.is_none();
    let sample_size = if train && !patients.is_empty() {
        config.u_sample_persons.max(2)
    } else {
        0
    };
    let mut found = scan(
        roster,
        &ScanPlan {
            rules: &rules,
            needed: &needed,
            tf: &slots,
            sample_size,
            seed: config.seed,
        },
    );
    if found.skipped_batches > 0 {
        tracing::warn!(
            batches = found.skipped_batches,
            "roster batches without the validated roster columns were skipped"
        );
    }

    lap("scan");
    tracing::debug!(
        hits = found.hits.len(),
        "scan: roster rows in a patient's block"
    );
    // Pass 2: the persons hit or sampled.
    let cols: Vec<Option<Cols<'_>>> = roster.batches.iter().map(Cols::of).collect();
    let pid_at = |b: u32, r: u32| -> &str {
        cols.get(b as usize)
            .and_then(Option::as_ref)
            .and_then(|c| c.person_checked(r as usize))
            .unwrap_or("")
    };
    // Persons in order of first appearance among the sorted hits, then the sample:
    // deterministic, and no sorting of strings.
    let mut person_index: FxMap<&str, u32> = FxMap::default();
    let mut wanted: Vec<&str> = Vec::new();
    // (The roster is read at random here: in parallel, then taken in order.)
    let hit_persons: Vec<&str> = found
        .hits
        .par_iter()
        .map(|h| pid_at(h.batch, h.row))
        .collect();
    // Each hit's person, as an index (the roster is not read twice for it).
    let hit_persons: Vec<Option<u32>> = hit_persons
        .into_iter()
        .map(|p| number_person(p, &mut person_index, &mut wanted))
        .collect();
    let sampled: Vec<u32> = found
        .sample
        .iter()
        .filter_map(|(_, pos)| {
            number_person(person_at(roster, *pos), &mut person_index, &mut wanted)
        })
        .collect();
    lap("wanted persons");
    let hits = std::mem::take(&mut found.hits);
    let blocks = Blocks::build(&hits, &hit_persons);
    drop((hits, hit_persons));
    let rows = person_rows(roster, &person_index);
    drop(person_index);
    lap("blocks");
    // Candidates: each patient's from the blocks, then compared with the persons a
    // chunk of persons at a time (the records of a national month's candidates would
    // not fit together).
    let mut per_patient: Vec<PatientPairs> = (0..patients.len())
        .into_par_iter()
        .map(|i| candidate_pairs(&keys[i], &block_keys[i], &blocks, config.max_block_size))
        .collect();
    drop(blocks);
    let mut persons_loaded = 0;
    for chunk in rows.chunk_by(|a, b| a.0 / PERSON_CHUNK == b.0 / PERSON_CHUNK) {
        let (records, shared) = collect_persons(roster, chunk, insurers);
        persons_loaded += records.len();
        per_patient
            .par_iter_mut()
            .zip(&keys)
            .for_each(|(pp, k)| pp.compare_with(k, &records, &shared));
    }
    per_patient
        .par_iter_mut()
        .for_each(PatientPairs::keep_compared);
    let blocking = blocking_counts(&rules, &per_patient, &block_keys);
    let candidate_pairs: u64 = per_patient.iter().map(|p| p.pairs.len() as u64).sum();

    lap("compare candidates");
    // The model: u from the sampled persons' records.
    let mut sampled_rows: Vec<(u32, u32, u32)> = {
        let wanted_sample: IdSet<u32> = sampled.iter().copied().collect();
        rows.iter()
            .filter(|r| wanted_sample.contains(&r.0))
            .copied()
            .collect()
    };
    drop(rows);
    sampled_rows.sort_unstable();
    let (sample_records, shared) = collect_persons(roster, &sampled_rows, insurers);
    let no_rows = PersonRecord::default();
    let sample: Vec<&PersonRecord> = sampled
        .iter()
        .map(|i| record_of(&sample_records, *i).unwrap_or(&no_rows))
        .collect();
    let thresholds = Thresholds {
        accept_probability: config.accept_probability,
        min_margin_bits: config.min_margin_bits,
        review_probability: config.review_probability,
    };
    let term_frequency = TermFrequency {
        adjusted: vec!["name/exact".into(), "kana/exact".into()],
        min_u: config.tf_min_u,
        method: "u of an exact match = the value's share of roster rows: for a name, the \
                 larger of the full name's share and the product of its family and given \
                 names' shares; for kana when the kanji names also match exactly, the \
                 share of rows with that kanji name read this way (never below 0 bits)"
            .into(),
    };
    let (params, trained_model, em_iterations, em_converged) = match model {
        Some(m) => {
            let mut given = m.clone();
            given.thresholds = thresholds;
            given.training.trained_in_this_run = false;
            (Params::from_model(m), given, 0, true)
        }
        None => {
            let t = train_model(
                &keys,
                &per_patient,
                &rules,
                &sample,
                &shared,
                found.persons,
                config,
            );
            let model =
                t.params
                    .to_model(&t.sources, t.prior, term_frequency, thresholds, t.training);
            (t.params, model, t.iterations, t.converged)
        }
    };

    lap("model");
    // Scores and decisions.
    let tf: Vec<Tf> = patient_tf
        .iter()
        .map(|h| term_frequencies(h, &slots, &found, config.tf_min_u))
        .collect();
    let results: Vec<PatientResult> = per_patient
        .par_iter()
        .enumerate()
        .map(|(i, pp)| {
            let mut ranked: Vec<_> = pp
                .pairs
                .iter()
                .map(|pair| {
                    score(
                        &params,
                        &tf[i],
                        wanted
                            .get(pair.person as usize)
                            .copied()
                            .unwrap_or_default(),
                        &pair.levels,
                    )
                })
                .collect();
            rank(&mut ranked);
            decide(ranked, config, pp.empty)
        })
        .collect();

    lap("decide");
    let count = |d: Decision| results.iter().filter(|r| r.decision == d).count();
    tracing::info!(
        patients = patients.len(),
        roster_rows = roster.num_rows(),
        persons_loaded,
        candidate_pairs,
        matched = count(Decision::Matched),
        review = count(Decision::Review),
        no_match = count(Decision::NoMatch),
        em_iterations,
        em_converged,
        "tier-3 matching done"
    );
    MatchRun {
        results,
        model: trained_model,
        blocking,
        candidate_pairs,
        em_iterations,
        em_converged,
    }
}

/// One candidate pair of a patient.
#[derive(Debug, Clone)]
struct Pair {
    person: u32,
    /// Bit r: rule r generated the pair.
    rules: u64,
    levels: Levels,
}

/// A patient's candidate pairs, by person index.
#[derive(Debug, Clone)]
struct PatientPairs {
    pairs: Vec<Pair>,
    /// Per rule: pairs generated, and whether the block was capped.
    per_rule: Vec<(u64, bool)>,
    /// Why there are none, when there are none.
    empty: Empty,
}

/// The number of person `p` (none for an empty id): the next one when first seen.
fn number_person<'a>(
    p: &'a str,
    index: &mut FxMap<&'a str, u32>,
    wanted: &mut Vec<&'a str>,
) -> Option<u32> {
    if p.is_empty() {
        return None;
    }
    Some(*index.entry(p).or_insert_with(|| {
        wanted.push(p);
        (wanted.len() - 1) as u32
    }))
}

/// Persons whose records are built and compared together.
const PERSON_CHUNK: u32 = 1 << 19;

/// The record of person `i` among `records` (sorted by person).
fn record_of(records: &[(u32, PersonRecord)], i: u32) -> Option<&PersonRecord> {
    let at = records.binary_search_by_key(&i, |r| r.0).ok()?;
    records.get(at).map(|r| &r.1)
}

impl PatientPairs {
    /// Compares the patient with those of their candidates whose records are given
    /// (one chunk of persons); a candidate outside the patient's insurer is marked to be
    /// left out (no rules).
    fn compare_with(
        &mut self,
        keys: &PatientKeys,
        records: &[(u32, PersonRecord)],
        shared: &keys::Shared,
    ) {
        let (Some(first), Some(last)) = (records.first(), records.last()) else {
            return;
        };
        let from = self.pairs.partition_point(|p| p.person < first.0);
        let to = self.pairs.partition_point(|p| p.person <= last.0);
        for pair in &mut self.pairs[from..to] {
            let Some(person) = record_of(records, pair.person) else {
                continue;
            };
            if keys
                .within_insurer
                .is_none_or(|ins| person.has_insurer(&ins))
            {
                pair.levels = compare(keys, person, shared);
            } else {
                pair.rules = 0;
            }
        }
    }

    /// Drops the candidates left out by the insurer, and counts the pairs each rule
    /// generated.
    fn keep_compared(&mut self) {
        self.pairs.retain(|p| p.rules != 0);
        for (r, count) in self.per_rule.iter_mut().enumerate() {
            count.0 = self
                .pairs
                .iter()
                .filter(|p| p.rules & (1u64 << r) != 0)
                .count() as u64;
        }
    }
}

/// A patient's candidates from their blocks, by person index, not yet compared (see
/// [`PatientPairs::compare_with`]).
fn candidate_pairs(
    keys: &PatientKeys,
    block_keys: &[Option<u64>],
    blocks: &Blocks,
    max_block_size: usize,
) -> PatientPairs {
    let mut found: Vec<(u32, u64)> = Vec::new();
    let mut per_rule = vec![(0u64, false); block_keys.len()];
    let mut any_blocked = false;
    let mut any_open = false;
    for (r, key) in block_keys.iter().enumerate() {
        let Some(key) = key else {
            continue;
        };
        let block = blocks.get(r as u8, *key);
        if block.len() > max_block_size {
            per_rule[r].1 = true;
            continue;
        }
        any_open = true;
        for &p in block {
            any_blocked = true;
            found.push((p, 1u64 << r));
        }
    }
    found.sort_unstable();
    // As compared with a person of whom nothing is known, until compared.
    let unknown = compare(keys, &PersonRecord::default(), &keys::Shared::default());
    let mut pairs: Vec<Pair> = Vec::new();
    for (p, bit) in found {
        match pairs.last_mut() {
            Some(last) if last.person == p => last.rules |= bit,
            _ => pairs.push(Pair {
                person: p,
                rules: bit,
                levels: unknown,
            }),
        }
    }
    let capped = per_rule.iter().any(|r| r.1);
    let empty = if any_blocked {
        Empty::NoneAtInsurer
    } else if capped && !any_open {
        Empty::AllCapped
    } else {
        Empty::NoneBlocked
    };
    PatientPairs {
        pairs,
        per_rule,
        empty,
    }
}

fn blocking_counts(
    rules: &[Vec<BlockingKey>],
    per_patient: &[PatientPairs],
    block_keys: &[Vec<Option<u64>>],
) -> Vec<BlockingCount> {
    rules
        .iter()
        .enumerate()
        .map(|(r, rule)| {
            let mut capped_keys = BTreeSet::new();
            let mut pairs = 0;
            let mut capped_patients = 0;
            for (pp, ks) in per_patient.iter().zip(block_keys) {
                pairs += pp.per_rule[r].0;
                if pp.per_rule[r].1 {
                    capped_patients += 1;
                    if let Some(k) = ks[r] {
                        capped_keys.insert(k);
                    }
                }
            }
            if capped_patients > 0 {
                tracing::warn!(
                    rule = rule_name(rule),
                    blocks = capped_keys.len(),
                    patients = capped_patients,
                    "blocks over max_block_size skipped"
                );
            }
            BlockingCount {
                rule: rule_name(rule),
                candidate_pairs: pairs,
                capped_blocks: capped_keys.len() as u64,
                capped_patients,
            }
        })
        .collect()
}

/// The fields a rule's keys make uninformative within its block. A name key silences
/// both name fields: kanji and kana are two spellings of one name.
fn fields_blocked_by(rule: &[BlockingKey]) -> [bool; N_FIELDS] {
    let mut blocked = [false; N_FIELDS];
    for key in rule {
        match key {
            BlockingKey::BirthDate
            | BlockingKey::BirthYearMonth
            | BlockingKey::BirthYear
            | BlockingKey::BirthMonthDay => blocked[Field::BirthDate as usize] = true,
            BlockingKey::Sex => blocked[Field::Sex as usize] = true,
            BlockingKey::Kana
            | BlockingKey::KanaFamily
            | BlockingKey::KanaGiven
            | BlockingKey::Name
            | BlockingKey::NameFamily
            | BlockingKey::NameGiven => {
                blocked[Field::Name as usize] = true;
                blocked[Field::Kana as usize] = true;
            }
        }
    }
    blocked
}

struct Trained {
    params: Params,
    sources: [(String, String); N_FIELDS],
    prior: Prior,
    training: Training,
    iterations: u32,
    converged: bool,
}

fn train_model(
    keys: &[PatientKeys],
    per_patient: &[PatientPairs],
    rules: &[Vec<BlockingKey>],
    sample: &[&PersonRecord],
    shared: &keys::Shared,
    roster_persons: f64,
    config: &MatchConfig,
) -> Trained {
    // u.
    let estimate_u = sample.len() >= config.u_min_persons.max(1) && !keys.is_empty();
    let (u, u_pairs) = if estimate_u {
        let counts = random_pair_counts(keys, sample, shared, config.u_pairs, config.seed);
        (u_from_counts(&counts), config.u_pairs)
    } else {
        (prior_u(), 0)
    };
    let u_source = if estimate_u { "random_pairs" } else { "prior" };

    // m: one EM session per rule.
    let m0 = prior_m();
    let mut m_sum = [[0.0; compare::MAX_LEVELS]; N_FIELDS];
    let mut m_sessions = [0u32; N_FIELDS];
    let mut sessions = Vec::new();
    let mut iterations = 0;
    let mut converged = true;
    let mut matches_found: f64 = 0.0;
    for (r, rule) in rules.iter().enumerate() {
        let mut patterns: BTreeMap<Levels, u64> = BTreeMap::new();
        for pp in per_patient {
            for pair in &pp.pairs {
                if pair.rules & (1u64 << r) != 0 {
                    *patterns.entry(pair.levels).or_default() += 1;
                }
            }
        }
        let pairs: u64 = patterns.values().sum();
        let blocked = fields_blocked_by(rule);
        let active: [bool; N_FIELDS] = std::array::from_fn(|f| !blocked[f]);
        let mut session = Session {
            rule: rule_name(rule),
            pairs,
            fields_estimated: Vec::new(),
            iterations: 0,
            converged: false,
            lambda: 0.0,
            skipped: None,
        };
        if pairs < config.em_min_pairs.max(1) {
            session.skipped = Some(format!(
                "{pairs} pairs, fewer than em_min_pairs {}",
                config.em_min_pairs
            ));
            sessions.push(session);
            continue;
        }
        let patterns: Vec<(Levels, u64)> = patterns.into_iter().collect();
        let lambda0 = (keys.len() as f64 / pairs as f64).clamp(1e-4, 0.5);
        let out = expectation_maximisation(
            &patterns,
            active,
            &u,
            &m0,
            lambda0,
            config.em_max_iterations,
            config.em_tolerance,
        );
        for f in 0..N_FIELDS {
            if active[f] {
                for (sum, m) in m_sum[f].iter_mut().zip(out.m[f]) {
                    *sum += m;
                }
                m_sessions[f] += 1;
                session
                    .fields_estimated
                    .push(compare::FIELDS[f].as_str().to_string());
            }
        }
        iterations = iterations.max(out.iterations);
        converged &= out.converged;
        matches_found = matches_found.max(out.lambda * pairs as f64);
        session.iterations = out.iterations;
        session.converged = out.converged;
        session.lambda = out.lambda;
        sessions.push(session);
    }
    let mut m = m0;
    let sources: [(String, String); N_FIELDS] = std::array::from_fn(|f| {
        let m_source = if m_sessions[f] > 0 {
            for l in 0..compare::MAX_LEVELS {
                m[f][l] = m_sum[f][l] / f64::from(m_sessions[f]);
            }
            "em"
        } else {
            "prior"
        };
        (m_source.to_string(), u_source.to_string())
    });

    // λ.
    let any_session = sessions.iter().any(|s| s.skipped.is_none());
    let on_roster = match config.patients_on_roster {
        Some(p) if p.is_finite() => p.clamp(1e-6, 1.0),
        _ if any_session && !keys.is_empty() => {
            (matches_found / keys.len() as f64).clamp(0.01, 1.0)
        }
        _ => DEFAULT_PATIENTS_ON_ROSTER,
    };
    let roster_persons = roster_persons.max(1.0);
    let lambda = (on_roster / roster_persons).clamp(1e-300, 0.5);
    let params = Params { m, u, lambda };
    let prior = Prior {
        match_probability: lambda,
        log2_prior_odds: params.log2_prior_odds(),
        patients_on_roster: on_roster,
        roster_persons,
    };
    Trained {
        training: Training {
            trained_in_this_run: true,
            seed: config.seed,
            u_pairs,
            u_sample_persons: sample.len() as u64,
            sessions,
        },
        params,
        sources,
        prior,
        iterations,
        converged,
    }
}

/// A patient's term-frequency-adjusted u values from the scan's counts.
fn term_frequencies(
    hashes: &[Option<u64>; TF_TABLES],
    slots: &TfSlots,
    found: &blocking::Scan,
    min_u: f64,
) -> Tf {
    let count = |t: TfTable| -> Option<u64> {
        let h = hashes[t as usize]?;
        let slot = slots.slot(t as usize, h)?;
        found.tf_counts[t as usize].get(slot as usize).copied()
    };
    let share = |c: Option<u64>, n: u64| -> Option<f64> {
        match c {
            Some(c) if c > 0 && n > 0 => Some(c as f64 / n as f64),
            _ => None,
        }
    };
    let floor = |u: f64| u.max(min_u.max(1e-300));
    let combine = |full: Option<f64>, fam: Option<f64>, giv: Option<f64>| -> Option<f64> {
        let product = fam.zip(giv).map(|(a, b)| a * b);
        match (full, product) {
            (Some(f), Some(p)) => Some(floor(f.max(p))),
            (Some(f), None) => Some(floor(f)),
            _ => None,
        }
    };
    let n = found.rows_named;
    let k = found.rows_kana;
    let name_u = combine(
        share(count(TfTable::NameFull), n),
        share(count(TfTable::NameFamily), n),
        share(count(TfTable::NameGiven), n),
    );
    let kana_u = combine(
        share(count(TfTable::KanaFull), k),
        share(count(TfTable::KanaFamily), k),
        share(count(TfTable::KanaGiven), k),
    );
    let kana_given_name_u = match (
        count(TfTable::NameKanaPair),
        count(TfTable::NameFullWithKana),
    ) {
        (Some(pair), Some(all)) if pair > 0 && all > 0 => Some(floor(pair as f64 / all as f64)),
        _ => None,
    };
    Tf {
        name_u,
        kana_u,
        kana_given_name_u,
    }
}

/// What the benchmarks measure, without opening the matcher's internals.
#[doc(hidden)]
pub mod bench_support {
    use chrono::NaiveDate;

    use super::compare::{compare, N_FIELDS};
    use super::keys::{
        kind_bit, sex_bit, AddressKey, KanaKey, NameKey, OrgKey, PatientKeys, PersonRecord, Shared,
    };
    use super::Patient;
    use crate::domain::{InsuranceKind, Sex};

    /// A patient and a one-period person, both normalized.
    pub struct PreparedPair {
        patient: PatientKeys,
        person: PersonRecord,
        shared: Shared,
    }

    impl PreparedPair {
        #[allow(clippy::too_many_arguments)]
        pub fn new(
            patient: &Patient,
            name: &str,
            kana: &str,
            birth: NaiveDate,
            sex: Sex,
            address: &str,
            employer: &str,
            kind: InsuranceKind,
        ) -> PreparedPair {
            let shared = Shared {
                addresses: AddressKey::new(address).into_iter().collect(),
                orgs: OrgKey::new(employer).into_iter().collect(),
            };
            PreparedPair {
                patient: PatientKeys::new(patient),
                person: PersonRecord {
                    names: NameKey::kanji(name).into_iter().collect(),
                    kanas: KanaKey::new(kana).into_iter().collect(),
                    birth_dates: vec![birth],
                    sexes: sex_bit(sex),
                    addresses: (0..shared.addresses.len() as u32).collect(),
                    insurers: vec![],
                    insurer_names: vec![],
                    kinds: kind_bit(kind),
                    employers: (0..shared.orgs.len() as u32).collect(),
                },
                shared,
            }
        }

        /// The comparison levels of the pair (indices, field by field).
        pub fn compare(&self) -> [u8; N_FIELDS] {
            compare(&self.patient, &self.person, &self.shared)
        }
    }

    /// Normalizes one patient's fields (what is done once per patient).
    pub fn prepare_patient(patient: &Patient) -> usize {
        let k = PatientKeys::new(patient);
        k.name.map_or(0, |n| n.full.len()) + k.kana.map_or(0, |k| k.full.len())
    }
}
