//! What a patient without confirmed eligibility tells the clinic (or writes on the
//! declaration form), and the slips that creep in on the way: variant kanji, kana
//! slips, spaces, a birth date off by a little, the address in another form or missing.
//! The declaration and the receipt's RE/CO are corrupted independently, each from the
//! truth, so one may be clean where the other is not.

use chrono::{Datelike, NaiveDate};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::insurers::{Registry, Scheme};
use super::kana::{
    fullwidth_digits, has_variant, hira_to_kata, kata_to_hira, standard_form, to_halfwidth_kana,
    with_variant, KanaSlip,
};
use super::names::tables;
use super::people::{World, NO_EMPLOYER};
use super::rates;
use crate::domain::InsuranceKind;
use crate::ingest::uke::writer::is_uke_text;

/// A patient's identity as written down once.
#[derive(Debug, Clone, Default)]
pub struct Identity {
    /// Kanji name, family and given name separated as the writer chose.
    pub name: String,
    /// Kana as written (may be hiragana or half-width); empty when left out.
    pub kana: String,
    /// Kana in full-width katakana (for RE 37), with the same slips but no
    /// hiragana/half-width; empty when left out.
    pub kana_fullwidth: String,
    pub birth: NaiveDate,
    /// Empty when left out.
    pub address: String,
    pub phone: String,
    /// What was done to it, for truth notes.
    pub tags: Vec<&'static str>,
}

/// Writes the identity of person `p`, with slips. `uke`: the text must fit a UKE file
/// (JIS X 0208), so variants such as 髙 and 﨑 are written in their standard form.
pub fn identity(rng: &mut ChaCha8Rng, world: &World, p: usize, uke: bool) -> Identity {
    let t = tables();
    let person = &world.persons[p];
    let mut tags = Vec::new();
    let standard_last = t.last[usize::from(person.last)].kanji;
    let (registered_last, _) = world.name(p);
    let mut last = if rng.random_bool(0.5) {
        registered_last.to_string()
    } else {
        standard_last.to_string()
    };
    if has_variant(standard_last) && rng.random_bool(rates::KANJI_VARIANT) {
        if let Some(v) = with_variant(rng, standard_last, |c| !uke || is_uke_text(&c.to_string())) {
            last = v;
            tags.push("kanji_variant");
        }
    }
    if uke && !is_uke_text(&last) {
        last = standard_form(&last, |c| is_uke_text(&c.to_string()));
    }
    let male = person.is_male();
    let mut first_i = person.first;
    if rng.random_bool(rates::FIRST_NAME_OTHER_SPELLING) {
        if let Some(o) = t.same_reading(rng, male, first_i) {
            first_i = o;
            tags.push("first_name_other_spelling");
        }
    }
    let first = t.first(male, first_i).kanji;
    let space = if rng.random_bool(rates::NAME_SPACE_MISSING) {
        tags.push("name_space_missing");
        ""
    } else if rng.random_bool(rates::NAME_SPACE_HALF) {
        tags.push("name_space_half");
        " "
    } else {
        "　"
    };
    let name = format!("{last}{space}{first}");

    let (kl, kf) = world.kana(p);
    let kana_space = if space.is_empty() { "" } else { "　" };
    let mut kana = format!("{kl}{kana_space}{kf}");
    for (slip, rate) in [
        (KanaSlip::SmallLarge, rates::KANA_SMALL_LARGE),
        (KanaSlip::VoicedDropped, rates::KANA_VOICED_DROPPED),
        (KanaSlip::LongVowel, rates::KANA_LONG_VOWEL),
    ] {
        if rng.random_bool(rate) {
            if let Some(k) = slip.apply(rng, &kana) {
                kana = k;
                tags.push(slip.tag());
            }
        }
    }
    let kana_fullwidth = kana.clone();
    if rng.random_bool(rates::KANA_HALFWIDTH) {
        kana = to_halfwidth_kana(&kana);
        tags.push("kana_halfwidth");
    } else if rng.random_bool(rates::KANA_HIRAGANA) {
        kana = kata_to_hira(&kana);
        tags.push("kana_hiragana");
    }
    let (kana, kana_fullwidth) = if rng.random_bool(rates::KANA_MISSING) {
        tags.push("kana_missing");
        (String::new(), String::new())
    } else {
        (kana, hira_to_kata(&kana_fullwidth))
    };

    let mut birth = person.birth;
    if rng.random_bool(rates::BIRTH_DATE_SLIP) {
        if let Some(b) = birth_slip(rng, birth) {
            birth = b;
            tags.push("birth_date_slip");
        }
    }

    let address = if rng.random_bool(rates::ADDRESS_MISSING) {
        tags.push("address_missing");
        String::new()
    } else {
        let a = if rng.random_bool(rates::ADDRESS_OLD) && person.prev_address != person.address {
            tags.push("address_old");
            world.addresses[person.prev_address as usize]
        } else {
            world.addresses[person.address as usize]
        };
        let drop = rng.random_bool(rates::ADDRESS_NO_PREFECTURE);
        if drop {
            tags.push("address_no_prefecture");
        }
        a.written(rng, drop)
    };
    let phone = if rng.random_bool(rates::PHONE_MISSING) {
        tags.push("phone_missing");
        String::new()
    } else {
        phone_written(rng, &world.phone(p))
    };
    Identity {
        name,
        kana,
        kana_fullwidth,
        birth,
        address,
        phone,
        tags,
    }
}

