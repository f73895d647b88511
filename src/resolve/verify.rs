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

use chrono::NaiveDate;
use compact_str::CompactString;

use super::card_index::{CardIndex, CardKey, Period};
use super::normalize::{normalize_kana, normalize_kanji_name};
use super::outcome::{Reason, Resolution, Status};
use crate::config::IngestConfig;
use crate::domain::{InsuranceKind, InsurerNumber, ReceiptKey, Sex, YearMonth};
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
    let on_card_in_month = rows
        .iter()
        .filter(|p| p.person_id == person && p.overlaps(first, last))
        .max_by_key(|p| p.valid_from);
    let with_note = |reason: String| -> Reason {
        match &note {
            Some(n) => format!("{reason}; {n}"),
            None => reason,
        }
        .into()
    };
    if let Some(p) = on_card_in_month {
        out.status = Status::Verified;
        out.resolved_insurer = Some(p.insurer);
        out.copay_percent = p.copay_percent;
        let valid = Reason::CardValid {
            month: receipt.care_month,
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
    let card_end = rows
        .iter()
        .filter(|p| p.person_id == person)
        .filter_map(|p| p.valid_to)
        .max();
    let periods: Vec<_> = index.person(person).collect();
    if let Some((a, b)) = conflicting_periods(&periods, first, last) {
        // Two insurers at once: which one owes the claim is not the roster's latest
        // period's to say.
        out.status = Status::Review;
        out.reason = with_note(format!(
            "past card; the person's periods valid in {} overlap: at {} from {}{} and at {} from {}{} — which insurer owes the claim is for a person to decide",
            receipt.care_month,
            a.insurer,
            a.valid_from,
            until(a.valid_to),
            b.insurer,
            b.valid_from,
            until(b.valid_to)
        ));
        return out;
    }
    if let Some(p) = periods
        .iter()
        .filter(|p| p.overlaps(first, last))
        .max_by_key(|p| p.valid_from)
    {
        out.status = Status::Rerouted;
        out.resolved_insurer = Some(p.insurer);
        out.copay_percent = p.copay_percent;
        out.reason = with_note(format!(
            "past card (ended {}); the person's period valid in {} is at {} from {}{}",
            card_end
                .map(|d| d.to_string())
                .unwrap_or_else(|| "before the care month".into()),
            receipt.care_month,
            p.insurer,
            p.valid_from,
            until(p.valid_to)
        ));
        return out;
    }
    let latest_end = periods.iter().filter_map(|p| p.valid_to).max();
    let all_closed = periods.iter().all(|p| p.valid_to.is_some());
    out.status = Status::Pending;
    out.reason = with_note(match (all_closed, latest_end) {
        (true, Some(end)) if end < first => format!(
            "the person's latest period ended {end}, before {}: the new insurer has not registered yet",
            receipt.care_month
        ),
        _ => format!(
            "no period of the person covers {}: a gap in the roster",
            receipt.care_month
        ),
    });
    out
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
