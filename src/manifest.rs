//! The run manifest: what went in (every input with its size and sha256), the
//! configuration used, what was read and quarantined, and the conservation accounts
//! that prove nothing was lost. It holds no timestamps or timings, so the same inputs
//! and configuration give a byte-identical manifest.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::domain::{Points, Yen};

/// Version of the manifest's layout; bumped when a field changes meaning.
pub const MANIFEST_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    pub manifest_version: u32,
    pub engine: Engine,
    pub config: Config,
    pub inputs: Vec<InputFile>,
    pub uke: UkeCounts,
    pub declarations: Option<TableCounts>,
    pub roster: TableCounts,
    pub insurers: TableCounts,
    pub quarantine: QuarantineCounts,
    pub matching: MatchingCounts,
    pub conservation: Conservation,
}

/// How tier-3 matching went: blocking rules with their candidate counts (as Splink
/// reports them), the pairs compared, the training of the model, the decisions.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MatchingCounts {
    pub patients: u64,
    pub blocking: Vec<crate::resolve::matcher::BlockingCount>,
    pub candidate_pairs: u64,
    pub em_iterations: u32,
    pub em_converged: bool,
    /// Decisions by kind (`matched`, `review`, `no_match`).
    pub decisions: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Engine {
    pub name: &'static str,
    pub version: &'static str,
}

impl Default for Engine {
    fn default() -> Self {
        Engine {
            name: env!("CARGO_PKG_NAME"),
            version: env!("CARGO_PKG_VERSION"),
        }
    }
}

/// One input file.
#[derive(Debug, Clone, Serialize)]
pub struct InputFile {
    /// Path relative to the input directory.
    pub path: String,
    /// `uke`, `declarations`, `roster` or `insurers`.
    pub kind: &'static str,
    pub bytes: u64,
    pub sha256: String,
    /// For CSV inputs: the encoding read, and whether it was detected (`auto`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoding: Option<String>,
}

/// What the UKE files held.
#[derive(Debug, Clone, Default, Serialize)]
pub struct UkeCounts {
    pub files: u64,
    /// Files whose receipts were all quarantined as a unit.
    pub files_quarantined: u64,
    pub lines: u64,
    /// Records read, by record id.
    pub records: BTreeMap<String, u64>,
    /// Receipts (RE records) read.
    pub receipts_read: u64,
    pub receipts_accepted: u64,
    pub receipts_quarantined: u64,
    /// Receipts by tier as filed (1 current numbers, 2/3 decided in resolution; here
    /// only whether HO carries a filler): `known_insurer`, `filler_insurer`, `no_ho`.
    pub accepted_by_insurer_field: BTreeMap<String, u64>,
}

/// A CSV or Parquet input.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TableCounts {
    pub rows_read: u64,
    pub rows_accepted: u64,
    pub rows_quarantined: u64,
    /// Rows kept with a field set aside.
    pub field_problems: u64,
    /// Further counts particular to the input (e.g. `overlapping_persons`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub other: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct QuarantineCounts {
    pub rows: u64,
    /// Rows by scope (`file`, `receipt`, `record`, `row`, `field`, `notice`).
    pub by_scope: BTreeMap<String, u64>,
}

/// The accounts: every receipt and every yen read is somewhere.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Conservation {
    pub receipts: ReceiptAccount,
    pub yen: YenAccount,
    pub balanced: bool,
}

/// receipts_in = accepted + quarantined = the sum over statuses.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ReceiptAccount {
    pub receipts_in: u64,
    pub accepted: u64,
    pub quarantined: u64,
    /// Receipts by resolution status (`quarantined` included).
    pub by_status: BTreeMap<String, u64>,
}

/// Medical cost (合計点数 × 10) of the receipts read: yen_in = accepted + quarantined.
/// Receipts whose points could not be read have no yen; they are counted apart.
#[derive(Debug, Clone, Default, Serialize)]
pub struct YenAccount {
    pub points_in: Points,
    pub yen_in: Yen,
    pub accepted: Yen,
    pub quarantined: Yen,
    pub quarantined_receipts_without_points: u64,
    /// Yen by resolution status (`quarantined` included).
    pub by_status: BTreeMap<String, Yen>,
}

impl Conservation {
    /// Fills in `balanced` from the accounts.
    pub fn check(mut self) -> Self {
        self.balanced = self.receipts.receipts_in
            == self.receipts.accepted + self.receipts.quarantined
            && self.receipts.receipts_in == self.receipts.by_status.values().sum::<u64>()
            && self.yen.yen_in == self.yen.accepted + self.yen.quarantined
            && self.yen.yen_in == self.yen.by_status.values().copied().sum::<Yen>()
            && self.yen.points_in.to_yen() == self.yen.yen_in;
        self
    }
}

/// sha256 of a file, streamed (rosters are large).
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// sha256 of bytes already in memory.
pub fn sha256_bytes(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_known_text() {
        assert_eq!(
            sha256_bytes(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn conservation_detects_a_lost_receipt() {
        let ok = Conservation {
            receipts: ReceiptAccount {
                receipts_in: 3,
                accepted: 2,
                quarantined: 1,
                by_status: BTreeMap::from([("verified".into(), 2), ("quarantined".into(), 1)]),
            },
            yen: YenAccount {
                points_in: Points(30),
                yen_in: Yen(300),
                accepted: Yen(200),
                quarantined: Yen(100),
                quarantined_receipts_without_points: 0,
                by_status: BTreeMap::from([
                    ("verified".into(), Yen(200)),
                    ("quarantined".into(), Yen(100)),
                ]),
            },
            balanced: false,
        }
        .check();
        assert!(ok.balanced);
        let mut lost = ok.clone();
        lost.receipts.accepted = 1;
        assert!(!lost.check().balanced);
        let mut misfiled = ok.clone();
        misfiled.yen.by_status.insert("verified".into(), Yen(190));
        assert!(!misfiled.check().balanced);
    }
}
