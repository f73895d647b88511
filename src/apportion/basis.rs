//! Who shares in an apportionment and in what proportion (DOMAIN §9): the
//! configuration (`[apportion]`), the eligible insurers of a claim, and their weights.
//!
//! The seed says only "apportion among insurers, referring to the handling in
//! disasters". Every choice made here is therefore explicit, configurable where it is
//! a policy, and reported with each allocation so an analyst can see which rule fired:
//!
//! - **Who.** The insurers the *receiving organization* serves — 支払基金 pays for
//!   employee insurance (`shaho`) and the other national schemes (`other`: 自衛官 and the
//!   like); 国保連 for `kokuho` and `koki`. The organization is the one fact every
//!   receipt carries for certain (the clinic filed with it), and its money flows only
//!   to its own insurers, so apportioning across organizations would need a settlement
//!   between them that does not exist.
//! - **Narrowed by kind.** A declared kind the organization serves narrows the set (a
//!   patient who said 後期 shares among 後期 unions, not 国保). A kind the organization
//!   does not serve (a 支払基金 receipt declared `kokuho`) contradicts where the clinic
//!   filed; the filing wins, the organization's kinds are used, and the reason says so.
//!   `unknown` means the organization's kinds.
//! - **Where.** Within the clinic's prefecture ([`Scope::Prefecture`], the default:
//!   patients mostly belong to insurers near where they are treated) or nationally. If no
//!   insurer is eligible in the prefecture (or the prefecture is unknown), the scope is
//!   widened to national, and the allocation says it was. If the kind-narrowed set is
//!   empty even nationally, the kind narrowing is dropped (the organization's kinds,
//!   again prefecture first) and that is said too: the kind is more specific than the
//!   geography, so geography gives way first.
//! - **How much.** In proportion to [`Basis::Claims`] (default: each insurer's resolved
//!   insurer-paid yen in the month — who pays most for what is known pays most for what
//!   is not) or [`Basis::Headcount`] (`insured_count` of the master). When every
//!   eligible insurer has a claims basis of 0 (a quiet prefecture, a first month), the
//!   basis falls back to headcount; when every headcount is 0 as well, to equal shares.
//!   Each fallback is named in the allocation.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::domain::{InsuranceKind, InsurerNumber, Organization, YearMonth, Yen};
use crate::ingest::insurers::InsurerMaster;

use super::ApportionError;

/// `[apportion]` of the run configuration. `ApportionConfig::default()` is the
/// documented default; every key may be left out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApportionConfig {
    /// What an insurer's share is proportional to: `claims` (default) or `headcount`.
    pub basis: Basis,
    /// Which insurers share: `prefecture` (default: the clinic's) or `national`.
    pub scope: Scope,
    /// Months a tier-2/3 claim stays pending (retried against each new roster) before
    /// it is final-unresolved and apportioned. Default 3.
    pub hold_months: u32,
}

impl Default for ApportionConfig {
    fn default() -> Self {
        ApportionConfig {
            basis: Basis::Claims,
            scope: Scope::Prefecture,
            hold_months: 3,
        }
    }
}

impl ApportionConfig {
    /// Whether a claim first left open in the run for `first_pending` and still
    /// unresolved in the run for `run_month` is final-unresolved: at least
    /// `hold_months` run months have passed. With the default 3, a claim first open in
    /// the 2026-05 run is retried in the 06 and 07 runs and apportioned in the 2026-08
    /// run.
    pub fn is_final_unresolved(&self, first_pending: YearMonth, run_month: YearMonth) -> bool {
        i64::from(first_pending.months_until(run_month)) >= i64::from(self.hold_months)
    }
}

/// What an insurer's share of an unresolved claim is proportional to.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// The insurer's resolved insurer-paid yen (sum of `insurer_share_yen` of its
    /// verified, rerouted and matched receipts) in the month.
    Claims,
    /// The insurer's `insured_count` in the insurer master.
    Headcount,
}

/// The basis actually used for an allocation: the configured one, or a fallback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BasisUsed {
    Claims,
    Headcount,
    /// Every eligible insurer had a basis of 0: equal shares (weight 1 each).
    Equal,
}

impl BasisUsed {
    pub fn as_str(self) -> &'static str {
        match self {
            BasisUsed::Claims => "claims",
            BasisUsed::Headcount => "headcount",
            BasisUsed::Equal => "equal",
        }
    }
}

impl From<Basis> for BasisUsed {
    fn from(b: Basis) -> Self {
        match b {
            Basis::Claims => BasisUsed::Claims,
            Basis::Headcount => BasisUsed::Headcount,
        }
    }
}

