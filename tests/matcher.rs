//! Tier-3 matching as a specification: comparison levels on real-looking spellings,
//! term-frequency adjustment, EM on a known case, the decision rules, the insurer
//! restriction, determinism across thread counts, the model's JSON round trip, and
//! inputs with nothing in them. Accuracy on a generated month at scale is measured by
//! `scripts/bench.sh` (`reseclear evaluate` against the month's truth), on a
//! hand-written month by `tests/curated_month.rs`.

use chrono::NaiveDate;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use reseclear::config::CsvEncoding;
use reseclear::domain::{InsuranceKind, InsurerNumber, Sex};
use reseclear::ingest::insurers::{read_insurers, InsurerMaster};
use reseclear::ingest::roster::{read_roster, Roster};
use reseclear::resolve::matcher::{
    em_for_test, match_patients, Candidate, Decision, MatchConfig, MatchModel, MatchRun, Patient,
};

const HEADER: &str = "person_id,insurer_number,symbol,number,branch,name,name_kana,birth_date,sex,postal_code,address,employer,valid_from,valid_to,copay_percent\n";

const INSURERS: &str = "\
insurer_number,name,kind,prefecture,insured_count
01130012,全国健康保険協会　東京支部,shaho,13,1000
01270016,全国健康保険協会　大阪支部,shaho,27,1000
131045,新宿区国民健康保険,kokuho,13,1000
39280003,兵庫県後期高齢者医療広域連合,koki,28,1000
";

fn roster_from(rows: &str) -> Roster {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("roster.csv");
    std::fs::write(&path, format!("{HEADER}{rows}")).unwrap();
    let read = read_roster(&path, "roster.csv", CsvEncoding::Auto).unwrap();
    let rejected: Vec<_> = read
        .quarantine
        .iter()
        .filter(|q| q.scope == reseclear::validate::Scope::Row)
        .map(|q| q.reason.clone())
        .collect();
    assert!(rejected.is_empty(), "{rejected:?}");
    read.roster
}

fn insurers() -> InsurerMaster {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("insurers.csv");
    std::fs::write(&path, INSURERS).unwrap();
    read_insurers(&path, "insurers.csv", CsvEncoding::Auto)
        .unwrap()
        .master
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn patient(name: &str, kana: &str, birth: &str, sex: Sex) -> Patient {
    Patient {
        name: name.into(),
        kana: kana.into(),
        birth_date: date(birth),
        sex,
        address: None,
        insurer_name: None,
        employer: None,
        phone: None,
        insurance_kind: InsuranceKind::Unknown,
        within_insurer: None,
    }
}

/// A config for small rosters: every EM session runs.
fn small_config() -> MatchConfig {
    MatchConfig {
        em_min_pairs: 1,
        ..MatchConfig::default()
    }
}

fn level<'a>(c: &'a Candidate, field: &str) -> &'a str {
    c.comparisons
        .iter()
        .find(|f| f.field == field)
        .map(|f| f.level)
        .unwrap_or("?")
}

fn bf(c: &Candidate, field: &str) -> f64 {
    c.comparisons
        .iter()
        .find(|f| f.field == field)
        .map(|f| f.log2_bayes_factor)
        .unwrap_or(f64::NAN)
}

const SMALL: &str = "\
P01,01130012,10,1,00,渡辺 太郎,ワタナベ タロウ,1980-04-15,1,,東京都新宿区西新宿2-8-1,株式会社さくら,2015-04-01,,30
P02,01130012,10,2,00,佐藤 花子,サトウ ハナコ,1990-03-04,2,,東京都新宿区高田馬場1-1-1,株式会社さくら,2012-04-01,2024-03-31,30
P02,131045,国1,22,,佐藤 花子,サトウ ハナコ,1990-03-04,2,,東京都新宿区大久保3-2-1,,2024-04-01,,30
P03,01270016,20,3,00,鈴木 一郎,スズキ イチロウ,1975-11-02,1,,大阪府大阪市北区中之島1-3-20,大阪商事株式会社,2010-04-01,,30
P04,39280003,,4,,田中 ハル,タナカ ハル,1940-01-20,2,,兵庫県神戸市中央区加納町6-5-1,,2015-01-20,,10
P05,01130012,10,5,00,高橋 健,タカハシ ケン,1980-04-15,1,,東京都中野区中野4-1-1,,2005-04-01,,30
";

