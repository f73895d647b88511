//! The commands around a run, each reading a finished run's files (or two): they sit
//! above the pipeline and no stage imports them.
//!
//! - [`compare`]: two runs' months side by side;
//! - [`evaluate`]: a run against a generated month's truth;
//! - [`explain`]: why one receipt went where it went;
//! - [`purge`]: the retention purge of a run's personal data;
//! - [`reapportion`]: apportionment again under another configuration;
//! - [`verify`]: the accounts recomputed from a run's files.

pub mod compare;
pub mod evaluate;
pub mod explain;
pub mod purge;
pub mod reapportion;
pub mod verify;
