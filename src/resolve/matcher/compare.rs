//! Comparison levels: for each field, how a patient and a roster person agree, as a
//! level from strongest to weakest. Levels are what the model gives m and u
//! probabilities to; their names appear in every candidate's explanation.
//!
//! A person is compared through all their periods: the best (strongest) level over the
//! person's distinct names, kana, addresses, insurers and employers counts. Comparing
//! one pair allocates nothing but the similarity scores' scratch space.

use chrono::Datelike;
use strsim::jaro_winkler;

use super::keys::{
    date_digits, AddressKey, KanaKey, NameKey, OrgKey, PatientKeys, PersonRecord, Shared,
};

/// The compared fields, in the order of [`FIELDS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Field {
    Name = 0,
    Kana = 1,
    BirthDate = 2,
    Sex = 3,
    Address = 4,
    InsurerName = 5,
    Employer = 6,
    InsuranceKind = 7,
}

pub(crate) const N_FIELDS: usize = 8;
/// The most levels a field has.
pub(crate) const MAX_LEVELS: usize = 8;

pub(crate) const FIELDS: [Field; N_FIELDS] = [
    Field::Name,
    Field::Kana,
    Field::BirthDate,
    Field::Sex,
    Field::Address,
    Field::InsurerName,
    Field::Employer,
    Field::InsuranceKind,
];

/// One level per field, indices into [`Field::levels`].
pub(crate) type Levels = [u8; N_FIELDS];

const NAME_LEVELS: &[&str] = &[
    "exact",
    "jaro_winkler>=0.90",
    "family_exact",
    "given_exact",
    "jaro_winkler>=0.70",
    "else",
    "missing",
];
const KANA_LEVELS: &[&str] = &[
    "exact",
    "exact_unvoiced",
    "jaro_winkler>=0.92",
    "family_exact",
    "given_exact",
    "jaro_winkler>=0.80",
    "else",
    "missing",
];
const BIRTH_LEVELS: &[&str] = &[
    "exact",
    "day_month_swap",
    "one_digit",
    "same_year_month",
    "else",
];
const SEX_LEVELS: &[&str] = &["exact", "else"];
const ADDRESS_LEVELS: &[&str] = &[
    "exact",
    "same_block",
    "same_locality",
    "jaro_winkler>=0.90",
    "else",
    "missing",
];
const ORG_LEVELS: &[&str] = &["exact", "contains", "jaro_winkler>=0.85", "else", "missing"];
const KIND_LEVELS: &[&str] = &["agree", "else", "unknown"];

impl Field {
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Name => "name",
            Field::Kana => "kana",
            Field::BirthDate => "birth_date",
            Field::Sex => "sex",
            Field::Address => "address",
            Field::InsurerName => "insurer_name",
            Field::Employer => "employer",
            Field::InsuranceKind => "kind",
        }
    }

    pub fn parse(s: &str) -> Option<Field> {
        FIELDS.iter().copied().find(|f| f.as_str() == s)
    }

    /// Level names, strongest first.
    pub fn levels(self) -> &'static [&'static str] {
        match self {
            Field::Name => NAME_LEVELS,
            Field::Kana => KANA_LEVELS,
            Field::BirthDate => BIRTH_LEVELS,
            Field::Sex => SEX_LEVELS,
            Field::Address => ADDRESS_LEVELS,
            Field::InsurerName | Field::Employer => ORG_LEVELS,
            Field::InsuranceKind => KIND_LEVELS,
        }
    }

    /// The level that carries no evidence (a value missing on either side): Bayes
    /// factor 1, not estimated.
    pub fn neutral_level(self) -> Option<u8> {
        match self {
            Field::BirthDate | Field::Sex => None,
            _ => Some(self.levels().len() as u8 - 1),
        }
    }

    pub fn level_index(self, name: &str) -> Option<u8> {
        self.levels()
            .iter()
            .position(|l| *l == name)
            .map(|i| i as u8)
    }
}

/// Level index of a name's `exact` (the term-frequency-adjusted level), kana's too.
pub(crate) const EXACT: u8 = 0;

