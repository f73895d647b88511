//! Reads what a clinic wrote about a tier-3 patient in the receipt's 摘要 (DOMAIN §4).
//!
//! A receipt billed with filler numbers must carry, in free-text comment records (CO,
//! comment code 810000001): 不詳, the kana name, the insurance kind, the insurer's name,
//! the employer, the address, the contact and the date the patient was contacted.
//! Clinics write these in no fixed form — `住所：…`, `住所:…`, `【住所】…`, `(住所)…`,
//! `＜住所＞…`, `住所 …`, a value without a label, several items in one comment separated
//! by `、`, `／` or spaces, full- or half-width — so this parser is tolerant: it finds
//! labels (with synonyms) wherever a token starts, gives each label the text up to the
//! next label or item separator, infers what unlabelled values are only when that is
//! safe, and returns everything else in [`DeclaredInComments::unparsed`] so the engine
//! can report what could not be read.
//!
//! Values are kept as written (trimmed of spaces, separators and decorations); turning
//! them into matching keys is [`super::normalize`]'s job. A value that says there is no
//! value (不詳, 不明, なし, わからない …) leaves the field empty. Nothing here panics,
//! whatever the input.

use std::ops::Range;

use chrono::NaiveDate;
use unicode_normalization::UnicodeNormalization;

use super::normalize::{is_dash, normalize_phone, prefecture_of};
use crate::domain::{parse_written_date, InsuranceKind};

/// What a receipt's 摘要 comments say about the patient.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeclaredInComments {
    /// 不詳 was written: the clinic bills with the numbers unknown.
    pub unknown_marker: bool,
    /// カナ氏名, as written (may be half-width or hiragana).
    pub kana_name: Option<String>,
    /// 保険種別; `Unknown` when the clinic wrote that it is unknown (不明, わからない).
    pub insurance_kind: Option<InsuranceKind>,
    /// 保険者等名称.
    pub insurer_name: Option<String>,
    /// 事業所名 (employer).
    pub employer: Option<String>,
    /// 住所.
    pub address: Option<String>,
    /// 連絡先 (phone number, as written).
    pub contact: Option<String>,
    /// 連絡日: the day the patient was contacted.
    pub contacted_on: Option<NaiveDate>,
    /// Pieces of text that could not be read: unknown labels, values of the wrong form
    /// (保険種別：組合), a second different value for a field already read, and
    /// unlabelled text that is none of the things that can be inferred safely.
    pub unparsed: Vec<String>,
}

/// Parses the texts of a receipt's free-text comments (comment code 810000001), in
/// record order. A label left without a value at the end of one comment takes the
/// first item of the next (clinics split long 摘要 across records).
///
/// Unlabelled values are inferred conservatively: katakana only → the kana name;
/// a phone number (10–11 digits from 0, or +81) → the contact; a date → the contact
/// date; text starting with a prefecture, or with 市/区/町/村/郡 and a number → the
/// address; one of 社保, 国保, 後期 … → the insurance kind. Each only if that field is
/// still empty.
pub fn parse_declared_comments<'a>(texts: impl IntoIterator<Item = &'a str>) -> DeclaredInComments {
    let mut parser = Parser::default();
    for text in texts {
        let view = View::new(text);
        for segment in segments(&view) {
            parser.segment(&view, segment);
        }
    }
    parser.out
}

// ---------------------------------------------------------------------------------------
// A normalized view of one comment
// ---------------------------------------------------------------------------------------

/// One comment, NFKC'd and ASCII-lowercased character by character for recognition,
/// with the byte range each character came from so values can be cut from the text as
/// written.
struct View<'t> {
    text: &'t str,
    chars: Vec<char>,
    spans: Vec<(usize, usize)>,
}

impl<'t> View<'t> {
    fn new(text: &'t str) -> Self {
        let mut chars: Vec<char> = Vec::with_capacity(text.len() / 2);
        let mut spans: Vec<(usize, usize)> = Vec::with_capacity(text.len() / 2);
        for (start, c) in text.char_indices() {
            let end = start + c.len_utf8();
            for d in std::iter::once(c).nfkc() {
                let d = d.to_ascii_lowercase();
                // A half-width voiced mark (ｶﾞ) composes with the kana before it.
                if let (Some(last), Some(span)) = (chars.last_mut(), spans.last_mut()) {
                    if let Some(composed) = unicode_normalization::char::compose(*last, d) {
                        *last = composed;
                        span.1 = end;
                        continue;
                    }
                }
                chars.push(d);
                spans.push((start, end));
            }
        }
        View { text, chars, spans }
    }

    fn len(&self) -> usize {
        self.chars.len()
    }

