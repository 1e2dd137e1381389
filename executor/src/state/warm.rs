//! Warming a core's cache with the state before a block, before a worker on that core runs
//! its part of the block.
//!
//! A worker's transactions read accounts and slots of the state before the block that its
//! core has not read yet: each is a miss to the shared cache or to memory, one at a time, on
//! the transaction's path. The state lockstep holds is the block's own (what its transactions
//! may read, as a witness holds it), so a walk over all of it fetches what the worker will
//! read, line after line in the order the tables lie in memory, with prefetch hints that
//! nothing waits for: many misses at once instead of one after another.

use super::{PreState, StateAccount};
use crate::prefetch;
use alloy_primitives::map::AddressMap;
use alloy_primitives::{Address, U256};

/// The most memory of the state before a block that a worker warms: past about twice its
/// core's own cache (2 MiB of L2 on this project's machine), the walk's last lines would push
/// its first ones out before they are read.
pub const MAX_WARM_BYTES: usize = 4 << 20;

/// The most memory of the state per transaction of the block that a worker warms. The walk
/// takes about 40 µs per MiB (measured: 0.04 ms for `builtin:erc20`'s 1 MiB, 0.10 ms for
/// `builtin:transfers`' 2 MiB), so at this bound it costs about 0.16 µs per transaction, a
/// sixth of a plain transfer's run in a shard (0.9 µs at two threads): a small block over a
/// large state is not worth a walk over all of it.
pub const MAX_WARM_BYTES_PER_TX: usize = 4 << 10;

/// About how much memory `accounts` and their slots take in their tables.
pub(super) fn bytes(accounts: &AddressMap<StateAccount>) -> usize {
    let slots: usize = accounts.values().map(|account| account.storage.len()).sum();
    accounts.len() * std::mem::size_of::<(Address, StateAccount)>()
        + slots * std::mem::size_of::<(U256, U256)>()
}

impl PreState {
    /// Whether [`PreState::warm`] is worth a worker's while before a block of `transactions`:
    /// the state fits [`MAX_WARM_BYTES`] and [`MAX_WARM_BYTES_PER_TX`].
    pub fn warmable(&self, transactions: usize) -> bool {
        self.bytes <= MAX_WARM_BYTES.min(MAX_WARM_BYTES_PER_TX.saturating_mul(transactions))
    }

    /// Asks this core to fetch every account and slot of the state into its cache. Changes
    /// nothing, and reads nothing that a result depends on.
    pub fn warm(&self) {
        for (address, account) in &self.accounts {
            prefetch::hint(address);
            prefetch::hint_all(account);
            for (slot, value) in account.storage.iter() {
                prefetch::hint(slot);
                prefetch::hint(value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lockstep_spec::types::{Account, BlockEnv, WorldState};

    fn state_of(accounts: usize) -> PreState {
        let mut world = WorldState::default();
        for n in 0..accounts {
            world
                .accounts
                .insert(Address::with_last_byte(n as u8), Account::default());
        }
        PreState::new(&world, &BlockEnv::default())
    }

    #[test]
    fn the_size_counts_accounts_and_nonzero_slots() {
        let mut world = WorldState::default();
        assert_eq!(PreState::new(&world, &BlockEnv::default()).bytes, 0);
        let mut account = Account::default();
        account.storage.insert(U256::from(1), U256::from(2));
        // A zero slot is not kept, so it takes no room.
        account.storage.insert(U256::from(3), U256::ZERO);
        world.accounts.insert(Address::repeat_byte(1), account);
        world
            .accounts
            .insert(Address::repeat_byte(2), Account::default());
        let pre = PreState::new(&world, &BlockEnv::default());
        let account_bytes = std::mem::size_of::<(Address, StateAccount)>();
        let slot_bytes = std::mem::size_of::<(U256, U256)>();
        assert_eq!(pre.bytes, 2 * account_bytes + slot_bytes);
        // Warming reads nothing a result depends on: the state is as it was.
        pre.warm();
        let slot = pre
            .account(&Address::repeat_byte(1))
            .and_then(|account| account.storage.get(&U256::from(1)).copied());
        assert_eq!(slot, Some(U256::from(2)));
    }

    #[test]
    fn a_state_is_warmed_only_for_a_block_large_enough_beside_it() {
        let account_bytes = std::mem::size_of::<(Address, StateAccount)>();
        // Just over one transaction's share.
        let pre = state_of(MAX_WARM_BYTES_PER_TX / account_bytes + 1);
        assert!(pre.bytes > MAX_WARM_BYTES_PER_TX);
        assert!(!pre.warmable(0) && !pre.warmable(1));
        assert!(pre.warmable(2));
        // An empty state is always warmable, and warming it does nothing.
        let empty = state_of(0);
        assert!(empty.warmable(0));
        empty.warm();
    }
}