/// A birth date written slightly wrong: day and month swapped, or one digit off.
fn birth_slip(rng: &mut ChaCha8Rng, b: NaiveDate) -> Option<NaiveDate> {
    let (y, m, d) = (b.year(), b.month(), b.day());
    let swapped = (d <= 12 && d != m)
        .then(|| NaiveDate::from_ymd_opt(y, d, m))
        .flatten();
    if swapped.is_some() && rng.random_bool(0.5) {
        return swapped;
    }
    match rng.random_range(0..3) {
        0 => NaiveDate::from_ymd_opt(y + if y % 10 == 9 { -1 } else { 1 }, m, d),
        1 => {
            let dd = if d % 10 == 9 || d >= 28 { d - 1 } else { d + 1 };
            NaiveDate::from_ymd_opt(y, m, dd)
        }
        _ => {
            let dd = if d > 10 { d - 10 } else { d + 10 };
            NaiveDate::from_ymd_opt(y, m, dd)
        }
    }
    .filter(|&x| x != b)
}

/// A phone number in one of the ways people write it.
pub fn phone_written(rng: &mut ChaCha8Rng, phone: &str) -> String {
    match rng.random_range(0..6) {
        0 => phone.replace('-', ""),
        1 => fullwidth_digits(phone),
        2 => {
            let mut parts = phone.splitn(2, '-');
            let a = parts.next().unwrap_or_default();
            let b = parts.next().unwrap_or_default().replacen('-', ")", 1);
            format!("{a}({b}")
        }
        _ => phone.to_string(),
    }
}

