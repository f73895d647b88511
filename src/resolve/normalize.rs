//! Matching keys for Japanese names, kana, addresses and phone numbers (DOMAIN §8).
//!
//! Tier-3 matching compares what a clinic or a hand-filled declaration wrote with what an
//! insurer's roster holds, and the same person is spelt many ways: half-width kana,
//! hiragana, small kana written large (キョウコ / キヨウコ), long vowels written ー or
//! spelt out (ユーコ / ユウコ), old kanji (髙橋 / 高橋), the prefecture left out, kanji
//! numerals in addresses (二丁目八番一号 / 2-8-1). Each function here maps such spellings
//! to one *key*: equal keys mean "the same, as far as a form can tell". Keys are for
//! comparison only; never show or store one in place of what was written.
//!
//! Not here: how keys are compared (exact, similarity, comparison levels) is the
//! matcher's business; reading free text is [`super::comments`].
//!
//! Every function is pure and makes one pass (a few for addresses) with at most a few
//! allocations; the two data tables (`data/variant_kanji.tsv`, `data/prefectures.tsv`)
//! are parsed once, on first use.

use std::fmt::Write as _;
use std::sync::LazyLock;

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::{is_nfc, UnicodeNormalization};

/// Old and variant kanji → standard form; see the file's header for the format.
const VARIANT_KANJI_TSV: &str = include_str!("../../data/variant_kanji.tsv");

/// The 47 prefectures: JIS code, name, and readings (the generator uses those).
const PREFECTURES_TSV: &str = include_str!("../../data/prefectures.tsv");

/// `(variant, standard)` sorted by variant, for binary search.
static VARIANT_KANJI: LazyLock<Vec<(char, char)>> = LazyLock::new(|| {
    parse_variant_table(VARIANT_KANJI_TSV)
        .unwrap_or_else(|e| panic!("data/variant_kanji.tsv: {e} (the unit tests check this)"))
});

/// `(JIS code, name)` in code order.
static PREFECTURES: LazyLock<Vec<(u8, &'static str)>> = LazyLock::new(|| {
    parse_prefecture_table(PREFECTURES_TSV)
        .unwrap_or_else(|e| panic!("data/prefectures.tsv: {e} (the unit tests check this)"))
});

// ---------------------------------------------------------------------------------------
// Kana
// ---------------------------------------------------------------------------------------

/// The loose matching key of a kana name (カタカナ氏名, フリガナ).
///
/// Rules, in order, and why:
/// - **NFKC**: half-width katakana becomes full-width and a separate voiced mark is
///   composed (`ｶﾞｯｺｳ` → `ガッコウ`); full-width Latin and digits become ASCII.
/// - **Hiragana → katakana**: forms are filled in either script (`きょうこ`).
/// - **Spaces (any width), middle dots and variation selectors are removed** (and
///   combining marks NFKC could not attach to anything): the space
///   between family and given name is placed inconsistently (use [`split_kana_name`]
///   first to compare the parts).
/// - **Small kana → large** (ァ→ア … ッ→ツ, ャ→ヤ, ヮ→ワ, ヵ→カ, ヶ→ケ): rosters
///   and older systems often cannot hold small kana, so キョウコ is stored as キヨウコ.
/// - **ヴ → ブ, ヴァ/ヴィ/ヴェ/ヴォ → バ/ビ/ベ/ボ** (also ヷヸヹヺ): the official
///   spelling of loanwords avoids ヴ, and clerks transcribe it either way. Decided:
///   fold to the バ row, the more common spelling on rosters.
/// - **ヲ→オ, ヂ→ジ, ヅ→ズ, ヰ→イ, ヱ→エ**: same sound, spelt both ways in names.
/// - **Long vowels**: ー (or a dash written in its place) becomes the vowel it
///   lengthens, and after an o-row kana both オ and ウ become ウ. Spelt-out and marked
///   long vowels then agree: ユーコ = ユウコ, ケーコ = ケイコ, オーノ = オオノ = オウノ,
///   トール = トオル. Simply deleting ー would make ユーコ (ユコ) differ from ユウコ, and
///   deleting the spelt-out vowels too would merge distinct names (ユウキ / ユキ).
///   An ー with no kana before it is dropped.
///
/// Other characters pass through (NFKC'd), so a kanji written by mistake in a kana field
/// still compares equal to itself. The result is a fixed point: normalizing it again
/// changes nothing.
pub fn normalize_kana(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s
        .chars()
        // Removed before NFKC so that what was apart is not composed later.
        .filter(|&c| !is_space(c) && !is_middle_dot(c) && !is_variation_selector(c))
        // Full-width ゛゜ typed after a kana (カ゛) mean the combining marks.
        .map(|c| match c {
            '゛' => '\u{3099}',
            '゜' => '\u{309A}',
            _ => c,
        })
        .nfkc()
        // A mark left uncomposed (ッ゛, ー゛) has nothing to modify in a kana key.
        .filter(|&c| !is_space(c) && !is_middle_dot(c) && !is_combining_mark(c))
        .map(hiragana_to_katakana)
        .peekable();
    let mut prev_vowel: Option<Vowel> = None;
    while let Some(c) = chars.next() {
        let c = if c == 'ヴ' {
            let row = match chars.peek() {
                Some('ァ') => Some('バ'),
                Some('ィ') => Some('ビ'),
                Some('ェ') => Some('ベ'),
                Some('ォ') => Some('ボ'),
                _ => None,
            };
            if row.is_some() {
                chars.next();
            }
            row.unwrap_or('ブ')
        } else {
            fold_kana(c)
        };
        let c = if is_long_mark(c) {
            match prev_vowel {
                Some(v) => v.spelt_long(),
                None => continue,
            }
        } else if c == 'オ' && prev_vowel == Some(Vowel::O) {
            'ウ'
        } else {
            c
        };
        prev_vowel = vowel_of(c);
        out.push(c);
    }
    // Removing characters can bring two that compose together (Hangul jamo): compose
    // them now so the key is a fixed point. Japanese text never takes this branch.
    if !is_nfc(&out) {
        return out.nfc().collect();
    }
    out
}