#[test]
fn variant_kanji_half_width_kana_and_a_day_month_swap_still_match() {
    let roster = roster_from(SMALL);
    let mut p1 = patient("渡邊　太郎", "ﾜﾀﾅﾍﾞ ﾀﾛｳ", "1980-04-15", Sex::Male);
    p1.address = Some("新宿区西新宿二丁目八番一号".into());
    let p2 = patient("佐藤 花子", "さとう はなこ", "1990-04-03", Sex::Female);
    // Blocking on birth date and sex too, so that the other 1980-04-15 man is compared.
    let mut config = small_config();
    config.blocking_rules.push(vec![
        reseclear::resolve::matcher::BlockingKey::BirthDate,
        reseclear::resolve::matcher::BlockingKey::Sex,
    ]);
    let run = match_patients(&[p1, p2], &roster, &insurers(), &config, None);

    let r = &run.results[0];
    assert_eq!(r.decision, Decision::Matched, "{}", r.reason);
    let best = &r.candidates[0];
    assert_eq!(best.person_id, "P01");
    assert_eq!(level(best, "name"), "exact");
    assert_eq!(level(best, "kana"), "exact");
    assert_eq!(level(best, "birth_date"), "exact");
    assert_eq!(level(best, "address"), "exact");
    assert_eq!(level(best, "employer"), "missing");
    assert_eq!(bf(best, "employer"), 0.0);
    // The other 1980-04-15 man is a candidate too, far behind.
    assert_eq!(r.candidates[1].person_id, "P05");
    assert!(best.match_weight - r.candidates[1].match_weight > 20.0);
    assert_eq!(level(&r.candidates[1], "name"), "else");

    let r = &run.results[1];
    let best = &r.candidates[0];
    assert_eq!(best.person_id, "P02");
    assert_eq!(level(best, "kana"), "exact");
    assert_eq!(level(best, "birth_date"), "day_month_swap");
    assert!(bf(best, "birth_date") > 0.0);
    assert_eq!(r.decision, Decision::Matched, "{}", r.reason);
}

#[test]
fn weights_add_up_and_reasons_hold_no_personal_data() {
    let roster = roster_from(SMALL);
    let p = patient("鈴木 一郎", "スズキ イチロウ", "1975-11-02", Sex::Male);
    let run = match_patients(&[p], &roster, &insurers(), &small_config(), None);
    let r = &run.results[0];
    let c = &r.candidates[0];
    let sum: f64 = c.comparisons.iter().map(|f| f.log2_bayes_factor).sum();
    let prior = run.model.prior.log2_prior_odds;
    assert!((c.match_weight - (prior + sum)).abs() < 1e-9);
    assert!((c.match_probability - 1.0 / (1.0 + (-c.match_weight).exp2())).abs() < 1e-12);
    assert_eq!(c.comparisons.len(), 8);
    for word in ["鈴木", "スズキ", "1975", "P03"] {
        assert!(!r.reason.contains(word), "{}", r.reason);
    }
}

#[test]
fn declared_insurer_employer_and_kind_are_compared_over_all_periods() {
    let roster = roster_from(SMALL);
    let mut p = patient("佐藤 花子", "サトウ ハナコ", "1990-03-04", Sex::Female);
    p.insurer_name = Some("協会けんぽ".into());
    p.employer = Some("㈱さくら".into());
    p.insurance_kind = InsuranceKind::Kokuho;
    // The address she lived at in her first period.
    p.address = Some("新宿区高田馬場1丁目1番1号".into());
    let run = match_patients(&[p], &roster, &insurers(), &small_config(), None);
    let best = &run.results[0].candidates[0];
    assert_eq!(best.person_id, "P02");
    assert_eq!(level(best, "insurer_name"), "contains");
    assert_eq!(level(best, "employer"), "exact");
    assert_eq!(level(best, "kind"), "agree");
    assert_eq!(level(best, "address"), "exact");
}

