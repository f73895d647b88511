//! The Fellegi–Sunter model: per field and level an m probability (of the level among
//! true matches) and a u probability (among non-matches), the prior λ, and the
//! term-frequency adjustment of exact names and kana — estimated as Splink does:
//!
//! - **u** from random (patient, roster person) pairs, nearly all non-matches, drawn
//!   with a ChaCha RNG seeded from the config (deterministic, thread-count free).
//! - **m** by expectation maximisation over the blocked candidate pairs, one training
//!   session per blocking rule with u fixed; in a session the fields the rule blocks on
//!   (and, for a name key, both name fields: kanji and kana say the same thing) are
//!   left out, since every pair of the session agrees on them. A field's m is the
//!   average over the sessions that estimated it; a field no session estimates keeps
//!   its built-in prior.
//! - **λ** (probability that a random patient–person pair is a match) = the share of
//!   patients on the roster (from the sessions' match counts, or the config) divided
//!   by the number of roster persons.
//! - **Term frequencies**: an exact name (kana) match uses u = the frequency of that
//!   value on the roster instead of the average u, as Splink's TF adjustment: 佐藤 is
//!   weak evidence, 勅使河原 strong. See [`Tf`].
//!
//! [`MatchModel`] is the serde form saved as `match_model.json` (`schemas/match_model.md`).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::compare::{compare, Field, Levels, FIELDS, MAX_LEVELS, N_FIELDS};
use super::keys::{PatientKeys, PersonRecord, Shared};

/// Version of the `match_model.json` layout.
pub const MODEL_VERSION: u32 = 1;

/// A table of probabilities per field and level.
pub(crate) type Table = [[f64; MAX_LEVELS]; N_FIELDS];

/// Smallest probability kept (a level never seen gets at least this): keeps every
/// Bayes factor finite.
const MIN_PROBABILITY: f64 = 1e-9;

/// Built-in priors (m, u) per field, level by level in [`Field::levels`] order, neutral
/// level excluded. EM starts from the m values; u values are used when u cannot be
/// estimated (small roster) and as one pseudo-pair of smoothing otherwise.
fn prior(field: Field) -> (&'static [f64], &'static [f64]) {
    match field {
        // exact, jw>=0.90, family_exact, given_exact, jw>=0.70, else
        Field::Name => (
            &[0.86, 0.03, 0.05, 0.03, 0.015, 0.015],
            &[2e-5, 1e-4, 0.01, 0.005, 0.03, 0.0],
        ),
        // exact, exact_unvoiced, jw>=0.92, family_exact, given_exact, jw>=0.80, else
        Field::Kana => (
            &[0.82, 0.04, 0.03, 0.04, 0.03, 0.02, 0.02],
            &[2e-5, 1e-5, 1e-4, 0.01, 0.005, 0.03, 0.0],
        ),
        // exact, day_month_swap, one_digit, same_year_month, else
        Field::BirthDate => (
            &[0.95, 0.005, 0.025, 0.01, 0.01],
            &[2.7e-5, 2.7e-5, 5e-4, 8e-4, 0.0],
        ),
        Field::Sex => (&[0.98, 0.02], &[0.5, 0.0]),
        // exact, same_block, same_locality, jw>=0.90, else
        Field::Address => (
            &[0.45, 0.15, 0.15, 0.05, 0.20],
            &[1e-5, 2e-5, 2e-3, 0.01, 0.0],
        ),
        // exact, contains, jw>=0.85, else
        Field::InsurerName => (&[0.5, 0.15, 0.05, 0.30], &[0.03, 0.03, 0.03, 0.0]),
        Field::Employer => (&[0.5, 0.15, 0.05, 0.30], &[0.005, 0.005, 0.01, 0.0]),
        // agree, else
        Field::InsuranceKind => (&[0.85, 0.15], &[0.45, 0.0]),
    }
}

/// Number of levels that carry evidence (all but the neutral one).
pub(crate) fn evidence_levels(f: Field) -> usize {
    f.levels().len() - usize::from(f.neutral_level().is_some())
}

/// A probability vector over a field's evidence levels; a trailing 0.0 in the priors
/// means "the rest".
fn normalized(values: &[f64]) -> [f64; MAX_LEVELS] {
    let mut out = [0.0; MAX_LEVELS];
    let fixed: f64 = values.iter().sum();
    for (i, &v) in values.iter().enumerate() {
        out[i] = if v == 0.0 && i + 1 == values.len() {
            (1.0 - fixed).max(MIN_PROBABILITY)
        } else {
            v
        };
    }
    let total: f64 = out[..values.len()].iter().sum();
    for v in out.iter_mut().take(values.len()) {
        *v = (*v / total).max(MIN_PROBABILITY);
    }
    out
}

