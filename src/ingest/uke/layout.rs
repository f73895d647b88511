//! Where each field the engine reads lies, per receipt kind: the record layouts of the
//! 記録条件仕様 of 医科, DPC, 歯科 and 調剤 as data, so that the one reader walks every
//! kind's files by table and no position is hard-coded in the parser.
//!
//! Positions are 1-based, field 1 being the record id (the item numbers of the
//! specifications). Sources and editions are in `schemas/uke.md`; the positions were
//! cross-checked against public receipt writers, parsers and FHIR mapping guides of the
//! specifications (two or more agreeing for every position below).

use serde::Serialize;

/// The kind of a receipt file: which 点数表 and which 記録条件仕様 it follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ReceiptKind {
    /// 医科 (clinics and hospitals billed by the medical fee table).
    Ika,
    /// DPC (包括評価): a 医科 file whose receipts carry DPC records (BU, HH, GT …).
    Dpc,
    /// 歯科 (dental clinics).
    Shika,
    /// 調剤 (pharmacies).
    Chozai,
}

impl ReceiptKind {
    /// Every kind, in the order outputs list them.
    pub const ALL: [ReceiptKind; 4] = [
        ReceiptKind::Ika,
        ReceiptKind::Dpc,
        ReceiptKind::Shika,
        ReceiptKind::Chozai,
    ];

    /// The name outputs use: `ika`, `dpc`, `shika`, `chozai`.
    pub fn as_str(self) -> &'static str {
        match self {
            ReceiptKind::Ika => "ika",
            ReceiptKind::Dpc => "dpc",
            ReceiptKind::Shika => "shika",
            ReceiptKind::Chozai => "chozai",
        }
    }

    /// The name outputs give a receipt's kind, `unknown` when its file's header could
    /// not be read.
    pub fn name_of(kind: Option<ReceiptKind>) -> &'static str {
        kind.map_or("unknown", ReceiptKind::as_str)
    }

    /// Its place in [`Self::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// The kind named `name` (`ika`, `dpc`, `shika`, `chozai`).
    pub fn from_name(name: &str) -> Option<ReceiptKind> {
        ReceiptKind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// The layout its files are read by.
    pub fn layout(self) -> &'static Layout {
        match self {
            ReceiptKind::Ika => &IKA,
            ReceiptKind::Dpc => &DPC,
            ReceiptKind::Shika => &SHIKA,
            ReceiptKind::Chozai => &CHOZAI,
        }
    }

    /// The kind whose files open with the header record `id` (`IR` 医科 or DPC, `UK`
    /// 歯科, `YK` 調剤). DPC is told from 医科 later, by its records.
    pub fn of_header(id: &str) -> Option<ReceiptKind> {
        match id {
            "IR" => Some(ReceiptKind::Ika),
            "UK" => Some(ReceiptKind::Shika),
            "YK" => Some(ReceiptKind::Chozai),
            _ => None,
        }
    }

    /// The kind of one receipt of a file of this kind: a receipt of an IR file (医科 or
    /// DPC) is DPC when it carries a DPC record, 医科 when it does not.
    pub fn of_receipt(self, receipt: &super::Receipt) -> ReceiptKind {
        match self {
            ReceiptKind::Ika | ReceiptKind::Dpc
                if receipt
                    .other_records
                    .iter()
                    .any(|(id, _)| ReceiptKind::is_dpc_record(id)) =>
            {
                ReceiptKind::Dpc
            }
            ReceiptKind::Ika | ReceiptKind::Dpc => ReceiptKind::Ika,
            other => other,
        }
    }

    /// Whether a receipt of this kind may be carried in a file opening with the header
    /// of `file` (a DPC receipt's file opens with IR, as 医科's).
    pub fn fits_file(self, file: ReceiptKind) -> bool {
        self == file || (self == ReceiptKind::Dpc && file == ReceiptKind::Ika)
    }

    /// Records only DPC receipts carry: one of them makes a 医科 file a DPC file.
    pub const DPC_RECORDS: [&'static str; 8] = ["BU", "SB", "KK", "SK", "GA", "HH", "GT", "CD"];

    /// Whether `id` is one of [`Self::DPC_RECORDS`].
    pub fn is_dpc_record(id: &str) -> bool {
        Self::DPC_RECORDS.contains(&id)
    }
}

/// One field of a record: its position and its name as quarantine rows show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    pub pos: usize,
    /// `RECORD.pos 名称`, e.g. `HO.11 負担金額`.
    pub label: &'static str,
}

const fn at(pos: usize, label: &'static str) -> Field {
    Field { pos, label }
}

