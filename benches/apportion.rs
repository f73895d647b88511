//! Apportionment throughput (receipts/s): 100,000 final-unresolved receipts, each split
//! among about 50 insurers (a prefecture's 国保 and 後期, or its 協会けんぽ branch and
//! health insurance societies), claims basis, prefecture scope. Also the bare
//! largest-remainder kernel on 50 parties.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use reseclear::apportion::{
    largest_remainder, ApportionConfig, Apportioner, ClaimContext, ClaimsBasis,
};
use reseclear::domain::{InsuranceKind, InsurerNumber, Organization, Yen};
use reseclear::ingest::insurers::{Insurer, InsurerMaster};

const RECEIPTS: usize = 100_000;
/// Insurers of each organization per prefecture.
const PER_PREFECTURE: u32 = 50;

/// A valid insurer number for a body of digits (DOMAIN §7 check digit).
fn with_check_digit(body: &str) -> InsurerNumber {
    InsurerNumber::from_body(body).expect("valid number")
}

/// Per prefecture: 49 municipal 国保 + 1 後期 union, and 1 協会けんぽ branch + 49
/// health insurance societies — 4,700 insurers.
fn master(rng: &mut ChaCha8Rng) -> InsurerMaster {
    let mut m = InsurerMaster::default();
    let mut add = |number: InsurerNumber, kind: InsuranceKind, prefecture: u8, count: u64| {
        m.insurers.insert(
            number,
            Insurer {
                number,
                name: String::new(),
                kind,
                prefecture,
                insured_count: count,
            },
        );
    };
    for p in 1..=47u8 {
        add(
            with_check_digit(&format!("39{p:02}000")),
            InsuranceKind::Koki,
            p,
            rng.random_range(100_000..2_000_000),
        );
        add(
            with_check_digit(&format!("01{p:02}001")),
            InsuranceKind::Shaho,
            p,
            rng.random_range(500_000..5_000_000),
        );
        for i in 1..PER_PREFECTURE {
            add(
                with_check_digit(&format!("{p:02}{i:03}")),
                InsuranceKind::Kokuho,
                p,
                rng.random_range(1_000..500_000),
            );
            add(
                with_check_digit(&format!("06{p:02}{:03}", 100 + i)),
                InsuranceKind::Shaho,
                p,
                rng.random_range(1_000..100_000),
            );
        }
    }
    m
}

fn bench_apportion(c: &mut Criterion) {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let master = master(&mut rng);
    // A month's resolved insurer-paid yen; about one insurer in ten had none.
    let claims: ClaimsBasis = master
        .insurers
        .keys()
        .filter_map(|&n| {
            let yen = rng.random_range(10_000..5_000_000_000);
            (rng.random_range(0..10) > 0).then_some((n, Yen(yen)))
        })
        .collect();
    let receipts: Vec<(Yen, ClaimContext)> = (0..RECEIPTS)
        .map(|_| {
            let organization = if rng.random_bool(0.5) {
                Organization::ShiharaiKikin
            } else {
                Organization::Kokuhoren
            };
            let kind = match (organization, rng.random_range(0..4)) {
                (Organization::Kokuhoren, 0) => InsuranceKind::Kokuho,
                (Organization::ShiharaiKikin, 0) => InsuranceKind::Shaho,
                _ => InsuranceKind::Unknown,
            };
            let claim = ClaimContext {
                organization,
                kind,
                prefecture: Some(rng.random_range(1..=47)),
            };
            (Yen(rng.random_range(1_000..2_000_000)), claim)
        })
        .collect();
    let config = ApportionConfig::default();
    let apportioner = Apportioner::new(&master, &claims, &config);

    let mut group = c.benchmark_group("apportion");
    group.sample_size(10);
    group.throughput(Throughput::Elements(RECEIPTS as u64));
    group.bench_function("claims_100k_over_50_insurers", |b| {
        b.iter(|| {
            let mut parts = 0usize;
            for (amount, claim) in std::hint::black_box(&receipts) {
                let a = apportioner.apportion(*amount, claim).expect("apportioned");
                parts += a.parts.len();
            }
            parts
        })
    });
    group.finish();

    let weights: Vec<(InsurerNumber, u64)> = master
        .insurers
        .keys()
        .take(50)
        .map(|&n| (n, rng.random_range(0..1_000_000_000_000)))
        .collect();
    let mut group = c.benchmark_group("largest_remainder");
    group.throughput(Throughput::Elements(1));
    group.bench_function("50_parties", |b| {
        b.iter(|| largest_remainder(std::hint::black_box(Yen(123_456_789)), &weights))
    });
    group.finish();
}

criterion_group!(benches, bench_apportion);
criterion_main!(benches);
