//! The state after a parallel run, built from the multi-version memory instead of from each
//! transaction's revm changes. Once every transaction is executed and validated, the memory
//! holds, per location, exactly what the final incarnations wrote, and each write is what
//! [`BlockState::commit`] would have applied for it ([`crate::vm`]'s write set follows the
//! commit's rules: EIP-161 deletions and destructions are account deletions plus a storage
//! reset, creations a storage reset). So the final value of each location is its highest
//! writer's write, with two orderings to respect:
//!
//! - a storage reset hides every write of the account's slots by lower transactions (and the
//!   pre-state); a slot written by the resetting transaction or a later one survives;
//! - the beneficiary's account (the lazy location) is the last full value written, then every
//!   lazy fee credited after it, in block order, as the sequential commit would credit them.
//!
//! Accounts merely touched and left as they were read are not in the memory; committing them
//! would have rewritten the same values.
//!
//! Both orderings are per account, so the work splits by the state's parts: the workers that
//! ran the block drain the memory's shards, sorting values by part, then apply a part each;
//! only the beneficiary's fees are left to one thread.

use crate::mv_memory::{Location, MvMemory, TxIdx, Value};
use crate::state::{self, BlockState, Part, PreState, PARTS};
use crate::sync::{self, AtomicUsize, Mutex, Ordering};
use alloy_primitives::map::AddressMap;
use alloy_primitives::Address;
use lockstep_spec::Fork;

/// A location's final value with its writer.
type Final = (Location, TxIdx, Value);

/// Applies the final writes of a finished run (`mv`, whose lazy location is `beneficiary`'s
/// account) to `state`, the state the transactions ran on, on `threads` workers: first the
/// memory's shards are drained, each value sorted by the [`Part`] of the state its account
/// is in; then each part takes its values. `keep_wiped` leaves the storage resets out (the
/// `KeepWipedStorage` fault; always false in a normal build).
pub fn apply(
    fork: Fork,
    state: &mut BlockState<'_>,
    mv: MvMemory,
    beneficiary: Address,
    keep_wiped: bool,
    threads: usize,
) {
    let pre = state.pre();
    let parts: Vec<Mutex<Option<Part>>> = std::mem::replace(state, BlockState::new(pre))
        .into_parts()
        .into_iter()
        .map(|part| Mutex::new(Some(part)))
        .collect();
    // Per part, the lists of final values the workers drained for it.
    let sorted: Vec<Mutex<Vec<Vec<Final>>>> = (0..PARTS).map(|_| Mutex::default()).collect();
    let (next_shard, next_part, drained) = (
        AtomicUsize::new(0),
        AtomicUsize::new(0),
        AtomicUsize::new(0),
    );
    let workers = threads.clamp(1, PARTS);
    let work = || {
        let mut mine: Vec<Vec<Final>> = (0..PARTS).map(|_| Vec::new()).collect();
        loop {
            let shard = next_shard.fetch_add(1, Ordering::Relaxed);
            if shard >= mv.shard_count() {
                break;
            }
            mv.drain_shard(shard, |location, tx, value| {
                mine[state::part_of(&location.address())].push((location, tx, value));
            });
        }
        for (part, values) in mine.into_iter().enumerate() {
            if !values.is_empty() {
                sorted[part].lock().push(values);
            }
        }
        drained.fetch_add(1, Ordering::AcqRel);
        let mut polls = 0;
        while drained.load(Ordering::Acquire) < workers {
            sync::relax(polls, workers);
            polls = polls.saturating_add(1);
        }
        loop {
            let part = next_part.fetch_add(1, Ordering::Relaxed);
            if part >= PARTS {
                break;
            }
            let values = std::mem::take(&mut *sorted[part].lock());
            let mut slot = parts[part].lock();
            if let Some(own) = slot.as_mut() {
                apply_part(pre, own, values, keep_wiped);
            }
        }
    };
    sync::run_workers(workers, work);
    let parts: Vec<Part> = parts
        .into_iter()
        .map(|part| part.lock().take().unwrap_or_default())
        .collect();
    *state = BlockState::from_parts(pre, parts);

    // The beneficiary: its last full value, then the fees credited after it.
    let lazy = mv.drain_lazy();
    let last_full = lazy
        .iter()
        .rposition(|value| matches!(value, Some(Value::Account(_))));
    let credited_from = match last_full {
        Some(tx) => {
            if let Some(Some(Value::Account(info))) = lazy.get(tx) {
                state.set_info(beneficiary, info.clone());
            }
            tx + 1
        }
        None => 0,
    };
    for value in lazy.iter().skip(credited_from) {
        if let Some(Value::Fee(fee)) = value {
            state.credit(fork, beneficiary, *fee);
        }
    }
}

/// Applies the final values of one part's accounts. Wiping and setting an account's info
/// commute, so one pass does both; slots wait for every reset of the part to be known (a
/// slot written below an account's highest reset reads as zero). The beneficiary's account
/// comes later; its slots here are the same either way (a slot set on an account deleted
/// afterwards goes with it, as a slot set after the deletion is ignored).
fn apply_part(pre: &PreState, part: &mut Part, values: Vec<Vec<Final>>, keep_wiped: bool) {
    let mut resets: AddressMap<TxIdx> = AddressMap::default();
    let mut slots = Vec::new();
    for (location, tx, value) in values.into_iter().flatten() {
        match (location, value) {
            (Location::Account(address), Value::Account(info)) => part.set_info(address, info),
            (Location::StorageReset(_), _) if keep_wiped => {}
            (Location::StorageReset(address), _) => {
                resets.insert(address, tx);
                part.wipe_storage(pre, address);
            }
            (Location::Storage(address, slot), Value::Slot(value)) => {
                slots.push((address, slot, tx, value));
            }
            // Nothing else is written at these locations.
            _ => {}
        }
    }
    // Slots last, so that an account deleted above keeps no storage.
    for (address, slot, tx, value) in slots {
        if resets.get(&address).is_none_or(|reset| tx >= *reset) {
            part.set_slot(pre, address, slot, value);
        }
    }
}
