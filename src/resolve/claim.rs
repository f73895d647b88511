//! A receipt as a run holds it from reading to writing.
//!
//! A month is millions of receipts, and a parsed receipt (RE, HO, KO, SN, 摘要 comments,
//! counts of the other records) is about a kilobyte. Most are filed with a card and
//! need only a few fields to be verified or re-routed and priced, so a [`Claim`] keeps
//! the parsed receipt only where more is read: tier-3 receipts (the declaration is in
//! RE and the 摘要 comments) and the ledger's receipts (which have no file to go back
//! to). The others keep what tiers 1–2 and the money need, and where they are in their
//! file, to be read again should they go on the ledger whole.

use std::path::PathBuf;

use compact_str::CompactString;

use super::card_resolution::{classify, CardPatient, Filed};
use super::copay::Billed;
use crate::config::IngestConfig;
use crate::domain::{CareDays, Points, ReceiptKey, Sex, YearMonth};
use crate::ingest::uke::{reparse_receipts, ByteSpan, Receipt, ReceiptAt, ReceiptKind, UkeFile};
use crate::ingest::IngestError;

/// One accepted receipt, classified by what it was filed with.
#[derive(Debug, Clone)]
pub struct Claim {
    pub key: ReceiptKey,
    /// Line of the RE record.
    pub line: u64,
    /// The kind of claim (医科, DPC, 歯科, 調剤): its file's, but for a receipt of an
    /// IR file, which is DPC when it carries DPC records and 医科 otherwise (a DPC
    /// hospital files its outpatients' and 出来高 inpatients' 医科 receipts with its DPC
    /// ones); a ledger receipt's, as its ledger row says.
    pub kind: Option<ReceiptKind>,
    pub filed: Filed,
    pub body: ClaimBody,
}

/// What is kept of a receipt beyond its key and classification.
#[derive(Debug, Clone)]
pub enum ClaimBody {
    /// The receipt as parsed.
    Parsed(Box<Receipt>),
    /// A receipt filed with a card, or 公費-only: what card resolution and the money
    /// read, and where its bytes are in its file.
    Held(Held),
}

/// The fields of a receipt that tiers 1–2 and the money read.
#[derive(Debug, Clone)]
pub struct Held {
    pub care_month: YearMonth,
    /// The days of care its detail records mark (none: the month rule).
    pub care_days: CareDays,
    pub sex: Sex,
    /// RE 氏名 and カタカナ氏名: they tell apart a family sharing a card.
    pub name: CompactString,
    pub kana_name: CompactString,
    pub billed: Billed,
    pub span: ByteSpan,
}

impl Claim {
    /// Classifies a receipt and keeps what its tier needs. `span` is where the receipt
    /// is in its file; without one (the ledger's receipts) the parsed receipt is kept.
    pub fn new(
        receipt: Receipt,
        kind: Option<ReceiptKind>,
        span: Option<ByteSpan>,
        config: &IngestConfig,
    ) -> Claim {
        let filed = classify(&receipt, config);
        let kind = kind.map(|k| k.of_receipt(&receipt));
        let (key, line) = (receipt.key, receipt.line);
        let body = match span {
            Some(span) if matches!(filed, Filed::Card { .. } | Filed::PublicOnly) => {
                ClaimBody::Held(Held {
                    care_month: receipt.care_month,
                    care_days: receipt.care_days,
                    sex: receipt.sex,
                    billed: Billed::of(&receipt),
                    name: receipt.name,
                    kana_name: receipt.kana_name,
                    span,
                })
            }
            _ => ClaimBody::Parsed(Box::new(receipt)),
        };
        Claim {
            key,
            line,
            kind,
            filed,
            body,
        }
    }

    /// What the receipt bills (HO 合計点数, or the first KO's for a 公費-only receipt).
    pub fn points(&self) -> Points {
        match &self.body {
            ClaimBody::Parsed(r) => r.points(),
            ClaimBody::Held(h) => h.billed.points,
        }
    }

    /// The parsed receipt, where it is kept (tier 3 and the ledger's receipts).
    pub fn parsed(&self) -> Option<&Receipt> {
        match &self.body {
            ClaimBody::Parsed(r) => Some(r),
            ClaimBody::Held(_) => None,
        }
    }

