//! The tabular inputs (insurer master, declarations, roster) read through the public
//! API: encodings, headers, row- and field-level quarantine, Parquet with typed and
//! all-text columns, overlapping periods, and personal data kept out of quarantine rows.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, Date32Array, Date64Array, DictionaryArray, Int32Array, Int64Array,
    LargeStringArray, RecordBatch, StringArray, StringViewArray, UInt8Array,
};
use arrow::datatypes::{Date32Type, Date64Type, Field, Int32Type, Schema, UInt64Type};
use chrono::NaiveDate;
use encoding_rs::SHIFT_JIS;
use parquet::arrow::ArrowWriter;

use reseclear::config::CsvEncoding;
use reseclear::domain::{InsuranceKind, InsurerNumber, Organization, Sex};
use reseclear::ingest::declarations::{read_declarations, CardIssued};
use reseclear::ingest::insurers::read_insurers;
use reseclear::ingest::roster::{col, read_roster, roster_schema, RosterRead, TextColumn};
use reseclear::ingest::text::TextEncoding;
use reseclear::ingest::IngestError;
use reseclear::validate::{QuarantineRow, Scope};

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn sjis(text: &str) -> Vec<u8> {
    let (bytes, _, unmappable) = SHIFT_JIS.encode(text);
    assert!(!unmappable, "test text must be encodable in Shift_JIS");
    bytes.into_owned()
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn rows_with(rows: &[QuarantineRow], scope: Scope) -> Vec<&QuarantineRow> {
    rows.iter().filter(|r| r.scope == scope).collect()
}

/// No personal value may appear anywhere in a quarantine row.
fn assert_no_pii(rows: &[QuarantineRow], secrets: &[&str]) {
    for r in rows {
        for s in secrets {
            for (what, text) in [
                ("value", &r.value),
                ("reason", &r.reason),
                ("field", &r.field),
            ] {
                assert!(
                    !text.contains(s),
                    "{s:?} leaked into the {what} of quarantine row {r:?}"
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------
// Insurer master

const INSURERS: &str = "\
insurer_number,name,kind,prefecture,insured_count
01130012,全国健康保険協会 東京支部,shaho,13,4500000
06130017,東京都ソフトウェア健康保険組合,shaho,13,21000
131045,墨田区国民健康保険,kokuho,13,58000
39280003,兵庫県後期高齢者医療広域連合,koki,28,910000
";

#[test]
fn insurer_master_reads_the_same_from_utf8_and_shift_jis() {
    let dir = tempfile::tempdir().unwrap();
    let utf8 = write(dir.path(), "insurers_utf8.csv", INSURERS.as_bytes());
    let shift_jis = write(dir.path(), "insurers_sjis.csv", &sjis(INSURERS));

    let a = read_insurers(&utf8, "insurers_utf8.csv", CsvEncoding::Auto).unwrap();
    let b = read_insurers(&shift_jis, "insurers_sjis.csv", CsvEncoding::Auto).unwrap();
    assert_eq!(a.encoding.encoding, TextEncoding::Utf8);
    assert_eq!(b.encoding.encoding, TextEncoding::ShiftJis);
    assert!(b.encoding.detected);
    assert_eq!(a.master, b.master);
    assert_eq!(a.rows_read, 4);
    assert!(a.quarantine.is_empty(), "{:?}", a.quarantine);

    let kyokai = a
        .master
        .get(&InsurerNumber::parse("01130012").unwrap())
        .unwrap();
    assert_eq!(kyokai.name, "全国健康保険協会 東京支部");
    assert_eq!(kyokai.kind, InsuranceKind::Shaho);
    assert_eq!(kyokai.prefecture, 13);
    assert_eq!(kyokai.insured_count, 4_500_000);
    let sumida = a
        .master
        .get(&InsurerNumber::parse("131045").unwrap())
        .unwrap();
    assert_eq!(sumida.kind, InsuranceKind::Kokuho);
    assert_eq!(a.master.len(), 4);

    // Forcing the other encoding fails loudly instead of producing mojibake.
    let e = read_insurers(&shift_jis, "insurers_sjis.csv", CsvEncoding::Utf8).unwrap_err();
    assert!(e.to_string().contains("not valid UTF-8"), "{e}");
    let forced = read_insurers(&shift_jis, "insurers_sjis.csv", CsvEncoding::ShiftJis).unwrap();
    assert!(!forced.encoding.detected);
    assert_eq!(forced.master, a.master);
}

#[test]
fn columns_are_found_by_name_in_any_order() {
    let dir = tempfile::tempdir().unwrap();
    let text = "\
kind,insured_count,remarks,prefecture,name,insurer_number
koki,910000,extra column ignored,28,兵庫県後期高齢者医療広域連合,39280003
";
    let path = write(dir.path(), "insurers.csv", text.as_bytes());
    let read = read_insurers(&path, "insurers.csv", CsvEncoding::Auto).unwrap();
    let hyogo = read
        .master
        .get(&InsurerNumber::parse("39280003").unwrap())
        .unwrap();
    assert_eq!(hyogo.kind, InsuranceKind::Koki);
    assert_eq!(hyogo.prefecture, 28);
}

#[test]
fn undecodable_bytes_name_the_line_and_byte_offset() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = sjis(INSURERS);
    // Line 3 is "06130017,東京都…": break its first kanji's trail byte.
    let line3 = bytes
        .iter()
        .enumerate()
        .filter(|(_, &b)| b == b'\n')
        .nth(1)
        .map(|(i, _)| i + 1)
        .unwrap();
    let offset = line3 + "06130017,".len();
    bytes[offset] = 0x81;
    bytes[offset + 1] = 0x7F; // 0x81 0x7F is not Shift_JIS (and 0x81 is not UTF-8)
    let path = write(dir.path(), "insurers.csv", &bytes);

    let e = read_insurers(&path, "insurers.csv", CsvEncoding::Auto).unwrap_err();
    assert!(matches!(e, IngestError::Invalid { .. }));
    let msg = e.to_string();
    assert!(msg.contains("insurers.csv"), "{msg}");
    assert!(
        msg.contains(&format!("line 3, byte offset {offset}")),
        "{msg}"
    );
    assert!(msg.contains("expected UTF-8 or Shift_JIS"), "{msg}");
}

#[test]
fn a_missing_required_column_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "insurers.csv",
        b"insurer_number,name,insured_count\n01130012,x,1\n",
    );
    let msg = read_insurers(&path, "insurers.csv", CsvEncoding::Auto)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("missing required columns kind, prefecture"),
        "{msg}"
    );
}

#[test]
fn bad_insurer_rows_are_quarantined_one_by_one() {
    let dir = tempfile::tempdir().unwrap();
    let text = "\
insurer_number,name,kind,prefecture,insured_count
01130012,全国健康保険協会 東京支部,shaho,13,4500000
01130013,check digit is wrong,shaho,13,1
01270016,全国健康保険協会 大阪支部,shaho,27
131045,墨田区国民健康保険,national,13,58000
271007,大阪市国民健康保険,kokuho,48,100
06130017,東京都ソフトウェア健康保険組合,shaho,13,many
01130012,全国健康保険協会 東京支部 (again),shaho,13,4500000
39280003,兵庫県後期高齢者医療広域連合,koki,28,910000
";
    let path = write(dir.path(), "insurers.csv", text.as_bytes());
    let read = read_insurers(&path, "master/insurers.csv", CsvEncoding::Auto).unwrap();
    assert_eq!(read.rows_read, 8);
    assert_eq!(read.master.len(), 2); // 01130012 (line 2) and 39280003
    let rejected = rows_with(&read.quarantine, Scope::Row);
    let by_line: Vec<(u64, &str)> = rejected
        .iter()
        .map(|r| (r.line, r.field.as_str()))
        .collect();
    assert_eq!(
        by_line,
        vec![
            (3, "insurer_number"),
            (4, "-"),
            (5, "kind"),
            (6, "prefecture"),
            (7, "insured_count"),
            (8, "insurer_number"),
        ]
    );
    assert!(rejected
        .iter()
        .all(|r| r.file == "master/insurers.csv" && r.record == "insurers"));
    assert!(
        rejected[0].reason.contains("check digit"),
        "{}",
        rejected[0].reason
    );
    assert_eq!(rejected[1].value, "4 fields");
    assert!(rejected[5].reason.contains("already given on line 2"));
    // The first occurrence stays.
    let kyokai = read
        .master
        .get(&InsurerNumber::parse("01130012").unwrap())
        .unwrap();
    assert_eq!(kyokai.name, "全国健康保険協会 東京支部");
}

// ---------------------------------------------------------------------------------
// Declarations

const DECLARATION_HEADER: &str = "organization,clinic_code,billing_month,receipt_number,\
insurance_kind,insurer_name,employer,card_issued,declared_copay_percent,name,name_kana,\
birth_date,sex,address,other_residence,confirmation_date,phone\n";

#[test]
fn declarations_keep_rows_with_a_bad_field_and_drop_bad_keys_and_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "{DECLARATION_HEADER}\
1,1312345,2026-05,17,shaho,全国健康保険協会 東京支部,株式会社みなと商事,within_month,30,山田 太郎,ヤマダ タロウ,1980-05-12,1,東京都港区芝公園4-2-8,,2026-04-10,03-1234-5678
2,1312345,2026-05,18,kokuho,,,,,鈴木 花子,スズキ ハナコ,1992-13-45,3,東京都新宿区西新宿2-8-1,,2026-04-11,090-1111-2222
1,1312345,2026-05,17,shaho,,,,,山田 太郎,ヤマダ タロウ,1980-05-12,1,,,2026-04-10,
,131234,2026-05,19,unknown,,,,,佐藤 一郎,サトウ イチロウ,,,,,,
1,1312345,2026-05,20,shaho
,1312345,2026-05,18,kokuho,,,,,鈴木 花子,,,,,,,
,1312345,2026-05,21,foo,,,sometimes,40,高橋 美咲,タカハシ ミサキ,1975-07-07,2,,,2026-04-12,
  2,1312345 ,2026-05, 22 ,koki,,,earlier,10,,,1948-02-29,2,,,2026-04-15,
"
    );
    let path = write(dir.path(), "declarations.csv", text.as_bytes());
    let read = read_declarations(&path, "declarations.csv", CsvEncoding::Auto).unwrap();
    assert_eq!(read.rows_read, 8);
    let lines: Vec<u64> = read.declarations.iter().map(|d| d.line).collect();
    assert_eq!(lines, vec![2, 3, 8, 9]);

    let yamada = &read.declarations[0];
    assert_eq!(yamada.organization, Some(Organization::ShiharaiKikin));
    assert_eq!(yamada.clinic_code.as_str(), "1312345");
    assert_eq!(yamada.billing_month.to_string(), "2026-05");
    assert_eq!(yamada.receipt_number, 17);
    assert_eq!(yamada.insurance_kind, InsuranceKind::Shaho);
    assert_eq!(yamada.card_issued, CardIssued::WithinMonth);
    assert_eq!(yamada.declared_copay_percent, Some(30));
    assert_eq!(yamada.name.as_deref(), Some("山田 太郎"));
    assert_eq!(yamada.birth_date, Some(date("1980-05-12")));
    assert_eq!(yamada.sex, Some(Sex::Male));
    assert_eq!(yamada.other_residence, None);
    assert_eq!(yamada.confirmation_date, Some(date("2026-04-10")));
    assert_eq!(yamada.key_string(), "1312345:2026-05:17@1");

    // Garbage birth date and sex 3: those fields are empty, the row is kept.
    let suzuki = &read.declarations[1];
    assert_eq!(suzuki.birth_date, None);
    assert_eq!(suzuki.sex, None);
    assert_eq!(suzuki.name.as_deref(), Some("鈴木 花子"));
    assert_eq!(suzuki.insurance_kind, InsuranceKind::Kokuho);
    assert_eq!(suzuki.card_issued, CardIssued::Unknown);

    // Unknown codes are empty too; the form's other answers stay.
    let takahashi = &read.declarations[2];
    assert_eq!(takahashi.organization, None);
    assert_eq!(takahashi.insurance_kind, InsuranceKind::Unknown);
    assert_eq!(takahashi.card_issued, CardIssued::Unknown);
    assert_eq!(takahashi.declared_copay_percent, None);
    assert_eq!(takahashi.birth_date, Some(date("1975-07-07")));

    // Surrounding ASCII spaces are trimmed, including in the key.
    let trimmed = &read.declarations[3];
    assert_eq!(trimmed.receipt_number, 22);
    assert_eq!(trimmed.organization, Some(Organization::Kokuhoren));
    assert_eq!(trimmed.card_issued, CardIssued::Earlier);
    assert_eq!(trimmed.declared_copay_percent, Some(10));

    let fields: Vec<(u64, &str)> = rows_with(&read.quarantine, Scope::Field)
        .iter()
        .map(|r| (r.line, r.field.as_str()))
        .collect();
    assert_eq!(
        fields,
        vec![
            (3, "birth_date"),
            (3, "sex"),
            (8, "insurance_kind"),
            (8, "card_issued"),
            (8, "declared_copay_percent"),
        ]
    );
    let sex_row = read.quarantine.iter().find(|r| r.field == "sex").unwrap();
    assert_eq!(sex_row.value, "3");
    assert!(sex_row.reason.contains("treated as empty"));
    let birth_row = read
        .quarantine
        .iter()
        .find(|r| r.field == "birth_date")
        .unwrap();
    assert_eq!(birth_row.value, "<masked:10 chars>");

    let rows: Vec<(u64, &str)> = rows_with(&read.quarantine, Scope::Row)
        .iter()
        .map(|r| (r.line, r.field.as_str()))
        .collect();
    assert_eq!(
        rows,
        vec![
            (4, "clinic_code,billing_month,receipt_number"),
            (5, "clinic_code"),
            (6, "-"),
            (7, "clinic_code,billing_month,receipt_number"),
        ]
    );
    let dup = read.quarantine.iter().find(|r| r.line == 4).unwrap();
    assert!(
        dup.reason.contains("already given on line 2"),
        "{}",
        dup.reason
    );
    assert_eq!(dup.receipt_key, "1312345:2026-05:17@1");
    let dup_any_org = read.quarantine.iter().find(|r| r.line == 7).unwrap();
    assert!(
        dup_any_org.reason.contains("already given on line 3"),
        "{}",
        dup_any_org.reason
    );

    assert_no_pii(
        &read.quarantine,
        &[
            "山田",
            "鈴木",
            "佐藤",
            "高橋",
            "ヤマダ",
            "1992-13-45",
            "090-1111-2222",
            "西新宿",
        ],
    );
}

