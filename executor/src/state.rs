//! The in-memory world state an executor runs a block against: revm's view of lockstep's
//! [`WorldState`], and the commit of a transaction's changes with the EIP-161 rules.

use alloy_primitives::{keccak256, Address, B256, U256};
use lockstep_spec::types::{Account, BlockEnv, WorldState};
use lockstep_spec::Fork;
use revm::bytecode::Bytecode;
use revm::database_interface::{Database, DatabaseRef};
use revm::state::{AccountInfo, EvmState};
use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;

/// An account as revm sees it: info with analysed code, and storage.
#[derive(Clone, Debug, Default)]
pub struct StateAccount {
    /// Balance, nonce, code hash and analysed code.
    pub info: AccountInfo,
    /// Non-zero storage slots.
    pub storage: HashMap<U256, U256>,
}

/// Builds revm's bytecode for raw code: EIP-7702 delegation designators where the bytes are
/// one, legacy code otherwise (an `0xef01` prefix predating EIP-3541 is ordinary code).
pub fn bytecode(code: &alloy_primitives::Bytes) -> Bytecode {
    Bytecode::new_raw_checked(code.clone()).unwrap_or_else(|_| Bytecode::new_legacy(code.clone()))
}

/// The account info revm expects for a lockstep account.
pub fn account_info(account: &Account) -> AccountInfo {
    let code = bytecode(&account.code);
    AccountInfo {
        balance: account.balance,
        nonce: account.nonce,
        code_hash: if account.code.is_empty() {
            revm::primitives::KECCAK_EMPTY
        } else {
            keccak256(&account.code)
        },
        code: Some(code),
        ..Default::default()
    }
}

/// A mutable world state for sequential execution, readable by revm.
#[derive(Clone, Debug, Default)]
pub struct BlockState {
    accounts: HashMap<Address, StateAccount>,
    block_hashes: BTreeMap<u64, B256>,
}

impl BlockState {
    /// The state before a block.
    pub fn new(pre: &WorldState, env: &BlockEnv) -> Self {
        let accounts = pre
            .accounts
            .iter()
            .map(|(address, account)| {
                let storage = account
                    .storage
                    .iter()
                    .filter(|(_, v)| !v.is_zero())
                    .map(|(k, v)| (*k, *v))
                    .collect();
                (
                    *address,
                    StateAccount {
                        info: account_info(account),
                        storage,
                    },
                )
            })
            .collect();
        BlockState {
            accounts,
            block_hashes: env.block_hashes.clone(),
        }
    }

    /// The account at `address`, if it exists.
    pub fn account(&self, address: &Address) -> Option<&StateAccount> {
        self.accounts.get(address)
    }

    /// Commits the changes of one transaction (or system call) under `fork`'s rules.
    pub fn commit(&mut self, fork: Fork, changes: EvmState) {
        for (address, account) in changes {
            if !account.is_touched() {
                continue;
            }
            if account.is_selfdestructed() {
                self.accounts.remove(&address);
                continue;
            }
            // EIP-161: a touched account that is empty is deleted, from Spurious Dragon on.
            if fork >= Fork::SpuriousDragon && account.is_empty() {
                self.accounts.remove(&address);
                continue;
            }
            let entry = self.accounts.entry(address).or_default();
            if account.is_created() {
                entry.storage.clear();
            }
            entry.info = account.info;
            for (slot, value) in account.storage {
                let value = value.present_value();
                if value.is_zero() {
                    entry.storage.remove(&slot);
                } else {
                    entry.storage.insert(slot, value);
                }
            }
        }
    }

    /// Adds `amount` wei to `address`, creating the account if needed; under EIP-161, a zero
    /// credit to an absent account creates nothing and an empty account it touches is deleted.
    pub fn credit(&mut self, fork: Fork, address: Address, amount: U256) {
        let exists = self.accounts.contains_key(&address);
        if fork >= Fork::SpuriousDragon && amount.is_zero() {
            if exists && self.accounts[&address].info.is_empty() {
                self.accounts.remove(&address);
            }
            return;
        }
        let entry = self.accounts.entry(address).or_default();
        entry.info.balance = entry.info.balance.saturating_add(amount);
    }

    /// Removes `address` and returns its balance (the DAO fork's drain).
    pub fn take_balance(&mut self, address: &Address) -> U256 {
        match self.accounts.get_mut(address) {
            Some(account) => std::mem::take(&mut account.info.balance),
            None => U256::ZERO,
        }
    }

    /// The world state in lockstep's data model.
    pub fn to_world_state(&self) -> WorldState {
        self.accounts
            .iter()
            .map(|(address, account)| {
                let code = account
                    .info
                    .code
                    .as_ref()
                    .map(|c| c.original_bytes())
                    .unwrap_or_default();
                (
                    *address,
                    Account {
                        balance: account.info.balance,
                        nonce: account.info.nonce,
                        code,
                        storage: account
                            .storage
                            .iter()
                            .filter(|(_, v)| !v.is_zero())
                            .map(|(k, v)| (*k, *v))
                            .collect(),
                    },
                )
            })
            .collect()
    }
}

/// Reads through to a [`BlockState`]; revm's `Database` for one transaction.
#[derive(Clone, Copy, Debug)]
pub struct StateReader<'a>(pub &'a BlockState);

impl DatabaseRef for StateReader<'_> {
    type Error = Infallible;

    fn basic_ref(&self, address: Address) -> Result<Option<AccountInfo>, Self::Error> {
        Ok(self.0.accounts.get(&address).map(|a| a.info.clone()))
    }

    fn code_by_hash_ref(&self, _code_hash: B256) -> Result<Bytecode, Self::Error> {
        // Every AccountInfo carries its code, so revm never asks by hash.
        Ok(Bytecode::default())
    }

    fn storage_ref(&self, address: Address, index: U256) -> Result<U256, Self::Error> {
        Ok(self
            .0
            .accounts
            .get(&address)
            .and_then(|a| a.storage.get(&index).copied())
            .unwrap_or_default())
    }

    fn block_hash_ref(&self, number: u64) -> Result<B256, Self::Error> {
        Ok(self
            .0
            .block_hashes
            .get(&number)
            .copied()
            .unwrap_or_default())
    }
}

impl Database for StateReader<'_> {
    type Error = Infallible;

    fn basic(&mut self, address: Address) -> Result<Option<AccountInfo>, Self::Error> {
        self.basic_ref(address)
    }

    fn code_by_hash(&mut self, code_hash: B256) -> Result<Bytecode, Self::Error> {
        self.code_by_hash_ref(code_hash)
    }

    fn storage(&mut self, address: Address, index: U256) -> Result<U256, Self::Error> {
        self.storage_ref(address, index)
    }

    fn block_hash(&mut self, number: u64) -> Result<B256, Self::Error> {
        self.block_hash_ref(number)
    }
}