/// Removes voiced and semi-voiced marks from katakana: ガ→カ, ザ→サ, バ→ハ, パ→ハ.
///
/// A weaker comparison level than [`normalize_kana`]: dakuten are dropped or added by
/// mistake when a name is copied by hand (ヤマサキ / ヤマザキ, シバタ / シハタ are also
/// genuinely both readings of one name). Meant for the output of `normalize_kana`, so
/// apply that first; other characters pass through unchanged.
pub fn kana_strip_voicing(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if is_kana(c) {
            unicode_normalization::char::decompose_canonical(c, |d| {
                if !matches!(d, '\u{3099}' | '\u{309A}') {
                    out.push(d);
                }
            });
        } else {
            out.push(c);
        }
    }
    out
}

/// Splits a kana name into (family, given) at the first space of any width, before any
/// normalization removes it. Without a space the whole is the family name and the given
/// name is empty. Both parts are trimmed; nothing is allocated.
pub fn split_kana_name(s: &str) -> (&str, &str) {
    split_name(s)
}

// ---------------------------------------------------------------------------------------
// Kanji names
// ---------------------------------------------------------------------------------------

/// The matching key of a name written in kanji.
///
/// Rules: **NFKC** (full-width/half-width forms; compatibility ideographs such as
/// U+FA10 塚 fold to the unified ones), **spaces, middle dots and variation selectors
/// removed** (an IVS selects a glyph, not a different name), then each character looked
/// up in `data/variant_kanji.tsv`: 旧字体 and 異体字 map to the standard form, so
/// 渡邊 = 渡邉 = 渡辺 and 髙橋 = 高橋. Pairs that are distinct in real life but confused
/// on forms are folded on purpose — **齋, 齊 and 斉 all become 斎**, 龍 becomes 竜 — since
/// a false split here costs a missed match, while a false merge is caught by the other
/// fields (birth date, kana). 々 is kept as written: 佐佐木 for 佐々木 is
/// too rare to be worth a rule. Hiragana and katakana are left as they are:
/// in a kanji name, さくら and サクラ are different registered names.
pub fn normalize_kanji_name(s: &str) -> String {
    s.nfkc()
        .filter(|&c| !is_space(c) && !is_middle_dot(c) && !is_variation_selector(c))
        .map(standard_kanji)
        .collect()
}

/// Splits a kanji name into (family, given) at the first space of any width; like
/// [`split_kana_name`].
pub fn split_kanji_name(s: &str) -> (&str, &str) {
    split_name(s)
}

// ---------------------------------------------------------------------------------------
// Addresses
// ---------------------------------------------------------------------------------------

/// The matching key of an address.
///
/// Rules, in order:
/// 1. **NFKC**, **spaces removed**, **variant kanji** mapped as for names (an address
///    holds surnames-turned-place-names: 﨑, 澤, 濱), and 霞ヶ関 = 霞ケ関.
/// 2. A leading **postal code** (`〒160-0023`, `160-0023`) is dropped: the roster keeps
///    it in its own column.
/// 3. A leading **prefecture** is dropped (all 47, from `data/prefectures.tsv`): forms
///    often omit it, and the municipality that follows identifies it anyway. Use
///    [`prefecture_of`] to compare prefectures separately.
/// 4. **Kanji numerals** become Arabic where they are address numbers: before 丁目,
///    番地, 番, 号, 条, 線, 地割, a dash or の+number, or after 丁目/番地/番/a dash.
///    Numerals in place names (四日市, 八王子, 九段, 三番町) stay as written, which keeps
///    those names readable; both sides of a comparison go through the same rule.
///    Both 二十三 (with 十/百/千, up to 9999) and 二〇三 (digit by digit) are read.
/// 5. **Block numbers** take one form, `N-N-N`: 丁目, 番地, 番 and の between numbers
///    become `-`, every dash-like character after a digit (‐ – — ― − ー) becomes `-`,
///    and a 号 that ends such a chain is dropped (but not in 号室/号棟/号館). A
///    separator with no number after it is dropped: 西新宿2丁目 → 西新宿2.
///
/// So 東京都新宿区西新宿二丁目八番一号, 新宿区西新宿2丁目8番1号, 新宿区西新宿２－８－１
/// and 新宿区西新宿2丁目8-1 all give `新宿区西新宿2-8-1`. The building and room that
/// follow are kept; [`address_parts`] separates them when a comparison should not.
pub fn normalize_address(s: &str) -> String {
    let cleaned: String = s
        .nfkc()
        .filter(|&c| !is_space(c) && !is_variation_selector(c))
        .map(standard_kanji)
        .collect();
    let (_, rest) = strip_prefecture(strip_postal_code(&cleaned));
    canonical_block_numbers(&kanji_numerals_to_arabic(rest))
}