    /// The text as written that `r` (view indices) came from.
    fn original(&self, r: Range<usize>) -> &'t str {
        if r.start >= r.end || r.end > self.spans.len() {
            return "";
        }
        let (from, to) = (self.spans[r.start].0, self.spans[r.end - 1].1);
        self.text.get(from..to).unwrap_or("")
    }

    /// The normalized text of `r`, spaces removed.
    fn compact(&self, r: Range<usize>) -> String {
        self.chars
            .get(r)
            .unwrap_or_default()
            .iter()
            .filter(|c| !c.is_whitespace())
            .collect()
    }

    fn get(&self, i: usize) -> Option<char> {
        self.chars.get(i).copied()
    }

    /// `r` without leading and trailing spaces, separators and decorations.
    fn trim(&self, r: Range<usize>) -> Range<usize> {
        let (mut from, mut to) = (r.start, r.end.min(self.len()));
        while from < to && is_trimmed(self, from) {
            from += 1;
        }
        while to > from && is_trimmed(self, to - 1) {
            to -= 1;
        }
        from..to
    }

    /// Whitespace-separated tokens of `r`.
    fn tokens(&self, r: Range<usize>) -> Vec<Range<usize>> {
        let mut tokens = Vec::new();
        let mut start = None;
        for i in r.start..r.end.min(self.len()) {
            match (self.chars[i].is_whitespace(), start) {
                (true, Some(s)) => {
                    tokens.push(s..i);
                    start = None;
                }
                (false, None) => start = Some(i),
                _ => {}
            }
        }
        if let Some(s) = start {
            tokens.push(s..r.end.min(self.len()));
        }
        tokens
    }
}

/// Separates items within a comment: 、 , ; 。 | and / (but not between digits, as in
/// 2026/5/12).
fn is_item_separator(view: &View, i: usize) -> bool {
    match view.get(i) {
        Some('、' | ',' | ';' | '。' | '|') => true,
        Some('/') => {
            let digit_at = |j: Option<usize>| {
                j.and_then(|j| view.get(j))
                    .is_some_and(|c| c.is_ascii_digit())
            };
            !(digit_at(i.checked_sub(1)) && digit_at(Some(i + 1)))
        }
        _ => false,
    }
}

fn is_decoration(c: char) -> bool {
    matches!(c, '*' | '※' | '★' | '☆' | '●' | '○' | '■' | '◆' | '◇' | '◎')
}

fn is_trimmed(view: &View, i: usize) -> bool {
    view.get(i)
        .is_some_and(|c| c.is_whitespace() || matches!(c, ':' | '=') || is_decoration(c))
        || is_item_separator(view, i)
}

fn is_open_bracket(c: char) -> bool {
    matches!(
        c,
        '(' | '[' | '<' | '{' | '【' | '〔' | '〈' | '《' | '「' | '『' | '〘' | '≪' | '«'
    )
}

fn is_close_bracket(c: char) -> bool {
    matches!(
        c,
        ')' | ']' | '>' | '}' | '】' | '〕' | '〉' | '》' | '」' | '』' | '〙' | '≫' | '»'
    )
}

// ---------------------------------------------------------------------------------------
// Labels and segments
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Label {
    /// 不詳: a marker, not followed by a value of its own.
    Marker,
    KanaName,
    Kind,
    InsurerName,
    Employer,
    Address,
    Contact,
    ContactedOn,
}

/// Label spellings after NFKC and ASCII lowercasing, longest first so that 保険者等名称
/// wins over 保険者 and 電話番号 over 電話.
const LABELS: &[(&str, Label)] = &[
    ("保険者等の名称", Label::InsurerName),
    ("保険者等名称", Label::InsurerName),
    ("氏名(カナ)", Label::KanaName),
    ("連絡年月日", Label::ContactedOn),
    ("確認年月日", Label::ContactedOn),
    ("事業所名称", Label::Employer),
    ("保険者名称", Label::InsurerName),
    ("保険の種類", Label::Kind),
    ("フリガナ", Label::KanaName),
    ("ふりがな", Label::KanaName),
    ("カナ氏名", Label::KanaName),
    ("氏名カナ", Label::KanaName),
    ("保険種別", Label::Kind),
    ("保険種類", Label::Kind),
    ("保険者名", Label::InsurerName),
    ("事業所名", Label::Employer),
    ("電話番号", Label::Contact),
    ("事業所", Label::Employer),
    ("勤務先", Label::Employer),
    ("勤め先", Label::Employer),
    ("会社名", Label::Employer),
    ("現住所", Label::Address),
    ("連絡先", Label::Contact),
    ("連絡日", Label::ContactedOn),
    ("確認日", Label::ContactedOn),
    ("保険者", Label::InsurerName),
    ("tel", Label::Contact),
    ("カナ", Label::KanaName),
    ("種別", Label::Kind),
    ("住所", Label::Address),
    ("居所", Label::Address),
    ("電話", Label::Contact),
    ("不詳", Label::Marker),
];

