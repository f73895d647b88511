//! UKE parse throughput (MB/s) on a one-clinic file of realistic receipts: tier-1
//! receipts with diagnosis, procedure and drug records, and tier-3 ones with 摘要
//! comments, Shift_JIS with CR LF.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use reseclear::config::IngestConfig;
use reseclear::ingest::uke::parse_uke;

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
}

criterion_group!(benches, bench_parse);
criterion_main!(benches);
