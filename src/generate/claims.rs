//! The month's receipts: who went to which clinic, how the clinic billed it (tier 1, 2
//! or 3 and the sub-cases), the UKE records that result, what the engine should
//! conclude (truth) and the declaration rows of tier-3 receipts.
//!
//! Planning is one pass over the people (pools by situation) and one draw per receipt;
//! writing goes clinic by clinic, each clinic with its own random stream (seeded from
//! the run seed and the clinic), so a file's content depends only on its clinic's plan.

use std::collections::HashSet;

use chrono::{Datelike, NaiveDate};
use compact_str::{format_compact, CompactString};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::clinics::{Clinic, Clinics};
use super::declarations::DeclarationRow;
use super::insurers::{check_digit_of, organization_of, Registry, Scheme};
use super::kana::fullwidth_digits;
use super::names::{cumulative_of, pick_cum};
use super::people::{age_on, days, mix, Role, World, NO_BRANCH, NO_SYMBOL};
use super::rates;
use super::selfreport::{
    date_written, employer_of, employer_written, identity, insurer_name_written, kind_written,
    Identity,
};
use super::truth::{Expected, TruthRow};
use crate::domain::{CareDays, InsuranceKind, Organization, Points, ReceiptKey, Yen};
use crate::ingest::uke::model::{
    ClinicHeader, Comment, EligibilityConfirmation, HealthInsurance, InsurerField, OtherRecords,
    PublicExpense, Receipt,
};
use crate::ingest::uke::ReceiptKind;

/// How a receipt was billed and what should become of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Case {
    T1,
    T2Reroute,
    T2Pending,
    T3Matched,
    T3InsurerKnown,
    T3Pending,
    T3NoMatch,
}