/// A label (or none) and the text that belongs to it.
#[derive(Debug, Clone)]
struct Segment {
    label: Option<Label>,
    /// Where the segment starts, label included (for reporting it as written).
    start: usize,
    value: Range<usize>,
}

/// A token may start a label at the beginning, after a space, a separator, a colon, a
/// bracket or a decoration.
fn is_token_start(view: &View, i: usize) -> bool {
    let Some(prev) = i.checked_sub(1) else {
        return true;
    };
    view.get(prev).is_some_and(|c| {
        c.is_whitespace()
            || c == ':'
            || is_open_bracket(c)
            || is_close_bracket(c)
            || is_decoration(c)
    }) || is_item_separator(view, prev)
}

fn label_named(name: &[char]) -> Option<Label> {
    LABELS
        .iter()
        .find(|(spelling, _)| spelling.chars().eq(name.iter().copied()))
        .map(|&(_, label)| label)
}

/// Index after the delimiters (spaces, `:`, `=`, `.`) that follow a label.
fn skip_delimiters(view: &View, mut i: usize) -> usize {
    while view
        .get(i)
        .is_some_and(|c| c.is_whitespace() || matches!(c, ':' | '=' | '.'))
    {
        i += 1;
    }
    i
}

/// A label starting at `i`: (label, where its value starts).
///
/// `【住所】`-style labels (any bracket) are recognized anywhere, the bracket holding
/// exactly a label. Plain labels only at a token start, and only when a delimiter
/// follows (`:`, `=`, `.`, a space, a separator, the end) — or a digit, for 電話 and
/// 連絡日 (`TEL03-…`). So 保険者番号 is not 保険者, and (株) is not a label.
fn label_at(view: &View, i: usize, allow_marker: bool) -> Option<(Label, usize)> {
    let c = view.get(i)?;
    if is_open_bracket(c) {
        const MAX_LABEL: usize = 12;
        let limit = (i + 2 + MAX_LABEL).min(view.len());
        let close = (i + 1..limit).find(|&j| view.get(j).is_some_and(is_close_bracket))?;
        let inner = view.trim(i + 1..close);
        let label = label_named(view.chars.get(inner)?)?;
        if label == Label::Marker && !allow_marker {
            return None;
        }
        return Some((label, skip_delimiters(view, close + 1)));
    }
    if !is_token_start(view, i) {
        return None;
    }
    for &(spelling, label) in LABELS {
        if label == Label::Marker && !allow_marker {
            continue;
        }
        let len = spelling.chars().count();
        let matches = spelling
            .chars()
            .enumerate()
            .all(|(k, s)| view.get(i + k) == Some(s));
        if !matches {
            continue;
        }
        let end = i + len;
        if label == Label::Marker {
            return Some((label, end));
        }
        let delimited = match view.get(end) {
            None => true,
            Some(d) => {
                d.is_whitespace()
                    || matches!(d, ':' | '=' | '.')
                    || is_item_separator(view, end)
                    || (d.is_ascii_digit() && matches!(label, Label::Contact | Label::ContactedOn))
            }
        };
        if delimited {
            return Some((label, skip_delimiters(view, end)));
        }
    }
    None
}

/// Cuts a comment at its labels.
fn segments(view: &View) -> Vec<Segment> {
    let mut segments = Vec::new();
    let mut current = Segment {
        label: None,
        start: 0,
        value: 0..0,
    };
    let mut i = 0;
    while i < view.len() {
        // A value may itself be 不詳 (保険者名：不詳): that is not the marker.
        let at_value_start =
            i == current.value.start && current.label.is_some_and(|l| l != Label::Marker);
        if let Some((label, value_start)) = label_at(view, i, !at_value_start) {
            current.value.end = i;
            segments.push(current);
            current = Segment {
                label: Some(label),
                start: i,
                value: value_start..value_start,
            };
            i = value_start.max(i + 1);
            continue;
        }
        i += 1;
    }
    current.value.end = view.len().max(current.value.start);
    segments.push(current);
    segments
}

// ---------------------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------------------

/// Values that say there is nothing to say.
fn is_no_value(compact: &str) -> bool {
    matches!(
        compact,
        "不詳"
            | "不明"
            | "なし"
            | "無し"
            | "ナシ"
            | "無"
            | "わからない"
            | "分からない"
            | "わからず"
            | "未確認"
            | "未記入"
            | "空欄"
    ) || (!compact.is_empty()
        && compact
            .chars()
            .all(|c| is_dash(c) || matches!(c, '?' | '？' | '×' | '*' | '〃')))
}

