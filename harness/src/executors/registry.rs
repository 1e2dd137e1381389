//! Executors by name: the built-in ones (`revm`, `spec`, `parallel`, `t8n:CMD`) and those a
//! client team registers from its own crate, so that `--executors revm,theirs` runs theirs.
//!
//! A client team implements [`BlockExecutor`] for its engine, registers a factory under a name
//! and runs lockstep's command line from a `main` of its own:
//!
//! ```
//! use clap::Parser;
//! use lockstep::executors::{self, BlockExecutor, ExecutorOptions};
//! use lockstep_spec::types::{Block, BlockError, BlockOutcome, WorldState};
//! use lockstep_spec::Fork;
//! use std::sync::Arc;
//!
//! /// The team's executor (this one defers to lockstep's spec).
//! struct OurExecutor;
//!
//! impl BlockExecutor for OurExecutor {
//!     fn name(&self) -> &str {
//!         "ours"
//!     }
//!     fn unsupported(&self, _fork: Fork, _block: &Block) -> Option<String> {
//!         None
//!     }
//!     fn execute(
//!         &self,
//!         fork: Fork,
//!         pre: &WorldState,
//!         block: &Block,
//!     ) -> Result<BlockOutcome, BlockError> {
//!         lockstep_spec::execute_block(fork, pre, block)
//!     }
//! }
//!
//! /// `lockstep run`'s arguments, as the team's own binary.
//! #[derive(Parser)]
//! struct Cli {
//!     #[command(flatten)]
//!     run: lockstep::cli::run::RunArgs,
//! }
//!
//! executors::register("ours", |_argument, _options| Ok(Arc::new(OurExecutor)));
//! let cli = Cli::parse_from(["our-ci", "--executors", "revm,ours", "fixtures/"]);
//! assert_eq!(cli.run.executors, ["revm", "ours"]);
//! // main() would now call `lockstep::cli::run::run(cli.run)` and exit 1 when it returns false.
//! let ours = executors::by_name("ours", &ExecutorOptions { threads: 1 }).expect("registered");
//! assert_eq!(ours.name(), "ours");
//! ```

use super::{BlockExecutor, ExecutorOptions, ParallelAdapter, RevmExecutor, SpecExecutor};
use super::{EngineAdapter, T8nExecutor, EXECUTOR_NAMES};
use std::sync::{Arc, OnceLock, RwLock};

/// Builds an executor. It receives the text after `NAME:` for prefix names (empty for exact
/// names) and the run's options.
pub type Factory =
    Arc<dyn Fn(&str, &ExecutorOptions) -> Result<Arc<dyn BlockExecutor>, String> + Send + Sync>;

struct Entry {
    /// `NAME`, or `NAME:` for a name that takes an argument (`t8n:CMD`).
    name: String,
    factory: Factory,
}

/// Names and the factories they build executors with; later registrations take precedence.
#[derive(Clone, Default)]
pub struct Registry {
    entries: Vec<Arc<Entry>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.names()).finish()
    }
}

fn global_cell() -> &'static RwLock<Registry> {
    static GLOBAL: OnceLock<RwLock<Registry>> = OnceLock::new();
    GLOBAL.get_or_init(|| RwLock::new(Registry::builtin()))
}

impl Registry {
    /// lockstep's own executors.
    pub fn builtin() -> Self {
        let mut registry = Registry::default();
        registry.register("revm", |_, _| Ok(Arc::new(RevmExecutor)));
        registry.register("spec", |_, _| Ok(Arc::new(SpecExecutor)));
        registry.register("parallel", |_, options| {
            Ok(Arc::new(ParallelAdapter::new(options.threads)))
        });
        registry.register("sharded", |_, options| {
            Ok(Arc::new(EngineAdapter::new(
                lockstep_executor::sharded::ShardedExecutor::new(options.threads),
                "sharded",
            )))
        });
        registry.register("sharded-batched", |_, options| {
            Ok(Arc::new(EngineAdapter::new(
                lockstep_executor::sharded::ShardedExecutor::with_batching(
                    options.threads,
                    lockstep_executor::sharded::Batching::Journal,
                ),
                "sharded-batched",
            )))
        });
        registry.register("auto", |_, options| {
            Ok(Arc::new(EngineAdapter::new(
                lockstep_executor::auto::AutoExecutor::new(options.threads),
                "auto",
            )))
        });
        #[cfg(feature = "faults")]
        register_faulty(&mut registry);
        for kind in ["t8n", "t8n-process", "t8n-daemon"] {
            registry.register(&format!("{kind}:"), move |cmd, _| {
                Ok(Arc::new(T8nExecutor::from_name(&format!("{kind}:{cmd}"))?))
            });
        }
        registry
    }

