//! The state after a parallel run, built from the final incarnations' write sets instead of
//! from each transaction's revm changes. Once every transaction is executed and validated,
//! each write set is exactly what [`BlockState::commit`] would have applied for its
//! transaction ([`crate::vm`]'s write set follows the commit's rules: EIP-161 deletions and
//! destructions are account deletions plus a storage reset, creations a storage reset; the
//! beneficiary gets its full value or a fee to credit). So applying the write sets in block
//! order gives the sequential state: a reset wipes the slots lower transactions wrote, a later
//! write of an account or slot replaces an earlier one, and the beneficiary's fees are
//! credited in order after the last full value written.
//!
//! Accounts merely touched and left as they were read are not in the write sets; committing
//! them would have rewritten the same values.
//!
//! Every write concerns one account, and block order matters only per account, so the work
//! splits by the state's parts: each worker that ran the block owns some parts and applies,
//! in block order, the writes that fall in them ([`apply_in_order`]); [`crate::finish`]
//! sorts the writes by owner first, each worker a range of transactions. The parts are
//! shared out by the writes the run counted in each ([`share_parts`]): one busy account (a
//! token's storage) fills its part, and the worker given it gets nothing else.

use crate::mv_memory::{Location, Value};
use crate::state::{self, BlockState, Part, PreState, PARTS};
use alloy_primitives::map::AddressMap;
use alloy_primitives::{Address, U256};
use lockstep_spec::Fork;

/// One write of the block.
pub type Write = (Location, Value);

/// The state's parts dealt out to the workers applying the writes: worker `owner[p]` holds
/// part `p`, at `at[p]` among its parts.
#[derive(Debug)]
pub struct Deal {
    /// The worker of each part.
    pub owner: [usize; PARTS],
    /// Where each part is among its worker's parts.
    pub at: [usize; PARTS],
}

impl Deal {
    /// Deals the parts of `state` to `workers` workers by [`share_parts`] of the run's
    /// `writes_per_part`, leaving `state` empty: each worker's parts, in order of their index.
    pub fn out(
        state: &mut BlockState<'_>,
        writes_per_part: &[u64; PARTS],
        workers: usize,
    ) -> (Deal, Vec<Vec<Part>>) {
        let pre = state.pre();
        let owner = share_parts(writes_per_part, workers);
        let mut at = [0usize; PARTS];
        let mut owned: Vec<Vec<Part>> = (0..workers.max(1)).map(|_| Vec::new()).collect();
        let parts = std::mem::replace(state, BlockState::new(pre)).into_parts();
        for (index, part) in parts.into_iter().enumerate() {
            let mine = &mut owned[owner[index]];
            at[index] = mine.len();
            mine.push(part);
        }
        (Deal { owner, at }, owned)
    }

    /// The worker owning the part of `location`'s account.
    pub fn owner_of(&self, location: &Location) -> usize {
        self.owner[state::part_of(&location.address())]
    }

    /// Puts the workers' parts (as [`Deal::out`] gave them) back into `state`.
    pub fn gather(&self, state: &mut BlockState<'_>, owned: Vec<Vec<Part>>) {
        let mut owned: Vec<std::vec::IntoIter<Part>> =
            owned.into_iter().map(Vec::into_iter).collect();
        let parts: Vec<Part> = (0..PARTS)
            .map(|index| {
                owned
                    .get_mut(self.owner[index])
                    .and_then(Iterator::next)
                    .unwrap_or_default()
            })
            .collect();
        *state = BlockState::from_parts(state.pre(), parts);
    }
}

/// Applies `writes`, the writes of the block that fall in the parts `mine` of one worker, in
/// block order: `lazy` is the location whose fees are summed before being credited (the
/// beneficiary's account). `keep_wiped` leaves the storage resets out (the
/// `KeepWipedStorage` fault; always false in a normal build).
pub fn apply_in_order<'w>(
    fork: Fork,
    pre: &PreState,
    deal: &Deal,
    mine: &mut [Part],
    lazy: Location,
    writes: impl Iterator<Item = &'w Write>,
    keep_wiped: bool,
) {
    let at_of = |location: &Location| deal.at[state::part_of(&location.address())];
    if keep_wiped {
        let mut faulty: Vec<Vec<Write>> = (0..mine.len()).map(|_| Vec::new()).collect();
        for write in writes {
            faulty[at_of(&write.0)].push(write.clone());
        }
        for (own, writes) in mine.iter_mut().zip(faulty) {
            for (location, value) in without_wipes(writes) {
                own.apply_write(pre, fork, location, value);
            }
        }
        return;
    }
    let mut fees = PendingFees::default();
    for (location, value) in writes {
        let at = at_of(location);
        // The beneficiary's fees are summed; a recipient's credit, one of a kind in most
        // blocks, is applied at once like any write.
        if let (Location::Account(address), Value::Fee(fee)) = (location, value) {
            if *location == lazy && !fee.is_zero() {
                if let Some(((pending_at, to), sum)) = fees.add(at, *address, *fee) {
                    mine[pending_at].credit(pre, fork, to, sum);
                }
                continue;
            }
        }
        let address = location.address();
        if let Some(sum) = fees.take_for(&address) {
            mine[at].credit(pre, fork, address, sum);
        }
        mine[at].apply_write(pre, fork, *location, value.clone());
    }
    if let Some(((at, to), sum)) = fees.0 {
        mine[at].credit(pre, fork, to, sum);
    }
}

