//! Tiers 1 and 2: receipts filed with a real insurer number and real 記号・番号.
//!
//! The card is looked up in the roster. A period of the card valid in the care month
//! verifies the receipt (tier 1). A card whose periods all lie outside the care month is
//! a past card (tier 2): its person is followed to the period valid in the care month,
//! and the receipt is re-routed to that insurer — or is pending when the person's
//! latest period ended before the care month (the new insurer has not registered yet).
//!
//! A receipt is compared at the granularity of its care month, since a receipt bills a
//! month of care: a period "valid in the care month" covers at least one of its days.
//! When a person has two periods in the month (a mid-month change), the later one is
//! the most recent insurer and is chosen, as the guidance asks for the most recent.

use chrono::{Datelike, NaiveDate};
use compact_str::CompactString;

use super::card_index::{CardIndex, CardKey, Period};
use super::normalize::{normalize_kana, normalize_kanji_name};
use super::outcome::{Reason, Resolution, Status};
use crate::config::IngestConfig;
use crate::domain::{CareDays, InsuranceKind, InsurerNumber, ReceiptKey, Sex, YearMonth};
use crate::ingest::uke::{InsurerField, Receipt};

/// How a receipt was filed, which decides the tier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filed {
    /// Real insurer number and 記号・番号 (tier 1 or 2); `branch` from SN 枝番.
    Card {
        insurer: InsurerNumber,
        key: CardKey,
        branch: Option<CompactString>,
    },
    /// Real insurer number, insured number unknown (filler or empty): tier 3 among
    /// that insurer's subscribers. A filler-looking number can be real (番号 `777`):
    /// `card` is what to look up first, and if the roster has that card, it is one.
    InsurerOnly {
        insurer: InsurerNumber,
        card: Option<(CardKey, Option<CompactString>)>,
    },
    /// Filler insurer number: tier 3.
    Unknown,
    /// No HO: a 公費-only receipt.
    PublicOnly,
}

/// Classifies a receipt by what its HO (and SN) carry.
pub fn classify(receipt: &Receipt, config: &IngestConfig) -> Filed {
    let Some(ho) = &receipt.insurance else {
        return Filed::PublicOnly;
    };
    match &ho.insurer {
        InsurerField::Filler(_) => Filed::Unknown,
        InsurerField::Known(insurer) => {
            let branch = receipt
                .confirmation
                .as_ref()
                .map(|sn| CompactString::from(sn.branch.trim()))
                .filter(|b| !b.is_empty());
            let key = CardKey::new(insurer.as_str(), &ho.symbol, &ho.number);
            if ho.number.trim().is_empty() {
                return Filed::InsurerOnly {
                    insurer: *insurer,
                    card: None,
                };
            }
            // 記号・番号 filled with 7s (or 番号 with 9s and no 記号) mean "unknown".
            let symbol_unknown =
                ho.symbol.trim().is_empty() || config.is_filler_insured(&ho.symbol);
            if config.is_filler_insured(&ho.number) && symbol_unknown {
                return Filed::InsurerOnly {
                    insurer: *insurer,
                    card: Some((key, branch)),
                };
            }
            Filed::Card {
                insurer: *insurer,
                key,
                branch,
            }
        }
    }
}

/// What card resolution reads of a receipt: the care month, and the patient's birth
/// date, sex and names to tell apart a family sharing a card.
#[derive(Debug, Clone, Copy)]
pub struct CardPatient<'a> {
    pub key: ReceiptKey,
    pub care_month: YearMonth,
    /// The days of care the receipt's records mark; none: the month rule.
    pub care_days: CareDays,
    pub birth_date: NaiveDate,
    pub sex: Sex,
    pub name: &'a str,
    pub kana_name: &'a str,
    /// HO 保険者番号 as written.
    pub filed_insurer: &'a str,
}

