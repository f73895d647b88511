//! What a UKE file says, as typed values. The reader builds these; the generator builds
//! them too and writes them out, so that a round trip can be checked.

use chrono::NaiveDate;

use super::layout::ReceiptKind;
use compact_str::CompactString;

use crate::domain::{
    CareDays, ClinicCode, InsurerNumber, Organization, Points, ReceiptKey, Sex, YearMonth, Yen,
};

/// IR (医療機関情報) or, in 調剤 files, YK (薬局情報): the file's header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClinicHeader {
    /// The kind its header record opens: 医科 (IR; DPC files too, told by their
    /// records), 歯科 (UK) or 調剤 (YK). It decides the layout a file is written in.
    pub kind: ReceiptKind,
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
    Filler(CompactString),
}

/// HO (医療保険): the medical-insurance part of a receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthInsurance {
    pub line: u64,
    /// HO 2.
    pub insurer: InsurerField,
    /// HO 3 記号 (may be empty, or filler 7s/9s).
    pub symbol: CompactString,
    /// HO 4 番号.
    pub number: CompactString,
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
    pub payer_number: CompactString,
    /// KO 3 公費受給者番号.
    pub recipient_number: CompactString,
    /// KO 5 診療実日数.
    pub days: Option<u32>,
    /// KO 6 合計点数.
    pub points: Option<Points>,
    /// The patient's part under this 公費 (医科, DPC, 歯科 KO 7 負担金額; 調剤 KO 8
    /// 一部負担金額), when written.
    pub copay: Option<Yen>,
}

/// SN (資格確認): how eligibility was confirmed, and the personal 枝番.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EligibilityConfirmation {
    pub line: u64,
    /// SN 2 負担者種別 (1 = medical insurance).
    pub payer_kind: CompactString,
    /// SN 3 確認区分.
    pub confirmation_kind: CompactString,
    /// SN 4 保険者番号等, as written.
    pub insurer_number: CompactString,
    /// SN 5 記号.
    pub symbol: CompactString,
    /// SN 6 番号.
    pub number: CompactString,
    /// SN 7 枝番 (2 digits), empty when not given.
    pub branch: CompactString,
    /// SN 8 受給者番号.
    pub recipient_number: CompactString,
}

/// CO (コメント): 摘要 comments. Free text (code 810000001) carries what the patient
/// declared when the numbers are unknown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    pub line: u64,
    /// CO 2 診療識別.
    pub care_category: CompactString,
    /// CO 3 負担区分.
    pub burden_category: CompactString,
    /// CO 4 コメントコード.
    pub code: CompactString,
    /// CO 5 文字データ.
    pub text: CompactString,
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
    pub receipt_type: CompactString,
    /// RE 4 診療年月.
    pub care_month: YearMonth,
    /// RE 5 氏名.
    pub name: CompactString,
    /// RE 6 男女区分.
    pub sex: Sex,
    /// RE 7 生年月日.
    pub birth_date: NaiveDate,
    /// RE 8 給付割合 (国保 only, e.g. 70), `None` when empty.
    pub benefit_ratio: Option<u8>,
    /// RE 12 レセプト特記事項.
    pub special_notes: CompactString,
    /// RE 14 カルテ番号等.
    pub chart_number: CompactString,
    /// RE 37 カタカナ氏名 (empty in files of older specifications).
    pub kana_name: CompactString,
    /// RE 38 患者の状態.
    pub patient_state: CompactString,
    pub insurance: Option<HealthInsurance>,
    pub public_expenses: Vec<PublicExpense>,
    pub confirmation: Option<EligibilityConfirmation>,
    pub comments: Vec<Comment>,
    /// The days of the care month its detail records mark (SI, IY, TO … 1日 … 31日);
    /// none when no record of the receipt has day fields, or one of them is unreadable.
    pub care_days: CareDays,
    /// Records of the receipt the engine does not use (SY, SI, IY …), by id.
    pub other_records: OtherRecords,
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

/// The records of a receipt the engine only counts (SY, SI, IY …): how many of each
/// id, iterated in id order. A count of 0 is no record.
///
/// 24 bytes, held inline with no allocation while at most [`OtherRecords::INLINE`] ids
/// are present with counts up to `u16::MAX` (every receipt of the generator, the usual
/// outpatient receipt); otherwise all 26 counts go to one boxed table. (It replaces a
/// `BTreeMap<String, u32>`: a B-tree node and a string per id, some 330 bytes of heap
/// a receipt.)
#[derive(Clone, Default)]
pub struct OtherRecords {
    /// Bit `i` set: the id at index `i` of [`Self::IDS`] is present (when not spilled).
    present: u32,
    /// The counts of the present ids, in index order (when not spilled).
    inline: [u16; OtherRecords::INLINE],
    /// Every count, by index, once the inline form does not hold them.
    spilled: Option<Box<[u32; OtherRecords::IDS.len()]>>,
}

