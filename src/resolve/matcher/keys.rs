//! Matching keys, computed once per patient and once per roster person (never per
//! pair): names and kana split and normalized, addresses cut into parts, insurer and
//! employer names reduced to what identifies them. All through [`crate::resolve::normalize`].

use chrono::{Datelike, NaiveDate};
use compact_str::{format_compact, CompactString};

use crate::domain::{InsuranceKind, InsurerNumber, Sex};
use crate::resolve::normalize::{
    address_parts, kana_strip_voicing, normalize_address, normalize_kana, normalize_kanji_name,
    split_kana_name, split_kanji_name,
};

use super::fasthash::FxMap;
use super::Patient;

/// A kanji name: the whole key, and its family and given parts when the name was
/// written with a space between them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct NameKey {
    pub full: CompactString,
    pub family: Option<CompactString>,
    pub given: Option<CompactString>,
    /// The characters of `full`, sorted (see [`char_bag`]).
    pub bag: Box<[char]>,
}

impl NameKey {
    /// `None` when nothing is left after normalization.
    pub fn kanji(raw: &str) -> Option<NameKey> {
        Self::kanji_cached(raw, &mut PartCache::disabled())
    }

    /// As [`NameKey::kanji`], normalizing the parts through `cache`.
    pub fn kanji_cached(raw: &str, cache: &mut PartCache) -> Option<NameKey> {
        let (family, given) = split_kanji_name(raw);
        let key = if given.is_empty() {
            let full = CompactString::from(normalize_kanji_name(raw));
            NameKey {
                bag: char_bag(&full),
                full,
                family: None,
                given: None,
            }
        } else {
            let family = cache.kanji(family);
            let given = cache.kanji(given);
            let full = format_compact!("{family}{given}");
            NameKey {
                bag: char_bag(&full),
                full,
                family: Some(family).filter(|s| !s.is_empty()),
                given: Some(given).filter(|s| !s.is_empty()),
            }
        };
        (!key.full.is_empty()).then_some(key)
    }
}

/// A kana name: normalized (`normalize_kana`) whole and parts, and the whole with
/// voiced marks stripped.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct KanaKey {
    pub full: CompactString,
    pub family: Option<CompactString>,
    pub given: Option<CompactString>,
    pub full_unvoiced: CompactString,
    /// The characters of `full`, sorted.
    pub bag: Box<[char]>,
}

impl KanaKey {
    pub fn new(raw: &str) -> Option<KanaKey> {
        Self::cached(raw, &mut PartCache::disabled())
    }

    /// As [`KanaKey::new`], normalizing the parts through `cache`. The whole is the two
    /// normalized parts joined, except where normalizing the whole could differ (the
    /// given name starts with something other than a plain large kana, or with オ,
    /// which a long o before it would turn into ウ): then the whole is normalized.
    pub fn cached(raw: &str, cache: &mut PartCache) -> Option<KanaKey> {
        let (family, given) = split_kana_name(raw);
        let (full, family, given) = if given.is_empty() {
            (normalize_kana(raw).into(), None, None)
        } else {
            let f = cache.kana(family);
            let g = cache.kana(given);
            let full = if kana_parts_join(given, &g) {
                format_compact!("{f}{g}")
            } else {
                normalize_kana(raw).into()
            };
            (
                full,
                Some(f).filter(|s| !s.is_empty()),
                Some(g).filter(|s| !s.is_empty()),
            )
        };
        if full.is_empty() {
            return None;
        }
        Some(KanaKey {
            full_unvoiced: kana_strip_voicing(&full).into(),
            bag: char_bag(&full),
            full,
            family,
            given,
        })
    }
}

/// Whether a kana name's whole normalizes to its family and given parts, normalized
/// apart, one after the other: unless the given name (`given` as written, `normalized`
/// alone) starts with something other than a plain large kana, or with オ, which a
/// long o before it would turn into ウ.
pub(crate) fn kana_parts_join(given: &str, normalized: &str) -> bool {
    given.chars().next().is_some_and(plain_large_kana) && !normalized.starts_with('オ')
}

