//! Clinics and hospitals that send the month's files, each with the habits of its
//! billing software (era or Western dates, full-width digits in 記号・番号, whether it
//! writes SN and RE kana, how its clerks label the 摘要 of a tier-3 receipt).

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::insurers::check_digit_of;
use super::names::{cumulative_of, pick_cum, tables};
use super::rates;
use crate::domain::ClinicCode;
use crate::ingest::uke::writer::DateStyle;
use crate::ingest::uke::ReceiptKind;

#[derive(Debug, Clone)]
pub struct Clinic {
    /// What it bills: 医科 clinics and hospitals (DPC ones among the hospitals), dental
    /// clinics (歯科) and pharmacies (調剤).
    pub kind: ReceiptKind,
    pub code: ClinicCode,
    pub prefecture: u8,
    pub name: String,
    pub hospital: bool,
    pub dates: DateStyle,
    /// RE 37 kana written.
    pub kana_in_re: bool,
    /// 記号・番号 written in full-width digits.
    pub fullwidth: bool,
    /// How the 摘要 items of a tier-3 receipt are labelled (see `comments`).
    pub label_style: u8,
    /// CO 診療識別 used for 摘要 comments.
    pub comment_category: &'static str,
    /// Relative number of receipts.
    pub weight: f64,
}

pub struct Clinics {
    pub clinics: Vec<Clinic>,
    /// A month without 医科 claims: a DPC hospital's receipts are all DPC stays (its
    /// outpatients' receipts would be 医科 ones).
    pub dpc_stays_only: bool,
    /// Clinic indexes per prefecture (index 0 = 01), with cumulative weights.
    by_pref: Vec<(Vec<u32>, Vec<f64>)>,
    all_cum: Vec<f64>,
}

const CLINIC_KINDS: &[&str] = &[
    "内科クリニック",
    "内科医院",
    "クリニック",
    "診療所",
    "整形外科",
    "小児科医院",
    "眼科",
    "耳鼻咽喉科",
    "皮膚科クリニック",
    "内科・消化器科",
    "ファミリークリニック",
    "医院",
];

/// A 医療機関コード: 2-digit district, 4-digit serial, check digit.
pub fn clinic_code(district: u32, serial: u32) -> ClinicCode {
    let body = format!("{:02}{:04}", district % 100, serial % 10_000);
    let code = format!("{body}{}", check_digit_of(&body));
    ClinicCode::parse(&code).unwrap_or_else(|e| panic!("generated clinic code {code}: {e}"))
}

/// What a clinic is to bill: one of the month's kinds, or exactly this one (so that a
/// small month still has every kind asked for).
#[derive(Debug, Clone, Copy)]
pub enum KindOf<'k> {
    OneOf(&'k [ReceiptKind]),
    Exactly(ReceiptKind),
}

/// Builds one clinic; `serial` must be unique (it makes the code unique). Its kind
/// comes from a hash of the serial, not the random stream, so that the mix of kinds
/// changes no other draw; a DPC clinic is a hospital.
pub fn clinic(rng: &mut ChaCha8Rng, prefecture: u8, serial: u32, kind: KindOf<'_>) -> Clinic {
    let t = tables();
    let drawn_hospital = rng.random_bool(rates::HOSPITALS);
    let u = (super::people::mix(u64::from(serial) ^ 0xC11_41C) >> 11) as f64 / (1u64 << 53) as f64;
    let (kind, hospital) = match kind {
        KindOf::OneOf(kinds) => {
            // A DPC clinic is a hospital, even where only DPC was asked for.
            let kind = kind_of(drawn_hospital, u, kinds);
            (kind, drawn_hospital || kind == ReceiptKind::Dpc)
        }
        KindOf::Exactly(k) => (
            k,
            k == ReceiptKind::Dpc || (drawn_hospital && k == ReceiptKind::Ika),
        ),
    };
    let stem = t.last[t.last_name(rng) as usize].kanji;
    let cities = &t.cities_of[usize::from(prefecture) - 1];
    let city = t.cities[usize::from(cities[rng.random_range(0..cities.len())])]
        .municipality
        .trim_end_matches(['市', '区', '町', '村']);
    let name = if hospital {
        match rng.random_range(0..4) {
            0 => format!("{city}市民病院"),
            1 => format!("医療法人{stem}会　{stem}病院"),
            2 => format!("{city}中央病院"),
            _ => format!("社会医療法人{stem}会　{city}総合病院"),
        }
    } else {
        let suffix = CLINIC_KINDS[rng.random_range(0..CLINIC_KINDS.len())];
        match rng.random_range(0..5) {
            0 => format!("医療法人社団{stem}会　{stem}{suffix}"),
            1 => format!("{city}{suffix}"),
            _ => format!("{stem}{suffix}"),
        }
    };
    // A dental clinic or a pharmacy is named from the same stem (the draws above are
    // made for every kind, so the stream does not depend on the mix).
    let name = match kind {
        ReceiptKind::Shika => {
            format!(
                "{stem}{}",
                ["歯科医院", "歯科クリニック", "デンタルクリニック"][serial as usize % 3]
            )
        }
        ReceiptKind::Chozai => {
            format!(
                "{city}{}",
                ["薬局", "調剤薬局", "中央薬局"][serial as usize % 3]
            )
        }
        ReceiptKind::Ika | ReceiptKind::Dpc => name,
    };
    let era = rng.random_bool(rates::ERA_FILES);
    let u: f64 = rng.random();
    // Receipts a month: a hospital several clinics', a pharmacy more than the clinics
    // whose prescriptions it fills one by one, a dental clinic fewer; a DPC hospital as
    // many as a general hospital (its outpatients' 医科 receipts and its stays).
    let kind_weight = match kind {
        ReceiptKind::Ika => 1.0,
        ReceiptKind::Dpc => 1.0,
        ReceiptKind::Shika => 0.8,
        ReceiptKind::Chozai => 1.6,
    };
    let weight = if hospital { 4.0 } else { 1.0 } * kind_weight * (0.2 + 2.0 * u * u);
    Clinic {
        kind,
        code: clinic_code(rng.random_range(1..=70), serial),
        prefecture,
        name,
        hospital,
        dates: if era {
            DateStyle::Era
        } else {
            DateStyle::Western
        },
        kana_in_re: !(era && rng.random_bool(rates::ERA_WITHOUT_KANA)),
        fullwidth: rng.random_bool(rates::FULLWIDTH_NUMBERS),
        label_style: rng.random_range(0..6),
        comment_category: ["", "99", ""][rng.random_range(0..3)],
        weight,
    }
}

