//! reseclear: the batch engine of a review-and-payment organization for claims whose
//! eligibility could not be confirmed online.
//!
//! The pipeline reads top to bottom: [`ingest`] (UKE receipt files, declarations,
//! roster, insurer master) → [`validate`] (quarantine with reasons) → … → [`manifest`].
//! [`run`] strings the stages together; [`tools`] are the commands around a finished
//! run (verify, explain, compare, purge, …); [`generate`] makes synthetic months for tests
//! and benchmarks (the engine itself never reads what only the generator knows).

pub mod apportion;
pub mod config;
pub mod csv_cell;
pub mod domain;
pub mod generate;
pub mod ingest;
pub mod manifest;
pub mod output_dir;
pub mod pause;
pub mod pending;
pub mod progress;
pub mod report;
pub mod resolve;
pub mod run;
pub(crate) mod stable_hash;
pub mod tools;
pub mod validate;
