//! `reseclear compare A B`: how two apportionments of the same month differ, insurer by
//! insurer, in yen — for analysts weighing one basis or scope against another.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::domain::{InsurerNumber, Yen};
use crate::ingest::IngestError;
use crate::report::{read_apportionment_totals, ApportionmentTotals, InsurerParts};
use crate::run::APPORTIONMENT_FILE;

/// Two apportionments side by side.
#[derive(Debug, Clone)]
pub struct Comparison {
    pub a: (PathBuf, ApportionmentTotals),
    pub b: (PathBuf, ApportionmentTotals),
    /// Every insurer in either, in insurer-number order: (insurer, A, B).
    pub insurers: Vec<(InsurerNumber, InsurerParts, InsurerParts)>,
}

impl Comparison {
    /// Insurers whose yen differ.
    pub fn differing(&self) -> impl Iterator<Item = &(InsurerNumber, InsurerParts, InsurerParts)> {
        self.insurers.iter().filter(|(_, a, b)| a.yen != b.yen)
    }

    /// Yen that moved from one insurer to another (half the sum of |B − A|).
    pub fn yen_moved(&self) -> Yen {
        Yen(self
            .insurers
            .iter()
            .map(|(_, a, b)| (b.yen.0 - a.yen.0).abs())
            .sum::<i64>()
            / 2)
    }
}

/// `path` is a run (or `apportion` output) directory, or the Parquet file itself.
fn apportionment_file(path: &Path) -> PathBuf {
    if path.is_dir() {
        path.join(APPORTIONMENT_FILE)
    } else {
        path.to_path_buf()
    }
}

pub fn compare(a: &Path, b: &Path) -> Result<Comparison, IngestError> {
    let (pa, pb) = (apportionment_file(a), apportionment_file(b));
    let ta = read_apportionment_totals(&pa)?;
    let tb = read_apportionment_totals(&pb)?;
    let mut insurers: Vec<InsurerNumber> = ta
        .by_insurer
        .keys()
        .chain(tb.by_insurer.keys())
        .copied()
        .collect();
    insurers.sort_unstable();
    insurers.dedup();
    let insurers = insurers
        .into_iter()
        .map(|n| {
            let get = |t: &ApportionmentTotals| t.by_insurer.get(&n).copied().unwrap_or_default();
            (n, get(&ta), get(&tb))
        })
        .collect();
    Ok(Comparison {
        a: (pa, ta),
        b: (pb, tb),
        insurers,
    })
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (pa, ta) = &self.a;
        let (pb, tb) = &self.b;
        writeln!(
            f,
            "A  {}: {} receipts, {} yen",
            pa.display(),
            ta.receipts,
            ta.claims_yen
        )?;
        writeln!(
            f,
            "B  {}: {} receipts, {} yen",
            pb.display(),
            tb.receipts,
            tb.claims_yen
        )?;
        if ta.receipts != tb.receipts || ta.claims_yen != tb.claims_yen {
            writeln!(
                f,
                "note: A and B apportion different receipts or amounts; the differences below include that"
            )?;
        }
        let differing: Vec<_> = self.differing().collect();
        if differing.is_empty() {
            return writeln!(
                f,
                "no insurer's apportioned yen differ ({} insurers)",
                self.insurers.len()
            );
        }
        writeln!(
            f,
            "{:<10} {:>14} {:>14} {:>14}",
            "insurer", "A yen", "B yen", "B - A"
        )?;
        for (n, a, b) in &differing {
            writeln!(
                f,
                "{:<10} {:>14} {:>14} {:>+14}",
                n.as_str(),
                a.yen.0,
                b.yen.0,
                b.yen.0 - a.yen.0
            )?;
        }
        writeln!(
            f,
            "{} of {} insurers differ; {} yen moved between insurers",
            differing.len(),
            self.insurers.len(),
            self.yen_moved()
        )
    }
}