impl Case {
    pub fn tier(self) -> u8 {
        match self {
            Case::T1 => 1,
            Case::T2Reroute | Case::T2Pending => 2,
            _ => 3,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filler {
    /// 77777777.
    Sevens,
    /// 77777779 (passes the check digit).
    SevensCheck,
    /// 99999999 (disaster handling).
    Nines,
}

impl Filler {
    fn text(self) -> &'static str {
        match self {
            Filler::Sevens => "77777777",
            Filler::SevensCheck => "77777779",
            Filler::Nines => "99999999",
        }
    }
}

pub const NONE: u32 = u32::MAX;

/// One planned receipt.
#[derive(Debug, Clone)]
pub struct Spec {
    pub person: u32,
    pub case: Case,
    /// Period whose numbers are written in HO (tier 1: the current one; tier 2: an old one).
    pub filed: u32,
    /// The period really valid on the date of care.
    pub current: u32,
    pub clinic: u32,
    pub org: Organization,
    pub care_date: NaiveDate,
    pub inpatient: bool,
    pub filler: Filler,
    pub declared: InsuranceKind,
    pub order: u64,
}

struct Pool {
    ids: Vec<u32>,
    cum: Vec<f64>,
}

impl Pool {
    fn new() -> Pool {
        Pool {
            ids: Vec::new(),
            cum: Vec::new(),
        }
    }

    fn push(&mut self, id: u32, w: f64) {
        let acc = self.cum.last().copied().unwrap_or(0.0);
        self.ids.push(id);
        self.cum.push(acc + w);
    }

    fn pick(&self, rng: &mut ChaCha8Rng) -> Option<u32> {
        (!self.ids.is_empty()).then(|| self.ids[pick_cum(rng, &self.cum)])
    }
}

/// How often people of an age see a doctor, relative to each other.
fn visit_weight(age: i32) -> f64 {
    match age {
        0..=5 => 1.6,
        6..=14 => 0.9,
        15..=39 => 0.6,
        40..=64 => 0.9,
        65..=74 => 1.8,
        _ => 2.5,
    }
}

/// The month's receipts, planned.
pub fn plan(
    rng: &mut ChaCha8Rng,
    world: &World,
    reg: &Registry,
    clinics: &Clinics,
    receipts: usize,
    tier2: f64,
    tier3: f64,
) -> Vec<Spec> {
    let dates = world.dates;
    let (mut t1, mut t2, mut lag, mut absent) =
        (Pool::new(), Pool::new(), Pool::new(), Pool::new());
    for p in 0..world.persons.len() {
        let Some(cur) = world.period_on(p, dates.care_start) else {
            continue;
        };
        let period = &world.periods[cur];
        if !period.covers_range(dates.care_start, dates.care_end) {
            continue;
        }
        let w = visit_weight(age_on(world.persons[p].birth, dates.care_start));
        let ps = world.periods_of(p);
        let old = ps
            .iter()
            .any(|q| q.on_roster && q.to.is_some_and(|t| t < dates.care_start));
        if period.on_roster {
            t1.push(p as u32, w);
            if old {
                let recent = period.from >= days(dates.care_start, -183);
                t2.push(p as u32, w * if recent { 25.0 } else { 1.0 });
            }
        } else if ps.iter().any(|q| q.on_roster) {
            if old {
                lag.push(p as u32, w);
            }
        } else {
            absent.push(p as u32, w);
        }
    }

    let n2 = ((receipts as f64) * tier2).round() as usize;
    let n3 = (((receipts as f64) * tier3).round() as usize).min(receipts - n2.min(receipts));
    let n2 = n2.min(receipts);
    let n1 = receipts - n2 - n3;
    let n2p = ((n2 as f64) * rates::TIER2_PENDING).round() as usize;
    let split = |n: usize, w: &[f64]| -> Vec<usize> {
        let mut out: Vec<usize> = w
            .iter()
            .map(|x| ((n as f64) * x).round() as usize)
            .collect();
        let s: usize = out.iter().sum();
        let last = out.len() - 1;
        out[last] = (out[last] + n).saturating_sub(s);
        out
    };
    let t3 = split(n3, &rates::TIER3_CASES);
    let mut cases: Vec<(Case, usize)> = vec![
        (Case::T1, n1),
        (Case::T2Reroute, n2 - n2p),
        (Case::T2Pending, n2p),
        (Case::T3Matched, t3[0]),
        (Case::T3InsurerKnown, t3[1]),
        (Case::T3Pending, t3[2]),
        (Case::T3NoMatch, t3[3]),
    ];
    let filler_cum = cumulative_of(&rates::FILLERS);
    let mut seen: HashSet<(u32, u32, u8)> = HashSet::new();
    let mut specs = Vec::with_capacity(receipts);
    for (case, n) in cases.drain(..) {
        for _ in 0..n {
            // A case the pools cannot serve (tiny runs: nobody left who fits, or every
            // such person already at the clinics drawn) falls back to a nearby one.
            let mut case = Some(case);
            while let Some(c) = case {
                let pool = match c {
                    Case::T1 | Case::T3Matched | Case::T3InsurerKnown => &t1,
                    Case::T2Reroute => &t2,
                    Case::T2Pending | Case::T3Pending => &lag,
                    Case::T3NoMatch => &absent,
                };
                let mut placed = false;
                for _attempt in 0..20 {
                    let Some(person) = pool.pick(rng) else { break };
                    let Some(spec) = spec_for(rng, world, reg, clinics, person, c, &filler_cum)
                    else {
                        continue;
                    };
                    if seen.insert((spec.person, spec.clinic, spec.org.code())) {
                        specs.push(spec);
                        placed = true;
                        break;
                    }
                }
                case = match (placed, c) {
                    (true, _) => None,
                    (_, Case::T2Pending) => Some(Case::T2Reroute),
                    (_, Case::T2Reroute) => Some(Case::T1),
                    (_, Case::T3NoMatch) => Some(Case::T3Pending),
                    (_, Case::T3Pending) => Some(Case::T3Matched),
                    (_, Case::T3InsurerKnown) => Some(Case::T3Matched),
                    (_, Case::T3Matched) => Some(Case::T1),
                    (_, Case::T1) => None,
                };
            }
        }
    }
    specs.sort_by_key(|s| (s.clinic, s.org, s.order));
    specs
}

fn spec_for(
    rng: &mut ChaCha8Rng,
    world: &World,
    reg: &Registry,
    clinics: &Clinics,
    person: u32,
    case: Case,
    filler_cum: &[f64],
) -> Option<Spec> {
    let dates = world.dates;
    let p = person as usize;
    let current = world.period_on(p, dates.care_start)? as u32;
    let cur = &world.periods[current as usize];
    let filed = match case {
        Case::T1 => current,
        Case::T2Reroute | Case::T2Pending => {
            let s = world.persons[p].periods_start as usize;
            let old: Vec<usize> = world
                .periods_of(p)
                .iter()
                .enumerate()
                .filter(|(_, q)| q.on_roster && q.to.is_some_and(|t| t < dates.care_start))
                // A past period under the very card the person holds now (back at the
                // same 国保, say) is no past card: filed under it, the receipt is tier 1.
                .filter(|(_, q)| {
                    (q.insurer, q.symbol, q.number) != (cur.insurer, cur.symbol, cur.number)
                })
                .map(|(i, _)| s + i)
                .collect();
            // `?` on both arms: a person may have no past card at all (the draw is
            // made first either way, so the same seed makes the same month).
            let i = if rng.random_bool(0.8) {
                *old.last()?
            } else {
                *old.get(rng.random_range(0..old.len().max(1)))?
            };
            i as u32
        }
        _ => NONE,
    };
    let true_kind = reg.insurers[usize::from(cur.insurer)].kind();
    let declared = if rng.random_bool(rates::DECLARED_KIND_UNKNOWN) {
        InsuranceKind::Unknown
    } else if rng.random_bool(rates::DECLARED_KIND_WRONG) {
        [
            InsuranceKind::Shaho,
            InsuranceKind::Kokuho,
            InsuranceKind::Koki,
        ]
        .into_iter()
        .find(|k| *k != true_kind)
        .unwrap_or(InsuranceKind::Unknown)
    } else {
        true_kind
    };
    let org = match case {
        Case::T1 | Case::T3InsurerKnown => reg.insurers[usize::from(cur.insurer)].organization(),
        Case::T2Reroute | Case::T2Pending => {
            reg.insurers[usize::from(world.periods[filed as usize].insurer)].organization()
        }
        _ => match declared {
            InsuranceKind::Unknown => {
                if rng.random_bool(0.5) {
                    Organization::ShiharaiKikin
                } else {
                    Organization::Kokuhoren
                }
            }
            k => organization_of(k),
        },
    };
    let pref = world.addresses[world.persons[p].address as usize].prefecture();
    let clinic = clinics.pick(rng, pref);
    let hospital = clinics.clinics[clinic as usize].hospital;
    let dpc_hospital = clinics.clinics[clinic as usize].kind == ReceiptKind::Dpc;
    let inpatient_rate = if dpc_hospital {
        rates::INPATIENT_AT_DPC_HOSPITAL
    } else {
        rates::INPATIENT_AT_HOSPITAL
    };
    let n_days = dates.care_end.day();
    Some(Spec {
        person,
        case,
        filed,
        current,
        clinic,
        org,
        care_date: days(dates.care_start, i64::from(rng.random_range(0..n_days))),
        inpatient: hospital
            && ((dpc_hospital && clinics.dpc_stays_only) || rng.random_bool(inpatient_rate)),
        filler: [Filler::Sevens, Filler::SevensCheck, Filler::Nines][pick_cum(rng, filler_cum)],
        declared,
        order: rng.random(),
    })
}

/// Everything known while building receipts.
pub struct Ctx<'a> {
    pub world: &'a World,
    pub reg: &'a Registry,
    pub seed: u64,
    /// (insurer, symbol, number) of roster rows, sorted: for family sizes.
    families: Vec<(u16, u32, u32, u32)>,
}

impl<'a> Ctx<'a> {
    pub fn new(world: &'a World, reg: &'a Registry, seed: u64) -> Ctx<'a> {
        let mut families: Vec<(u16, u32, u32, u32)> = Vec::with_capacity(world.periods.len());
        for p in 0..world.persons.len() {
            for q in world.periods_of(p) {
                if q.on_roster {
                    families.push((q.insurer, q.symbol, q.number, p as u32));
                }
            }
        }
        families.sort_unstable();
        families.dedup();
        Ctx {
            world,
            reg,
            seed,
            families,
        }
    }

