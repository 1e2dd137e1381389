//! Built-in synthetic workloads for `lockstep bench`, selected on the command line as
//! `builtin:NAME`. Each is a Cancun block with its pre-state, built from lockstep's data model:
//!
//! - `transfers`: independent ETH transfers, distinct senders and distinct fresh recipients;
//! - `erc20`: ERC-20-style token transfers between distinct pairs through a tiny hand-assembled
//!   token contract (`transfer(to, amount)`: `balance[msg.sender] -= amount; balance[to] += amount`,
//!   balances kept in storage keyed by address);
//! - `hot-slot`: every transaction calls a contract that increments the same storage slot
//!   (maximal contention, fully serial);
//! - `few-accounts`: ETH transfers all to and from a handful of accounts.
//!
//! Transactions carry their sender and no signature (the data model does not need one).

use crate::executors::{BlockExecutor, RevmExecutor};
use alloy_primitives::{Address, Bytes, B256, U256};
use lockstep_spec::types::{Account, Block, BlockEnv, Transaction, WorldState};
use lockstep_spec::Fork;

/// The names accepted after `builtin:`.
pub const NAMES: &[&str] = &["transfers", "erc20", "hot-slot", "few-accounts"];

/// Transactions in `builtin:transfers`.
pub const TRANSFERS: usize = 5_000;
/// Transactions in `builtin:erc20`.
pub const ERC20_TRANSFERS: usize = 2_000;
/// Transactions in `builtin:hot-slot`.
pub const HOT_SLOT_CALLS: usize = 2_000;
/// Transactions in `builtin:few-accounts`.
pub const FEW_ACCOUNTS_TRANSFERS: usize = 2_000;
/// Accounts that `builtin:few-accounts` moves ether between.
pub const FEW_ACCOUNTS: usize = 4;

/// Gas price of every generated transaction (legacy): the base fee plus a tip of 3 wei, so that
/// the beneficiary is paid as in a real block.
const GAS_PRICE: u128 = 10;
/// The block's base fee.
const BASE_FEE: u64 = 7;
/// Ether given to every sender: far more than any workload spends.
const SENDER_BALANCE: u128 = 1_000_000_000_000_000_000_000; // 1,000 ether
/// Tokens given to every sender of `builtin:erc20`.
const TOKEN_BALANCE: u64 = 1_000_000;

/// Address tags: the first byte of generated addresses, by role (none is a precompile).
const SENDER_TAG: u8 = 0x10;
const RECIPIENT_TAG: u8 = 0x20;
const CONTRACT_TAG: u8 = 0xc0;

/// The token contract of `builtin:erc20`. Call data is ABI-style: a 4-byte selector (not
/// checked), `to` at offset 4, `amount` at offset 36. Reverts when the sender's balance is too low.
///
/// ```text
/// 00 PUSH1 0x24  CALLDATALOAD        amount
/// 03 CALLER      SLOAD               bal[caller], amount
/// 05 DUP2 DUP2 LT PUSH1 0x1a JUMPI   revert if bal < amount
/// 0b DUP2 SWAP1 SUB                  bal - amount, amount
/// 0e CALLER SSTORE                   bal[caller] = bal - amount
/// 10 PUSH1 0x04  CALLDATALOAD        to, amount
/// 13 DUP1 SLOAD DUP3 ADD             bal[to] + amount, to, amount
/// 17 SWAP1 SSTORE STOP               bal[to] += amount
/// 1a JUMPDEST PUSH1 0 PUSH1 0 REVERT
/// ```
pub const TOKEN_CODE: &[u8] = &[
    0x60, 0x24, 0x35, 0x33, 0x54, 0x81, 0x81, 0x10, 0x60, 0x1a, 0x57, 0x81, 0x90, 0x03, 0x33, 0x55,
    0x60, 0x04, 0x35, 0x80, 0x54, 0x82, 0x01, 0x90, 0x55, 0x00, 0x5b, 0x60, 0x00, 0x60, 0x00, 0xfd,
];

/// The counter of `builtin:hot-slot`: `PUSH1 0 SLOAD PUSH1 1 ADD PUSH1 0 SSTORE STOP`.
pub const COUNTER_CODE: &[u8] = &[0x60, 0x00, 0x54, 0x60, 0x01, 0x01, 0x60, 0x00, 0x55, 0x00];