/// The insurer's name as a patient writes it (協会けんぽ, ○○健保, ○○市国保 …).
pub fn insurer_name_written(rng: &mut ChaCha8Rng, reg: &Registry, insurer: u16) -> String {
    let ins = &reg.insurers[usize::from(insurer)];
    let name = ins.name.as_str();
    let short = tables().pref(ins.prefecture).short();
    let options: Vec<String> = match ins.scheme {
        Scheme::Kyokai => vec![
            "協会けんぽ".into(),
            "全国健康保険協会".into(),
            format!("協会けんぽ{short}支部"),
            name.replace('　', ""),
        ],
        Scheme::Senin => vec!["船員保険".into(), name.into()],
        Scheme::Kumiai => {
            let stem = name.trim_end_matches("健康保険組合");
            vec![
                format!("{stem}健保"),
                name.into(),
                format!("{stem}けんぽ"),
                format!("{stem}健康保険"),
            ]
        }
        Scheme::Kyosai(_) => vec![name.into(), name.replace('　', ""), "共済組合".into()],
        Scheme::Jieikan => vec!["自衛隊".into(), "防衛省".into()],
        Scheme::Kokuho => {
            let muni = name.trim_end_matches("国民健康保険");
            vec![
                format!("{muni}国保"),
                "国民健康保険".into(),
                name.into(),
                format!("{muni}役所"),
            ]
        }
        Scheme::KokuhoKumiai => vec![name.into(), name.replace("国民健康保険組合", "国保組合")],
        Scheme::Koki => vec![
            "後期高齢者医療".into(),
            name.into(),
            format!("{short}後期高齢"),
            "後期高齢者医療広域連合".into(),
        ],
    };
    options[rng.random_range(0..options.len())].clone()
}

/// An employer's name as a patient writes it ((株), ㈱, without the legal form …).
/// `uke`: no characters outside JIS X 0208 (㈱ is not).
pub fn employer_written(rng: &mut ChaCha8Rng, name: &str, uke: bool) -> String {
    let bare = name
        .replace("株式会社", "")
        .replace("有限会社", "")
        .trim_matches('　')
        .to_string();
    let kabu = name.contains("株式会社");
    match rng.random_range(0..6) {
        0 if kabu => format!("（株）{bare}"),
        1 if kabu => format!("(株){bare}"),
        2 if kabu && !uke => format!("㈱{bare}"),
        3 => bare,
        _ => name.to_string(),
    }
}

/// The insurance kind as written on a form or in 摘要.
pub fn kind_written(rng: &mut ChaCha8Rng, kind: InsuranceKind) -> &'static str {
    let options: &[&str] = match kind {
        InsuranceKind::Shaho => &["社保", "社会保険", "健康保険", "被用者保険"],
        InsuranceKind::Kokuho => &["国保", "国民健康保険"],
        InsuranceKind::Koki => &["後期", "後期高齢者医療", "後期高齢"],
        InsuranceKind::Other => &["その他", "自衛官等"],
        InsuranceKind::Unknown => &["不明", "不詳", "わからない"],
    };
    options[rng.random_range(0..options.len())]
}

/// The employer of a period, if it has one.
pub fn employer_of(reg: &Registry, employer: u32) -> Option<&str> {
    (employer != NO_EMPLOYER).then(|| reg.employers[employer as usize].name.as_str())
}

/// A date as a clerk writes it in 摘要.
pub fn date_written(rng: &mut ChaCha8Rng, d: NaiveDate) -> String {
    let reiwa = d.year() - 2018;
    let (y, m, dd) = (d.year(), d.month(), d.day());
    match rng.random_range(0..6) {
        0 => format!("令和{reiwa}年{m}月{dd}日"),
        1 => format!("R{reiwa}.{m}.{dd}"),
        2 => format!("{y}/{m:02}/{dd:02}"),
        3 => format!("{y}年{m}月{dd}日"),
        4 => format!("{m}月{dd}日"),
        _ => format!("R{reiwa:02}.{m:02}.{dd:02}"),
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn slips_keep_dates_valid_and_texts_comma_free() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let b = NaiveDate::from_ymd_opt(1970, 3, 9).unwrap();
        for _ in 0..100 {
            if let Some(x) = birth_slip(&mut rng, b) {
                assert_ne!(x, b);
            }
            let p = phone_written(&mut rng, "090-1234-5678");
            assert!(!p.contains(','));
            assert!(is_uke_text(&p), "{p}");
            let e = employer_written(&mut rng, "株式会社山田製作所", true);
            assert!(is_uke_text(&e), "{e}");
        }
    }
}