pub(crate) fn prior_m() -> Table {
    std::array::from_fn(|i| normalized(prior(FIELDS[i]).0))
}

pub(crate) fn prior_u() -> Table {
    std::array::from_fn(|i| normalized(prior(FIELDS[i]).1))
}

fn is_neutral(f: usize, level: u8) -> bool {
    FIELDS[f].neutral_level() == Some(level)
}

// ---------------------------------------------------------------------------------
// The serde model.

/// A trained (or loaded) model: everything needed to score pairs again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchModel {
    pub version: u32,
    pub prior: Prior,
    /// One entry per compared field, levels strongest first.
    pub fields: Vec<FieldModel>,
    pub term_frequency: TermFrequency,
    /// The decision thresholds of the run that wrote the model (a run always decides
    /// with its own config's thresholds).
    pub thresholds: Thresholds,
    pub training: Training,
}

/// The prior probability that a patient and a roster person are the same person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Prior {
    /// λ: the prior of one (patient, person) pair.
    pub match_probability: f64,
    /// log2(λ / (1 − λ)): where every match weight starts.
    pub log2_prior_odds: f64,
    /// Share of patients taken to be on the roster.
    pub patients_on_roster: f64,
    /// Distinct persons on the roster (estimated from the u sample when large).
    pub roster_persons: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldModel {
    pub field: String,
    pub levels: Vec<LevelModel>,
    /// Where m comes from: `em` (with the sessions listed in `training`) or `prior`.
    pub m_source: String,
    /// Where u comes from: `random_pairs` or `prior`.
    pub u_source: String,
}

/// One comparison level. A neutral level (`missing`, `unknown`) has no m or u: it adds
/// nothing to the weight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LevelModel {
    pub level: String,
    pub m: Option<f64>,
    pub u: Option<f64>,
    /// log2(m / u) before any term-frequency adjustment; 0 for a neutral level.
    pub log2_bayes_factor: f64,
}

/// How exact name and kana matches are adjusted by term frequency. The frequencies
/// themselves are roster statistics, counted afresh at each run (they are never saved:
/// they would be names).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TermFrequency {
    /// Field and level adjusted: `name/exact`, `kana/exact`.
    pub adjusted: Vec<String>,
    /// Floor of an adjusted u.
    pub min_u: f64,
    pub method: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    pub accept_probability: f64,
    pub min_margin_bits: f64,
    pub review_probability: f64,
}

/// How the model was trained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Training {
    /// False when the model was given to the run rather than trained by it.
    pub trained_in_this_run: bool,
    pub seed: u64,
    /// Random pairs compared for u (0 when u is the prior).
    pub u_pairs: u64,
    pub u_sample_persons: u64,
    pub sessions: Vec<Session>,
}

/// One EM training session (one blocking rule).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Session {
    pub rule: String,
    pub pairs: u64,
    /// Fields whose m this session estimated (empty when skipped).
    pub fields_estimated: Vec<String>,
    pub iterations: u32,
    pub converged: bool,
    /// λ within the session's pairs.
    pub lambda: f64,
    /// Why the session was skipped, if it was.
    pub skipped: Option<String>,
}

impl MatchModel {
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|_| "{}".to_string())
    }

    pub fn from_json(text: &str) -> Result<MatchModel, serde_json::Error> {
        serde_json::from_str(text)
    }
}

/// The dense parameters the matcher computes with.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Params {
    pub m: Table,
    pub u: Table,
    pub lambda: f64,
}

impl Params {
    /// log2 Bayes factor of a level (0 for a neutral level).
    pub fn log2_bf(&self, f: usize, level: u8) -> f64 {
        if is_neutral(f, level) {
            return 0.0;
        }
        let l = level as usize;
        (self.m[f][l].max(MIN_PROBABILITY) / self.u[f][l].max(MIN_PROBABILITY)).log2()
    }

    pub fn log2_prior_odds(&self) -> f64 {
        let l = self.lambda.clamp(1e-300, 1.0 - 1e-12);
        (l / (1.0 - l)).log2()
    }

