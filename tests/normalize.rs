//! Tier-3 matching keys and the 摘要 comment parser, through the public API: the
//! spellings a clinic, a declaration form and an insurer roster use for the same person
//! must give the same key, and the comment parser must read every label style clinics
//! use — and never panic, whatever it is given.

use chrono::NaiveDate;
use proptest::prelude::*;

use reseclear::domain::InsuranceKind;
use reseclear::resolve::comments::{parse_declared_comments, DeclaredInComments};
use reseclear::resolve::normalize::{
    address_parts, kana_strip_voicing, normalize_address, normalize_kana, normalize_kanji_name,
    normalize_phone, prefecture_of, split_kana_name, split_kanji_name,
};

fn all_equal(f: fn(&str) -> String, spellings: &[&str]) {
    let key = f(spellings[0]);
    for s in &spellings[1..] {
        assert_eq!(f(s), key, "{} vs {s}", spellings[0]);
    }
}

#[test]
fn kanji_surnames_in_old_and_variant_forms() {
    all_equal(normalize_kanji_name, &["渡辺", "渡邊", "渡邉"]);
    all_equal(normalize_kanji_name, &["高橋", "髙橋"]);
    all_equal(normalize_kanji_name, &["斎藤", "齋藤", "齊藤", "斉藤"]);
    all_equal(normalize_kanji_name, &["山崎", "山﨑", "山嵜"]);
    all_equal(normalize_kanji_name, &["沢田", "澤田"]);
    all_equal(normalize_kanji_name, &["浜口", "濱口", "濵口"]);
    all_equal(normalize_kanji_name, &["広田", "廣田"]);
    all_equal(normalize_kanji_name, &["桜井", "櫻井"]);
    all_equal(normalize_kanji_name, &["国井", "國井"]);
    all_equal(normalize_kanji_name, &["吉田", "𠮷田"]);
    all_equal(normalize_kanji_name, &["富田", "冨田"]);
    all_equal(
        normalize_kanji_name,
        &["渡辺 恵", "渡邊　惠", "渡邉\u{3000}恵"],
    );
    assert_ne!(normalize_kanji_name("佐藤"), normalize_kanji_name("加藤"));
}

#[test]
fn kana_names_in_every_script_and_width() {
    all_equal(
        normalize_kana,
        &["ガッコウ", "ｶﾞｯｺｳ", "がっこう", "ガツコウ"],
    );
    all_equal(
        normalize_kana,
        &["キョウコ", "きょうこ", "キヨウコ", "ｷｮｳｺ", "キョーコ"],
    );
    all_equal(normalize_kana, &["ユウコ", "ユーコ", "ﾕｰｺ", "ゆうこ"]);
    all_equal(
        normalize_kana,
        &[
            "ワタナベ ケイコ",
            "ﾜﾀﾅﾍﾞ ｹｲｺ",
            "わたなべ　けいこ",
            "ワタナベケーコ",
        ],
    );
    all_equal(normalize_kana, &["ヴィンセント", "ビンセント"]);
    assert_ne!(normalize_kana("ユウキ"), normalize_kana("ユキ"));
    assert_eq!(
        kana_strip_voicing(&normalize_kana("ヤマザキ")),
        kana_strip_voicing(&normalize_kana("ﾔﾏｻｷ"))
    );
}

#[test]
fn names_split_into_family_and_given() {
    assert_eq!(split_kana_name("ﾜﾀﾅﾍﾞ ｹｲｺ"), ("ﾜﾀﾅﾍﾞ", "ｹｲｺ"));
    assert_eq!(
        split_kana_name("ワタナベ\u{3000}ケイコ"),
        ("ワタナベ", "ケイコ")
    );
    assert_eq!(split_kanji_name("渡邊　惠子"), ("渡邊", "惠子"));
    assert_eq!(split_kanji_name("渡邊惠子"), ("渡邊惠子", ""));
    let (family, given) = split_kanji_name("髙橋 一郎");
    assert_eq!(normalize_kanji_name(family), "高橋");
    assert_eq!(normalize_kanji_name(given), "一郎");
}