    /// How many different persons the roster has under the period's 記号・番号.
    fn family_size(&self, period: u32) -> usize {
        let q = &self.world.periods[period as usize];
        let key = (q.insurer, q.symbol, q.number);
        let lo = self.families.partition_point(|f| (f.0, f.1, f.2) < key);
        let hi = self.families.partition_point(|f| (f.0, f.1, f.2) <= key);
        hi - lo
    }

    pub fn clinic_rng(&self, clinic: u32, salt: u64) -> ChaCha8Rng {
        ChaCha8Rng::seed_from_u64(mix(self.seed ^ mix(u64::from(clinic) << 8 ^ salt)))
    }

    fn symbol_text(&self, period: u32) -> String {
        let q = &self.world.periods[period as usize];
        if q.symbol == NO_SYMBOL {
            String::new()
        } else {
            self.reg.symbols[q.symbol as usize].clone()
        }
    }

    fn number_text(&self, period: u32) -> String {
        let q = &self.world.periods[period as usize];
        self.reg.insurers[usize::from(q.insurer)].format_number(q.number)
    }
}

/// A receipt built, with its truth row and maybe a declaration.
pub struct Built {
    pub receipt: Receipt,
    pub truth: TruthRow,
    pub declaration: Option<DeclarationRow>,
}

/// Orders one clinic's two files so that no tier-3 receipt of the 国保連 file has the
/// number of a tier-3 receipt of the 支払基金 file: the declarations key has no
/// organization, and two declarations must not share a key.
pub fn separate_tier3_numbers(first: &[Spec], second: &mut [Spec]) {
    let taken: HashSet<usize> = first
        .iter()
        .enumerate()
        .filter(|(_, s)| s.case.tier() == 3)
        .map(|(i, _)| i)
        .collect();
    for i in 0..second.len() {
        if second[i].case.tier() == 3 && taken.contains(&i) {
            if let Some(j) =
                (0..second.len()).find(|&j| second[j].case.tier() != 3 && !taken.contains(&j))
            {
                second.swap(i, j);
            }
        }
    }
}

