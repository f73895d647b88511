//! Property: any month of receipts written as UKE (either date style) parses back to
//! exactly the same receipts, and the file's totals check.

use chrono::NaiveDate;
use compact_str::{format_compact, CompactString};
use proptest::prelude::*;
use reseclear::config::IngestConfig;
use reseclear::domain::{
    CareDays, ClinicCode, InsurerNumber, Organization, Points, ReceiptKey, Sex, YearMonth, Yen,
};
use reseclear::ingest::uke::layout::DayForm;
use reseclear::ingest::uke::writer::{assign_lines, write_uke, DateStyle};
use reseclear::ingest::uke::{
    parse_uke, ClinicHeader, Comment, EligibilityConfirmation, HealthInsurance, InsurerField,
    PublicExpense, Receipt, ReceiptKind,
};

const FAMILY: &[&str] = &[
    "佐藤", "鈴木", "高橋", "渡邊", "齋藤", "小林", "山崎", "中村",
];
const GIVEN: &[&str] = &[
    "太郎",
    "花子",
    "一郎",
    "美咲",
    "翔太",
    "陽菜",
    "健",
    "さくら",
];
const KANA: &[&str] = &[
    "サトウ　タロウ",
    "スズキ　ハナコ",
    "ﾀｶﾊｼ ｲﾁﾛｳ",
    "ワタナベ　ミサキ",
    "",
];
const INSURERS: &[&str] = &["01130012", "01270016", "39280003", "131045", "06139018"];
const FILLERS: &[&str] = &["77777777", "77777779", "99999999"];
const COMMENTS: &[&str] = &[
    "不詳",
    "カナ氏名：サトウ　タロウ",
    "住所:東京都新宿区西新宿２丁目８番１号",
    "【事業所名】株式会社さくら商事",
    "連絡先 090-1234-5678",
];

fn header(kind: ReceiptKind, billing: YearMonth) -> ClinicHeader {
    ClinicHeader {
        kind,
        organization: Organization::ShiharaiKikin,
        prefecture: 13,
        fee_table: "1".into(),
        clinic_code: ClinicCode::parse("1312345").expect("clinic"),
        clinic_name: "さくら内科クリニック".into(),
        billing_month: billing,
    }
}

fn insurance() -> impl Strategy<Value = Option<HealthInsurance>> {
    let known = prop::sample::select(INSURERS)
        .prop_map(|n| InsurerField::Known(InsurerNumber::parse(n).expect("valid test insurer")));
    let filler = prop::sample::select(FILLERS).prop_map(|f| InsurerField::Filler(f.into()));
    let insurer = prop_oneof![4 => known, 1 => filler];
    let ho = (
        insurer,
        prop::sample::select(vec!["", "１２３", "国１２", "7777777"]),
        "[0-9]{1,8}",
        prop::option::of(1u32..31),
        0i64..300_000,
        prop::option::of(0i64..100_000),
    )
        .prop_map(
            |(insurer, symbol, number, days, points, copay)| HealthInsurance {
                line: 0,
                insurer,
                symbol: symbol.into(),
                number: number.into(),
                days,
                points: Points(points),
                // A copay above the cost is quarantined (money_and_file_bounds tests it);
                // the round trip is of receipts the reader accepts.
                copay: copay.map(|c| Yen(c.min(points * 10))),
            },
        );
    prop_oneof![9 => ho.prop_map(Some), 1 => Just(None)]
}