impl OtherRecords {
    /// The ids of the records a receipt can count, in order (the order of iteration):
    /// the known records of the UKE specifications that the engine does not read, and SN
    /// (a second SN of a receipt is only counted).
    pub const IDS: [&'static str; 29] = [
        "BU", "CD", "CZ", "GA", "GR", "GT", "HH", "HS", "IY", "JD", "KH", "KI", "KK", "MF", "NI",
        "SB", "SH", "SI", "SJ", "SK", "SN", "SS", "ST", "SY", "TI", "TK", "TO", "TR", "TS",
    ];

    /// How many ids are held without an allocation.
    pub const INLINE: usize = 6;

    /// No records.
    pub const fn new() -> Self {
        OtherRecords {
            present: 0,
            inline: [0; Self::INLINE],
            spilled: None,
        }
    }

    /// The index of `id` in [`Self::IDS`], if a receipt can count it.
    pub const fn index_of(id: &str) -> Option<usize> {
        let id = id.as_bytes();
        if id.len() != 2 {
            return None;
        }
        let mut i = 0;
        while i < Self::IDS.len() {
            let known = Self::IDS[i].as_bytes();
            if known[0] == id[0] && known[1] == id[1] {
                return Some(i);
            }
            i += 1;
        }
        None
    }

    /// How many `id` records the receipt has (0 for an id it cannot count).
    pub fn get(&self, id: &str) -> u32 {
        Self::index_of(id).map_or(0, |i| self.count_at(i))
    }

    /// Sets the count of `id` records (0: none).
    ///
    /// # Panics
    /// If `id` is not one of [`Self::IDS`]: the reader counts no other record in a
    /// receipt (an unknown record id is quarantined), so no other is written either.
    pub fn insert(&mut self, id: &str, count: u32) {
        match Self::index_of(id) {
            Some(i) => self.set_at(i, count),
            None => panic!("{id:?} is not a record a receipt counts"),
        }
    }

    /// Removes every record.
    pub fn clear(&mut self) {
        *self = Self::new();
    }

    /// Whether the receipt has none of these records.
    pub fn is_empty(&self) -> bool {
        match &self.spilled {
            Some(all) => all.iter().all(|&c| c == 0),
            None => self.present == 0,
        }
    }

    /// How many records there are in all.
    pub fn total(&self) -> u64 {
        self.iter().map(|(_, count)| u64::from(count)).sum()
    }

    /// The ids with a count above 0, in id order, with their counts.
    pub fn iter(&self) -> OtherRecordsIter<'_> {
        OtherRecordsIter {
            records: self,
            next: 0,
        }
    }

    /// Where the count of the present id at `index` is in `inline`.
    fn rank(&self, index: usize) -> usize {
        (self.present & ((1u32 << index) - 1)).count_ones() as usize
    }

    /// The count of the id at `index` in [`Self::IDS`].
    pub(crate) fn count_at(&self, index: usize) -> u32 {
        match &self.spilled {
            Some(all) => all[index],
            None if self.present & (1 << index) != 0 => u32::from(self.inline[self.rank(index)]),
            None => 0,
        }
    }

    /// One more record of the id at `index` in [`Self::IDS`].
    pub(crate) fn add_one(&mut self, index: usize) {
        if self.spilled.is_none() && self.present & (1 << index) != 0 {
            let rank = self.rank(index);
            if let Some(count) = self.inline[rank].checked_add(1) {
                self.inline[rank] = count;
                return;
            }
        }
        self.set_at(index, self.count_at(index) + 1);
    }

    /// Sets the count of the id at `index` in [`Self::IDS`].
    fn set_at(&mut self, index: usize, count: u32) {
        if self.spilled.is_none() {
            let bit = 1u32 << index;
            let rank = self.rank(index);
            let len = self.present.count_ones() as usize;
            if self.present & bit != 0 {
                if count == 0 {
                    self.inline.copy_within(rank + 1..len, rank);
                    self.inline[len - 1] = 0;
                    self.present &= !bit;
                    return;
                }
                if let Ok(count) = u16::try_from(count) {
                    self.inline[rank] = count;
                    return;
                }
            } else {
                if count == 0 {
                    return;
                }
                if let (Ok(count), true) = (u16::try_from(count), len < Self::INLINE) {
                    self.inline.copy_within(rank..len, rank + 1);
                    self.inline[rank] = count;
                    self.present |= bit;
                    return;
                }
            }
            let mut all = Box::new([0u32; Self::IDS.len()]);
            for (i, slot) in all.iter_mut().enumerate() {
                *slot = self.count_at(i);
            }
            *self = OtherRecords {
                spilled: Some(all),
                ..Self::new()
            };
        }
        if let Some(all) = &mut self.spilled {
            all[index] = count;
        }
    }
}