/// The file header: IR (医科, DPC), UK (歯科), YK (調剤).
#[derive(Debug, Clone, Copy)]
pub struct HeaderLayout {
    pub id: &'static str,
    pub organization: Field,
    pub prefecture: Field,
    pub fee_table: Field,
    pub clinic: Field,
    pub name: Field,
    pub billing_month: Field,
    /// Fields of the record in the specification.
    pub fields: usize,
}

/// RE レセプト共通.
#[derive(Debug, Clone, Copy)]
pub struct ReLayout {
    pub number: Field,
    pub receipt_type: Field,
    pub care_month: Field,
    pub name: Field,
    pub sex: Field,
    pub birth_date: Field,
    pub benefit_ratio: Field,
    pub special_notes: Field,
    /// カルテ番号等 (調剤: 調剤録番号等).
    pub chart_number: Field,
    /// カタカナ(氏名); none in the DPC edition the sources cover.
    pub kana: Option<Field>,
    /// 患者の状態; none in 調剤.
    pub patient_state: Option<Field>,
    pub fields: usize,
}

impl ReLayout {
    /// The fields a receipt cannot be read without (number … 給付割合): an RE shorter
    /// than this is a record error, a longer one shorter than `fields` is read.
    pub const NEEDED: usize = 8;
}

/// HO 保険者.
#[derive(Debug, Clone, Copy)]
pub struct HoLayout {
    pub insurer: Field,
    pub symbol: Field,
    pub number: Field,
    /// 診療実日数 (調剤: 処方箋受付回数).
    pub days: Field,
    pub points: Field,
    /// The patient's part under the medical insurance: 負担金額 (医科 12, 歯科 11),
    /// 一部負担金 (調剤 10).
    pub copay: Field,
    pub fields: usize,
}

/// KO 公費.
#[derive(Debug, Clone, Copy)]
pub struct KoLayout {
    pub payer: Field,
    pub recipient: Field,
    pub days: Field,
    pub points: Field,
    /// The patient's part under this 公費: 負担金額 (医科, DPC, 歯科 7), 一部負担金額
    /// (調剤 8).
    pub copay: Field,
    pub fields: usize,
}

/// A detail record that marks days of care, and how. The days any of a receipt's such
/// records mark are its days of care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayFields {
    pub id: &'static str,
    /// The first (or only) field of the days.
    pub first: usize,
    pub form: DayForm,
    /// `ID.first 名称`, as quarantine rows name the record's day fields.
    pub label: &'static str,
}

/// How a record gives its days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayForm {
    /// 31 fields from `first`, 1日の情報 … 31日の情報: the count of that day (医科, DPC,
    /// 歯科 SI/IY/TO/SS), or JD's 受診等区分 (1, 2, 9); empty or 0 is no care that day.
    Columns,
    /// One date at `first`, the day the record's item was given (調剤 CZ 調剤月日):
    /// `YYYYMMDD`, `GYYMMDD`, `MMDD` or `DD`, in the care month.
    Date,
}

impl DayFields {
    /// One field a day of the month.
    pub const DAYS: usize = 31;
}

const fn columns(id: &'static str, first: usize, label: &'static str) -> DayFields {
    DayFields {
        id,
        first,
        form: DayForm::Columns,
        label,
    }
}

/// A kind's layout of the records the engine reads.
#[derive(Debug, Clone, Copy)]
pub struct Layout {
    pub kind: ReceiptKind,
    pub header: HeaderLayout,
    /// 歯科 opens every receipt with its own IR (9 fields, 請求年月 at 7) after the
    /// file's UK header; other kinds have one header per file.
    pub receipt_header: Option<&'static str>,
    pub re: ReLayout,
    pub ho: HoLayout,
    pub ko: KoLayout,
    /// The records that mark days of care, by id.
    pub day_fields: &'static [DayFields],
}

impl Layout {
    /// Where `id`'s day fields are, if it has them.
    pub fn day_fields_of(&self, id: &str) -> Option<&'static DayFields> {
        self.day_fields.iter().find(|d| d.id == id)
    }
}

const IR: HeaderLayout = HeaderLayout {
    id: "IR",
    organization: at(2, "IR.2 審査支払機関"),
    prefecture: at(3, "IR.3 都道府県"),
    fee_table: at(4, "IR.4 点数表"),
    clinic: at(5, "IR.5 医療機関コード"),
    name: at(7, "IR.7 医療機関名称"),
    billing_month: at(8, "IR.8 請求年月"),
    fields: 10,
};