/// The days of care of a receipt, `visits` of them: from its care date, an
/// inpatient's stay or an outpatient's visits spread over the rest of the month (a
/// pharmacy's dispensing days at most two), placed by a hash of the receipt (not the
/// month's random stream, so that placing them changed no other draw). The person's
/// period covers the whole care month (people picked for receipts do), so every day
/// lies on the card the truth names. Days that would fall past the month's end are
/// dropped, so the set may hold fewer.
fn care_days(spec: &Spec, kind: ReceiptKind, visits: u32, salt: u64) -> CareDays {
    let h = mix(u64::from(spec.person) << 24 ^ u64::from(spec.clinic) ^ salt << 48);
    let first = spec.care_date.day();
    let month_days = crate::domain::YearMonth::of(spec.care_date)
        .last_day()
        .day();
    let days: Vec<u32> = if spec.inpatient {
        (first..=(first + visits.max(1) - 1).min(month_days)).collect()
    } else {
        let visits = if kind == ReceiptKind::Chozai {
            visits.clamp(1, 2)
        } else {
            visits.max(1)
        };
        let step = 3 + (h >> 8) as u32 % 5;
        (0..visits)
            .map(|i| first + i * step)
            .filter(|d| *d <= month_days)
            .collect()
    };
    days.into_iter()
        .fold(CareDays::NONE, |set, d| set.with(d).unwrap_or(set))
}

/// The records a receipt of `kind` carries beyond what the engine reads, by count: 医科
/// SY, SI, IY, TO (with DPC's BU, SB, HH and CD for an inpatient at a DPC hospital);
/// 歯科 HS, SS, IY; 調剤 SH, one CZ per dispensing day, IY. The 医科 draws are made for
/// every kind, so that the month's random stream does not depend on the mix.
fn detail_records(
    rng: &mut ChaCha8Rng,
    kind: ReceiptKind,
    inpatient: bool,
    days: u32,
) -> OtherRecords {
    let (sy, si, iy, to) = if inpatient {
        (
            rng.random_range(2..=6),
            rng.random_range(6..=20),
            rng.random_range(4..=15),
            rng.random_range(0..=2),
        )
    } else {
        (
            rng.random_range(1..=4),
            rng.random_range(1..=5),
            rng.random_range(0..=4),
            0,
        )
    };
    let counts: Vec<(&str, u32)> = match kind {
        ReceiptKind::Ika => vec![("SY", sy), ("SI", si), ("IY", iy), ("TO", to)],
        ReceiptKind::Dpc if inpatient => vec![
            ("SY", sy),
            ("BU", 1),
            ("SB", 1),
            ("HH", 1),
            ("CD", si.min(days.max(1))),
            ("SI", si),
            ("IY", iy),
            ("TO", to),
        ],
        ReceiptKind::Dpc => vec![("SY", sy), ("SI", si), ("IY", iy), ("TO", to)],
        ReceiptKind::Shika => vec![("SY", sy), ("HS", sy), ("SS", si), ("IY", iy.min(2))],
        ReceiptKind::Chozai => vec![("SH", sy.min(3)), ("CZ", days.max(1)), ("IY", si.min(4))],
    };
    let mut other = OtherRecords::new();
    for (id, n) in counts {
        if n > 0 {
            other.insert(id, n);
        }
    }
    other
}

/// A random value of a log-normal distribution.
fn lognormal(rng: &mut ChaCha8Rng, median: f64, sigma: f64) -> f64 {
    let u1: f64 = rng.random::<f64>().max(1e-12);
    let u2: f64 = rng.random();
    let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
    median * (sigma * z).exp()
}

/// レセプト種別: 1 医科, 2nd digit 1 医保 / 3 後期, 3rd digit 1 単独 / 2 with one 公費,
/// 4th digit the patient category (odd = 入院).
fn receipt_type(kind: ReceiptKind, koki: bool, ko: bool, category: u8, inpatient: bool) -> String {
    // category: 0 本人, 1 未就学者, 2 家族, 3 高齢受給者一般/後期一般, 4 7割.
    let (outp, inp) = [(2, 1), (4, 3), (6, 5), (8, 7), (0, 9)][usize::from(category.min(4))];
    // The first digit is the 点数表: 1 医科 (and DPC), 3 歯科, 4 調剤 (always 外来).
    let (table, inpatient) = match kind {
        ReceiptKind::Ika | ReceiptKind::Dpc => (1, inpatient),
        ReceiptKind::Shika => (3, inpatient),
        ReceiptKind::Chozai => (4, false),
    };
    format!(
        "{table}{}{}{}",
        if koki { 3 } else { 1 },
        if ko { 2 } else { 1 },
        if inpatient { inp } else { outp }
    )
}

fn filler_digits(c: char, len: usize, fullwidth: bool) -> String {
    let s: String = std::iter::repeat_n(c, len).collect();
    if fullwidth {
        fullwidth_digits(&s)
    } else {
        s
    }
}

/// A number with a check digit appended (公費負担者番号, 受給者番号).
fn with_check(body: String) -> String {
    let c = check_digit_of(&body);
    format!("{body}{c}")
}

const NOISE_COMMENTS: &[&str] = &[
    "他院より紹介",
    "症状詳記は別紙参照",
    "月途中より当院へ転医",
    "時間外受診",
    "前回処方と同一",
    "検査結果説明のため再診",
];

