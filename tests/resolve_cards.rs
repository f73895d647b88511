//! Tiers 1 and 2 against a small roster: verified, re-routed across insurers, pending
//! for registration lag, a family card without 枝番, and cards the roster lacks.

use std::collections::HashSet;

use chrono::NaiveDate;
use reseclear::config::{CsvEncoding, IngestConfig};
use reseclear::domain::{
    CareDays, ClinicCode, InsurerNumber, Organization, Points, ReceiptKey, Sex, YearMonth,
};
use reseclear::ingest::roster::read_roster;
use reseclear::ingest::uke::{EligibilityConfirmation, HealthInsurance, InsurerField, Receipt};
use reseclear::resolve::card_index::CardIndex;
use reseclear::resolve::card_resolution::{classify, resolve_card, CardPatient, Filed};
use reseclear::resolve::claim::Claim;
use reseclear::resolve::outcome::Status;

const ROSTER: &str = "\
person_id,insurer_number,symbol,number,branch,name,name_kana,birth_date,sex,postal_code,address,employer,valid_from,valid_to,copay_percent
P1,01130012,１２３,4567,00,山田 太郎,ヤマダ タロウ,1980-04-15,1,160-0023,東京都新宿区西新宿2-8-1,株式会社さくら,2015-04-01,,30
P2,01130012,１２３,4568,00,鈴木 一郎,スズキ イチロウ,1970-01-01,1,,,,2010-04-01,2026-03-31,30
P2,131045,国12,345,,鈴木 一郎,スズキ イチロウ,1970-01-01,1,,,,2026-04-01,,30
P3,01130012,１２３,4569,00,佐藤 花子,サトウ ハナコ,1990-02-02,2,,,,2012-04-01,2026-02-28,30
P4,06139018,,12,00,田中 健,タナカ ケン,1975-05-05,1,,,,2000-04-01,,30
P5,06139018,,12,01,田中 美咲,タナカ ミサキ,1978-07-07,2,,,,2003-04-01,,30
P6,06139018,,12,02,田中 陽菜,タナカ ヒナ,2019-09-09,2,,,,2019-09-09,,20
P7,01130012,１２３,4570,00,中村 翔太,ナカムラ ショウタ,1985-03-03,1,,,,2010-04-01,2026-05-14,30
P7,01270016,５,77,00,中村 翔太,ナカムラ ショウタ,1985-03-03,1,,,,2026-05-15,,30
";

fn receipt(
    insurer: &str,
    symbol: &str,
    number: &str,
    branch: Option<&str>,
    birth: &str,
    sex: Sex,
    name: &str,
) -> Receipt {
    let care = YearMonth::new(2026, 5).unwrap();
    Receipt {
        key: ReceiptKey {
            organization: Organization::ShiharaiKikin,
            clinic_code: ClinicCode::parse("1312345").unwrap(),
            billing_month: care.next(),
            receipt_number: 1,
        },
        line: 2,
        receipt_type: "1112".into(),
        care_month: care,
        name: name.into(),
        sex,
        birth_date: NaiveDate::parse_from_str(birth, "%Y-%m-%d").unwrap(),
        benefit_ratio: None,
        special_notes: Default::default(),
        chart_number: Default::default(),
        kana_name: Default::default(),
        patient_state: Default::default(),
        insurance: Some(HealthInsurance {
            line: 3,
            insurer: InsurerField::Known(InsurerNumber::parse(insurer).unwrap()),
            symbol: symbol.into(),
            number: number.into(),
            days: Some(1),
            points: Points(100),
            copay: None,
        }),
        public_expenses: vec![],
        confirmation: branch.map(|b| EligibilityConfirmation {
            line: 4,
            payer_kind: "1".into(),
            confirmation_kind: "01".into(),
            insurer_number: insurer.into(),
            symbol: symbol.into(),
            number: number.into(),
            branch: b.into(),
            recipient_number: Default::default(),
        }),
        comments: vec![],
        care_days: CareDays::NONE,
        other_records: Default::default(),
    }
}

