//! The journaled world state one block runs against.
//!
//! Every change is recorded in a journal so that a call frame that fails can be undone without
//! copying the state: a frame takes a [`Checkpoint`] and either keeps its changes or reverts to
//! it. Besides accounts, the journal covers what EIP-2929 (warm addresses and slots), EIP-1153
//! (transient storage), EIP-161 (touched accounts) and EIP-6780 (accounts created in this
//! transaction) add to the state of a transaction.

use crate::types::{Account, Log, Storage, WorldState};
use alloy_primitives::map::{HashMap, HashSet};
use alloy_primitives::{address, Address, Bytes, U256};

/// The RIPEMD-160 precompile, whose touch survives a failed call (see [`State::revert`]).
pub const RIPEMD160_ADDRESS: Address = address!("0000000000000000000000000000000000000003");

/// One undoable change.
#[derive(Debug)]
enum Entry {
    /// The account did not exist before.
    Created(Address),
    /// Balance before the change.
    Balance(Address, U256),
    /// Nonce before the change.
    Nonce(Address, u64),
    /// Code before the change.
    Code(Address, Bytes),
    /// A slot before the change (`None`: zero).
    Storage(Address, U256, Option<U256>),
    /// The whole storage before a creation cleared it.
    StorageCleared(Address, Storage),
    /// The account was marked touched (EIP-161).
    Touched(Address),
    /// The address was warmed (EIP-2929).
    WarmAddress(Address),
    /// The slot was warmed (EIP-2929).
    WarmSlot(Address, U256),
    /// A transient slot before the change (EIP-1153).
    Transient(Address, U256, U256),
    /// The account was marked created in this transaction (EIP-6780).
    CreatedInTx(Address),
}

/// A point the state can return to.
#[derive(Clone, Copy, Debug)]
pub struct Checkpoint {
    journal: usize,
    logs: usize,
    destroyed: usize,
}

/// The world state with its journal and the per-transaction sets.
#[derive(Debug, Default)]
pub struct State {
    accounts: HashMap<Address, Account>,
    journal: Vec<Entry>,
    /// Logs emitted in this transaction.
    pub logs: Vec<Log>,
    /// Accounts SELFDESTRUCT registered for deletion in this transaction (may repeat).
    pub destroyed: Vec<Address>,
    touched: HashSet<Address>,
    warm_addresses: HashSet<Address>,
    warm_slots: HashSet<(Address, U256)>,
    transient: HashMap<(Address, U256), U256>,
    created: HashSet<Address>,
    /// Slot values at the start of the transaction, recorded at their first write (EIP-2200).
    original: HashMap<(Address, U256), U256>,
}

impl State {
    /// The state before a block.
    pub fn new(pre: &WorldState) -> Self {
        State {
            accounts: pre
                .accounts
                .iter()
                .map(|(a, acc)| (*a, acc.clone()))
                .collect(),
            ..Default::default()
        }
    }

    /// The world state in lockstep's data model (no zero slots).
    pub fn into_world_state(self) -> WorldState {
        let mut world: WorldState = self.accounts.into_iter().collect();
        world.normalize();
        world
    }

    /// The account at `address`, if it exists.
    pub fn account(&self, address: &Address) -> Option<&Account> {
        self.accounts.get(address)
    }

    /// Whether the account exists.
    pub fn exists(&self, address: &Address) -> bool {
        self.accounts.contains_key(address)
    }

    /// EIP-161: the account exists and is not empty.
    pub fn is_alive(&self, address: &Address) -> bool {
        self.accounts.get(address).is_some_and(|a| !a.is_empty())
    }

    /// EIP-161: the account exists and is empty.
    pub fn exists_and_is_empty(&self, address: &Address) -> bool {
        self.accounts.get(address).is_some_and(|a| a.is_empty())
    }

    /// The balance (zero for absent accounts).
    pub fn balance(&self, address: &Address) -> U256 {
        self.accounts.get(address).map_or(U256::ZERO, |a| a.balance)
    }

    /// The nonce (zero for absent accounts).
    pub fn nonce(&self, address: &Address) -> u64 {
        self.accounts.get(address).map_or(0, |a| a.nonce)
    }

    /// The code (empty for absent accounts).
    pub fn code(&self, address: &Address) -> Bytes {
        self.accounts
            .get(address)
            .map(|a| a.code.clone())
            .unwrap_or_default()
    }

    /// A storage slot (zero when absent).
    pub fn storage(&self, address: &Address, key: &U256) -> U256 {
        self.accounts
            .get(address)
            .and_then(|a| a.storage.get(key).copied())
            .unwrap_or_default()
    }

