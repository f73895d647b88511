//! Three claim months through the `reseclear` binary, carrying the pending ledger
//! (DOMAIN §9) from one run to the next with `--pending`, `apportion.hold_months = 2`.
//!
//! | run     | billing | care    | A: P1's past card (tier 2)       | B: numbers unknown (tier 3)       |
//! |---------|---------|---------|----------------------------------|-----------------------------------|
//! | month 1 | 2026-05 | 2026-04 | `pending` (no period after 03-31) | `no_match` (on no roster)         |
//! | month 2 | 2026-06 | 2026-05 | `rerouted` to NEW_SOCIETY        | `no_match`, on the ledger, age 1  |
//! | month 3 | 2026-07 | 2026-06 | (resolved, gone)                 | `apportioned` (age 2 = the hold)  |
//!
//! Around them, every month, current cards of other roster persons are `verified`, so
//! that the claims basis of B's apportionment is non-zero at several Tokyo employee
//! insurers. The master also holds a shaho insurer of another prefecture (Osaka, with
//! verified claims: out of scope) and a Tokyo 国保 (not a 支払基金 insurer): neither may
//! share in B.
//!
//! Every input is built here with the library's own writers; nothing is read from
//! fixtures.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use chrono::NaiveDate;
use reseclear::domain::{
    CareDays, ClinicCode, InsurerNumber, Organization, Points, ReceiptKey, Sex, YearMonth,
};
use reseclear::ingest::uke::writer::{assign_lines, write_uke_file, DateStyle};
use reseclear::ingest::uke::{
    ClinicHeader, Comment, HealthInsurance, InsurerField, OtherRecords, Receipt, ReceiptKind,
};

/// Configuration of every run: a claim first pending in month 1 is final in month 3.
const CONFIG: &str = "[apportion]\nhold_months = 2\n";

// ---------------------------------------------------------------------------------
// The clinic: one Tokyo clinic filing with 支払基金 (organization 1).
// ---------------------------------------------------------------------------------

const CLINIC: &str = "1312345";
const CLINIC_NAME: &str = "みなと内科クリニック";
const TOKYO: u8 = 13;
const ORGANIZATION: Organization = Organization::ShiharaiKikin;

// ---------------------------------------------------------------------------------
// Insurer master. Every number is check-digit valid (asserted in `insurers_csv`).
// ---------------------------------------------------------------------------------

/// 協会けんぽ 東京支部: P2.
const KYOKAI_TOKYO: &str = "01130012";
/// A Tokyo health insurance society: P3.
const MINATO_SOCIETY: &str = "06130017";
/// Another Tokyo society: P4.
const SHINJUKU_SOCIETY: &str = "06139018";
/// P1's insurer until 2026-03-31 (the card receipt A is filed with).
const OLD_SOCIETY: &str = "06130108";
/// P1's insurer from 2026-04-01; the roster has this period from month 2 on.
const NEW_SOCIETY: &str = "06130207";
/// 協会けんぽ 大阪支部: shaho, with verified claims (P5), but outside the clinic's
/// prefecture, so it never shares in B.
const KYOKAI_OSAKA: &str = "01270016";
/// A Tokyo 国保: 国保連's, not 支払基金's, so it never shares in B.
const SUMIDA_KOKUHO: &str = "131045";

/// (insurer_number, name, kind, prefecture, insured_count)
const INSURERS: &[(&str, &str, &str, u8, u64)] = &[
    (
        KYOKAI_TOKYO,
        "全国健康保険協会 東京支部",
        "shaho",
        13,
        4_500_000,
    ),
    (MINATO_SOCIETY, "みなと健康保険組合", "shaho", 13, 21_000),
    (SHINJUKU_SOCIETY, "新宿健康保険組合", "shaho", 13, 15_000),
    (OLD_SOCIETY, "旧勤務先健康保険組合", "shaho", 13, 8_000),
    (NEW_SOCIETY, "新勤務先健康保険組合", "shaho", 13, 12_000),
    (
        KYOKAI_OSAKA,
        "全国健康保険協会 大阪支部",
        "shaho",
        27,
        2_900_000,
    ),
    (SUMIDA_KOKUHO, "墨田区国民健康保険", "kokuho", 13, 58_000),
];

/// The insurers that may share in B: 支払基金's kinds (shaho/other) in Tokyo.
fn tokyo_employee_insurers() -> BTreeSet<&'static str> {
    INSURERS
        .iter()
        .filter(|(_, _, kind, pref, _)| (*kind == "shaho" || *kind == "other") && *pref == TOKYO)
        .map(|(n, ..)| *n)
        .collect()
}

// ---------------------------------------------------------------------------------
// People, cards and roster periods.
// ---------------------------------------------------------------------------------

struct Person {
    id: &'static str,
    /// Family and given name separated by a half-width space (as on the roster).
    name: &'static str,
    kana: &'static str,
    birth: &'static str,
    sex: Sex,
    address: &'static str,
}

struct Card {
    insurer: &'static str,
    symbol: &'static str,
    number: &'static str,
}

struct Period {
    person: &'static Person,
    card: &'static Card,
    valid_from: &'static str,
    valid_to: Option<&'static str>,
}

