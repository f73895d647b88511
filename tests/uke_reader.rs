//! The UKE reader against hand-written files: a golden parse of good files, and each
//! kind of bad input giving quarantine rows with file, line, field and reason.

use std::fmt::Write as _;
use std::path::PathBuf;

use reseclear::config::IngestConfig;
use reseclear::domain::Yen;
use reseclear::ingest::uke::{
    parse_uke, reparse_receipts, InsurerField, ReceiptAt, ReceiptKind, UkeFile,
};
use reseclear::validate::Scope;

/// Encodes UTF-8 text as a UKE file: Shift_JIS, CR LF, trailing EOF byte.
fn sjis(text: &str) -> Vec<u8> {
    let crlf = text.trim_end_matches('\n').replace('\n', "\r\n") + "\r\n";
    let (bytes, _, had_errors) = encoding_rs::SHIFT_JIS.encode(&crlf);
    assert!(!had_errors, "test text must be JIS X 0208");
    let mut v = bytes.into_owned();
    v.push(0x1A);
    v
}

fn data(name: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    std::fs::read_to_string(p).expect("test data")
}

fn parse(text: &str) -> UkeFile {
    parse_uke("test.UKE", &sjis(text), &IngestConfig::default())
}

/// A stable, readable rendering of everything the reader produced.
fn render(f: &UkeFile) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "file {} bytes={} lines={}", f.path, f.bytes, f.lines);
    if let Some(h) = &f.header {
        let _ = writeln!(
            s,
            "header kind={:?} org={} pref={:02} table={} clinic={} name={} billing={}",
            f.kind,
            h.organization.code(),
            h.prefecture,
            h.fee_table,
            h.clinic_code,
            h.clinic_name,
            h.billing_month
        );
    }
    for r in &f.receipts {
        let _ = writeln!(
            s,
            "receipt {} line={} type={} care={} name={} kana={} notes={} chart={} sex={} birth={} ratio={:?} points={}",
            r.key,
            r.line,
            r.receipt_type,
            r.care_month,
            r.name,
            r.kana_name,
            r.special_notes,
            r.chart_number,
            r.sex.code(),
            r.birth_date,
            r.benefit_ratio,
            r.points()
        );
        if let Some(h) = &r.insurance {
            let insurer = match &h.insurer {
                InsurerField::Known(n) => format!("known:{n}"),
                InsurerField::Filler(f) => format!("filler:{f}"),
            };
            let _ = writeln!(
                s,
                "  HO line={} insurer={} symbol={} number={} days={:?} points={} copay={:?}",
                h.line, insurer, h.symbol, h.number, h.days, h.points, h.copay
            );
        }
        for k in &r.public_expenses {
            let _ = writeln!(
                s,
                "  KO line={} payer={} recipient={} days={:?} points={:?} copay={:?}",
                k.line, k.payer_number, k.recipient_number, k.days, k.points, k.copay
            );
        }
        if let Some(c) = &r.confirmation {
            let _ = writeln!(
                s,
                "  SN line={} kind={} confirm={} insurer={} symbol={} number={} branch={}",
                c.line,
                c.payer_kind,
                c.confirmation_kind,
                c.insurer_number,
                c.symbol,
                c.number,
                c.branch
            );
        }
        for c in &r.comments {
            let _ = writeln!(s, "  CO line={} code={} text={}", c.line, c.code, c.text);
        }
        for (id, n) in &r.other_records {
            let _ = writeln!(s, "  {id} x{n}");
        }
        let _ = writeln!(s, "  days of care: {}", r.care_days);
    }
    for q in &f.quarantined {
        let _ = writeln!(
            s,
            "quarantined line={} number={:?} points={:?} reason={}",
            q.line, q.receipt_number, q.points, q.reason
        );
    }
    if let Some(t) = &f.totals {
        let _ = writeln!(
            s,
            "totals line={} count={} points={} volume={}",
            t.line, t.receipt_count, t.total_points, t.volume
        );
    }
    let _ = writeln!(s, "records {:?}", f.record_counts);
    for r in &f.quarantine {
        let _ = writeln!(
            s,
            "quarantine {}:{} {} [{}] {:?} {} ({})",
            r.file,
            r.line,
            r.record,
            r.field,
            r.value,
            r.reason,
            r.scope.as_str()
        );
    }
    s
}

