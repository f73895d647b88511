//! (being written)
pub fn quarantine_duplicate_keys() {}