/// Compares a patient with a person, field by field.
pub(crate) fn compare(p: &PatientKeys, person: &PersonRecord, shared: &Shared) -> Levels {
    [
        compare_names(p.name.as_ref(), &person.names),
        compare_kanas(p.kana.as_ref(), &person.kanas),
        compare_birth(p.birth_date, &person.birth_dates),
        if p.sex & person.sexes != 0 { 0 } else { 1 },
        compare_addresses(p.address.as_ref(), &person.addresses, &shared.addresses),
        compare_orgs(p.insurer_name.as_ref(), &person.insurer_names, &shared.orgs),
        compare_orgs(p.employer.as_ref(), &person.employers, &shared.orgs),
        compare_kinds(p.kind, person.kinds),
    ]
}

fn best<T>(items: &[T], missing: u8, level: impl Fn(&T) -> u8) -> u8 {
    let mut best = missing;
    for item in items {
        best = best.min(level(item));
        if best == 0 {
            break;
        }
    }
    best
}

/// Whether the family (or, with `family = false`, the given) parts agree. A name written
/// without the space still agrees when the other name's part starts (ends) it and
/// something is left over.
fn part_agrees(
    a_full: &str,
    a_part: Option<&str>,
    a_split: bool,
    b_full: &str,
    b_part: Option<&str>,
    b_split: bool,
    family: bool,
) -> bool {
    let affix = |whole: &str, part: &str| {
        !part.is_empty()
            && whole.len() > part.len()
            && if family {
                whole.starts_with(part)
            } else {
                whole.ends_with(part)
            }
    };
    match (a_split, b_split) {
        (true, true) => a_part.is_some() && a_part == b_part,
        (false, true) => b_part.is_some_and(|p| affix(a_full, p)),
        (true, false) => a_part.is_some_and(|p| affix(b_full, p)),
        (false, false) => false,
    }
}

/// Characters two sorted bags have in common (with multiplicity).
fn common(a: &[char], b: &[char]) -> usize {
    let (mut i, mut j, mut n) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                n += 1;
                i += 1;
                j += 1;
            }
        }
    }
    n
}

/// The lowest similarity band any field uses.
const LOWEST_BAND: f64 = 0.70;

/// Jaro–Winkler (strsim) of two keys, or 0 when it cannot reach [`LOWEST_BAND`]. Below
/// 0.7 strsim adds no prefix bonus, so the score is the Jaro similarity, which is at
/// most (c/|a| + c/|b| + 1)/3 for c characters in common: when that bound is under
/// the band, the score is not computed. Levels come out the same either way.
fn similarity(a: &str, a_bag: &[char], b: &str, b_bag: &[char]) -> f64 {
    let (la, lb) = (a_bag.len() as f64, b_bag.len() as f64);
    if la > 0.0 && lb > 0.0 {
        let c = common(a_bag, b_bag) as f64;
        if (c / la + c / lb + 1.0) / 3.0 < LOWEST_BAND - 1e-9 {
            return 0.0;
        }
    }
    jaro_winkler(a, b)
}

pub(crate) fn name_level(a: &NameKey, b: &NameKey) -> u8 {
    if a.full == b.full {
        return 0;
    }
    let jw = similarity(&a.full, &a.bag, &b.full, &b.bag);
    if jw >= 0.90 {
        return 1;
    }
    let (sa, sb) = (a.family.is_some(), b.family.is_some());
    let fam = part_agrees(
        &a.full,
        a.family.as_deref(),
        sa,
        &b.full,
        b.family.as_deref(),
        sb,
        true,
    );
    if fam {
        return 2;
    }
    let giv = part_agrees(
        &a.full,
        a.given.as_deref(),
        a.given.is_some(),
        &b.full,
        b.given.as_deref(),
        b.given.is_some(),
        false,
    );
    if giv {
        return 3;
    }
    if jw >= 0.70 {
        4
    } else {
        5
    }
}

pub(crate) fn compare_names(p: Option<&NameKey>, names: &[NameKey]) -> u8 {
    match p {
        None => 6,
        Some(p) => best(names, 6, |n| name_level(p, n)),
    }
}

pub(crate) fn kana_level(a: &KanaKey, b: &KanaKey) -> u8 {
    if a.full == b.full {
        return 0;
    }
    if a.full_unvoiced == b.full_unvoiced {
        return 1;
    }
    let jw = similarity(&a.full, &a.bag, &b.full, &b.bag);
    if jw >= 0.92 {
        return 2;
    }
    let fam = part_agrees(
        &a.full,
        a.family.as_deref(),
        a.family.is_some(),
        &b.full,
        b.family.as_deref(),
        b.family.is_some(),
        true,
    );
    if fam {
        return 3;
    }
    let giv = part_agrees(
        &a.full,
        a.given.as_deref(),
        a.given.is_some(),
        &b.full,
        b.given.as_deref(),
        b.given.is_some(),
        false,
    );
    if giv {
        return 4;
    }
    if jw >= 0.80 {
        5
    } else {
        6
    }
}