fn golden(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, actual).expect("write golden");
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "missing golden file {}; run with UPDATE_GOLDEN=1",
            path.display()
        )
    });
    assert_eq!(actual, expected, "output differs from {}", path.display());
}

#[test]
fn golden_parse_of_a_hand_written_shiharai_kikin_file() {
    let f = parse(&data("hand_written_shiharai.uke.txt"));
    assert_eq!(f.receipts.len(), 3);
    assert!(f.quarantined.is_empty());
    golden("hand_written_shiharai.parsed.txt", &render(&f));
}

#[test]
fn golden_parse_of_a_hand_written_era_dated_kokuhoren_file() {
    let f = parse(&data("hand_written_kokuhoren_era.uke.txt"));
    assert_eq!(f.receipts.len(), 2);
    let first = &f.receipts[0];
    assert_eq!(first.birth_date.to_string(), "1970-08-15");
    assert_eq!(first.care_month.to_string(), "2026-05");
    assert_eq!(first.benefit_ratio, Some(70));
    golden("hand_written_kokuhoren_era.parsed.txt", &render(&f));
}

/// Issue 17: a 歯科 file as dental receipt software writes it — a UK header, an IR
/// opening every receipt, RE of 27 fields (カタカナ 26, 特記事項 14, カルテ番号 16), HO
/// 負担金額 at 11 (12 is 減免区分, a code), SS detail records.
#[test]
fn golden_parse_of_a_hand_written_dental_file() {
    let f = parse(&data("hand_written_shika.uke.txt"));
    assert_eq!(f.kind, Some(ReceiptKind::Shika));
    assert_eq!(f.receipts.len(), 2, "{:?}", f.quarantine);
    assert!(f.quarantined.is_empty());
    let first = &f.receipts[0];
    assert_eq!(first.kana_name, "ヤマダ　タロウ");
    assert_eq!(first.special_notes, "03");
    assert_eq!(first.chart_number, "K-0012");
    let ho = first.insurance.as_ref().expect("HO");
    assert_eq!(ho.copay, Some(Yen(1200)), "HO 11, not the 減免区分 at 12");
    assert_eq!(f.receipts[1].public_expenses[0].copay, Some(Yen(300)));
    assert_eq!(
        f.header.as_ref().expect("UK").billing_month.to_string(),
        "2026-06"
    );
    golden("hand_written_shika.parsed.txt", &render(&f));
}

/// Issue 17: a 調剤 file — YK header (請求年月 at 7), RE of 42 fields (特記事項 9,
/// カタカナ 42, 調剤録番号 36), HO 一部負担金 at 10, KO 一部負担金額 at 8, CZ records.
#[test]
fn golden_parse_of_a_hand_written_pharmacy_file() {
    let f = parse(&data("hand_written_chozai.uke.txt"));
    assert_eq!(f.kind, Some(ReceiptKind::Chozai));
    assert_eq!(f.receipts.len(), 2, "{:?}", f.quarantine);
    let h = f.header.as_ref().expect("YK");
    assert_eq!(
        (
            h.billing_month.to_string(),
            h.clinic_name.as_str(),
            h.fee_table.as_str()
        ),
        ("2026-06".to_string(), "さくら薬局", "4")
    );
    let first = &f.receipts[0];
    assert_eq!(first.care_month.to_string(), "2026-05");
    assert_eq!(first.kana_name, "スズキ　イチロウ");
    assert_eq!(first.special_notes, "01");
    assert_eq!(first.chart_number, "C-0001");
    assert_eq!(first.insurance.as_ref().expect("HO").copay, Some(Yen(1070)));
    assert_eq!(f.receipts[1].public_expenses[0].copay, Some(Yen(200)));
    golden("hand_written_chozai.parsed.txt", &render(&f));
}

