//! Runs cases through executors: each block under a watchdog and `catch_unwind`, checked
//! against the fixture, compared across executors, and turned into a [`CaseResult`].

use crate::case::{Case, CaseBlock, CaseKind};
use crate::check::check_claims;
use crate::compare::{diff_results, diff_states};
use crate::executors::BlockExecutor;
use crate::expectations::Expectations;
use crate::result::{CaseResult, ExecutorResult, Status};
use alloy_primitives::B256;
use lockstep_spec::types::{BlockError, BlockOutcome, ExecStats, WorldState};
use std::collections::HashMap;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How cases are run.
#[derive(Clone)]
pub struct Runner {
    /// Executors, in report order; the first that runs is the reference for comparisons.
    pub executors: Vec<Arc<dyn BlockExecutor>>,
    /// Per-block time limit for one executor.
    pub timeout: Duration,
    /// Committed skips and known failures.
    pub expectations: Arc<Expectations>,
}

/// What one executor did with every block of a case.
struct Trace {
    status: Status,
    /// Per block: the executor's result, or `None` where it was not run (rejected by the
    /// loader's header check or undecodable).
    results: Vec<Option<Result<BlockOutcome, BlockError>>>,
    millis: f64,
    parallel: Option<bool>,
    /// Summed counters of the blocks a parallel executor ran (parallel path or fallback).
    stats: Option<ExecStats>,
}

/// The hash of a block's parent, as the loader recorded it in the block's ancestry.
fn parent_hash(block: &CaseBlock) -> Option<B256> {
    let b = block.block.as_ref().ok()?;
    let number = b.env.number.checked_sub(1)?;
    b.env.block_hashes.get(&number).copied()
}

/// Runs `executor` on one block in a thread of its own, so that a panic is caught and a hang
/// is abandoned after `timeout` and reported.
fn execute_guarded(
    executor: &Arc<dyn BlockExecutor>,
    block: &CaseBlock,
    pre: &WorldState,
    timeout: Duration,
) -> Result<Result<BlockOutcome, BlockError>, String> {
    let Ok(b) = &block.block else {
        return Err("block is not decodable".into());
    };
    let (tx, rx) = mpsc::channel();
    let (executor, fork, pre, b) = (executor.clone(), block.fork, pre.clone(), b.clone());
    let spawned = std::thread::Builder::new()
        .name(format!("exec-{}", executor.name()))
        .stack_size(256 << 20)
        .spawn(move || {
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                executor.try_execute(fork, &pre, &b)
            }));
            let _ = tx.send(result);
        });
    let handle = match spawned {
        Ok(handle) => handle,
        Err(e) => return Err(format!("cannot start executor thread: {e}")),
    };
    let received = rx.recv_timeout(timeout);
    if received.is_ok() {
        // The thread has sent its result and is ending: join it rather than detach it.
        // Detaching a thread at the moment it exits races in glibc when its stack is too
        // big for glibc's stack cache (ours is, at 256 MiB): the exiting thread unmaps the
        // stack holding its descriptor while `pthread_detach` still reads it (seen as a
        // rare segfault over hundreds of thousands of runs).
        let _ = handle.join();
    }
    // A hung thread (watchdog) is left running, detached.
    match received {
        Ok(Ok(result)) => result,
        Ok(Err(panic)) => {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "non-string panic".into());
            Err(format!("panicked: {msg}"))
        }
        Err(mpsc::RecvTimeoutError::Timeout) => Err(format!(
            "did not finish within {} s (watchdog)",
            timeout.as_secs_f64()
        )),
        Err(mpsc::RecvTimeoutError::Disconnected) => Err("executor thread vanished".into()),
    }
}