    /// From a loaded model; a field or level it lacks takes the built-in prior (and is
    /// logged), so an older model never stops a run.
    pub fn from_model(model: &MatchModel) -> Params {
        let mut m = prior_m();
        let mut u = prior_u();
        let mut missing = 0u32;
        for (fi, f) in FIELDS.iter().enumerate() {
            let fm = model.fields.iter().find(|x| x.field == f.as_str());
            for (li, name) in f.levels().iter().enumerate() {
                if is_neutral(fi, li as u8) {
                    continue;
                }
                let lm = fm.and_then(|fm| fm.levels.iter().find(|l| l.level == *name));
                match lm.and_then(|l| Some((l.m?, l.u?))) {
                    Some((mv, uv)) if mv.is_finite() && uv.is_finite() => {
                        m[fi][li] = mv.clamp(MIN_PROBABILITY, 1.0);
                        u[fi][li] = uv.clamp(MIN_PROBABILITY, 1.0);
                    }
                    _ => missing += 1,
                }
            }
        }
        if missing > 0 {
            tracing::warn!(
                levels = missing,
                "match model lacks some levels; built-in priors used for them"
            );
        }
        let lambda = if model.prior.match_probability.is_finite() {
            model.prior.match_probability.clamp(1e-300, 1.0 - 1e-12)
        } else {
            1e-6
        };
        Params { m, u, lambda }
    }

    /// The serde form.
    pub fn to_model(
        &self,
        sources: &[(String, String); N_FIELDS],
        prior: Prior,
        term_frequency: TermFrequency,
        thresholds: Thresholds,
        training: Training,
    ) -> MatchModel {
        let fields = FIELDS
            .iter()
            .enumerate()
            .map(|(fi, f)| FieldModel {
                field: f.as_str().to_string(),
                levels: f
                    .levels()
                    .iter()
                    .enumerate()
                    .map(|(li, name)| {
                        let neutral = is_neutral(fi, li as u8);
                        LevelModel {
                            level: (*name).to_string(),
                            m: (!neutral).then_some(self.m[fi][li]),
                            u: (!neutral).then_some(self.u[fi][li]),
                            log2_bayes_factor: self.log2_bf(fi, li as u8),
                        }
                    })
                    .collect(),
                m_source: sources[fi].0.clone(),
                u_source: sources[fi].1.clone(),
            })
            .collect();
        MatchModel {
            version: MODEL_VERSION,
            prior,
            fields,
            term_frequency,
            thresholds,
            training,
        }
    }
}

// ---------------------------------------------------------------------------------
// u from random pairs.

/// Counts of levels per field over pairs.
pub(crate) type Counts = [[u64; MAX_LEVELS]; N_FIELDS];

/// Pairs per independently seeded chunk (the chunking, not the thread count, fixes
/// which pairs are drawn).
const U_CHUNK: u64 = 16_384;

/// Compares `pairs` random (patient, sampled person) pairs.
pub(crate) fn random_pair_counts(
    patients: &[PatientKeys],
    sample: &[&PersonRecord],
    shared: &Shared,
    pairs: u64,
    seed: u64,
) -> Counts {
    if patients.is_empty() || sample.is_empty() || pairs == 0 {
        return [[0; MAX_LEVELS]; N_FIELDS];
    }
    let chunks = pairs.div_ceil(U_CHUNK);
    (0..chunks)
        .into_par_iter()
        .map(|c| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            rng.set_stream(c);
            let n = U_CHUNK.min(pairs - c * U_CHUNK);
            let mut counts: Counts = [[0; MAX_LEVELS]; N_FIELDS];
            for _ in 0..n {
                let i = rng.random_range(0..patients.len());
                let j = rng.random_range(0..sample.len());
                let levels = compare(&patients[i], sample[j], shared);
                for (f, &l) in levels.iter().enumerate() {
                    counts[f][l as usize] += 1;
                }
            }
            counts
        })
        .reduce(
            || [[0; MAX_LEVELS]; N_FIELDS],
            |mut a, b| {
                for f in 0..N_FIELDS {
                    for l in 0..MAX_LEVELS {
                        a[f][l] += b[f][l];
                    }
                }
                a
            },
        )
}

/// u from counts, with add-one (Laplace) smoothing: a level never seen among the pairs
/// gets u = 1 / (pairs + levels), the resolution of the sample, never less — random
/// pairs cannot tell how rare a level below that is (two strangers at one address),
/// and a smaller u would overstate the evidence.
pub(crate) fn u_from_counts(counts: &Counts) -> Table {
    let mut u = prior_u();
    for (f, field) in FIELDS.iter().enumerate() {
        let n = evidence_levels(*field);
        let total: u64 = counts[f][..n].iter().sum();
        if total == 0 {
            continue;
        }
        for l in 0..n {
            u[f][l] =
                ((counts[f][l] as f64 + 1.0) / (total as f64 + n as f64)).max(MIN_PROBABILITY);
        }
    }
    u
}