#[test]
fn declarations_organization_column_is_optional_but_the_form_fields_are_not() {
    let dir = tempfile::tempdir().unwrap();
    let header = DECLARATION_HEADER.trim_start_matches("organization,");
    let text = format!("{header}1312345,2026-05,17,koki,,,,,,,,,,,,\n");
    let path = write(dir.path(), "declarations.csv", text.as_bytes());
    let read = read_declarations(&path, "declarations.csv", CsvEncoding::Auto).unwrap();
    assert_eq!(read.declarations.len(), 1);
    assert_eq!(read.declarations[0].organization, None);
    assert_eq!(read.declarations[0].key_string(), "1312345:2026-05:17");

    let without_phone = header.replace(",phone", "");
    let path = write(dir.path(), "d2.csv", without_phone.as_bytes());
    let msg = read_declarations(&path, "d2.csv", CsvEncoding::Auto)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("missing required column phone"), "{msg}");
}

#[test]
fn declared_dates_may_be_written_as_on_the_paper_form() {
    let dir = tempfile::tempdir().unwrap();
    let header = DECLARATION_HEADER.trim_start_matches("organization,");
    // birth_date is column 12, confirmation_date column 16 (of 16 without organization).
    let text = format!(
        "{header}1312345,2026-05,17,shaho,,,,,山田 太郎,ヤマダ タロウ,昭和55年4月15日,1,,,令和8年5月12日,\n\
         1312345,2026-05,18,shaho,,,,,山田 花子,ヤマダ ハナコ,S55.4.16,2,,,2026/5/12,\n"
    );
    let path = write(dir.path(), "declarations.csv", text.as_bytes());
    let read = read_declarations(&path, "declarations.csv", CsvEncoding::Auto).unwrap();
    assert!(read.quarantine.is_empty(), "{:?}", read.quarantine);
    let births: Vec<String> = read
        .declarations
        .iter()
        .map(|d| d.birth_date.unwrap().to_string())
        .collect();
    assert_eq!(births, ["1980-04-15", "1980-04-16"]);
    let confirmed: Vec<String> = read
        .declarations
        .iter()
        .map(|d| d.confirmation_date.unwrap().to_string())
        .collect();
    assert_eq!(confirmed, ["2026-05-12", "2026-05-12"]);
}