/// Issue 17: a DPC hospital's file — an IR file whose inpatient receipt carries DPC
/// records (BU 診断群分類, SB, CD コーディング), RE of the DPC edition's 28 fields (no
/// カタカナ), HO of 16 (標準負担額 at 16, 負担金額 at 12 as 医科), 出来高 SI/IY with the
/// days of the stay; and an outpatient 医科 receipt of the same hospital.
#[test]
fn golden_parse_of_a_hand_written_dpc_file() {
    let f = parse(&data("hand_written_dpc.uke.txt"));
    assert_eq!(f.kind, Some(ReceiptKind::Dpc));
    assert_eq!(f.receipts.len(), 2, "{:?}", f.quarantine);
    // The first RE, read before any DPC record, is not short for its 28 fields.
    assert!(f.quarantine.is_empty(), "{:?}", f.quarantine);
    let stay = &f.receipts[0];
    assert_eq!(stay.chart_number, "D-0001");
    assert_eq!(stay.kana_name, "");
    assert_eq!(stay.care_days.to_string(), "3–11");
    let ho = stay.insurance.as_ref().expect("HO");
    assert_eq!((ho.points.0, ho.copay), (48210, Some(Yen(80100))));
    assert_eq!(f.receipts[1].care_days.to_string(), "12, 26");
    golden("hand_written_dpc.parsed.txt", &render(&f));
}

