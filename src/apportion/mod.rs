//! Apportionment (按分) of final-unresolved claims (DOMAIN §9): the insurer share
//! (cost − copay) of a claim that no insurer could be found for, after the hold, is
//! split among the insurers that plausibly owe it, exactly to the yen.
//!
//! Three pure pieces, composed by [`apportion_claim`]:
//!
//! 1. [`basis::eligible_insurers`] — who shares: the receiving organization's insurers,
//!    narrowed by the declared kind, within the clinic's prefecture (or national),
//!    widened when the prefecture has none.
//! 2. [`basis::basis_weights`] — in what proportion: resolved insurer-paid yen of the
//!    month (default) or `insured_count`, falling back to headcount, then equal shares,
//!    when every weight is 0.
//! 3. [`largest_remainder()`] — the rounding: whole yen, parts summing exactly to the
//!    amount, ties to the lower insurer number.
//!
//! Every rule that fires is reported in the [`Allocation`] (`scope_used`, `widened`,
//! `kind_dropped`, `basis_used`, `reason`), so an analyst re-running apportionment with
//! another basis or scope can see why two runs differ. The rules and their reasons are
//! in the module docs of [`basis`]; the output layout is `schemas/apportionment.md`.
//!
//! What this is not: it does not decide which claims are final-unresolved (the pending
//! ledger does, with [`ApportionConfig::is_final_unresolved`]), read or write files, or
//! compute the claims basis from receipts beyond summing what it is given
//! ([`basis::claims_basis`]). No floating point is used anywhere.

pub mod basis;
pub mod largest_remainder;
pub mod month;

use std::collections::HashMap;

use serde::Serialize;

use crate::domain::{InsuranceKind, InsurerNumber, Organization, Yen};
use crate::ingest::insurers::InsurerMaster;

pub use basis::{
    basis_weights, claims_basis, eligible_insurers, organization_kinds, ApportionConfig, Basis,
    BasisUsed, ClaimsBasis, Eligibility, InsurerIndex, Scope, Weights,
};
pub use largest_remainder::largest_remainder;
pub use month::{
    apportion_month, read_share_rows, ApportionedReceipt, MonthApportionment, ShareRow,
};

/// Why an amount could not be apportioned. Messages say what was wrong with which input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApportionError {
    #[error("cannot apportion a negative amount ({amount} yen)")]
    NegativeAmount { amount: Yen },
    #[error("cannot apportion {amount} yen among no parties")]
    NoParties { amount: Yen },
    #[error("cannot apportion {amount} yen: all {parties} parties have weight 0")]
    ZeroTotalWeight { amount: Yen, parties: usize },
    #[error("insurer {insurer} is given twice among the parties of an apportionment")]
    DuplicateInsurer { insurer: InsurerNumber },
    #[error(
        "no insurer to apportion among: the insurer master has no insurer served by {organization}"
    )]
    NoEligibleInsurer { organization: &'static str },
    #[error("resolved insurer-paid yen of insurer {insurer} is negative ({amount} yen); cannot be a basis")]
    NegativeBasis { insurer: InsurerNumber, amount: Yen },
    #[error("the {} basis of a claim totals {total}, above the u64 range", basis.as_str())]
    BasisOverflow { basis: BasisUsed, total: u128 },
}

/// What is known of a final-unresolved claim that decides who shares in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClaimContext {
    /// The organization that received the claim (IR field 2).
    pub organization: Organization,
    /// The declared insurance kind (`Unknown` when no declaration says).
    pub kind: InsuranceKind,
    /// The clinic's 都道府県 (IR field 3), `None` when unknown.
    pub prefecture: Option<u8>,
}

/// One insurer's part of a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Part {
    pub insurer: InsurerNumber,
    pub amount: Yen,
    /// The insurer's weight under the basis used; its exact share of the claim is
    /// `basis_value / Allocation::basis_total`.
    pub basis_value: u64,
}

/// A claim's insurer share split among insurers, with the rules that fired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Allocation {
    /// The amount apportioned; Σ parts = amount.
    pub amount: Yen,
    /// Eligible insurers with a positive basis, sorted by insurer number. An insurer
    /// whose share rounds to 0 yen is kept (its share is not 0); one whose basis is 0 is
    /// left out (counted in `zero_basis_insurers`).
    pub parts: Vec<Part>,
    pub basis_used: BasisUsed,
    /// Σ basis_value: the denominator of every share.
    pub basis_total: u64,
    pub scope_used: Scope,
    /// The configured scope was the prefecture; the insurers are national.
    pub widened: bool,
    /// The declared kind was not used (see [`Eligibility::kind_dropped`]).
    pub kind_dropped: bool,
    /// The kinds the insurers were drawn from.
    pub kinds: Vec<InsuranceKind>,
    /// Eligible insurers with basis 0, who get nothing and are not in `parts`.
    pub zero_basis_insurers: usize,
    /// The fallbacks that fired, in words; empty when the configuration applied as is.
    pub reason: String,
}