/// The JIS code (1–47) of the prefecture an address starts with, if it starts with one
/// (after NFKC, spaces and a postal code). Only full names count: 東京都, not 東京.
pub fn prefecture_of(s: &str) -> Option<u8> {
    // A postal code (9 characters) and the longest prefecture name (4) fit in this.
    const HEAD: usize = 24;
    let head: String = s.nfkc().filter(|&c| !is_space(c)).take(HEAD).collect();
    strip_prefecture(strip_postal_code(&head)).0
}

/// A normalized address cut in three, for comparison levels that weigh the parts apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddressParts<'a> {
    /// Municipality and town: everything before the block numbers (`新宿区西新宿`).
    /// Sapporo-style 北1条西 and 第1地割 numbers stay in it.
    pub locality: &'a str,
    /// The block numbers, `N` or `N-N…` (`2-8-1`); empty if there are none.
    pub block: &'a str,
    /// Whatever follows: building, floor, room (`新宿ビル3階`).
    pub rest: &'a str,
}

/// Cuts the output of [`normalize_address`] into locality, block numbers and the rest.
/// The block is the first run of digits and dashes that is not followed by 条, 線 or
/// 地割 (those number the locality itself).
pub fn address_parts(normalized: &str) -> AddressParts<'_> {
    let b = normalized.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let run = b[i..]
            .iter()
            .take_while(|x| x.is_ascii_digit() || **x == b'-')
            .count();
        let mut end = i + run;
        while end > i && b[end - 1] == b'-' {
            end -= 1;
        }
        // ASCII bytes never occur inside a multi-byte character: both cuts are safe.
        let after = &normalized[end..];
        if !["条", "線", "地割"].iter().any(|u| after.starts_with(u)) {
            return AddressParts {
                locality: &normalized[..i],
                block: &normalized[i..end],
                rest: after,
            };
        }
        i += run;
    }
    AddressParts {
        locality: normalized,
        block: "",
        rest: "",
    }
}

// ---------------------------------------------------------------------------------------
// Phone numbers
// ---------------------------------------------------------------------------------------

/// The digits of a phone number, after NFKC (０９０－１２３４－５６７８ →
/// `09012345678`). An international `+81` prefix becomes the domestic leading 0 (also
/// when the 0 is written in brackets, `+81 (0)3 …`), so both spellings compare equal.
pub fn normalize_phone(s: &str) -> String {
    let mut digits = String::with_capacity(s.len());
    let mut international = false;
    for c in s.nfkc() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else if c == '+' && digits.is_empty() {
            international = true;
        }
    }
    match digits.strip_prefix("81") {
        Some(national) if international => {
            if national.starts_with('0') {
                national.to_string()
            } else {
                format!("0{national}")
            }
        }
        _ => digits,
    }
}

// ---------------------------------------------------------------------------------------
// Character classes and folds
// ---------------------------------------------------------------------------------------

fn is_space(c: char) -> bool {
    c.is_whitespace()
}

/// ・ (and its half-width and Latin look-alikes) between the parts of a name.
fn is_middle_dot(c: char) -> bool {
    matches!(c, '・' | '･' | '·' | '‧' | '•')
}

/// Variation selectors, including the ideographic variation sequences (IVS) that pick
/// a glyph of 辻 or 葛: they never make a different name.
fn is_variation_selector(c: char) -> bool {
    matches!(c, '\u{FE00}'..='\u{FE0F}' | '\u{E0100}'..='\u{E01EF}')
}

/// Characters written for a dash or a long-vowel mark (after NFKC, which has already
/// turned ｰ into ー and － into -).
pub(crate) fn is_dash(c: char) -> bool {
    matches!(
        c,
        '-' | '‐' | '‑' | '‒' | '–' | '—' | '―' | '−' | '─' | '━' | 'ー'
    )
}

fn is_long_mark(c: char) -> bool {
    is_dash(c) || c == '〜' || c == '~'
}

fn is_kana(c: char) -> bool {
    matches!(c, '\u{3041}'..='\u{3096}' | '\u{309D}'..='\u{309E}' | '\u{30A1}'..='\u{30FA}' | '\u{30FD}'..='\u{30FE}')
}

/// ぁ–ゖ and ゝゞ → the katakana at the same place in its block (ゔ → ヴ).
fn hiragana_to_katakana(c: char) -> char {
    match c {
        '\u{3041}'..='\u{3096}' | '\u{309D}'..='\u{309E}' => {
            char::from_u32(c as u32 + 0x60).unwrap_or(c)
        }
        _ => c,
    }
}