    /// Whether the account has any non-zero slot (EIP-7610).
    pub fn has_storage(&self, address: &Address) -> bool {
        self.accounts
            .get(address)
            .is_some_and(|a| !a.storage.is_empty())
    }

    /// The account, created empty if absent.
    fn account_mut(&mut self, address: Address) -> &mut Account {
        if !self.accounts.contains_key(&address) {
            self.journal.push(Entry::Created(address));
        }
        self.accounts.entry(address).or_default()
    }

    /// Creates the account empty if it does not exist (a "touch" in the Yellow Paper's sense)
    /// and marks it touched for EIP-161.
    pub fn touch(&mut self, address: Address) {
        self.account_mut(address);
        self.mark_touched(address);
    }

    /// Marks the account touched (EIP-161) without creating it.
    pub fn mark_touched(&mut self, address: Address) {
        if self.touched.insert(address) {
            self.journal.push(Entry::Touched(address));
        }
    }

    /// Sets the balance, creating the account if needed.
    pub fn set_balance(&mut self, address: Address, balance: U256) {
        let account = self.account_mut(address);
        let old = std::mem::replace(&mut account.balance, balance);
        self.journal.push(Entry::Balance(address, old));
    }

    /// Adds to the balance, creating the account if needed.
    pub fn add_balance(&mut self, address: Address, amount: U256) {
        let balance = self.balance(&address).saturating_add(amount);
        self.set_balance(address, balance);
    }

    /// Moves `amount` from `from` to `to`; the caller has checked the balance.
    pub fn transfer(&mut self, from: Address, to: Address, amount: U256) {
        let from_balance = self.balance(&from).saturating_sub(amount);
        self.set_balance(from, from_balance);
        self.add_balance(to, amount);
    }

    /// Sets the nonce, creating the account if needed.
    pub fn set_nonce(&mut self, address: Address, nonce: u64) {
        let account = self.account_mut(address);
        let old = std::mem::replace(&mut account.nonce, nonce);
        self.journal.push(Entry::Nonce(address, old));
    }

    /// Increments the nonce (saturating at the maximum; EIP-2681 keeps it from getting there).
    pub fn increment_nonce(&mut self, address: Address) {
        let nonce = self.nonce(&address).saturating_add(1);
        self.set_nonce(address, nonce);
    }

    /// Sets the code, creating the account if needed.
    pub fn set_code(&mut self, address: Address, code: Bytes) {
        let account = self.account_mut(address);
        let old = std::mem::replace(&mut account.code, code);
        self.journal.push(Entry::Code(address, old));
    }

    /// Sets a slot, creating the account if needed; zero removes the slot.
    pub fn set_storage(&mut self, address: Address, key: U256, value: U256) {
        if !self.created.contains(&address) {
            let current = self.storage(&address, &key);
            self.original.entry((address, key)).or_insert(current);
        }
        let account = self.account_mut(address);
        let old = if value.is_zero() {
            account.storage.remove(&key)
        } else {
            account.storage.insert(key, value)
        };
        self.journal.push(Entry::Storage(address, key, old));
    }

    /// The value of a slot at the start of the transaction (zero for accounts created in it).
    pub fn original_storage(&self, address: &Address, key: &U256) -> U256 {
        if self.created.contains(address) {
            return U256::ZERO;
        }
        match self.original.get(&(*address, *key)) {
            Some(value) => *value,
            None => self.storage(address, key),
        }
    }

    /// Marks the account created in this transaction (EIP-6780) and clears its storage.
    pub fn mark_created(&mut self, address: Address) {
        let account = self.account_mut(address);
        let storage = std::mem::take(&mut account.storage);
        if !storage.is_empty() {
            self.journal.push(Entry::StorageCleared(address, storage));
        }
        if self.created.insert(address) {
            self.journal.push(Entry::CreatedInTx(address));
        }
    }

    /// Whether the account was created in this transaction (EIP-6780).
    pub fn created_in_tx(&self, address: &Address) -> bool {
        self.created.contains(address)
    }

    /// Warms an address; returns whether it was cold (EIP-2929).
    pub fn warm_address(&mut self, address: Address) -> bool {
        let cold = self.warm_addresses.insert(address);
        if cold {
            self.journal.push(Entry::WarmAddress(address));
        }
        cold
    }

    /// Whether an address is warm (EIP-2929).
    pub fn is_warm(&self, address: &Address) -> bool {
        self.warm_addresses.contains(address)
    }

