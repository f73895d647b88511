//! Japanese text transforms the generator needs to write values the way people and
//! clinic software really do: hiragana/katakana, half-width kana, full-width digits,
//! kanji numerals, old and variant kanji, and small slips in kana.
//!
//! These are the *corrupting* direction only; normalizing is the engine's job.

use rand::Rng;

const HALF_BASE_FULL: &str = "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワヲンァィゥェォッャュョー";
const HALF_BASE_HALF: &str = "ｱｲｳｴｵｶｷｸｹｺｻｼｽｾｿﾀﾁﾂﾃﾄﾅﾆﾇﾈﾉﾊﾋﾌﾍﾎﾏﾐﾑﾒﾓﾔﾕﾖﾗﾘﾙﾚﾛﾜｦﾝｧｨｩｪｫｯｬｭｮｰ";
const VOICED: &str = "ガギグゲゴザジズゼゾダヂヅデドバビブベボヴ";
const VOICED_BASE: &str = "カキクケコサシスセソタチツテトハヒフヘホウ";
const SEMI_VOICED: &str = "パピプペポ";
const SEMI_VOICED_BASE: &str = "ハヒフヘホ";
const SMALL: &str = "ァィゥェォッャュョ";
const LARGE: &str = "アイウエオツヤユヨ";
const O_ROW: &str = "オコソトノホモヨロゴゾドボポョ";
const E_ROW: &str = "エケセテネヘメレゲゼデベペ";

fn index_of(table: &str, c: char) -> Option<usize> {
    table.chars().position(|t| t == c)
}

fn nth(table: &str, i: usize) -> char {
    table.chars().nth(i).unwrap_or('?')
}

/// Katakana → hiragana (ヴ and the long-vowel mark stay).
pub fn kata_to_hira(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'ァ'..='ヶ' if c != 'ヴ' => char::from_u32(c as u32 - 0x60).unwrap_or(c),
            _ => c,
        })
        .collect()
}

/// Hiragana → katakana.
pub fn hira_to_kata(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'ぁ'..='ゖ' => char::from_u32(c as u32 + 0x60).unwrap_or(c),
            _ => c,
        })
        .collect()
}

/// Full-width katakana (and the full-width space) → half-width (JIS X 0201) kana, voiced
/// kana as two characters (ガ → ｶﾞ).
pub fn to_halfwidth_kana(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c == '　' {
            out.push(' ');
        } else if let Some(i) = index_of(HALF_BASE_FULL, c) {
            out.push(nth(HALF_BASE_HALF, i));
        } else if let Some(i) = index_of(VOICED, c) {
            let base = nth(VOICED_BASE, i);
            out.push(index_of(HALF_BASE_FULL, base).map_or(base, |j| nth(HALF_BASE_HALF, j)));
            out.push('ﾞ');
        } else if let Some(i) = index_of(SEMI_VOICED, c) {
            let base = nth(SEMI_VOICED_BASE, i);
            out.push(index_of(HALF_BASE_FULL, base).map_or(base, |j| nth(HALF_BASE_HALF, j)));
            out.push('ﾟ');
        } else {
            out.push(c);
        }
    }
    out
}

/// ASCII digits and hyphens → full-width (as typed on a Japanese keyboard).
pub fn fullwidth_digits(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '0'..='9' => char::from_u32(c as u32 - '0' as u32 + '０' as u32).unwrap_or(c),
            '-' => '－',
            _ => c,
        })
        .collect()
}

/// 1–99 as kanji numerals (一, 十二, 三十).
pub fn kanji_numeral(n: u32) -> String {
    const D: [&str; 10] = ["", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    let (t, u) = (n / 10 % 10, n % 10);
    let mut s = String::new();
    if t > 1 {
        s.push_str(D[t as usize]);
    }
    if t >= 1 {
        s.push('十');
    }
    s.push_str(D[u as usize]);
    if s.is_empty() {
        s.push('〇');
    }
    s
}

/// Old and variant forms of common name kanji (DOMAIN §8).
pub const KANJI_VARIANTS: &[(char, &[char])] = &[
    ('高', &['髙']),
    ('崎', &['﨑', '嵜']),
    ('辺', &['邊', '邉']),
    ('斎', &['齋', '齊', '斉']),
    ('沢', &['澤']),
    ('浜', &['濱']),
    ('広', &['廣']),
    ('桜', &['櫻']),
    ('国', &['國']),
    ('島', &['嶋']),
];

/// Whether the text has a character with a variant form.
pub fn has_variant(s: &str) -> bool {
    s.chars()
        .any(|c| KANJI_VARIANTS.iter().any(|(k, _)| *k == c))
}

/// Replaces one character that has variant forms by one of them; `allowed` filters the
/// variants (e.g. to those a UKE file can hold). `None` when nothing applies.
pub fn with_variant<R: Rng>(
    rng: &mut R,
    s: &str,
    allowed: impl Fn(char) -> bool,
) -> Option<String> {
    let chars: Vec<char> = s.chars().collect();
    let spots: Vec<(usize, Vec<char>)> = chars
        .iter()
        .enumerate()
        .filter_map(|(i, c)| {
            let (_, vs) = KANJI_VARIANTS.iter().find(|(k, _)| k == c)?;
            let ok: Vec<char> = vs.iter().copied().filter(|&v| allowed(v)).collect();
            (!ok.is_empty()).then_some((i, ok))
        })
        .collect();
    if spots.is_empty() {
        return None;
    }
    let (i, vs) = &spots[rng.random_range(0..spots.len())];
    let mut out = chars.clone();
    out[*i] = vs[rng.random_range(0..vs.len())];
    Some(out.into_iter().collect())
}

/// Variant forms back to the standard ones (for text that must be JIS X 0208 and can't
/// hold the variant).
pub fn standard_form(s: &str, keep: impl Fn(char) -> bool) -> String {
    s.chars()
        .map(|c| {
            if keep(c) {
                return c;
            }
            KANJI_VARIANTS
                .iter()
                .find(|(_, vs)| vs.contains(&c))
                .map_or(c, |(k, _)| *k)
        })
        .collect()
}

/// A slip in kana the way clerks make them. Each returns `None` when the text offers no
/// place for that slip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KanaSlip {
    /// ガ → カ.
    VoicedDropped,
    /// ャ ↔ ヤ, ッ ↔ ツ …
    SmallLarge,
    /// サトウ → サトー, or ー dropped.
    LongVowel,
}

