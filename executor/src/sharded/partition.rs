//! Assigns transactions to shards: transactions predicted to write a common account are
//! joined into one group (union-find), and the groups are dealt to the shards, largest
//! first, each to the shard with the least gas so far. Inside a shard, block order is kept.
//! Asked to, it leaves the groups of one transaction in a pool instead, for the shards to
//! claim while they run ([`super::pool`]).

use crate::fast_hash::PreHashed;
use std::cell::RefCell;
use std::collections::hash_map::Entry;
use std::collections::HashMap;

thread_local! {
    /// Each thread's table of first writers, kept from block to block: its 2 accounts per
    /// transaction need a table of a few hundred kilobytes, which fresh from the allocator
    /// is new memory for the kernel to zero, block after block.
    static FIRST_WRITER: RefCell<HashMap<u64, usize, PreHashed>> =
        const { RefCell::new(HashMap::with_hasher(PreHashed)) };
}

/// Groups of transactions dealt to shards.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Partition {
    /// Per shard, its transactions' indexes in block order.
    pub shards: Vec<Vec<usize>>,
    /// The transactions left for the shards to claim as they run (groups of one), in block
    /// order; empty unless asked for.
    pub pool: Vec<usize>,
    /// The gas of the largest group.
    pub largest_group_gas: u64,
}

/// Union-find over transaction indexes.
struct Groups {
    parent: Vec<usize>,
}

impl Groups {
    fn new(size: usize) -> Self {
        Groups {
            parent: (0..size).collect(),
        }
    }

    fn root(&mut self, mut tx: usize) -> usize {
        while self.parent[tx] != tx {
            // Path halving keeps the trees flat.
            self.parent[tx] = self.parent[self.parent[tx]];
            tx = self.parent[tx];
        }
        tx
    }

    fn join(&mut self, a: usize, b: usize) {
        let (a, b) = (self.root(a), self.root(b));
        // The lower index becomes the root, so that roots are deterministic.
        if a < b {
            self.parent[b] = a;
        } else {
            self.parent[a] = b;
        }
    }
}