/// The tier-2 patient: changed jobs on 2026-04-01; the new society registers him late.
const P1: Person = Person {
    id: "P1",
    name: "山田 太郎",
    kana: "ヤマダ タロウ",
    birth: "1980-05-12",
    sex: Sex::Male,
    address: "東京都港区芝公園4-2-8",
};
const P2: Person = Person {
    id: "P2",
    name: "鈴木 一郎",
    kana: "スズキ イチロウ",
    birth: "1970-01-20",
    sex: Sex::Male,
    address: "東京都新宿区西新宿2-8-1",
};
const P3: Person = Person {
    id: "P3",
    name: "佐藤 花子",
    kana: "サトウ ハナコ",
    birth: "1990-02-02",
    sex: Sex::Female,
    address: "東京都品川区大井1-14-1",
};
const P4: Person = Person {
    id: "P4",
    name: "田中 健",
    kana: "タナカ ケン",
    birth: "1975-05-05",
    sex: Sex::Male,
    address: "東京都渋谷区道玄坂1-2-3",
};
const P5: Person = Person {
    id: "P5",
    name: "中村 翔太",
    kana: "ナカムラ ショウタ",
    birth: "1985-03-03",
    sex: Sex::Male,
    address: "大阪府大阪市北区梅田3-1-1",
};
/// The tier-3 patient of receipt B: on no roster in any month (no roster person
/// shares a birth date, kana, kanji name or birth year-month with him).
const NOBODY: Person = Person {
    id: "(not on the roster)",
    name: "小林 誠",
    kana: "コバヤシ マコト",
    birth: "1965-09-30",
    sex: Sex::Male,
    address: "東京都江東区豊洲3-2-20",
};

const P1_OLD_CARD: Card = Card {
    insurer: OLD_SOCIETY,
    symbol: "100",
    number: "2001",
};
const P1_NEW_CARD: Card = Card {
    insurer: NEW_SOCIETY,
    symbol: "200",
    number: "3001",
};
const P2_CARD: Card = Card {
    insurer: KYOKAI_TOKYO,
    symbol: "1234",
    number: "567",
};
const P3_CARD: Card = Card {
    insurer: MINATO_SOCIETY,
    symbol: "31",
    number: "88",
};
const P4_CARD: Card = Card {
    insurer: SHINJUKU_SOCIETY,
    symbol: "",
    number: "12",
};
const P5_CARD: Card = Card {
    insurer: KYOKAI_OSAKA,
    symbol: "5",
    number: "77",
};

/// Filler written by a clinic that does not know the numbers (保発0710第1号).
const FILLER_INSURER: &str = "77777777";
const FILLER_INSURED: &str = "7777777";

const P1_OLD: Period = Period {
    person: &P1,
    card: &P1_OLD_CARD,
    valid_from: "2018-04-01",
    valid_to: Some("2026-03-31"),
};
/// On the roster from month 2: the registration lag is over.
const P1_NEW: Period = Period {
    person: &P1,
    card: &P1_NEW_CARD,
    valid_from: "2026-04-01",
    valid_to: None,
};
const P2_PERIOD: Period = Period {
    person: &P2,
    card: &P2_CARD,
    valid_from: "2010-04-01",
    valid_to: None,
};
const P3_PERIOD: Period = Period {
    person: &P3,
    card: &P3_CARD,
    valid_from: "2012-04-01",
    valid_to: None,
};
const P4_PERIOD: Period = Period {
    person: &P4,
    card: &P4_CARD,
    valid_from: "2000-04-01",
    valid_to: None,
};
const P5_PERIOD: Period = Period {
    person: &P5,
    card: &P5_CARD,
    valid_from: "2015-10-01",
    valid_to: None,
};

// ---------------------------------------------------------------------------------
// The two claims the ledger carries.
// ---------------------------------------------------------------------------------

/// Receipt A: (organization 1, clinic 1312345, billing 2026-05, number 5), P1's old
/// card, care 2026-04.
const A_NUMBER: u32 = 5;
/// Receipt B: (organization 1, clinic 1312345, billing 2026-05, number 6), filler
/// numbers, declared shaho, care 2026-04.
const B_NUMBER: u32 = 6;
const FIRST_MONTH: &str = "2026-05";
const PENDING_FILE: &str = "pending.parquet";

/// A receipt key as `receipts.parquet` and the ledger spell it:
/// `clinic:YYYY-MM:number@organization` (the `ReceiptKey` display form).
fn key(billing_month: &str, number: u32) -> String {
    format!("{CLINIC}:{billing_month}:{number}@{}", ORGANIZATION.code())
}

fn key_a() -> String {
    key(FIRST_MONTH, A_NUMBER)
}

fn key_b() -> String {
    key(FIRST_MONTH, B_NUMBER)
}

// ---------------------------------------------------------------------------------
// Building one month's input directory.
// ---------------------------------------------------------------------------------

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("test date")
}

/// Names on receipts use a full-width space, as clinic software writes them.
fn receipt_name(name: &str) -> String {
    name.replace(' ', "　")
}

/// One claim month: its UKE file (one clinic), roster snapshot and declarations.
struct Month {
    billing: YearMonth,
    receipts: Vec<Receipt>,
    roster: Vec<&'static Period>,
    declarations: Vec<String>,
    /// (receipt number, insurer) of the receipts filed with a current card: verified.
    current_cards: Vec<(u32, &'static str)>,
}

impl Month {
    fn new(year: i32, month: u32) -> Month {
        Month {
            billing: YearMonth::new(year, month).expect("billing month"),
            receipts: Vec::new(),
            roster: Vec::new(),
            declarations: Vec::new(),
            current_cards: Vec::new(),
        }
    }

    /// Care is given the month before the billing month.
    fn care(&self) -> YearMonth {
        let (y, m) = (self.billing.year(), self.billing.month());
        let (y, m) = if m == 1 { (y - 1, 12) } else { (y, m - 1) };
        YearMonth::new(y, m).expect("care month")
    }

