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