/// A 調剤 RE shorter than its 42 fields but holding every field the engine reads (a
/// writer that drops trailing empty fields) is read, with one notice per file.
#[test]
fn a_short_pharmacy_re_is_read_with_a_notice() {
    let text = data("hand_written_chozai.uke.txt");
    let short: String = text
        .lines()
        .map(|l| {
            if l.starts_with("RE,2,") {
                l.split(',').take(12).collect::<Vec<_>>().join(",")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n";
    let f = parse(&short);
    assert_eq!(f.receipts.len(), 2, "{:?}", f.quarantine);
    assert_eq!(
        f.receipts[1].kana_name, "",
        "カタカナ (42) is past the record's end"
    );
    let notices: Vec<&str> = f
        .quarantine
        .iter()
        .filter(|r| r.record == "RE")
        .map(|r| r.reason.as_str())
        .collect();
    assert_eq!(
        notices,
        ["RE has 12 fields, the chozai layout 42: read, the missing fields empty (first such RE of the file)"]
    );
}

fn reasons(f: &UkeFile) -> Vec<String> {
    f.quarantine.iter().map(|r| r.reason.clone()).collect()
}

const GOOD: &str = "IR,1,13,1,1312345,,テスト医院,202606,00,
RE,1,1112,202605,山田　太郎,1,19800415,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,ヤマダ　タロウ,
HO,01130012,１２３,４５６７,2,1234,,,,,,,,,
RE,2,1112,202605,鈴木　一郎,1,19700101,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,スズキ　イチロウ,
HO,01130012,１２３,４５６８,1,100,,,,,,,,,
GO,2,1334,99
";

#[test]
fn the_good_base_file_is_clean() {
    let f = parse(GOOD);
    assert_eq!(f.receipts.len(), 2);
    assert!(f.quarantine.is_empty(), "{:?}", reasons(&f));
}

#[test]
fn undecodable_bytes_quarantine_only_their_receipt() {
    let mut bytes = sjis(GOOD);
    // Corrupt the first byte of 鈴木 (line 4) into a lead byte followed by a comma-free
    // invalid trail: 0x81 0x20 does not decode.
    let (suzuki, _, _) = encoding_rs::SHIFT_JIS.encode("鈴木");
    let at = bytes
        .windows(suzuki.len())
        .position(|w| w == &suzuki[..])
        .expect("name present");
    bytes[at] = 0x81;
    bytes[at + 1] = 0x20;
    let f = parse_uke("bad.UKE", &bytes, &IngestConfig::default());
    assert_eq!(f.receipts.len(), 1);
    assert_eq!(f.quarantined.len(), 1);
    let row = f
        .quarantine
        .iter()
        .find(|r| r.scope == Scope::Receipt)
        .expect("a receipt row");
    assert_eq!(
        (row.file.as_str(), row.line, row.record.as_str()),
        ("bad.UKE", 4, "RE")
    );
    assert!(row.reason.contains("not valid Shift_JIS"), "{}", row.reason);
    // The receipt's HO was readable, so GO totals still balance and the file stands.
    assert!(!f.quarantined_whole());
}

#[test]
fn a_file_cut_off_before_go_is_quarantined_whole() {
    let cut: String = GOOD.lines().take(5).collect::<Vec<_>>().join("\n");
    let f = parse_uke("cut.UKE", &sjis(&cut)[..], &IngestConfig::default());
    assert!(f.receipts.is_empty());
    assert_eq!(f.quarantined.len(), 2);
    assert!(f.quarantined_whole());
    assert!(reasons(&f).iter().any(|r| r.contains("without GO")));
}

#[test]
fn go_count_mismatch_quarantines_the_file() {
    let f = parse(&GOOD.replace("GO,2,1334", "GO,3,1334"));
    assert!(f.quarantined_whole());
    assert!(f.receipts.is_empty());
    let row = f
        .quarantine
        .iter()
        .find(|r| r.scope == Scope::File)
        .expect("file row");
    assert_eq!((row.line, row.field.as_str()), (6, "GO.2 総件数"));
}

#[test]
fn go_count_per_payer_is_accepted() {
    let with_ko = GOOD
        .replace(
            "HO,01130012,１２３,４５６８,1,100,,,,,,,,,",
            "HO,01130012,１２３,４５６８,1,100,,,,,,,,,\nKO,51136018,1234567,,1,100,,,,,",
        )
        .replace("GO,2,1334", "GO,3,1334");
    let f = parse(&with_ko);
    assert!(!f.quarantined_whole(), "{:?}", reasons(&f));
    assert_eq!(f.receipts.len(), 2);
}

#[test]
fn go_points_mismatch_quarantines_the_file() {
    let f = parse(&GOOD.replace("GO,2,1334", "GO,2,1335"));
    assert!(f.quarantined_whole());
    assert!(reasons(&f).iter().any(|r| r.contains("総合計点数 1335")));
    // The quarantined receipts keep their points for the accounts.
    let points: i64 = f
        .quarantined
        .iter()
        .map(|q| q.points.expect("points").0)
        .sum();
    assert_eq!(points, 1334);
}

#[test]
fn a_bad_insurer_check_digit_quarantines_the_receipt() {
    let f = parse(&GOOD.replacen("HO,01130012", "HO,01130013", 1));
    assert_eq!(f.receipts.len(), 1);
    assert_eq!(f.quarantined.len(), 1);
    let row = &f.quarantine[0];
    assert_eq!((row.line, row.field.as_str()), (3, "HO.2 保険者番号"));
    assert!(row.reason.contains("check digit"), "{}", row.reason);
    assert_eq!(row.receipt_key, "1312345:2026-06:1@1");
    assert!(!f.quarantined_whole(), "{:?}", reasons(&f));
}

#[test]
fn impossible_era_dates_quarantine_the_receipt() {
    // 平成32年 does not exist; nor does February 30th.
    for bad in ["4320115", "4120230", "20260230"] {
        let f = parse(&GOOD.replacen("19800415", bad, 1));
        assert_eq!(f.quarantined.len(), 1, "{bad}");
        let row = &f.quarantine[0];
        assert_eq!(row.field, "RE.7 生年月日");
        // Birth dates are personal data: masked in the quarantine file.
        assert_eq!(row.value, format!("<masked:{} chars>", bad.len()));
    }
}

#[test]
fn a_field_of_the_wrong_type_quarantines_the_receipt() {
    let f = parse(&GOOD.replacen(",2,1234,", ",2,12a4,", 1));
    assert_eq!(f.quarantined.len(), 1);
    assert!(f
        .quarantine
        .iter()
        .any(|r| r.field == "HO.6 合計点数" && r.value == "12a4"));
    // Its points are unknown, so the file totals cannot be verified: a notice, not a
    // quarantine of the whole file.
    assert!(!f.quarantined_whole());
    assert!(f.quarantine.iter().any(|r| r.scope == Scope::Notice));
}

#[test]
fn an_unknown_record_id_is_a_record_row_and_the_receipt_goes_on() {
    let f = parse(&GOOD.replacen("GO,2", "ZZ,something\nGO,2", 1));
    assert_eq!(f.receipts.len(), 2);
    let row = &f.quarantine[0];
    assert_eq!(
        (row.line, row.record.as_str(), row.scope),
        (6, "ZZ", Scope::Record)
    );
    assert!(row.reason.contains("unknown record id"));
}

#[test]
fn the_same_receipt_number_twice_quarantines_both() {
    let f = parse(&GOOD.replacen("RE,2,", "RE,1,", 1));
    assert!(f.receipts.is_empty());
    assert_eq!(f.quarantined.len(), 2);
    assert!(reasons(&f)
        .iter()
        .all(|r| r.contains("appears 2 times in the file (lines 2, 4)")));
}

#[test]
fn an_empty_file_is_quarantined() {
    let f = parse_uke("empty.UKE", b"", &IngestConfig::default());
    assert!(f.quarantined_whole());
    assert!(reasons(&f)[0].contains("empty"));
}

#[test]
fn random_bytes_never_panic() {
    let junk: Vec<u8> = (0u32..5000)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let f = parse_uke("junk.UKE", &junk, &IngestConfig::default());
    assert!(f.receipts.is_empty());
    assert!(f.quarantined_whole());
}

#[test]
fn a_care_month_after_the_billing_month_is_refused() {
    let f = parse(&GOOD.replacen("202605", "202607", 1));
    assert_eq!(f.quarantined.len(), 1);
    assert!(reasons(&f)
        .iter()
        .any(|r| r.contains("after the billing month")));
}

#[test]
fn missing_eof_byte_is_a_notice_only() {
    let mut bytes = sjis(GOOD);
    bytes.pop();
    let f = parse_uke("noeof.UKE", &bytes, &IngestConfig::default());
    assert_eq!(f.receipts.len(), 2);
    assert_eq!(f.quarantine.len(), 1);
    assert_eq!(f.quarantine[0].scope, Scope::Notice);
}

#[test]
fn filler_insurer_numbers_are_not_check_digit_errors() {
    for filler in ["77777777", "77777779", "99999999"] {
        let f = parse(&GOOD.replacen("HO,01130012", &format!("HO,{filler}"), 1));
        assert_eq!(f.receipts.len(), 2, "{filler}: {:?}", reasons(&f));
        let ho = f.receipts[0].insurance.as_ref().expect("HO");
        assert_eq!(ho.insurer, InsurerField::Filler(filler.into()));
    }
}

/// Every accepted receipt of `bytes` (written to a file) read again from its span alone
/// equals the receipt as first read, lines included. Returns how many there were.
fn assert_each_reads_again(name: &str, bytes: &[u8]) -> usize {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).expect("write");
    let config = IngestConfig::default();
    let f = parse_uke(name, bytes, &config);
    assert_eq!(f.spans.len(), f.receipts.len());
    if f.receipts.is_empty() {
        return 0;
    }
    let at: Vec<ReceiptAt> = f
        .receipts
        .iter()
        .zip(&f.spans)
        .map(|(r, span)| ReceiptAt {
            span: span.clone(),
            key: r.key,
            line: r.line,
            points: r.points(),
        })
        .collect();
    let header = f.header_span.clone().expect("IR span");
    let again = reparse_receipts(&path, name, &header, &at, &config).expect("reads again");
    assert_eq!(again, f.receipts, "{name}");
    // Backwards too: each read on its own, in any order.
    for (one, want) in at.iter().zip(&f.receipts).rev() {
        let got = reparse_receipts(&path, name, &header, std::slice::from_ref(one), &config)
            .expect("reads again");
        assert_eq!(&got[0], want, "{name}");
    }
    at.len()
}

#[test]
fn each_receipt_reads_again_from_its_span_alone() {
    assert_eq!(assert_each_reads_again("good.UKE", &sjis(GOOD)), 2);
    // LF line ends, no EOF byte, an unknown record inside a receipt.
    let lf = GOOD.replacen("GO,2", "ZZ,something\nGO,2", 1);
    let mut bytes = encoding_rs::SHIFT_JIS.encode(&lf).0.into_owned();
    assert!(!bytes.contains(&b'\r'));
    assert_eq!(assert_each_reads_again("lf.UKE", &bytes), 2);
    bytes.extend_from_slice(b"\n\n");
    assert_eq!(assert_each_reads_again("trailing.UKE", &bytes), 2);
    for name in [
        "hand_written_shiharai.uke.txt",
        "hand_written_kokuhoren_era.uke.txt",
    ] {
        assert!(
            assert_each_reads_again(name, &sjis(&data(name))) > 0,
            "{name}"
        );
    }
    // The bundled sample month's files.
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/sample/uke");
    let mut stack = vec![root];
    let mut receipts = 0;
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("sample dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                receipts +=
                    assert_each_reads_again("sample.UKE", &std::fs::read(&path).expect("read"));
            }
        }
    }
    assert!(receipts > 400, "{receipts} sample receipts");
}