#[test]
fn rare_surnames_weigh_more_than_common_ones() {
    let mut rows = String::new();
    for i in 0..40 {
        rows.push_str(&format!(
            "S{i:03},01130012,10,{n},00,佐藤 {g},サトウ {k},19{y}-05-0{d},1,,,,2015-04-01,,30\n",
            n = 100 + i,
            g = ["翔太", "健", "大輔", "誠"][i % 4],
            k = ["ショウタ", "ケン", "ダイスケ", "マコト"][i % 4],
            y = 50 + i,
            d = 1 + i % 9,
        ));
    }
    rows.push_str("T001,01130012,10,999,00,勅使河原 翔太,テシガワラ ショウタ,1985-06-07,1,,,,2015-04-01,,30\n");
    rows.push_str(
        "S999,01130012,10,998,00,佐藤 翔太,サトウ ショウタ,1986-06-07,1,,,,2015-04-01,,30\n",
    );
    let roster = roster_from(&rows);
    let common = patient("佐藤 翔太", "サトウ ショウタ", "1986-06-07", Sex::Male);
    let rare = patient(
        "勅使河原 翔太",
        "テシガワラ ショウタ",
        "1985-06-07",
        Sex::Male,
    );
    let run = match_patients(&[common, rare], &roster, &insurers(), &small_config(), None);
    let c = &run.results[0].candidates[0];
    let r = &run.results[1].candidates[0];
    assert_eq!(c.person_id, "S999");
    assert_eq!(r.person_id, "T001");
    assert_eq!(level(c, "name"), "exact");
    assert_eq!(level(r, "name"), "exact");
    assert!(
        bf(r, "name") > bf(c, "name") + 2.0,
        "rare {} vs common {}",
        bf(r, "name"),
        bf(c, "name")
    );
    // Kanji and kana are one name: an exact kana adds little once the kanji agree.
    assert!(
        bf(c, "kana") < 1.0 && bf(c, "kana") >= 0.0,
        "{}",
        bf(c, "kana")
    );
    assert!(r.match_weight > c.match_weight);
}

#[test]
fn em_recovers_known_m_and_lambda() {
    // Pairs simulated from known m, u and λ; EM (u fixed) must find m and λ again.
    let fields = ["birth_date", "sex", "address"];
    let m_true = [
        vec![0.90, 0.02, 0.03, 0.02, 0.03],
        vec![0.97, 0.03],
        vec![0.50, 0.15, 0.15, 0.05, 0.15],
    ];
    let u_true = [
        vec![0.001, 0.001, 0.01, 0.02, 0.968],
        vec![0.5, 0.5],
        vec![0.001, 0.002, 0.05, 0.05, 0.897],
    ];
    let lambda = 0.2;
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let draw = |rng: &mut ChaCha8Rng, probs: &[f64], levels: &'static [&'static str]| {
        let x: f64 = rng.random();
        let mut acc = 0.0;
        for (p, l) in probs.iter().zip(levels) {
            acc += p;
            if x < acc {
                return *l;
            }
        }
        levels[probs.len() - 1]
    };
    const BIRTH: &[&str] = &[
        "exact",
        "day_month_swap",
        "one_digit",
        "same_year_month",
        "else",
    ];
    const SEX: &[&str] = &["exact", "else"];
    const ADDRESS: &[&str] = &[
        "exact",
        "same_block",
        "same_locality",
        "jaro_winkler>=0.90",
        "else",
    ];
    let tables = [BIRTH, SEX, ADDRESS];
    let pairs: Vec<Vec<&str>> = (0..40_000)
        .map(|_| {
            let is_match = rng.random::<f64>() < lambda;
            (0..3)
                .map(|f| {
                    let probs = if is_match { &m_true[f] } else { &u_true[f] };
                    draw(&mut rng, probs, tables[f])
                })
                .collect()
        })
        .collect();
    // Start far from the truth.
    let m0 = [
        vec![0.6, 0.1, 0.1, 0.1, 0.1],
        vec![0.8, 0.2],
        vec![0.3, 0.2, 0.2, 0.1, 0.2],
    ];
    let out = em_for_test(&fields, &pairs, &u_true, &m0, 0.5, 200, 1e-7).unwrap();
    assert!(out.converged, "{} iterations", out.iterations);
    assert!((out.lambda - lambda).abs() < 0.01, "λ {}", out.lambda);
    for (f, field) in fields.iter().enumerate() {
        for (l, level) in tables[f].iter().enumerate() {
            let m = out.m_of(field, level).unwrap();
            assert!(
                (m - m_true[f][l]).abs() < 0.02,
                "{field} {level}: {m} vs {}",
                m_true[f][l]
            );
        }
    }
}

