//! Tier 3: receipts filed with the numbers unknown. The patient, as declared, is
//! matched against the roster (see [`super::matcher`]); a matched person is then
//! followed to the period valid on the date of care — the declaration's confirmation
//! date when given, else the care month. When the person's periods all ended before
//! it, the new insurer has not registered yet: the receipt is pending, never guessed.

use chrono::NaiveDate;

use super::card_index::{CardIndex, Period};
use super::declared::Declared;
use super::matcher::{match_patients, Decision, MatchConfig, MatchModel, MatchRun, Patient};
use super::outcome::{MatchScore, Resolution, Status};
use crate::domain::{InsurerNumber, YearMonth};
use crate::ingest::insurers::InsurerMaster;
use crate::ingest::roster::Roster;
use crate::ingest::uke::Receipt;

/// One tier-3 receipt with what its patient declared.
#[derive(Debug, Clone)]
pub struct Tier3Case<'a> {
    pub receipt: &'a Receipt,
    pub declared: Declared,
    /// The real insurer number when only the insured number is unknown.
    pub within_insurer: Option<InsurerNumber>,
}

/// The roster, insurer master and matching settings tier 3 works with.
#[derive(Clone, Copy)]
pub struct MatchContext<'a> {
    pub roster: &'a Roster,
    pub insurers: &'a InsurerMaster,
    pub config: &'a MatchConfig,
    /// A model to use instead of training one.
    pub model: Option<&'a MatchModel>,
}

/// Resolves the tier-3 receipts (results in the order given) and returns the match
/// run, whose candidates and model go into the match report.
pub fn resolve_tier3(
    cases: &[Tier3Case<'_>],
    ctx: MatchContext<'_>,
) -> (Vec<Resolution>, MatchRun) {
    let patients: Vec<Patient> = cases.iter().map(patient).collect();
    let run = match_patients(&patients, ctx.roster, ctx.insurers, ctx.config, ctx.model);
    let persons: Vec<&str> = run
        .results
        .iter()
        .filter(|r| r.decision == Decision::Matched)
        .filter_map(|r| r.candidates.first().map(|c| c.person_id.as_str()))
        .collect();
    let index = CardIndex::build_with_persons(ctx.roster, [], &persons);
    let resolutions = cases
        .iter()
        .zip(&run.results)
        .map(|(case, result)| {
            let r = case.receipt;
            let best = result.candidates.first();
            let mut out = Resolution {
                key: r.key,
                tier: 3,
                status: Status::NoMatch,
                resolved_insurer: None,
                person_id: None,
                copay_percent: None,
                care_date: case
                    .declared
                    .confirmation_date
                    .unwrap_or_else(|| r.care_month.first_day()),
                score: best.map(|c| {
                    Box::new(MatchScore {
                        weight: c.match_weight,
                        probability: c.match_probability,
                    })
                }),
                declared_kind: case.declared.insurance_kind,
                reason: result.reason.clone().into(),
            };
            match (result.decision, best) {
                (Decision::Matched, Some(best)) => {
                    out.person_id = Some(best.person_id.as_str().into());
                    let periods: Vec<Period> = index.person(&best.person_id).collect();
                    match period_on(&periods, case.declared.confirmation_date, r.care_month) {
                        Some(p) => {
                            out.status = Status::Matched;
                            out.resolved_insurer = Some(p.insurer);
                            out.copay_percent = p.copay_percent;
                            out.reason = format!(
                                "{}; period at {} from {}{}",
                                result.reason,
                                p.insurer,
                                p.valid_from,
                                p.valid_to.map(|d| format!(" to {d}")).unwrap_or_default()
                            )
                            .into();
                        }
                        None => {
                            out.status = Status::Pending;
                            let latest = periods.iter().filter_map(|p| p.valid_to).max();
                            out.reason = format!(
                                "{}; no period covers {}{}",
                                result.reason,
                                case.declared
                                    .confirmation_date
                                    .map(|d| d.to_string())
                                    .unwrap_or_else(|| r.care_month.to_string()),
                                latest
                                    .map(|d| format!(
                                        ": the latest ended {d}, the new insurer has not registered yet"
                                    ))
                                    .unwrap_or_default()
                            )
                            .into();
                        }
                    }
                }
                (Decision::Review, _) => out.status = Status::Review,
                _ => out.status = Status::NoMatch,
            }
            out
        })
        .collect();
    (resolutions, run)
}

fn patient(case: &Tier3Case<'_>) -> Patient {
    let d = &case.declared;
    Patient {
        name: d.name.clone(),
        kana: d.kana.clone(),
        birth_date: d.birth_date,
        sex: d.sex,
        address: d.address.clone(),
        insurer_name: d.insurer_name.clone(),
        employer: d.employer.clone(),
        phone: d.phone.clone(),
        insurance_kind: d.insurance_kind,
        within_insurer: case.within_insurer,
    }
}

/// The period valid on the day (when known) or in the month; of two, the later.
fn period_on<'p>(
    periods: &[Period<'p>],
    day: Option<NaiveDate>,
    month: YearMonth,
) -> Option<Period<'p>> {
    periods
        .iter()
        .filter(|p| match day {
            Some(day) => p.covers(day),
            None => p.overlaps(month.first_day(), month.last_day()),
        })
        .max_by_key(|p| p.valid_from)
        .copied()
}