pub(crate) fn compare_kanas(p: Option<&KanaKey>, kanas: &[KanaKey]) -> u8 {
    match p {
        None => 7,
        Some(p) => best(kanas, 7, |k| kana_level(p, k)),
    }
}

pub(crate) fn birth_level(a: chrono::NaiveDate, b: chrono::NaiveDate) -> u8 {
    if a == b {
        return 0;
    }
    if a.year() == b.year() && a.month() == b.day() && a.day() == b.month() {
        return 1;
    }
    let (da, db) = (date_digits(a), date_digits(b));
    let differing = da.iter().zip(db.iter()).filter(|(x, y)| x != y).count();
    if differing == 1 {
        return 2;
    }
    if a.year() == b.year() && a.month() == b.month() {
        3
    } else {
        4
    }
}

pub(crate) fn compare_birth(p: chrono::NaiveDate, dates: &[chrono::NaiveDate]) -> u8 {
    best(dates, 4, |d| birth_level(p, *d))
}

pub(crate) fn address_level(a: &AddressKey, b: &AddressKey) -> u8 {
    if a.full == b.full {
        return 0;
    }
    if !a.locality.is_empty() && a.locality == b.locality {
        if !a.block.is_empty() && a.block == b.block {
            return 1;
        }
        return 2;
    }
    if similarity(&a.full, &a.bag, &b.full, &b.bag) >= 0.90 {
        3
    } else {
        4
    }
}

/// `addresses`: indices into `table`.
pub(crate) fn compare_addresses(
    p: Option<&AddressKey>,
    addresses: &[u32],
    table: &[AddressKey],
) -> u8 {
    match p {
        None => 5,
        Some(p) => best(addresses, 5, |&i| {
            table.get(i as usize).map_or(5, |a| address_level(p, a))
        }),
    }
}

/// Shortest name (in characters) that counts as contained in another.
const MIN_CONTAINED_CHARS: usize = 3;

pub(crate) fn org_level(a: &OrgKey, b: &OrgKey) -> u8 {
    if a.key == b.key {
        return 0;
    }
    let (short, long) = if a.key.len() <= b.key.len() {
        (a, b)
    } else {
        (b, a)
    };
    if short.bag.len() >= MIN_CONTAINED_CHARS && long.key.contains(short.key.as_str()) {
        return 1;
    }
    if similarity(&a.key, &a.bag, &b.key, &b.bag) >= 0.85 {
        2
    } else {
        3
    }
}

/// `orgs`: indices into `table`.
pub(crate) fn compare_orgs(p: Option<&OrgKey>, orgs: &[u32], table: &[OrgKey]) -> u8 {
    match p {
        None => 4,
        Some(p) => best(orgs, 4, |&i| {
            table.get(i as usize).map_or(4, |o| org_level(p, o))
        }),
    }
}