    /// Warms a slot; returns whether it was cold (EIP-2929).
    pub fn warm_slot(&mut self, address: Address, key: U256) -> bool {
        let cold = self.warm_slots.insert((address, key));
        if cold {
            self.journal.push(Entry::WarmSlot(address, key));
        }
        cold
    }

    /// A transient slot (EIP-1153).
    pub fn transient(&self, address: &Address, key: &U256) -> U256 {
        self.transient
            .get(&(*address, *key))
            .copied()
            .unwrap_or_default()
    }

    /// Sets a transient slot (EIP-1153).
    pub fn set_transient(&mut self, address: Address, key: U256, value: U256) {
        let old = if value.is_zero() {
            self.transient.remove(&(address, key))
        } else {
            self.transient.insert((address, key), value)
        };
        self.journal
            .push(Entry::Transient(address, key, old.unwrap_or_default()));
    }

    /// A point to return to.
    pub fn checkpoint(&self) -> Checkpoint {
        Checkpoint {
            journal: self.journal.len(),
            logs: self.logs.len(),
            destroyed: self.destroyed.len(),
        }
    }

    /// Undoes every change since `checkpoint`. Returns whether the RIPEMD-160 precompile was
    /// touched in between: a failed call keeps that touch (the mainnet anomaly of block
    /// 2,675,119, preserved by every client), which the caller re-applies.
    pub fn revert(&mut self, checkpoint: Checkpoint) -> bool {
        let mut ripemd_touched = false;
        while self.journal.len() > checkpoint.journal {
            let Some(entry) = self.journal.pop() else {
                break;
            };
            match entry {
                Entry::Created(a) => {
                    self.accounts.remove(&a);
                }
                Entry::Balance(a, v) => {
                    if let Some(acc) = self.accounts.get_mut(&a) {
                        acc.balance = v;
                    }
                }
                Entry::Nonce(a, v) => {
                    if let Some(acc) = self.accounts.get_mut(&a) {
                        acc.nonce = v;
                    }
                }
                Entry::Code(a, v) => {
                    if let Some(acc) = self.accounts.get_mut(&a) {
                        acc.code = v;
                    }
                }
                Entry::Storage(a, k, v) => {
                    if let Some(acc) = self.accounts.get_mut(&a) {
                        match v {
                            Some(v) => acc.storage.insert(k, v),
                            None => acc.storage.remove(&k),
                        };
                    }
                }
                Entry::StorageCleared(a, s) => {
                    if let Some(acc) = self.accounts.get_mut(&a) {
                        acc.storage = s;
                    }
                }
                Entry::Touched(a) => {
                    ripemd_touched |= a == RIPEMD160_ADDRESS;
                    self.touched.remove(&a);
                }
                Entry::WarmAddress(a) => {
                    self.warm_addresses.remove(&a);
                }
                Entry::WarmSlot(a, k) => {
                    self.warm_slots.remove(&(a, k));
                }
                Entry::Transient(a, k, v) => {
                    if v.is_zero() {
                        self.transient.remove(&(a, k));
                    } else {
                        self.transient.insert((a, k), v);
                    }
                }
                Entry::CreatedInTx(a) => {
                    self.created.remove(&a);
                }
            }
        }
        self.logs.truncate(checkpoint.logs);
        self.destroyed.truncate(checkpoint.destroyed);
        ripemd_touched
    }

    /// Removes an account and its storage.
    pub fn destroy(&mut self, address: &Address) {
        self.accounts.remove(address);
    }

    /// Ends a transaction: deletes the accounts SELFDESTRUCT registered, then (EIP-161, when
    /// `clear_empty`) the touched accounts that are empty, and forgets the transaction's sets.
    pub fn finish_transaction(&mut self, clear_empty: bool) {
        let destroyed = std::mem::take(&mut self.destroyed);
        for address in &destroyed {
            self.accounts.remove(address);
        }
        if clear_empty {
            let touched = std::mem::take(&mut self.touched);
            for address in touched {
                if self.exists_and_is_empty(&address) {
                    self.accounts.remove(&address);
                }
            }
        }
        self.clear_transaction();
    }

    /// Forgets the journal and the per-transaction sets.
    pub fn clear_transaction(&mut self) {
        self.journal.clear();
        self.logs.clear();
        self.destroyed.clear();
        self.touched.clear();
        self.warm_addresses.clear();
        self.warm_slots.clear();
        self.transient.clear();
        self.created.clear();
        self.original.clear();
    }

    /// Distinct accounts registered for deletion so far in this transaction.
    pub fn destroyed_count(&self) -> usize {
        let set: HashSet<&Address> = self.destroyed.iter().collect();
        set.len()
    }
}