/// An insurance-kind word, and whether it is definite enough to infer without a label
/// (その他 and 不明 are not).
fn kind_word(compact: &str) -> Option<(InsuranceKind, bool)> {
    Some(match compact {
        "社保" | "社会保険" | "協会けんぽ" | "協会" | "けんぽ" | "健保" | "健康保険"
        | "組合健保" | "健保組合" | "共済" | "共済組合" | "船員保険" | "被用者保険" => {
            (InsuranceKind::Shaho, true)
        }
        "国保" | "国民健康保険" | "国民保険" | "国保組合" | "市町村国保" => {
            (InsuranceKind::Kokuho, true)
        }
        "後期"
        | "後期高齢"
        | "後期高齢者"
        | "後期高齢者医療"
        | "後期高齢者医療制度"
        | "長寿医療" => (InsuranceKind::Koki, true),
        "その他" | "他" => (InsuranceKind::Other, false),
        "不明" | "不詳" | "わからない" | "分からない" | "わからず" => {
            (InsuranceKind::Unknown, false)
        }
        _ => return None,
    })
}

fn is_katakana(c: char) -> bool {
    matches!(c, '\u{30A1}'..='\u{30FA}' | '\u{30FB}'..='\u{30FE}')
}

fn is_hiragana(c: char) -> bool {
    matches!(c, '\u{3041}'..='\u{3096}' | '\u{309D}'..='\u{309E}')
}

/// Katakana only (and, under a kana label, hiragana), with at least one letter.
fn is_kana_token(compact: &str, allow_hiragana: bool) -> bool {
    !compact.is_empty()
        && compact
            .chars()
            .all(|c| is_katakana(c) || (allow_hiragana && is_hiragana(c)))
        && compact
            .chars()
            .any(|c| !matches!(c, 'ー' | '・' | 'ヽ' | 'ヾ'))
}

fn is_phone_char(c: char) -> bool {
    c.is_ascii_digit() || is_dash(c) || matches!(c, '(' | ')' | '+')
}

/// A Japanese phone number: phone characters only, 10 or 11 digits from a 0 (landline,
/// mobile, 0120), `+81` allowed.
fn is_phone(compact: &str) -> bool {
    if compact.is_empty() || !compact.chars().all(is_phone_char) {
        return false;
    }
    let digits = normalize_phone(compact);
    (10..=11).contains(&digits.len()) && digits.starts_with('0')
}

/// Text that can only be an address: it starts with a prefecture, or names a
/// municipality (市 区 町 村 郡) and has a number.
fn looks_like_address(compact: &str) -> bool {
    prefecture_of(compact).is_some()
        || (compact.contains(['市', '区', '町', '村', '郡'])
            && (compact.contains(|c: char| c.is_ascii_digit())
                || compact.contains("丁目")
                || compact.contains("番地")))
}

/// How many of `tokens` (compact) make an unlabelled address: the first token and the
/// numbers that follow it (練馬区豊玉北 6-12-1), if together they look like one.
fn address_run(tokens: &[String]) -> Option<usize> {
    let continues = |c: &str| {
        !is_phone(c)
            && parse_date(c).is_none()
            && kind_word(c).is_none()
            && (c.contains(|c: char| c.is_ascii_digit())
                || c.contains("丁目")
                || c.contains("番地"))
    };
    let first = tokens.first()?;
    if prefecture_of(first).is_none() && !first.contains(['市', '区', '町', '村', '郡']) {
        return None;
    }
    let n = 1 + tokens[1..].iter().take_while(|c| continues(c)).count();
    looks_like_address(&tokens[..n].concat()).then_some(n)
}

/// A date as clinics write it (see [`parse_written_date`]).
fn parse_date(compact: &str) -> Option<NaiveDate> {
    parse_written_date(compact)
}

// ---------------------------------------------------------------------------------------
// Filling the result
// ---------------------------------------------------------------------------------------

#[derive(Default)]
struct Parser {
    out: DeclaredInComments,
    /// A label whose value has not come yet (it ended a comment, or was empty).
    pending: Option<Label>,
}

impl Parser {
    fn segment(&mut self, view: &View, segment: Segment) {
        let Some(label) = segment.label else {
            self.unlabelled(view, segment.value);
            return;
        };
        self.pending = None;
        if label == Label::Marker {
            self.out.unknown_marker = true;
            self.unlabelled(view, segment.value);
            return;
        }
        let value = view.trim(segment.value.clone());
        if value.is_empty() {
            self.pending = Some(label);
            return;
        }
        let first_end = (value.start..value.end)
            .find(|&i| is_item_separator(view, i))
            .unwrap_or(value.end);
        let first = view.trim(value.start..first_end);
        self.labelled(view, label, first.clone(), segment.start..first.end);
        self.unlabelled(view, first_end..value.end);
    }

