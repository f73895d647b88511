//! The resolution stage over a month's accepted receipts: each receipt is classified by
//! what it was filed with and sent to its tier. Pure over the receipts, the roster and
//! the declarations, so a partition of receipts with the roster rows they need is a
//! self-contained unit of work.

use rayon::prelude::*;

use super::card_index::CardIndex;
use super::declared::{declared, join_declarations};
use super::matcher::MatchRun;
use super::outcome::{Resolution, Status};
use super::tier3::{resolve_tier3, MatchContext, Tier3Case};
use super::verify::{classify, filed_insurer, resolve_card, Filed};
use crate::config::IngestConfig;
use crate::ingest::declarations::Declaration;
use crate::ingest::uke::Receipt;
use crate::validate::QuarantineRow;

/// What resolution decided, with what it has to report.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// One per receipt, in the order given.
    pub resolutions: Vec<Resolution>,
    /// Declarations that fit no tier-3 receipt, or several.
    pub notices: Vec<QuarantineRow>,
    pub tier3_receipts: u64,
    pub tier3_without_declaration: u64,
    /// The tier-3 match: candidates, model, blocking counts; its results are in the
    /// order of `tier3_keys`.
    pub match_run: MatchRun,
    pub tier3_keys: Vec<crate::domain::ReceiptKey>,
    /// For each of `tier3_keys`, the declaration joined to it (an index into the
    /// declarations given), if any.
    pub tier3_forms: Vec<Option<usize>>,
}

/// The month's declarations, as read.
#[derive(Debug, Clone, Copy)]
pub struct Declarations<'a> {
    pub rows: &'a [Declaration],
    /// The file they came from, for reports.
    pub file: &'a str,
}

/// Resolves every receipt; the result is in the order of `receipts`, whatever the
/// number of threads.
pub fn resolve_receipts(
    receipts: &[&Receipt],
    declarations: Declarations<'_>,
    matching: MatchContext<'_>,
    config: &IngestConfig,
) -> Resolved {
    let filed: Vec<Filed> = receipts.par_iter().map(|r| classify(r, config)).collect();
    tracing::debug!(receipts = filed.len(), "receipts classified");
    let cards = filed.iter().filter_map(|f| match f {
        Filed::Card { key, .. }
        | Filed::InsurerOnly {
            card: Some((key, _)),
            ..
        } => Some(key),
        _ => None,
    });
    let index = CardIndex::build(matching.roster, cards);
    tracing::info!(periods = index.len(), "card index built");
    // A filler-looking 番号 that the roster has as a real card is that card.
    let filed: Vec<Filed> = filed
        .into_iter()
        .map(|f| match f {
            Filed::InsurerOnly {
                insurer,
                card: Some((key, branch)),
            } if index.card(&key).next().is_some() => Filed::Card {
                insurer,
                key,
                branch,
            },
            other => other,
        })
        .collect();

    let tier3: Vec<usize> = filed
        .iter()
        .enumerate()
        .filter(|(_, f)| matches!(f, Filed::Unknown | Filed::InsurerOnly { .. }))
        .map(|(i, _)| i)
        .collect();
    let tier3_receipts: Vec<&Receipt> = tier3.iter().map(|&i| receipts[i]).collect();
    let (forms, notices) = join_declarations(&tier3_receipts, declarations.rows, declarations.file);
    let cases: Vec<Tier3Case<'_>> = tier3
        .par_iter()
        .zip(forms.par_iter())
        .map(|(&i, form)| Tier3Case {
            receipt: receipts[i],
            declared: declared(receipts[i], form.map(|f| &declarations.rows[f])),
            within_insurer: match &filed[i] {
                Filed::InsurerOnly { insurer, .. } => Some(*insurer),
                _ => None,
            },
        })
        .collect();
    let (tier3_resolutions, match_run) = resolve_tier3(&cases, matching);
    tracing::info!(patients = cases.len(), "tier 3 matched");

    // One vector, tier-3 places filled in after (a month is millions of receipts: no
    // second copy of them).
    let mut resolutions: Vec<Resolution> = receipts
        .par_iter()
        .zip(filed.par_iter())
        .map(|(r, f)| match f {
            Filed::Card { key, branch, .. } => resolve_card(r, key, branch.as_deref(), &index),
            Filed::PublicOnly => unresolved(
                r,
                0,
                Status::PublicOnly,
                "no HO record: a 公費-only receipt, paid by its public payer".into(),
            ),
            Filed::InsurerOnly { .. } | Filed::Unknown => {
                unresolved(r, 3, Status::NoMatch, String::new())
            }
        })
        .collect();
    for (&i, res) in tier3.iter().zip(tier3_resolutions) {
        resolutions[i] = res;
    }
    Resolved {
        resolutions,
        notices,
        tier3_receipts: tier3.len() as u64,
        tier3_without_declaration: forms.iter().filter(|f| f.is_none()).count() as u64,
        match_run,
        tier3_keys: tier3.iter().map(|&i| receipts[i].key).collect(),
        tier3_forms: forms,
    }
}

fn unresolved(r: &Receipt, tier: u8, status: Status, reason: String) -> Resolution {
    Resolution {
        key: r.key,
        tier,
        status,
        filed_insurer: filed_insurer(r),
        resolved_insurer: None,
        person_id: None,
        period_line: None,
        copay_percent: None,
        care_date: r.care_month.first_day(),
        match_weight: None,
        match_probability: None,
        declared_kind: crate::domain::InsuranceKind::Unknown,
        reason,
    }
}