const IKA_RE: ReLayout = ReLayout {
    number: at(2, "RE.2 レセプト番号"),
    receipt_type: at(3, "RE.3 レセプト種別"),
    care_month: at(4, "RE.4 診療年月"),
    name: at(5, "RE.5 氏名"),
    sex: at(6, "RE.6 男女区分"),
    birth_date: at(7, "RE.7 生年月日"),
    benefit_ratio: at(8, "RE.8 給付割合"),
    special_notes: at(12, "RE.12 レセプト特記事項"),
    chart_number: at(14, "RE.14 カルテ番号等"),
    kana: Some(at(37, "RE.37 カタカナ(氏名)")),
    patient_state: Some(at(38, "RE.38 患者の状態")),
    fields: 38,
};

const IKA_HO: HoLayout = HoLayout {
    insurer: at(2, "HO.2 保険者番号"),
    symbol: at(3, "HO.3 記号"),
    number: at(4, "HO.4 番号"),
    days: at(5, "HO.5 診療実日数"),
    points: at(6, "HO.6 合計点数"),
    copay: at(12, "HO.12 負担金額"),
    fields: 15,
};

const IKA_KO: KoLayout = KoLayout {
    payer: at(2, "KO.2 公費負担者番号"),
    recipient: at(3, "KO.3 受給者番号"),
    days: at(5, "KO.5 診療実日数"),
    points: at(6, "KO.6 合計点数"),
    copay: at(7, "KO.7 負担金額"),
    fields: 12,
};

/// 医科 SI 診療行為 and IY 医薬品 (days at 14–44), TO 特定器材 (18–48: its 単位, 単価,
/// 予備 and 商品名 come before the comments); JD 受診日等 (3–33, after 2 負担者種別),
/// whose day codes are 受診等区分. DPC's 出来高 records are the same.
const IKA_DAYS: &[DayFields] = &[
    columns("SI", 14, "SI.14 1日の情報"),
    columns("IY", 14, "IY.14 1日の情報"),
    columns("TO", 18, "TO.18 1日の情報"),
    columns("JD", 3, "JD.3 1日の情報"),
];

/// 歯科 SS 歯科診療行為 (79–109, after 35 加算 pairs, 点数 77 and 回数 78), SI (8–38),
/// IY (9–39, after 8 医薬品区分), TO (15–45), JD (3–33).
const SHIKA_DAYS: &[DayFields] = &[
    columns("SS", 79, "SS.79 1日の情報"),
    columns("SI", 8, "SI.8 1日の情報"),
    columns("IY", 9, "IY.9 1日の情報"),
    columns("TO", 15, "TO.15 1日の情報"),
    columns("JD", 3, "JD.3 1日の情報"),
];

/// 調剤 CZ 調剤 (4 調剤月日, after 3 処方月日) and JD (3–33: 受付等区分 per day).
const CHOZAI_DAYS: &[DayFields] = &[
    DayFields {
        id: "CZ",
        first: 4,
        form: DayForm::Date,
        label: "CZ.4 調剤月日",
    },
    columns("JD", 3, "JD.3 1日の情報"),
];

/// 医科.
pub static IKA: Layout = Layout {
    kind: ReceiptKind::Ika,
    header: IR,
    receipt_header: None,
    re: IKA_RE,
    ho: IKA_HO,
    ko: IKA_KO,
    day_fields: IKA_DAYS,
};

/// DPC: the 医科 positions up to RE 18 and in HO and KO (DPC's HO adds 16 標準負担額,
/// its KO 13); its RE has 28 fields in the edition the sources cover, with no カタカナ
/// or 患者の状態 found.
pub static DPC: Layout = Layout {
    kind: ReceiptKind::Dpc,
    header: IR,
    receipt_header: None,
    re: ReLayout {
        kana: None,
        patient_state: None,
        fields: 28,
        ..IKA_RE
    },
    ho: HoLayout {
        fields: 16,
        ..IKA_HO
    },
    ko: KoLayout {
        fields: 13,
        ..IKA_KO
    },
    day_fields: IKA_DAYS,
};