/// Labels of the 摘要 items, in the variants clinics use.
const LABELS: [&[&str]; 7] = [
    &["カナ氏名", "フリガナ", "カナ", "氏名カナ"],
    &["保険種別", "保険の種類", "種別", "保険種類"],
    &["保険者等名称", "保険者名", "保険者", "加入保険"],
    &["事業所名", "勤務先", "事業所", "会社名"],
    &["住所", "現住所", "住所", "居所"],
    &["連絡先", "電話", "TEL", "電話番号"],
    &["連絡日", "確認日", "連絡した日", "連絡年月日"],
];

const MARKERS: &[&str] = &[
    "不詳",
    "被保険者番号等不詳",
    "不詳（資格確認できず）",
    "保険者番号・被保険者番号不詳",
];

fn labelled(style: u8, label: &str, value: &str) -> String {
    match style {
        0 => format!("{label}：{value}"),
        1 => format!("{label}:{value}"),
        2 => format!("【{label}】{value}"),
        3 => value.to_string(),
        _ => format!("{label}　{value}"),
    }
}

impl<'a> Ctx<'a> {
    /// Builds one receipt of a file.
    pub fn build(
        &self,
        rng: &mut ChaCha8Rng,
        spec: &Spec,
        key: ReceiptKey,
        clinic: &Clinic,
        file: &str,
    ) -> Built {
        let w = self.world;
        let dates = w.dates;
        let p = spec.person as usize;
        let person = &w.persons[p];
        let cur = &w.periods[spec.current as usize];
        let cur_ins = &self.reg.insurers[usize::from(cur.insurer)];
        let age = age_on(person.birth, spec.care_date);
        let tier = spec.case.tier();
        let mut notes: Vec<String> = Vec::new();

        // What the patient says (tier 3), independently for the receipt and the form.
        let said = (tier == 3).then(|| identity(rng, w, p, true));
        let form = (tier == 3).then(|| identity(rng, w, p, false));

        // Copay the clinic used: the card's (tier 1/2), or what the patient declared.
        let true_copay = cur.copay;
        let declared_copay = if age >= 70 && rng.random_bool(rates::DECLARED_COPAY_WRONG) {
            [10u8, 20, 30]
                .into_iter()
                .filter(|&c| c != true_copay)
                .nth(rng.random_range(0..2))
                .unwrap_or(true_copay)
        } else {
            true_copay
        };
        let copay_used = if tier == 3 {
            declared_copay
        } else {
            true_copay
        };
        if tier == 3 && declared_copay != true_copay {
            notes.push("declared_copay_differs".into());
        }

        // Points and days.
        let (points, days_n) = if spec.inpatient {
            let pts = lognormal(rng, 42_000.0, 0.7).clamp(8_000.0, 400_000.0) as i64;
            (pts, rng.random_range(2..=30))
        } else {
            let pts = lognormal(rng, 650.0, 0.65).clamp(120.0, 9_000.0) as i64;
            let mut d = 1;
            while d < 8 && rng.random_bool(0.45) {
                d += 1;
            }
            (pts, d)
        };

        let care_days = care_days(spec, clinic.kind, days_n, u64::from(key.receipt_number));
        // 診療実日数 (調剤: 処方箋受付回数): the days of care.
        let days_n = care_days.len();

        // HO.
        let fw = clinic.fullwidth;
        let fwd = |s: String| if fw { fullwidth_digits(&s) } else { s };
        let (insurer_field, symbol, number, filed_text) = match spec.case {
            Case::T1 | Case::T2Reroute | Case::T2Pending => {
                let q = &w.periods[spec.filed as usize];
                let n = self.reg.insurers[usize::from(q.insurer)].number;
                (
                    InsurerField::Known(n),
                    fwd(self.symbol_text(spec.filed)),
                    fwd(self.number_text(spec.filed)),
                    n.as_str().to_string(),
                )
            }
            Case::T3InsurerKnown => {
                notes.push("insurer_known_insured_unknown".into());
                (
                    InsurerField::Known(cur_ins.number),
                    String::new(),
                    filler_digits('9', 9, fw),
                    cur_ins.number.as_str().to_string(),
                )
            }
            _ => {
                let f = spec.filler.text();
                notes.push(format!("filler:{f}"));
                let real = spec.filler == Filler::Nines
                    && spec.case == Case::T3Matched
                    && rng.random_bool(rates::DISASTER_WITH_NUMBERS);
                let (s, n) = if real {
                    notes.push("disaster_numbers_known".into());
                    (
                        fwd(self.symbol_text(spec.current)),
                        fwd(self.number_text(spec.current)),
                    )
                } else {
                    let d = if spec.filler == Filler::Nines {
                        '9'
                    } else {
                        '7'
                    };
                    let slen = [4, 6, 7, 8]
                        [(mix(u64::from(clinic.code.as_str().as_bytes()[6])) % 4) as usize];
                    (filler_digits(d, slen, fw), filler_digits(d, 8, fw))
                };
                (InsurerField::Filler(f.into()), s, n, f.to_string())
            }
        };
        let filed_is_kokuho = matches!(&insurer_field, InsurerField::Known(n) if n.is_kokuho());
        let cost = points * 10;
        let copay_yen =
            if spec.inpatient && cost > 300_000 && rng.random_bool(rates::HIGH_COST_COPAY) {
                let cap = if age >= 70 {
                    57_600
                } else {
                    80_100 + (cost - 267_000) / 100
                };
                (cap < cost * i64::from(copay_used) / 100).then_some(Yen(cap))
            } else {
                None
            };
        if copay_yen.is_some() {
            notes.push("high_cost_copay_recorded".into());
        }
        let insurance = HealthInsurance {
            line: 0,
            insurer: insurer_field,
            symbol: symbol.into(),
            number: number.into(),
            days: Some(days_n),
            points: Points(points),
            copay: copay_yen,
        };

        // KO.
        let ko =
            if (age < 15 && rng.random_bool(rates::KO_CHILD)) || rng.random_bool(rates::KO_ADULT) {
                let law = if age < 15 {
                    ["88", "85", "81"][rng.random_range(0..3)]
                } else {
                    ["54", "21", "15"][rng.random_range(0..3)]
                };
                let payer = with_check(format!(
                    "{law}{:02}{:03}",
                    clinic.prefecture,
                    rng.random_range(1..999)
                ));
                let recipient = with_check(format!("{:06}", rng.random_range(0..1_000_000)));
                vec![PublicExpense {
                    line: 0,
                    payer_number: payer.into(),
                    recipient_number: recipient.into(),
                    days: Some(days_n),
                    points: Some(Points(points)),
                    copay: None,
                }]
            } else {
                Vec::new()
            };

        // SN.
        let sn_period = match spec.case {
            Case::T1 if rng.random_bool(rates::SN_TIER1) => Some((spec.filed, "01")),
            Case::T2Reroute | Case::T2Pending if rng.random_bool(rates::SN_TIER2) => {
                Some((spec.filed, "02"))
            }
            _ => None,
        };
        let confirmation = sn_period.map(|(q, kind)| {
            let period = &w.periods[q as usize];
            EligibilityConfirmation {
                line: 0,
                payer_kind: "1".into(),
                confirmation_kind: kind.into(),
                insurer_number: self.reg.insurers[usize::from(period.insurer)]
                    .number
                    .as_str()
                    .into(),
                symbol: fwd(self.symbol_text(q)).into(),
                number: fwd(self.number_text(q)).into(),
                branch: if period.branch == NO_BRANCH {
                    CompactString::default()
                } else {
                    format_compact!("{:02}", period.branch)
                },
                recipient_number: CompactString::default(),
            }
        });
        if tier < 3 {
            let branch_given = confirmation.as_ref().is_some_and(|c| !c.branch.is_empty());
            if !branch_given && self.family_size(spec.filed) > 1 {
                notes.push("family_no_branch".into());
            }
        }

        // Name, kana, birth date on RE.
        let (name, kana, birth) = match &said {
            Some(id) => (id.name.clone(), id.kana_fullwidth.clone(), id.birth),
            None => {
                let (l, f) = w.name(p);
                let l = if crate::ingest::uke::writer::is_uke_text(l) {
                    l.to_string()
                } else {
                    super::kana::standard_form(l, |c| {
                        crate::ingest::uke::writer::is_uke_text(&c.to_string())
                    })
                };
                let (kl, kf) = w.kana(p);
                (format!("{l}　{f}"), format!("{kl}　{kf}"), person.birth)
            }
        };
        // DPC's RE has no カタカナ(氏名).
        let kana = if clinic.kana_in_re && clinic.kind.layout().re.kana.is_some() {
            kana
        } else {
            String::new()
        };
        if person.last_registered.is_some() {
            notes.push("name_variant_on_roster".into());
        }

        // Receipt type.
        let koki = match spec.case {
            Case::T1 | Case::T2Reroute | Case::T2Pending => {
                self.reg.insurers[usize::from(w.periods[spec.filed as usize].insurer)].scheme
                    == Scheme::Koki
            }
            _ => age >= 75,
        };
        let insured = match spec.case {
            Case::T1 | Case::T2Reroute | Case::T2Pending => {
                let b = w.periods[spec.filed as usize].branch;
                b == 0 || b == NO_BRANCH
            }
            _ => person.role != Role::Child && (person.role == Role::Head || cur.branch == 0),
        };
        let category = if age >= 70 {
            if copay_used == 30 {
                4
            } else {
                3
            }
        } else if copay_used == 20 && age < 7 {
            1
        } else if insured {
            0
        } else {
            2
        };
        let rtype = receipt_type(clinic.kind, koki, !ko.is_empty(), category, spec.inpatient);

        // Comments.
        let mut comments = Vec::new();
        let mut decl = None;
        if let (Some(said), Some(form)) = (&said, &form) {
            comments = self.tier3_comments(rng, spec, clinic, said);
            for t in &said.tags {
                notes.push(format!("re:{t}"));
            }
            if rng.random_bool(rates::DECLARATION_OMITTED) {
                notes.push("no_declaration".into());
            } else {
                for t in &form.tags {
                    notes.push(format!("decl:{t}"));
                }
                decl = Some(self.declaration(rng, spec, key, form, age, declared_copay));
            }
        } else if rng.random_bool(rates::NOISE_COMMENT) {
            comments.push(Comment {
                line: 0,
                care_category: clinic.comment_category.into(),
                burden_category: "1".into(),
                code: Comment::FREE_TEXT.into(),
                text: NOISE_COMMENTS[rng.random_range(0..NOISE_COMMENTS.len())].into(),
            });
        }

        let other = detail_records(rng, clinic.kind, spec.inpatient, care_days.len());

        let receipt = Receipt {
            key,
            line: 0,
            receipt_type: rtype.into(),
            care_month: dates.care_month,
            name: name.into(),
            sex: person.sex,
            birth_date: birth,
            benefit_ratio: filed_is_kokuho.then_some(100 - copay_used),
            special_notes: CompactString::default(),
            chart_number: format_compact!(
                "{:06}",
                mix(u64::from(spec.person) ^ u64::from(spec.clinic)) % 1_000_000
            ),
            kana_name: kana.into(),
            patient_state: CompactString::default(),
            insurance: Some(insurance),
            public_expenses: ko,
            confirmation,
            comments,
            care_days,
            other_records: other,
        };

        // Truth.
        let expected = match spec.case {
            Case::T1 => Expected::Verified,
            Case::T2Reroute => Expected::Rerouted,
            Case::T3Matched | Case::T3InsurerKnown => Expected::Matched,
            Case::T2Pending | Case::T3Pending => Expected::Pending,
            Case::T3NoMatch => Expected::NoMatch,
        };
        match spec.case {
            Case::T2Pending | Case::T3Pending => notes.push("registration_lag".into()),
            Case::T3NoMatch => notes.push("absent_from_roster".into()),
            _ => {}
        }
        if person.newborn {
            notes.push("newborn".into());
        }
        if clinic.dates == crate::ingest::uke::writer::DateStyle::Era {
            notes.push("era_dates".into());
        }
        if fw {
            notes.push("fullwidth_numbers".into());
        }
        debug_assert_eq!(
            cur.on_roster,
            !matches!(
                spec.case,
                Case::T2Pending | Case::T3Pending | Case::T3NoMatch
            )
        );
        let expected_insurer = matches!(
            expected,
            Expected::Verified | Expected::Rerouted | Expected::Matched
        )
        .then(|| cur_ins.number.as_str().to_string());
        let truth = TruthRow {
            organization: key.organization.code(),
            clinic_code: key.clinic_code.to_string(),
            billing_month: key.billing_month.to_string(),
            receipt_number: key.receipt_number,
            file: file.to_string(),
            tier,
            care_date: spec.care_date,
            true_person_id: w.person_id(p),
            true_insurer: Some(cur_ins.number.as_str().to_string()),
            true_period_on_roster: cur.on_roster,
            expected_status: expected,
            expected_insurer,
            filed_insurer: filed_text,
            points,
            true_copay_percent: true_copay,
            declared_kind: (tier == 3).then(|| spec.declared.as_str()),
            has_declaration: decl.is_some(),
            notes,
        };
        Built {
            receipt,
            truth,
            declaration: decl,
        }
    }