#[test]
fn a_receipt_changed_since_it_was_read_is_an_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("changing.UKE");
    let config = IngestConfig::default();
    let bytes = sjis(GOOD);
    let f = parse_uke("changing.UKE", &bytes, &config);
    let at = ReceiptAt {
        span: f.spans[1].clone(),
        key: f.receipts[1].key,
        line: f.receipts[1].line,
        points: f.receipts[1].points(),
    };
    let header = f.header_span.clone().expect("IR span");
    // The first receipt's bytes where the second's were: another key.
    let mut shifted = bytes.clone();
    let first = &bytes[f.spans[0].start as usize..f.spans[0].end as usize];
    shifted.splice(
        f.spans[0].start as usize..f.spans[0].start as usize,
        first.iter().copied(),
    );
    std::fs::write(&path, &shifted).expect("write");
    let err = reparse_receipts(
        &path,
        "changing.UKE",
        &header,
        std::slice::from_ref(&at),
        &config,
    )
    .expect_err("another receipt");
    assert!(err.to_string().contains("changed during the run"), "{err}");
    // Cut short.
    std::fs::write(&path, &bytes[..f.spans[1].start as usize + 10]).expect("write");
    let err = reparse_receipts(&path, "changing.UKE", &header, &[at], &config)
        .expect_err("a file cut short");
    assert_eq!(
        err.to_string(),
        format!(
            "{}: cannot read: failed to fill whole buffer",
            path.display()
        )
    );
}