/// A kana letter that normalizes on its own whatever precedes it: not small, not a
/// mark, not a long-vowel sign.
fn plain_large_kana(c: char) -> bool {
    const SMALL: &str = "ぁぃぅぇぉっゃゅょゎゕゖァィゥェォッャュョヮヵヶ";
    matches!(c, '\u{3041}'..='\u{3094}' | '\u{30A1}'..='\u{30FA}' | '\u{FF71}'..='\u{FF9D}')
        && !SMALL.contains(c)
}

/// Most values a [`PartCache`] holds per script before it stops adding.
const PART_CACHE_LIMIT: usize = 200_000;

/// Normalized family and given names by what was written: names repeat on a roster,
/// and normalizing (NFKC, variant tables) costs more than a lookup. Values are short
/// (inline), so a hit copies without allocating.
#[derive(Debug, Default)]
pub(crate) struct PartCache {
    enabled: bool,
    kanji: FxMap<String, CompactString>,
    kana: FxMap<String, CompactString>,
}

impl PartCache {
    pub fn new() -> PartCache {
        PartCache {
            enabled: true,
            ..PartCache::default()
        }
    }

    pub fn disabled() -> PartCache {
        PartCache::default()
    }

    fn get(
        enabled: bool,
        map: &mut FxMap<String, CompactString>,
        raw: &str,
        f: fn(&str) -> String,
    ) -> CompactString {
        if let Some(v) = map.get(raw) {
            return v.clone();
        }
        let v = CompactString::from(f(raw));
        if enabled && map.len() < PART_CACHE_LIMIT {
            map.insert(raw.to_string(), v.clone());
        }
        v
    }

    pub fn kanji(&mut self, raw: &str) -> CompactString {
        Self::get(self.enabled, &mut self.kanji, raw, normalize_kanji_name)
    }

    pub fn kana(&mut self, raw: &str) -> CompactString {
        Self::get(self.enabled, &mut self.kana, raw, normalize_kana)
    }
}

/// An address: the normalized whole, locality (municipality and town) and the block
/// numbers.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct AddressKey {
    pub full: String,
    pub locality: String,
    pub block: String,
    /// The characters of `full`, sorted.
    pub bag: Box<[char]>,
}

impl AddressKey {
    pub fn new(raw: &str) -> Option<AddressKey> {
        let full = normalize_address(raw);
        if full.is_empty() {
            return None;
        }
        let parts = address_parts(&full);
        Some(AddressKey {
            locality: parts.locality.to_string(),
            block: parts.block.to_string(),
            bag: char_bag(&full),
            full: full.clone(),
        })
    }
}

/// Scheme words spelt several ways on forms, folded to one spelling (after NFKC and
/// variant folding); longest first.
const ORG_SYNONYMS: &[(&str, &str)] = &[
    ("協会けんぽ", "全国健康保険協会"),
    ("協会健保", "全国健康保険協会"),
    ("健康保険組合", "健保"),
    ("健保組合", "健保"),
    ("けんぽ", "健保"),
    ("ケンポ", "健保"),
    ("国民健康保険組合", "国保組合"),
    ("国民健康保険", "国保"),
    ("共済組合", "共済"),
    ("後期高齢者医療広域連合", "後期高齢"),
    ("後期高齢者医療", "後期高齢"),
];

/// Words that say what kind of body an employer is, not which one; removed.
const ORG_FORMS: &[&str] = &[
    "株式会社",
    "有限会社",
    "合同会社",
    "合資会社",
    "合名会社",
    "(株)",
    "(有)",
    "(同)",
    "(資)",
    "(名)",
    "一般社団法人",
    "一般財団法人",
    "公益社団法人",
    "公益財団法人",
    "社会福祉法人",
    "医療法人社団",
    "医療法人財団",
    "医療法人",
    "学校法人",
    "特定非営利活動法人",
    "NPO法人",
];