#[test]
fn addresses_written_five_ways_are_one() {
    all_equal(
        normalize_address,
        &[
            "東京都新宿区西新宿2丁目8番1号",
            "新宿区西新宿二丁目八番一号",
            "新宿区西新宿2-8-1",
            "東京都 新宿区 西新宿２－８－１",
            "新宿区西新宿2丁目8-1",
        ],
    );
    assert_eq!(normalize_address("新宿区西新宿2-8-1"), "新宿区西新宿2-8-1");
    all_equal(
        normalize_address,
        &[
            "大阪府大阪市北区中之島一丁目三番二十号",
            "大阪市北区中之島1-3-20",
        ],
    );
    assert_eq!(prefecture_of("東京都新宿区西新宿2-8-1"), Some(13));
    assert_eq!(prefecture_of("沖縄県那覇市泉崎1-2-2"), Some(47));
    assert_eq!(prefecture_of("新宿区西新宿2-8-1"), None);

    let key = normalize_address("東京都中野区中野四丁目8番1号 中野ハイツ203号室");
    let parts = address_parts(&key);
    assert_eq!(
        (parts.locality, parts.block, parts.rest),
        ("中野区中野", "4-8-1", "中野ハイツ203号室")
    );
}

#[test]
fn phone_numbers_compare_by_digits() {
    all_equal(
        normalize_phone,
        &[
            "090-1234-5678",
            "０９０－１２３４－５６７８",
            "090 1234 5678",
            "+81 90-1234-5678",
        ],
    );
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// What every style below declares.
fn expected() -> DeclaredInComments {
    DeclaredInComments {
        unknown_marker: true,
        kana_name: None, // written differently in each style; checked by key
        insurance_kind: Some(InsuranceKind::Shaho),
        insurer_name: Some("全国健康保険協会東京支部".into()),
        employer: Some("株式会社山田商事".into()),
        address: None, // likewise
        contact: None, // likewise
        contacted_on: Some(day(2026, 5, 12)),
        unparsed: vec![],
    }
}

#[test]
fn every_label_style_reads_the_same_declaration() {
    let styles: Vec<Vec<&str>> = vec![
        // One item per comment, full-width colons.
        vec![
            "不詳",
            "カナ氏名：ヤマダ　タロウ",
            "保険種別：社保",
            "保険者等名称：全国健康保険協会東京支部",
            "事業所名：株式会社山田商事",
            "住所：東京都新宿区西新宿二丁目8番1号",
            "連絡先：090-1234-5678",
            "連絡日：令和8年5月12日",
        ],
        // Half-width colons and half-width kana.
        vec![
            "不詳",
            "ｶﾅ:ﾔﾏﾀﾞ ﾀﾛｳ",
            "保険の種類:社会保険",
            "保険者名:全国健康保険協会東京支部",
            "勤務先:株式会社山田商事",
            "現住所:新宿区西新宿2-8-1",
            "TEL:09012345678",
            "確認日:R8.5.12",
        ],
        // Brackets of several kinds, all in two comments.
        vec![
            "【不詳】【フリガナ】やまだ たろう【種別】協会けんぽ【保険者】全国健康保険協会東京支部",
            "＜事業所名＞株式会社山田商事（住所）東京都新宿区西新宿２－８－１［電話］090-1234-5678〈連絡年月日〉2026/5/12",
        ],
        // One comment, separated by 、 and ／.
        vec![
            "不詳、氏名カナ：ヤマダ タロウ、保険種別：健保、保険者等名称：全国健康保険協会東京支部、事業所：株式会社山田商事／住所：東京都新宿区西新宿2丁目8-1／電話番号：090-1234-5678／連絡日：2026-05-12",
        ],
        // Labels separated by spaces only.
        vec![
            "不詳 カナ ヤマダ タロウ 種別 社保 保険者 全国健康保険協会東京支部",
            "会社名 株式会社山田商事 住所 東京都新宿区西新宿2-8-1 電話 090 1234 5678 連絡日 20260512",
        ],
    ];
    for (n, style) in styles.iter().enumerate() {
        let got = parse_declared_comments(style.iter().copied());
        let kana = got.kana_name.clone().unwrap_or_default();
        let address = got.address.clone().unwrap_or_default();
        let contact = got.contact.clone().unwrap_or_default();
        assert_eq!(normalize_kana(&kana), "ヤマダタロウ", "style {n}: {got:?}");
        assert_eq!(
            normalize_address(&address),
            "新宿区西新宿2-8-1",
            "style {n}: {got:?}"
        );
        assert_eq!(
            normalize_phone(&contact),
            "09012345678",
            "style {n}: {got:?}"
        );
        let rest = DeclaredInComments {
            kana_name: None,
            address: None,
            contact: None,
            ..got
        };
        assert_eq!(rest, expected(), "style {n}");
    }
}

#[test]
fn unlabelled_comments_are_read_only_where_safe() {
    let got = parse_declared_comments([
        "不詳",
        "ｻｲﾄｳ ﾊﾅｺ",
        "国保",
        "千葉県千葉市中央区市場町1-1",
        "043-223-2110",
        "令和8年5月12日",
        "ABC物産",
    ]);
    assert!(got.unknown_marker);
    assert_eq!(got.kana_name.as_deref(), Some("ｻｲﾄｳ ﾊﾅｺ"));
    assert_eq!(got.insurance_kind, Some(InsuranceKind::Kokuho));
    assert_eq!(got.address.as_deref(), Some("千葉県千葉市中央区市場町1-1"));
    assert_eq!(got.contact.as_deref(), Some("043-223-2110"));
    assert_eq!(got.contacted_on, Some(day(2026, 5, 12)));
    assert_eq!(got.employer, None);
    assert_eq!(got.unparsed, vec!["ABC物産".to_string()]);
}

#[test]
fn what_cannot_be_read_is_returned() {
    let got = parse_declared_comments([
        "不詳 氏名：山田太郎 保険種別：組合",
        "連絡日：令和8年13月1日",
    ]);
    assert!(got.unknown_marker);
    assert_eq!(got.insurance_kind, None);
    assert_eq!(got.contacted_on, None);
    assert_eq!(
        got.unparsed,
        vec![
            "氏名：山田太郎".to_string(),
            "保険種別：組合".to_string(),
            "連絡日：令和8年13月1日".to_string()
        ]
    );
}

/// Pieces clinics write, to build comment-like strings from.
fn comment_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("不詳".to_string()),
        Just("【住所】".to_string()),
        Just("住所：".to_string()),
        Just("(カナ)".to_string()),
        Just("ｶﾅ氏名:".to_string()),
        Just("TEL".to_string()),
        Just("連絡日 ".to_string()),
        Just("保険種別＝".to_string()),
        Just("、".to_string()),
        Just("／".to_string()),
        Just("/".to_string()),
        Just("　".to_string()),
        Just(" ".to_string()),
        Just("【".to_string()),
        Just("】".to_string()),
        Just("ﾞ".to_string()),
        Just("令和8年5月".to_string()),
        Just("R8.".to_string()),
        Just("2026/5/12".to_string()),
        Just("090-1234-5678".to_string()),
        Just("東京都".to_string()),
        Just("二丁目八番一号".to_string()),
        Just("ヤマダ".to_string()),
        Just("社保".to_string()),
        Just("なし".to_string()),
        "[0-9０-９ー－-]{0,6}",
        "\\PC{0,4}",
    ]
}