/// A detail record with `marks` placed at their 1-based positions (field 1 is `id`).
fn record(id: &str, len: usize, marks: &[(usize, &str)]) -> String {
    let mut f = vec![String::new(); len];
    f[0] = id.to_string();
    for (pos, value) in marks {
        f[pos - 1] = value.to_string();
    }
    f.join(",")
}

/// The shiharai file with its first receipt's SI and IY lines replaced by `lines`.
fn ika_with_details(lines: &[String]) -> UkeFile {
    let text = data("hand_written_shiharai.uke.txt");
    let mut out = Vec::new();
    let mut first = true;
    for l in text.lines() {
        if (l.starts_with("SI,") || l.starts_with("IY,")) && first {
            if l.starts_with("IY,") {
                out.extend(lines.iter().cloned());
                first = false;
            }
            continue;
        }
        out.push(l.to_string());
    }
    parse(&(out.join("\n") + "\n"))
}

#[test]
fn days_of_care_are_the_days_si_iy_to_and_jd_mark() {
    let f = ika_with_details(&[
        // SI: 1日 at 14; day 10 marked with a count of 2.
        record(
            "SI",
            44,
            &[
                (2, "11"),
                (4, "111000110"),
                (6, "288"),
                (7, "3"),
                (14, "1"),
                (23, "2"),
            ],
        ),
        // IY: 0 is no care that day.
        record(
            "IY",
            44,
            &[(2, "21"), (4, "620000001"), (14, "0"), (15, "1")],
        ),
        // TO: a comment code at 14 is no day; its days start at 18.
        record(
            "TO",
            48,
            &[
                (2, "40"),
                (4, "700590000"),
                (12, "820000001"),
                (14, "830000001"),
                (20, "1"),
            ],
        ),
        // JD: 受診等区分 from 3 (1 counted, 2 not counted: both days of care).
        record("JD", 33, &[(2, "1"), (3, "1"), (27, "2")]),
    ]);
    assert_eq!(f.receipts.len(), 3, "{:?}", f.quarantine);
    assert!(f.quarantine.is_empty(), "{:?}", f.quarantine);
    assert_eq!(f.receipts[0].care_days.to_string(), "1–3, 10, 25");
    // The receipt without day fields (its records end before 14) has none.
    assert!(f.receipts[1].care_days.is_empty());
}