    /// Unlabelled text: its items in turn, the first taken by a pending label.
    fn unlabelled(&mut self, view: &View, r: Range<usize>) {
        let mut start = r.start;
        for i in r.start..=r.end {
            if i < r.end && !is_item_separator(view, i) {
                continue;
            }
            let item = view.trim(start..i);
            start = i + 1;
            if item.is_empty() {
                continue;
            }
            match self.pending.take() {
                Some(label) => self.labelled(view, label, item.clone(), item),
                None => self.infer(view, item),
            }
        }
    }

    /// A labelled value. `report` is the text to put in `unparsed` if it cannot be read.
    fn labelled(&mut self, view: &View, label: Label, item: Range<usize>, report: Range<usize>) {
        let compact = view.compact(item.clone());
        if is_no_value(&compact) {
            if label == Label::Kind {
                self.set_kind(view, InsuranceKind::Unknown, report);
            }
            return;
        }
        let tokens = view.tokens(item.clone());
        let (Some(first), Some(last)) = (tokens.first().cloned(), tokens.last().cloned()) else {
            return;
        };
        match label {
            Label::Marker => self.out.unknown_marker = true,
            Label::KanaName => {
                let kana = tokens
                    .iter()
                    .take_while(|t| is_kana_token(&view.compact((*t).clone()), true))
                    .count();
                let end = if kana == 0 {
                    last.end
                } else {
                    tokens[kana - 1].end
                };
                self.set_text(view, Field::KanaName, first.start..end, report);
                self.infer(view, end..item.end);
            }
            Label::Kind => {
                if let Some((kind, _)) = kind_word(&compact) {
                    self.set_kind(view, kind, report);
                } else if let Some((kind, _)) = kind_word(&view.compact(first.clone())) {
                    self.set_kind(view, kind, report);
                    self.infer(view, first.end..item.end);
                } else {
                    self.unparsed(view, report);
                }
            }
            Label::ContactedOn => {
                if let Some(date) = parse_date(&compact) {
                    self.set_date(view, date, report);
                } else if let Some(date) = parse_date(&view.compact(first.clone())) {
                    self.set_date(view, date, report);
                    self.infer(view, first.end..item.end);
                } else {
                    self.unparsed(view, report);
                }
            }
            Label::Contact => {
                // The number, then whatever follows it ((携帯), a name) is read apart.
                let mut end = item.start;
                while view
                    .get(end)
                    .is_some_and(|c| is_phone_char(c) || c.is_whitespace())
                    && end < item.end
                {
                    end += 1;
                }
                while end > item.start
                    && view
                        .get(end - 1)
                        .is_some_and(|c| c.is_whitespace() || c == '(' || c == '+')
                {
                    end -= 1;
                }
                let has_digit =
                    (item.start..end).any(|i| view.get(i).is_some_and(|c| c.is_ascii_digit()));
                if has_digit {
                    self.set_text(view, Field::Contact, item.start..end, report);
                    self.infer(view, end..item.end);
                } else {
                    self.set_text(view, Field::Contact, item.clone(), report);
                }
            }
            Label::InsurerName | Label::Employer | Label::Address => {
                // The value runs until a token that is clearly something else.
                let kept = 1 + tokens[1..]
                    .iter()
                    .take_while(|t| {
                        let c = view.compact((*t).clone());
                        !is_phone(&c) && parse_date(&c).is_none()
                    })
                    .count();
                let end = tokens[kept - 1].end;
                let field = match label {
                    Label::InsurerName => Field::InsurerName,
                    Label::Employer => Field::Employer,
                    _ => Field::Address,
                };
                self.set_text(view, field, first.start..end, report);
                self.infer(view, end..item.end);
            }
        }
    }