impl Runner {
    fn run_executor(&self, executor: &Arc<dyn BlockExecutor>, case: &Case) -> Trace {
        let mut state = case.pre.clone();
        let mut results = Vec::with_capacity(case.blocks.len());
        let mut millis = 0.0;
        let mut parallel: Option<bool> = None;
        let mut stats: Option<ExecStats> = None;
        let mut last_hash = None;
        // Post-state of every accepted block by hash; the genesis (parent of the first block)
        // holds the pre-state.
        let mut states: HashMap<B256, WorldState> = HashMap::new();
        if let Some(genesis) = case.blocks.first().and_then(parent_hash) {
            states.insert(genesis, case.pre.clone());
        }
        macro_rules! finish {
            ($status:expr, $results:expr, $millis:expr, $parallel:expr $(,)?) => {
                Trace {
                    status: $status,
                    results: $results,
                    millis: $millis,
                    parallel: $parallel,
                    stats: stats.clone(),
                }
            };
        }
        for (i, block) in case.blocks.iter().enumerate() {
            let expect = &block.expect;
            let label = if case.blocks.len() > 1 {
                format!("block {} ", i + 1)
            } else {
                String::new()
            };
            // Blocks the loader already knows to be broken are never executed.
            let precheck = match (&block.block, &expect.header_error) {
                (Err(reason), _) => Some(format!("cannot be decoded: {reason}")),
                (_, Some(rule)) => Some(format!("breaks a header rule: {rule}")),
                _ => None,
            };
            if let Some(why) = precheck {
                results.push(None);
                if expect.exception.is_none() {
                    return finish!(
                        Status::Failed(format!("{label}{why}")),
                        results,
                        millis,
                        parallel,
                    );
                }
                continue;
            }
            if let Ok(b) = &block.block {
                if let Some(reason) = executor.unsupported(block.fork, b) {
                    return finish!(Status::Skipped(reason), results, millis, parallel);
                }
            }
            // Blockchain tests may build side chains: run each block on its parent's state.
            if let Some(parent) = parent_hash(block) {
                if let Some(parent_state) = states.get(&parent) {
                    state = parent_state.clone();
                }
            }
            let started = Instant::now();
            let result = execute_guarded(executor, block, &state, self.timeout);
            millis += started.elapsed().as_secs_f64() * 1e3;
            let result = match result {
                Ok(r) => r,
                Err(e) => {
                    results.push(None);
                    // A broken Block-STM invariant is a wrong execution, not bad input.
                    let status = if e.contains(lockstep_executor::INVARIANT_VIOLATED) {
                        Status::Diverged(format!("{label}{}: {e}", executor.name()))
                    } else {
                        Status::Error(format!("{label}{}: {e}", executor.name()))
                    };
                    return finish!(status, results, millis, parallel);
                }
            };
            if let Ok(outcome) = &result {
                if outcome.stats.parallel || outcome.stats.fallback.is_some() {
                    parallel = Some(parallel.unwrap_or(true) && outcome.stats.parallel);
                    let total = stats.get_or_insert_with(ExecStats::default);
                    total.parallel |= outcome.stats.parallel;
                    total.incarnations += outcome.stats.incarnations;
                    total.aborts += outcome.stats.aborts;
                    total.validations += outcome.stats.validations;
                    total.dependency_waits += outcome.stats.dependency_waits;
                }
            }
            let verdict = match (&result, &expect.exception) {
                (Ok(_), None) if expect.body_error.is_some() => Some(format!(
                    "{label}accepted, but its body breaks a rule: {}",
                    expect.body_error.as_deref().unwrap_or_default()
                )),
                (Ok(_), Some(_)) if expect.body_error.is_some() => None,
                (Ok(outcome), None) => match check_claims(block.fork, outcome, &expect.claims) {
                    Some(mismatch) => Some(format!("{label}{mismatch}")),
                    None => {
                        state = outcome.post_state.clone();
                        if let Some(hash) = block.hash {
                            states.insert(hash, state.clone());
                            last_hash = Some(hash);
                        }
                        None
                    }
                },
                // A block whose header claims what its execution does not produce is rejected
                // by that check; a state test's transaction must be rejected by the executor.
                (Ok(outcome), Some(_))
                    if case.kind != CaseKind::StateTest
                        && check_claims(block.fork, outcome, &expect.claims).is_some() =>
                {
                    None
                }
                (Ok(_), Some(exception)) => Some(format!(
                    "{label}accepted, but the fixture expects it rejected ({exception})"
                )),
                (Err(_), Some(_)) => None,
                // A generated block has no expectations: its executors are only compared.
                (Err(_), None) if case.kind == CaseKind::Generated => None,
                (Err(e), None) => Some(format!("{label}rejected: {e}")),
            };
            results.push(Some(result));
            if let Some(v) = verdict {
                return finish!(Status::Failed(v), results, millis, parallel);
            }
        }
        // The canonical head is the fixture's last block hash, which need not be the last block
        // run (side chains, reorgs).
        if let Some(head) = case.expect.last_block_hash {
            if let Some(head_state) = states.get(&head) {
                state = head_state.clone();
                last_hash = Some(head);
            }
        }
        if let Some(expected) = &case.expect.post_state {
            if let Some(d) = diff_states(executor.name(), &state, "expected", expected) {
                return finish!(
                    Status::Failed(format!("post-state: {d}")),
                    results,
                    millis,
                    parallel,
                );
            }
        }
        if let Some(expected) = case.expect.state_root {
            let got = lockstep_spec::trie::state_root(&state);
            if got != expected {
                return finish!(
                    Status::Failed(format!("post-state root: got {got}, expected {expected}")),
                    results,
                    millis,
                    parallel,
                );
            }
        }
        if let (Some(expected), Some(got)) = (case.expect.last_block_hash, last_hash) {
            if got != expected {
                return finish!(
                    Status::Failed(format!("last block hash: got {got}, expected {expected}")),
                    results,
                    millis,
                    parallel,
                );
            }
        }
        finish!(Status::Passed, results, millis, parallel)
    }