/// A built-in workload: a block, its pre-state and its fork.
#[derive(Clone, Debug)]
pub struct Workload {
    /// The name it is selected by (after `builtin:`).
    pub name: String,
    /// The fork it runs under (Cancun).
    pub fork: Fork,
    /// The world state before the block.
    pub pre: WorldState,
    /// The block.
    pub block: Block,
}

/// The workload called `name` (without the `builtin:` prefix), with its standard size.
pub fn by_name(name: &str) -> Option<Workload> {
    match name {
        "transfers" => Some(transfers(TRANSFERS)),
        "erc20" => Some(erc20(ERC20_TRANSFERS)),
        "hot-slot" => Some(hot_slot(HOT_SLOT_CALLS)),
        "few-accounts" => Some(few_accounts(FEW_ACCOUNTS_TRANSFERS, FEW_ACCOUNTS)),
        _ => None,
    }
}

/// A generated address: `tag` in the first byte, `index` in the last eight.
pub fn address(tag: u8, index: u64) -> Address {
    let mut bytes = [0u8; 20];
    bytes[0] = tag;
    bytes[12..].copy_from_slice(&index.to_be_bytes());
    Address::from(bytes)
}

/// An externally owned account holding `balance` wei.
fn funded(balance: u128) -> Account {
    Account {
        balance: U256::from(balance),
        ..Account::default()
    }
}

/// A contract account with `code`.
fn contract(code: &[u8]) -> Account {
    Account {
        nonce: 1,
        code: Bytes::copy_from_slice(code),
        ..Account::default()
    }
}

/// A Cancun full block around `transactions`, with a gas limit that fits them all.
fn block(number: u64, transactions: Vec<Transaction>) -> Block {
    let needed: u64 = transactions.iter().map(|t| t.gas_limit).sum();
    Block {
        env: BlockEnv {
            chain_id: 1,
            number,
            timestamp: 1_710_338_135 + number,
            beneficiary: address(0xfe, 0),
            gas_limit: needed.max(30_000_000),
            base_fee: Some(BASE_FEE),
            difficulty: U256::ZERO,
            prevrandao: Some(B256::repeat_byte(0x42)),
            excess_blob_gas: Some(0),
            blob_schedule: None,
            parent_beacon_block_root: None,
            block_hashes: Default::default(),
        },
        transactions,
        withdrawals: Vec::new(),
        ommers: Vec::new(),
        full_block: true,
        dao_transition: false,
    }
}

/// A value transfer of `value` wei from `sender` (at `nonce`) to `to`.
fn transfer(sender: Address, to: Address, nonce: u64, value: u64) -> Transaction {
    let mut tx = Transaction::call(sender, to, nonce, 21_000, GAS_PRICE);
    tx.value = U256::from(value);
    tx
}

fn workload(name: &str, pre: WorldState, block: Block) -> Workload {
    Workload {
        name: name.to_owned(),
        fork: Fork::Cancun,
        pre,
        block,
    }
}

/// `n` independent ETH transfers: sender `i` pays recipient `i`, all distinct, recipients new.
pub fn transfers(n: usize) -> Workload {
    let mut pre = WorldState::default();
    let mut txs = Vec::with_capacity(n);
    for i in 0..n as u64 {
        let sender = address(SENDER_TAG, i);
        pre.accounts.insert(sender, funded(SENDER_BALANCE));
        txs.push(transfer(sender, address(RECIPIENT_TAG, i), 0, 1_000 + i));
    }
    workload("transfers", pre, block(20_000_001, txs))
}

/// `n` token transfers through [`TOKEN_CODE`]: sender `i` (holding `TOKEN_BALANCE` tokens)
/// sends tokens to recipient `i`; every pair distinct.
pub fn erc20(n: usize) -> Workload {
    let token = address(CONTRACT_TAG, 0x20);
    let mut token_account = contract(TOKEN_CODE);
    let mut pre = WorldState::default();
    let mut txs = Vec::with_capacity(n);
    for i in 0..n as u64 {
        let sender = address(SENDER_TAG, i);
        let to = address(RECIPIENT_TAG, i);
        pre.accounts.insert(sender, funded(SENDER_BALANCE));
        token_account.storage.insert(
            U256::from_be_slice(sender.as_slice()),
            U256::from(TOKEN_BALANCE),
        );
        // transfer(address,uint256): selector, then `to` and `amount` as 32-byte words.
        let mut input = Vec::with_capacity(68);
        input.extend_from_slice(&[0xa9, 0x05, 0x9c, 0xbb]);
        input.extend_from_slice(&[0u8; 12]);
        input.extend_from_slice(to.as_slice());
        input.extend_from_slice(&U256::from(1 + i % 1_000).to_be_bytes::<32>());
        let mut tx = Transaction::call(sender, token, 0, 100_000, GAS_PRICE);
        tx.input = Bytes::from(input);
        txs.push(tx);
    }
    pre.accounts.insert(token, token_account);
    workload("erc20", pre, block(20_000_002, txs))
}