// ---------------------------------------------------------------------------------
// Roster

const ROSTER_HEADER: &str = "person_id,insurer_number,symbol,number,branch,name,name_kana,\
birth_date,sex,postal_code,address,employer,valid_from,valid_to,copay_percent\n";

/// Five good periods of three persons (the same rows the Parquet tests write).
const ROSTER_GOOD: &str = "\
P0000001,01130012,1234,567,00,山田 太郎,ヤマダ タロウ,1980-05-12,1,105-0011,東京都港区芝公園4-2-8,株式会社みなと商事,2019-04-01,2023-03-31,30
P0000001,06130017,8,1001,00,山田 太郎,ﾔﾏﾀﾞ ﾀﾛｳ,1980-05-12,1,105-0011,東京都港区芝公園4-2-8,東京ソフト株式会社,2023-04-01,,30
P0000002,131045,,0012345,,鈴木 花子,スズキ ハナコ,1992-11-03,2,,,,2020-01-01,,
P0000003,01270016,55,9876,01,佐藤 一郎,サトウ イチロウ,1948-02-29,1,530-0001,大阪府大阪市北区梅田1-1-1,,2010-04-01,2023-02-27,20
P0000003,39280003,,28001234,,佐藤 一郎,サトウ イチロウ,1948-02-29,1,650-0001,兵庫県神戸市中央区加納町6-5-1,,2023-02-28,,10
";

