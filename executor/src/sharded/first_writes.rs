//! The locations a shard wrote, each with the first of its transactions that wrote it: what
//! the other shards' reads are checked against ([`super::shard::check`]) and what the merge
//! of a clean block takes from each shard's state ([`crate::state::Part::absorb`]).
//!
//! The locations are kept by kind, in three tables, rather than in one table of
//! [`Location`]s: a plain transfer writes two accounts, and an account's entry (an address
//! and a transaction index, 24 bytes) is less than half the size of a [`Location`]'s with its
//! index (64 bytes). The table is written at random places twice per transfer; at 2,500
//! transfers per shard it is a fifth of a megabyte instead of a megabyte, and stays in the
//! core's cache beside the shard's state. Measured on `builtin:transfers` with one thread,
//! the single table cost about a quarter of the shard's time.

use crate::fast_hash::FastHash;
use crate::mv_memory::Location;
use alloy_primitives::map::{AddressMap, HashMap};
use alloy_primitives::{Address, U256};

/// A transaction's index in its block, as the tables keep it: blocks hold far fewer than
/// 2^32 transactions (each takes more than a hundred bytes of memory).
type TxIndex = u32;

/// The locations a shard wrote, with the first transaction (block index) that wrote each.
#[derive(Debug, Default)]
pub struct FirstWrites {
    accounts: AddressMap<TxIndex>,
    slots: HashMap<(Address, U256), TxIndex, FastHash>,
    resets: AddressMap<TxIndex>,
}

/// `tx` as the tables keep it (an index past `u32::MAX`, which no block reaches, is kept as
/// the highest one: it then reads as written after every other).
fn tx_index(tx: usize) -> TxIndex {
    TxIndex::try_from(tx).unwrap_or(TxIndex::MAX)
}

impl FirstWrites {
    /// Empty tables with room for `accounts` written accounts and `slots` written slots.
    pub fn with_capacity(accounts: usize, slots: usize) -> Self {
        let mut tables = FirstWrites::default();
        tables.accounts.reserve(accounts);
        tables.slots.reserve(slots);
        tables
    }

    /// Records that transaction `tx` wrote `location`, unless an earlier one of the shard did.
    pub fn record(&mut self, location: Location, tx: usize) {
        let tx = tx_index(tx);
        match location {
            Location::Account(address) => self.accounts.entry(address).or_insert(tx),
            Location::Storage(address, slot) => self.slots.entry((address, slot)).or_insert(tx),
            Location::StorageReset(address) => self.resets.entry(address).or_insert(tx),
        };
    }

    /// The first transaction of the shard that wrote `location`, if one did.
    pub fn first(&self, location: &Location) -> Option<usize> {
        let tx = match location {
            Location::Account(address) => self.accounts.get(address),
            Location::Storage(address, slot) => self.slots.get(&(*address, *slot)),
            Location::StorageReset(address) => self.resets.get(address),
        };
        tx.map(|&tx| tx as usize)
    }

    /// Whether a transaction of the shard wrote the account `address` (its balance, nonce or
    /// code, or its existence).
    pub fn wrote_account(&self, address: &Address) -> bool {
        self.accounts.contains_key(address)
    }

    /// Whether a transaction of the shard wrote the storage slot `slot` of `address`.
    pub fn wrote_slot(&self, address: &Address, slot: &U256) -> bool {
        self.slots.contains_key(&(*address, *slot))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_first_writer_of_each_location_by_kind() {
        let a = Address::repeat_byte(1);
        let b = Address::repeat_byte(2);
        let slot = U256::from(7);
        let mut writes = FirstWrites::with_capacity(4, 4);
        writes.record(Location::Account(a), 5);
        writes.record(Location::Account(a), 2);
        writes.record(Location::Storage(a, slot), 9);
        writes.record(Location::StorageReset(b), 3);
        writes.record(Location::StorageReset(b), 8);
        // The first recorded writer stays: a shard records its transactions in block order.
        assert_eq!(writes.first(&Location::Account(a)), Some(5));
        assert_eq!(writes.first(&Location::Storage(a, slot)), Some(9));
        assert_eq!(writes.first(&Location::StorageReset(b)), Some(3));
        // The kinds do not mix: a write of a's account is not one of b's, nor of a's storage.
        assert_eq!(writes.first(&Location::Account(b)), None);
        assert_eq!(writes.first(&Location::StorageReset(a)), None);
        assert_eq!(writes.first(&Location::Storage(a, U256::from(8))), None);
        assert!(writes.wrote_account(&a) && !writes.wrote_account(&b));
        assert!(writes.wrote_slot(&a, &slot) && !writes.wrote_slot(&b, &slot));
    }
}
