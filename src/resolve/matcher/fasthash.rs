//! Hashers for the matcher's internal maps. The standard SipHash (randomly keyed) is
//! built against hostile keys; these maps hold the engine's own values, and hashing
//! dominates their cost. Neither hasher is random, so nothing here varies between runs
//! (and no output depends on map iteration order anyway).

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// FxHash (as in rustc): a multiply-rotate over 8-byte words. For strings.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct FxHasher(u64);

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

/// For keys that already are well-mixed 64-bit hashes: passes them through.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        // Not used with u64 keys; fold anything else in.
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(SEED);
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.0 ^= u64::from(i).wrapping_mul(SEED);
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.0 ^= i;
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

pub(crate) type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;
pub(crate) type IdMap<K, V> = HashMap<K, V, BuildHasherDefault<IdHasher>>;
pub(crate) type IdSet<K> = HashSet<K, BuildHasherDefault<IdHasher>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_work_with_these_hashers() {
        let mut m: FxMap<&str, u32> = FxMap::default();
        m.insert("佐藤", 1);
        m.insert("佐藤太郎", 2);
        assert_eq!(m.get("佐藤"), Some(&1));
        assert_eq!(m.get("佐藤太"), None);
        let mut s: IdSet<u64> = IdSet::default();
        s.insert(0xdead_beef);
        assert!(s.contains(&0xdead_beef));
        let mut pairs: IdMap<(u8, u64), u32> = IdMap::default();
        pairs.insert((1, 7), 3);
        assert_eq!(pairs.get(&(1, 7)), Some(&3));
        assert_eq!(pairs.get(&(2, 7)), None);
    }
}