    fn roster(mut self, periods: &[&'static Period]) -> Month {
        self.roster.extend_from_slice(periods);
        self
    }

    fn receipt(&self, number: u32, patient: &Person, insurance: HealthInsurance) -> Receipt {
        Receipt {
            key: ReceiptKey {
                organization: ORGANIZATION,
                clinic_code: ClinicCode::parse(CLINIC).expect("clinic"),
                billing_month: self.billing,
                receipt_number: number,
            },
            line: 0,
            // 医保単独 / 本人 / 入院外: 30% for every patient here (ages 36–60).
            receipt_type: "1112".into(),
            care_month: self.care(),
            name: receipt_name(patient.name).into(),
            sex: patient.sex,
            birth_date: date(patient.birth),
            benefit_ratio: None,
            special_notes: Default::default(),
            chart_number: format!("K{number:04}").into(),
            kana_name: receipt_name(patient.kana).into(),
            patient_state: Default::default(),
            insurance: Some(insurance),
            public_expenses: vec![],
            confirmation: None,
            comments: vec![],
            care_days: CareDays::NONE,
            other_records: OtherRecords::from([("SY", 1), ("SI", 2)]),
        }
    }

    /// A receipt filed with a card valid in the care month: to be verified.
    fn card(mut self, number: u32, patient: &Person, card: &'static Card, points: i64) -> Month {
        self.current_cards.push((number, card.insurer));
        self.past_card(number, patient, card, points)
    }

    /// A receipt filed with a card the roster shows ended before the care month: tier 2.
    fn past_card(mut self, number: u32, patient: &Person, card: &Card, points: i64) -> Month {
        let ho = HealthInsurance {
            line: 0,
            insurer: InsurerField::Known(InsurerNumber::parse(card.insurer).expect("insurer")),
            symbol: card.symbol.into(),
            number: card.number.into(),
            days: Some(2),
            points: Points(points),
            copay: None,
        };
        let r = self.receipt(number, patient, ho);
        self.receipts.push(r);
        self
    }

    /// The last receipt added, with days of care marked on its SI records.
    fn on_days(mut self, days: &[u32]) -> Month {
        if let Some(r) = self.receipts.last_mut() {
            r.care_days = days
                .iter()
                .fold(CareDays::NONE, |set, d| set.with(*d).expect("a day"));
        }
        self
    }

    /// A receipt filed with the numbers unknown: HO `77777777`, 記号・番号 7s, 摘要 不詳.
    fn numbers_unknown(mut self, number: u32, patient: &Person, points: i64) -> Month {
        let ho = HealthInsurance {
            line: 0,
            insurer: InsurerField::Filler(FILLER_INSURER.into()),
            symbol: FILLER_INSURED.into(),
            number: FILLER_INSURED.into(),
            days: Some(1),
            points: Points(points),
            copay: None,
        };
        let mut r = self.receipt(number, patient, ho);
        r.comments.push(Comment {
            line: 0,
            care_category: Default::default(),
            burden_category: "1".into(),
            code: Comment::FREE_TEXT.into(),
            text: "不詳".into(),
        });
        self.receipts.push(r);
        self
    }

    /// The digitized declaration form of receipt `number` (declared shaho).
    fn declaration(mut self, number: u32, patient: &Person, confirmation_date: &str) -> Month {
        self.declarations.push(
            [
                ORGANIZATION.code().to_string(),
                CLINIC.into(),
                self.billing.to_string(),
                number.to_string(),
                "shaho".into(),
                String::new(),
                "豊洲精機株式会社".into(),
                "within_month".into(),
                String::new(),
                patient.name.into(),
                patient.kana.into(),
                patient.birth.into(),
                patient.sex.code().to_string(),
                patient.address.into(),
                String::new(),
                confirmation_date.into(),
                "03-5555-0101".into(),
            ]
            .join(","),
        );
        self
    }

    /// Writes the month's input directory: `uke/1/<clinic>/RECEIPTC.UKE`, `roster.csv`,
    /// `insurers.csv` and, when there are any, `declarations.csv`.
    fn write(&self, dir: &Path) {
        let header = ClinicHeader {
            kind: ReceiptKind::Ika,
            organization: ORGANIZATION,
            prefecture: TOKYO,
            fee_table: "1".into(),
            clinic_code: ClinicCode::parse(CLINIC).expect("clinic"),
            clinic_name: CLINIC_NAME.into(),
            billing_month: self.billing,
        };
        let mut receipts = self.receipts.clone();
        assign_lines(ReceiptKind::Ika, &mut receipts);
        let uke = dir
            .join("uke")
            .join(ORGANIZATION.code().to_string())
            .join(CLINIC)
            .join("RECEIPTC.UKE");
        write_uke_file(&uke, &header, &receipts, DateStyle::Western).expect("write UKE");
        std::fs::write(dir.join("roster.csv"), roster_csv(&self.roster)).expect("roster.csv");
        std::fs::write(dir.join("insurers.csv"), insurers_csv()).expect("insurers.csv");
        if !self.declarations.is_empty() {
            let mut text = String::from(
                "organization,clinic_code,billing_month,receipt_number,insurance_kind,\
                 insurer_name,employer,card_issued,declared_copay_percent,name,name_kana,\
                 birth_date,sex,address,other_residence,confirmation_date,phone\n",
            );
            for row in &self.declarations {
                text.push_str(row);
                text.push('\n');
            }
            std::fs::write(dir.join("declarations.csv"), text).expect("declarations.csv");
        }
    }
}

fn roster_csv(periods: &[&Period]) -> String {
    let mut text = String::from(
        "person_id,insurer_number,symbol,number,branch,name,name_kana,birth_date,sex,\
         postal_code,address,employer,valid_from,valid_to,copay_percent\n",
    );
    for p in periods {
        let who = p.person;
        text.push_str(
            &[
                who.id,
                p.card.insurer,
                p.card.symbol,
                p.card.number,
                "",
                who.name,
                who.kana,
                who.birth,
                &who.sex.code().to_string(),
                "",
                who.address,
                "",
                p.valid_from,
                p.valid_to.unwrap_or(""),
                "30",
            ]
            .join(","),
        );
        text.push('\n');
    }
    text
}

fn insurers_csv() -> String {
    let mut text = String::from("insurer_number,name,kind,prefecture,insured_count\n");
    for (number, name, kind, pref, count) in INSURERS {
        let parsed = InsurerNumber::parse(number).expect("check-digit-valid test insurer");
        let body = &number[..number.len() - 1];
        assert_eq!(
            InsurerNumber::from_body(body).expect("body"),
            parsed,
            "{number}: check digit"
        );
        text.push_str(&format!("{number},{name},{kind},{pref:02},{count}\n"));
    }
    text
}

// ---------------------------------------------------------------------------------
// The three months.
// ---------------------------------------------------------------------------------

/// Month 1, billed 2026-05 (care 2026-04). P1's new society has not registered him.
fn month_1() -> Month {
    Month::new(2026, 5)
        .roster(&[&P1_OLD, &P2_PERIOD, &P3_PERIOD, &P4_PERIOD, &P5_PERIOD])
        .card(1, &P2, &P2_CARD, 640)
        .card(2, &P3, &P3_CARD, 1180)
        .card(3, &P4, &P4_CARD, 355)
        .card(4, &P5, &P5_CARD, 720)
        .past_card(A_NUMBER, &P1, &P1_OLD_CARD, 980)
        .numbers_unknown(B_NUMBER, &NOBODY, 1234)
        .declaration(B_NUMBER, &NOBODY, "2026-04-10")
}

/// Month 2, billed 2026-06 (care 2026-05). The roster now has P1's new period.
fn month_2() -> Month {
    Month::new(2026, 6)
        .roster(&[
            &P1_OLD, &P1_NEW, &P2_PERIOD, &P3_PERIOD, &P4_PERIOD, &P5_PERIOD,
        ])
        .card(1, &P2, &P2_CARD, 700)
        .card(2, &P3, &P3_CARD, 910)
        .card(3, &P4, &P4_CARD, 1260)
        .card(4, &P5, &P5_CARD, 515)
        .card(5, &P1, &P1_NEW_CARD, 430)
}

/// Month 3, billed 2026-07 (care 2026-06).
fn month_3() -> Month {
    Month::new(2026, 7)
        .roster(&[
            &P1_OLD, &P1_NEW, &P2_PERIOD, &P3_PERIOD, &P4_PERIOD, &P5_PERIOD,
        ])
        .card(1, &P2, &P2_CARD, 820)
        .card(2, &P3, &P3_CARD, 1530)
        .card(3, &P4, &P4_CARD, 470)
        .card(4, &P5, &P5_CARD, 900)
        .card(5, &P1, &P1_NEW_CARD, 2210)
}

// ---------------------------------------------------------------------------------
// Running the binary and reading its outputs.
// ---------------------------------------------------------------------------------

fn run_month(config: &Path, input: &Path, out: &Path, pending: Option<&Path>, label: &str) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_reseclear"));
    cmd.args(["run", "--input"])
        .arg(input)
        .arg("--out")
        .arg(out)
        .arg("--config")
        .arg(config);
    if let Some(p) = pending {
        cmd.arg("--pending").arg(p);
    }
    let result = cmd.output().expect("run reseclear");
    assert!(
        result.status.success(),
        "{label}: reseclear failed: {}\nstdout:\n{}\nstderr:\n{}",
        result.status,
        String::from_utf8_lossy(&result.stdout),
        String::from_utf8_lossy(&result.stderr)
    );
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("manifest.json")).expect("manifest.json"),
    )
    .expect("manifest is JSON");
    assert_eq!(
        manifest["conservation"]["balanced"], true,
        "{label}: conservation does not balance: {}",
        manifest["conservation"]
    );
}

