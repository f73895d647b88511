//! Tier-3 matching: comparing one candidate pair (all eight fields, nanoseconds), and
//! the normalization done once per patient and per roster person (names, kana,
//! addresses), as throughput.

use chrono::NaiveDate;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use reseclear::domain::{InsuranceKind, Sex};
use reseclear::resolve::matcher::bench_support::{prepare_patient, PreparedPair};
use reseclear::resolve::matcher::Patient;
use reseclear::resolve::normalize::{normalize_address, normalize_kana, normalize_kanji_name};

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}

fn patient() -> Patient {
    Patient {
        name: "渡邊　翔太郎".into(),
        kana: "ﾜﾀﾅﾍﾞ ｼｮｳﾀﾛｳ".into(),
        birth_date: date(1984, 6, 2),
        sex: Sex::Male,
        address: Some("東京都新宿区西新宿二丁目八番一号 新宿ビル3階".into()),
        insurer_name: Some("協会けんぽ".into()),
        employer: Some("㈱さくら商事".into()),
        phone: Some("03-1234-5678".into()),
        insurance_kind: InsuranceKind::Shaho,
        within_insurer: None,
    }
}

fn bench_compare(c: &mut Criterion) {
    let p = patient();
    // The same person as the roster has them, and a stranger born the same day.
    let same = PreparedPair::new(
        &p,
        "渡辺 翔太郎",
        "ワタナベ ショウタロウ",
        date(1984, 2, 6),
        Sex::Male,
        "新宿区西新宿2-8-1",
        "さくら商事株式会社",
        InsuranceKind::Shaho,
    );
    let stranger = PreparedPair::new(
        &p,
        "高橋 美咲",
        "タカハシ ミサキ",
        date(1984, 6, 2),
        Sex::Female,
        "大阪府大阪市北区中之島1-3-20",
        "大阪商事株式会社",
        InsuranceKind::Kokuho,
    );
    let mut group = c.benchmark_group("matcher_compare");
    group.throughput(Throughput::Elements(1));
    group.bench_function("one_pair_same_person", |b| {
        b.iter(|| std::hint::black_box(&same).compare())
    });
    group.bench_function("one_pair_stranger", |b| {
        b.iter(|| std::hint::black_box(&stranger).compare())
    });
    group.finish();
}

const NAMES: [(&str, &str); 8] = [
    ("渡邊　翔太郎", "ﾜﾀﾅﾍﾞ ｼｮｳﾀﾛｳ"),
    ("髙橋 美咲", "たかはし みさき"),
    ("齋藤　恭子", "サイトウ キョーコ"),
    ("勅使河原 勇", "テシガワラ イサム"),
    ("佐々木 大輔", "ササキ ダイスケ"),
    ("山﨑 ゆうこ", "ヤマザキ ユウコ"),
    ("濱田 龍之介", "ﾊﾏﾀﾞ ﾘｭｳﾉｽｹ"),
    ("小野寺 陽菜", "オノデラ ヒナ"),
];

const ADDRESSES: [&str; 4] = [
    "東京都新宿区西新宿二丁目八番一号 新宿ビル3階",
    "〒530-8201 大阪府大阪市北区中之島1-3-20",
    "札幌市中央区北一条西二丁目",
    "神奈川県横浜市南区日和山下３丁目２６番３号日和山下テラス４０１号室",
];

fn bench_normalize(c: &mut Criterion) {
    let mut group = c.benchmark_group("matcher_normalize");
    group.throughput(Throughput::Elements(NAMES.len() as u64));
    group.bench_function("kanji_names", |b| {
        b.iter(|| {
            NAMES
                .iter()
                .map(|(n, _)| normalize_kanji_name(std::hint::black_box(n)).len())
                .sum::<usize>()
        })
    });
    group.bench_function("kana_names", |b| {
        b.iter(|| {
            NAMES
                .iter()
                .map(|(_, k)| normalize_kana(std::hint::black_box(k)).len())
                .sum::<usize>()
        })
    });
    group.throughput(Throughput::Elements(ADDRESSES.len() as u64));
    group.bench_function("addresses", |b| {
        b.iter(|| {
            ADDRESSES
                .iter()
                .map(|a| normalize_address(std::hint::black_box(a)).len())
                .sum::<usize>()
        })
    });
    let patients: Vec<Patient> = NAMES
        .iter()
        .zip(ADDRESSES.iter().cycle())
        .map(|((n, k), a)| Patient {
            name: (*n).into(),
            kana: (*k).into(),
            address: Some((*a).into()),
            ..patient()
        })
        .collect();
    group.throughput(Throughput::Elements(patients.len() as u64));
    group.bench_function("patient_keys", |b| {
        b.iter(|| {
            patients
                .iter()
                .map(|p| prepare_patient(std::hint::black_box(p)))
                .sum::<usize>()
        })
    });
    group.finish();
}

criterion_group!(benches, bench_compare, bench_normalize);
criterion_main!(benches);
