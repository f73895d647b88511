//! Validation outcomes. Every problem found in any input becomes a [`QuarantineRow`]
//! with where it was and why; nothing is dropped without one. Field-level checks happen
//! where a field is parsed into a domain type (`ingest`); checks that span records or
//! files (duplicate receipt keys) live here.

mod duplicates;
mod quarantine;

pub use duplicates::quarantine_duplicate_keys;
pub use quarantine::{mask_pii, write_quarantine_csv, QuarantineRow, Scope};