/// Small kana → large; ヲヂヅヰヱ and ヷヸヹヺ → the common spelling of the same sound.
fn fold_kana(c: char) -> char {
    match c {
        'ァ' => 'ア',
        'ィ' => 'イ',
        'ゥ' => 'ウ',
        'ェ' => 'エ',
        'ォ' => 'オ',
        'ッ' => 'ツ',
        'ャ' => 'ヤ',
        'ュ' => 'ユ',
        'ョ' => 'ヨ',
        'ヮ' => 'ワ',
        'ヵ' => 'カ',
        'ヶ' => 'ケ',
        'ヲ' => 'オ',
        'ヂ' => 'ジ',
        'ヅ' => 'ズ',
        'ヰ' => 'イ',
        'ヱ' => 'エ',
        'ヷ' => 'バ',
        'ヸ' => 'ビ',
        'ヹ' => 'ベ',
        'ヺ' => 'ボ',
        // Small katakana of the Ainu extension block.
        'ㇰ' => 'ク',
        'ㇱ' => 'シ',
        'ㇲ' => 'ス',
        'ㇳ' => 'ト',
        'ㇴ' => 'ヌ',
        'ㇵ' => 'ハ',
        'ㇶ' => 'ヒ',
        'ㇷ' => 'フ',
        'ㇸ' => 'ヘ',
        'ㇹ' => 'ホ',
        'ㇺ' => 'ム',
        'ㇻ' => 'ラ',
        'ㇼ' => 'リ',
        'ㇽ' => 'ル',
        'ㇾ' => 'レ',
        'ㇿ' => 'ロ',
        _ => c,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Vowel {
    A,
    I,
    U,
    E,
    O,
}

impl Vowel {
    /// How a long vowel is spelt out in kana: ア, イ, ウ, and イ/ウ for e/o (エイ, オウ).
    fn spelt_long(self) -> char {
        match self {
            Vowel::A => 'ア',
            Vowel::I | Vowel::E => 'イ',
            Vowel::U | Vowel::O => 'ウ',
        }
    }
}

/// The vowel of a (folded, large) katakana; `None` for ン and anything else.
fn vowel_of(c: char) -> Option<Vowel> {
    Some(match c {
        'ア' | 'カ' | 'ガ' | 'サ' | 'ザ' | 'タ' | 'ダ' | 'ナ' | 'ハ' | 'バ' | 'パ' | 'マ'
        | 'ヤ' | 'ラ' | 'ワ' => Vowel::A,
        'イ' | 'キ' | 'ギ' | 'シ' | 'ジ' | 'チ' | 'ニ' | 'ヒ' | 'ビ' | 'ピ' | 'ミ' | 'リ' => {
            Vowel::I
        }
        'ウ' | 'ク' | 'グ' | 'ス' | 'ズ' | 'ツ' | 'ヌ' | 'フ' | 'ブ' | 'プ' | 'ム' | 'ユ'
        | 'ル' => Vowel::U,
        'エ' | 'ケ' | 'ゲ' | 'セ' | 'ゼ' | 'テ' | 'デ' | 'ネ' | 'ヘ' | 'ベ' | 'ペ' | 'メ'
        | 'レ' => Vowel::E,
        'オ' | 'コ' | 'ゴ' | 'ソ' | 'ゾ' | 'ト' | 'ド' | 'ノ' | 'ホ' | 'ボ' | 'ポ' | 'モ'
        | 'ヨ' | 'ロ' => Vowel::O,
        _ => return None,
    })
}

/// The standard form of a variant kanji (or the character itself).
fn standard_kanji(c: char) -> char {
    // Everything in the table is from the katakana block (ヶ) upwards.
    if (c as u32) < 0x30A0 {
        return c;
    }
    let table = &*VARIANT_KANJI;
    match table.binary_search_by_key(&c, |&(v, _)| v) {
        Ok(i) => table[i].1,
        Err(_) => c,
    }
}

fn split_name(s: &str) -> (&str, &str) {
    let s = s.trim();
    match s.split_once(char::is_whitespace) {
        Some((family, given)) => (family, given.trim_start()),
        None => (s, ""),
    }
}

// ---------------------------------------------------------------------------------------
// Address steps
// ---------------------------------------------------------------------------------------

/// Drops `〒NNN-NNNN`, `〒NNNNNNN` or `NNN-NNNN` at the start.
fn strip_postal_code(s: &str) -> &str {
    let (marked, rest) = match s.strip_prefix('〒') {
        Some(r) => (true, r),
        None => (false, s),
    };
    let b = rest.as_bytes();
    let all_digits = |from: usize, to: usize| {
        b.get(from..to)
            .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
    };
    let len = if all_digits(0, 3) && b.get(3) == Some(&b'-') && all_digits(4, 8) {
        8
    } else if marked && all_digits(0, 7) {
        7
    } else {
        return rest;
    };
    if b.get(len).is_some_and(u8::is_ascii_digit) {
        return s;
    }
    &rest[len..]
}

/// Splits off a leading prefecture name: (its JIS code, the rest).
fn strip_prefecture(s: &str) -> (Option<u8>, &str) {
    for &(code, name) in PREFECTURES.iter() {
        if let Some(rest) = s.strip_prefix(name) {
            return (Some(code), rest);
        }
    }
    (None, s)
}

fn kanji_digit(c: char) -> Option<u32> {
    Some(match c {
        '〇' => 0,
        '一' => 1,
        '二' => 2,
        '三' => 3,
        '四' => 4,
        '五' => 5,
        '六' => 6,
        '七' => 7,
        '八' => 8,
        '九' => 9,
        _ => return None,
    })
}

fn kanji_multiplier(c: char) -> Option<u32> {
    Some(match c {
        '十' => 10,
        '百' => 100,
        '千' => 1000,
        _ => return None,
    })
}

fn is_kanji_numeral(c: char) -> bool {
    kanji_digit(c).is_some() || kanji_multiplier(c).is_some()
}

/// The value of a run of kanji numerals, up to 9999: 二十三 = 23, 千二百 = 1200,
/// 二〇三 = 203. `None` for what is not a well-formed number (十十, 二三十).
fn kanji_number_value(run: &str) -> Option<u32> {
    if run.chars().all(|c| kanji_digit(c).is_some()) {
        if run.chars().count() > 4 {
            return None;
        }
        return Some(
            run.chars()
                .filter_map(kanji_digit)
                .fold(0, |n, d| n * 10 + d),
        );
    }
    let mut total = 0;
    let mut digit: Option<u32> = None;
    let mut last_multiplier = u32::MAX;
    for c in run.chars() {
        if let Some(d) = kanji_digit(c) {
            if digit.is_some() {
                return None;
            }
            digit = Some(d);
        } else if let Some(m) = kanji_multiplier(c) {
            if m >= last_multiplier {
                return None;
            }
            total += digit.take().unwrap_or(1) * m;
            last_multiplier = m;
        }
    }
    Some(total + digit.unwrap_or(0))
}

/// Whether `after` starts with something that makes the number before it an address
/// number (see rule 4 of [`normalize_address`]).
fn followed_by_address_unit(after: &str) -> bool {
    const UNITS: [&str; 6] = ["丁目", "番地", "地割", "号", "条", "線"];
    if UNITS.iter().any(|u| after.starts_with(u)) {
        return true;
    }
    if let Some(rest) = after.strip_prefix('番') {
        // 三番町, 一番丁 are town names, not block 3 of a town.
        return !rest.starts_with(['町', '丁']);
    }
    if let Some(rest) = after.strip_prefix('の') {
        return rest
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit() || is_kanji_numeral(c));
    }
    after.chars().next().is_some_and(is_dash)
}

/// Whether the converted text so far ends in an address-number separator.
fn preceded_by_address_unit(before: &str) -> bool {
    let ends_in_unit = |t: &str| t.ends_with("丁目") || t.ends_with("番地") || t.ends_with('番');
    if ends_in_unit(before) || before.chars().next_back().is_some_and(is_dash) {
        return true;
    }
    before.strip_suffix('の').is_some_and(|t| {
        ends_in_unit(t) || t.chars().next_back().is_some_and(|c| c.is_ascii_digit())
    })
}

/// Rule 4 of [`normalize_address`].
fn kanji_numerals_to_arabic(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        if !is_kanji_numeral(c) {
            out.push(c);
            rest = &rest[c.len_utf8()..];
            continue;
        }
        let len = rest
            .char_indices()
            .find(|&(_, c)| !is_kanji_numeral(c))
            .map_or(rest.len(), |(i, _)| i);
        let (run, after) = rest.split_at(len);
        match kanji_number_value(run) {
            Some(n) if followed_by_address_unit(after) || preceded_by_address_unit(&out) => {
                // Writing to a String cannot fail.
                let _ = write!(out, "{n}");
            }
            _ => out.push_str(run),
        }
        rest = after;
    }
    out
}

