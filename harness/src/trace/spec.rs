//! Steps of lockstep's reference interpreter, through its EIP-3155 hook.

use super::{TraceStep, MAX_STEPS};
use lockstep_spec::types::{Block, WorldState};
use lockstep_spec::vm::trace::{Step, Tracer};
use lockstep_spec::Fork;

/// Collects steps, tagged with the transaction the interpreter says is running.
///
/// The interpreter reports an instruction once it has run, so a CALL or CREATE arrives after
/// the steps of the frame it ran; it is put back before them, where EIP-3155 (and revm) have it.
#[derive(Default)]
struct Recorder {
    tx: Option<usize>,
    steps: Vec<TraceStep>,
    /// Per depth, the position just after that depth's last step, while deeper steps follow.
    after_last: Vec<usize>,
}

impl Tracer for Recorder {
    fn step(&mut self, step: &Step<'_>) {
        if self.steps.len() < MAX_STEPS {
            let depth = step.depth;
            self.after_last.truncate(depth + 1);
            self.after_last.resize(depth + 1, usize::MAX);
            let len = self.steps.len();
            let at = self.after_last[depth].min(len);
            // Put back before the frame it ran, the instruction owns those steps: this depth's
            // next step goes after them. Appended, it may still be followed by its own frame.
            self.after_last[depth] = if at < len { usize::MAX } else { at + 1 };
            self.steps.insert(
                at,
                TraceStep {
                    tx: self.tx,
                    depth: step.depth,
                    pc: step.pc,
                    op: step.op,
                    gas: step.gas,
                    gas_cost: step.gas_cost,
                    stack: step.stack.to_vec(),
                    mem_size: step.mem_size,
                    refund: step.refund,
                },
            );
        }
    }

    fn transaction(&mut self, index: Option<usize>) {
        self.tx = index;
        self.after_last.clear();
    }
}

/// Every step of `block`'s transactions. The block's system calls are left out: revm runs
/// them outside its interpreter, so only transactions can be compared step by step.
pub fn trace(fork: Fork, pre: &WorldState, block: &Block) -> Vec<TraceStep> {
    let mut recorder = Recorder::default();
    let _ = lockstep_spec::execute_block_traced(fork, pre, block, &mut recorder);
    recorder.steps.retain(|s| s.tx.is_some());
    recorder.steps
}