#[test]
fn two_close_candidates_go_to_review_and_nothing_is_no_match() {
    // The same person twice under two ids (a duplicate registration): nobody can tell.
    let rows = "\
D1,01130012,10,1,00,山本 陽子,ヤマモト ヨウコ,1970-07-07,2,,東京都新宿区西新宿2-8-1,,2015-04-01,,30
D2,01270016,20,1,00,山本 陽子,ヤマモト ヨウコ,1970-07-07,2,,東京都新宿区西新宿2-8-1,,2016-04-01,,30
E1,01130012,10,2,00,中村 翔,ナカムラ ショウ,1999-09-09,1,,,,2015-04-01,,30
";
    let roster = roster_from(rows);
    let mut twin = patient("山本 陽子", "ヤマモト ヨウコ", "1970-07-07", Sex::Female);
    twin.address = Some("新宿区西新宿2-8-1".into());
    let nobody = patient("木村 一", "キムラ ハジメ", "1955-01-01", Sex::Male);
    let namesake = patient("中村 翔", "ナカムラ ショウ", "1961-02-13", Sex::Female);
    let run = match_patients(
        &[twin, nobody, namesake],
        &roster,
        &insurers(),
        &small_config(),
        None,
    );
    let r = &run.results[0];
    assert_eq!(r.decision, Decision::Review, "{}", r.reason);
    assert!(r.reason.contains("close"), "{}", r.reason);
    let ids: Vec<_> = r.candidates.iter().map(|c| c.person_id.as_str()).collect();
    assert_eq!(ids, ["D1", "D2"], "equal weights: by person_id");
    let r = &run.results[1];
    assert_eq!(r.decision, Decision::NoMatch);
    assert!(r.candidates.is_empty());
    // Same name, another birth date and sex: not the same person.
    let r = &run.results[2];
    assert_ne!(r.decision, Decision::Matched, "{}", r.reason);
}

#[test]
fn insurer_known_insured_unknown_only_looks_at_that_insurer() {
    let rows = "\
A1,01130012,10,1,00,伊藤 誠,イトウ マコト,1982-02-02,1,,,,2015-04-01,,30
A2,01270016,20,1,00,伊藤 誠,イトウ マコト,1982-02-02,1,,,,2015-04-01,,30
";
    let roster = roster_from(rows);
    let mut p = patient("伊藤 誠", "イトウ マコト", "1982-02-02", Sex::Male);
    p.within_insurer = Some(InsurerNumber::parse("01270016").unwrap());
    let mut q = p.clone();
    q.within_insurer = Some(InsurerNumber::parse("131045").unwrap());
    let run = match_patients(&[p, q], &roster, &insurers(), &small_config(), None);
    let r = &run.results[0];
    assert_eq!(r.candidates.len(), 1);
    assert_eq!(r.candidates[0].person_id, "A2");
    assert_eq!(r.decision, Decision::Matched, "{}", r.reason);
    let r = &run.results[1];
    assert_eq!(r.decision, Decision::NoMatch);
    assert!(r.reason.contains("insurer"), "{}", r.reason);
}