fn resolve(r: &Receipt) -> reseclear::resolve::outcome::Resolution {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("roster.csv");
    std::fs::write(&path, ROSTER).unwrap();
    let read = read_roster(&path, "roster.csv", CsvEncoding::Auto).unwrap();
    assert!(read.quarantine.is_empty(), "{:?}", read.quarantine);
    let Filed::Card { key, branch, .. } = classify(r, &IngestConfig::default()) else {
        panic!("a card receipt");
    };
    let index = CardIndex::build(&read.roster, &HashSet::from([key.clone()]));
    let parsed = resolve_card(&CardPatient::of(r), &key, branch.as_deref(), &index);
    // Held as a run holds a card receipt (its fields, and where it is in its file): the
    // same resolution.
    let claim = Claim::new(r.clone(), None, Some(0..1), &IngestConfig::default());
    assert!(claim.parsed().is_none(), "a card receipt is held");
    let held = resolve_card(&claim.card_patient(), &key, branch.as_deref(), &index);
    assert_eq!(held, parsed);
    parsed
}

#[test]
fn a_current_card_is_verified() {
    // Full-width and half-width digits of 記号 are the same card.
    let r = resolve(&receipt(
        "01130012",
        "123",
        "４５６７",
        None,
        "1980-04-15",
        Sex::Male,
        "山田　太郎",
    ));
    assert_eq!((r.status, r.tier), (Status::Verified, 1));
    assert_eq!(r.resolved_insurer.unwrap().as_str(), "01130012");
    assert_eq!(r.person_id.as_deref(), Some("P1"));
    // The period of roster line 2, the card's only one.
    assert_eq!(
        r.reason.to_string(),
        "card valid in 2026-05 (period from 2015-04-01); \
         no day of care recorded, so the card is checked on the month"
    );
}

#[test]
fn a_past_card_is_rerouted_to_the_insurer_valid_in_the_care_month() {
    let r = resolve(&receipt(
        "01130012",
        "１２３",
        "4568",
        None,
        "1970-01-01",
        Sex::Male,
        "鈴木　一郎",
    ));
    assert_eq!((r.status, r.tier), (Status::Rerouted, 2));
    assert_eq!(r.resolved_insurer.unwrap().as_str(), "131045");
    assert!(
        r.reason.to_string().contains("ended 2026-03-31"),
        "{}",
        r.reason
    );
}

#[test]
fn a_past_card_whose_person_has_no_newer_period_is_pending() {
    let r = resolve(&receipt(
        "01130012",
        "１２３",
        "4569",
        None,
        "1990-02-02",
        Sex::Female,
        "佐藤　花子",
    ));
    assert_eq!((r.status, r.tier), (Status::Pending, 2));
    assert_eq!(r.resolved_insurer, None);
    assert!(
        r.reason.to_string().contains("has not registered yet"),
        "{}",
        r.reason
    );
}

#[test]
fn a_family_card_without_branch_is_resolved_by_birth_date_and_sex_and_says_so() {
    let r = resolve(&receipt(
        "06139018",
        "",
        "12",
        None,
        "1978-07-07",
        Sex::Female,
        "田中　美咲",
    ));
    assert_eq!(r.status, Status::Verified);
    assert_eq!(r.person_id.as_deref(), Some("P5"));
    assert!(
        r.reason.to_string().contains("3 persons share the card"),
        "{}",
        r.reason
    );
}

#[test]
fn a_branch_picks_the_person_directly() {
    let r = resolve(&receipt(
        "06139018",
        "",
        "12",
        Some("2"),
        "2019-09-09",
        Sex::Female,
        "田中　陽菜",
    ));
    assert_eq!(r.person_id.as_deref(), Some("P6"));
    assert!(!r.reason.to_string().contains("share the card"));
}

#[test]
fn a_family_card_where_no_one_fits_goes_to_review() {
    let r = resolve(&receipt(
        "06139018",
        "",
        "12",
        None,
        "1999-01-01",
        Sex::Male,
        "田中　次郎",
    ));
    assert_eq!(r.status, Status::Review);
    assert_eq!(r.person_id, None);
}

#[test]
fn a_card_not_on_the_roster_is_no_match() {
    let r = resolve(&receipt(
        "01130012",
        "１２３",
        "8888",
        None,
        "1980-04-15",
        Sex::Male,
        "山田　太郎",
    ));
    assert_eq!(r.status, Status::NoMatch);
    assert!(r.reason.to_string().contains("not on the roster"));
}

#[test]
fn a_mid_month_change_verifies_the_card_valid_in_part_of_the_month() {
    // P7's card ended 2026-05-14; it covers part of the care month.
    let r = resolve(&receipt(
        "01130012",
        "１２３",
        "4570",
        None,
        "1985-03-03",
        Sex::Male,
        "中村　翔太",
    ));
    assert_eq!(r.status, Status::Verified);
    assert_eq!(r.resolved_insurer.unwrap().as_str(), "01130012");
}

