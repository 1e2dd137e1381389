//! Random and PCT thread schedules, driven by shuttle, over small contention-heavy blocks: the
//! parallel outcome must equal the sequential one under every schedule. A failure prints the
//! schedule string; replay it with `LOCKSTEP_SHUTTLE_REPLAY='<schedule>' cargo test -p
//! lockstep-executor --features shuttle --test shuttle replay`.
//!
//! `LOCKSTEP_SHUTTLE_ITERATIONS` sets the number of schedules per test (default 100).

#![cfg(feature = "shuttle")]

mod common;

use common::*;
use lockstep_executor::{sequential, ParallelExecutor};
use lockstep_spec::types::{Block, WorldState};
use lockstep_spec::Fork;
use std::sync::Arc;

fn iterations() -> usize {
    std::env::var("LOCKSTEP_SHUTTLE_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100)
}

/// A test body: the parallel executor on 2 and 3 threads against sequential execution.
fn body(fork: Fork, pre: WorldState, block: Block) -> impl Fn() + Send + Sync + 'static {
    let expected = Arc::new(sequential::execute_block(fork, &pre, &block));
    let input = Arc::new((pre, block));
    move || {
        let (pre, block) = &*input;
        for threads in [2, 3] {
            let got = ParallelExecutor::new(threads).execute(fork, pre, block);
            assert!(
                same(&expected, &got),
                "{threads} threads: parallel differs from sequential\n\
                 sequential: {expected:#?}\nparallel: {got:#?}"
            );
        }
    }
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
    shuttle::check_random(body(Fork::Cancun, pre, block), iterations());
}

#[test]
fn pct_schedules() {
    let (pre, block) = contention_block();
    shuttle::check_pct(body(Fork::Cancun, pre, block), iterations(), 3);
}

#[test]
fn random_schedules_invalid_block() {
    let (pre, block) = invalid_nonce_block();
    shuttle::check_random(body(Fork::London, pre, block), iterations());
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