/// `n` calls from distinct senders to [`COUNTER_CODE`], each incrementing the same slot.
pub fn hot_slot(n: usize) -> Workload {
    let counter = address(CONTRACT_TAG, 0x30);
    let mut pre = WorldState::default();
    pre.accounts.insert(counter, contract(COUNTER_CODE));
    let mut txs = Vec::with_capacity(n);
    for i in 0..n as u64 {
        let sender = address(SENDER_TAG, i);
        pre.accounts.insert(sender, funded(SENDER_BALANCE));
        txs.push(Transaction::call(sender, counter, 0, 60_000, GAS_PRICE));
    }
    workload("hot-slot", pre, block(20_000_003, txs))
}

/// `n` ETH transfers among `accounts` accounts (at least two): transaction `i` is sent by
/// account `i % accounts` to the next one, so every transaction touches accounts the others use.
pub fn few_accounts(n: usize, accounts: usize) -> Workload {
    let accounts = accounts.max(2);
    let mut pre = WorldState::default();
    for a in 0..accounts as u64 {
        pre.accounts
            .insert(address(SENDER_TAG, a), funded(SENDER_BALANCE));
    }
    let mut nonces = vec![0u64; accounts];
    let mut txs = Vec::with_capacity(n);
    for i in 0..n {
        let from = i % accounts;
        let to = (i + 1) % accounts;
        txs.push(transfer(
            address(SENDER_TAG, from as u64),
            address(SENDER_TAG, to as u64),
            nonces[from],
            1_000 + i as u64,
        ));
        nonces[from] += 1;
    }
    workload("few-accounts", pre, block(20_000_004, txs))
}

/// Runs `workload` once with sequential revm and requires every transaction to be included
/// and to succeed, so that a benchmark times real work. Returns the block's gas used.
pub fn check_with_revm(workload: &Workload) -> Result<u64, String> {
    let outcome = RevmExecutor
        .execute(workload.fork, &workload.pre, &workload.block)
        .map_err(|e| format!("builtin:{}: revm rejected the block: {e}", workload.name))?;
    let txs = workload.block.transactions.len();
    if outcome.receipts.len() != txs {
        return Err(format!(
            "builtin:{}: revm returned {} receipts for {txs} transactions",
            workload.name,
            outcome.receipts.len()
        ));
    }
    if let Some(i) = outcome.receipts.iter().position(|r| !r.success) {
        return Err(format!(
            "builtin:{}: transaction {i} failed under revm",
            workload.name
        ));
    }
    Ok(outcome.block_gas_used())
}

#[cfg(test)]
mod tests {
    use super::*;
    use lockstep_spec::types::TxKind;
    use std::collections::BTreeSet;

    fn senders(w: &Workload) -> BTreeSet<Address> {
        w.block.transactions.iter().map(|t| t.sender).collect()
    }

    fn recipients(w: &Workload) -> BTreeSet<Address> {
        w.block
            .transactions
            .iter()
            .filter_map(|t| match t.kind {
                TxKind::Call(to) => Some(to),
                TxKind::Create => None,
            })
            .collect()
    }

    fn run(w: &Workload) -> lockstep_spec::types::BlockOutcome {
        check_with_revm(w).expect("revm runs the workload");
        RevmExecutor
            .execute(w.fork, &w.pre, &w.block)
            .expect("revm runs the workload")
    }

    #[test]
    fn transfers_are_independent_and_succeed() {
        let w = transfers(200);
        assert_eq!(w.block.transactions.len(), 200);
        assert_eq!(senders(&w).len(), 200);
        let recipients = recipients(&w);
        assert_eq!(recipients.len(), 200);
        assert!(recipients.is_disjoint(&senders(&w)));
        let out = run(&w);
        assert_eq!(out.block_gas_used(), 200 * 21_000);
        let to = address(RECIPIENT_TAG, 7);
        assert_eq!(
            out.post_state.get(&to).map(|a| a.balance),
            Some(U256::from(1_007))
        );
    }