/// 歯科: a UK header, an IR per receipt, RE of 27 fields, HO 負担金額 at 11.
pub static SHIKA: Layout = Layout {
    kind: ReceiptKind::Shika,
    header: HeaderLayout {
        id: "UK",
        organization: at(2, "UK.2 審査支払機関"),
        prefecture: at(3, "UK.3 都道府県"),
        fee_table: at(4, "UK.4 点数表"),
        clinic: at(5, "UK.5 医療機関コード"),
        name: at(7, "UK.7 医療機関名称"),
        billing_month: at(8, "UK.8 請求年月"),
        fields: 10,
    },
    receipt_header: Some("IR"),
    re: ReLayout {
        special_notes: at(14, "RE.14 レセプト特記事項"),
        chart_number: at(16, "RE.16 カルテ番号等"),
        kana: Some(at(26, "RE.26 カタカナ(氏名)")),
        patient_state: Some(at(27, "RE.27 患者の状態")),
        fields: 27,
        ..IKA_RE
    },
    ho: HoLayout {
        copay: at(11, "HO.11 負担金額"),
        fields: 14,
        ..IKA_HO
    },
    ko: KoLayout {
        fields: 10,
        ..IKA_KO
    },
    day_fields: SHIKA_DAYS,
};

/// 調剤: a YK header (請求年月 at 7), RE of 42 fields (特記事項 9, カタカナ 42), HO
/// 一部負担金 at 10, KO 一部負担金額 at 8; 5 is 処方箋受付回数, not days.
pub static CHOZAI: Layout = Layout {
    kind: ReceiptKind::Chozai,
    header: HeaderLayout {
        id: "YK",
        organization: at(2, "YK.2 審査支払機関"),
        prefecture: at(3, "YK.3 都道府県"),
        fee_table: at(4, "YK.4 点数表"),
        clinic: at(5, "YK.5 薬局コード"),
        name: at(6, "YK.6 薬局名称"),
        billing_month: at(7, "YK.7 請求年月"),
        fields: 9,
    },
    receipt_header: None,
    re: ReLayout {
        care_month: at(4, "RE.4 調剤年月"),
        special_notes: at(9, "RE.9 レセプト特記事項"),
        chart_number: at(36, "RE.36 調剤録番号等"),
        kana: Some(at(42, "RE.42 カタカナ(氏名)")),
        patient_state: None,
        fields: 42,
        ..IKA_RE
    },
    ho: HoLayout {
        days: at(5, "HO.5 処方箋受付回数"),
        copay: at(10, "HO.10 一部負担金"),
        fields: 14,
        ..IKA_HO
    },
    ko: KoLayout {
        days: at(5, "KO.5 処方箋受付回数"),
        copay: at(8, "KO.8 一部負担金額"),
        fields: 10,
        ..IKA_KO
    },
    day_fields: CHOZAI_DAYS,
};

#[cfg(test)]
mod tests {
    use super::*;

    /// Every label names its record and position: a position changed without its label
    /// (or the reverse) fails here.
    #[test]
    fn labels_agree_with_positions() {
        for kind in ReceiptKind::ALL {
            let l = kind.layout();
            assert_eq!(l.kind, kind);
            let h = l.header;
            let re = l.re;
            let fields: Vec<(&str, Field)> = [
                (h.id, h.organization),
                (h.id, h.prefecture),
                (h.id, h.fee_table),
                (h.id, h.clinic),
                (h.id, h.name),
                (h.id, h.billing_month),
                ("RE", re.number),
                ("RE", re.receipt_type),
                ("RE", re.care_month),
                ("RE", re.name),
                ("RE", re.sex),
                ("RE", re.birth_date),
                ("RE", re.benefit_ratio),
                ("RE", re.special_notes),
                ("RE", re.chart_number),
                ("HO", l.ho.insurer),
                ("HO", l.ho.symbol),
                ("HO", l.ho.number),
                ("HO", l.ho.days),
                ("HO", l.ho.points),
                ("HO", l.ho.copay),
                ("KO", l.ko.payer),
                ("KO", l.ko.recipient),
                ("KO", l.ko.days),
                ("KO", l.ko.points),
                ("KO", l.ko.copay),
            ]
            .into_iter()
            .chain(re.kana.map(|f| ("RE", f)))
            .chain(re.patient_state.map(|f| ("RE", f)))
            .collect();
            for (id, f) in fields {
                assert!(
                    f.label.starts_with(&format!("{id}.{} ", f.pos)),
                    "{kind:?}: {} at {}",
                    f.label,
                    f.pos
                );
            }
            let last = |fs: &[usize]| fs.iter().copied().max().unwrap_or(0);
            assert!(last(&[h.billing_month.pos, h.name.pos, h.clinic.pos]) <= h.fields);
            assert!(
                last(&[
                    re.chart_number.pos,
                    re.special_notes.pos,
                    re.kana.map_or(0, |f| f.pos),
                    re.patient_state.map_or(0, |f| f.pos)
                ]) <= re.fields
            );
            assert!(l.ho.copay.pos <= l.ho.fields && l.ko.copay.pos <= l.ko.fields);
        }
    }