/// Which insurers may share in a claim.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Insurers of the clinic's prefecture (the master's `prefecture`).
    Prefecture,
    /// Insurers of every prefecture.
    National,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Prefecture => "prefecture",
            Scope::National => "national",
        }
    }
}

/// Resolved insurer-paid yen of the month, by insurer: the [`Basis::Claims`] input.
pub type ClaimsBasis = BTreeMap<InsurerNumber, Yen>;

/// Sums resolved receipts' insurer shares by insurer into a [`ClaimsBasis`]. The caller
/// passes (resolved insurer, insurer_share_yen) of every verified, rerouted and matched
/// receipt of the month.
pub fn claims_basis<I>(resolved: I) -> ClaimsBasis
where
    I: IntoIterator<Item = (InsurerNumber, Yen)>,
{
    let mut out = ClaimsBasis::new();
    for (n, y) in resolved {
        *out.entry(n).or_default() += y;
    }
    out
}

/// The kinds of insurance an organization pays for: 支払基金 `shaho` and `other`,
/// 国保連 `kokuho` and `koki`.
pub fn organization_kinds(organization: Organization) -> &'static [InsuranceKind] {
    match organization {
        Organization::ShiharaiKikin => &[InsuranceKind::Shaho, InsuranceKind::Other],
        Organization::Kokuhoren => &[InsuranceKind::Kokuho, InsuranceKind::Koki],
    }
}

/// Short name of an organization for reasons and errors.
pub fn organization_name(organization: Organization) -> &'static str {
    match organization {
        Organization::ShiharaiKikin => "支払基金",
        Organization::Kokuhoren => "国保連",
    }
}

/// The insurers eligible to share in one claim, and how they were found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Eligibility {
    /// Sorted by insurer number; empty only when the organization serves no insurer in
    /// the master at all.
    pub insurers: Vec<InsurerNumber>,
    /// The kinds the insurers were drawn from.
    pub kinds: Vec<InsuranceKind>,
    /// The scope the insurers were drawn from (national when widened).
    pub scope_used: Scope,
    /// The configured scope was prefecture but the insurers are national.
    pub widened: bool,
    /// The declared kind was not used (not served by the organization, or no insurer of
    /// that kind in the master).
    pub kind_dropped: bool,
    /// Which rules fired, in words; empty when none did (the configured scope and the
    /// declared kind, or the organization's kinds for `unknown`, were used as is).
    pub reason: String,
}

/// The insurer master grouped by (kind, prefecture), for finding eligible insurers of
/// many claims without scanning the whole master each time.
#[derive(Debug, Clone)]
pub struct InsurerIndex<'m> {
    master: &'m InsurerMaster,
    by_kind_prefecture: HashMap<(InsuranceKind, u8), Vec<InsurerNumber>>,
    by_kind: HashMap<InsuranceKind, Vec<InsurerNumber>>,
}

impl<'m> InsurerIndex<'m> {
    pub fn new(master: &'m InsurerMaster) -> Self {
        let mut by_kind_prefecture: HashMap<_, Vec<_>> = HashMap::new();
        let mut by_kind: HashMap<_, Vec<_>> = HashMap::new();
        // The master iterates in insurer-number order, so every list is sorted.
        for ins in master.iter() {
            by_kind_prefecture
                .entry((ins.kind, ins.prefecture))
                .or_default()
                .push(ins.number);
            by_kind.entry(ins.kind).or_default().push(ins.number);
        }
        InsurerIndex {
            master,
            by_kind_prefecture,
            by_kind,
        }
    }