fn roster_csv(dir: &Path, name: &str, body: &str) -> PathBuf {
    write(dir, name, format!("{ROSTER_HEADER}{body}").as_bytes())
}

fn strings(batch: &RecordBatch, column: &str) -> Vec<Option<String>> {
    let a = TextColumn::of(batch, batch.schema().index_of(column).unwrap()).unwrap();
    (0..a.len()).map(|i| a.get(i).map(str::to_string)).collect()
}

fn all_rows_of(read: &RosterRead) -> RecordBatch {
    arrow::compute::concat_batches(&roster_schema(), &read.roster.batches).unwrap()
}

#[test]
fn roster_csv_reads_into_the_validated_schema() {
    let dir = tempfile::tempdir().unwrap();
    let path = roster_csv(dir.path(), "roster.csv", ROSTER_GOOD);
    let read = read_roster(&path, "roster.csv", CsvEncoding::Auto).unwrap();
    assert_eq!(read.rows_read, 5);
    assert_eq!(read.roster.num_rows(), 5);
    assert!(read.quarantine.is_empty(), "{:?}", read.quarantine);
    assert_eq!(read.overlapping_persons, 0);
    assert_eq!(read.encoding.map(|e| e.encoding), Some(TextEncoding::Utf8));

    let b = all_rows_of(&read);
    assert_eq!(b.schema(), roster_schema());
    assert_eq!(
        strings(&b, col::INSURER_NUMBER),
        ["01130012", "06130017", "131045", "01270016", "39280003"].map(|s| Some(s.to_string()))
    );
    assert_eq!(strings(&b, col::SYMBOL)[2].as_deref(), Some("")); // empty, not null
    assert_eq!(strings(&b, col::BRANCH)[2], None);
    assert_eq!(strings(&b, col::NAME_KANA)[1].as_deref(), Some("ﾔﾏﾀﾞ ﾀﾛｳ"));
    // Repeated values are kept once per batch (a dictionary), read back row by row.
    let address = strings(&read.roster.batches[0], col::ADDRESS);
    assert_eq!(address[0], address[1]);
    assert_eq!(address[0].as_deref(), Some("東京都港区芝公園4-2-8"));
    assert_eq!(address[2], None);
    assert_eq!(
        strings(&b, col::EMPLOYER)[..3],
        [
            Some("株式会社みなと商事".to_string()),
            Some("東京ソフト株式会社".to_string()),
            None
        ]
    );
    let addresses = read.roster.batches[0]
        .column_by_name(col::ADDRESS)
        .unwrap()
        .as_dictionary::<Int32Type>()
        .values()
        .len();
    assert_eq!(addresses, 3, "five rows, two empty, one address twice");
    let valid_to = b
        .column_by_name(col::VALID_TO)
        .unwrap()
        .as_primitive::<Date32Type>();
    assert_eq!(valid_to.value_as_date(0), Some(date("2023-03-31")));
    assert!(valid_to.is_null(1));
    let copay = b
        .column_by_name(col::COPAY_PERCENT)
        .unwrap()
        .as_primitive::<arrow::datatypes::UInt8Type>();
    assert_eq!(copay.value(4), 10);
    assert!(copay.is_null(2));
    let lines = b
        .column_by_name(col::SOURCE_LINE)
        .unwrap()
        .as_primitive::<UInt64Type>();
    assert_eq!(lines.values().to_vec(), vec![2, 3, 4, 5, 6]);
}

#[test]
fn roster_in_shift_jis_reads_the_same_as_utf8() {
    let dir = tempfile::tempdir().unwrap();
    let utf8 = roster_csv(dir.path(), "roster.csv", ROSTER_GOOD);
    let sjis_path = write(
        dir.path(),
        "roster_sjis.csv",
        &sjis(&format!("{ROSTER_HEADER}{ROSTER_GOOD}")),
    );
    let a = read_roster(&utf8, "roster.csv", CsvEncoding::Auto).unwrap();
    let b = read_roster(&sjis_path, "roster_sjis.csv", CsvEncoding::Auto).unwrap();
    assert_eq!(b.encoding.map(|e| e.encoding), Some(TextEncoding::ShiftJis));
    assert_eq!(all_rows_of(&a), all_rows_of(&b));
}