/// One Parquet row, every column cast to text (null stays `None`), so that the
/// assertions read the same whatever integer width a column uses.
#[derive(Debug, Clone)]
struct Row(BTreeMap<String, Option<String>>);

impl Row {
    fn get(&self, column: &str) -> Option<&str> {
        self.0
            .get(column)
            .unwrap_or_else(|| panic!("no column {column} in {:?}", self.0.keys()))
            .as_deref()
    }

    fn text(&self, column: &str) -> &str {
        self.get(column)
            .unwrap_or_else(|| panic!("{column} is null in {:?}", self.0))
    }

    fn int(&self, column: &str) -> i64 {
        let t = self.text(column);
        t.parse()
            .unwrap_or_else(|_| panic!("{column} = {t:?} is not an integer"))
    }

    /// `clinic:YYYY-MM:number@organization`.
    fn key(&self) -> String {
        format!(
            "{}:{}:{}@{}",
            self.text("clinic_code"),
            self.text("billing_month"),
            self.text("receipt_number"),
            self.text("organization")
        )
    }
}

fn parquet_reader(
    path: &Path,
) -> parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder<std::fs::File> {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap_or_else(|e| panic!("{} is not Parquet: {e}", path.display()))
}

fn read_rows(path: &Path) -> Vec<Row> {
    use arrow::array::{Array, AsArray};
    let reader = parquet_reader(path).build().expect("reader");
    let mut rows = Vec::new();
    for batch in reader {
        let batch = batch.expect("batch");
        let schema = batch.schema();
        let columns: Vec<(String, arrow::array::ArrayRef)> = schema
            .fields()
            .iter()
            .zip(batch.columns())
            .map(|(f, c)| {
                let text = arrow::compute::cast(c, &arrow::datatypes::DataType::Utf8)
                    .unwrap_or_else(|e| panic!("column {} as text: {e}", f.name()));
                (f.name().clone(), text)
            })
            .collect();
        for i in 0..batch.num_rows() {
            rows.push(Row(columns
                .iter()
                .map(|(name, col)| {
                    let col = col.as_string::<i32>();
                    let v = (!col.is_null(i)).then(|| col.value(i).to_string());
                    (name.clone(), v)
                })
                .collect()));
        }
    }
    rows
}

