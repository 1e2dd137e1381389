//! `t8n:CMD`: any tool that speaks the t8n ("transition") protocol as an executor: geth's
//! `evm t8n`, evmone, besu, nethermind, ethereumjs, and the official Python specification's
//! `ethereum-spec-evm t8n`, the second oracle beside lockstep's own `spec`.
//!
//! Names on the command line (`--executors`; CMD is split at spaces, no quoting, no commas):
//! - `t8n:CMD`: one `CMD --input.alloc=.. --input.env=.. --input.txs=.. --output.basedir=..
//!   --state.fork=.. --state.chainid=.. --state.reward=.. [--state-test]` process per block.
//!   If CMD is the Python spec's `ethereum-spec-evm t8n`, its daemon is used instead
//!   (`ethereum-spec-evm daemon`, same answers, about 80 times faster).
//! - `t8n-process:CMD`: always a process per block.
//! - `t8n-daemon:CMD`: `CMD --uds SOCKET` serves t8n requests over HTTP on a Unix socket, as
//!   `ethereum-spec-evm daemon` does; one daemon per block running at once, started lazily.
//!
//! A tool that crashes, hangs past the time limit (`LOCKSTEP_T8N_TIMEOUT` seconds, default 60)
//! or prints something that is not t8n output is that case's error, with its stderr.

mod daemon;
mod input;
mod output;
mod process;
mod rules;

pub use input::{alloc_json, input, tx_json, Input};
pub use output::{outcome, parse_alloc, result_json};

use super::BlockExecutor;
use lockstep_spec::types::{Block, BlockError, BlockOutcome, BlockRule, WorldState};
use lockstep_spec::Fork;
use std::path::Path;
use std::time::Duration;

/// Default per-block time limit of a t8n tool.
const DEFAULT_LIMIT: Duration = Duration::from_secs(60);

/// How the tool is run.
#[derive(Debug)]
enum Engine {
    /// A new process per block.
    Process(Vec<String>),
    /// Requests to daemons.
    Daemon(daemon::Pool),
}

/// An external t8n tool as a [`BlockExecutor`].
#[derive(Debug)]
pub struct T8nExecutor {
    name: String,
    engine: Engine,
    limit: Duration,
    /// The tool is the Python execution spec (`ethereum-spec-evm`), whose limits are known.
    python_spec: bool,
}

/// Interpreters whose first argument, not themselves, names the tool.
const INTERPRETERS: &[&str] = &["python", "python3", "sh", "bash", "env", "node"];

fn file_name(word: &str) -> &str {
    Path::new(word)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or(word)
}

/// Words of CMD, with relative paths made absolute (a daemon runs in a folder of its own).
fn words(cmd: &str) -> Result<Vec<String>, String> {
    let cwd = std::env::current_dir().ok();
    let words: Vec<String> = cmd
        .split_whitespace()
        .map(|w| match &cwd {
            Some(cwd) if w.contains('/') && !w.starts_with('-') && Path::new(w).is_relative() => {
                let full = cwd.join(w);
                if full.exists() {
                    full.display().to_string()
                } else {
                    w.to_string()
                }
            }
            _ => w.to_string(),
        })
        .collect();
    if words.is_empty() {
        return Err("a t8n executor needs a command, as in `t8n:ethereum-spec-evm t8n`".into());
    }
    Ok(words)
}

/// `t8n:` plus the tool's file name (the script's, for an interpreter).
fn label(words: &[String]) -> String {
    let tool = words
        .iter()
        .map(|w| file_name(w))
        .find(|w| !INTERPRETERS.contains(w) && !w.starts_with('-'))
        .unwrap_or("tool");
    format!("t8n:{tool}")
}

impl T8nExecutor {
    /// Builds an executor from its command-line name: `t8n:CMD`, `t8n-process:CMD` or
    /// `t8n-daemon:CMD` (see the module documentation).
    pub fn from_name(name: &str) -> Result<Self, String> {
        let (kind, cmd) = name
            .split_once(':')
            .ok_or_else(|| format!("`{name}` is not of the form t8n:CMD"))?;
        let words = words(cmd)?;
        let python_spec = file_name(&words[0]) == "ethereum-spec-evm";
        let engine = match kind {
            "t8n" if python_spec && words.get(1).map(String::as_str) == Some("t8n") => {
                // Shuts itself down after 10 idle minutes should lockstep die without killing it.
                let mut daemon = vec![words[0].clone(), "daemon".into(), "--timeout".into()];
                daemon.push("600".into());
                daemon.extend(words[2..].iter().cloned());
                Engine::Daemon(daemon::Pool::new(daemon))
            }
            "t8n" | "t8n-process" => Engine::Process(words.clone()),
            "t8n-daemon" => Engine::Daemon(daemon::Pool::new(words.clone())),
            other => return Err(format!("unknown t8n executor kind `{other}`")),
        };
        let limit = std::env::var("LOCKSTEP_T8N_TIMEOUT")
            .ok()
            .and_then(|s| s.parse::<f64>().ok())
            .filter(|s| *s > 0.0)
            .map_or(DEFAULT_LIMIT, Duration::from_secs_f64);
        Ok(T8nExecutor {
            name: label(&words),
            engine,
            limit,
            python_spec,
        })
    }