#[test]
fn oversized_blocks_are_capped_and_reported() {
    // P01 and P05 share birth date and sex: with blocks capped at one person, the
    // birth-date rule is skipped for that patient, who is still found by name.
    let roster = roster_from(SMALL);
    use reseclear::resolve::matcher::BlockingKey::{BirthDate, BirthYear, Name, Sex as SexKey};
    let config = MatchConfig {
        max_block_size: 1,
        blocking_rules: vec![vec![BirthDate, SexKey], vec![Name, BirthYear]],
        ..small_config()
    };
    let p = patient("渡辺 太郎", "ワタナベ タロウ", "1980-04-15", Sex::Male);
    let run = match_patients(&[p], &roster, &insurers(), &config, None);
    let first = &run.blocking[0];
    assert_eq!(first.rule, "birth_date,sex");
    assert_eq!((first.capped_blocks, first.capped_patients), (1, 1));
    assert_eq!(first.candidate_pairs, 0);
    assert!(run.blocking[1..].iter().all(|b| b.capped_blocks == 0));
    let r = &run.results[0];
    assert_eq!(r.candidates[0].person_id, "P01");
    assert_eq!(r.decision, Decision::Matched, "{}", r.reason);
}

#[test]
fn nothing_in_nothing_out() {
    let empty = Roster::default();
    let p = patient("", "", "2000-01-01", Sex::Male);
    let run = match_patients(
        std::slice::from_ref(&p),
        &empty,
        &InsurerMaster::default(),
        &MatchConfig::default(),
        None,
    );
    assert_eq!(run.results.len(), 1);
    assert_eq!(run.results[0].decision, Decision::NoMatch);
    assert_eq!(run.candidate_pairs, 0);
    let run = match_patients(
        &[],
        &roster_from(SMALL),
        &insurers(),
        &MatchConfig::default(),
        None,
    );
    assert!(run.results.is_empty());
    // Odd patients against a real roster: no panic, sane answers.
    let odd = [
        patient("", "", "1980-04-15", Sex::Male),
        patient("　", "ｰｰ", "1980-04-15", Sex::Female),
        patient("x", "ﾞ", "1868-01-01", Sex::Male),
    ];
    let run = match_patients(
        &odd,
        &roster_from(SMALL),
        &insurers(),
        &small_config(),
        None,
    );
    assert_eq!(run.results.len(), 3);
    for r in &run.results {
        for c in &r.candidates {
            assert!(c.match_weight.is_finite());
        }
    }
    // No rules at all.
    let none = MatchConfig {
        blocking_rules: vec![vec![]],
        ..MatchConfig::default()
    };
    let run = match_patients(&odd, &roster_from(SMALL), &insurers(), &none, None);
    assert!(run.results.iter().all(|r| r.decision == Decision::NoMatch));
}

// ---------------------------------------------------------------------------------
// A synthetic roster big enough to train on.

const FAMILY: [(&str, &str); 24] = [
    ("佐藤", "サトウ"),
    ("鈴木", "スズキ"),
    ("高橋", "タカハシ"),
    ("田中", "タナカ"),
    ("伊藤", "イトウ"),
    ("渡辺", "ワタナベ"),
    ("山本", "ヤマモト"),
    ("中村", "ナカムラ"),
    ("小林", "コバヤシ"),
    ("加藤", "カトウ"),
    ("吉田", "ヨシダ"),
    ("山田", "ヤマダ"),
    ("佐々木", "ササキ"),
    ("山口", "ヤマグチ"),
    ("松本", "マツモト"),
    ("井上", "イノウエ"),
    ("木村", "キムラ"),
    ("林", "ハヤシ"),
    ("斎藤", "サイトウ"),
    ("清水", "シミズ"),
    ("山崎", "ヤマザキ"),
    ("森", "モリ"),
    ("池田", "イケダ"),
    ("勅使河原", "テシガワラ"),
];
const GIVEN: [(&str, &str, u8); 16] = [
    ("翔太", "ショウタ", 1),
    ("大輔", "ダイスケ", 1),
    ("健", "ケン", 1),
    ("誠", "マコト", 1),
    ("拓也", "タクヤ", 1),
    ("一郎", "イチロウ", 1),
    ("浩", "ヒロシ", 1),
    ("蓮", "レン", 1),
    ("陽子", "ヨウコ", 2),
    ("花子", "ハナコ", 2),
    ("美咲", "ミサキ", 2),
    ("恵子", "ケイコ", 2),
    ("結衣", "ユイ", 2),
    ("裕子", "ユウコ", 2),
    ("さくら", "サクラ", 2),
    ("京子", "キョウコ", 2),
];
const TOWNS: [&str; 6] = [
    "東京都新宿区西新宿",
    "東京都中野区中野",
    "大阪府大阪市北区中之島",
    "兵庫県神戸市中央区加納町",
    "東京都新宿区大久保",
    "大阪府大阪市北区梅田",
];