    /// The patient as card resolution compares them.
    pub fn card_patient(&self) -> CardPatient<'_> {
        match &self.body {
            ClaimBody::Parsed(r) => CardPatient::of(r),
            ClaimBody::Held(h) => CardPatient {
                key: self.key,
                care_month: h.care_month,
                care_days: h.care_days,
                birth_date: h.billed.birth_date,
                sex: h.sex,
                name: &h.name,
                kana_name: &h.kana_name,
                filed_insurer: match &self.filed {
                    Filed::Card { insurer, .. } | Filed::InsurerOnly { insurer, .. } => {
                        insurer.as_str()
                    }
                    Filed::Unknown | Filed::PublicOnly => "",
                },
            },
        }
    }

    /// What the receipt billed, for its money.
    pub fn billed(&self) -> Billed {
        match &self.body {
            ClaimBody::Parsed(r) => Billed::of(r),
            ClaimBody::Held(h) => h.billed,
        }
    }

    /// Which kind of HO 保険者番号 the receipt was filed with (manifest counts).
    pub fn insurer_field(&self) -> &'static str {
        match &self.filed {
            Filed::Card { .. } | Filed::InsurerOnly { .. } => "known_insurer",
            Filed::Unknown => "filler_insurer",
            Filed::PublicOnly => "no_ho",
        }
    }

    /// Where to read a held receipt again.
    fn at(&self) -> Option<ReceiptAt> {
        match &self.body {
            ClaimBody::Held(h) => Some(ReceiptAt {
                span: h.span.clone(),
                key: self.key,
                line: self.line,
                points: self.points(),
            }),
            ClaimBody::Parsed(_) => None,
        }
    }
}

/// A file's accepted receipts as claims, with the rest of what was read of it.
#[derive(Debug, Clone, Default)]
pub struct ClaimFile {
    /// The file as read; its receipts are in `claims` (`file.receipts` is empty).
    pub file: UkeFile,
    pub claims: Vec<Claim>,
    /// The file on disk, to read held receipts again (`None` for the ledger's).
    pub source: Option<PathBuf>,
}

impl ClaimFile {
    /// Turns a file's receipts into claims; `source` is where the file is on disk (the
    /// receipts keep their spans in it), or `None` when it is not a file (the ledger).
    pub fn new(mut file: UkeFile, source: Option<PathBuf>, config: &IngestConfig) -> ClaimFile {
        let receipts = std::mem::take(&mut file.receipts);
        let mut spans = std::mem::take(&mut file.spans).into_iter();
        let readable = source.is_some() && file.header_span.is_some();
        // Pushed into a vector of their own: collected from `receipts` in place, the
        // claims would keep the parsed receipts' buffer, several times their size (at
        // 5 M receipts, 1.4 GB of the resident set until the end of the run).
        let mut claims = Vec::with_capacity(receipts.len());
        for r in receipts {
            let span = spans.next().filter(|_| readable);
            claims.push(Claim::new(r, file.kind, span, config));
        }
        ClaimFile {
            file,
            claims,
            source,
        }
    }

    /// The parsed receipts of the claims `wanted` picks, in file order: held ones are
    /// read again from the file.
    pub fn receipts(
        &self,
        wanted: impl Fn(&Claim) -> bool,
        config: &IngestConfig,
    ) -> Result<Vec<Receipt>, IngestError> {
        let claims: Vec<&Claim> = self.claims.iter().filter(|c| wanted(c)).collect();
        let held: Vec<ReceiptAt> = claims.iter().filter_map(|c| c.at()).collect();
        let mut again = match (&self.source, &self.file.header_span, held.is_empty()) {
            (_, _, true) => Vec::new(),
            (Some(path), Some(header), false) => {
                reparse_receipts(path, &self.file.path, header, &held, config)?
            }
            _ => {
                return Err(IngestError::invalid(
                    &self.file.path,
                    "a held receipt has no file to be read from",
                ))
            }
        }
        .into_iter();
        claims
            .iter()
            .map(|c| match c.parsed() {
                Some(r) => Ok(r.clone()),
                None => again.next().ok_or_else(|| {
                    IngestError::invalid(&self.file.path, "a receipt was not read again")
                }),
            })
            .collect()
    }
}