    /// Unlabelled tokens: inferred one run at a time, or left unparsed.
    fn infer(&mut self, view: &View, r: Range<usize>) {
        let tokens = view.tokens(r);
        let compact: Vec<String> = tokens.iter().map(|t| view.compact(t.clone())).collect();
        let mut unread: Option<Range<usize>> = None;
        let mut i = 0;
        while i < tokens.len() {
            let run_end = |from: usize, pred: &dyn Fn(&str) -> bool| {
                (from..tokens.len())
                    .find(|&j| !pred(&compact[j]))
                    .unwrap_or(tokens.len())
            };
            // A phone number may be written with spaces: 090 1234 5678, +81 90 1234 5678.
            const MAX_PHONE_TOKENS: usize = 4;
            let phone_end = run_end(i, &|c| c.chars().all(is_phone_char)).min(i + MAX_PHONE_TOKENS);
            let phone_len = (i + 1..=phone_end)
                .rev()
                .find(|&j| is_phone(&compact[i..j].concat()))
                .map(|j| j - i);
            let kind = kind_word(&compact[i]).filter(|&(_, definite)| definite);
            let read = if is_no_value(&compact[i]) {
                Some(1)
            } else if let Some(n) = phone_len {
                let span = tokens[i].start..tokens[i + n - 1].end;
                self.set_text(view, Field::Contact, span.clone(), span);
                Some(n)
            } else if let Some(date) = parse_date(&compact[i]) {
                self.set_date(view, date, tokens[i].clone());
                Some(1)
            } else if let Some((kind, _)) = kind {
                self.set_kind(view, kind, tokens[i].clone());
                Some(1)
            } else if is_kana_token(&compact[i], false) && compact[i].chars().count() >= 2 {
                let n = run_end(i, &|c| is_kana_token(c, false)) - i;
                let span = tokens[i].start..tokens[i + n - 1].end;
                self.set_text(view, Field::KanaName, span.clone(), span);
                Some(n)
            } else if let Some(n) = address_run(&compact[i..]) {
                let span = tokens[i].start..tokens[i + n - 1].end;
                self.set_text(view, Field::Address, span.clone(), span);
                Some(n)
            } else {
                None
            };
            match read {
                Some(n) => {
                    if let Some(u) = unread.take() {
                        self.unparsed(view, u);
                    }
                    i += n;
                }
                None => {
                    let t = tokens[i].clone();
                    unread = Some(unread.map_or(t.clone(), |u| u.start..t.end));
                    i += 1;
                }
            }
        }
        if let Some(u) = unread {
            self.unparsed(view, u);
        }
    }

    fn set_text(&mut self, view: &View, field: Field, value: Range<usize>, report: Range<usize>) {
        let value = view.original(view.trim(value));
        if value.is_empty() {
            return;
        }
        let slot = match field {
            Field::KanaName => &mut self.out.kana_name,
            Field::InsurerName => &mut self.out.insurer_name,
            Field::Employer => &mut self.out.employer,
            Field::Address => &mut self.out.address,
            Field::Contact => &mut self.out.contact,
        };
        match slot {
            None => *slot = Some(value.to_string()),
            Some(existing) if existing == value => {}
            Some(_) => self.unparsed(view, report),
        }
    }

    fn set_kind(&mut self, view: &View, kind: InsuranceKind, report: Range<usize>) {
        match self.out.insurance_kind {
            None => self.out.insurance_kind = Some(kind),
            Some(k) if k == kind => {}
            // A definite kind written after 不明 replaces it.
            Some(InsuranceKind::Unknown) => self.out.insurance_kind = Some(kind),
            Some(_) => self.unparsed(view, report),
        }
    }

    fn set_date(&mut self, view: &View, date: NaiveDate, report: Range<usize>) {
        match self.out.contacted_on {
            None => self.out.contacted_on = Some(date),
            Some(d) if d == date => {}
            Some(_) => self.unparsed(view, report),
        }
    }