/// `receipts.parquet` by receipt key; a key twice is an error.
fn receipts_by_key(out: &Path, label: &str) -> BTreeMap<String, Row> {
    let mut by_key = BTreeMap::new();
    for row in read_rows(&out.join("receipts.parquet")) {
        let k = row.key();
        assert!(
            by_key.insert(k.clone(), row).is_none(),
            "{label}: receipts.parquet has {k} twice"
        );
    }
    by_key
}

/// The rows of `apportionment.parquet`; none when the run wrote no such file.
fn apportionment_rows(out: &Path) -> Vec<Row> {
    let path = out.join("apportionment.parquet");
    if path.is_file() {
        read_rows(&path)
    } else {
        Vec::new()
    }
}

/// Reads the pending ledger and checks the types of the columns the next run reads.
fn pending_ledger(out: &Path, label: &str) -> Vec<Row> {
    use arrow::datatypes::DataType;
    let path = out.join(PENDING_FILE);
    assert!(path.is_file(), "{label}: no {PENDING_FILE} written");
    let schema = parquet_reader(&path).schema().clone();
    for (column, expected) in [
        ("organization", DataType::UInt8),
        ("clinic_code", DataType::Utf8),
        ("billing_month", DataType::Utf8),
        ("receipt_number", DataType::UInt32),
        ("first_pending_month", DataType::Utf8),
        ("age_months", DataType::UInt32),
        ("last_status", DataType::Utf8),
    ] {
        let field = schema
            .field_with_name(column)
            .unwrap_or_else(|_| panic!("{label}: {PENDING_FILE} lacks column {column}"));
        assert_eq!(
            field.data_type(),
            &expected,
            "{label}: {PENDING_FILE} column {column}"
        );
    }
    read_rows(&path)
}

/// Statuses whose insurer share is routed to `resolved_insurer`.
const RESOLVED: &[&str] = &["verified", "rerouted", "matched"];

/// Σ `insurer_share_yen` of resolved receipts, by resolved insurer.
fn routed_by_insurer(receipts: &BTreeMap<String, Row>) -> BTreeMap<String, i64> {
    let mut out = BTreeMap::new();
    for row in receipts.values() {
        if RESOLVED.contains(&row.text("status")) {
            *out.entry(row.text("resolved_insurer").to_string())
                .or_default() += row.int("insurer_share_yen");
        }
    }
    out
}

/// `statements.csv` agrees with the receipts and the apportionment, insurer by
/// insurer: routed = Σ resolved insurer shares, apportioned = Σ apportioned parts,
/// owed = routed + apportioned. Returns Σ owed_yen.
fn check_statements(
    out: &Path,
    receipts: &BTreeMap<String, Row>,
    apportionment: &[Row],
    label: &str,
) -> i64 {
    let path = out.join("statements.csv");
    let mut reader = csv::Reader::from_path(&path)
        .unwrap_or_else(|e| panic!("{label}: {}: {e}", path.display()));
    let headers = reader.headers().expect("statements header").clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim() == name)
            .unwrap_or_else(|| panic!("{label}: statements.csv lacks {name}: {headers:?}"))
    };
    let (insurer, routed, apportioned, owed) = (
        column("insurer_number"),
        column("routed_yen"),
        column("apportioned_yen"),
        column("owed_yen"),
    );
    let yen = |r: &csv::StringRecord, i: usize| -> i64 {
        r[i].trim()
            .parse()
            .unwrap_or_else(|_| panic!("{label}: statements.csv: {:?} is not yen", &r[i]))
    };
    let mut statements: BTreeMap<String, (i64, i64, i64)> = BTreeMap::new();
    for record in reader.records() {
        let r = record.expect("statements row");
        let n = r[insurer].trim().to_string();
        let row = (yen(&r, routed), yen(&r, apportioned), yen(&r, owed));
        assert_eq!(
            row.0 + row.1,
            row.2,
            "{label}: statements.csv {n}: owed_yen is not routed_yen + apportioned_yen"
        );
        assert!(
            statements.insert(n.clone(), row).is_none(),
            "{label}: statements.csv has insurer {n} twice"
        );
    }
    let expected_routed = routed_by_insurer(receipts);
    let mut expected_apportioned: BTreeMap<String, i64> = BTreeMap::new();
    for row in apportionment {
        *expected_apportioned
            .entry(row.text("insurer_number").to_string())
            .or_default() += row.int("amount_yen");
    }
    let insurers: BTreeSet<&String> = statements
        .keys()
        .chain(expected_routed.keys())
        .chain(expected_apportioned.keys())
        .collect();
    for n in insurers {
        let (r, a, _) = statements.get(n).copied().unwrap_or_default();
        assert_eq!(
            r,
            expected_routed.get(n).copied().unwrap_or_default(),
            "{label}: statements.csv routed_yen of {n} vs receipts.parquet"
        );
        assert_eq!(
            a,
            expected_apportioned.get(n).copied().unwrap_or_default(),
            "{label}: statements.csv apportioned_yen of {n} vs apportionment.parquet"
        );
    }
    let total_owed: i64 = statements.values().map(|s| s.2).sum();
    let total_routed: i64 = expected_routed.values().sum();
    let total_apportioned: i64 = expected_apportioned.values().sum();
    assert_eq!(
        total_owed,
        total_routed + total_apportioned,
        "{label}: Σ owed_yen = Σ resolved insurer_share_yen + Σ apportioned amount_yen"
    );
    total_owed
}

