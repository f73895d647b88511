//! UKE parse throughput (MB/s) on a one-clinic file of realistic receipts: tier-1
//! receipts with diagnosis, procedure and drug records, and tier-3 ones with 摘要
//! comments, Shift_JIS with CR LF (`uke/parse_one_clinic_file`, hand-built 医科); and on
//! one file of each kind as the generator writes them (`uke/parse_kind/<kind>`: 医科,
//! DPC, 歯科 and 調剤, each in its own layout with days of care marked, 5,000 receipts
//! or as many as a generated month has of the kind).
//!
//! With `UKE_PARSE_RUNS=N` in the environment the binary skips criterion and parses the
//! file N times (default 1; each result dropped, as in criterion's loop), then prints the
//! fastest and median throughput; with `UKE_PARSE_KIND=<kind>` as well (ika, dpc, shika,
//! chozai) the file is that kind's of `uke/parse_kind`. It is the driver for instruction
//! counts, which stay the same however loaded the machine is:
//! `UKE_PARSE_RUNS=5 valgrind --tool=callgrind target/release/deps/uke_parse-…`, then
//! `callgrind_annotate --inclusive=yes` for `parse_uke` and `drop_in_place<…UkeFile>`
//! (making the file, `month_file` or `kind_files`, is counted apart; for a kind's file,
//! `--toggle-collect='*parse_uke*'` leaves the generator out).

use criterion::{criterion_group, Criterion, Throughput};
use reseclear::config::IngestConfig;
use reseclear::domain::ReceiptKey;
use reseclear::generate::{sample_files, SampleFile};
use reseclear::ingest::uke::writer::{assign_lines, write_uke, DateStyle};
use reseclear::ingest::uke::{parse_uke, Receipt, ReceiptKind};

const RECEIPTS: usize = 5_000;

fn month_file() -> Vec<u8> {
    let mut text =
        String::from("IR,1,13,1,1312345,,さくら内科クリニック,202606,00,03-1234-5678\r\n");
    let mut points = 0i64;
    for n in 1..=RECEIPTS {
        let p = 200 + (n as i64 * 37) % 2800;
        points += p;
        text.push_str(&format!(
            "RE,{n},1112,202605,山田　太郎,1,19800415,,,,,,,{n},,,,,,,,,,,,,,,,,,,,,,,ヤマダ　タロウ,\r\n"
        ));
        if n % 20 == 0 {
            text.push_str(&format!(
                "HO,77777777,７７７７７７７,７７７７７７７,1,{p},,,,,,,,,\r\n"
            ));
            for c in [
                "不詳",
                "カナ氏名：ヤマダ　タロウ",
                "保険種別：社保",
                "住所：東京都新宿区西新宿２丁目８番１号",
                "連絡先：03-5321-1111",
            ] {
                text.push_str(&format!("CO,,1,810000001,{c}\r\n"));
            }
        } else {
            text.push_str(&format!("HO,01130012,１２３,{n},2,{p},,,,,,,,,\r\n"));
            text.push_str(&format!("SN,1,01,01130012,１２３,{n},00,,\r\n"));
        }
        text.push_str("SY,8833421,20260510,1,,,01,\r\n");
        for _ in 0..4 {
            text.push_str("SI,11,1,111000110,,288,1,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,\r\n");
        }
        text.push_str("IY,21,1,620000001,1,10,1,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,\r\n");
    }
    text.push_str(&format!("GO,{RECEIPTS},{points},99\r\n"));
    let (bytes, _, _) = encoding_rs::SHIFT_JIS.encode(&text);
    let mut v = bytes.into_owned();
    v.push(0x1A);
    v
}

/// One file per kind of claim, written by the generator's writer: the receipts of a
/// generated month's files of that kind, renumbered under one header of the kind.
fn kind_files() -> Vec<(ReceiptKind, Vec<u8>)> {
    let files = sample_files(40_000, 24_000, 7);
    ReceiptKind::ALL
        .iter()
        .filter_map(|&kind| {
            let of_kind: Vec<&SampleFile> =
                files.iter().filter(|f| f.header.kind == kind).collect();
            let first = of_kind.first()?;
            let mut receipts: Vec<Receipt> = of_kind
                .iter()
                .flat_map(|f| f.receipts.iter().cloned())
                .take(RECEIPTS)
                .collect();
            for (i, r) in receipts.iter_mut().enumerate() {
                r.key = ReceiptKey {
                    receipt_number: i as u32 + 1,
                    ..first.receipts[0].key
                };
            }
            assign_lines(kind, &mut receipts);
            let mut bytes = Vec::new();
            write_uke(&first.header, &receipts, DateStyle::Western, &mut bytes).ok()?;
            Some((kind, bytes))
        })
        .collect()
}

fn bench_parse(c: &mut Criterion) {
    let bytes = month_file();
    let config = IngestConfig::default();
    let check = parse_uke("bench.UKE", &bytes, &config);
    assert_eq!(
        check.receipts.len(),
        RECEIPTS,
        "bench file must parse cleanly"
    );
    let mut group = c.benchmark_group("uke");
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.bench_function("parse_one_clinic_file", |b| {
        b.iter(|| parse_uke("bench.UKE", std::hint::black_box(&bytes), &config))
    });
    group.finish();
    let mut group = c.benchmark_group("uke/parse_kind");
    for (kind, bytes) in kind_files() {
        let check = parse_uke("bench.UKE", &bytes, &config);
        assert!(
            check.quarantined.is_empty() && !check.receipts.is_empty() && check.totals.is_some(),
            "{kind:?}: every receipt of the bench file must be read: {:?}",
            check.quarantined.first()
        );
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function(kind.as_str(), |b| {
            b.iter(|| parse_uke("bench.UKE", std::hint::black_box(&bytes), &config))
        });
    }
    group.finish();
}

/// Parses the bench file (or `UKE_PARSE_KIND`'s) `times` times without criterion (for
/// callgrind), and prints the fastest and the median parse: on a loaded machine the
/// fastest is the steadier figure.
fn parse_runs(times: usize) {
    let bytes = match std::env::var("UKE_PARSE_KIND") {
        Ok(name) => kind_files()
            .into_iter()
            .find(|(kind, _)| kind.as_str() == name)
            .map(|(_, bytes)| bytes)
            .unwrap_or_else(|| panic!("UKE_PARSE_KIND={name}: no such kind's file")),
        Err(_) => month_file(),
    };
    let config = IngestConfig::default();
    let mut receipts = 0;
    let mut secs = Vec::with_capacity(times);
    for _ in 0..times {
        let start = std::time::Instant::now();
        receipts += parse_uke("bench.UKE", std::hint::black_box(&bytes), &config)
            .receipts
            .len();
        secs.push(start.elapsed().as_secs_f64());
    }
    secs.sort_by(f64::total_cmp);
    let mib_s = |s: f64| bytes.len() as f64 / s / (1024.0 * 1024.0);
    println!(
        "{} bytes parsed {times} times, {receipts} receipts; fastest {:.0} MiB/s, median {:.0} MiB/s",
        bytes.len(),
        mib_s(secs[0]),
        mib_s(secs[secs.len() / 2]),
    );
}

criterion_group!(benches, bench_parse);

fn main() {
    if let Some(times) = std::env::var_os("UKE_PARSE_RUNS") {
        parse_runs(
            times
                .to_str()
                .and_then(|t| t.parse().ok())
                .unwrap_or(1)
                .max(1),
        );
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
