//! EIP-7702 delegation conflicts (Prague and Osaka): every block of
//! [`common::delegation`] must produce the same outcome in parallel (1, 2 and 8 threads,
//! several times each), sequentially and in the reference interpreter, and that outcome must
//! be the one the case expects.

#![cfg(not(feature = "shuttle"))]

mod common;

use common::delegation::Case;
use common::*;
use lockstep_executor::{sequential, ParallelExecutor};
use lockstep_spec::Fork;

/// Runs per thread count: conflicts show only under some interleavings.
const REPEATS: usize = 10;

/// Runs one case through every executor and checks its outcome.
fn run(case: &Case) {
    let Case {
        name,
        fork,
        pre,
        block,
        check,
    } = case;
    let spec = lockstep_spec::execute_block(*fork, pre, block);
    let expected = sequential::execute_block(*fork, pre, block);
    assert!(
        same(&spec, &expected),
        "{fork} {name}: sequential differs from the spec\n\
         spec: {spec:#?}\nsequential: {expected:#?}"
    );
    for threads in [1, 2, 8] {
        for round in 0..REPEATS {
            let got = ParallelExecutor::new(threads).execute(*fork, pre, block);
            assert!(
                same(&expected, &got),
                "{fork} {name}, {threads} threads, round {round}: parallel differs\n\
                 sequential: {expected:#?}\nparallel: {got:#?}"
            );
            let got = got.unwrap_or_else(|e| panic!("{fork} {name}: {e:?}"));
            assert!(
                got.stats.parallel,
                "{fork} {name}: the parallel path did not run"
            );
        }
    }
    let outcome = expected.unwrap_or_else(|e| panic!("{fork} {name}: {e:?}"));
    check(&outcome);
}

fn run_all(pick: fn(Fork) -> Case) {
    for fork in [Fork::Prague, Fork::Osaka] {
        run(&pick(fork));
    }
}

#[test]
fn delegation_set_then_used() {
    run_all(common::delegation::set_then_used);
}

#[test]
fn redelegation_sees_storage_written_through_the_old_code() {
    run_all(common::delegation::redelegated);
}

#[test]
fn delegation_to_precompiles_and_empty_accounts_runs_no_code() {
    run_all(common::delegation::to_precompile_and_empty);
}

#[test]
fn authorization_nonces_depend_on_earlier_transactions() {
    run_all(common::delegation::nonce_dependent);
}

#[test]
fn cleared_delegation_then_called() {
    run_all(common::delegation::cleared);
}