/// `persons` synthetic persons (some with two periods) and patients drawn from them
/// with slips, plus a few who are on no roster.
fn synthetic(
    persons: usize,
    patients: usize,
    seed: u64,
) -> (Roster, Vec<Patient>, Vec<Option<String>>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let insurers = ["01130012", "01270016", "131045", "39280003"];
    let mut rows = String::new();
    let mut people = Vec::new();
    for i in 0..persons {
        let (fam, fkana) = FAMILY[rng.random_range(0..FAMILY.len())];
        let (giv, gkana, sex) = GIVEN[rng.random_range(0..GIVEN.len())];
        let birth = NaiveDate::from_ymd_opt(1940, 1, 1).unwrap()
            + chrono::Days::new(rng.random_range(0..29_000));
        let town = TOWNS[rng.random_range(0..TOWNS.len())];
        let address = format!(
            "{town}{}-{}-{}",
            rng.random_range(1..6),
            rng.random_range(1..20),
            rng.random_range(1..30)
        );
        let ins = insurers[rng.random_range(0..insurers.len())];
        let id = format!("Q{i:06}");
        let name = format!("{fam} {giv}");
        let kana = format!("{fkana} {gkana}");
        if rng.random::<f64>() < 0.3 {
            let old = insurers[rng.random_range(0..insurers.len())];
            rows.push_str(&format!("{id},{old},1,{i},00,{name},{kana},{birth},{sex},,{town}9-9-9,,2010-04-01,2019-03-31,30\n"));
        }
        rows.push_str(&format!(
            "{id},{ins},2,{i},00,{name},{kana},{birth},{sex},,{address},,2019-04-01,,30\n"
        ));
        people.push((id, name, kana, birth, sex, address));
    }
    let roster = roster_from(&rows);
    let mut out = Vec::new();
    let mut truth = Vec::new();
    for k in 0..patients {
        if k % 10 == 9 {
            // On no roster.
            out.push(patient(
                "架空 太郎",
                "カクウ タロウ",
                &format!("19{:02}-0{}-1{}", 40 + k % 50, 1 + k % 9, k % 10),
                Sex::Male,
            ));
            truth.push(None);
            continue;
        }
        let (id, name, kana, birth, sex, address) = &people[rng.random_range(0..people.len())];
        let mut p = Patient {
            name: name.clone(),
            kana: kana.clone(),
            birth_date: *birth,
            sex: if *sex == 1 { Sex::Male } else { Sex::Female },
            address: Some(address.clone()),
            insurer_name: None,
            employer: None,
            phone: None,
            insurance_kind: InsuranceKind::Unknown,
            within_insurer: None,
        };
        match k % 7 {
            0 => {
                p.name = p
                    .name
                    .replace("辺", "邊")
                    .replace("斎", "齋")
                    .replace(' ', "")
            }
            1 => p.kana = String::new(),
            2 => p.birth_date = p.birth_date.succ_opt().unwrap_or(p.birth_date),
            3 => p.address = None,
            _ => {}
        }
        out.push(p);
        truth.push(Some(id.clone()));
    }
    (roster, out, truth)
}

