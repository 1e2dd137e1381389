//! Steps of revm, through an inspector, with the block run as lockstep's sequential revm
//! executor runs it (same environment, same state between transactions).

use super::{TraceStep, MAX_STEPS};
use lockstep_executor::state::{BlockState, OwnedState, PreState};
use lockstep_executor::{block_end, env, sequential};
use lockstep_spec::types::{Block, WorldState};
use lockstep_spec::Fork;
use revm::context::{Context, ContextTr};
use revm::interpreter::interpreter::EthInterpreter;
use revm::interpreter::interpreter_types::{Jumps, MemoryTr};
use revm::interpreter::{CallInputs, CallOutcome, CreateInputs, CreateOutcome, Interpreter};
use revm::{InspectEvm, Inspector, MainBuilder, MainContext};

/// Records the state before each instruction and, after it, the gas it took.
#[derive(Default)]
struct Recorder {
    tx: Option<usize>,
    /// Frames entered and not yet left (EIP-3155 depth; the journal's depth lags by one
    /// inside sub-calls).
    depth: usize,
    steps: Vec<TraceStep>,
}

impl<CTX: ContextTr> Inspector<CTX, EthInterpreter> for Recorder {
    fn step(&mut self, interp: &mut Interpreter<EthInterpreter>, _context: &mut CTX) {
        if self.steps.len() >= MAX_STEPS {
            return;
        }
        self.steps.push(TraceStep {
            tx: self.tx,
            depth: self.depth,
            pc: interp.bytecode.pc(),
            op: interp.bytecode.opcode(),
            gas: interp.gas.remaining(),
            gas_cost: 0,
            stack: interp.stack.data().to_vec(),
            mem_size: interp.memory.size(),
            refund: interp.gas.refunded(),
        });
    }

    fn step_end(&mut self, interp: &mut Interpreter<EthInterpreter>, _context: &mut CTX) {
        if let Some(last) = self.steps.last_mut() {
            last.gas_cost = last.gas.saturating_sub(interp.gas.remaining());
        }
    }

    fn call(&mut self, _context: &mut CTX, _inputs: &mut CallInputs) -> Option<CallOutcome> {
        self.depth += 1;
        None
    }

    fn call_end(&mut self, _context: &mut CTX, _inputs: &CallInputs, _outcome: &mut CallOutcome) {
        self.depth = self.depth.saturating_sub(1);
    }

    fn create(&mut self, _context: &mut CTX, _inputs: &mut CreateInputs) -> Option<CreateOutcome> {
        self.depth += 1;
        None
    }

    fn create_end(
        &mut self,
        _context: &mut CTX,
        _inputs: &CreateInputs,
        _outcome: &mut CreateOutcome,
    ) {
        self.depth = self.depth.saturating_sub(1);
    }
}

/// Every step of `block`'s transactions (revm runs the block's system calls outside the
/// interpreter, so they have no steps here).
pub fn trace(fork: Fork, pre: &WorldState, block: &Block) -> Result<Vec<TraceStep>, String> {
    let spec = env::spec_id(fork).ok_or_else(|| {
        sequential::unsupported(fork).unwrap_or_else(|| format!("revm cannot run {fork}"))
    })?;
    let prepared = PreState::new(pre, &block.env);
    let mut state = BlockState::with_capacity(&prepared, 16);
    block_end::pre_block(fork, &mut state, block).map_err(|e| e.to_string())?;
    let mut evm = Context::mainnet()
        .with_db(OwnedState::from(state))
        .with_cfg(env::cfg_env(spec, fork, block))
        .with_block(env::block_env(fork, block))
        .build_mainnet_with_inspector(Recorder::default());
    let mut cumulative = 0u64;
    let mut blob_gas_used = 0u64;
    for (index, tx) in block.transactions.iter().enumerate() {
        if sequential::check_block_limits(fork, block, index, tx, cumulative, blob_gas_used)
            .is_err()
        {
            break;
        }
        evm.inspector.tx = Some(index);
        evm.inspector.depth = 0;
        let Ok(result) = evm.inspect_tx(env::tx_env(tx)) else {
            break;
        };
        cumulative += result.result.tx_gas_used();
        blob_gas_used += tx.blob_versioned_hashes.len() as u64 * sequential::GAS_PER_BLOB;
        evm.ctx.db_mut().0.commit(fork, result.state);
    }
    Ok(std::mem::take(&mut evm.inspector.steps))
}