    fn tier3_comments(
        &self,
        rng: &mut ChaCha8Rng,
        spec: &Spec,
        clinic: &Clinic,
        said: &Identity,
    ) -> Vec<Comment> {
        let w = self.world;
        let cur = &w.periods[spec.current as usize];
        let style = if rng.random_bool(0.15) {
            rng.random_range(0..6)
        } else {
            clinic.label_style
        };
        let variant = usize::from(clinic.label_style) + (mix(u64::from(spec.clinic)) % 4) as usize;
        let label = |i: usize| LABELS[i][variant % LABELS[i].len()];
        let mut items: Vec<(usize, String)> = Vec::new();
        if !said.kana.is_empty() {
            items.push((0, said.kana.clone()));
        }
        items.push((1, kind_written(rng, spec.declared).to_string()));
        if !rng.random_bool(rates::INSURER_NAME_MISSING) && spec.declared != InsuranceKind::Unknown
        {
            items.push((2, insurer_name_written(rng, self.reg, cur.insurer)));
        } else if rng.random_bool(0.5) {
            items.push((2, "不明".into()));
        }
        if let Some(e) = employer_of(self.reg, cur.employer) {
            if !rng.random_bool(rates::EMPLOYER_MISSING) {
                items.push((3, employer_written(rng, e, true)));
            }
        } else if rng.random_bool(0.3) {
            items.push((3, "なし".into()));
        }
        if !said.address.is_empty() {
            items.push((4, said.address.clone()));
        }
        if !said.phone.is_empty() {
            items.push((5, said.phone.clone()));
        }
        let contact = days(spec.care_date, rng.random_range(0..10)).min(days(w.dates.snapshot, -1));
        items.push((6, date_written(rng, contact)));

        let marker = if spec.case == Case::T3InsurerKnown {
            ["不詳", "不詳（記号番号）", "被保険者番号不詳"][rng.random_range(0..3)]
        } else {
            MARKERS[rng.random_range(0..MARKERS.len())]
        };
        let co = |text: String| Comment {
            line: 0,
            care_category: clinic.comment_category.into(),
            burden_category: "1".into(),
            code: Comment::FREE_TEXT.into(),
            text: text.into(),
        };
        if style == 5 {
            // Everything in one comment, separated by full-width spaces or 、.
            let sep = if rng.random_bool(0.5) { "　" } else { "、" };
            let mut parts = vec![marker.to_string()];
            parts.extend(items.iter().map(|(i, v)| labelled(0, label(*i), v)));
            return vec![co(parts.join(sep))];
        }
        let mut out = vec![co(marker.to_string())];
        out.extend(items.iter().map(|(i, v)| co(labelled(style, label(*i), v))));
        out
    }