/// Every current-card receipt of the month is verified at its own insurer.
fn check_verified(month: &Month, receipts: &BTreeMap<String, Row>, label: &str) {
    let billing = month.billing.to_string();
    for &(number, insurer) in &month.current_cards {
        let k = key(&billing, number);
        let row = receipts
            .get(&k)
            .unwrap_or_else(|| panic!("{label}: {k} not in receipts.parquet"));
        assert_eq!(row.text("status"), "verified", "{label}: {k}: {row:?}");
        assert_eq!(row.get("resolved_insurer"), Some(insurer), "{label}: {k}");
    }
}

fn receipt<'a>(receipts: &'a BTreeMap<String, Row>, k: &str, label: &str) -> &'a Row {
    receipts.get(k).unwrap_or_else(|| {
        panic!(
            "{label}: {k} not in receipts.parquet (keys: {:?})",
            receipts.keys().collect::<Vec<_>>()
        )
    })
}

// ---------------------------------------------------------------------------------
// The scenario.
// ---------------------------------------------------------------------------------

#[test]
fn pending_claims_are_retried_then_apportioned_after_the_hold() {
    let root = tempfile::tempdir().expect("tempdir");
    let config = root.path().join("reseclear.toml");
    std::fs::write(&config, CONFIG).expect("config");
    let months = [month_1(), month_2(), month_3()];
    let mut inputs = Vec::new();
    let mut outs = Vec::new();
    for (i, m) in months.iter().enumerate() {
        let input = root.path().join(format!("month{}_in", i + 1));
        m.write(&input);
        inputs.push(input);
        outs.push(root.path().join(format!("month{}_out", i + 1)));
    }

    // ---- Month 1 (billing 2026-05): A pending, B no_match, both on the ledger. ----
    let label = "month 1";
    run_month(&config, &inputs[0], &outs[0], None, label);
    let receipts_1 = receipts_by_key(&outs[0], label);
    assert_eq!(
        receipts_1.len(),
        months[0].receipts.len(),
        "{label}: one row per receipt"
    );
    check_verified(&months[0], &receipts_1, label);
    let a1 = receipt(&receipts_1, &key_a(), label);
    assert_eq!(
        (a1.text("status"), a1.text("tier")),
        ("pending", "2"),
        "{label}: A is filed with P1's past card and no later period is on the roster: {a1:?}"
    );
    assert_eq!(
        a1.get("resolved_insurer"),
        None,
        "{label}: A is never guessed"
    );
    let b1 = receipt(&receipts_1, &key_b(), label);
    assert_eq!(
        (b1.text("status"), b1.text("tier")),
        ("no_match", "3"),
        "{label}: B's patient is on no roster: {b1:?}"
    );
    for row in [a1, b1] {
        assert_eq!(
            row.get("first_pending_month"),
            Some(FIRST_MONTH),
            "{label}: {}",
            row.key()
        );
        assert_eq!(
            row.get("pending_months"),
            Some("0"),
            "{label}: {}",
            row.key()
        );
    }
    let ledger_1 = pending_ledger(&outs[0], label);
    let ledger_1: BTreeMap<String, Row> = ledger_1.into_iter().map(|r| (r.key(), r)).collect();
    assert_eq!(
        ledger_1.keys().cloned().collect::<Vec<_>>(),
        vec![key_a(), key_b()],
        "{label}: the ledger holds exactly A and B"
    );
    for (k, status) in [(key_a(), "pending"), (key_b(), "no_match")] {
        let row = &ledger_1[&k];
        assert_eq!(row.text("first_pending_month"), FIRST_MONTH, "{label}: {k}");
        assert_eq!(row.int("age_months"), 0, "{label}: {k}");
        assert_eq!(row.text("last_status"), status, "{label}: {k}");
    }
    let apportionment_1 = apportionment_rows(&outs[0]);
    assert!(
        apportionment_1.is_empty(),
        "{label}: nothing is final yet: {apportionment_1:?}"
    );
    check_statements(&outs[0], &receipts_1, &apportionment_1, label);

    // ---- Month 2 (billing 2026-06): A re-routed, B still unresolved, age 1. ----
    let label = "month 2";
    run_month(
        &config,
        &inputs[1],
        &outs[1],
        Some(&outs[0].join(PENDING_FILE)),
        label,
    );
    let receipts_2 = receipts_by_key(&outs[1], label);
    assert_eq!(
        receipts_2.len(),
        months[1].receipts.len() + 2,
        "{label}: the month's receipts and the two retried from the ledger"
    );
    check_verified(&months[1], &receipts_2, label);
    let a2 = receipt(&receipts_2, &key_a(), label);
    assert_eq!(
        a2.text("status"),
        "rerouted",
        "{label}: P1's new period (from 2026-04-01) is on the roster now: {a2:?}"
    );
    assert_eq!(a2.get("resolved_insurer"), Some(NEW_SOCIETY), "{label}: A");
    assert_eq!(
        a2.text("file"),
        PENDING_FILE,
        "{label}: A came from the ledger"
    );
    assert_eq!(
        a2.int("cost_yen"),
        a1.int("cost_yen"),
        "{label}: A's cost is carried unchanged"
    );
    let b2 = receipt(&receipts_2, &key_b(), label);
    assert_eq!(
        b2.text("status"),
        "no_match",
        "{label}: B's patient is still on no roster: {b2:?}"
    );
    assert_eq!(
        b2.text("file"),
        PENDING_FILE,
        "{label}: B came from the ledger"
    );
    assert_eq!(
        b2.get("first_pending_month"),
        Some(FIRST_MONTH),
        "{label}: B"
    );
    assert_eq!(b2.get("pending_months"), Some("1"), "{label}: B");
    let ledger_2 = pending_ledger(&outs[1], label);
    assert_eq!(
        ledger_2.iter().map(Row::key).collect::<Vec<_>>(),
        vec![key_b()],
        "{label}: the ledger holds exactly B (A is resolved)"
    );
    assert_eq!(ledger_2[0].int("age_months"), 1, "{label}: B's age");
    assert_eq!(
        ledger_2[0].text("first_pending_month"),
        FIRST_MONTH,
        "{label}: B"
    );
    assert_eq!(ledger_2[0].text("last_status"), "no_match", "{label}: B");
    let apportionment_2 = apportionment_rows(&outs[1]);
    assert!(
        apportionment_2.is_empty(),
        "{label}: B is not final before the hold: {apportionment_2:?}"
    );
    check_statements(&outs[1], &receipts_2, &apportionment_2, label);

    // ---- Month 3 (billing 2026-07): B apportioned, the ledger empty. ----
    let label = "month 3";
    run_month(
        &config,
        &inputs[2],
        &outs[2],
        Some(&outs[1].join(PENDING_FILE)),
        label,
    );
    let receipts_3 = receipts_by_key(&outs[2], label);
    check_verified(&months[2], &receipts_3, label);
    assert!(
        !receipts_3.contains_key(&key_a()),
        "{label}: A was resolved in month 2 and is not carried again"
    );
    assert_eq!(
        receipts_3.len(),
        months[2].receipts.len() + 1,
        "{label}: the month's receipts and B"
    );
    let b3 = receipt(&receipts_3, &key_b(), label);
    assert_eq!(
        b3.text("status"),
        "apportioned",
        "{label}: B reached hold_months = 2: {b3:?}"
    );
    assert_eq!(
        b3.text("file"),
        PENDING_FILE,
        "{label}: B came from the ledger"
    );
    assert_eq!(
        b3.get("first_pending_month"),
        Some(FIRST_MONTH),
        "{label}: B"
    );
    assert_eq!(b3.get("pending_months"), Some("2"), "{label}: B");
    let b_share = b3.int("insurer_share_yen");
    assert_eq!(
        b_share,
        b1.int("insurer_share_yen"),
        "{label}: B's insurer share is carried unchanged from month 1"
    );
    assert!(b_share > 0, "{label}: B has something to apportion");
    assert!(
        pending_ledger(&outs[2], label).is_empty(),
        "{label}: nothing is left pending"
    );

    let apportionment_3 = apportionment_rows(&outs[2]);
    assert!(
        !apportionment_3.is_empty(),
        "{label}: apportionment.parquet has B's rows"
    );
    for row in &apportionment_3 {
        assert_eq!(
            row.key(),
            key_b(),
            "{label}: only B is apportioned: {row:?}"
        );
    }
    let parts: i64 = apportionment_3.iter().map(|r| r.int("amount_yen")).sum();
    assert_eq!(
        parts, b_share,
        "{label}: B's parts sum exactly to its insurer_share_yen"
    );

    // Who shares, and by what weight: the Tokyo employee insurers with resolved
    // claims this month, weighted by those claims (default basis and scope).
    let routed_3 = routed_by_insurer(&receipts_3);
    let eligible = tokyo_employee_insurers();
    let expected_basis: BTreeMap<&str, i64> = routed_3
        .iter()
        .filter(|(n, y)| eligible.contains(n.as_str()) && **y > 0)
        .map(|(n, y)| (n.as_str(), *y))
        .collect();
    assert!(
        expected_basis.len() >= 3,
        "fixture: several Tokyo employee insurers have claims in month 3: {expected_basis:?}"
    );
    let basis_total: i64 = expected_basis.values().sum();
    let mut shared = BTreeMap::new();
    for row in &apportionment_3 {
        let n = row.text("insurer_number");
        assert_eq!(row.int("claim_amount_yen"), b_share, "{label}: {n}");
        assert_eq!(row.text("basis"), "claims", "{label}: {n}");
        assert_eq!(row.text("scope"), "prefecture", "{label}: {n}");
        assert_eq!(row.text("widened"), "false", "{label}: {n}");
        let value = expected_basis.get(n).copied().unwrap_or_else(|| {
            panic!("{label}: {n} shares in B but is not a Tokyo employee insurer with claims")
        });
        assert_eq!(
            row.int("basis_value"),
            value,
            "{label}: {n}'s basis is its resolved insurer share this month"
        );
        assert_eq!(row.int("basis_total"), basis_total, "{label}: {n}");
        let amount = i128::from(row.int("amount_yen"));
        let exact = i128::from(b_share) * i128::from(value);
        assert!(
            (amount * i128::from(basis_total) - exact).abs() < i128::from(basis_total),
            "{label}: {n}'s part {amount} is within a yen of {b_share} × {value} / {basis_total}"
        );
        assert!(
            shared.insert(n.to_string(), amount).is_none(),
            "{label}: {n} twice"
        );
    }
    assert_eq!(
        shared.keys().map(String::as_str).collect::<BTreeSet<_>>(),
        expected_basis.keys().copied().collect::<BTreeSet<_>>(),
        "{label}: every Tokyo employee insurer with claims shares, and no other \
         (not {KYOKAI_OSAKA}: another prefecture; not {SUMIDA_KOKUHO}: 国保)"
    );

    let owed = check_statements(&outs[2], &receipts_3, &apportionment_3, label);
    let resolved: i64 = routed_3.values().sum();
    assert_eq!(
        owed,
        resolved + b_share,
        "{label}: Σ owed_yen = Σ resolved insurer shares + B's share"
    );
}