fn in_pool(threads: usize, f: impl FnOnce() -> MatchRun + Send) -> MatchRun {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f)
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let (roster, patients, _) = synthetic(3_000, 300, 11);
    let config = MatchConfig {
        em_min_pairs: 50,
        u_pairs: 50_000,
        ..MatchConfig::default()
    };
    let ins = insurers();
    let one = in_pool(1, || {
        match_patients(&patients, &roster, &ins, &config, None)
    });
    let two = in_pool(2, || {
        match_patients(&patients, &roster, &ins, &config, None)
    });
    assert_eq!(one.results, two.results);
    assert_eq!(one.model, two.model);
    assert_eq!(one.blocking, two.blocking);
    assert_eq!(
        one.model.training.u_pairs, 50_000,
        "u estimated from random pairs"
    );
    // Another seed samples other pairs: u (and so weights) move, decisions hardly.
    let other = MatchConfig {
        seed: 43,
        ..config.clone()
    };
    let three = in_pool(2, || match_patients(&patients, &roster, &ins, &other, None));
    assert_ne!(one.model.fields, three.model.fields);
}

#[test]
fn a_saved_model_gives_the_same_results() {
    let (roster, patients, truth) = synthetic(3_000, 300, 5);
    let config = MatchConfig {
        em_min_pairs: 50,
        u_pairs: 50_000,
        ..MatchConfig::default()
    };
    let ins = insurers();
    let trained = match_patients(&patients, &roster, &ins, &config, None);
    assert!(trained.model.training.trained_in_this_run);
    assert!(trained
        .model
        .training
        .sessions
        .iter()
        .any(|s| s.skipped.is_none()));
    let json = trained.model.to_json();
    let loaded = MatchModel::from_json(&json).unwrap();
    let again = match_patients(&patients, &roster, &ins, &config, Some(&loaded));
    assert!(!again.model.training.trained_in_this_run);
    assert_eq!(again.em_iterations, 0);
    for (a, b) in trained.results.iter().zip(&again.results) {
        assert_eq!(a.decision, b.decision);
        assert_eq!(a.candidates.len(), b.candidates.len());
        for (x, y) in a.candidates.iter().zip(&b.candidates) {
            assert_eq!(x.person_id, y.person_id);
            assert!((x.match_weight - y.match_weight).abs() < 1e-9);
        }
    }
    // And the synthetic patients are found.
    let mut right = 0;
    let mut wrong = 0;
    for (r, t) in trained.results.iter().zip(&truth) {
        if r.decision == Decision::Matched {
            if Some(&r.candidates[0].person_id) == t.as_ref() {
                right += 1;
            } else {
                wrong += 1;
            }
        }
    }
    assert_eq!(wrong, 0);
    assert!(right > 200, "{right} matched");
    // A model that lost a level still loads and runs.
    let mut damaged = loaded.clone();
    damaged.fields.retain(|f| f.field != "address");
    let run = match_patients(&patients, &roster, &ins, &config, Some(&damaged));
    assert_eq!(run.results.len(), patients.len());
}

#[test]
fn config_reads_from_toml_with_defaults() {
    let c: reseclear::config::Config = toml::from_str(
        "[matching]\naccept_probability = 0.995\nblocking_rules = [[\"birth_date\", \"sex\"], [\"kana_family\", \"birth_year\"]]\n",
    )
    .unwrap();
    assert_eq!(c.matching.accept_probability, 0.995);
    assert_eq!(c.matching.blocking_rules.len(), 2);
    assert_eq!(c.matching.seed, MatchConfig::default().seed);
    let refusal = |toml_text: &str| {
        toml::from_str::<reseclear::config::Config>(toml_text)
            .expect_err(toml_text)
            .to_string()
    };
    let err = refusal("[matching]\nblocking_rules = [[\"shoe_size\"]]\n");
    assert!(
        err.contains("unknown variant `shoe_size`") && err.contains("blocking_rules"),
        "{err}"
    );
    let err = refusal("[matching]\nthreshold = 1\n");
    assert!(err.contains("unknown field `threshold`"), "{err}");
}