    pub fn master(&self) -> &'m InsurerMaster {
        self.master
    }

    /// Insurers of `kinds` in `prefecture` (`None`: every prefecture), sorted.
    fn lookup(&self, kinds: &[InsuranceKind], prefecture: Option<u8>) -> Vec<InsurerNumber> {
        let mut out: Vec<InsurerNumber> = Vec::new();
        for &k in kinds {
            let list = match prefecture {
                Some(p) => self.by_kind_prefecture.get(&(k, p)),
                None => self.by_kind.get(&k),
            };
            out.extend(list.into_iter().flatten());
        }
        if kinds.len() > 1 {
            out.sort_unstable();
        }
        out
    }

    /// See [`eligible_insurers`].
    pub fn eligible(
        &self,
        organization: Organization,
        kind: InsuranceKind,
        prefecture: Option<u8>,
        scope: Scope,
    ) -> Eligibility {
        let org_kinds = organization_kinds(organization);
        let org = organization_name(organization);
        let mut reasons: Vec<String> = Vec::new();

        // The kinds to draw from: the declared kind when the organization serves it.
        let declared: Option<&'static [InsuranceKind]> = match kind {
            InsuranceKind::Unknown => None,
            k => match org_kinds.iter().position(|&o| o == k) {
                Some(i) => Some(&org_kinds[i..=i]),
                None => {
                    reasons.push(format!(
                        "declared kind {k} is not served by {org}; used {org}'s kinds ({})",
                        kinds_text(org_kinds)
                    ));
                    None
                }
            },
        };
        let mut kind_dropped = kind != InsuranceKind::Unknown && declared.is_none();

        // Attempts in order: declared kind (prefecture, national), then the
        // organization's kinds (prefecture, national).
        let mut attempts: Vec<(&[InsuranceKind], Scope)> = Vec::with_capacity(4);
        for kinds in declared.into_iter().chain(std::iter::once(org_kinds)) {
            if scope == Scope::Prefecture {
                attempts.push((kinds, Scope::Prefecture));
            }
            attempts.push((kinds, Scope::National));
        }

        for &(kinds, attempt_scope) in &attempts {
            let pref = match attempt_scope {
                Scope::National => None,
                Scope::Prefecture => match prefecture {
                    Some(p) => Some(p),
                    None => continue,
                },
            };
            let insurers = self.lookup(kinds, pref);
            if insurers.is_empty() {
                continue;
            }
            if declared.is_some() && kinds == org_kinds {
                kind_dropped = true;
                reasons.push(format!(
                    "no {kind} insurer in the master; used {org}'s kinds ({})",
                    kinds_text(org_kinds)
                ));
            }
            let widened = scope == Scope::Prefecture && attempt_scope == Scope::National;
            if widened {
                reasons.push(match prefecture {
                    Some(p) => format!(
                        "no {} insurer in prefecture {p:02}; widened to national",
                        kinds_text(kinds)
                    ),
                    None => "clinic prefecture unknown; widened to national".to_string(),
                });
            }
            return Eligibility {
                insurers,
                kinds: kinds.to_vec(),
                scope_used: attempt_scope,
                widened,
                kind_dropped,
                reason: reasons.join("; "),
            };
        }
        reasons.push(format!(
            "the insurer master has no {} insurer",
            kinds_text(org_kinds)
        ));
        Eligibility {
            insurers: Vec::new(),
            kinds: org_kinds.to_vec(),
            scope_used: Scope::National,
            widened: scope == Scope::Prefecture,
            kind_dropped: kind != InsuranceKind::Unknown,
            reason: reasons.join("; "),
        }
    }
}

fn kinds_text(kinds: &[InsuranceKind]) -> String {
    kinds
        .iter()
        .map(|k| k.as_str())
        .collect::<Vec<_>>()
        .join("/")
}

/// The insurers that share in a claim received by `organization`, declared of `kind`,
/// from a clinic in `prefecture` (`None` when unknown), under `scope` — with the rules
/// of the module documentation: the organization's kinds narrowed by a served declared
/// kind; the prefecture first, widened to national when it has none; the declared kind
/// dropped only when no insurer of it exists nationally.
///
/// For many claims, build an [`InsurerIndex`] once and call [`InsurerIndex::eligible`].
pub fn eligible_insurers(
    master: &InsurerMaster,
    organization: Organization,
    kind: InsuranceKind,
    prefecture: Option<u8>,
    scope: Scope,
) -> Eligibility {
    InsurerIndex::new(master).eligible(organization, kind, prefecture, scope)
}

/// Per-insurer weights of one claim, and the basis they came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Weights {
    /// One entry per eligible insurer, in the order given (sorted by insurer number
    /// when it comes from [`Eligibility`]); a weight may be 0.
    pub weights: Vec<(InsurerNumber, u64)>,
    pub basis_used: BasisUsed,
    /// Σ weights, the denominator of every share.
    pub total: u64,
    /// Why the basis used is not the configured one; empty when it is.
    pub reason: String,
}