    fn declaration(
        &self,
        rng: &mut ChaCha8Rng,
        spec: &Spec,
        key: ReceiptKey,
        form: &Identity,
        age: i32,
        declared_copay: u8,
    ) -> DeclarationRow {
        let w = self.world;
        let p = spec.person as usize;
        let cur = &w.periods[spec.current as usize];
        let insurer_name = if spec.declared == InsuranceKind::Unknown
            || rng.random_bool(rates::INSURER_NAME_MISSING)
        {
            String::new()
        } else {
            insurer_name_written(rng, self.reg, cur.insurer)
        };
        let employer = match employer_of(self.reg, cur.employer) {
            Some(e) if !rng.random_bool(rates::EMPLOYER_MISSING) => employer_written(rng, e, false),
            _ => String::new(),
        };
        let card_issued = if rng.random_bool(rates::CARD_ISSUED_UNKNOWN) {
            "unknown"
        } else if cur.from >= days(spec.care_date, -31) {
            "within_month"
        } else {
            "earlier"
        };
        let person = &w.persons[p];
        let other_residence =
            if rng.random_bool(rates::OTHER_RESIDENCE) && person.prev_address != person.address {
                w.addresses[person.prev_address as usize].written(rng, false)
            } else {
                String::new()
            };
        DeclarationRow {
            clinic_code: key.clinic_code.to_string(),
            billing_month: key.billing_month.to_string(),
            receipt_number: key.receipt_number,
            insurance_kind: spec.declared.as_str(),
            insurer_name,
            employer,
            card_issued,
            declared_copay_percent: (age >= 70).then_some(declared_copay),
            name: form.name.clone(),
            name_kana: form.kana.clone(),
            birth_date: form.birth,
            sex: person.sex.code(),
            address: form.address.clone(),
            other_residence,
            confirmation_date: spec.care_date,
            phone: form.phone.clone(),
        }
    }
}

