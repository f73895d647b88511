//! The resolution stage over a month's accepted receipts: each receipt is classified by
//! what it was filed with and sent to its tier. Pure over the receipts, the roster and
//! the declarations, so a partition of receipts with the roster rows they need is a
//! self-contained unit of work.

use rayon::prelude::*;

use super::card_index::CardIndex;
use super::card_resolution::{resolve_card, Filed};
use super::claim::Claim;
use super::declared::{declared, join_declarations};
use super::matcher::MatchRun;
use super::outcome::{Reason, Resolution, Status};
use super::tier3::{resolve_tier3, MatchContext, Tier3Case};
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
pub fn resolve_receipts<'r>(
    receipts: &[&'r Claim],
    declarations: Declarations<'_>,
    matching: MatchContext<'_>,
) -> Resolved {
    let cards = receipts.iter().filter_map(|c| match &c.filed {
        Filed::Card { key, .. }
        | Filed::InsurerOnly {
            card: Some((key, _)),
            ..
        } => Some(key),
        _ => None,
    });
    let index = CardIndex::build(matching.roster, cards);
    tracing::info!(periods = index.len(), "card index built");
    // The card each receipt is resolved with: its own, or a filler-looking 番号 that the
    // roster has as a real card.
    let card_of = |c: &'r Claim| match &c.filed {
        Filed::Card { key, branch, .. } => Some((key, branch.as_deref())),
        Filed::InsurerOnly {
            card: Some((key, branch)),
            ..
        } if index.card(key).next().is_some() => Some((key, branch.as_deref())),
        _ => None,
    };
    // Tier 3: the rest filed with an insurer or a filler (each keeps its parsed
    // receipt, see `Claim::new`).
    let tier3: Vec<(usize, &Receipt)> = receipts
        .iter()
        .enumerate()
        .filter(|(_, c)| matches!(c.filed, Filed::Unknown | Filed::InsurerOnly { .. }))
        .filter(|(_, c)| card_of(c).is_none())
        .filter_map(|(i, c)| c.parsed().map(|r| (i, r)))
        .collect();
    let tier3_receipts: Vec<&Receipt> = tier3.iter().map(|&(_, r)| r).collect();
    let (forms, notices) = join_declarations(&tier3_receipts, declarations.rows, declarations.file);
    let cases: Vec<Tier3Case<'_>> = tier3
        .par_iter()
        .zip(forms.par_iter())
        .map(|(&(i, r), form)| Tier3Case {
            receipt: r,
            declared: declared(r, form.map(|f| &declarations.rows[f])),
            within_insurer: match &receipts[i].filed {
                Filed::InsurerOnly { insurer, .. } => Some(*insurer),
                _ => None,
            },
        })
        .collect();
    // Tiers 0–2 first, and the card index dropped before matching: a national month's
    // index and the matcher's candidates would not fit together. One vector, tier-3
    // places filled in after (a month is millions of receipts: no second copy of them).
    let mut resolutions: Vec<Resolution> = receipts
        .par_iter()
        .map(|c| match (card_of(c), &c.filed) {
            (Some((key, branch)), _) => resolve_card(&c.card_patient(), key, branch, &index),
            (None, Filed::PublicOnly) => unresolved(
                c,
                0,
                Status::PublicOnly,
                Reason::Fixed("no HO record: a 公費-only receipt, paid by its public payer"),
            ),
            (None, _) => unresolved(c, 3, Status::NoMatch, Reason::None),
        })
        .collect();
    drop(index);
    let (tier3_resolutions, match_run) = resolve_tier3(&cases, matching);
    tracing::info!(patients = cases.len(), "tier 3 matched");
    for (&(i, _), res) in tier3.iter().zip(tier3_resolutions) {
        resolutions[i] = res;
    }
    Resolved {
        resolutions,
        notices,
        tier3_receipts: tier3.len() as u64,
        tier3_without_declaration: forms.iter().filter(|f| f.is_none()).count() as u64,
        match_run,
        tier3_keys: tier3.iter().map(|&(_, r)| r.key).collect(),
        tier3_forms: forms,
    }
}

fn unresolved(c: &Claim, tier: u8, status: Status, reason: Reason) -> Resolution {
    Resolution {
        key: c.key,
        tier,
        status,
        resolved_insurer: None,
        person_id: None,
        copay_percent: None,
        care_date: c.card_patient().care_month.first_day(),
        score: None,
        declared_kind: crate::domain::InsuranceKind::Unknown,
        reason,
    }
}
