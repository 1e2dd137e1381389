//! The locations a shard wrote, each with the first of its transactions that wrote it: what
//! the other shards' reads are checked against ([`super::shard::check`]). The reads are
//! recorded by the same fingerprint ([`Fingerprint`]), eight bytes each, beside their values
//! only where settling one by one can use them.
//!
//! A location is kept by its 64-bit fingerprint ([`FastHash`] of the [`Location`], its kind
//! included), in one table of 16-byte entries, rather than by the location itself in a table
//! per kind (a slot's entry with its address and index was 64 bytes). A token transfer
//! writes an account and two slots: at 1,000 transfers a shard's table is a sixteenth of a
//! megabyte instead of a third, written at random places while the shard runs and read at
//! random places by the other shard's check. Measured on `builtin:erc20`, side by side in
//! one bench run: `auto:2` 1.74 / 1.64 / 1.60x -> 1.82 / 1.65 / 1.70x, `auto:1` 0.90 / 0.88
//! / 0.86x -> 0.94 / 0.90 / 0.93x (see PERFORMANCE.md).
//!
//! Two locations can share a fingerprint. A location then reads as written by the first of
//! the transactions that wrote either, never later than its own first writer: a read is at
//! worst taken for overwritten when it was not, which makes its shard not clean and costs a
//! re-execution, never a wrong result. The merge of a clean block does not ask this table
//! which shard wrote a location ([`crate::state::Part::absorb`] tells by the values), so no
//! fingerprint decides a value.

use crate::fast_hash::{FastHash, PreHashed};
use crate::mv_memory::Location;
use alloy_primitives::map::HashMap;
use std::hash::BuildHasher;

/// A transaction's index in its block, as the table keeps it: blocks hold far fewer than
/// 2^32 transactions (each takes more than a hundred bytes of memory).
type TxIndex = u32;

/// The locations a shard wrote, by fingerprint, with the first transaction (block index)
/// that wrote each.
#[derive(Debug, Default)]
pub struct FirstWrites {
    first: HashMap<u64, TxIndex, PreHashed>,
}

/// `tx` as the table keeps it (an index past `u32::MAX`, which no block reaches, is kept as
/// the highest one: it then reads as written after every other).
fn tx_index(tx: usize) -> TxIndex {
    TxIndex::try_from(tx).unwrap_or(TxIndex::MAX)
}

/// A location's 64-bit fingerprint ([`FastHash`] of the [`Location`], its kind included):
/// how the table keeps a written location, and how a shard records what it read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Fingerprint(u64);

impl Fingerprint {
    /// The fingerprint of `location`.
    pub fn of(location: &Location) -> Self {
        Fingerprint(FastHash.hash_one(location))
    }
}

impl FirstWrites {
    /// An empty table with room for `locations` written locations.
    pub fn with_capacity(locations: usize) -> Self {
        let mut table = FirstWrites::default();
        table.first.reserve(locations);
        table
    }

    /// Records that transaction `tx` wrote `location`, unless an earlier one of the shard did
    /// (a shard records its transactions in block order).
    pub fn record(&mut self, location: &Location, tx: usize) {
        self.first
            .entry(Fingerprint::of(location).0)
            .or_insert(tx_index(tx));
    }

    /// The first transaction of the shard that wrote `location`, if one did; or, where
    /// another location written by the shard shares its fingerprint, the first writer of
    /// either (see the module's documentation).
    pub fn first(&self, location: &Location) -> Option<usize> {
        self.first_of(Fingerprint::of(location))
    }

    /// [`FirstWrites::first`] of the location whose fingerprint is `fingerprint`.
    pub fn first_of(&self, fingerprint: Fingerprint) -> Option<usize> {
        self.first.get(&fingerprint.0).map(|&tx| tx as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{Address, U256};

    #[test]
    fn keeps_the_first_writer_of_each_location_by_kind() {
        let a = Address::repeat_byte(1);
        let b = Address::repeat_byte(2);
        let slot = U256::from(7);
        let mut writes = FirstWrites::with_capacity(4);
        writes.record(&Location::Account(a), 5);
        writes.record(&Location::Account(a), 2);
        writes.record(&Location::Storage(a, slot), 9);
        writes.record(&Location::StorageReset(b), 3);
        writes.record(&Location::StorageReset(b), 8);
        // The first recorded writer stays: a shard records its transactions in block order.
        assert_eq!(writes.first(&Location::Account(a)), Some(5));
        assert_eq!(writes.first(&Location::Storage(a, slot)), Some(9));
        assert_eq!(writes.first(&Location::StorageReset(b)), Some(3));
        // The kinds do not mix: a write of a's account is not one of b's, nor of a's storage.
        assert_eq!(writes.first(&Location::Account(b)), None);
        assert_eq!(writes.first(&Location::StorageReset(a)), None);
        assert_eq!(writes.first(&Location::Storage(a, U256::from(8))), None);
        assert_eq!(writes.first(&Location::Storage(b, slot)), None);
    }
}