// ---------------------------------------------------------------------------------
// A mid-month change of insurer, decided by the days of care.
// ---------------------------------------------------------------------------------

/// Changed jobs on 2026-04-15: his old society's period ends 2026-04-14, the new
/// society's (from 2026-04-15) is on the roster from month 2.
const P6: Person = Person {
    id: "P6",
    name: "高木 亮",
    kana: "タカギ リョウ",
    birth: "1983-11-11",
    sex: Sex::Male,
    address: "東京都目黒区目黒1-1-1",
};
const P6_OLD_CARD: Card = Card {
    insurer: OLD_SOCIETY,
    symbol: "100",
    number: "2002",
};
const P6_NEW_CARD: Card = Card {
    insurer: NEW_SOCIETY,
    symbol: "200",
    number: "3002",
};
const P6_OLD: Period = Period {
    person: &P6,
    card: &P6_OLD_CARD,
    valid_from: "2015-04-01",
    valid_to: Some("2026-04-14"),
};
const P6_NEW: Period = Period {
    person: &P6,
    card: &P6_NEW_CARD,
    valid_from: "2026-04-15",
    valid_to: None,
};

#[test]
fn a_mid_month_change_is_decided_by_the_days_of_care_and_they_survive_the_ledger() {
    let root = tempfile::tempdir().expect("tempdir");
    let config = root.path().join("reseclear.toml");
    std::fs::write(&config, CONFIG).expect("config");
    // Three April receipts on P6's old card, valid on 1–14 April: by the month rule
    // all three were verified at the old society.
    let month_1 = Month::new(2026, 5)
        .roster(&[&P6_OLD, &P2_PERIOD])
        .card(1, &P2, &P2_CARD, 640)
        .past_card(2, &P6, &P6_OLD_CARD, 410)
        .on_days(&[3, 10])
        .past_card(3, &P6, &P6_OLD_CARD, 520)
        .on_days(&[20, 24])
        .past_card(4, &P6, &P6_OLD_CARD, 630)
        .on_days(&[10, 20]);
    let month_2 = Month::new(2026, 6)
        .roster(&[&P6_OLD, &P6_NEW, &P2_PERIOD])
        .card(1, &P2, &P2_CARD, 700);
    let (in_1, out_1) = (root.path().join("m1_in"), root.path().join("m1_out"));
    let (in_2, out_2) = (root.path().join("m2_in"), root.path().join("m2_out"));
    month_1.write(&in_1);
    month_2.write(&in_2);

    run_month(&config, &in_1, &out_1, None, "month 1");
    let m1 = receipts_by_key(&out_1, "month 1");
    let row = |rows: &BTreeMap<String, Row>, n: u32| {
        let r = receipt(rows, &key(FIRST_MONTH, n), "days");
        (
            r.text("status").to_string(),
            r.get("resolved_insurer").map(str::to_string),
            r.text("reason").to_string(),
        )
    };
    // Days before the change: the old card, valid on each of them.
    let (status, insurer, reason) = row(&m1, 2);
    assert_eq!(
        (status.as_str(), insurer.as_deref()),
        ("verified", Some(OLD_SOCIETY))
    );
    assert_eq!(
        reason,
        "card valid on every day of care, 2026-04: 3, 10 (period from 2015-04-01 to 2026-04-14)"
    );
    // Days after it: not the old society's to pay; the new one has not registered.
    for n in [3, 4] {
        let (status, insurer, reason) = row(&m1, n);
        assert_eq!(
            (status.as_str(), insurer),
            ("pending", None),
            "{n}: {reason}"
        );
        assert!(
            reason.contains("latest period ended 2026-04-14") && reason.contains("20"),
            "{n}: {reason}"
        );
    }

    // Month 2: the new society's period is on the roster; the carried receipts are
    // checked on the same days (the ledger kept them).
    let ledger = out_1.join(PENDING_FILE);
    run_month(&config, &in_2, &out_2, Some(&ledger), "month 2");
    let m2 = receipts_by_key(&out_2, "month 2");
    let (status, insurer, reason) = row(&m2, 3);
    assert_eq!(
        (status.as_str(), insurer.as_deref()),
        ("rerouted", Some(NEW_SOCIETY)),
        "{reason}"
    );
    assert!(
        reason.contains("20, 24 are on the person's period at 06130207"),
        "{reason}"
    );
    let (status, insurer, reason) = row(&m2, 4);
    assert_eq!((status.as_str(), insurer), ("review", None), "{reason}");
    assert!(
        reason.contains("days 10 at 06130108; days 20 at 06130207"),
        "{reason}"
    );
}