    /// A snapshot of the process-wide registry that [`super::by_name`] uses.
    pub fn global() -> Registry {
        global_cell()
            .read()
            .map(|r| r.clone())
            .unwrap_or_else(|_| Registry::builtin())
    }

    /// Registers `factory` under `name` (exact), or under every `NAME:ARGUMENT` if `name` ends
    /// with `:`.
    pub fn register(
        &mut self,
        name: &str,
        factory: impl Fn(&str, &ExecutorOptions) -> Result<Arc<dyn BlockExecutor>, String>
            + Send
            + Sync
            + 'static,
    ) {
        self.entries.push(Arc::new(Entry {
            name: name.to_string(),
            factory: Arc::new(factory),
        }));
    }

    /// The registered names (`t8n:` for prefix names).
    pub fn names(&self) -> Vec<String> {
        self.entries.iter().map(|e| e.name.clone()).collect()
    }

    /// Builds the executor called `name`.
    pub fn build(
        &self,
        name: &str,
        options: &ExecutorOptions,
    ) -> Result<Arc<dyn BlockExecutor>, String> {
        for entry in self.entries.iter().rev() {
            let argument = match entry.name.strip_suffix(':') {
                Some(prefix) => name
                    .strip_prefix(prefix)
                    .and_then(|rest| rest.strip_prefix(':')),
                None => (entry.name == name).then_some(""),
            };
            if let Some(argument) = argument {
                return (entry.factory)(argument, options);
            }
        }
        let mut known: Vec<String> = EXECUTOR_NAMES.iter().map(|s| s.to_string()).collect();
        for n in self.names() {
            let n = if n.ends_with(':') {
                format!("{n}CMD")
            } else {
                n
            };
            if !known.contains(&n) {
                known.push(n);
            }
        }
        Err(format!(
            "unknown executor `{name}` (known: {})",
            known.join(", ")
        ))
    }
}

/// The seeded bugs of feature `faults`: the broken sequential executors, and the parallel
/// executor with one fault switched on (`parallel+FAULT`).
#[cfg(feature = "faults")]
fn register_faulty(registry: &mut Registry) {
    use super::{DropLastSlotWrite, FeesOutOfOrder, HangOnInvalid};
    use super::{DROP_LAST_SLOT_WRITE, FEES_OUT_OF_ORDER, HANG_ON_INVALID};
    registry.register(DROP_LAST_SLOT_WRITE, |_, _| Ok(Arc::new(DropLastSlotWrite)));
    registry.register(HANG_ON_INVALID, |_, _| Ok(Arc::new(HangOnInvalid)));
    registry.register(FEES_OUT_OF_ORDER, |_, _| Ok(Arc::new(FeesOutOfOrder)));
    for fault in lockstep_executor::faults::Fault::ALL {
        registry.register(&format!("parallel+{fault:?}"), move |_, options| {
            Ok(Arc::new(ParallelAdapter::with_fault(
                options.threads,
                fault,
            )))
        });
    }
}

/// Registers `factory` under `name` in the process-wide registry, for every later
/// [`super::by_name`] (and so `lockstep run --executors`).
pub fn register(
    name: &str,
    factory: impl Fn(&str, &ExecutorOptions) -> Result<Arc<dyn BlockExecutor>, String>
        + Send
        + Sync
        + 'static,
) {
    if let Ok(mut registry) = global_cell().write() {
        registry.register(name, factory);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_names_and_prefixes_resolve() {
        let registry = Registry::builtin();
        let options = ExecutorOptions { threads: 1 };
        for name in ["revm", "spec", "parallel"] {
            assert_eq!(registry.build(name, &options).expect(name).name(), name);
        }
        let t8n = registry.build("t8n:some-tool t8n", &options).expect("t8n");
        assert_eq!(t8n.name(), "t8n:some-tool");
        let err = registry.build("nope", &options).err().expect("unknown");
        assert!(
            err.contains("revm, spec, parallel") && err.contains("t8n:CMD"),
            "{err}"
        );
    }

    #[test]
    fn a_later_registration_takes_precedence() {
        let mut registry = Registry::builtin();
        registry.register("revm", |_, _| Ok(Arc::new(SpecExecutor)));
        let options = ExecutorOptions { threads: 1 };
        assert_eq!(
            registry.build("revm", &options).expect("revm").name(),
            "spec"
        );
    }
}
