//! `declarations.csv` (DOMAIN §5): the digitized 被保険者資格申立書 of tier-3 receipts,
//! UTF-8 with a header row, written as the rows come.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use super::GenerateError;

pub const HEADER: [&str; 16] = [
    "clinic_code",
    "billing_month",
    "receipt_number",
    "insurance_kind",
    "insurer_name",
    "employer",
    "card_issued",
    "declared_copay_percent",
    "name",
    "name_kana",
    "birth_date",
    "sex",
    "address",
    "other_residence",
    "confirmation_date",
    "phone",
];

#[derive(Debug, Clone)]
pub struct DeclarationRow {
    pub clinic_code: String,
    pub billing_month: String,
    pub receipt_number: u32,
    pub insurance_kind: &'static str,
    pub insurer_name: String,
    pub employer: String,
    pub card_issued: &'static str,
    pub declared_copay_percent: Option<u8>,
    pub name: String,
    pub name_kana: String,
    pub birth_date: NaiveDate,
    pub sex: u8,
    pub address: String,
    pub other_residence: String,
    pub confirmation_date: NaiveDate,
    pub phone: String,
}

pub struct DeclarationWriter {
    path: PathBuf,
    w: csv::Writer<BufWriter<File>>,
    pub written: usize,
}

impl DeclarationWriter {
    pub fn create(path: &Path) -> Result<DeclarationWriter, GenerateError> {
        let file = File::create(path).map_err(|e| GenerateError::io(path, e))?;
        let mut w = csv::Writer::from_writer(BufWriter::new(file));
        w.write_record(HEADER)
            .map_err(|e| GenerateError::csv(path, e))?;
        Ok(DeclarationWriter {
            path: path.to_path_buf(),
            w,
            written: 0,
        })
    }

    pub fn write(&mut self, r: &DeclarationRow) -> Result<(), GenerateError> {
        let number = r.receipt_number.to_string();
        let copay = r
            .declared_copay_percent
            .map(|c| c.to_string())
            .unwrap_or_default();
        let birth = r.birth_date.format("%Y-%m-%d").to_string();
        let sex = r.sex.to_string();
        let confirmed = r.confirmation_date.format("%Y-%m-%d").to_string();
        self.w
            .write_record([
                r.clinic_code.as_str(),
                &r.billing_month,
                &number,
                r.insurance_kind,
                &r.insurer_name,
                &r.employer,
                r.card_issued,
                &copay,
                &r.name,
                &r.name_kana,
                &birth,
                &sex,
                &r.address,
                &r.other_residence,
                &confirmed,
                &r.phone,
            ])
            .map_err(|e| GenerateError::csv(&self.path, e))?;
        self.written += 1;
        Ok(())
    }

    pub fn finish(mut self) -> Result<usize, GenerateError> {
        self.w
            .flush()
            .map_err(|e| GenerateError::io(&self.path, e))?;
        Ok(self.written)
    }
}
