//! Issue 16 item 5, as a property: whatever amounts a UKE file carries — any number of
//! digits, signs, letters, empty — every receipt is either quarantined or accepted
//! with amounts inside their bounds, and the money of an accepted one is never
//! negative nor more than its cost, for any copay percent the roster may give.

use chrono::NaiveDate;
use proptest::prelude::*;
use reseclear::config::IngestConfig;
use reseclear::domain::{Points, Yen};
use reseclear::ingest::uke::parse_uke;
use reseclear::resolve::copay::{receipt_money, Billed};
use reseclear::validate::Scope;

/// An amount field as a writer might fill it, or garble it.
fn amount() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => (0i64..200_000).prop_map(|n| n.to_string()),
        2 => "[0-9]{0,20}",
        1 => (-1_000_000i64..0).prop_map(|n| n.to_string()),
        1 => Just(i64::MAX.to_string()),
        1 => Just("99999999".to_string()),
        1 => Just("100000000".to_string()),
        1 => "[0-9a-zA-Z+ .-]{1,6}",
    ]
}

/// A points field and a copay for it: empty, any amount, or a part of its cost around
/// the bound (none, some, all of it, a yen more, several times it).
fn points_and_copay() -> impl Strategy<Value = (String, String)> {
    amount().prop_flat_map(|points| {
        let cost = points.parse::<i64>().ok().and_then(|p| p.checked_mul(10));
        let near: Vec<String> = match cost {
            Some(c) => [
                0,
                c / 3,
                c,
                c.saturating_add(1),
                c.saturating_mul(2),
                c.saturating_mul(7),
            ]
            .iter()
            .map(|v| v.to_string())
            .collect(),
            None => vec!["0".to_string()],
        };
        let copay = prop_oneof![
            1 => Just(String::new()),
            1 => amount(),
            2 => prop::sample::select(near),
        ];
        (Just(points), copay)
    })
}

/// A receipt's HO 合計点数 and 負担金額, maybe a KO's, and its レセプト種別.
type Written = (String, String, Option<(String, String)>, &'static str);

/// One receipt: HO 合計点数 and 負担金額, maybe a KO with its own, a receipt type.
fn receipt() -> impl Strategy<Value = Written> {
    (
        points_and_copay(),
        proptest::option::of(points_and_copay()),
        prop::sample::select(vec!["1112", "1118", "1110", "1122", "1316", "1114"]),
    )
        .prop_map(|((points, copay), ko, kind)| (points, copay, ko, kind))
}

fn file(receipts: &[Written]) -> Vec<u8> {
    let mut text = String::from("IR,1,13,1,1312345,,さくら内科,202606,00,\r\n");
    for (n, (points, copay, ko, kind)) in receipts.iter().enumerate() {
        let n = n + 1;
        text.push_str(&format!(
            "RE,{n},{kind},202605,山田　太郎,1,19800415,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,\r\n"
        ));
        text.push_str(&format!(
            "HO,01130012,123,{n},1,{points},,,,,,{copay},,,\r\n"
        ));
        if let Some((kp, kc)) = ko {
            text.push_str(&format!("KO,51136018,1234567,,1,{kp},{kc},,,,,\r\n"));
        }
    }
    // GO 総合計点数 as the receipts' points add up, so that the file is not
    // quarantined whole for its totals (with a point field unreadable, GO is not checked).
    let total: i64 = receipts
        .iter()
        .map(|(p, ..)| p.trim())
        .filter(|p| p.bytes().all(|b| b.is_ascii_digit()))
        .filter_map(|p| p.parse::<i64>().ok())
        .filter(|p| (0..=Points::MAX_PER_RECEIPT).contains(p))
        .sum();
    text.push_str(&format!("GO,{},{total},99\r\n", receipts.len()));
    let (bytes, _, _) = encoding_rs::SHIFT_JIS.encode(&text);
    let mut v = bytes.into_owned();
    v.push(0x1A);
    v
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn every_amount_is_bounded_or_its_receipt_quarantined(
        receipts in prop::collection::vec(receipt(), 1..8),
        percent in prop::option::of(prop::sample::select(vec![0u8, 10, 20, 30, 100, 255])),
    ) {
        let parsed = parse_uke("prop.UKE", &file(&receipts), &IngestConfig::default());
        prop_assert!(
            !parsed.quarantine.iter().any(|q| q.record == "GO" && q.scope == Scope::File),
            "{:?}",
            parsed.quarantine
        );
        // Every receipt is somewhere.
        prop_assert_eq!(parsed.receipts.len() + parsed.quarantined.len(), receipts.len());
        for q in &parsed.quarantined {
            if let Some(p) = q.points {
                prop_assert!((0..=Points::MAX_PER_RECEIPT).contains(&p.0), "{q:?}");
            }
        }
        let day = NaiveDate::from_ymd_opt(2026, 5, 1).expect("date");
        for r in &parsed.receipts {
            let ho = r.insurance.as_ref().expect("HO");
            prop_assert!((0..=Points::MAX_PER_RECEIPT).contains(&ho.points.0));
            for ko in &r.public_expenses {
                if let (Some(p), Some(c)) = (ko.points, ko.copay) {
                    prop_assert!(c.0 >= 0 && c.0 <= p.to_yen().0, "KO {ko:?}");
                }
            }
            let m = receipt_money(&Billed::of(r), day, percent);
            prop_assert_eq!(m.cost, ho.points.to_yen());
            prop_assert!(m.copay >= Yen(0) && m.copay <= m.cost, "{m:?}");
            prop_assert_eq!(m.insurer_share, m.cost - m.copay);
            prop_assert!(m.insurer_share >= Yen(0));
            prop_assert!(m.copay_diff.0.abs() <= m.cost.0, "{m:?}");
        }
    }
}