/// The receipt with days of care marked (as its SI/IY/TO 1日 … 31日 fields do).
fn on_days(mut r: Receipt, days: &[u32]) -> Receipt {
    r.care_days = days
        .iter()
        .fold(CareDays::NONE, |set, d| set.with(*d).unwrap());
    r
}

/// P7's old card (ended 2026-05-14; the new one at 01270016 from 2026-05-15).
fn p7_old_card(days: &[u32]) -> Receipt {
    on_days(
        receipt(
            "01130012",
            "１２３",
            "4570",
            None,
            "1985-03-03",
            Sex::Male,
            "中村　翔太",
        ),
        days,
    )
}

#[test]
fn days_of_care_before_a_mid_month_change_verify_the_old_card() {
    let r = resolve(&p7_old_card(&[3, 10, 11]));
    assert_eq!((r.status, r.tier), (Status::Verified, 1), "{}", r.reason);
    assert_eq!(r.resolved_insurer.unwrap().as_str(), "01130012");
    assert_eq!(
        r.reason.to_string(),
        "card valid on every day of care, 2026-05: 3, 10–11 (period from 2010-04-01 to 2026-05-14)"
    );
}

#[test]
fn days_of_care_after_a_mid_month_change_reroute_to_the_new_insurer() {
    // By the month rule the old card, valid on 1–14 May, verified this receipt; its
    // days of care (20, 27) are after the change, on the new insurer's period.
    let r = resolve(&p7_old_card(&[20, 27]));
    assert_eq!((r.status, r.tier), (Status::Rerouted, 2), "{}", r.reason);
    assert_eq!(r.resolved_insurer.unwrap().as_str(), "01270016");
    assert_eq!(
        r.reason.to_string(),
        "the card's period (from 2010-04-01 to 2026-05-14) does not cover every day of care; \
         the days of care, 2026-05: 20, 27 are on the person's period at 01270016 from 2026-05-15"
    );
}

#[test]
fn days_of_care_straddling_a_mid_month_change_go_to_review_with_both_insurers() {
    let r = resolve(&p7_old_card(&[10, 20]));
    assert_eq!((r.status, r.tier), (Status::Review, 2), "{}", r.reason);
    assert_eq!(r.resolved_insurer, None);
    assert_eq!(
        r.reason.to_string(),
        "the card's period (from 2010-04-01 to 2026-05-14) does not cover every day of care; \
         the days of care, 2026-05: 10, 20 straddle the person's insurers \
         (days 10 at 01130012; days 20 at 01270016): a receipt bills one insurer, \
         so the clinic should file one receipt per insurer — or a person decides"
    );
}

#[test]
fn a_new_card_filed_for_days_before_it_began_follows_the_days() {
    // P7's new card (from 2026-05-15) on a receipt whose care was on 2 May: the day is
    // on the old insurer's period.
    let r = on_days(
        receipt(
            "01270016",
            "５",
            "77",
            None,
            "1985-03-03",
            Sex::Male,
            "中村　翔太",
        ),
        &[2],
    );
    let out = resolve(&r);
    assert_eq!(
        (out.status, out.tier),
        (Status::Rerouted, 2),
        "{}",
        out.reason
    );
    assert_eq!(out.resolved_insurer.unwrap().as_str(), "01130012");
    // The same receipt with no day recorded keeps the month rule: the new card is
    // valid in May.
    let month = resolve(&on_days(r, &[]));
    assert_eq!((month.status, month.tier), (Status::Verified, 1));
    assert_eq!(month.resolved_insurer.unwrap().as_str(), "01270016");
}

#[test]
fn days_of_care_after_the_persons_last_period_wait_for_the_roster() {
    // P3's card ended in February, and the roster has nothing newer.
    let r = on_days(
        receipt(
            "01130012",
            "１２３",
            "4569",
            None,
            "1990-02-02",
            Sex::Female,
            "佐藤　花子",
        ),
        &[7],
    );
    let out = resolve(&r);
    assert_eq!(
        (out.status, out.tier),
        (Status::Pending, 2),
        "{}",
        out.reason
    );
    assert!(
        out.reason.to_string().ends_with(
            "the person's latest period ended 2026-02-28, before 2026-05's days of care 7: \
             the new insurer has not registered yet"
        ),
        "{}",
        out.reason
    );
}