#[test]
fn bad_roster_rows_are_quarantined_with_masked_personal_data() {
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "{ROSTER_GOOD}\
P0000004,01130012,1234,568,00,田中 次郎,タナカ ジロウ,1985-01-20,1,,,,2021-04-01,2020-01-01,30
P0000005,01130013,1234,569,00,伊藤 三郎,イトウ サブロウ,1990-03-03,1,,,,2021-04-01,,30
P0000006,01130012,1234,570,00,渡辺 久美子,ワタナベ クミコ,1970-06-30,2
P0000007,01130012,1234,571,00,小林 正,コバヤシ タダシ,1970-06-31,1,,,,2021-04-01,,30
P0000008,01130012,1234,572,00,加藤 恵,カトウ メグミ,1999-09-09,3,,,,2021-04-01,,30
P0000009,01130012,1234,573,00,吉田 翔,ヨシダ ショウ,2001-01-01,1,,,,2021-04-01,,25
,01130012,1234,574,00,山本 彩,ヤマモト アヤ,2002-02-02,2,,,,2021-04-01,,30
P0000011,01130012,1234,,00,中村 陽,ナカムラ ヨウ,2003-03-03,1,,,,2021-04-01,,30
P0000012,01130012,1234,576,00,,,2004-04-04,2,,,,2021-04-01,,30
"
    );
    let path = roster_csv(dir.path(), "roster.csv", &body);
    let read = read_roster(&path, "in/roster.csv", CsvEncoding::Auto).unwrap();
    assert_eq!(read.rows_read, 14);
    assert_eq!(read.roster.num_rows(), 5);
    let rejected = rows_with(&read.quarantine, Scope::Row);
    let got: Vec<(u64, &str)> = rejected
        .iter()
        .map(|r| (r.line, r.field.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (7, "valid_to"),
            (8, "insurer_number"),
            (9, "-"),
            (10, "birth_date"),
            (11, "sex"),
            (12, "copay_percent"),
            (13, "person_id"),
            (14, "number"),
            (15, "name"),
        ]
    );
    let by_line = |l: u64| rejected.iter().find(|r| r.line == l).unwrap();
    assert_eq!(
        by_line(7).reason,
        "valid_to 2020-01-01 is before valid_from 2021-04-01; row skipped"
    );
    assert_eq!(by_line(7).value, "2020-01-01");
    assert_eq!(by_line(8).value, "01130013");
    assert!(by_line(8).reason.contains("check digit is 3, expected 2"));
    assert_eq!(
        by_line(9).reason,
        "expected 15 fields (as the header), found 9; row skipped"
    );
    assert_eq!(by_line(10).value, "<masked:10 chars>");
    assert_eq!(by_line(11).value, "3");
    assert!(rejected
        .iter()
        .all(|r| r.file == "in/roster.csv" && r.record == "roster"));

    assert_no_pii(
        &read.quarantine,
        &[
            "田中",
            "伊藤",
            "渡辺",
            "小林",
            "1970-06-31",
            "加藤",
            "吉田",
            "山本",
            "中村",
            "タナカ",
            "ナカムラ",
        ],
    );
}

#[test]
fn roster_needs_its_required_columns_but_not_the_optional_ones() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "roster.csv",
        "person_id,insurer_number,symbol,number,name,name_kana,birth_date\n".as_bytes(),
    );
    let msg = read_roster(&path, "roster.csv", CsvEncoding::Auto)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("missing required columns sex, valid_from, valid_to"),
        "{msg}"
    );

    let minimal = "\
person_id,insurer_number,symbol,number,name,name_kana,birth_date,sex,valid_from,valid_to
P0000002,131045,,0012345,鈴木 花子,スズキ ハナコ,1992-11-03,2,2020-01-01,
";
    let path = write(dir.path(), "minimal.csv", minimal.as_bytes());
    let read = read_roster(&path, "minimal.csv", CsvEncoding::Auto).unwrap();
    let b = all_rows_of(&read);
    assert_eq!(b.num_rows(), 1);
    // postal_code is read by no stage and not kept.
    assert!(b.column_by_name(col::POSTAL_CODE).is_none());
    for c in [col::BRANCH, col::ADDRESS, col::EMPLOYER, col::COPAY_PERCENT] {
        assert_eq!(b.column_by_name(c).unwrap().null_count(), 1, "{c}");
    }

    let other = write(dir.path(), "roster.txt", b"x");
    let err = read_roster(&other, "roster.txt", CsvEncoding::Auto).expect_err("a .txt roster");
    assert_eq!(
        err.to_string(),
        format!(
            "{}: a roster must be a .parquet or a .csv file",
            other.display()
        )
    );
}

#[test]
fn overlapping_periods_are_noticed_not_removed() {
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "{ROSTER_GOOD}\
P0000002,01130012,77,88,00,鈴木 花子,スズキ ハナコ,1992-11-03,2,,,,2022-06-01,2023-05-31,30
P0000004,06130017,1,2,00,田中 次郎,タナカ ジロウ,1985-01-20,1,,,,2021-04-01,2022-03-31,30
P0000004,01130012,3,4,00,田中 次郎,タナカ ジロウ,1985-01-20,1,,,,2022-03-31,,30
"
    );
    let path = roster_csv(dir.path(), "roster.csv", &body);
    let read = read_roster(&path, "roster.csv", CsvEncoding::Auto).unwrap();
    // Nothing is taken out.
    assert_eq!(read.roster.num_rows(), 8);
    assert_eq!(read.overlapping_persons, 2);
    let notices = rows_with(&read.quarantine, Scope::Notice);
    assert_eq!(notices.len(), 2);
    // 鈴木's open 131045 period (line 4) overlaps the 01130012 one on line 7.
    assert_eq!(notices[0].line, 7);
    assert!(
        notices[0].reason.contains("line 4"),
        "{}",
        notices[0].reason
    );
    assert!(
        notices[0].reason.contains("131045 2020-01-01–open"),
        "{}",
        notices[0].reason
    );
    // 田中's periods share one day (ends are inclusive).
    assert_eq!(notices[1].line, 9);
    assert!(
        notices[1].reason.contains("line 8"),
        "{}",
        notices[1].reason
    );
    // Adjacent periods (山田: to 2023-03-31, from 2023-04-01) are not an overlap.
    assert!(notices.iter().all(|n| n.line != 3));
    assert_no_pii(&read.quarantine, &["鈴木", "田中", "P0000002", "P0000004"]);
}

