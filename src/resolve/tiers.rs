//! The resolution stage over a month's accepted receipts: each receipt is classified by
//! what it was filed with and sent to its tier. Pure over the receipts and the roster,
//! so a partition of receipts with the roster rows their cards name is a self-contained
//! unit of work.

use std::collections::HashSet;

use rayon::prelude::*;

use super::card_index::{CardIndex, CardKey};
use super::outcome::{Resolution, Status};
use super::verify::{classify, filed_insurer, resolve_card, Filed};
use crate::config::IngestConfig;
use crate::ingest::roster::Roster;
use crate::ingest::uke::Receipt;

/// Resolves every receipt; the result is in the order of `receipts`, whatever the
/// number of threads.
pub fn resolve_receipts(
    receipts: &[&Receipt],
    roster: &Roster,
    config: &IngestConfig,
) -> Vec<Resolution> {
    let filed: Vec<Filed> = receipts.par_iter().map(|r| classify(r, config)).collect();
    let cards: HashSet<CardKey> = filed
        .iter()
        .filter_map(|f| match f {
            Filed::Card { key, .. } => Some(key.clone()),
            _ => None,
        })
        .collect();
    let index = CardIndex::build(roster, &cards);
    receipts
        .par_iter()
        .zip(filed.par_iter())
        .map(|(r, f)| match f {
            Filed::Card { key, branch, .. } => resolve_card(r, key, branch.as_deref(), &index),
            Filed::PublicOnly => unresolved(
                r,
                0,
                Status::PublicOnly,
                "no HO record: a 公費-only receipt, paid by its public payer",
            ),
            Filed::InsurerOnly(_) => unresolved(
                r,
                3,
                Status::NoMatch,
                "insured number unknown: awaiting tier-3 matching among the insurer's subscribers",
            ),
            Filed::Unknown => unresolved(
                r,
                3,
                Status::NoMatch,
                "insurer and insured numbers unknown: awaiting tier-3 matching",
            ),
        })
        .collect()
}

fn unresolved(r: &Receipt, tier: u8, status: Status, reason: &str) -> Resolution {
    Resolution {
        key: r.key,
        tier,
        status,
        filed_insurer: filed_insurer(r),
        resolved_insurer: None,
        person_id: None,
        period_line: None,
        copay_percent: None,
        reason: reason.to_string(),
    }
}
