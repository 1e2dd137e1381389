//! Random and PCT thread schedules, driven by shuttle, over small contention-heavy blocks: the
//! parallel outcome must equal the sequential one under every schedule. A failure prints the
//! schedule string; replay it with `LOCKSTEP_SHUTTLE_REPLAY='<schedule>' cargo test -p
//! lockstep-executor --features shuttle --test shuttle replay`.
//!
//! `LOCKSTEP_SHUTTLE_ITERATIONS` sets the number of schedules per test (default 100).

#![cfg(feature = "shuttle")]

mod common;

use common::*;
use lockstep_executor::ParallelExecutor;
use lockstep_spec::types::{Block, WorldState};
use lockstep_spec::Fork;

/// A test body: the parallel executor on 2 and 3 threads against sequential execution.
fn body(fork: Fork, pre: WorldState, block: Block) -> impl Fn() + Send + Sync + 'static {
    shuttle_body(fork, pre, block, "parallel", |threads, fork, pre, block| {
        ParallelExecutor::new(threads).execute(fork, pre, block)
    })
}

fn contention_block() -> (WorldState, Block) {
    mixed_block(Fork::Cancun, 8, 11)
}

fn invalid_nonce_block() -> (WorldState, Block) {
    let fork = Fork::London;
    let pre = world([(addr(1), eoa(1)), (addr(2), eoa(1))]);
    let txs = vec![
        call(fork, addr(1), 0, addr(2), alloy_primitives::U256::from(1)),
        call(fork, addr(2), 0, addr(1), alloy_primitives::U256::from(1)),
        call(fork, addr(1), 0, addr(2), alloy_primitives::U256::from(1)),
        call(fork, addr(2), 1, addr(1), alloy_primitives::U256::from(1)),
    ];
    (pre, block(fork, txs))
}

/// Payments from distinct senders to one deposit address, which they credit, with a contract
/// reading its balance among them.
fn deposit_block() -> (WorldState, Block) {
    let fork = Fork::Cancun;
    let deposit = addr(0xde);
    let reader = addr(0xbb);
    let code = balance_reader(deposit);
    let mut pre = world((1..=7).map(|n| (addr(n), eoa(1))));
    pre.accounts.insert(deposit, eoa(1));
    pre.accounts.insert(reader, contract(&code));
    let pay = |n: u64| call(fork, addr(n), 0, deposit, alloy_primitives::U256::from(n));
    let read = |n: u64| call(fork, addr(n), 0, reader, alloy_primitives::U256::ZERO);
    let txs = vec![pay(1), pay(2), read(3), pay(4), pay(5), read(6), pay(7)];
    (pre, block(fork, txs))
}

#[test]
fn random_schedules() {
    let (pre, block) = contention_block();
    shuttle::check_random(body(Fork::Cancun, pre, block), shuttle_iterations());
}

#[test]
fn pct_schedules() {
    let (pre, block) = contention_block();
    shuttle::check_pct(body(Fork::Cancun, pre, block), shuttle_iterations(), 3);
}

#[test]
fn random_schedules_credited_deposit() {
    let (pre, block) = deposit_block();
    shuttle::check_random(body(Fork::Cancun, pre, block), shuttle_iterations());
}

#[test]
fn random_schedules_invalid_block() {
    let (pre, block) = invalid_nonce_block();
    shuttle::check_random(body(Fork::London, pre, block), shuttle_iterations());
}

#[test]
fn replay() {
    let Ok(schedule) = std::env::var("LOCKSTEP_SHUTTLE_REPLAY") else {
        eprintln!("LOCKSTEP_SHUTTLE_REPLAY not set: nothing to replay");
        return;
    };
    let (pre, block) = contention_block();
    shuttle::replay(body(Fork::Cancun, pre, block), &schedule);
}