    /// The same executor with another per-block time limit.
    pub fn with_time_limit(mut self, limit: Duration) -> Self {
        self.limit = limit;
        self
    }

    /// The same executor under another name (in reports).
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Whether requests go to daemons rather than to a process per block.
    pub fn uses_daemon(&self) -> bool {
        matches!(self.engine, Engine::Daemon(_))
    }

    /// What the Python spec's t8n (2.20.0) cannot run.
    fn python_spec_limits(fork: Fork, block: &Block) -> Option<String> {
        if fork == Fork::Constantinople {
            return Some(
                "the Python spec has no rules for Constantinople (EIP-1283), only for Petersburg"
                    .into(),
            );
        }
        if fork > Fork::Bpo2 {
            return Some(format!("the Python spec has no rules for {fork}"));
        }
        if block.env.chain_id != 1 {
            return Some(format!(
                "the Python spec's t8n reads every transaction's chain id as 1, this block's is {}",
                block.env.chain_id
            ));
        }
        if !block.ommers.is_empty() {
            return Some(
                "the Python spec's t8n cannot pay ommer rewards (its ommers have no number)".into(),
            );
        }
        None
    }
}

/// Runs `block` through the t8n tool named `name` (`t8n:CMD`, always one process, with
/// `--trace`) and returns each transaction's EIP-3155 trace (JSON lines) by index.
pub fn trace_lines(
    name: &str,
    fork: Fork,
    pre: &WorldState,
    block: &Block,
) -> Result<Vec<(usize, String)>, String> {
    let cmd = name
        .split_once(':')
        .map(|(_, cmd)| cmd)
        .ok_or_else(|| format!("`{name}` is not of the form t8n:CMD"))?;
    let executor = T8nExecutor::from_name(name)?;
    if let Some(reason) = executor.unsupported(fork, block) {
        return Err(reason);
    }
    process::run_traced(
        &words(cmd)?,
        &input::input(fork, pre, block),
        executor.limit,
    )
}

impl BlockExecutor for T8nExecutor {
    fn name(&self) -> &str {
        &self.name
    }

    fn unsupported(&self, fork: Fork, block: &Block) -> Option<String> {
        if self.python_spec {
            if let Some(reason) = Self::python_spec_limits(fork, block) {
                return Some(reason);
            }
        }
        input::unrepresentable(block)
    }

    fn execute(
        &self,
        fork: Fork,
        pre: &WorldState,
        block: &Block,
    ) -> Result<BlockOutcome, BlockError> {
        self.try_execute(fork, pre, block)
            .unwrap_or_else(|message| {
                Err(BlockError::Block {
                    rule: BlockRule::Other,
                    message,
                })
            })
    }

    fn try_execute(
        &self,
        fork: Fork,
        pre: &WorldState,
        block: &Block,
    ) -> Result<Result<BlockOutcome, BlockError>, String> {
        let input = input::input(fork, pre, block);
        let (result, alloc) = match &self.engine {
            Engine::Process(command) => process::run(command, &input, self.limit)?,
            Engine::Daemon(pool) => pool.run(&input, self.limit)?,
        };
        output::outcome(fork, block, &result, &alloc)
            .map_err(|e| format!("the t8n tool's output is not t8n output: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_choose_the_engine_and_label() {
        let eels = T8nExecutor::from_name("t8n:ethereum-spec-evm t8n").expect("valid");
        assert!(eels.uses_daemon());
        assert_eq!(eels.name(), "t8n:ethereum-spec-evm");
        let forced = T8nExecutor::from_name("t8n-process:ethereum-spec-evm t8n").expect("valid");
        assert!(!forced.uses_daemon());
        let geth = T8nExecutor::from_name("t8n:evm t8n").expect("valid");
        assert!(!geth.uses_daemon());
        let script = T8nExecutor::from_name("t8n:python3 tools/fake.py --x").expect("valid");
        assert_eq!(script.name(), "t8n:fake.py");
        assert!(T8nExecutor::from_name("t8n:").is_err());
        assert!(T8nExecutor::from_name("t8n-other:x").is_err());
    }

    #[test]
    fn the_python_spec_skips_what_it_cannot_run() {
        let eels = T8nExecutor::from_name("t8n:ethereum-spec-evm t8n").expect("valid");
        let block = Block {
            env: lockstep_spec::types::BlockEnv {
                chain_id: 1,
                ..Default::default()
            },
            ..Default::default()
        };
        assert!(eels.unsupported(Fork::Constantinople, &block).is_some());
        assert!(eels.unsupported(Fork::Petersburg, &block).is_none());
        let other = T8nExecutor::from_name("t8n:evm t8n").expect("valid");
        assert!(other.unsupported(Fork::Constantinople, &block).is_none());
    }
}