// ---------------------------------------------------------------------------------
// Expectation maximisation.

/// Distinct comparison vectors with their counts.
pub(crate) type Patterns = Vec<(Levels, u64)>;

/// What EM found.
#[derive(Debug, Clone, PartialEq)]
pub struct EmOutcome {
    pub(crate) m: Table,
    pub lambda: f64,
    pub iterations: u32,
    pub converged: bool,
}

impl EmOutcome {
    /// The m probability of a field's level (by names), for tests and reports.
    pub fn m_of(&self, field: &str, level: &str) -> Option<f64> {
        let f = Field::parse(field)?;
        let l = f.level_index(level)?;
        Some(self.m[f as usize][l as usize])
    }
}

/// Pseudo-pairs (spread as the starting m) added at each M step: keeps an unseen level
/// from m = 0.
const M_PSEUDO_PAIRS: f64 = 1.0;

/// No level is taken to be impossible among true matches: EM keeps every m at least
/// 1 in 10,000 (a training set where, say, no true match had a different name would
/// otherwise make any later one cost 20 bits). Priors and loaded models are not floored.
const M_FLOOR: f64 = 1e-4;

/// Fellegi–Sunter EM with u fixed: estimates m for the `active` fields and λ.
/// Inactive fields keep `m0`. Stops when no m and not λ moves by more than `tolerance`.
pub(crate) fn expectation_maximisation(
    patterns: &[(Levels, u64)],
    active: [bool; N_FIELDS],
    u: &Table,
    m0: &Table,
    lambda0: f64,
    max_iterations: u32,
    tolerance: f64,
) -> EmOutcome {
    let mut m = *m0;
    let mut lambda = lambda0.clamp(1e-6, 1.0 - 1e-6);
    let total: f64 = patterns.iter().map(|(_, c)| *c as f64).sum();
    if total == 0.0 {
        return EmOutcome {
            m,
            lambda,
            iterations: 0,
            converged: true,
        };
    }
    let mut iterations = 0;
    let mut converged = false;
    while iterations < max_iterations {
        iterations += 1;
        // E step.
        let mut weight_sum = 0.0;
        let mut level_sums: Table = [[0.0; MAX_LEVELS]; N_FIELDS];
        for (levels, count) in patterns {
            let mut lm = lambda.ln();
            let mut lu = (1.0 - lambda).ln();
            for f in 0..N_FIELDS {
                let l = levels[f];
                if !active[f] || is_neutral(f, l) {
                    continue;
                }
                lm += m[f][l as usize].max(MIN_PROBABILITY).ln();
                lu += u[f][l as usize].max(MIN_PROBABILITY).ln();
            }
            let p = 1.0 / (1.0 + (lu - lm).exp());
            let w = p * *count as f64;
            weight_sum += w;
            for f in 0..N_FIELDS {
                let l = levels[f];
                if active[f] && !is_neutral(f, l) {
                    level_sums[f][l as usize] += w;
                }
            }
        }
        // M step.
        let new_lambda = (weight_sum / total).clamp(1e-9, 1.0 - 1e-9);
        let mut delta = (new_lambda - lambda).abs();
        lambda = new_lambda;
        for (f, field) in FIELDS.iter().enumerate() {
            if !active[f] {
                continue;
            }
            let n = evidence_levels(*field);
            let sum: f64 = level_sums[f][..n].iter().sum();
            let mut next = [0.0; MAX_LEVELS];
            for l in 0..n {
                next[l] = ((level_sums[f][l] + M_PSEUDO_PAIRS * m0[f][l]) / (sum + M_PSEUDO_PAIRS))
                    .max(M_FLOOR);
            }
            let total: f64 = next[..n].iter().sum();
            for l in 0..n {
                let v = next[l] / total;
                delta = delta.max((v - m[f][l]).abs());
                m[f][l] = v;
            }
        }
        if delta < tolerance {
            converged = true;
            break;
        }
    }
    EmOutcome {
        m,
        lambda,
        iterations,
        converged,
    }
}

