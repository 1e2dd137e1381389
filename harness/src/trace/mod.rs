//! First differing step: runs a block under two engines that can trace (the spec's EIP-3155
//! hook, revm's inspector) and names the first instruction where they part: transaction,
//! call depth, program counter, opcode and the first differing field (program counter,
//! opcode, gas, stack, memory size), with a few steps of context before it (which show the
//! refund counter and each step's gas cost too).
//!
//! The parallel executor's final incarnations are plain revm runs, so `revm` stands for it.
//! A t8n tool (`t8n:CMD`) is run once per block with `--trace`, its EIP-3155 lines read back.

mod diff;
mod revm;
mod spec;
mod t8n;

pub use diff::{first_difference, FirstDifference};

use crate::case::Case;
use alloy_primitives::U256;
use lockstep_spec::types::{Block, WorldState};
use lockstep_spec::Fork;
use std::fmt::Write as _;

/// Steps kept per engine and block; a longer trace is cut there (and said so).
pub const MAX_STEPS: usize = 2_000_000;

/// One instruction, with the machine state before it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceStep {
    /// The block's transaction, or `None` for the block's own system calls.
    pub tx: Option<usize>,
    /// Call depth, 1 for the transaction's own frame.
    pub depth: usize,
    /// Program counter.
    pub pc: usize,
    /// Opcode.
    pub op: u8,
    /// Gas left before the instruction.
    pub gas: u64,
    /// Gas the instruction took, as the engine reports it (shown, not compared: engines count
    /// the gas handed to a sub-call differently).
    pub gas_cost: u64,
    /// Stack, bottom first.
    pub stack: Vec<U256>,
    /// Memory size in bytes.
    pub mem_size: usize,
    /// Refund counter.
    pub refund: i64,
}

/// An engine that can trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tracing {
    /// lockstep's reference interpreter.
    Spec,
    /// Sequential revm (and so the parallel executor's final incarnations).
    Revm,
    /// A t8n tool, by its executor name `t8n:CMD` (always a process per block).
    T8n(String),
}

impl Tracing {
    /// The engine called `name` (`spec`, `revm`, `parallel`, traced as revm, or `t8n:CMD`).
    pub fn by_name(name: &str) -> Result<Tracing, String> {
        match name {
            "spec" => Ok(Tracing::Spec),
            "revm" | "parallel" => Ok(Tracing::Revm),
            t8n if t8n.starts_with("t8n:") || t8n.starts_with("t8n-process:") => {
                Ok(Tracing::T8n(t8n.to_string()))
            }
            other => Err(format!(
                "executor `{other}` cannot trace (spec, revm, parallel and t8n:CMD can)"
            )),
        }
    }

    /// The name in reports.
    pub fn name(&self) -> String {
        match self {
            Tracing::Spec => "spec".into(),
            Tracing::Revm => "revm".into(),
            Tracing::T8n(name) => crate::executors::T8nExecutor::from_name(name)
                .map(|t| crate::executors::BlockExecutor::name(&t).to_string())
                .unwrap_or_else(|_| name.clone()),
        }
    }
}

/// Every step of `block` under `engine`; `Err` where the engine cannot run it. The block's
/// own result (valid or rejected) does not matter here: steps are what is compared.
pub fn trace_block(
    engine: &Tracing,
    fork: Fork,
    pre: &WorldState,
    block: &Block,
) -> Result<Vec<TraceStep>, String> {
    let mut steps = match engine {
        Tracing::Spec => spec::trace(fork, pre, block),
        Tracing::Revm => revm::trace(fork, pre, block)?,
        Tracing::T8n(name) => t8n::trace(name, fork, pre, block)?,
    };
    drop_empty_frames(&mut steps);
    Ok(steps)
}

/// Removes the lone STOP of a frame that stopped at once: the spec runs code-less accounts as
/// an implicit STOP, revm does not enter its interpreter for them.
fn drop_empty_frames(steps: &mut Vec<TraceStep>) {
    let lone_stop = |i: usize, steps: &[TraceStep]| {
        let s = &steps[i];
        let entered = i == 0 || steps[i - 1].depth < s.depth || steps[i - 1].tx != s.tx;
        let left = steps
            .get(i + 1)
            .is_none_or(|n| n.depth < s.depth || n.tx != s.tx);
        s.op == 0x00 && s.pc == 0 && entered && left
    };
    let keep: Vec<bool> = (0..steps.len()).map(|i| !lone_stop(i, steps)).collect();
    let mut i = 0;
    steps.retain(|_| {
        i += 1;
        keep[i - 1]
    });
}

/// Traces every block of `case` under `a` and `b` and describes, per block, the first
/// differing step or that the traces agree. Blocks run on `case.pre` chained through `a`'s
/// post-states (stopping at the first block `a` rejects).
pub fn trace_case(case: &Case, a: &Tracing, b: &Tracing, context: usize) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", case.id);
    let mut state = case.pre.clone();
    for (i, case_block) in case.blocks.iter().enumerate() {
        let label = if case.blocks.len() > 1 {
            format!("  block {}: ", i + 1)
        } else {
            "  ".to_string()
        };
        let Ok(block) = &case_block.block else {
            let _ = writeln!(out, "{label}not decodable, not traced");
            break;
        };
        let traces = (
            trace_block(a, case_block.fork, &state, block),
            trace_block(b, case_block.fork, &state, block),
        );
        match traces {
            (Ok(ta), Ok(tb)) => match first_difference(&ta, &tb) {
                Some(d) => {
                    let _ = write!(
                        out,
                        "{label}{}",
                        d.render(&a.name(), &b.name(), &ta, &tb, context)
                    );
                }
                None => {
                    let _ = writeln!(out, "{label}traces agree ({} steps)", ta.len());
                }
            },
            (Err(e), _) | (_, Err(e)) => {
                let _ = writeln!(out, "{label}not traced: {e}");
                break;
            }
        }
        match lockstep_spec::execute_block(case_block.fork, &state, block) {
            Ok(outcome) => state = outcome.post_state,
            Err(_) => break,
        }
    }
    out
}