// ---------------------------------------------------------------------------------
// Roster as Parquet

struct Good {
    person_id: [&'static str; 5],
    insurer: [&'static str; 5],
    symbol: [&'static str; 5],
    number: [&'static str; 5],
    branch: [Option<&'static str>; 5],
    name: [&'static str; 5],
    kana: [&'static str; 5],
    birth: [&'static str; 5],
    sex: [u8; 5],
    postal: [Option<&'static str>; 5],
    address: [Option<&'static str>; 5],
    employer: [Option<&'static str>; 5],
    from: [&'static str; 5],
    to: [Option<&'static str>; 5],
    copay: [Option<u8>; 5],
}

/// The rows of [`ROSTER_GOOD`], as columns.
fn good() -> Good {
    Good {
        person_id: ["P0000001", "P0000001", "P0000002", "P0000003", "P0000003"],
        insurer: ["01130012", "06130017", "131045", "01270016", "39280003"],
        symbol: ["1234", "8", "", "55", ""],
        number: ["567", "1001", "0012345", "9876", "28001234"],
        branch: [Some("00"), Some("00"), None, Some("01"), None],
        name: [
            "山田 太郎",
            "山田 太郎",
            "鈴木 花子",
            "佐藤 一郎",
            "佐藤 一郎",
        ],
        kana: [
            "ヤマダ タロウ",
            "ﾔﾏﾀﾞ ﾀﾛｳ",
            "スズキ ハナコ",
            "サトウ イチロウ",
            "サトウ イチロウ",
        ],
        birth: [
            "1980-05-12",
            "1980-05-12",
            "1992-11-03",
            "1948-02-29",
            "1948-02-29",
        ],
        sex: [1, 1, 2, 1, 1],
        postal: [
            Some("105-0011"),
            Some("105-0011"),
            None,
            Some("530-0001"),
            Some("650-0001"),
        ],
        address: [
            Some("東京都港区芝公園4-2-8"),
            Some("東京都港区芝公園4-2-8"),
            None,
            Some("大阪府大阪市北区梅田1-1-1"),
            Some("兵庫県神戸市中央区加納町6-5-1"),
        ],
        employer: [
            Some("株式会社みなと商事"),
            Some("東京ソフト株式会社"),
            None,
            None,
            None,
        ],
        from: [
            "2019-04-01",
            "2023-04-01",
            "2020-01-01",
            "2010-04-01",
            "2023-02-28",
        ],
        to: [Some("2023-03-31"), None, None, Some("2023-02-27"), None],
        copay: [Some(30), Some(30), None, Some(20), Some(10)],
    }
}

fn write_parquet(path: &Path, columns: Vec<(&str, ArrayRef)>) {
    write_parquet_in_row_groups(path, columns, None)
}

/// Writes the columns with at most `row_group_rows` rows a row group (the roster is
/// read row group by row group in parallel).
fn write_parquet_in_row_groups(
    path: &Path,
    columns: Vec<(&str, ArrayRef)>,
    row_group_rows: Option<usize>,
) {
    let schema = Arc::new(Schema::new(
        columns
            .iter()
            .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
            .collect::<Vec<_>>(),
    ));
    let batch = RecordBatch::try_new(
        schema.clone(),
        columns.into_iter().map(|(_, a)| a).collect(),
    )
    .unwrap();
    let file = std::fs::File::create(path).unwrap();
    let props = row_group_rows.map(|n| {
        parquet::file::properties::WriterProperties::builder()
            .set_max_row_group_row_count(Some(n))
            .build()
    });
    let mut w = ArrowWriter::try_new(file, schema, props).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

fn utf8(v: &[&str]) -> ArrayRef {
    Arc::new(StringArray::from(v.to_vec()))
}

fn utf8_opt(v: &[Option<&str>]) -> ArrayRef {
    Arc::new(StringArray::from(v.to_vec()))
}

fn days(v: &[&str]) -> ArrayRef {
    Arc::new(Date32Array::from(
        v.iter()
            .map(|s| Date32Type::from_naive_date(date(s)))
            .collect::<Vec<_>>(),
    ))
}

#[test]
fn roster_parquet_typed_and_all_text_read_like_the_csv() {
    let dir = tempfile::tempdir().unwrap();
    let g = good();
    let from_csv = read_roster(
        &roster_csv(dir.path(), "roster.csv", ROSTER_GOOD),
        "roster.csv",
        CsvEncoding::Auto,
    )
    .unwrap();

    // Typed: LargeUtf8 ids, a dictionary of insurer numbers, a Utf8View, Date32 and
    // Date64 dates, UInt8 sex, Int32 copay; columns in another order than the contract's.
    let insurers = DictionaryArray::<Int32Type>::from_iter(g.insurer.iter().copied());
    let typed = dir.path().join("typed.parquet");
    write_parquet(
        &typed,
        vec![
            ("valid_from", days(&g.from)),
            (
                "person_id",
                Arc::new(LargeStringArray::from(g.person_id.to_vec())),
            ),
            ("insurer_number", Arc::new(insurers)),
            ("symbol", Arc::new(StringViewArray::from(g.symbol.to_vec()))),
            ("number", utf8(&g.number)),
            ("branch", utf8_opt(&g.branch)),
            ("name", utf8(&g.name)),
            ("name_kana", utf8(&g.kana)),
            ("birth_date", days(&g.birth)),
            ("sex", Arc::new(UInt8Array::from(g.sex.to_vec()))),
            ("postal_code", utf8_opt(&g.postal)),
            ("address", utf8_opt(&g.address)),
            ("employer", utf8_opt(&g.employer)),
            (
                "valid_to",
                Arc::new(Date64Array::from(
                    g.to.iter()
                        .map(|o| o.map(|s| Date64Type::from_naive_date(date(s))))
                        .collect::<Vec<_>>(),
                )),
            ),
            (
                "copay_percent",
                Arc::new(Int32Array::from(
                    g.copay.iter().map(|c| c.map(i32::from)).collect::<Vec<_>>(),
                )),
            ),
            ("unused_extra", utf8(&["a", "b", "c", "d", "e"])),
        ],
    );

    // All text, as a CSV-to-Parquet export would write it.
    let sex: Vec<String> = g.sex.iter().map(u8::to_string).collect();
    let copay: Vec<Option<String>> = g.copay.iter().map(|c| c.map(|c| c.to_string())).collect();
    let text = dir.path().join("text.parquet");
    write_parquet(
        &text,
        vec![
            ("person_id", utf8(&g.person_id)),
            ("insurer_number", utf8(&g.insurer)),
            ("symbol", utf8(&g.symbol)),
            ("number", utf8(&g.number)),
            ("branch", utf8_opt(&g.branch)),
            ("name", utf8(&g.name)),
            ("name_kana", utf8(&g.kana)),
            ("birth_date", utf8(&g.birth)),
            (
                "sex",
                utf8(&sex.iter().map(String::as_str).collect::<Vec<_>>()),
            ),
            ("postal_code", utf8_opt(&g.postal)),
            ("address", utf8_opt(&g.address)),
            ("employer", utf8_opt(&g.employer)),
            ("valid_from", utf8(&g.from)),
            ("valid_to", utf8_opt(&g.to)),
            (
                "copay_percent",
                utf8_opt(&copay.iter().map(Option::as_deref).collect::<Vec<_>>()),
            ),
        ],
    );

    // Valid rows whose text the reader must still trim, or empty into null: padded
    // person_ids and names, and "" for no 枝番 or kana (not the input's arrays as they are).
    let padded_ids: Vec<String> = g.person_id.iter().map(|p| format!(" {p}\t")).collect();
    let padded_names: Vec<String> = g.name.iter().map(|n| format!("{n} ")).collect();
    let empty_branch: Vec<&str> = g.branch.iter().map(|b| b.unwrap_or("")).collect();
    let padded = dir.path().join("padded.parquet");
    write_parquet(
        &padded,
        vec![
            (
                "person_id",
                utf8(&padded_ids.iter().map(String::as_str).collect::<Vec<_>>()),
            ),
            ("insurer_number", utf8(&g.insurer)),
            ("symbol", utf8(&g.symbol)),
            ("number", utf8(&g.number)),
            ("branch", utf8(&empty_branch)),
            (
                "name",
                utf8(&padded_names.iter().map(String::as_str).collect::<Vec<_>>()),
            ),
            ("name_kana", utf8(&g.kana)),
            ("birth_date", days(&g.birth)),
            ("sex", Arc::new(UInt8Array::from(g.sex.to_vec()))),
            ("address", utf8_opt(&g.address)),
            ("employer", utf8_opt(&g.employer)),
            ("valid_from", days(&g.from)),
            ("valid_to", utf8_opt(&g.to)),
            (
                "copay_percent",
                utf8_opt(&copay.iter().map(Option::as_deref).collect::<Vec<_>>()),
            ),
        ],
    );

    for path in [&typed, &text, &padded] {
        let read = read_roster(path, "roster.parquet", CsvEncoding::Auto).unwrap();
        assert_eq!(read.encoding, None);
        assert_eq!(read.rows_read, 5);
        assert!(read.quarantine.is_empty(), "{:?}", read.quarantine);
        // Parquet row index + 2 is the line the same row has in the CSV, so the whole
        // validated roster is identical, evidence column included.
        assert_eq!(
            all_rows_of(&read),
            all_rows_of(&from_csv),
            "{}",
            path.display()
        );
    }
}

#[test]
fn roster_parquet_with_integer_insurer_numbers_and_bad_rows() {
    // One row group, and one row a row group: row groups are read in parallel, and
    // lines, order and rejections must not change.
    for row_group_rows in [None, Some(1)] {
        roster_parquet_with_integer_insurer_numbers_and_bad_rows_in(row_group_rows);
    }
}

fn roster_parquet_with_integer_insurer_numbers_and_bad_rows_in(row_group_rows: Option<usize>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("roster.parquet");
    let n = 4;
    write_parquet_in_row_groups(
        &path,
        vec![
            (
                "person_id",
                Arc::new(Int64Array::from(vec![1001, 1002, 1003, 1004])),
            ),
            // 1130012 lost its leading zero; 131045 is a 6-digit 国保 number;
            // 1130013 fails its check digit once padded.
            (
                "insurer_number",
                Arc::new(Int64Array::from(vec![
                    1_130_012, 131_045, 1_130_013, 39_280_003,
                ])),
            ),
            // Digit-only card columns typed as integers, as exports often do.
            (
                "symbol",
                Arc::new(Int64Array::from(vec![Some(1234), None, Some(1), Some(2)])),
            ),
            ("number", Arc::new(Int64Array::from(vec![567, 12345, 3, 4]))),
            ("branch", Arc::new(Int64Array::from(vec![0, 1, 0, 0]))),
            (
                "name",
                utf8(&["山田 太郎", "鈴木 花子", "田中 次郎", "佐藤 一郎"]),
            ),
            ("name_kana", utf8_opt(&[None; 4])),
            (
                "birth_date",
                days(&["1980-05-12", "1992-11-03", "1985-01-20", "1948-02-29"]),
            ),
            ("sex", Arc::new(Int64Array::from(vec![1, 2, 1, 1]))),
            (
                "valid_from",
                days(&["2019-04-01", "2020-01-01", "2021-04-01", "2023-04-01"]),
            ),
            (
                "valid_to",
                Arc::new(Date32Array::from(vec![
                    None,
                    None,
                    None,
                    Some(Date32Type::from_naive_date(date("2023-03-01"))),
                ])),
            ),
        ],
        row_group_rows,
    );
    let groups =
        parquet::file::reader::SerializedFileReader::new(std::fs::File::open(&path).unwrap())
            .unwrap();
    let groups = parquet::file::reader::FileReader::metadata(&groups).num_row_groups();
    assert_eq!(groups, if row_group_rows.is_some() { 4 } else { 1 });
    let read = read_roster(&path, "roster.parquet", CsvEncoding::Auto).unwrap();
    assert_eq!(read.rows_read, n);
    let b = all_rows_of(&read);
    assert_eq!(
        strings(&b, col::INSURER_NUMBER),
        vec![Some("01130012".to_string()), Some("131045".to_string())]
    );
    assert_eq!(
        strings(&b, col::PERSON_ID),
        vec![Some("1001".to_string()), Some("1002".to_string())]
    );
    assert_eq!(strings(&b, col::NUMBER)[1].as_deref(), Some("12345"));
    assert_eq!(strings(&b, col::BRANCH)[1].as_deref(), Some("1"));
    assert_eq!(strings(&b, col::SYMBOL)[1].as_deref(), Some(""));
    let rejected: Vec<(u64, &str)> = read
        .quarantine
        .iter()
        .map(|r| (r.line, r.field.as_str()))
        .collect();
    // Row index 2 and 3 are "lines" 4 and 5.
    assert_eq!(rejected, vec![(4, "insurer_number"), (5, "valid_to")]);
    assert_eq!(read.quarantine[0].value, "1130013");
    assert!(read.quarantine[1]
        .reason
        .contains("valid_to 2023-03-01 is before valid_from 2023-04-01"));
    assert_no_pii(&read.quarantine, &["田中", "佐藤"]);
}

#[test]
fn roster_parquet_errors_are_whole_file_errors() {
    let dir = tempfile::tempdir().unwrap();
    let not_parquet = write(dir.path(), "roster.parquet", ROSTER_HEADER.as_bytes());
    assert!(matches!(
        read_roster(&not_parquet, "roster.parquet", CsvEncoding::Auto),
        Err(IngestError::Parquet { .. })
    ));

    // A birth date stored as a float cannot be read as a date.
    let bad_type = dir.path().join("bad.parquet");
    let g = good();
    write_parquet(
        &bad_type,
        vec![
            ("person_id", utf8(&g.person_id)),
            ("insurer_number", utf8(&g.insurer)),
            ("symbol", utf8(&g.symbol)),
            ("number", utf8(&g.number)),
            ("name", utf8(&g.name)),
            ("name_kana", utf8(&g.kana)),
            (
                "birth_date",
                Arc::new(arrow::array::Float64Array::from(vec![1.0; 5])),
            ),
            ("sex", Arc::new(UInt8Array::from(g.sex.to_vec()))),
            ("valid_from", days(&g.from)),
        ],
    );
    let msg = read_roster(&bad_type, "bad.parquet", CsvEncoding::Auto)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("missing required column valid_to"), "{msg}");

    let with_to = dir.path().join("bad2.parquet");
    write_parquet(
        &with_to,
        vec![
            ("person_id", utf8(&g.person_id)),
            ("insurer_number", utf8(&g.insurer)),
            ("symbol", utf8(&g.symbol)),
            ("number", utf8(&g.number)),
            ("name", utf8(&g.name)),
            ("name_kana", utf8(&g.kana)),
            (
                "birth_date",
                Arc::new(arrow::array::Float64Array::from(vec![1.0; 5])),
            ),
            ("sex", Arc::new(UInt8Array::from(g.sex.to_vec()))),
            ("valid_from", days(&g.from)),
            ("valid_to", utf8_opt(&g.to)),
        ],
    );
    let msg = read_roster(&with_to, "bad2.parquet", CsvEncoding::Auto)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("birth_date is Float64"), "{msg}");
}

#[test]
fn many_rows_are_split_into_batches_and_all_kept() {
    let dir = tempfile::tempdir().unwrap();
    let n = reseclear::ingest::roster::BATCH_ROWS + 10;
    let mut body = String::with_capacity(n * 100);
    for i in 0..n {
        body.push_str(&format!(
            "P{i:08},01130012,1234,{i},,山田 太郎,ヤマダ タロウ,1980-05-12,1,,,,2019-04-01,,30\n"
        ));
    }
    let path = roster_csv(dir.path(), "roster.csv", &body);
    let read = read_roster(&path, "roster.csv", CsvEncoding::Auto).unwrap();
    assert_eq!(read.roster.num_rows(), n);
    assert_eq!(read.roster.batches.len(), 2);
    assert_eq!(read.overlapping_persons, 0);
    let last = read.roster.batches[1]
        .column_by_name(col::SOURCE_LINE)
        .unwrap();
    assert_eq!(last.as_primitive::<UInt64Type>().value(9), n as u64 + 1);
}