/// Public entry for tests: EM on comparison vectors given by level names.
///
/// `pairs`: per pair, the level name of each field in `fields` order (other fields are
/// inactive); `u` and `m0`: per field in `fields`, per evidence level, the fixed u and
/// the starting m.
pub fn em_for_test(
    fields: &[&str],
    pairs: &[Vec<&str>],
    u: &[Vec<f64>],
    m0: &[Vec<f64>],
    lambda0: f64,
    max_iterations: u32,
    tolerance: f64,
) -> Option<EmOutcome> {
    let idx: Vec<Field> = fields
        .iter()
        .map(|f| Field::parse(f))
        .collect::<Option<_>>()?;
    let mut active = [false; N_FIELDS];
    let mut ut = prior_u();
    let mut mt = prior_m();
    for (k, f) in idx.iter().enumerate() {
        let fi = *f as usize;
        active[fi] = true;
        for l in 0..evidence_levels(*f) {
            ut[fi][l] = *u.get(k)?.get(l)?;
            mt[fi][l] = *m0.get(k)?.get(l)?;
        }
    }
    let mut patterns: std::collections::BTreeMap<Levels, u64> = Default::default();
    for pair in pairs {
        let mut levels: Levels = [0; N_FIELDS];
        for (f, fi) in FIELDS.iter().enumerate() {
            if !active[f] {
                levels[f] = fi.neutral_level().unwrap_or(0);
            }
        }
        for (k, f) in idx.iter().enumerate() {
            levels[*f as usize] = f.level_index(pair.get(k)?)?;
        }
        *patterns.entry(levels).or_default() += 1;
    }
    let patterns: Patterns = patterns.into_iter().collect();
    Some(expectation_maximisation(
        &patterns,
        active,
        &ut,
        &mt,
        lambda0,
        max_iterations,
        tolerance,
    ))
}

// ---------------------------------------------------------------------------------
// Term frequencies.

/// A patient's term-frequency-adjusted u probabilities (None: use the average u).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Tf {
    /// u of an exact kanji-name match: the larger of the full name's frequency and the
    /// product of its family and given names' frequencies (smoother for rare names),
    /// floored at `tf_min_u`.
    pub name_u: Option<f64>,
    /// u of an exact kana match when the kanji names do not match exactly: as `name_u`.
    pub kana_u: Option<f64>,
    /// u of an exact kana match when the kanji names match exactly too: how often the
    /// roster reads this kanji name this way. Kanji and kana are two spellings of one
    /// name, so their agreement is not counted twice (and, with the kanji names exact,
    /// the other kana levels can only count against, never for).
    pub kana_given_name_u: Option<f64>,
}

/// log2 Bayes factor of `level` of field `f` for a patient with term frequencies `tf`,
/// given the pair's name level.
pub(crate) fn log2_bf_tf(params: &Params, tf: &Tf, f: usize, level: u8, name_level: u8) -> f64 {
    use super::compare::EXACT;
    if f == Field::Kana as usize && name_level == EXACT && level != EXACT {
        // The kanji names agree exactly: a near kana (another reading's voicing, a
        // slip) adds no evidence of its own; a disagreeing one still counts against.
        return params.log2_bf(f, level).min(0.0);
    }
    if level == EXACT {
        let adjusted_u = if f == Field::Name as usize {
            tf.name_u
        } else if f == Field::Kana as usize {
            if name_level == EXACT {
                // Never counts against: the conditional u may exceed the average m.
                return tf
                    .kana_given_name_u
                    .map(|u| (params.m[f][0] / u).log2().max(0.0))
                    .unwrap_or(0.0);
            }
            tf.kana_u
        } else {
            None
        };
        if let Some(u) = adjusted_u {
            return (params.m[f][0].max(MIN_PROBABILITY) / u.max(MIN_PROBABILITY)).log2();
        }
    }
    params.log2_bf(f, level)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priors_are_distributions() {
        for (t, name) in [(prior_m(), "m"), (prior_u(), "u")] {
            for (f, field) in FIELDS.iter().enumerate() {
                let n = evidence_levels(*field);
                let s: f64 = t[f][..n].iter().sum();
                assert!(
                    (s - 1.0).abs() < 1e-9,
                    "{name} {} sums to {s}",
                    field.as_str()
                );
                assert!(t[f][..n].iter().all(|&p| p > 0.0));
            }
        }
    }

    #[test]
    fn em_on_no_pairs_is_a_no_op() {
        let out =
            expectation_maximisation(&[], [true; N_FIELDS], &prior_u(), &prior_m(), 0.1, 10, 1e-6);
        assert_eq!(out.iterations, 0);
        assert_eq!(out.m, prior_m());
    }

    #[test]
    fn neutral_levels_add_nothing() {
        let p = Params {
            m: prior_m(),
            u: prior_u(),
            lambda: 0.5,
        };
        assert_eq!(p.log2_bf(Field::Name as usize, 6), 0.0);
        assert_eq!(p.log2_bf(Field::InsuranceKind as usize, 2), 0.0);
        assert!(p.log2_bf(Field::BirthDate as usize, 0) > 10.0);
        assert_eq!(p.log2_prior_odds(), 0.0);
    }
}
