//! Resolution: find the insurer each tier-2/tier-3 claim belongs to (DOMAIN §8).
//!
//! Being built. When complete it holds the three tiers: tier 1 *verify* (the receipt's
//! numbers name a period valid on the date of care), tier 2 *re-route* (a past period's
//! person, followed to the period valid on the date) and tier 3 *match* (filler numbers:
//! a probabilistic match of the patient against the roster).
//!
//! What is here so far feeds tier 3: [`normalize`] turns names, kana, addresses and
//! phone numbers into matching keys, and [`comments`] reads what a clinic wrote in the
//! receipt's 摘要 comments.

pub mod card_index;
pub mod claim;
pub mod comments;
pub mod copay;
pub mod declared;
pub mod matcher;
pub mod normalize;
pub mod outcome;
pub mod tier3;
pub mod tiers;
pub mod verify;
