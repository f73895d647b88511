//! Scoring and deciding: each candidate's match weight (log2 prior odds plus the log2
//! Bayes factors of its comparison levels, term-frequency adjusted), its match
//! probability, and the decision for the patient.

use super::compare::{Field, Levels, FIELDS, N_FIELDS};
use super::config::MatchConfig;
use super::model::{log2_bf_tf, Params, Tf};
use super::{Candidate, Decision, FieldComparison, PatientResult};

/// Candidates reported per patient, best first.
pub const MAX_REPORTED_CANDIDATES: usize = 5;

/// 2^w / (1 + 2^w), without overflow.
pub(crate) fn probability(weight: f64) -> f64 {
    if weight >= 0.0 {
        1.0 / (1.0 + (-weight).exp2())
    } else {
        let e = weight.exp2();
        e / (1.0 + e)
    }
}

/// One candidate's weight and explanation.
pub(crate) fn score(params: &Params, tf: &Tf, person_id: &str, levels: &Levels) -> Candidate {
    let name_level = levels[Field::Name as usize];
    let mut weight = params.log2_prior_odds();
    let mut comparisons = Vec::with_capacity(N_FIELDS);
    for (f, field) in FIELDS.iter().enumerate() {
        let level = levels[f];
        let bf = log2_bf_tf(params, tf, f, level, name_level);
        weight += bf;
        comparisons.push(FieldComparison {
            field: field.as_str(),
            level: field
                .levels()
                .get(level as usize)
                .copied()
                .unwrap_or("else"),
            log2_bayes_factor: bf,
        });
    }
    Candidate {
        person_id: person_id.to_string(),
        match_weight: weight,
        match_probability: probability(weight),
        comparisons,
    }
}

/// Best first: by weight (a total order on floats), then person_id.
pub(crate) fn rank(candidates: &mut [Candidate]) {
    candidates.sort_by(|a, b| {
        b.match_weight
            .total_cmp(&a.match_weight)
            .then_with(|| a.person_id.cmp(&b.person_id))
    });
}

/// Why there are no candidates at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Empty {
    /// No blocking rule found anyone.
    NoneBlocked,
    /// Persons were found, but none has a period at the given insurer.
    NoneAtInsurer,
    /// Every block the patient opened was capped.
    AllCapped,
}

/// The decision for ranked candidates (best first); keeps the best few.
pub(crate) fn decide(
    mut ranked: Vec<Candidate>,
    config: &MatchConfig,
    empty: Empty,
) -> PatientResult {
    let Some(best) = ranked.first() else {
        let reason = match empty {
            Empty::NoneBlocked => "no roster person shares a blocking key with the patient",
            Empty::NoneAtInsurer => {
                "no roster person sharing a blocking key has a period at the insurer filed"
            }
            Empty::AllCapped => "every block the patient opened was too large (capped)",
        };
        return PatientResult {
            decision: Decision::NoMatch,
            candidates: Vec::new(),
            reason: reason.to_string(),
        };
    };
    let (w, p) = (best.match_weight, best.match_probability);
    let margin = ranked.get(1).map(|r| w - r.match_weight);
    let lead = match margin {
        Some(m) => format!("leads runner-up by {m:.1}"),
        None => "no runner-up".to_string(),
    };
    let (decision, reason) =
        if p >= config.accept_probability && margin.is_none_or(|m| m >= config.min_margin_bits) {
            (
                Decision::Matched,
                format!("best {w:.1} (p {}) {lead}", show_p(p)),
            )
        } else if p >= config.accept_probability {
            (
                Decision::Review,
                format!(
                    "best {w:.1} (p {}) {lead}, under the margin {:.1}: two candidates are close",
                    show_p(p),
                    config.min_margin_bits
                ),
            )
        } else if p >= config.review_probability {
            (
                Decision::Review,
                format!(
                    "best {w:.1} (p {}) is in the review band [{}, {}); {lead}",
                    show_p(p),
                    config.review_probability,
                    config.accept_probability
                ),
            )
        } else {
            (
                Decision::NoMatch,
                format!(
                    "best {w:.1} (p {}) is under the review band {}",
                    show_p(p),
                    config.review_probability
                ),
            )
        };
    ranked.truncate(MAX_REPORTED_CANDIDATES);
    PatientResult {
        decision,
        candidates: ranked,
        reason,
    }
}

/// A probability in words: 1 − 1e-6 shows as `1 - 1.0e-6`, so near-certainties stay
/// distinguishable.
fn show_p(p: f64) -> String {
    if p > 0.9995 {
        format!("1 - {:.1e}", 1.0 - p)
    } else {
        format!("{p:.3}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(id: &str, w: f64) -> Candidate {
        Candidate {
            person_id: id.into(),
            match_weight: w,
            match_probability: probability(w),
            comparisons: vec![],
        }
    }

    #[test]
    fn probability_is_logistic_in_bits() {
        assert_eq!(probability(0.0), 0.5);
        assert!((probability(10.0) - 1024.0 / 1025.0).abs() < 1e-12);
        assert!(probability(-2000.0) >= 0.0);
        assert!(probability(2000.0) <= 1.0);
    }

    #[test]
    fn ranking_breaks_ties_by_person_id() {
        let mut c = vec![cand("B", 3.0), cand("A", 3.0), cand("C", 9.0)];
        rank(&mut c);
        let ids: Vec<_> = c.iter().map(|c| c.person_id.as_str()).collect();
        assert_eq!(ids, ["C", "A", "B"]);
    }

    #[test]
    fn decisions() {
        let cfg = MatchConfig::default();
        let r = decide(
            vec![cand("A", 20.0), cand("B", 2.0)],
            &cfg,
            Empty::NoneBlocked,
        );
        assert_eq!(r.decision, Decision::Matched);
        assert!(r.reason.contains("leads runner-up by 18.0"), "{}", r.reason);
        let r = decide(
            vec![cand("A", 20.0), cand("B", 19.0)],
            &cfg,
            Empty::NoneBlocked,
        );
        assert_eq!(r.decision, Decision::Review);
        let r = decide(vec![cand("A", 1.0)], &cfg, Empty::NoneBlocked);
        assert_eq!(r.decision, Decision::Review);
        let r = decide(vec![cand("A", -5.0)], &cfg, Empty::NoneBlocked);
        assert_eq!(r.decision, Decision::NoMatch);
        let r = decide(vec![], &cfg, Empty::NoneAtInsurer);
        assert_eq!(r.decision, Decision::NoMatch);
        assert!(r.candidates.is_empty());
        let many = (0..9)
            .map(|i| cand(&format!("P{i}"), -(i as f64)))
            .collect();
        assert_eq!(decide(many, &cfg, Empty::NoneBlocked).candidates.len(), 5);
    }
}
