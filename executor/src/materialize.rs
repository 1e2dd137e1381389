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

use crate::mv_memory::{Location, MvMemory, TxIdx, Value};
use crate::state::BlockState;
use alloy_primitives::map::AddressMap;
use alloy_primitives::Address;
use lockstep_spec::Fork;

/// Applies the final writes of a finished run (`mv`, whose lazy location is `beneficiary`'s
/// account) to `state`, the state the transactions ran on. `keep_wiped` leaves the storage
/// resets out (the `KeepWipedStorage` fault; always false in a normal build).
pub fn apply(
    fork: Fork,
    state: &mut BlockState<'_>,
    mv: MvMemory,
    beneficiary: Address,
    keep_wiped: bool,
) {
    // The highest resetting transaction per account: slots written below it read as zero.
    // Wiping and setting an account's info commute, so one pass does both; slots wait for
    // every reset to be known.
    let mut resets: AddressMap<TxIdx> = AddressMap::default();
    let mut slots = Vec::new();
    let lazy = mv.drain_final_values(|location, tx, value| match (location, value) {
        (Location::Account(address), Value::Account(info)) => state.set_info(address, info),
        (Location::StorageReset(_), _) if keep_wiped => {}
        (Location::StorageReset(address), _) => {
            resets.insert(address, tx);
            state.wipe_storage(address);
        }
        (Location::Storage(address, slot), Value::Slot(value)) => {
            slots.push((address, slot, tx, value));
        }
        // Nothing else is written at these locations.
        _ => {}
    });
    // The beneficiary: its last full value, then the fees credited after it.
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
    // Slots last, so that an account deleted above keeps no storage.
    for (address, slot, tx, value) in slots {
        if resets.get(&address).is_none_or(|reset| tx >= *reset) {
            state.set_slot(address, slot, value);
        }
    }
}