fn receipt() -> impl Strategy<Value = Receipt> {
    let who = (
        prop::sample::select(FAMILY),
        prop::sample::select(GIVEN),
        prop::sample::select(KANA),
        prop::bool::ANY,
        0i64..36_000,
        prop::option::of(prop::sample::select(vec![70u8, 80, 90])),
    );
    let records = (
        insurance(),
        prop::collection::vec(("[0-9]{8}", "[0-9]{7}", prop::option::of(0i64..5000)), 0..3),
        prop::option::of((
            "[0-9]{1,8}",
            prop::sample::select(vec!["", "00", "01", "02"]),
        )),
        prop::collection::vec(prop::sample::select(COMMENTS), 0..5),
        prop::collection::btree_map(
            prop::sample::select(vec!["SY", "SI", "IY", "TO", "JD", "SS", "HS", "SH", "CZ"]),
            1u32..4,
            0..4,
        ),
        prop::collection::btree_set(1u32..=31, 0..8),
    );
    (who, records).prop_map(
        |((family, given, kana, male, days_old, ratio), (ho, kos, sn, comments, others, days))| {
            let care_days = days
                .into_iter()
                .fold(CareDays::NONE, |set, d| set.with(d).unwrap_or(set));
            let care = YearMonth::new(2026, 5).expect("month");
            let birth = NaiveDate::from_ymd_opt(2026, 5, 1).expect("date")
                - chrono::Duration::days(days_old);
            Receipt {
                key: ReceiptKey {
                    organization: Organization::ShiharaiKikin,
                    clinic_code: ClinicCode::parse("1312345").expect("clinic"),
                    billing_month: care.next(),
                    receipt_number: 0,
                },
                line: 0,
                receipt_type: "1112".into(),
                care_month: care,
                name: format_compact!("{family}　{given}"),
                sex: if male { Sex::Male } else { Sex::Female },
                birth_date: birth,
                benefit_ratio: ratio,
                special_notes: CompactString::default(),
                chart_number: CompactString::default(),
                kana_name: kana.into(),
                patient_state: CompactString::default(),
                public_expenses: kos
                    .into_iter()
                    .map(|(payer, recipient, points)| PublicExpense {
                        line: 0,
                        payer_number: payer.into(),
                        recipient_number: recipient.into(),
                        days: Some(1),
                        points: points.map(Points),
                        copay: None,
                    })
                    .collect(),
                confirmation: sn.map(|(number, branch)| EligibilityConfirmation {
                    line: 0,
                    payer_kind: "1".into(),
                    confirmation_kind: "01".into(),
                    insurer_number: ho
                        .as_ref()
                        .map(|h| match &h.insurer {
                            InsurerField::Known(n) => n.as_str().into(),
                            InsurerField::Filler(f) => f.clone(),
                        })
                        .unwrap_or_default(),
                    symbol: CompactString::default(),
                    number: number.into(),
                    branch: branch.into(),
                    recipient_number: CompactString::default(),
                }),
                insurance: ho,
                comments: comments
                    .into_iter()
                    .map(|text| Comment {
                        line: 0,
                        care_category: CompactString::default(),
                        burden_category: "1".into(),
                        code: Comment::FREE_TEXT.into(),
                        text: text.into(),
                    })
                    .collect(),
                care_days,
                other_records: others.into_iter().collect(),
            }
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Every kind's layout: what the writer puts where the kind's 記録条件仕様 says, the
    /// reader reads back from there.
    #[test]
    fn written_receipts_parse_back_unchanged(
        mut receipts in prop::collection::vec(receipt(), 1..25),
        era in prop::bool::ANY,
        kind in prop::sample::select(ReceiptKind::ALL.to_vec()),
    ) {
        let layout = kind.layout();
        for (i, r) in receipts.iter_mut().enumerate() {
            r.key.receipt_number = i as u32 + 1;
            // What the kind's records cannot hold is not written: DPC's RE has no
            // カタカナ, and only the kind's day-marking records carry days of care.
            if layout.re.kana.is_none() {
                r.kana_name = CompactString::default();
            }
            // A dated record (調剤 CZ) holds one day: with no day columns among the
            // receipt's records, as many days as it has dated records.
            let count = |form: DayForm| -> u32 {
                layout
                    .day_fields
                    .iter()
                    .filter(|d| d.form == form)
                    .map(|d| r.other_records.get(d.id))
                    .sum()
            };
            if count(DayForm::Columns) == 0 {
                let dated = count(DayForm::Date) as usize;
                r.care_days = r
                    .care_days
                    .days()
                    .take(dated)
                    .fold(CareDays::NONE, |set, d| set.with(d).unwrap_or(set));
            }
        }
        assign_lines(kind, &mut receipts);
        let billing = receipts[0].key.billing_month;
        let style = if era { DateStyle::Era } else { DateStyle::Western };
        let mut bytes = Vec::new();
        write_uke(&header(kind, billing), &receipts, style, &mut bytes).expect("writable");
        let parsed = parse_uke("prop.UKE", &bytes, &IngestConfig::default());
        prop_assert!(parsed.quarantine.is_empty(), "{:?}", parsed.quarantine);
        // A DPC file opens with IR, as 医科 does; its DPC records tell it apart.
        let opened = if kind == ReceiptKind::Dpc { ReceiptKind::Ika } else { kind };
        prop_assert_eq!(parsed.header, Some(header(opened, billing)));
        prop_assert_eq!(&parsed.receipts, &receipts);
    }
}