// Iteration in id order is iteration in index order; every index has a bit of `present`.
const _: () = {
    assert!(OtherRecords::IDS.len() <= 32);
    let mut i = 0;
    while i < OtherRecords::IDS.len() {
        let b = OtherRecords::IDS[i].as_bytes();
        assert!(b.len() == 2);
        if i > 0 {
            let a = OtherRecords::IDS[i - 1].as_bytes();
            assert!(
                a[0] < b[0] || (a[0] == b[0] && a[1] < b[1]),
                "IDS must be sorted"
            );
        }
        i += 1;
    }
};

impl PartialEq for OtherRecords {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for OtherRecords {}

impl std::fmt::Debug for OtherRecords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// [`OtherRecords::iter`].
#[derive(Clone)]
pub struct OtherRecordsIter<'a> {
    records: &'a OtherRecords,
    next: usize,
}

impl Iterator for OtherRecordsIter<'_> {
    type Item = (&'static str, u32);

    fn next(&mut self) -> Option<Self::Item> {
        while self.next < OtherRecords::IDS.len() {
            let i = self.next;
            self.next += 1;
            let count = self.records.count_at(i);
            if count > 0 {
                return Some((OtherRecords::IDS[i], count));
            }
        }
        None
    }
}

impl<'a> IntoIterator for &'a OtherRecords {
    type Item = (&'static str, u32);
    type IntoIter = OtherRecordsIter<'a>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<'a> FromIterator<(&'a str, u32)> for OtherRecords {
    /// Later counts of an id replace earlier ones.
    ///
    /// # Panics
    /// As [`OtherRecords::insert`].
    fn from_iter<I: IntoIterator<Item = (&'a str, u32)>>(iter: I) -> Self {
        let mut records = OtherRecords::new();
        for (id, count) in iter {
            records.insert(id, count);
        }
        records
    }
}

impl<'a, const N: usize> From<[(&'a str, u32); N]> for OtherRecords {
    /// # Panics
    /// As [`OtherRecords::insert`].
    fn from(records: [(&'a str, u32); N]) -> Self {
        records.into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::OtherRecords;

    #[test]
    fn held_inline() {
        assert_eq!(std::mem::size_of::<OtherRecords>(), 24);
        let r = OtherRecords::from([("SY", 2), ("IY", 1), ("SI", 3), ("TO", 0)]);
        assert!(r.spilled.is_none());
        let v: Vec<_> = r.iter().collect();
        assert_eq!(v, [("IY", 1), ("SI", 3), ("SY", 2)]);
        assert_eq!(r.total(), 6);
        assert_eq!(format!("{r:?}"), r#"{"IY": 1, "SI": 3, "SY": 2}"#);
        assert_eq!(OtherRecords::index_of("XX"), None);
        assert_eq!(OtherRecords::index_of("S"), None);
        assert_eq!(OtherRecords::index_of("SYY"), None);
        assert_eq!(r.get("XX"), 0);
    }

    #[test]
    #[should_panic(expected = "not a record a receipt counts")]
    fn refuses_ids_it_cannot_count() {
        OtherRecords::new().insert("RE", 1);
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert(usize, u32),
        AddOne(usize),
        Clear,
    }

    fn op() -> impl Strategy<Value = Op> {
        let index = 0..OtherRecords::IDS.len();
        let count = prop_oneof![0u32..4, 65_530u32..65_540, 100_000u32..100_002];
        prop_oneof![
            8 => (index.clone(), count).prop_map(|(i, c)| Op::Insert(i, c)),
            8 => index.prop_map(Op::AddOne),
            1 => Just(Op::Clear),
        ]
    }

    proptest! {
        /// Behaves as the map it replaces (without entries of 0).
        #[test]
        fn behaves_as_a_map(ops in prop::collection::vec(op(), 0..80)) {
            let mut map: BTreeMap<String, u32> = BTreeMap::new();
            let mut records = OtherRecords::new();
            for op in ops {
                match op {
                    Op::Insert(i, c) => {
                        let id = OtherRecords::IDS[i];
                        map.insert(id.to_string(), c);
                        records.insert(id, c);
                    }
                    Op::AddOne(i) => {
                        *map.entry(OtherRecords::IDS[i].to_string()).or_insert(0) += 1;
                        records.add_one(i);
                    }
                    Op::Clear => {
                        map.clear();
                        records.clear();
                    }
                }
                map.retain(|_, c| *c > 0);
                let want: Vec<(&str, u32)> = map.iter().map(|(k, &c)| (k.as_str(), c)).collect();
                let got: Vec<(&str, u32)> = records.iter().collect();
                prop_assert_eq!(&got, &want);
                prop_assert_eq!(records.is_empty(), map.is_empty());
                prop_assert_eq!(records.total(), map.values().map(|&c| u64::from(c)).sum::<u64>());
                for id in OtherRecords::IDS {
                    prop_assert_eq!(records.get(id), map.get(id).copied().unwrap_or(0));
                }
                let rebuilt: OtherRecords = want.iter().copied().collect();
                prop_assert_eq!(&rebuilt, &records);
                prop_assert_eq!(rebuilt.clone(), records.clone());
            }
        }
    }
}
