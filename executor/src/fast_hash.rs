//! Fast hashing for the executor's own tables: its keys (addresses, slots, locations) are
//! already well mixed, and a table lives for one block, so SipHash's protection against
//! chosen keys buys nothing.

use std::hash::{BuildHasher, Hasher};

/// Multiply-rotate hashing of 8-byte words, with a final avalanche.
#[derive(Clone, Copy, Debug, Default)]
pub struct FastHash;

impl BuildHasher for FastHash {
    type Hasher = FastHasher;
    fn build_hasher(&self) -> FastHasher {
        FastHasher(0)
    }
}

/// [`FastHash`]'s hasher.
#[derive(Debug)]
pub struct FastHasher(u64);

impl FastHasher {
    /// A hasher that continues from `state` (a hash already finished, to which more is
    /// added).
    pub fn from_state(state: u64) -> Self {
        FastHasher(state)
    }

    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        // Whole words read in place (copying each into a buffer of variable length was a
        // call of `memcpy` per word: a token transfer's call data, hashed by the
        // prediction, made nine); the rest padded with zeros.
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            let mut whole = [0u8; 8];
            whole.copy_from_slice(word);
            self.add(u64::from_le_bytes(whole));
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            let word = rest
                .iter()
                .rev()
                .fold(0u64, |word, byte| (word << 8) | u64::from(*byte));
            self.add(word);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    fn finish(&self) -> u64 {
        // A final avalanche (murmur3's fmix64), so that every output bit depends on every
        // input bit: the shard index and hashbrown's bucket index and tag use different bits.
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
}

/// For tables keyed by hashes already computed (a [`FastHash`] output): the key is its own
/// hash.
#[derive(Clone, Copy, Debug, Default)]
pub struct PreHashed;

impl BuildHasher for PreHashed {
    type Hasher = PreHashedHasher;
    fn build_hasher(&self) -> PreHashedHasher {
        PreHashedHasher(0)
    }
}

/// [`PreHashed`]'s hasher: returns the `u64` it was given.
#[derive(Debug)]
pub struct PreHashedHasher(u64);

impl Hasher for PreHashedHasher {
    fn write(&mut self, bytes: &[u8]) {
        // Only `u64` keys are meant; anything else is still hashed, just not as fast.
        let mut hasher = FastHasher(self.0);
        hasher.write(bytes);
        self.0 = hasher.finish();
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pre_hashed_keys_are_their_own_hash_and_fast_hashes_spread() {
        assert_eq!(PreHashed.hash_one(0xdead_beef_u64), 0xdead_beef);
        // Addresses one bit apart hash far apart in the top and bottom bits alike.
        let a = FastHash.hash_one([0u8; 20]);
        let b = FastHash.hash_one([1u8; 20]);
        assert_ne!(a >> 57, b >> 57);
        assert_ne!(a & 0xffff, b & 0xffff);
        // Bytes hash as zero-padded little-endian words, whole or not.
        let mut bytes = FastHasher(7);
        bytes.write(&[1, 0, 0, 0, 0, 0, 0, 0, 2, 3]);
        let mut words = FastHasher(7);
        words.write_u64(1);
        words.write_u64(0x0302);
        assert_eq!(bytes.finish(), words.finish());
        // Continuing from a state is not the same as starting afresh.
        let mut continued = FastHasher::from_state(a);
        continued.write(&[]);
        assert_ne!(continued.finish(), a);
    }
}