    /// Runs one case through every executor.
    pub fn run_case(&self, case: &Case) -> CaseResult {
        let mut executors = Vec::with_capacity(self.executors.len());
        let mut traces: Vec<(String, Trace)> = Vec::new();
        let skip = case
            .skip
            .clone()
            .or_else(|| self.expectations.skip_reason(&case.id));
        for executor in &self.executors {
            let trace = match &skip {
                Some(reason) => Trace {
                    status: Status::Skipped(reason.clone()),
                    results: vec![],
                    millis: 0.0,
                    parallel: None,
                    stats: None,
                },
                None => self.run_executor(executor, case),
            };
            let status = match &trace.status {
                Status::Failed(reason) => {
                    match self.expectations.known_failure(executor.name(), &case.id) {
                        Some(known) => Status::KnownFailure(format!("{reason} (known: {known})")),
                        None => trace.status.clone(),
                    }
                }
                other => other.clone(),
            };
            executors.push(ExecutorResult {
                executor: executor.name().to_string(),
                status,
                millis: trace.millis,
                parallel: trace.parallel,
                stats: trace.stats.clone(),
            });
            traces.push((executor.name().to_string(), trace));
        }
        // Cross-executor comparison. Executors with the same verdict must agree block by block:
        // all that passed, and all whose failure is known (an executor built on revm must equal
        // revm where revm is known to be wrong). A plain failure is already reported as such.
        let mut divergence = None;
        for class in ["passed", "known_failure"] {
            let members: Vec<_> = traces
                .iter()
                .zip(&executors)
                .filter(|(_, e)| e.status.name() == class)
                .map(|((name, trace), _)| (name, trace))
                .collect();
            let Some(((ref_name, reference), others)) = members.split_first() else {
                continue;
            };
            'others: for (name, trace) in others {
                for (i, (a, b)) in reference.results.iter().zip(&trace.results).enumerate() {
                    if let (Some(a), Some(b)) = (a, b) {
                        if let Some(d) = diff_results(ref_name, a, name, b) {
                            let at = if case.blocks.len() > 1 {
                                format!("block {}: ", i + 1)
                            } else {
                                String::new()
                            };
                            divergence = Some(format!("{at}{d}"));
                            break 'others;
                        }
                    }
                }
            }
            if divergence.is_some() {
                break;
            }
        }
        let status = overall(&executors, divergence);
        CaseResult {
            id: case.id.clone(),
            fork: case.fork.to_string(),
            status,
            executors,
        }
    }
}

/// The case's verdict from its executors' verdicts and any divergence between them.
fn overall(executors: &[ExecutorResult], divergence: Option<String>) -> Status {
    let named =
        |e: &ExecutorResult| format!("{}: {}", e.executor, e.status.reason().unwrap_or_default());
    if let Some(e) = executors
        .iter()
        .find(|e| matches!(e.status, Status::Error(_)))
    {
        return Status::Error(named(e));
    }
    if let Some(e) = executors
        .iter()
        .find(|e| matches!(e.status, Status::Failed(_)))
    {
        return Status::Failed(named(e));
    }
    // An executor that broke its own invariants diverged whatever the others did.
    if let Some(e) = executors
        .iter()
        .find(|e| matches!(e.status, Status::Diverged(_)))
    {
        return Status::Diverged(named(e));
    }
    if let Some(d) = divergence {
        return Status::Diverged(d);
    }
    if let Some(e) = executors
        .iter()
        .find(|e| matches!(e.status, Status::KnownFailure(_)))
    {
        return Status::KnownFailure(named(e));
    }
    if executors
        .iter()
        .all(|e| matches!(e.status, Status::Skipped(_)))
    {
        let reasons: Vec<_> = executors.iter().filter_map(|e| e.status.reason()).collect();
        let mut unique = reasons.clone();
        unique.dedup();
        return Status::Skipped(unique.join("; "));
    }
    Status::Passed
}