/// The matching key of an insurer's or an employer's name: the kanji-name key (NFKC,
/// spaces removed, variant kanji folded), scheme words folded (協会けんぽ =
/// 全国健康保険協会, 健康保険組合 = けんぽ = 健保) and legal-form words removed
/// (株式会社, ㈱, 有限会社 …). `None` when nothing is left.
pub(crate) fn organization_key(raw: &str) -> Option<String> {
    let mut s = normalize_kanji_name(raw);
    for form in ORG_FORMS {
        if s.contains(form) {
            s = s.replace(form, "");
        }
    }
    for (from, to) in ORG_SYNONYMS {
        if s.contains(from) {
            s = s.replace(from, to);
        }
    }
    (!s.is_empty()).then_some(s)
}

/// An insurer's or employer's name key ([`organization_key`]) with its sorted
/// characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct OrgKey {
    pub key: String,
    pub bag: Box<[char]>,
}

impl OrgKey {
    pub fn new(raw: &str) -> Option<OrgKey> {
        organization_key(raw).map(|key| OrgKey {
            bag: char_bag(&key),
            key,
        })
    }
}

/// The characters of a key, sorted: two bags give, by a merge, an upper bound on the
/// characters two keys can have in common, which rules most similarity scores out
/// before they are computed.
pub(crate) fn char_bag(s: &str) -> Box<[char]> {
    let mut v: Vec<char> = s.chars().collect();
    v.sort_unstable();
    v.into_boxed_slice()
}

/// One bit per insurance kind (shaho, kokuho, koki, other).
pub(crate) fn kind_bit(kind: InsuranceKind) -> u8 {
    match kind {
        InsuranceKind::Shaho => 1,
        InsuranceKind::Kokuho => 2,
        InsuranceKind::Koki => 4,
        InsuranceKind::Other => 8,
        InsuranceKind::Unknown => 0,
    }
}

/// One bit per sex.
pub(crate) fn sex_bit(sex: Sex) -> u8 {
    match sex {
        Sex::Male => 1,
        Sex::Female => 2,
    }
}

/// What is compared of a patient, normalized once.
#[derive(Debug, Clone)]
pub(crate) struct PatientKeys {
    pub name: Option<NameKey>,
    pub kana: Option<KanaKey>,
    pub birth_date: NaiveDate,
    pub sex: u8,
    pub address: Option<AddressKey>,
    pub insurer_name: Option<OrgKey>,
    pub employer: Option<OrgKey>,
    pub kind: u8,
    pub within_insurer: Option<InsurerNumber>,
}

impl PatientKeys {
    pub fn new(p: &Patient) -> PatientKeys {
        PatientKeys {
            name: NameKey::kanji(&p.name),
            kana: KanaKey::new(&p.kana),
            birth_date: p.birth_date,
            sex: sex_bit(p.sex),
            address: p.address.as_deref().and_then(AddressKey::new),
            insurer_name: p.insurer_name.as_deref().and_then(OrgKey::new),
            employer: p.employer.as_deref().and_then(OrgKey::new),
            kind: kind_bit(p.insurance_kind),
            within_insurer: p.within_insurer,
        }
    }
}

/// What is compared of a roster person: the distinct values over all their periods
/// (a person may have married, moved, changed jobs and insurers), each list sorted.
#[derive(Debug, Clone, Default)]
pub(crate) struct PersonRecord {
    pub names: Vec<NameKey>,
    pub kanas: Vec<KanaKey>,
    pub birth_dates: Vec<NaiveDate>,
    /// Bits of [`sex_bit`].
    pub sexes: u8,
    /// Indices into [`Shared::addresses`].
    pub addresses: Vec<u32>,
    pub insurers: Vec<InsurerNumber>,
    /// Indices into [`Shared::orgs`]: the master names of the person's insurers.
    pub insurer_names: Vec<u32>,
    /// Bits of [`kind_bit`] of the person's insurers found in the insurer master.
    pub kinds: u8,
    /// Indices into [`Shared::orgs`].
    pub employers: Vec<u32>,
}