pub(crate) fn compare_kinds(p: u8, kinds: u8) -> u8 {
    if p == 0 || kinds == 0 {
        2
    } else if p & kinds != 0 {
        0
    } else {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn level_name(f: Field, l: u8) -> &'static str {
        f.levels()[l as usize]
    }

    #[test]
    fn level_tables_fit() {
        for f in FIELDS {
            assert!(f.levels().len() <= MAX_LEVELS);
            assert_eq!(Field::parse(f.as_str()), Some(f));
        }
    }

    #[test]
    fn kanji_names() {
        let n = |s| NameKey::kanji(s).unwrap();
        assert_eq!(name_level(&n("渡邊 太郎"), &n("渡辺 太郎")), 0);
        assert_eq!(name_level(&n("渡邊太郎"), &n("渡辺 太郎")), 0);
        assert_eq!(
            level_name(Field::Name, name_level(&n("山田 裕子"), &n("山田 祐子"))),
            "family_exact"
        );
        assert_eq!(
            level_name(Field::Name, name_level(&n("山田花子"), &n("山田 裕子"))),
            "family_exact"
        );
        assert_eq!(
            level_name(Field::Name, name_level(&n("鈴木 花子"), &n("山田 花子"))),
            "given_exact"
        );
        assert_eq!(
            level_name(
                Field::Name,
                name_level(&n("勅使河原 翔太郎"), &n("勅使河原 翔太朗"))
            ),
            "jaro_winkler>=0.90"
        );
        assert_eq!(
            level_name(Field::Name, name_level(&n("佐藤 一"), &n("高橋 健"))),
            "else"
        );
        assert_eq!(compare_names(None, &[n("佐藤 一")]), 6);
    }

    #[test]
    fn kana_names() {
        let k = |s| KanaKey::new(s).unwrap();
        assert_eq!(kana_level(&k("ｻﾄｳ ﾀﾛｳ"), &k("サトウ　タロウ")), 0);
        assert_eq!(kana_level(&k("さとう たろう"), &k("サトウ タロウ")), 0);
        assert_eq!(
            level_name(
                Field::Kana,
                kana_level(&k("ヤマサキ タロウ"), &k("ヤマザキ タロウ"))
            ),
            "exact_unvoiced"
        );
        assert_eq!(
            level_name(
                Field::Kana,
                kana_level(&k("ヤマダ ハナコ"), &k("ヤマダ ユウコ"))
            ),
            "family_exact"
        );
        assert_eq!(
            level_name(
                Field::Kana,
                kana_level(&k("スズキ ハナコ"), &k("ヤマダ ハナコ"))
            ),
            "given_exact"
        );
        assert_eq!(
            level_name(
                Field::Kana,
                kana_level(&k("ワタナベ ケンイチ"), &k("ワタナベ ケンイチロウ"))
            ),
            "jaro_winkler>=0.92"
        );
        assert_eq!(compare_kanas(None, &[k("サトウ")]), 7);
    }

    #[test]
    fn birth_dates() {
        let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd).unwrap();
        let name = |a, b| level_name(Field::BirthDate, birth_level(a, b));
        assert_eq!(name(d(1980, 4, 15), d(1980, 4, 15)), "exact");
        assert_eq!(name(d(1980, 3, 4), d(1980, 4, 3)), "day_month_swap");
        assert_eq!(name(d(1980, 4, 15), d(1980, 4, 16)), "one_digit");
        assert_eq!(name(d(1981, 4, 15), d(1980, 4, 15)), "one_digit");
        assert_eq!(name(d(1980, 4, 15), d(1980, 4, 29)), "same_year_month");
        assert_eq!(name(d(1980, 4, 15), d(1975, 11, 2)), "else");
    }

    #[test]
    fn addresses() {
        let a = |s| AddressKey::new(s).unwrap();
        let name = |x, y| level_name(Field::Address, address_level(&a(x), &a(y)));
        assert_eq!(
            name("東京都新宿区西新宿二丁目八番一号", "新宿区西新宿2-8-1"),
            "exact"
        );
        assert_eq!(
            name(
                "新宿区西新宿2-8-1 新宿ビル3階",
                "東京都新宿区西新宿2丁目8番1号"
            ),
            "same_block"
        );
        assert_eq!(
            name("新宿区西新宿2-8-1", "新宿区西新宿3-1-1"),
            "same_locality"
        );
        assert_eq!(name("新宿区西新宿2-8-1", "大阪市北区中之島1-3-20"), "else");
        assert_eq!(compare_addresses(None, &[0], &[a("新宿区")]), 5);
    }

    #[test]
    fn organizations_and_kinds() {
        let o = |s| OrgKey::new(s).unwrap();
        assert_eq!(org_level(&o("協会けんぽ"), &o("全国健康保険協会")), 0);
        assert_eq!(
            org_level(&o("全国健康保険協会"), &o("全国健康保険協会　東京支部")),
            1
        );
        assert_eq!(
            org_level(&o("札幌市国民健康保険"), &o("名古屋市国民健康保険")),
            3
        );
        assert_eq!(compare_orgs(None, &[0], &[o("x社")]), 4);
        assert_eq!(compare_orgs(Some(&o("x社")), &[], &[]), 4);
        assert_eq!(compare_kinds(1, 1 | 2), 0);
        assert_eq!(compare_kinds(1, 2), 1);
        assert_eq!(compare_kinds(0, 2), 2);
    }
}