/// The header of a clinic's file for one organization.
pub fn header(
    clinic: &Clinic,
    org: Organization,
    billing_month: crate::domain::YearMonth,
) -> ClinicHeader {
    ClinicHeader {
        kind: clinic.kind,
        organization: org,
        prefecture: clinic.prefecture,
        // 点数表: 1 医科 (DPC too), 3 歯科, 4 調剤.
        fee_table: match clinic.kind {
            ReceiptKind::Ika | ReceiptKind::Dpc => "1",
            ReceiptKind::Shika => "3",
            ReceiptKind::Chozai => "4",
        }
        .into(),
        clinic_code: clinic.code,
        clinic_name: clinic.name.clone(),
        billing_month,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receipt_types() {
        let ika = ReceiptKind::Ika;
        assert_eq!(receipt_type(ika, false, false, 0, false), "1112");
        assert_eq!(receipt_type(ika, false, false, 2, false), "1116");
        assert_eq!(receipt_type(ika, false, false, 1, false), "1114");
        assert_eq!(receipt_type(ika, false, false, 3, false), "1118");
        assert_eq!(receipt_type(ika, false, false, 4, false), "1110");
        assert_eq!(receipt_type(ika, true, false, 3, false), "1318");
        assert_eq!(receipt_type(ika, true, false, 4, false), "1310");
        assert_eq!(receipt_type(ika, false, true, 0, true), "1121");
        assert_eq!(
            receipt_type(ReceiptKind::Shika, false, false, 0, false),
            "3112"
        );
        assert_eq!(
            receipt_type(ReceiptKind::Chozai, false, false, 2, true),
            "4116"
        );
    }
}