/// Weights of `insurers` under `basis`: resolved insurer-paid yen from `claims` (an
/// insurer absent from it has 0) or `insured_count` from `master` (an insurer absent
/// from it has 0). All zero under claims → headcount; all zero under headcount →
/// equal (1 each); the reason names the fallback.
///
/// # Errors
/// An insurer with negative resolved yen (an upstream bug: loud, never clamped), or a
/// total above `u64::MAX`.
pub fn basis_weights(
    insurers: &[InsurerNumber],
    basis: Basis,
    master: &InsurerMaster,
    claims: &ClaimsBasis,
) -> Result<Weights, ApportionError> {
    let mut reasons: Vec<String> = Vec::new();
    let mut used = BasisUsed::from(basis);
    if used == BasisUsed::Claims {
        let weights = claims_weights(insurers, claims)?;
        if let Some(w) = finish(weights, used, &reasons)? {
            return Ok(w);
        }
        reasons.push("every eligible insurer has 0 resolved yen; used headcount".to_string());
        used = BasisUsed::Headcount;
    }
    let weights: Vec<(InsurerNumber, u64)> = insurers
        .iter()
        .map(|&n| (n, master.get(&n).map_or(0, |i| i.insured_count)))
        .collect();
    if let Some(w) = finish(weights, used, &reasons)? {
        return Ok(w);
    }
    reasons.push("every eligible insurer has insured_count 0; split equally".to_string());
    let weights = insurers.iter().map(|&n| (n, 1)).collect();
    Ok(
        finish(weights, BasisUsed::Equal, &reasons)?.unwrap_or_else(|| Weights {
            weights: Vec::new(),
            basis_used: BasisUsed::Equal,
            total: 0,
            reason: reasons.join("; "),
        }),
    )
}

fn claims_weights(
    insurers: &[InsurerNumber],
    claims: &ClaimsBasis,
) -> Result<Vec<(InsurerNumber, u64)>, ApportionError> {
    insurers
        .iter()
        .map(|&n| {
            let y = claims.get(&n).copied().unwrap_or_default();
            u64::try_from(y.0)
                .map(|w| (n, w))
                .map_err(|_| ApportionError::NegativeBasis {
                    insurer: n,
                    amount: y,
                })
        })
        .collect()
}

/// `Some` when the weights have a positive total.
fn finish(
    weights: Vec<(InsurerNumber, u64)>,
    basis_used: BasisUsed,
    reasons: &[String],
) -> Result<Option<Weights>, ApportionError> {
    let total: u128 = weights.iter().map(|&(_, w)| u128::from(w)).sum();
    if total == 0 {
        return Ok(None);
    }
    let total = u64::try_from(total).map_err(|_| ApportionError::BasisOverflow {
        basis: basis_used,
        total,
    })?;
    Ok(Some(Weights {
        weights,
        basis_used,
        total,
        reason: reasons.join("; "),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::insurers::Insurer;

    fn master(rows: &[(&str, InsuranceKind, u8, u64)]) -> InsurerMaster {
        let insurers = rows
            .iter()
            .map(|&(n, kind, prefecture, insured_count)| {
                let number = InsurerNumber::parse(n).unwrap();
                let i = Insurer {
                    number,
                    name: String::new(),
                    kind,
                    prefecture,
                    insured_count,
                };
                (number, i)
            })
            .collect();
        InsurerMaster { insurers }
    }

    #[test]
    fn organizations_serve_disjoint_kinds_covering_all_known_kinds() {
        let a = organization_kinds(Organization::ShiharaiKikin);
        let b = organization_kinds(Organization::Kokuhoren);
        assert!(a.iter().all(|k| !b.contains(k)));
        assert_eq!(a.len() + b.len(), 4);
        assert!(!a.contains(&InsuranceKind::Unknown) && !b.contains(&InsuranceKind::Unknown));
        assert_eq!(kinds_text(b), "kokuho/koki");
    }

    #[test]
    fn two_kinds_merge_in_insurer_number_order() {
        let m = master(&[
            ("39130000", InsuranceKind::Koki, 13, 1),
            ("131045", InsuranceKind::Kokuho, 13, 1),
            ("133017", InsuranceKind::Kokuho, 13, 1),
        ]);
        let index = InsurerIndex::new(&m);
        let got = index.lookup(organization_kinds(Organization::Kokuhoren), Some(13));
        let got: Vec<&str> = got.iter().map(|n| n.as_str()).collect();
        assert_eq!(got, ["131045", "133017", "39130000"]);
    }

    #[test]
    fn a_zero_total_falls_through_and_a_huge_one_is_refused() {
        let n = |s| InsurerNumber::parse(s).unwrap();
        assert_eq!(
            finish(vec![(n("131045"), 0)], BasisUsed::Claims, &[]),
            Ok(None)
        );
        let huge = vec![(n("131045"), u64::MAX), (n("271007"), 1)];
        assert!(matches!(
            finish(huge, BasisUsed::Headcount, &[]),
            Err(ApportionError::BasisOverflow { .. })
        ));
    }
}
