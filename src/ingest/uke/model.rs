//! What a UKE file says, as typed values. The reader builds these; the generator builds
//! them too and writes them out, so that a round trip can be checked.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use crate::domain::{
    ClinicCode, InsurerNumber, Organization, Points, ReceiptKey, Sex, YearMonth, Yen,
};

/// IR (医療機関情報) or, in 調剤 files, YK (薬局情報): the file's header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClinicHeader {
    /// IR field 2: the organization that received the file.
    pub organization: Organization,
    /// IR field 3: 都道府県 code, 1–47.
    pub prefecture: u8,
    /// IR field 4: 点数表 (1 医科, 3 歯科, 4 調剤 …), kept as written.
    pub fee_table: String,
    /// IR field 5.
    pub clinic_code: ClinicCode,
    /// IR field 7. Not personal data (a clinic's public name).
    pub clinic_name: String,
    /// IR field 8: 請求年月, the `billing_month` of every receipt key in the file.
    pub billing_month: YearMonth,
}

/// The 保険者番号 field of HO: a real, check-digit-valid number, or a configured filler
/// (insurer unknown, tier 3). A filler is recognised before the check digit is tried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InsurerField {
    Known(InsurerNumber),
    /// The filler exactly as configured (`77777777`, `99999999` …).
    Filler(String),
}

/// HO (医療保険): the medical-insurance part of a receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthInsurance {
    pub line: u64,
    /// HO 2.
    pub insurer: InsurerField,
    /// HO 3 記号 (may be empty, or filler 7s/9s).
    pub symbol: String,
    /// HO 4 番号.
    pub number: String,
    /// HO 5 診療実日数.
    pub days: Option<u32>,
    /// HO 6 合計点数.
    pub points: Points,
    /// HO 12 負担金額 (医療保険): recorded only in some cases (e.g. high-cost cap).
    pub copay: Option<Yen>,
}

/// KO (公費): a public-expense payer on the receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicExpense {
    pub line: u64,
    /// KO 2 公費負担者番号.
    pub payer_number: String,
    /// KO 3 公費受給者番号.
    pub recipient_number: String,
    /// KO 5 診療実日数.
    pub days: Option<u32>,
    /// KO 6 合計点数.
    pub points: Option<Points>,
}

/// SN (資格確認): how eligibility was confirmed, and the personal 枝番.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EligibilityConfirmation {
    pub line: u64,
    /// SN 2 負担者種別 (1 = medical insurance).
    pub payer_kind: String,
    /// SN 3 確認区分.
    pub confirmation_kind: String,
    /// SN 4 保険者番号等, as written.
    pub insurer_number: String,
    /// SN 5 記号.
    pub symbol: String,
    /// SN 6 番号.
    pub number: String,
    /// SN 7 枝番 (2 digits), empty when not given.
    pub branch: String,
    /// SN 8 受給者番号.
    pub recipient_number: String,
}

/// CO (コメント): 摘要 comments. Free text (code 810000001) carries what the patient
/// declared when the numbers are unknown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    pub line: u64,
    /// CO 2 診療識別.
    pub care_category: String,
    /// CO 3 負担区分.
    pub burden_category: String,
    /// CO 4 コメントコード.
    pub code: String,
    /// CO 5 文字データ.
    pub text: String,
}

impl Comment {
    pub const FREE_TEXT: &'static str = "810000001";
}

/// One receipt: RE and the records that follow it up to the next RE or GO.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub key: ReceiptKey,
    /// Line of the RE record.
    pub line: u64,
    /// RE 3 レセプト種別 (4 digits).
    pub receipt_type: String,
    /// RE 4 診療年月.
    pub care_month: YearMonth,
    /// RE 5 氏名.
    pub name: String,
    /// RE 6 男女区分.
    pub sex: Sex,
    /// RE 7 生年月日.
    pub birth_date: NaiveDate,
    /// RE 8 給付割合 (国保 only, e.g. 70), `None` when empty.
    pub benefit_ratio: Option<u8>,
    /// RE 12 レセプト特記事項.
    pub special_notes: String,
    /// RE 14 カルテ番号等.
    pub chart_number: String,
    /// RE 37 カタカナ氏名 (empty in files of older specifications).
    pub kana_name: String,
    /// RE 38 患者の状態.
    pub patient_state: String,
    pub insurance: Option<HealthInsurance>,
    pub public_expenses: Vec<PublicExpense>,
    pub confirmation: Option<EligibilityConfirmation>,
    pub comments: Vec<Comment>,
    /// Records of the receipt the engine does not use (SY, SI, IY …), by id.
    pub other_records: BTreeMap<String, u32>,
}

impl Receipt {
    /// Points the receipt bills: HO 合計点数, or for a 公費-only receipt the first KO's.
    pub fn points(&self) -> Points {
        billed_points(self.insurance.as_ref(), &self.public_expenses)
    }

    /// Payers on the receipt (HO and each KO), for GO 総件数 counted once per payer.
    pub fn payer_count(&self) -> u64 {
        u64::from(self.insurance.is_some()) + self.public_expenses.len() as u64
    }
}

/// Points a receipt bills: HO 合計点数, or for a 公費-only receipt the first KO's.
pub(crate) fn billed_points(insurance: Option<&HealthInsurance>, kos: &[PublicExpense]) -> Points {
    match insurance {
        Some(ho) => ho.points,
        None => kos.iter().find_map(|k| k.points).unwrap_or_default(),
    }
}

/// GO (請求書): the file's totals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Totals {
    pub line: u64,
    /// GO 2 総件数.
    pub receipt_count: u64,
    /// GO 3 総合計点数.
    pub total_points: Points,
    /// GO 4 マルチボリューム識別 (99 = last volume).
    pub volume: String,
}
