//! Assigns transactions to shards: transactions predicted to write a common account are
//! joined into one group (union-find), and the groups are dealt to the shards, largest
//! first, each to the shard with the least gas so far. Inside a shard, block order is kept.

use crate::fast_hash::PreHashed;
use std::collections::hash_map::Entry;
use std::collections::HashMap;

/// Groups of transactions dealt to shards.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Partition {
    /// Per shard, its transactions' indexes in block order.
    pub shards: Vec<Vec<usize>>,
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
/// [`crate::contention::account_key`]) and `gas[i]` its weight.
pub fn partition(accounts: &[impl AsRef<[u64]>], gas: &[u64], shards: usize) -> Partition {
    let size = accounts.len().min(gas.len());
    let shards = shards.max(1);
    let mut groups = Groups::new(size);
    let mut first_writer: HashMap<u64, usize, PreHashed> =
        HashMap::with_capacity_and_hasher(2 * size, PreHashed);
    for (tx, written) in accounts.iter().enumerate().take(size) {
        for address in written.as_ref() {
            // One probe of the table per account (a lookup and then an insertion were two).
            match first_writer.entry(*address) {
                Entry::Occupied(first) => groups.join(tx, *first.get()),
                Entry::Vacant(slot) => {
                    slot.insert(tx);
                }
            }
        }
    }
    // Each group's gas, by its root.
    let roots: Vec<usize> = (0..size).map(|tx| groups.root(tx)).collect();
    let mut group_gas = vec![0u64; size];
    for (root, gas) in roots.iter().zip(gas) {
        group_gas[*root] += gas;
    }
    let mut order: Vec<usize> = (0..size).filter(|&tx| roots[tx] == tx).collect();
    // Largest first; ties by block order, for determinism.
    order.sort_unstable_by_key(|&root| (std::cmp::Reverse(group_gas[root]), root));
    let mut load = vec![0u64; shards];
    let mut shard_of = vec![0usize; size];
    for &root in &order {
        let lightest = (0..shards).min_by_key(|&s| (load[s], s)).unwrap_or(0);
        load[lightest] += group_gas[root];
        shard_of[root] = lightest;
    }
    // Dealt in block order, so each shard's list is in block order too.
    let mut out = vec![Vec::with_capacity(size / shards + 1); shards];
    for (tx, root) in roots.iter().enumerate() {
        out[shard_of[*root]].push(tx);
    }
    out.retain(|shard| !shard.is_empty());
    Partition {
        shards: out,
        largest_group_gas: order.first().map_or(0, |&root| group_gas[root]),
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
        let p = partition(&accounts, &[10, 10, 10, 10], 2);
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
        let p = partition(&accounts, &[50, 10, 10, 10, 10, 10], 2);
        let loads: Vec<u64> = p
            .shards
            .iter()
            .map(|s| s.iter().map(|&tx| [50, 10, 10, 10, 10, 10][tx]).sum())
            .collect();
        assert_eq!(loads.iter().sum::<u64>(), 100);
        assert!(loads.iter().all(|&l| l == 50), "unbalanced: {loads:?}");
    }

    #[test]
    fn one_shard_holds_everything_in_order() {
        let accounts: Vec<Vec<u64>> = (0..5).map(|n| vec![a(n)]).collect();
        let p = partition(&accounts, &[1; 5], 1);
        assert_eq!(p.shards, vec![vec![0, 1, 2, 3, 4]]);
    }
}