#[test]
fn an_unreadable_day_field_leaves_the_month_rule_with_a_row_saying_so() {
    let f = ika_with_details(&[
        record("SI", 44, &[(2, "11"), (4, "111000110"), (14, "1")]),
        record("IY", 44, &[(2, "21"), (4, "620000001"), (20, "x")]),
    ]);
    assert_eq!(
        f.receipts.len(),
        3,
        "the receipt is read: {:?}",
        f.quarantine
    );
    assert!(
        f.receipts[0].care_days.is_empty(),
        "no days: the month rule"
    );
    let rows: Vec<(&str, &str, &str, Scope)> = f
        .quarantine
        .iter()
        .map(|r| {
            (
                r.record.as_str(),
                r.field.as_str(),
                r.value.as_str(),
                r.scope,
            )
        })
        .collect();
    assert_eq!(rows, [("IY", "IY.20 7日の情報", "x", Scope::Record)]);
    assert_eq!(
        f.quarantine[0].reason,
        "IY field 20 is not a count of that day (up to 3 digits): the receipt's days of care \
         are not used, its card is checked on the care month 2026-05 as a whole"
    );
    // Day 31 of a 30-day month is no day of care either.
    let april = data("hand_written_shiharai.uke.txt").replace(",202605,", ",202604,");
    let text: Vec<String> = april
        .lines()
        .map(|l| {
            if l.starts_with("SI,11,1,111000110,,288,1,,,") && !l.contains(",,,,,,,,,,,,") {
                record("SI", 44, &[(2, "11"), (4, "111000110"), (44, "1")])
            } else {
                l.to_string()
            }
        })
        .collect();
    let f = parse(&(text.join("\n") + "\n"));
    let reasons = reasons(&f);
    assert!(
        reasons
            .iter()
            .any(|r| r.starts_with("SI field 44 marks a day the care month does not have")),
        "{reasons:?}"
    );
}

#[test]
fn dental_and_pharmacy_days_are_read_where_their_layouts_put_them() {
    // 歯科 SS days from 79 (after 35 加算 pairs, 点数 77, 回数 78); 調剤 CZ 調剤月日 at 4,
    // whose 処方月日 at 3 is no day of care.
    let shika = parse(&data("hand_written_shika.uke.txt"));
    let days: Vec<String> = shika
        .receipts
        .iter()
        .map(|r| r.care_days.to_string())
        .collect();
    assert_eq!(days, ["1, 7", "2"]);
    let chozai = parse(&data("hand_written_chozai.uke.txt"));
    let days: Vec<String> = chozai
        .receipts
        .iter()
        .map(|r| r.care_days.to_string())
        .collect();
    assert_eq!(days, ["12", "20"]);
    // An 8-digit 調剤月日 of the care month reads the same; one outside it is a row.
    let text = data("hand_written_chozai.uke.txt")
        .replace("CZ,1,0510,0512,", "CZ,1,20260510,20260512,")
        .replace("CZ,1,0520,0520,", "CZ,1,0520,0620,");
    let f = parse(&text);
    assert_eq!(f.receipts[0].care_days.to_string(), "12");
    assert!(f.receipts[1].care_days.is_empty());
    assert!(
        reasons(&f)
            .iter()
            .any(|r| r.starts_with("CZ field 4 is a date outside the care month")),
        "{:?}",
        reasons(&f)
    );
}