/// What a clinic bills, from a uniform `u` drawn for it: a hospital is DPC or 医科, any
/// other a pharmacy, a dental clinic or a 医科 clinic, in shares that give receipts a
/// realistic mix (about 55 % 医科, 35 % 調剤, 8 % 歯科, 2 % DPC stays, hospitals billing
/// several times a clinic's receipts). Only `kinds` are made; with none of a
/// clinic's possible kinds among them, the first of `kinds`.
fn kind_of(hospital: bool, u: f64, kinds: &[ReceiptKind]) -> ReceiptKind {
    let shares: &[(ReceiptKind, f64)] = if hospital {
        &[(ReceiptKind::Dpc, 0.2), (ReceiptKind::Ika, 0.8)]
    } else {
        &[
            (ReceiptKind::Chozai, 0.40),
            (ReceiptKind::Shika, 0.17),
            (ReceiptKind::Ika, 0.43),
        ]
    };
    let allowed: Vec<(ReceiptKind, f64)> = shares
        .iter()
        .copied()
        .filter(|(k, _)| kinds.contains(k))
        .collect();
    let total: f64 = allowed.iter().map(|(_, w)| w).sum();
    let mut acc = 0.0;
    for (k, w) in &allowed {
        acc += w / total;
        if u < acc {
            return *k;
        }
    }
    allowed
        .last()
        .map(|(k, _)| *k)
        .or(kinds.first().copied())
        .unwrap_or(ReceiptKind::Ika)
}

impl Clinics {
    /// The month's clinics, billing only `kinds` (every kind by default).
    pub fn build(rng: &mut ChaCha8Rng, receipts: usize, kinds: &[ReceiptKind]) -> Clinics {
        let t = tables();
        let n = (receipts / rates::RECEIPTS_PER_CLINIC).max(5);
        // A serial that walks 0..10000 in a scattered order: unique codes for n ≤ 9999.
        let mut clinics = Vec::with_capacity(n);
        for i in 0..n.min(9_000) {
            let p = if i < 47 && n >= 47 {
                i as u8 + 1
            } else {
                t.prefecture(rng)
            };
            let serial = (i as u32 * 7_919 + 1_001) % 10_000;
            // The first clinics are one of each kind asked for, when there are enough.
            let kind = match kinds.get(i) {
                Some(k) if n >= kinds.len() => KindOf::Exactly(*k),
                _ => KindOf::OneOf(kinds),
            };
            clinics.push(clinic(rng, p, serial, kind));
        }
        // Small runs still get one clinic on era dates.
        if n >= 2 && clinics.iter().all(|c| c.dates == DateStyle::Western) {
            let last = clinics.len() - 1;
            clinics[last].dates = DateStyle::Era;
        }
        let mut by_pref: Vec<(Vec<u32>, Vec<f64>)> = vec![(Vec::new(), Vec::new()); 47];
        for (i, c) in clinics.iter().enumerate() {
            let (ids, cum) = &mut by_pref[usize::from(c.prefecture) - 1];
            ids.push(i as u32);
            let acc = cum.last().copied().unwrap_or(0.0);
            cum.push(acc + c.weight);
        }
        let weights: Vec<f64> = clinics.iter().map(|c| c.weight).collect();
        Clinics {
            all_cum: cumulative_of(&weights),
            clinics,
            dpc_stays_only: !kinds.contains(&ReceiptKind::Ika),
            by_pref,
        }
    }

    /// A clinic for a patient living in `pref`: mostly a local one.
    pub fn pick(&self, rng: &mut ChaCha8Rng, pref: u8) -> u32 {
        let (ids, cum) = &self.by_pref[usize::from(pref) - 1];
        if !ids.is_empty() && rng.random_bool(0.92) {
            ids[pick_cum(rng, cum)]
        } else {
            pick_cum(rng, &self.all_cum) as u32
        }
    }
}