/// Keys many persons share (a household's address, a company, an insurer), normalized
/// once; person records refer to them by index.
#[derive(Debug, Clone, Default)]
pub(crate) struct Shared {
    pub addresses: Vec<AddressKey>,
    /// Employer and insurer-name keys.
    pub orgs: Vec<OrgKey>,
}

impl PersonRecord {
    pub fn has_insurer(&self, insurer: &InsurerNumber) -> bool {
        self.insurers.binary_search(insurer).is_ok()
    }
}

/// `YYYYMMDD` as 8 ASCII digits (years outside 0–9999 clamp; the roster reader only
/// accepts 1868–9999).
pub(crate) fn date_digits(d: NaiveDate) -> [u8; 8] {
    let y = d.year().clamp(0, 9999) as u32;
    let n = y * 10_000 + d.month() * 100 + d.day();
    let mut out = [b'0'; 8];
    let mut v = n;
    for i in (0..8).rev() {
        out[i] = b'0' + (v % 10) as u8;
        v /= 10;
    }
    out
}

/// Kana names whose whole may normalize otherwise than its parts apart (small kana,
/// sound marks and long vowels starting the given name, オ after a long o, hiragana,
/// half-width): the cases the keys' and the scan's joining rule must get right.
#[cfg(test)]
pub(crate) const AWKWARD_KANA: [&str; 11] = [
    "サト オサム",
    "ｻﾄ ｵｻﾑ",
    "カトウ ユウコ",
    "イトウ ーコ",
    "ヤマダ ｯﾀ",
    "ヴ ァイオリン",
    "スズキ ﾞイチロウ",
    "さとう はなこ",
    "オオノ オトハ",
    "キ ョウコ",
    "タナカ　イチロー",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_split_and_fold() {
        let k = NameKey::kanji("渡邊　太郎").unwrap();
        assert_eq!(k.full, "渡辺太郎");
        assert_eq!(k.family.as_deref(), Some("渡辺"));
        assert_eq!(k.given.as_deref(), Some("太郎"));
        let k = NameKey::kanji("渡辺太郎").unwrap();
        assert_eq!(k.full, "渡辺太郎");
        assert_eq!(k.family, None);
        assert!(NameKey::kanji("  ").is_none());
    }

    #[test]
    fn kana_parts_and_unvoiced() {
        let k = KanaKey::new("ﾔﾏｻﾞｷ ﾀﾛｳ").unwrap();
        assert_eq!(k.full, "ヤマザキタロウ");
        assert_eq!(k.full_unvoiced, "ヤマサキタロウ");
        assert_eq!(k.family.as_deref(), Some("ヤマザキ"));
        assert!(KanaKey::new("").is_none());
    }

    #[test]
    fn joined_kana_parts_equal_the_whole_normalized() {
        let mut cache = PartCache::new();
        for raw in AWKWARD_KANA {
            for _ in 0..2 {
                let k = KanaKey::cached(raw, &mut cache).unwrap();
                assert_eq!(k.full, normalize_kana(raw), "{raw}");
                assert_eq!(Some(k.clone()), KanaKey::new(raw));
            }
        }
    }

    #[test]
    fn organizations_fold() {
        assert_eq!(
            organization_key("協会けんぽ"),
            organization_key("全国健康保険協会")
        );
        assert_eq!(
            organization_key("㈱千代田電力"),
            organization_key("千代田電力株式会社")
        );
        assert_eq!(
            organization_key("三協化学けんぽ"),
            organization_key("三協化学健康保険組合")
        );
        assert_eq!(organization_key("株式会社"), None);
    }

    #[test]
    fn dates_as_digits() {
        let d = NaiveDate::from_ymd_opt(1984, 6, 2).unwrap();
        assert_eq!(&date_digits(d), b"19840602");
    }
}