/// Apportions many claims against one master, claims basis and configuration. The
/// eligible insurers and weights depend only on the [`ClaimContext`], so they are
/// worked out once, up front, for every organization × kind × prefecture (01–47 and
/// unknown); each claim then costs one lookup and one [`largest_remainder()`]. The
/// result is the same as [`apportion_claim`]'s.
#[derive(Debug, Clone)]
pub struct Apportioner<'a> {
    index: InsurerIndex<'a>,
    claims: &'a ClaimsBasis,
    config: &'a ApportionConfig,
    plans: HashMap<ClaimContext, Result<Plan, ApportionError>>,
}

impl<'a> Apportioner<'a> {
    pub fn new(
        master: &'a InsurerMaster,
        claims: &'a ClaimsBasis,
        config: &'a ApportionConfig,
    ) -> Self {
        let index = InsurerIndex::new(master);
        let mut plans = HashMap::new();
        for organization in [Organization::ShiharaiKikin, Organization::Kokuhoren] {
            for kind in [
                InsuranceKind::Shaho,
                InsuranceKind::Kokuho,
                InsuranceKind::Koki,
                InsuranceKind::Other,
                InsuranceKind::Unknown,
            ] {
                for prefecture in std::iter::once(None).chain((1..=47).map(Some)) {
                    let claim = ClaimContext {
                        organization,
                        kind,
                        prefecture,
                    };
                    plans.insert(claim, plan(&index, claims, config, &claim));
                }
            }
        }
        Apportioner {
            index,
            claims,
            config,
            plans,
        }
    }

    /// See [`apportion_claim`].
    pub fn apportion(
        &self,
        amount: Yen,
        claim: &ClaimContext,
    ) -> Result<Allocation, ApportionError> {
        match self.plans.get(claim) {
            Some(p) => allocate(p.as_ref().map_err(Clone::clone)?, amount),
            // A prefecture code outside 01–47: worked out on the spot.
            None => allocate(&plan(&self.index, self.claims, self.config, claim)?, amount),
        }
    }
}

/// Apportions `amount` (a final-unresolved claim's insurer share) for `claim`: the
/// eligible insurers ([`eligible_insurers`]) under `config.scope`, weighted by
/// `config.basis` ([`basis_weights`], with `claims` the month's resolved insurer-paid
/// yen), split by [`largest_remainder()`].
///
/// For many claims use an [`Apportioner`], which works out each context's insurers
/// and weights once.
///
/// # Errors
/// A negative amount; an organization with no insurer in the master at all; a negative
/// or overflowing basis.
pub fn apportion_claim(
    amount: Yen,
    claim: &ClaimContext,
    master: &InsurerMaster,
    claims: &ClaimsBasis,
    config: &ApportionConfig,
) -> Result<Allocation, ApportionError> {
    allocate(
        &plan(&InsurerIndex::new(master), claims, config, claim)?,
        amount,
    )
}

/// Everything of an allocation but the amount: the parties and the rules that fired.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Plan {
    /// Eligible insurers with a positive basis, sorted by insurer number.
    positive: Vec<(InsurerNumber, u64)>,
    basis_used: BasisUsed,
    basis_total: u64,
    scope_used: Scope,
    widened: bool,
    kind_dropped: bool,
    kinds: Vec<InsuranceKind>,
    zero_basis_insurers: usize,
    reason: String,
}

fn plan(
    index: &InsurerIndex<'_>,
    claims: &ClaimsBasis,
    config: &ApportionConfig,
    claim: &ClaimContext,
) -> Result<Plan, ApportionError> {
    let eligibility = index.eligible(
        claim.organization,
        claim.kind,
        claim.prefecture,
        config.scope,
    );
    if eligibility.insurers.is_empty() {
        return Err(ApportionError::NoEligibleInsurer {
            organization: basis::organization_name(claim.organization),
        });
    }
    let weights = basis_weights(&eligibility.insurers, config.basis, index.master(), claims)?;
    let positive: Vec<(InsurerNumber, u64)> = weights
        .weights
        .iter()
        .copied()
        .filter(|&(_, w)| w > 0)
        .collect();
    let reason = [eligibility.reason.as_str(), weights.reason.as_str()]
        .into_iter()
        .filter(|r| !r.is_empty())
        .collect::<Vec<_>>()
        .join("; ");
    Ok(Plan {
        zero_basis_insurers: weights.weights.len() - positive.len(),
        positive,
        basis_used: weights.basis_used,
        basis_total: weights.total,
        scope_used: eligibility.scope_used,
        widened: eligibility.widened,
        kind_dropped: eligibility.kind_dropped,
        kinds: eligibility.kinds,
        reason,
    })
}

fn allocate(plan: &Plan, amount: Yen) -> Result<Allocation, ApportionError> {
    let split = largest_remainder(amount, &plan.positive)?;
    // Both `plan.positive` and `split` are sorted by insurer number, one entry each.
    let parts = split
        .into_iter()
        .zip(&plan.positive)
        .map(|((insurer, amount), &(_, basis_value))| Part {
            insurer,
            amount,
            basis_value,
        })
        .collect();
    Ok(Allocation {
        amount,
        parts,
        basis_used: plan.basis_used,
        basis_total: plan.basis_total,
        scope_used: plan.scope_used,
        widened: plan.widened,
        kind_dropped: plan.kind_dropped,
        kinds: plan.kinds.clone(),
        zero_basis_insurers: plan.zero_basis_insurers,
        reason: plan.reason.clone(),
    })
}