    /// The per-kind table of `schemas/uke.md`, rendered from the layouts: the document
    /// says what the reader reads, or this test fails.
    fn positions_table() -> String {
        let cell = |f: Option<Field>| f.map_or("–", |f| f.label).to_string();
        type Get = fn(&Layout) -> Option<Field>;
        let rows: [(&str, Get); 27] = [
            ("審査支払機関", |l| Some(l.header.organization)),
            ("都道府県", |l| Some(l.header.prefecture)),
            ("点数表", |l| Some(l.header.fee_table)),
            ("医療機関 / 薬局コード", |l| Some(l.header.clinic)),
            ("名称", |l| Some(l.header.name)),
            ("請求年月", |l| Some(l.header.billing_month)),
            ("レセプト番号", |l| Some(l.re.number)),
            ("レセプト種別", |l| Some(l.re.receipt_type)),
            ("診療 / 調剤年月", |l| Some(l.re.care_month)),
            ("氏名", |l| Some(l.re.name)),
            ("男女区分", |l| Some(l.re.sex)),
            ("生年月日", |l| Some(l.re.birth_date)),
            ("給付割合", |l| Some(l.re.benefit_ratio)),
            ("レセプト特記事項", |l| Some(l.re.special_notes)),
            ("カルテ / 調剤録番号等", |l| {
                Some(l.re.chart_number)
            }),
            ("カタカナ氏名", |l| l.re.kana),
            ("患者の状態", |l| l.re.patient_state),
            ("保険者番号", |l| Some(l.ho.insurer)),
            ("記号", |l| Some(l.ho.symbol)),
            ("番号", |l| Some(l.ho.number)),
            ("実日数 / 受付回数", |l| Some(l.ho.days)),
            ("合計点数", |l| Some(l.ho.points)),
            ("負担金額 (医療保険)", |l| Some(l.ho.copay)),
            ("公費負担者番号", |l| Some(l.ko.payer)),
            ("受給者番号", |l| Some(l.ko.recipient)),
            ("公費 合計点数", |l| Some(l.ko.points)),
            ("負担金額 (公費)", |l| Some(l.ko.copay)),
        ];
        let mut out = String::from("| field | 医科 `ika` | DPC `dpc` | 歯科 `shika` | 調剤 `chozai` |\n|---|---|---|---|---|\n");
        for (name, get) in rows {
            let cells: Vec<String> = ReceiptKind::ALL.map(|k| cell(get(k.layout()))).into();
            out.push_str(&format!("| {name} | {} |\n", cells.join(" | ")));
        }
        let days: Vec<String> = ReceiptKind::ALL
            .map(|k| {
                let labels: Vec<&str> = k.layout().day_fields.iter().map(|d| d.label).collect();
                labels.join(", ")
            })
            .into();
        out.push_str(&format!("| days of care | {} |\n", days.join(" | ")));
        let counts: Vec<String> = ReceiptKind::ALL
            .map(|k| {
                let l = k.layout();
                format!(
                    "{} {}, RE {}, HO {}, KO {}",
                    l.header.id, l.header.fields, l.re.fields, l.ho.fields, l.ko.fields
                )
            })
            .into();
        out.push_str(&format!("| fields per record | {} |\n", counts.join(" | ")));
        out
    }

    #[test]
    fn schemas_uke_md_documents_each_kinds_positions() {
        let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/uke.md"))
            .expect("schemas/uke.md");
        let table = positions_table();
        assert!(
            doc.contains(&table),
            "schemas/uke.md must hold the per-kind table as the layouts give it:\n{table}"
        );
    }

    #[test]
    fn kinds_by_header_record() {
        assert_eq!(ReceiptKind::of_header("IR"), Some(ReceiptKind::Ika));
        assert_eq!(ReceiptKind::of_header("UK"), Some(ReceiptKind::Shika));
        assert_eq!(ReceiptKind::of_header("YK"), Some(ReceiptKind::Chozai));
        assert_eq!(ReceiptKind::of_header("RE"), None);
        for (i, k) in ReceiptKind::ALL.iter().enumerate() {
            assert_eq!(k.index(), i);
            assert_eq!(ReceiptKind::from_name(k.as_str()), Some(*k));
        }
        assert_eq!(CHOZAI.header.billing_month.pos, 7);
        assert_eq!(SHIKA.ho.copay.pos, 11);
        assert_eq!(CHOZAI.ho.copay.pos, 10);
        assert_eq!(SHIKA.re.kana.map(|f| f.pos), Some(26));
        assert_eq!(CHOZAI.re.kana.map(|f| f.pos), Some(42));
    }
}