/// Partitions `accounts.len()` transactions into `shards` shards; `accounts[i]` are the keys
/// of the accounts transaction `i` is predicted to write (see
/// [`crate::contention::account_key`]) and `gas[i]` its weight. With `pooled`, in a block
/// whose groups of one transaction are at least [`super::pool::MIN_POOLED_SHARE`] of it,
/// those go to the pool rather than to a shard, and every shard is kept, empty or not.
pub fn partition(
    accounts: &[impl AsRef<[u64]>],
    gas: &[u64],
    shards: usize,
    pooled: bool,
) -> Partition {
    let size = accounts.len().min(gas.len());
    let shards = shards.max(1);
    let mut groups = Groups::new(size);
    FIRST_WRITER.with_borrow_mut(|first_writer| {
        first_writer.clear();
        first_writer.reserve(2 * size);
        for (tx, written) in accounts.iter().enumerate().take(size) {
            for address in written.as_ref() {
                // One probe of the table per account (a lookup and then an insertion were
                // two).
                match first_writer.entry(*address) {
                    Entry::Occupied(first) => groups.join(tx, *first.get()),
                    Entry::Vacant(slot) => {
                        slot.insert(tx);
                    }
                }
            }
        }
        // A block far larger than usual leaves no table of its size behind.
        if first_writer.capacity() > 1 << 20 {
            *first_writer = HashMap::with_hasher(PreHashed);
        }
    });
    // Each group's gas, by its root.
    let roots: Vec<usize> = (0..size).map(|tx| groups.root(tx)).collect();
    let mut group_gas = vec![0u64; size];
    // Members per group (saturating at two: only groups of one are told apart).
    let mut members = vec![0u8; size];
    for (root, gas) in roots.iter().zip(gas) {
        group_gas[*root] += gas;
        if let Some(count) = members.get_mut(*root) {
            *count = count.saturating_add(1).min(2);
        }
    }
    let alone_count = members.iter().filter(|&&count| count == 1).count();
    let pooled =
        pooled && size > 0 && alone_count as f64 >= super::pool::MIN_POOLED_SHARE * size as f64;
    // A group of one that goes to the pool (none when the block is not pooled).
    let alone = |root: usize| pooled && members.get(root) == Some(&1);
    // Largest first; ties by block order, for determinism. The keys are sorted with the
    // roots, not looked up per comparison.
    let largest_group_gas = (0..size)
        .filter(|&tx| roots[tx] == tx)
        .map(|root| group_gas[root])
        .max()
        .unwrap_or(0);
    // Only the groups dealt are sorted: pooled, a block of independent transactions sorts
    // none.
    let mut order: Vec<(std::cmp::Reverse<u64>, usize)> = (0..size)
        .filter(|&tx| roots[tx] == tx && !alone(tx))
        .map(|root| (std::cmp::Reverse(group_gas[root]), root))
        .collect();
    order.sort_unstable();
    let mut load = vec![0u64; shards];
    let mut shard_of = vec![0usize; size];
    for &(_, root) in &order {
        let lightest = (0..shards).min_by_key(|&s| (load[s], s)).unwrap_or(0);
        load[lightest] += group_gas[root];
        shard_of[root] = lightest;
    }
    // Dealt in block order, so each shard's list is in block order too.
    let dealt = if pooled { size - alone_count } else { size };
    let mut out = vec![Vec::with_capacity(dealt / shards + 1); shards];
    let mut pool = Vec::with_capacity(size - dealt);
    for (tx, &root) in roots.iter().enumerate() {
        if alone(root) {
            pool.push(tx);
        } else {
            out[shard_of[root]].push(tx);
        }
    }
    if !pooled {
        out.retain(|shard| !shard.is_empty());
    }
    Partition {
        shards: out,
        pool,
        largest_group_gas,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(n: u8) -> u64 {
        u64::from(n)
    }

    #[test]
    fn transactions_sharing_an_account_share_a_shard_in_block_order() {
        // 0 and 2 share account 1; 2 and 3 share account 3; 1 is alone.
        let accounts = vec![vec![a(1)], vec![a(2)], vec![a(1), a(3)], vec![a(3)]];
        let p = partition(&accounts, &[10, 10, 10, 10], 2, false);
        assert_eq!(p.shards.len(), 2);
        let with_zero = p
            .shards
            .iter()
            .find(|s| s.contains(&0))
            .cloned()
            .unwrap_or_default();
        assert_eq!(with_zero, vec![0, 2, 3]);
        assert!(p.shards.iter().any(|s| s == &vec![1]));
        assert_eq!(p.largest_group_gas, 30);
    }

    #[test]
    fn independent_transactions_are_balanced_by_gas() {
        let accounts: Vec<Vec<u64>> = (0..6).map(|n| vec![a(n)]).collect();
        let p = partition(&accounts, &[50, 10, 10, 10, 10, 10], 2, false);
        let loads: Vec<u64> = p
            .shards
            .iter()
            .map(|s| s.iter().map(|&tx| [50, 10, 10, 10, 10, 10][tx]).sum())
            .collect();
        assert_eq!(loads.iter().sum::<u64>(), 100);
        assert!(loads.iter().all(|&l| l == 50), "unbalanced: {loads:?}");
    }

    #[test]
    fn small_groups_fill_in_beside_a_large_one_in_block_order() {
        // Transactions 0 and 1 share account 100 (a group of gas 10); 2..22 are alone, gas 1
        // each, dealt after it.
        let mut accounts: Vec<Vec<u64>> = vec![vec![100], vec![100]];
        accounts.extend((2..22).map(|n| vec![n]));
        let mut gas = vec![5, 5];
        gas.extend([1; 20]);
        let p = partition(&accounts, &gas, 2, false);
        let loads: Vec<u64> = p
            .shards
            .iter()
            .map(|s| s.iter().map(|&tx| gas[tx]).sum())
            .collect();
        assert_eq!(loads, vec![15, 15]);
        assert_eq!(p.shards[0][..2], [0, 1]);
        assert!(p.shards.iter().all(|s| s.windows(2).all(|w| w[0] < w[1])));
        assert_eq!(p.largest_group_gas, 10);
    }

    #[test]
    fn pooled_groups_of_one_wait_in_the_pool_and_every_shard_is_kept() {
        // 0 and 2 share account 1; the 18 others are alone (90% of the block).
        let mut accounts = vec![vec![a(1)], vec![a(2)], vec![a(1)]];
        accounts.extend((3..20).map(|n| vec![a(n)]));
        let p = partition(&accounts, &[10; 20], 3, true);
        let alone: Vec<usize> = (0..20).filter(|&tx| tx != 0 && tx != 2).collect();
        assert_eq!(p.pool, alone);
        assert_eq!(p.shards.len(), 3);
        assert_eq!(p.shards.iter().filter(|s| !s.is_empty()).count(), 1);
        assert!(p.shards.iter().any(|s| s == &vec![0, 2]));
        assert_eq!(p.largest_group_gas, 20);
        // Not pooled, the same block leaves nothing in the pool.
        let p = partition(&accounts, &[10; 20], 3, false);
        assert!(p.pool.is_empty());
        assert_eq!(p.shards.iter().map(Vec::len).sum::<usize>(), 20);
        // Pooled, a block with fewer alone is dealt as it would be unpooled.
        let few = &accounts[..5];
        assert_eq!(
            partition(few, &[10; 5], 3, true),
            partition(few, &[10; 5], 3, false)
        );
    }

    #[test]
    fn one_shard_holds_everything_in_order() {
        let accounts: Vec<Vec<u64>> = (0..5).map(|n| vec![a(n)]).collect();
        let p = partition(&accounts, &[1; 5], 1, false);
        assert_eq!(p.shards, vec![vec![0, 1, 2, 3, 4]]);
    }
}