impl<'a> CardPatient<'a> {
    pub fn of(receipt: &'a Receipt) -> CardPatient<'a> {
        CardPatient {
            key: receipt.key,
            care_month: receipt.care_month,
            care_days: receipt.care_days,
            birth_date: receipt.birth_date,
            sex: receipt.sex,
            name: &receipt.name,
            kana_name: &receipt.kana_name,
            filed_insurer: filed_insurer(receipt),
        }
    }
}

/// The receipt's HO 保険者番号 as written (empty without HO).
pub fn filed_insurer(receipt: &Receipt) -> &str {
    match receipt.insurance.as_ref().map(|h| &h.insurer) {
        Some(InsurerField::Known(n)) => n.as_str(),
        Some(InsurerField::Filler(f)) => f,
        None => "",
    }
}

/// Resolves a receipt filed with a card (tiers 1 and 2).
pub fn resolve_card(
    receipt: &CardPatient<'_>,
    key: &CardKey,
    branch: Option<&str>,
    index: &CardIndex,
) -> Resolution {
    let first = receipt.care_month.first_day();
    let last = receipt.care_month.last_day();
    let mut out = Resolution {
        key: receipt.key,
        tier: 1,
        status: Status::NoMatch,
        resolved_insurer: None,
        person_id: None,
        copay_percent: None,
        care_date: first,
        score: None,
        declared_kind: InsuranceKind::Unknown,
        reason: Reason::None,
    };
    let mut rows: Vec<_> = index
        .card(key)
        .filter(|p| branch.is_none_or(|b| p.branch().is_some_and(|pb| same_branch(pb, b))))
        .collect();
    // An 枝番 on the receipt but none on the roster's card: the same card when the
    // person on it is the patient (birth date and sex, the name between several).
    let mut branch_note = None;
    if rows.is_empty() {
        if let Some(b) = branch {
            let unbranched: Vec<_> = index.card(key).filter(|p| p.branch().is_none()).collect();
            if let Some(person) = choose_by_demographics(receipt, &unbranched) {
                branch_note = Some(format!(
                    "SN 枝番 {b} against the roster's card without 枝番: the same person by birth date and sex"
                ));
                rows = unbranched
                    .into_iter()
                    .filter(|p| p.person_id == person)
                    .collect();
            }
        }
    }
    if rows.is_empty() {
        out.tier = 2;
        out.reason = Reason::Fixed(if branch.is_some() && index.card(key).next().is_some() {
            "the card is on the roster, but no one with its 枝番"
        } else {
            "the card (insurer number, 記号, 番号) is not on the roster"
        });
        return out;
    }
    // The persons on the card; a family shares one card when 枝番 is missing.
    let mut persons: Vec<&str> = rows.iter().map(|p| p.person_id).collect();
    persons.sort_unstable();
    persons.dedup();
    let (person, note) = match persons.as_slice() {
        [one] => (*one, branch_note),
        _ => match choose_by_demographics(receipt, &rows) {
            Some(p) => (
                p,
                Some(format!(
                    "{} persons share the card and no 枝番 was given: chosen by birth date, sex and name",
                    persons.len()
                )),
            ),
            None => {
                out.status = Status::Review;
                out.tier = 2;
                out.reason = format!(
                    "{} persons share the card and no 枝番 was given; none (or more than one) matches the patient's birth date and sex",
                    persons.len()
                )
                .into();
                return out;
            }
        },
    };
    out.person_id = Some(person.into());
    let with_note = |reason: String| -> Reason {
        match &note {
            Some(n) => format!("{reason}; {n}"),
            None => reason,
        }
        .into()
    };
    let on_card: Vec<&Period<'_>> = rows.iter().filter(|p| p.person_id == person).collect();
    let days: Vec<NaiveDate> = receipt.care_days.dates(receipt.care_month).collect();
    let valid_on_card = match days.last() {
        // The month rule: a period valid on some day of the month, the latest.
        None => on_card
            .iter()
            .filter(|p| p.overlaps(first, last))
            .max_by_key(|p| p.valid_from),
        // Every day of care on the card (one period, or several of the same card);
        // the period of the last day is the one the receipt is priced by.
        Some(last_day) => days
            .iter()
            .all(|d| on_card.iter().any(|p| p.covers(*d)))
            .then(|| {
                on_card
                    .iter()
                    .filter(|p| p.covers(*last_day))
                    .max_by_key(|p| p.valid_from)
            })
            .flatten(),
    };
    if let Some(p) = valid_on_card {
        route(&mut out, Status::Verified, p);
        let valid = Reason::CardValid {
            month: receipt.care_month,
            days: receipt.care_days,
            from: p.valid_from,
            to: p.valid_to,
        };
        out.reason = if note.is_some() {
            with_note(valid.to_string())
        } else {
            valid
        };
        return out;
    }
    out.tier = 2;
    let card_end = on_card.iter().filter_map(|p| p.valid_to).max();
    let past_card = match (days.is_empty(), on_card.iter().max_by_key(|p| p.valid_from)) {
        (false, Some(p)) => format!(
            "the card's period (from {}{}) does not cover every day of care",
            p.valid_from,
            until(p.valid_to)
        ),
        _ => match card_end {
            Some(end) => format!("past card (ended {end})"),
            None => "past card".to_string(),
        },
    };
    let periods: Vec<_> = index.person(person).collect();
    if days.is_empty() {
        follow_in_month(&mut out, receipt, &periods, &past_card);
    } else {
        follow_on_days(&mut out, receipt, &days, &periods, &past_card);
    }
    out.reason = with_note(out.reason.to_string());
    out
}

/// Tier 2 by the month rule (the receipt marks no day of care): the person's period
/// valid in the care month, the latest.
fn follow_in_month(
    out: &mut Resolution,
    receipt: &CardPatient<'_>,
    periods: &[Period<'_>],
    past_card: &str,
) {
    let (first, last) = (
        receipt.care_month.first_day(),
        receipt.care_month.last_day(),
    );
    let month = receipt.care_month;
    if let Some((a, b)) = conflicting_periods(periods, first, last) {
        // Two insurers at once: which one owes the claim is not the roster's latest
        // period's to say.
        out.status = Status::Review;
        out.reason = format!(
            "{past_card}; the person's periods valid in {month} overlap: {} and {} — which insurer owes the claim is for a person to decide",
            at_period(a),
            at_period(b),
        )
        .into();
        return;
    }
    if let Some(p) = periods
        .iter()
        .filter(|p| p.overlaps(first, last))
        .max_by_key(|p| p.valid_from)
    {
        route(out, Status::Rerouted, p);
        out.reason = format!(
            "{past_card}; no day of care recorded: the person's period valid in {month} is {}",
            at_period(p)
        )
        .into();
        return;
    }
    pending(out, periods, first, &month.to_string());
}

/// Tier 2 by the days of care: the person's periods on those days. One insurer on
/// every day re-routes the receipt; days on two insurers, or a day on two periods of
/// different insurers at once, go to review (a receipt bills one insurer: a clinic
/// files one per insurer, each with its own days); days on no period wait.
fn follow_on_days(
    out: &mut Resolution,
    receipt: &CardPatient<'_>,
    days: &[NaiveDate],
    periods: &[Period<'_>],
    past_card: &str,
) {
    let month = receipt.care_month;
    let on_days = format!("the days of care, {month}: {}", receipt.care_days);
    // The period of each day, the latest starting; a day on two insurers at once is
    // for a person to decide.
    let mut of_day: Vec<Option<&Period<'_>>> = Vec::with_capacity(days.len());
    for d in days {
        let mut on: Vec<&Period<'_>> = periods.iter().filter(|p| p.covers(*d)).collect();
        on.sort_by_key(|p| (p.valid_from, p.insurer));
        if let Some(b) = on.iter().find(|b| b.insurer != on[0].insurer) {
            out.status = Status::Review;
            out.reason = format!(
                "{past_card}; on {d}, a day of care, the person's periods overlap: {} and {} — which insurer owes the claim is for a person to decide",
                at_period(on[0]),
                at_period(b)
            )
            .into();
            return;
        }
        of_day.push(on.last().copied());
    }
    let mut insurers: Vec<InsurerNumber> = of_day.iter().flatten().map(|p| p.insurer).collect();
    insurers.sort_unstable();
    insurers.dedup();
    let uncovered: Vec<NaiveDate> = days
        .iter()
        .zip(&of_day)
        .filter(|(_, p)| p.is_none())
        .map(|(d, _)| *d)
        .collect();
    match (insurers.as_slice(), uncovered.first()) {
        ([_], None) => {
            let p = of_day.iter().flatten().last().copied();
            if let Some(p) = p {
                route(out, Status::Rerouted, p);
                out.reason = format!(
                    "{past_card}; {on_days} are on the person's period {}",
                    at_period(p)
                )
                .into();
            }
        }
        ([_, _, ..], None) => {
            let split: Vec<String> = insurers
                .iter()
                .map(|i| {
                    let mine: Vec<String> = days
                        .iter()
                        .zip(&of_day)
                        .filter(|(_, p)| p.is_some_and(|p| p.insurer == *i))
                        .map(|(d, _)| d.day().to_string())
                        .collect();
                    format!("days {} at {i}", mine.join(", "))
                })
                .collect();
            out.status = Status::Review;
            out.reason = format!(
                "{past_card}; {on_days} straddle the person's insurers ({}): a receipt bills one insurer, so the clinic should file one receipt per insurer — or a person decides",
                split.join("; ")
            )
            .into();
        }
        // Some day on no period (with all days covered, insurers cannot be empty).
        (_, Some(_)) | ([], None) => {
            let after = uncovered
                .last()
                .or(days.last())
                .copied()
                .unwrap_or(month.last_day());
            let listed: Vec<String> = uncovered.iter().map(|d| d.day().to_string()).collect();
            pending(
                out,
                periods,
                after,
                &format!("{month}'s days of care {}", listed.join(", ")),
            );
        }
    }
}

/// No period of the person covers `what` (the care month, or some days of care, up to
/// `until`): the claim waits for the roster — the new insurer has not registered yet,
/// or the roster has a gap.
fn pending(out: &mut Resolution, periods: &[Period<'_>], until: NaiveDate, what: &str) {
    let latest_end = periods.iter().filter_map(|p| p.valid_to).max();
    let all_closed = periods.iter().all(|p| p.valid_to.is_some());
    out.status = Status::Pending;
    out.reason = match (all_closed, latest_end) {
        (true, Some(end)) if end < until => format!(
            "the person's latest period ended {end}, before {what}: the new insurer has not registered yet"
        ),
        _ => format!("no period of the person covers {what}: a gap in the roster"),
    }
    .into();
}

/// The receipt goes to `p`'s insurer, priced by its copay.
fn route(out: &mut Resolution, status: Status, p: &Period<'_>) {
    out.status = status;
    out.resolved_insurer = Some(p.insurer);
    out.copay_percent = p.copay_percent;
}

/// A period as reasons show it: `at 06130015 from 2025-04-01 to 2026-05-14`.
fn at_period(p: &Period<'_>) -> String {
    format!(
        "at {} from {}{}",
        p.insurer,
        p.valid_from,
        until(p.valid_to)
    )
}

/// Two periods of a person at different insurers that both cover part of
/// `first..=last` and share a day with each other (in order of their start), if any:
/// a re-route would have to pick one silently.
fn conflicting_periods<'p, 'r>(
    periods: &'p [Period<'r>],
    first: NaiveDate,
    last: NaiveDate,
) -> Option<(&'p Period<'r>, &'p Period<'r>)> {
    let mut in_month: Vec<&Period<'r>> =
        periods.iter().filter(|p| p.overlaps(first, last)).collect();
    in_month.sort_by_key(|p| (p.valid_from, p.insurer));
    in_month.iter().enumerate().find_map(|(i, a)| {
        in_month[i + 1..]
            .iter()
            .find(|b| {
                b.insurer != a.insurer
                    && b.overlaps(a.valid_from, a.valid_to.unwrap_or(NaiveDate::MAX))
            })
            .map(|b| (*a, *b))
    })
}

fn until(to: Option<NaiveDate>) -> String {
    to.map(|d| format!(" to {d}")).unwrap_or_default()
}

/// 枝番 compared as numbers (`1` and `01` are the same).
fn same_branch(a: &str, b: &str) -> bool {
    a.trim().trim_start_matches('0') == b.trim().trim_start_matches('0')
}

/// Among persons sharing a card, the one whose birth date and sex are the patient's
/// (the name breaks a tie); `None` when none, or more than one, fits.
fn choose_by_demographics<'a>(
    receipt: &CardPatient<'_>,
    rows: &[super::card_index::Period<'a>],
) -> Option<&'a str> {
    let mut fits: Vec<&'a str> = rows
        .iter()
        .filter(|p| p.birth_date == receipt.birth_date && p.sex == receipt.sex)
        .map(|p| p.person_id)
        .collect();
    fits.sort_unstable();
    fits.dedup();
    if fits.len() > 1 {
        let name = normalize_kanji_name(receipt.name);
        let kana = normalize_kana(receipt.kana_name);
        fits = rows
            .iter()
            .filter(|p| fits.contains(&p.person_id))
            .filter(|p| {
                normalize_kanji_name(p.name()) == name
                    || (!kana.is_empty() && normalize_kana(p.name_kana()) == kana)
            })
            .map(|p| p.person_id)
            .collect();
        fits.sort_unstable();
        fits.dedup();
    }
    match fits.as_slice() {
        [one] => Some(one),
        _ => None,
    }
}