    fn unparsed(&mut self, view: &View, r: Range<usize>) {
        let text = view.original(view.trim(r));
        if !text.is_empty() {
            self.out.unparsed.push(text.to_string());
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Field {
    KanaName,
    InsurerName,
    Employer,
    Address,
    Contact,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(texts: &[&str]) -> DeclaredInComments {
        parse_declared_comments(texts.iter().copied())
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn one_item_per_comment_with_full_width_colons() {
        let got = parse(&[
            "不詳",
            "カナ氏名：ヤマダ　タロウ",
            "保険種別：社保",
            "保険者等名称：全国健康保険協会東京支部",
            "事業所名：株式会社山田商事",
            "住所：東京都新宿区西新宿２－８－１",
            "連絡先：090-1234-5678",
            "連絡日：令和8年5月12日",
        ]);
        assert_eq!(
            got,
            DeclaredInComments {
                unknown_marker: true,
                kana_name: Some("ヤマダ　タロウ".into()),
                insurance_kind: Some(InsuranceKind::Shaho),
                insurer_name: Some("全国健康保険協会東京支部".into()),
                employer: Some("株式会社山田商事".into()),
                address: Some("東京都新宿区西新宿２－８－１".into()),
                contact: Some("090-1234-5678".into()),
                contacted_on: Some(date(2026, 5, 12)),
                unparsed: vec![],
            }
        );
    }

    #[test]
    fn bracketed_labels_of_every_kind() {
        let got = parse(&[
            "【不詳】【カナ】ｽｽﾞｷ ﾊﾅｺ【保険の種類】国保",
            "(保険者)横浜市 ＜住所＞神奈川県横浜市中区港町1-1",
            "［電話］045-123-4567 《連絡日》R8.5.12",
        ]);
        assert!(got.unknown_marker);
        assert_eq!(got.kana_name.as_deref(), Some("ｽｽﾞｷ ﾊﾅｺ"));
        assert_eq!(got.insurance_kind, Some(InsuranceKind::Kokuho));
        assert_eq!(got.insurer_name.as_deref(), Some("横浜市"));
        assert_eq!(got.address.as_deref(), Some("神奈川県横浜市中区港町1-1"));
        assert_eq!(got.contact.as_deref(), Some("045-123-4567"));
        assert_eq!(got.contacted_on, Some(date(2026, 5, 12)));
        assert!(got.unparsed.is_empty(), "{:?}", got.unparsed);
    }

    #[test]
    fn several_items_in_one_comment() {
        let got = parse(&[
            "不詳、フリガナ:サトウ イチロウ、種別:後期、住所:大阪府大阪市北区梅田1丁目1番3号／TEL:06-6345-1234／確認日:2026/5/12",
        ]);
        assert!(got.unknown_marker);
        assert_eq!(got.kana_name.as_deref(), Some("サトウ イチロウ"));
        assert_eq!(got.insurance_kind, Some(InsuranceKind::Koki));
        assert_eq!(
            got.address.as_deref(),
            Some("大阪府大阪市北区梅田1丁目1番3号")
        );
        assert_eq!(got.contact.as_deref(), Some("06-6345-1234"));
        assert_eq!(got.contacted_on, Some(date(2026, 5, 12)));
        assert!(got.unparsed.is_empty(), "{:?}", got.unparsed);
    }

    #[test]
    fn labels_separated_by_spaces_only() {
        let got = parse(&[
            "不詳 ｶﾅ氏名:ﾀﾅｶ ｼﾞﾛｳ 電話番号 03-1234-5678 勤務先 田中工務店 連絡年月日 2026-05-12",
        ]);
        assert!(got.unknown_marker);
        assert_eq!(got.kana_name.as_deref(), Some("ﾀﾅｶ ｼﾞﾛｳ"));
        assert_eq!(got.contact.as_deref(), Some("03-1234-5678"));
        assert_eq!(got.employer.as_deref(), Some("田中工務店"));
        assert_eq!(got.contacted_on, Some(date(2026, 5, 12)));
    }

    #[test]
    fn unlabelled_values_are_inferred_conservatively() {
        let got = parse(&[
            "不詳 ヤマダ ハナコ 国保",
            "東京都練馬区豊玉北6-12-1",
            "09012345678",
            "20260512",
            "山田商事",
        ]);
        assert!(got.unknown_marker);
        assert_eq!(got.kana_name.as_deref(), Some("ヤマダ ハナコ"));
        assert_eq!(got.insurance_kind, Some(InsuranceKind::Kokuho));
        assert_eq!(got.address.as_deref(), Some("東京都練馬区豊玉北6-12-1"));
        assert_eq!(got.contact.as_deref(), Some("09012345678"));
        assert_eq!(got.contacted_on, Some(date(2026, 5, 12)));
        assert_eq!(got.employer, None);
        assert_eq!(got.unparsed, vec!["山田商事".to_string()]);
    }

    #[test]
    fn an_address_without_prefecture_needs_a_municipality_and_a_number() {
        let got = parse(&["練馬区豊玉北 6-12-1", "練馬"]);
        assert_eq!(got.address.as_deref(), Some("練馬区豊玉北 6-12-1"));
        assert_eq!(got.unparsed, vec!["練馬".to_string()]);
    }

    #[test]
    fn trailing_text_after_a_typed_value_is_read_apart() {
        let got = parse(&[
            "電話：090-1234-5678（携帯）",
            "住所：東京都中野区中野4-8-1 03-3389-1111",
        ]);
        assert_eq!(got.contact.as_deref(), Some("090-1234-5678"));
        assert_eq!(got.address.as_deref(), Some("東京都中野区中野4-8-1"));
        // The second number cannot also be the contact.
        assert_eq!(
            got.unparsed,
            vec!["（携帯）".to_string(), "03-3389-1111".to_string()]
        );
    }

    #[test]
    fn a_label_at_the_end_of_a_comment_takes_the_next_comment() {
        let got = parse(&["不詳 住所：", "埼玉県さいたま市浦和区高砂3-15-1"]);
        assert_eq!(
            got.address.as_deref(),
            Some("埼玉県さいたま市浦和区高砂3-15-1")
        );
        assert!(got.unparsed.is_empty());
    }

    #[test]
    fn no_value_words_leave_fields_empty() {
        let got = parse(&[
            "不詳",
            "保険種別：わからない",
            "保険者名：不詳",
            "事業所名：なし",
            "住所:－",
        ]);
        assert!(got.unknown_marker);
        assert_eq!(got.insurance_kind, Some(InsuranceKind::Unknown));
        assert_eq!(got.insurer_name, None);
        assert_eq!(got.employer, None);
        assert_eq!(got.address, None);
        assert!(got.unparsed.is_empty(), "{:?}", got.unparsed);
    }

    #[test]
    fn kind_words_map_to_kinds() {
        for (word, kind) in [
            ("社会保険", InsuranceKind::Shaho),
            ("協会けんぽ", InsuranceKind::Shaho),
            ("健保", InsuranceKind::Shaho),
            ("国民健康保険", InsuranceKind::Kokuho),
            ("後期高齢者", InsuranceKind::Koki),
            ("その他", InsuranceKind::Other),
            ("不明", InsuranceKind::Unknown),
        ] {
            let text = format!("保険種別:{word}");
            assert_eq!(parse(&[&text]).insurance_kind, Some(kind), "{word}");
        }
        // Unlabelled, only definite words are taken.
        let got = parse(&["その他"]);
        assert_eq!(got.insurance_kind, None);
        assert_eq!(got.unparsed, vec!["その他".to_string()]);
        let got = parse(&["保険種別：組合"]);
        assert_eq!(got.insurance_kind, None);
        assert_eq!(got.unparsed, vec!["保険種別：組合".to_string()]);
    }

    #[test]
    fn dates_in_every_written_form() {
        for s in [
            "令和8年5月12日",
            "令和８年５月１２日",
            "R8.5.12",
            "r08/05/12",
            "2026/5/12",
            "2026-05-12",
            "2026.5.12",
            "2026年5月12日",
            "20260512",
        ] {
            let view = View::new(s);
            assert_eq!(
                parse_date(&view.compact(0..view.len())),
                Some(date(2026, 5, 12)),
                "{s}"
            );
        }
        assert_eq!(parse_date("令和元年5月1日"), Some(date(2019, 5, 1)));
        assert_eq!(parse_date("h31.4.30"), Some(date(2019, 4, 30)));
        assert_eq!(parse_date("平成31年5月1日"), None);
        assert_eq!(parse_date("2026/2/30"), None);
        assert_eq!(parse_date("26/5/12"), None);
        assert_eq!(parse_date("r8.5"), None);
        assert_eq!(parse_date("20261301"), None);
        let got = parse(&["連絡日：令和8年2月30日"]);
        assert_eq!(got.contacted_on, None);
        assert_eq!(got.unparsed, vec!["連絡日：令和8年2月30日".to_string()]);
    }

    #[test]
    fn what_is_not_a_label_stays_text() {
        // 保険者番号 is not 保険者; (株) is not a label.
        let got = parse(&["保険者番号不明", "事業所名：(株)山田商事"]);
        assert_eq!(got.insurer_name, None);
        assert_eq!(got.unparsed, vec!["保険者番号不明".to_string()]);
        assert_eq!(got.employer.as_deref(), Some("(株)山田商事"));
    }

    #[test]
    fn unknown_labels_and_conflicts_are_reported() {
        let got = parse(&[
            "氏名：山田太郎",
            "住所：東京都港区芝公園4-2-8",
            "住所：東京都港区六本木1-1-1",
        ]);
        assert_eq!(got.address.as_deref(), Some("東京都港区芝公園4-2-8"));
        assert_eq!(
            got.unparsed,
            vec![
                "氏名：山田太郎".to_string(),
                "住所：東京都港区六本木1-1-1".to_string()
            ]
        );
        // The same value twice is no conflict.
        let got = parse(&["TEL 0312345678", "0312345678"]);
        assert_eq!(got.contact.as_deref(), Some("0312345678"));
        assert!(got.unparsed.is_empty());
    }

    #[test]
    fn phone_numbers_with_spaces_and_labels_glued_to_digits() {
        let got = parse(&["090 1234 5678"]);
        assert_eq!(got.contact.as_deref(), Some("090 1234 5678"));
        let got = parse(&["ＴＥＬ０３－１２３４－５６７８"]);
        assert_eq!(got.contact.as_deref(), Some("０３－１２３４－５６７８"));
        let got = parse(&["1234"]);
        assert_eq!(got.contact, None);
        assert_eq!(got.unparsed, vec!["1234".to_string()]);
    }

    #[test]
    fn labels_are_listed_longest_first() {
        for pair in LABELS.windows(2) {
            assert!(
                pair[0].0.chars().count() >= pair[1].0.chars().count(),
                "{} before {}",
                pair[0].0,
                pair[1].0
            );
        }
        for (spelling, _) in LABELS {
            let normalized: String = spelling.nfkc().map(|c| c.to_ascii_lowercase()).collect();
            assert_eq!(&normalized, spelling, "labels are stored normalized");
        }
    }

    #[test]
    fn empty_input_reads_nothing() {
        assert_eq!(parse(&[]), DeclaredInComments::default());
        assert_eq!(parse(&["", "　", "、、"]), DeclaredInComments::default());
    }
}