/// What follows a number in an address.
enum NumberSuffix {
    /// 丁目, 番地, 番, の or a dash, of this many bytes: becomes `-`.
    Separator(usize),
    /// A 号 closing a chain: dropped.
    ChainEnd(usize),
    None,
}

fn number_suffix(after: &str, in_chain: bool) -> NumberSuffix {
    for unit in ["丁目", "番地"] {
        if after.starts_with(unit) {
            return NumberSuffix::Separator(unit.len());
        }
    }
    if let Some(rest) = after.strip_prefix('番') {
        if !rest.starts_with(['町', '丁']) {
            return NumberSuffix::Separator('番'.len_utf8());
        }
    }
    if let Some(rest) = after.strip_prefix('の') {
        if rest.starts_with(|c: char| c.is_ascii_digit()) {
            return NumberSuffix::Separator('の'.len_utf8());
        }
    }
    if let Some(c) = after.chars().next().filter(|&c| is_dash(c)) {
        return NumberSuffix::Separator(c.len_utf8());
    }
    if let Some(rest) = after.strip_prefix('号') {
        if in_chain && !rest.starts_with(['室', '棟', '館']) {
            return NumberSuffix::ChainEnd('号'.len_utf8());
        }
    }
    NumberSuffix::None
}

/// Length of one more separator right after a separator (2丁目-8, 23番地の1).
fn extra_separator_len(after: &str) -> usize {
    match after.chars().next() {
        Some(c) if is_dash(c) => c.len_utf8(),
        Some('の') if after['の'.len_utf8()..].starts_with(|c: char| c.is_ascii_digit()) => {
            'の'.len_utf8()
        }
        _ => 0,
    }
}

/// Rule 5 of [`normalize_address`].
fn canonical_block_numbers(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_chain = false;
    let mut i = 0;
    while let Some(c) = s[i..].chars().next() {
        if !c.is_ascii_digit() {
            out.push(if is_dash(c) && c != 'ー' { '-' } else { c });
            i += c.len_utf8();
            continue;
        }
        let digits = s[i..].bytes().take_while(u8::is_ascii_digit).count();
        out.push_str(&s[i..i + digits]);
        i += digits;
        match number_suffix(&s[i..], in_chain) {
            NumberSuffix::Separator(len) => {
                i += len;
                i += extra_separator_len(&s[i..]);
                in_chain = s[i..].starts_with(|c: char| c.is_ascii_digit());
                if in_chain {
                    out.push('-');
                }
            }
            NumberSuffix::ChainEnd(len) => {
                i += len;
                in_chain = false;
            }
            NumberSuffix::None => in_chain = false,
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Data tables
// ---------------------------------------------------------------------------------------

fn single_char(field: &str) -> Option<char> {
    let mut chars = field.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => Some(c),
        _ => None,
    }
}

fn parse_variant_table(text: &str) -> Result<Vec<(char, char)>, String> {
    let mut table = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let mut fields = line.split('\t');
        let (variant, standard) = match (
            fields.next().and_then(single_char),
            fields.next().and_then(single_char),
        ) {
            (Some(v), Some(s)) => (v, s),
            _ => return Err(format!("line {}: expected variant<TAB>standard", n + 1)),
        };
        table.push((variant, standard));
    }
    table.sort_unstable();
    if let Some(w) = table.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(format!("{} is listed twice", w[0].0));
    }
    Ok(table)
}