fn comment() -> impl Strategy<Value = String> {
    prop::collection::vec(comment_piece(), 0..12).prop_map(|pieces| pieces.concat())
}

fn assert_kept_as_written(texts: &[String], got: &DeclaredInComments) {
    let written = |v: &str| texts.iter().any(|t| t.contains(v));
    for value in [
        &got.kana_name,
        &got.insurer_name,
        &got.employer,
        &got.address,
        &got.contact,
    ]
    .into_iter()
    .flatten()
    {
        assert!(!value.is_empty());
        assert!(written(value), "{value:?} is not in {texts:?}");
    }
    for piece in &got.unparsed {
        assert!(written(piece), "{piece:?} is not in {texts:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn comment_parser_never_panics_on_any_text(texts in prop::collection::vec(any::<String>(), 0..6)) {
        let got = parse_declared_comments(texts.iter().map(String::as_str));
        assert_kept_as_written(&texts, &got);
    }

    #[test]
    fn comment_parser_never_panics_on_comment_like_text(texts in prop::collection::vec(comment(), 0..6)) {
        let got = parse_declared_comments(texts.iter().map(String::as_str));
        assert_kept_as_written(&texts, &got);
    }

    #[test]
    fn normalizers_never_panic(s in prop_oneof![any::<String>(), comment()]) {
        let _ = normalize_kanji_name(&s);
        let _ = kana_strip_voicing(&s);
        let _ = split_kana_name(&s);
        let _ = split_kanji_name(&s);
        let _ = prefecture_of(&s);
        let _ = normalize_phone(&s);
        let address = normalize_address(&s);
        let parts = address_parts(&address);
        prop_assert_eq!(
            format!("{}{}{}", parts.locality, parts.block, parts.rest),
            address
        );
    }

    #[test]
    fn kana_key_is_a_fixed_point(s in prop_oneof![any::<String>(), comment(), "[ぁ-ゖァ-ヺｦ-ﾟー゛゜・ 　]{0,12}"]) {
        let once = normalize_kana(&s);
        prop_assert_eq!(normalize_kana(&once), once);
    }
}
