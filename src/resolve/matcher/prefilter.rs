//! A bit per slot in front of a set of 64-bit hashes (a Bloom filter with one hash),
//! for the roster scan: each roster row looks up a dozen keys among the patients', and
//! nearly all are absent. The sets are megabytes (a lookup waits for memory), the
//! filter a sixteenth of a set (a lookup stays in cache), and a key the filter rules
//! out is surely absent: only the few it lets through go on to the set.

/// Bits per key the filter is sized for: about 1 absent key in 16 gets through.
const BITS_PER_KEY: usize = 16;

#[derive(Debug, Clone)]
pub(crate) struct Prefilter {
    words: Vec<u64>,
    /// Bits in the filter, minus one (a power of two).
    mask: u64,
}

impl Prefilter {
    /// A filter letting through every key of `keys` (well-mixed hashes).
    pub fn new(keys: impl ExactSizeIterator<Item = u64>) -> Prefilter {
        let bits = (keys.len() * BITS_PER_KEY).next_power_of_two().max(64);
        let mut filter = Prefilter {
            words: vec![0; bits / 64],
            mask: bits as u64 - 1,
        };
        for key in keys {
            let (word, bit) = filter.place(key);
            filter.words[word] |= bit;
        }
        filter
    }

    /// `false`: `key` is surely not one of the keys; `true`: it may be.
    pub fn may_contain(&self, key: u64) -> bool {
        let (word, bit) = self.place(key);
        self.words[word] & bit != 0
    }

    /// The word and bit of `key`: from its high bits, which the sets' hash tables
    /// (indexed by the low ones) leave independent.
    fn place(&self, key: u64) -> (usize, u64) {
        let slot = key.rotate_left(32) & self.mask;
        ((slot / 64) as usize, 1 << (slot % 64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stable_hash::hash_str;

    #[test]
    fn keys_always_pass_and_most_others_do_not() {
        let keys: Vec<u64> = (0..1000).map(|i| hash_str(1, &i.to_string())).collect();
        let filter = Prefilter::new(keys.iter().copied());
        assert!(keys.iter().all(|&k| filter.may_contain(k)));
        let through = (1000..11_000)
            .filter(|i| filter.may_contain(hash_str(1, &i.to_string())))
            .count();
        assert!(through < 1000, "{through} of 10000 absent keys got through");
        assert!(!Prefilter::new(std::iter::empty()).may_contain(7));
    }
}