#[test]
fn filler_numbers_are_classified_as_tier_three() {
    let mut r = receipt(
        "01130012",
        "7777777",
        "7777777",
        None,
        "1980-04-15",
        Sex::Male,
        "山田　太郎",
    );
    assert!(matches!(
        classify(&r, &IngestConfig::default()),
        Filed::InsurerOnly { insurer, card: Some(_) } if insurer.as_str() == "01130012"
    ));
    // A real 記号 with a 7s-looking 番号 is a card.
    r.insurance.as_mut().unwrap().symbol = "１２３".into();
    assert!(matches!(
        classify(&r, &IngestConfig::default()),
        Filed::Card { .. }
    ));
    r.insurance.as_mut().unwrap().insurer = InsurerField::Filler("77777777".into());
    assert_eq!(classify(&r, &IngestConfig::default()), Filed::Unknown);
    r.insurance = None;
    assert_eq!(classify(&r, &IngestConfig::default()), Filed::PublicOnly);
}

mod money {
    use super::*;
    use reseclear::domain::Yen;
    use reseclear::resolve::copay::{receipt_money, Billed};

    fn on() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 5, 1).unwrap()
    }

    #[test]
    fn the_copay_is_rounded_to_ten_yen_and_the_insurer_owes_the_rest() {
        // 1234 points = 12,340 yen; 30% = 3,702 → 3,700.
        let mut r = receipt(
            "01130012",
            "１２３",
            "4567",
            None,
            "1980-04-15",
            Sex::Male,
            "山田　太郎",
        );
        r.insurance.as_mut().unwrap().points = Points(1234);
        let m = receipt_money(&Billed::of(&r), on(), Some(30));
        assert_eq!(
            (m.cost, m.copay, m.insurer_share, m.copay_diff),
            (Yen(12340), Yen(3700), Yen(8640), Yen(0))
        );
    }

    #[test]
    fn a_recorded_copay_stands() {
        let mut r = receipt(
            "01130012",
            "１２３",
            "4567",
            None,
            "1980-04-15",
            Sex::Male,
            "山田　太郎",
        );
        r.insurance.as_mut().unwrap().points = Points(100_000);
        r.insurance.as_mut().unwrap().copay = Some(Yen(80_100));
        let m = receipt_money(&Billed::of(&r), on(), Some(30));
        assert_eq!(
            (m.copay, m.insurer_share, m.copay_diff),
            (Yen(80_100), Yen(919_900), Yen(0))
        );
    }

    #[test]
    fn a_copay_the_receipt_does_not_allow_is_a_difference() {
        // 後期 一般 (1318) allows 10% or 20%; the roster says 30% (high earner): the
        // patient paid 10% and owes the 20% difference.
        let mut r = receipt(
            "39280003",
            "",
            "00456789",
            None,
            "1945-01-01",
            Sex::Female,
            "中村　ハル",
        );
        r.receipt_type = "1318".into();
        r.insurance.as_mut().unwrap().points = Points(1000);
        let m = receipt_money(&Billed::of(&r), on(), Some(30));
        assert_eq!((m.percent_billed, m.percent_due), (10, 30));
        assert_eq!((m.copay, m.copay_diff), (Yen(3000), Yen(-2000)));
        // 20% is one the receipt allows: no difference.
        assert_eq!(
            receipt_money(&Billed::of(&r), on(), Some(20)).copay_diff,
            Yen(0)
        );
    }

    #[test]
    fn kokuho_benefit_ratio_gives_the_copay() {
        let mut r = receipt(
            "131045",
            "国12",
            "345",
            None,
            "1970-08-15",
            Sex::Male,
            "田中　次郎",
        );
        r.benefit_ratio = Some(70);
        r.insurance.as_mut().unwrap().points = Points(842);
        let m = receipt_money(&Billed::of(&r), on(), None);
        assert_eq!((m.percent_due, m.copay), (30, Yen(2530)));
    }
}

