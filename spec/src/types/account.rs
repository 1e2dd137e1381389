//! Accounts and the world state.

use alloy_primitives::{keccak256, Address, Bytes, B256, U256};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Storage of one account: slot to value. A slot holding zero is absent.
pub type Storage = BTreeMap<U256, U256>;

/// One account. An account that is absent from [`WorldState`] does not exist.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// Balance in wei.
    pub balance: U256,
    /// Number of transactions sent (EOA) or contracts created (contract, from EIP-161 on).
    pub nonce: u64,
    /// Runtime code; empty for an externally owned account.
    pub code: Bytes,
    /// Non-zero storage slots.
    pub storage: Storage,
}

impl Account {
    /// keccak-256 of the code.
    pub fn code_hash(&self) -> B256 {
        keccak256(&self.code)
    }

    /// EIP-161 "empty": no code, zero nonce, zero balance (storage does not count).
    pub fn is_empty(&self) -> bool {
        self.code.is_empty() && self.nonce == 0 && self.balance.is_zero()
    }
}

/// Every existing account, by address.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorldState {
    /// Existing accounts.
    pub accounts: BTreeMap<Address, Account>,
}

impl WorldState {
    /// The account at `address`, if it exists.
    pub fn get(&self, address: &Address) -> Option<&Account> {
        self.accounts.get(address)
    }

    /// The value of a storage slot; zero for absent accounts and slots.
    pub fn storage(&self, address: &Address, slot: &U256) -> U256 {
        self.accounts
            .get(address)
            .and_then(|a| a.storage.get(slot).copied())
            .unwrap_or_default()
    }

    /// Drops storage slots that hold zero, so that equal states compare equal.
    pub fn normalize(&mut self) {
        for account in self.accounts.values_mut() {
            account.storage.retain(|_, v| !v.is_zero());
        }
    }
}

impl FromIterator<(Address, Account)> for WorldState {
    fn from_iter<I: IntoIterator<Item = (Address, Account)>>(iter: I) -> Self {
        WorldState {
            accounts: iter.into_iter().collect(),
        }
    }
}