fn parse_prefecture_table(text: &str) -> Result<Vec<(u8, &str)>, String> {
    let mut table = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let mut fields = line.split('\t');
        match (fields.next().map(str::parse::<u8>), fields.next()) {
            (Some(Ok(code)), Some(name)) if !name.is_empty() => table.push((code, name)),
            _ => return Err(format!("line {}: expected code<TAB>name", n + 1)),
        }
    }
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same_kana(a: &str, b: &str) {
        assert_eq!(normalize_kana(a), normalize_kana(b), "{a} vs {b}");
    }

    #[test]
    fn kana_half_width_and_hiragana_meet_full_width() {
        assert_eq!(normalize_kana("ｶﾞｯｺｳ"), "ガツコウ");
        same_kana("ｶﾞｯｺｳ", "ガッコウ");
        same_kana("ﾊﾟｸ", "パク");
        same_kana("やまだ たろう", "ヤマダ　タロウ");
        same_kana("ゔぃおら", "ビオラ");
        same_kana("カ゛ッコウ", "ガッコウ");
        same_kana("ハ゜ク", "パク");
    }

    #[test]
    fn kana_small_and_large_are_one() {
        same_kana("きょうこ", "キョウコ");
        same_kana("キョウコ", "キヨウコ");
        same_kana("ハットリ", "ハツトリ");
        same_kana("シュウジ", "シユウジ");
        same_kana("クヮンノン", "クワンノン");
        same_kana("イチヶタニ", "イチケタニ");
        assert_eq!(normalize_kana("キョウコ"), "キヨウコ");
    }

    #[test]
    fn kana_long_vowels_marked_or_spelt_out_are_one() {
        same_kana("ユウコ", "ユーコ");
        same_kana("ユウコ", "ﾕｰｺ");
        same_kana("ケイコ", "ケーコ");
        same_kana("オオノ", "オーノ");
        same_kana("オオノ", "オウノ");
        same_kana("トオル", "トール");
        same_kana("キョウコ", "キョーコ");
        same_kana("マーサ", "マアサ");
        // A dash typed for ー.
        same_kana("ユ-コ", "ユウコ");
        // Long and short stay apart.
        assert_ne!(normalize_kana("ユウキ"), normalize_kana("ユキ"));
        assert_ne!(normalize_kana("オノ"), normalize_kana("オオノ"));
        // A mark with no vowel before it is dropped.
        assert_eq!(normalize_kana("ーアン"), "アン");
        assert_eq!(normalize_kana("ンー"), "ン");
    }

    #[test]
    fn kana_old_and_foreign_spellings_fold() {
        same_kana("ヴァイオリン", "バイオリン");
        same_kana("ヴィクトリア", "ビクトリア");
        same_kana("ヴェルデ", "ベルデ");
        same_kana("ヴォルフ", "ボルフ");
        same_kana("ヴ", "ブ");
        same_kana("ヷ", "バ");
        same_kana("ヲノ", "オノ");
        same_kana("チヂワ", "チジワ");
        same_kana("ツヅキ", "ツズキ");
        same_kana("ヰダ", "イダ");
        same_kana("ヱビス", "エビス");
    }

    #[test]
    fn kana_spaces_and_dots_go() {
        same_kana("ｽﾐｽ･ｼﾞｮﾝ", "スミスジョン");
        same_kana("スミス・ジョン", "スミス ジョン");
        same_kana(" ヤマダ\u{3000}ハナコ ", "ヤマダハナコ");
        assert_eq!(normalize_kana(""), "");
    }

    #[test]
    fn kana_key_is_a_fixed_point() {
        for s in [
            "ｷｮｰｺ",
            "ヴァイオリン",
            "オーオーノ",
            "ゆうこ",
            "ーー",
            "A-B",
            "ッ\u{3099}",
            "ユー\u{3099}",
            "\u{1100} \u{1161}",
            "\u{1100}\u{0301}\u{1161}",
        ] {
            let once = normalize_kana(s);
            assert_eq!(normalize_kana(&once), once, "{s}");
        }
    }

    #[test]
    fn voicing_is_stripped_for_the_weaker_level() {
        assert_eq!(kana_strip_voicing("ヤマザキ"), "ヤマサキ");
        assert_eq!(kana_strip_voicing("ガッコウ"), "カッコウ");
        assert_eq!(kana_strip_voicing("パク"), "ハク");
        assert_eq!(kana_strip_voicing("ブジ"), "フシ");
        assert_eq!(kana_strip_voicing("ヴ"), "ウ");
        assert_eq!(kana_strip_voicing("がぱ"), "かは");
        assert_eq!(kana_strip_voicing("山崎A"), "山崎A");
        assert_eq!(
            kana_strip_voicing(&normalize_kana("シバタ")),
            kana_strip_voicing(&normalize_kana("ｼﾊﾀ"))
        );
    }

    #[test]
    fn names_split_at_the_first_space_of_any_width() {
        assert_eq!(split_kana_name("ヤマダ タロウ"), ("ヤマダ", "タロウ"));
        assert_eq!(split_kana_name("ﾔﾏﾀﾞ ﾀﾛｳ"), ("ﾔﾏﾀﾞ", "ﾀﾛｳ"));
        assert_eq!(
            split_kana_name("ヤマダ\u{3000}\u{3000}タロウ"),
            ("ヤマダ", "タロウ")
        );
        assert_eq!(split_kana_name(" ヤマダタロウ "), ("ヤマダタロウ", ""));
        assert_eq!(split_kanji_name("山田\u{3000}太郎"), ("山田", "太郎"));
        assert_eq!(split_kanji_name("髙橋 一 郎"), ("髙橋", "一 郎"));
        assert_eq!(split_kanji_name(""), ("", ""));
    }

    #[test]
    fn kanji_variants_meet_the_standard_form() {
        let same = |a: &str, b: &str| {
            assert_eq!(
                normalize_kanji_name(a),
                normalize_kanji_name(b),
                "{a} vs {b}"
            )
        };
        same("渡邊", "渡辺");
        same("渡邉", "渡辺");
        same("髙橋", "高橋");
        same("斎藤", "齋藤");
        same("斎藤", "齊藤");
        same("斉藤", "斎藤");
        same("山﨑", "山崎");
        same("宮嵜", "宮崎");
        same("中嶋", "中島");
        same("長澤", "長沢");
        same("濱田", "浜田");
        same("廣瀬", "広瀬");
        same("廣瀨", "広瀬");
        same("櫻井", "桜井");
        same("國分", "国分");
        same("𠮷田", "吉田");
        same("\u{FA10}本", "塚本");
        same("\u{FA19}田", "神田");
        same("龍也", "竜也");
        same("戶田", "戸田");
        same("一ヶ谷", "一ケ谷");
        // Spaces of both widths and variation selectors go.
        same("渡邊\u{3000}太郎", "渡辺 太郎");
        same("葛\u{E0100}西", "葛西");
        same("ｽﾐｽ･ｼﾞｮﾝ", "スミスジョン");
        assert_eq!(normalize_kanji_name("佐々木"), "佐々木");
        assert_ne!(
            normalize_kanji_name("さくら"),
            normalize_kanji_name("サクラ")
        );
    }

    #[test]
    fn variant_table_is_well_formed() {
        let table = parse_variant_table(VARIANT_KANJI_TSV).unwrap();
        assert!(table.len() >= 100, "{} entries", table.len());
        for &(variant, standard) in &table {
            assert_ne!(variant, standard, "{variant} maps to itself");
            assert!(
                table.binary_search_by_key(&standard, |&(v, _)| v).is_err(),
                "{variant}→{standard} chains: {standard} is itself a variant"
            );
            assert_eq!(
                standard.to_string().nfkc().collect::<String>(),
                standard.to_string(),
                "{standard} is not NFKC-stable"
            );
            assert_eq!(standard_kanji(variant), standard);
        }
        for required in "髙﨑嵜邊邉齋齊斉澤濱廣櫻國德眞實惠榮龍藏瀨圓萬與壽曾冨槇\u{FA10}\u{FA19}黑條淺將縣關驛戶𠮷".chars() {
            assert!(
                table.binary_search_by_key(&required, |&(v, _)| v).is_ok(),
                "{required} missing"
            );
        }
        assert!(parse_variant_table("髙\n").is_err());
        assert!(parse_variant_table("髙高\t高\n").is_err());
        assert!(parse_variant_table("髙\t高\n髙\t高\n").is_err());
    }

    #[test]
    fn prefecture_table_has_all_47() {
        let table = parse_prefecture_table(PREFECTURES_TSV).unwrap();
        assert_eq!(table.len(), 47);
        for (i, &(code, name)) in table.iter().enumerate() {
            assert_eq!(usize::from(code), i + 1);
            assert!(
                ["都", "道", "府", "県"].iter().any(|s| name.ends_with(s)),
                "{name}"
            );
        }
        assert!(parse_prefecture_table("xx\t東京都\n").is_err());
    }

    #[test]
    fn prefecture_is_found_and_dropped() {
        assert_eq!(prefecture_of("東京都新宿区西新宿2-8-1"), Some(13));
        assert_eq!(prefecture_of("北海道札幌市中央区北1条西2丁目"), Some(1));
        assert_eq!(
            prefecture_of("　〒530-8201 大阪府大阪市北区中之島1-3-20"),
            Some(27)
        );
        assert_eq!(prefecture_of("鹿児島県鹿児島市"), Some(46));
        assert_eq!(prefecture_of("京都市中京区"), None);
        assert_eq!(prefecture_of("新宿区西新宿"), None);
        assert_eq!(prefecture_of(""), None);
        assert_eq!(
            normalize_address("東京都新宿区西新宿2-8-1"),
            normalize_address("新宿区西新宿2-8-1")
        );
        assert_eq!(normalize_address("京都府京都市中京区"), "京都市中京区");
    }

    #[test]
    fn address_numbers_take_one_form() {
        let want = "新宿区西新宿2-8-1";
        for s in [
            "東京都新宿区西新宿2丁目8番1号",
            "東京都新宿区西新宿二丁目八番一号",
            "新宿区西新宿2-8-1",
            "新宿区西新宿２－８－１",
            "新宿区西新宿2丁目8-1",
            "新宿区西新宿2丁目8番地1",
            "新宿区西新宿2丁目8番地の1",
            "新宿区 西新宿 ２ー８ー１",
            "新宿区西新宿2‐8‐1",
            "新宿区西新宿2−8−1",
            "新宿区西新宿2ｰ8ｰ1",
            "新宿区西新宿二—八—一",
            "〒163-8001 東京都新宿区西新宿二丁目8番1号",
        ] {
            assert_eq!(normalize_address(s), want, "{s}");
        }
    }

    #[test]
    fn kanji_numerals_are_read_where_they_number_blocks() {
        assert_eq!(normalize_address("千代田区霞が関一丁目"), "千代田区霞が関1");
        assert_eq!(
            normalize_address("港区芝公園四丁目二番八号"),
            "港区芝公園4-2-8"
        );
        assert_eq!(normalize_address("何町二十三番地"), "何町23");
        assert_eq!(normalize_address("何町二十三番地の四"), "何町23-4");
        assert_eq!(normalize_address("何町千二百三十四番地"), "何町1234");
        assert_eq!(normalize_address("何町二〇三番地"), "何町203");
        assert_eq!(normalize_address("何町百五番"), "何町105");
        // Place names keep their numerals.
        assert_eq!(normalize_address("三重県四日市市"), "四日市市");
        assert_eq!(normalize_address("八王子市"), "八王子市");
        assert_eq!(normalize_address("千代田区九段南一丁目"), "千代田区九段南1");
        assert_eq!(normalize_address("千代田区三番町"), "千代田区三番町");
        assert_eq!(
            normalize_address("千代田区一番町二十三"),
            "千代田区一番町二十三"
        );
        // Sapporo: 条 numbers the locality.
        assert_eq!(
            normalize_address("北海道札幌市中央区北一条西二丁目"),
            "札幌市中央区北1条西2"
        );
        // Malformed numerals stay as written.
        assert_eq!(kanji_number_value("十十"), None);
        assert_eq!(kanji_number_value("二三十"), None);
        assert_eq!(kanji_number_value("一二三四五"), None);
        assert_eq!(kanji_number_value("九千九百九十九"), Some(9999));
    }

    #[test]
    fn rooms_and_buildings_are_kept() {
        assert_eq!(
            normalize_address("新宿区西新宿2丁目8番1号 新宿ビル3階"),
            "新宿区西新宿2-8-1新宿ビル3階"
        );
        assert_eq!(
            normalize_address("中野区中野1-2-3 メゾン中野203号室"),
            "中野区中野1-2-3メゾン中野203号室"
        );
        assert_eq!(
            normalize_address("中野区中野1-2-3-203号室"),
            "中野区中野1-2-3-203号室"
        );
        assert_eq!(normalize_address("センター・ハイツ"), "センター・ハイツ");
        assert_eq!(
            normalize_address("宮﨑市"),
            normalize_address("宮崎県宮崎市")
        );
    }

    #[test]
    fn address_parts_separate_locality_block_and_building() {
        let key = normalize_address("東京都新宿区西新宿二丁目八番一号 新宿ビル3階");
        let parts = address_parts(&key);
        assert_eq!(parts.locality, "新宿区西新宿");
        assert_eq!(parts.block, "2-8-1");
        assert_eq!(parts.rest, "新宿ビル3階");
        let sapporo = normalize_address("札幌市中央区北1条西2丁目3番4号");
        assert_eq!(
            address_parts(&sapporo),
            AddressParts {
                locality: "札幌市中央区北1条西",
                block: "2-3-4",
                rest: ""
            }
        );
        assert_eq!(
            address_parts("岩手郡第1地割"),
            AddressParts {
                locality: "岩手郡第1地割",
                block: "",
                rest: ""
            }
        );
        assert_eq!(
            address_parts("1-"),
            AddressParts {
                locality: "",
                block: "1",
                rest: "-"
            }
        );
    }

    #[test]
    fn phone_numbers_become_digits() {
        assert_eq!(normalize_phone("090-1234-5678"), "09012345678");
        assert_eq!(normalize_phone("０９０－１２３４－５６７８"), "09012345678");
        assert_eq!(normalize_phone("03(1234)5678"), "0312345678");
        assert_eq!(normalize_phone("+81 90 1234 5678"), "09012345678");
        assert_eq!(normalize_phone("+81 (0)3-1234-5678"), "0312345678");
        assert_eq!(normalize_phone("81-3-1234"), "8131234");
        assert_eq!(normalize_phone("なし"), "");
    }

    #[test]
    fn postal_codes_are_dropped_only_when_whole() {
        assert_eq!(strip_postal_code("〒160-0023新宿区"), "新宿区");
        assert_eq!(strip_postal_code("〒1600023新宿区"), "新宿区");
        assert_eq!(strip_postal_code("160-0023新宿区"), "新宿区");
        assert_eq!(strip_postal_code("160-00234"), "160-00234");
        assert_eq!(strip_postal_code("〒新宿区"), "新宿区");
        assert_eq!(strip_postal_code("1-2-3"), "1-2-3");
    }
}
