//! Random and PCT thread schedules, driven by shuttle, over the sharded executor's phases
//! (run the shards, which claim the transactions predicted independent from a pool one at
//! a time under shuttle; check each against the others while the parts are merged and the
//! transactions tallied; free the runs): the outcome must equal the sequential one under
//! every schedule, for a block that merges clean and for blocks whose shards conflict, with
//! either batching. `LOCKSTEP_SHUTTLE_ITERATIONS` sets the schedules per test (default 100).

#![cfg(feature = "shuttle")]

mod common;

use alloy_primitives::U256;
use common::*;
use lockstep_executor::sharded::{Batching, ShardedExecutor};
use lockstep_executor::Engine;
use lockstep_spec::types::{Block, WorldState};
use lockstep_spec::Fork;

/// A test body: the sharded executor on 2 and 3 threads against sequential execution.
fn body(fork: Fork, pre: WorldState, block: Block) -> impl Fn() + Send + Sync + 'static {
    shuttle_body(fork, pre, block, "sharded", |threads, fork, pre, block| {
        ShardedExecutor::new(threads).execute(fork, pre, block)
    })
}

/// The sharded executor batching every block, on 2 and 3 threads, against sequential
/// execution.
fn batched_body(fork: Fork, pre: WorldState, block: Block) -> impl Fn() + Send + Sync + 'static {
    shuttle_body(
        fork,
        pre,
        block,
        "sharded-batched",
        |threads, fork, pre, block| {
            ShardedExecutor::with_batching(threads, Batching::Journal).execute(fork, pre, block)
        },
    )
}

/// Calls with call data (so batched) from different senders, `targets` of them to counters
/// of their own and the rest to one shared counter.
fn batched_calls_block(targets: u64, shared: u64) -> (WorldState, Block) {
    let fork = Fork::Cancun;
    let calls = targets + shared;
    let mut pre = world((1..=calls).map(|n| (addr(n), eoa(1))));
    for n in 0..=targets {
        pre.accounts.insert(addr(0x100 + n), contract(&COUNTER));
    }
    let txs = (1..=calls)
        .map(|n| {
            let to = addr(0x100 + if n <= targets { n } else { 0 });
            let mut tx = call(fork, addr(n), 0, to, U256::ZERO);
            tx.input = vec![1u8].into();
            tx
        })
        .collect();
    (pre, block(fork, txs))
}

/// Independent transfers: every schedule must merge the shards.
fn clean_block() -> (WorldState, Block) {
    let fork = Fork::Cancun;
    let pre = world((1..=12).map(|n| (addr(n), eoa(1))));
    let txs = (1..=6)
        .map(|n| call(fork, addr(n), 0, addr(n + 6), U256::from(n)))
        .collect();
    (pre, block(fork, txs))
}

/// Calls from different senders to one counter: predicted independent, so dealt to different
/// shards, but every call after the first reads what an earlier one wrote.
/// With two calls, the first shard is clean and the second is not: a shard must not drop
/// its changes before every shard has been checked.
fn hot_slot_block(calls: u64) -> (WorldState, Block) {
    let fork = Fork::Cancun;
    let counter = addr(0x100);
    let mut pre = world((1..=calls).map(|n| (addr(n), eoa(1))));
    pre.accounts.insert(counter, contract(&COUNTER));
    let txs = (1..=calls)
        .map(|n| call(fork, addr(n), 0, counter, U256::ZERO))
        .collect();
    (pre, block(fork, txs))
}

/// A log of callers: slot 0 counts the calls, and slot n holds the n-th caller, so that the
/// final storage tells the order the calls ran in.
const CALLER_LOG: [u8; 14] = [
    0x60, 0x00, 0x54, // n = SLOAD(0)
    0x60, 0x01, 0x01, // n + 1
    0x80, 0x33, 0x90, 0x55, // SSTORE(n + 1, CALLER)
    0x60, 0x00, 0x55, // SSTORE(0, n + 1)
    0x00,
];

/// Calls of one caller log, two of them by one sender: that sender's chain is a group the
/// partition deals to a shard, and the other calls wait in the pool. A shard must run the
/// calls it claims and its own in block order, whichever it claims when.
fn chain_beside_pool_block() -> (WorldState, Block) {
    let fork = Fork::Cancun;
    let counter = addr(0x100);
    let mut pre = world((1..=19).map(|n| (addr(n), eoa(1))));
    pre.accounts.insert(counter, contract(&CALLER_LOG));
    // Sender 1 first and halfway; 18 others alone, enough for the block to be pooled
    // (`MIN_POOLED_SHARE`).
    let mut senders: Vec<(u64, u64)> = (2..=19).map(|n| (n, 0)).collect();
    senders.insert(0, (1, 0));
    senders.insert(10, (1, 1));
    let txs = senders
        .into_iter()
        .map(|(n, nonce)| call(fork, addr(n), nonce, counter, U256::ZERO))
        .collect();
    (pre, block(fork, txs))
}

#[test]
fn random_schedules_chain_beside_pool() {
    let (pre, block) = chain_beside_pool_block();
    shuttle::check_random(body(Fork::Cancun, pre, block), shuttle_iterations());
}

#[test]
fn random_schedules_hot_slot() {
    let (pre, block) = hot_slot_block(6);
    shuttle::check_random(body(Fork::Cancun, pre, block), shuttle_iterations());
}

#[test]
fn pct_schedules_hot_slot() {
    let (pre, block) = hot_slot_block(6);
    shuttle::check_pct(body(Fork::Cancun, pre, block), shuttle_iterations(), 3);
}

#[test]
fn pct_schedules_one_clean_shard() {
    let (pre, block) = hot_slot_block(2);
    shuttle::check_pct(body(Fork::Cancun, pre, block), shuttle_iterations(), 3);
}

#[test]
fn random_schedules_clean_merge() {
    let (pre, block) = clean_block();
    shuttle::check_random(body(Fork::Cancun, pre, block), shuttle_iterations());
}

#[test]
fn pct_schedules_conflicting_shards() {
    let (pre, block) = mixed_block(Fork::Cancun, 8, 11);
    shuttle::check_pct(body(Fork::Cancun, pre, block), shuttle_iterations(), 3);
}

#[test]
fn random_schedules_batched_clean_merge() {
    let (pre, block) = batched_calls_block(6, 0);
    shuttle::check_random(batched_body(Fork::Cancun, pre, block), shuttle_iterations());
}

#[test]
fn pct_schedules_batched_conflicts() {
    let (pre, block) = batched_calls_block(3, 3);
    shuttle::check_pct(
        batched_body(Fork::Cancun, pre, block),
        shuttle_iterations(),
        3,
    );
}