/// Which of `workers` workers applies the writes of each part, so that the busiest worker has
/// as few as can be: the parts from the most written down, each to the worker with the fewest
/// writes so far (the lowest-numbered among equals). On `builtin:erc20` the token's part holds
/// 4,000 of the 6,000 counted writes (2,000 senders spread over all parts): dealt out in turn,
/// two workers got 5,000 and 1,000; now 4,125 and 1,875.
pub fn share_parts(writes_per_part: &[u64; PARTS], workers: usize) -> [usize; PARTS] {
    let workers = workers.max(1);
    let mut order: [usize; PARTS] = std::array::from_fn(|part| part);
    order.sort_by_key(|part| std::cmp::Reverse(writes_per_part[*part]));
    // Per worker: its writes, then its parts (so that parts without writes are dealt out
    // in turn too).
    let mut load = vec![(0u64, 0usize); workers];
    let mut owner = [0usize; PARTS];
    for part in order {
        let lightest = (0..workers).min_by_key(|w| load[*w]).unwrap_or(0);
        owner[part] = lightest;
        load[lightest].0 += writes_per_part[part];
        load[lightest].1 += 1;
    }
    owner
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_part_gets_a_worker_of_its_own() {
        // A token's part with half the writes, the others a little each.
        let mut writes = [250u64; PARTS];
        writes[5] = 4_000;
        let owner = share_parts(&writes, 2);
        assert!((0..PARTS).all(|p| p == 5 || owner[p] != owner[5]));
        // Evenly written parts are dealt out evenly, with or without writes.
        for writes in [[100u64; PARTS], [0; PARTS]] {
            let owner = share_parts(&writes, 4);
            for worker in 0..4 {
                assert_eq!(owner.iter().filter(|o| **o == worker).count(), PARTS / 4);
            }
        }
        // One worker owns everything.
        assert_eq!(share_parts(&writes, 1), [0; PARTS]);
    }
}

/// Consecutive non-zero fees to one account (the beneficiary's, one per transaction), to be
/// credited as one sum: the same balance (saturating additions of non-negative amounts
/// associate) for one lookup instead of one per transaction. The sum is credited before
/// anything else written to its account; writes to other accounts do not see it.
#[derive(Default)]
struct PendingFees(Option<((usize, Address), U256)>);

impl PendingFees {
    /// Adds `fee` to `address` (in the worker's part `at`); returns a sum pending for another
    /// account, to be credited now.
    fn add(&mut self, at: usize, address: Address, fee: U256) -> Option<((usize, Address), U256)> {
        if let Some(((_, to), sum)) = &mut self.0 {
            if *to == address {
                *sum = sum.saturating_add(fee);
                return None;
            }
        }
        self.0.replace(((at, address), fee))
    }

    /// The sum pending for `address`, if any, taken out to be credited before its next write.
    fn take_for(&mut self, address: &Address) -> Option<U256> {
        if self.0.as_ref().is_some_and(|((_, to), _)| to == address) {
            return self.0.take().map(|(_, sum)| sum);
        }
        None
    }
}

/// The `KeepWipedStorage` fault's version of a part's writes: only each account's last full
/// value, and no resets, so that an account destroyed and written again keeps its slots.
fn without_wipes(writes: Vec<Write>) -> Vec<Write> {
    let mut last_value: AddressMap<usize> = AddressMap::default();
    for (index, write) in writes.iter().enumerate() {
        if let (Location::Account(address), Value::Account(_)) = write {
            last_value.insert(*address, index);
        }
    }
    writes
        .into_iter()
        .enumerate()
        .filter(|(index, write)| match write {
            (Location::StorageReset(_), _) => false,
            (Location::Account(address), Value::Account(_)) => {
                last_value.get(address) == Some(index)
            }
            _ => true,
        })
        .map(|(_, write)| write)
        .collect()
}