    #[test]
    fn erc20_moves_tokens_between_distinct_pairs() {
        let w = erc20(100);
        assert_eq!(w.block.transactions.len(), 100);
        assert_eq!(senders(&w).len(), 100);
        // Every call goes to the token; the token recipients (call data) are distinct.
        assert_eq!(recipients(&w).len(), 1);
        let token_recipients: BTreeSet<_> = w
            .block
            .transactions
            .iter()
            .map(|t| t.input.slice(4..36))
            .collect();
        assert_eq!(token_recipients.len(), 100);
        let out = run(&w);
        let token = address(CONTRACT_TAG, 0x20);
        let sender = address(SENDER_TAG, 5);
        let to = address(RECIPIENT_TAG, 5);
        let slot = |a: Address| U256::from_be_slice(a.as_slice());
        assert_eq!(
            out.post_state.storage(&token, &slot(sender)),
            U256::from(TOKEN_BALANCE - 6)
        );
        assert_eq!(out.post_state.storage(&token, &slot(to)), U256::from(6));
    }

    #[test]
    fn token_reverts_without_balance() {
        let mut w = erc20(1);
        let token = address(CONTRACT_TAG, 0x20);
        if let Some(account) = w.pre.accounts.get_mut(&token) {
            account.storage.clear();
        }
        let out = RevmExecutor
            .execute(w.fork, &w.pre, &w.block)
            .expect("the block is valid");
        assert!(!out.receipts[0].success);
        assert!(check_with_revm(&w).is_err());
    }

    #[test]
    fn hot_slot_counts_every_call() {
        let w = hot_slot(50);
        assert_eq!(w.block.transactions.len(), 50);
        assert_eq!(senders(&w).len(), 50);
        let out = run(&w);
        let counter = address(CONTRACT_TAG, 0x30);
        assert_eq!(
            out.post_state.storage(&counter, &U256::ZERO),
            U256::from(50)
        );
    }

    #[test]
    fn few_accounts_share_a_handful_of_accounts() {
        let w = few_accounts(100, 4);
        assert_eq!(w.block.transactions.len(), 100);
        assert_eq!(senders(&w).len(), 4);
        let out = run(&w);
        for a in 0..4 {
            assert_eq!(
                out.post_state.get(&address(SENDER_TAG, a)).map(|x| x.nonce),
                Some(25)
            );
        }
    }

    #[test]
    fn every_parallel_executor_agrees_with_revm_on_the_workloads() {
        // Smaller than the bench's, the same shapes: the sharded executors batch the
        // token's transfers and merge them (the path the bench times on `builtin:erc20`).
        // The two blocks of 1,000 are large enough for `auto` to wake its helpers before its
        // choice, and to rest them again for the hot slot, which it runs sequentially.
        let workloads = [
            transfers(300),
            erc20(300),
            hot_slot(60),
            few_accounts(120, 4),
            erc20(1_000),
            hot_slot(1_000),
        ];
        let options = crate::executors::ExecutorOptions { threads: 2 };
        for w in &workloads {
            let expected = run(w);
            for name in ["parallel", "sharded", "sharded-batched", "auto"] {
                let executor = crate::executors::by_name(name, &options).expect("built in");
                let got = executor
                    .execute(w.fork, &w.pre, &w.block)
                    .unwrap_or_else(|e| panic!("{name} on {}: {e}", w.name));
                let diff = crate::compare::diff_outcomes("revm", &expected, name, &got);
                assert_eq!(diff, None, "{name} on {}", w.name);
                if name.starts_with("sharded") && ["transfers", "erc20"].contains(&&*w.name) {
                    let mode = got.stats.mode.unwrap_or_default();
                    assert!(mode.contains("no conflict"), "{name} on {}: {mode}", w.name);
                }
            }
        }
    }

    #[test]
    fn builtin_names_resolve_with_their_minimum_sizes() {
        for name in NAMES {
            let w = by_name(name).expect("known name");
            assert_eq!(&w.name, name);
        }
        assert!(by_name("transfers").map(|w| w.block.transactions.len()) >= Some(5_000));
        assert!(by_name("erc20").map(|w| w.block.transactions.len()) >= Some(2_000));
        assert!(by_name("nope").is_none());
    }
}