#[test]
fn overlapping_periods_of_a_past_card_are_reviewed_not_silently_rerouted() {
    // P8's card ended in March; in May two periods of the person overlap, at 131045
    // from April and at 01270016 from mid-April. Re-routing to the later one (as the
    // run did) would pick an insurer silently.
    let roster = format!(
        "{}{}",
        ROSTER.lines().next().unwrap(),
        "
P8,01130012,１２３,4571,00,小林 茜,コバヤシ アカネ,1988-08-08,2,,,,2010-04-01,2026-03-31,30
P8,131045,国12,346,,小林 茜,コバヤシ アカネ,1988-08-08,2,,,,2026-04-01,,30
P8,01270016,５,78,00,小林 茜,コバヤシ アカネ,1988-08-08,2,,,,2026-04-15,,30
"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("roster.csv");
    std::fs::write(&path, roster).unwrap();
    let read = read_roster(&path, "roster.csv", CsvEncoding::Auto).unwrap();
    // The roster reports the overlap too.
    assert_eq!(read.overlapping_persons, 1);
    let r = receipt(
        "01130012",
        "１２３",
        "4571",
        None,
        "1988-08-08",
        Sex::Female,
        "小林　茜",
    );
    let Filed::Card { key, branch, .. } = classify(&r, &IngestConfig::default()) else {
        panic!("a card receipt");
    };
    let index = CardIndex::build(&read.roster, &HashSet::from([key.clone()]));
    let out = resolve_card(&CardPatient::of(&r), &key, branch.as_deref(), &index);
    assert_eq!(
        (out.status, out.tier),
        (Status::Review, 2),
        "{}",
        out.reason
    );
    assert_eq!(out.resolved_insurer, None);
    let reason = out.reason.to_string();
    assert!(
        reason.contains("overlap") && reason.contains("131045") && reason.contains("01270016"),
        "{reason}"
    );
}

#[test]
fn a_change_of_insurer_within_the_month_is_still_rerouted() {
    // Periods that follow each other (no shared day) are no overlap: the later one is
    // the person's insurer, as before.
    let roster = format!(
        "{}{}",
        ROSTER.lines().next().unwrap(),
        "
P9,01130012,１２３,4572,00,小林 蒼,コバヤシ アオイ,1989-09-09,1,,,,2010-04-01,2026-03-31,30
P9,131045,国12,347,,小林 蒼,コバヤシ アオイ,1989-09-09,1,,,,2026-04-01,2026-05-14,30
P9,01270016,５,79,00,小林 蒼,コバヤシ アオイ,1989-09-09,1,,,,2026-05-15,,30
"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("roster.csv");
    std::fs::write(&path, roster).unwrap();
    let read = read_roster(&path, "roster.csv", CsvEncoding::Auto).unwrap();
    assert_eq!(read.overlapping_persons, 0);
    let r = receipt(
        "01130012",
        "１２３",
        "4572",
        None,
        "1989-09-09",
        Sex::Male,
        "小林　蒼",
    );
    let Filed::Card { key, branch, .. } = classify(&r, &IngestConfig::default()) else {
        panic!("a card receipt");
    };
    let index = CardIndex::build(&read.roster, &HashSet::from([key.clone()]));
    let out = resolve_card(&CardPatient::of(&r), &key, branch.as_deref(), &index);
    assert_eq!(
        (out.status, out.tier),
        (Status::Rerouted, 2),
        "{}",
        out.reason
    );
    assert_eq!(out.resolved_insurer.unwrap().as_str(), "01270016");
}

#[test]
fn an_sn_branch_matches_a_roster_card_without_branch_when_the_person_agrees() {
    // P2's card at 131045 has no 枝番 on the roster; the clinic's SN gives 00.
    let same = resolve(&receipt(
        "131045",
        "国12",
        "345",
        Some("00"),
        "1970-01-01",
        Sex::Male,
        "鈴木　一郎",
    ));
    assert_eq!((same.status, same.tier), (Status::Verified, 1));
    assert_eq!(same.person_id.as_deref(), Some("P2"));
    assert_eq!(
        same.reason.to_string(),
        "card valid in 2026-05 (period from 2026-04-01); \
         no day of care recorded, so the card is checked on the month; \
         SN 枝番 00 against the roster's card without 枝番: the same person by birth date and sex"
    );
    // Another person's birth date: not the card's person, so no match as before.
    let other = resolve(&receipt(
        "131045",
        "国12",
        "345",
        Some("00"),
        "1971-01-01",
        Sex::Male,
        "鈴木　一郎",
    ));
    assert_eq!((other.status, other.tier), (Status::NoMatch, 2));
    assert_eq!(
        other.reason.to_string(),
        "the card is on the roster, but no one with its 枝番"
    );
}
