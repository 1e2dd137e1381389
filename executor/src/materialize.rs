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
//! splits by the state's parts: the workers that ran the block sort chunks of the write sets
//! by part, then apply a part each, its chunks in block order.

use crate::mv_memory::{Location, MvMemory, Value};
use crate::state::{self, BlockState, Part, PreState, PARTS};
use crate::sync::{self, AtomicUsize, Mutex, Ordering};
use alloy_primitives::map::AddressMap;
use lockstep_spec::Fork;

/// One write of the block.
type Write = (Location, Value);

/// One chunk's writes to one part, with the chunk's index (its place in block order).
type ChunkWrites = (usize, Vec<Write>);

/// Transactions per chunk of the sorting phase.
const CHUNK: usize = 128;

/// Applies the final write sets of a finished run (`mv`) to `state`, the state the
/// transactions ran on, on `threads` workers. `keep_wiped` leaves the storage resets out (the
/// `KeepWipedStorage` fault; always false in a normal build).
pub fn apply(
    fork: Fork,
    state: &mut BlockState<'_>,
    mv: MvMemory,
    keep_wiped: bool,
    threads: usize,
) {
    let pre = state.pre();
    let write_sets = mv.into_write_sets();
    let chunks: Vec<Mutex<Vec<Vec<Write>>>> =
        write_sets.chunks(CHUNK).map(|_| Mutex::default()).collect();
    // Hand the write sets out chunk by chunk (each taken by one worker).
    let mut write_sets = write_sets.into_iter();
    for chunk in &chunks {
        *chunk.lock() = write_sets.by_ref().take(CHUNK).collect();
    }
    let parts: Vec<Mutex<Option<Part>>> = std::mem::replace(state, BlockState::new(pre))
        .into_parts()
        .into_iter()
        .map(|part| Mutex::new(Some(part)))
        .collect();
    // Per part, the writes each chunk holds for it, with the chunk's index.
    let sorted: Vec<Mutex<Vec<ChunkWrites>>> = (0..PARTS).map(|_| Mutex::default()).collect();
    let (next_chunk, next_part, sorters) = (
        AtomicUsize::new(0),
        AtomicUsize::new(0),
        AtomicUsize::new(0),
    );
    let workers = threads.clamp(1, PARTS);
    let work = || {
        loop {
            let index = next_chunk.fetch_add(1, Ordering::Relaxed);
            let Some(chunk) = chunks.get(index) else {
                break;
            };
            let mut by_part: Vec<Vec<Write>> = (0..PARTS).map(|_| Vec::new()).collect();
            for writes in std::mem::take(&mut *chunk.lock()) {
                for write in writes {
                    by_part[state::part_of(&write.0.address())].push(write);
                }
            }
            for (part, writes) in by_part.into_iter().enumerate() {
                if !writes.is_empty() {
                    sorted[part].lock().push((index, writes));
                }
            }
        }
        sorters.fetch_add(1, Ordering::AcqRel);
        let mut polls = 0;
        while sorters.load(Ordering::Acquire) < workers {
            sync::relax(polls, workers);
            polls = polls.saturating_add(1);
        }
        loop {
            let part = next_part.fetch_add(1, Ordering::Relaxed);
            if part >= PARTS {
                break;
            }
            let mut writes = std::mem::take(&mut *sorted[part].lock());
            writes.sort_unstable_by_key(|(chunk, _)| *chunk);
            let mut slot = parts[part].lock();
            if let Some(own) = slot.as_mut() {
                apply_part(fork, pre, own, writes, keep_wiped);
            }
        }
    };
    sync::run_workers(workers, work);
    let parts: Vec<Part> = parts
        .into_iter()
        .map(|part| part.lock().take().unwrap_or_default())
        .collect();
    *state = BlockState::from_parts(pre, parts);
}

/// Applies one part's writes, chunk by chunk in block order, as the sequential commits did.
fn apply_part(
    fork: Fork,
    pre: &PreState,
    part: &mut Part,
    chunks: Vec<ChunkWrites>,
    keep_wiped: bool,
) {
    part.reserve(chunks.iter().map(|(_, writes)| writes.len()).sum());
    if keep_wiped {
        let writes = without_wipes(chunks.into_iter().flat_map(|(_, w)| w).collect());
        for (location, value) in writes {
            apply_write(fork, pre, part, location, value);
        }
        return;
    }
    for (_, writes) in chunks {
        for (location, value) in writes {
            apply_write(fork, pre, part, location, value);
        }
    }
}

/// Applies one write, as the sequential commit of its transaction did.
fn apply_write(fork: Fork, pre: &PreState, part: &mut Part, location: Location, value: Value) {
    match (location, value) {
        (Location::Account(address), Value::Account(info)) => part.set_info(address, info),
        (Location::Account(address), Value::Fee(fee)) => part.credit(pre, fork, address, fee),
        (Location::StorageReset(address), _) => part.wipe_storage(pre, address),
        (Location::Storage(address, slot), Value::Slot(value)) => {
            part.set_slot(pre, address, slot, value);
        }
        // Nothing else is written at these locations.
        _ => {}
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
