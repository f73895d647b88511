//! Resolution: find the insurer each claim belongs to (DOMAIN §8), in three tiers:
//! tier 1 *verify* (the receipt's card is valid on its days of care) and tier 2
//! *re-route* (a past card's person, followed to the period valid on those days), both
//! in [`card_resolution`] over the [`card_index`]; tier 3 *match* (numbers unknown: the
//! patient's declaration — RE, the 摘要 [`comments`], the digitized form — matched
//! against the roster by [`matcher`], on keys [`normalize`] makes), in [`tier3`].
//! [`tiers`] runs them over a month; [`copay`] prices each receipt.

pub mod card_index;
pub mod card_resolution;
pub mod claim;
pub mod comments;
pub mod copay;
pub mod declared;
pub mod matcher;
pub mod normalize;
pub mod outcome;
pub mod tier3;
pub mod tiers;