impl KanaSlip {
    pub fn tag(self) -> &'static str {
        match self {
            KanaSlip::VoicedDropped => "kana_voiced_dropped",
            KanaSlip::SmallLarge => "kana_small_large",
            KanaSlip::LongVowel => "kana_long_vowel",
        }
    }

    pub fn apply<R: Rng>(self, rng: &mut R, s: &str) -> Option<String> {
        let chars: Vec<char> = s.chars().collect();
        let pick = |rng: &mut R, spots: Vec<usize>| -> Option<usize> {
            (!spots.is_empty()).then(|| spots[rng.random_range(0..spots.len())])
        };
        let mut out = chars.clone();
        match self {
            KanaSlip::VoicedDropped => {
                let spots: Vec<usize> = (0..chars.len())
                    .filter(|&i| {
                        index_of(VOICED, chars[i])
                            .or(index_of(SEMI_VOICED, chars[i]))
                            .is_some()
                    })
                    .collect();
                let i = pick(rng, spots)?;
                out[i] = match index_of(VOICED, chars[i]) {
                    Some(j) => nth(VOICED_BASE, j),
                    None => nth(SEMI_VOICED_BASE, index_of(SEMI_VOICED, chars[i])?),
                };
            }
            KanaSlip::SmallLarge => {
                let spots: Vec<usize> = (0..chars.len())
                    .filter(|&i| {
                        index_of(SMALL, chars[i]).is_some()
                            // Only large kana that can follow as a small one.
                            || (i > 0 && matches!(chars[i], 'ヤ' | 'ユ' | 'ヨ') && "キシチニヒミリギジビピ".contains(chars[i - 1]))
                            || (matches!(chars[i], 'ツ') && i + 1 < chars.len())
                    })
                    .collect();
                let i = pick(rng, spots)?;
                out[i] = match index_of(SMALL, chars[i]) {
                    Some(j) => nth(LARGE, j),
                    None => nth(SMALL, index_of(LARGE, chars[i])?),
                };
            }
            KanaSlip::LongVowel => {
                if let Some(i) = chars.iter().position(|&c| c == 'ー') {
                    out.remove(i);
                } else {
                    let spots: Vec<usize> = (1..chars.len())
                        .filter(|&i| {
                            (chars[i] == 'ウ' && O_ROW.contains(chars[i - 1]))
                                || (chars[i] == 'オ' && "オコソトノホモヨロ".contains(chars[i - 1]))
                                || (chars[i] == 'イ' && E_ROW.contains(chars[i - 1]))
                        })
                        .collect();
                    let i = pick(rng, spots)?;
                    out[i] = 'ー';
                }
            }
        }
        Some(out.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;

    #[test]
    fn conversions() {
        assert_eq!(kata_to_hira("サトウ　タロウ"), "さとう　たろう");
        assert_eq!(hira_to_kata("さとう"), "サトウ");
        assert_eq!(to_halfwidth_kana("ガッコウ　パン"), "ｶﾞｯｺｳ ﾊﾟﾝ");
        assert_eq!(fullwidth_digits("1-2-3"), "１－２－３");
        assert_eq!(kanji_numeral(1), "一");
        assert_eq!(kanji_numeral(10), "十");
        assert_eq!(kanji_numeral(12), "十二");
        assert_eq!(kanji_numeral(30), "三十");
        assert_eq!(kanji_numeral(47), "四十七");
    }

    #[test]
    fn variants_and_slips() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        assert!(has_variant("高橋"));
        assert!(!has_variant("佐藤"));
        assert_eq!(with_variant(&mut rng, "高橋", |_| true).unwrap(), "髙橋");
        assert_eq!(with_variant(&mut rng, "高橋", |c| c != '髙'), None);
        assert_eq!(standard_form("髙橋　渡邊", |_| false), "高橋　渡辺");
        assert_eq!(
            KanaSlip::VoicedDropped.apply(&mut rng, "ヤマザキ").unwrap(),
            "ヤマサキ"
        );
        assert_eq!(
            KanaSlip::LongVowel.apply(&mut rng, "サトウ").unwrap(),
            "サトー"
        );
        assert_eq!(
            KanaSlip::LongVowel.apply(&mut rng, "ユーキ").unwrap(),
            "ユキ"
        );
        assert_eq!(
            KanaSlip::SmallLarge.apply(&mut rng, "キャク").unwrap(),
            "キヤク"
        );
        assert_eq!(KanaSlip::SmallLarge.apply(&mut rng, "アン"), None);
    }
}
