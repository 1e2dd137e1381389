//! The `lockstep` command line: parses arguments and dispatches to `lockstep::cli`.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

// Block execution allocates and frees many small objects on every thread; mimalloc's per-thread
// heaps keep that off a shared lock (both executors benefit alike, as in production clients).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Holds parallel EVM executors to the exact semantics of sequential execution.
#[derive(Parser)]
#[command(name = "lockstep", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run fixtures (state tests, blockchain tests, mainnet blocks) through executors.
    Run(Box<lockstep::cli::run::RunArgs>),
    /// Time executors side by side on the same blocks (release build).
    Bench(lockstep::cli::bench::BenchArgs),
    /// Hunt each seeded bug of the parallel executor with lockstep's own inputs (needs a
    /// build with `--features faults`).
    Mutants(lockstep::cli::mutants::MutantsArgs),
    /// Generate conflict-heavy blocks from a seed, run and compare them, shrink divergences.
    Gen(Box<lockstep::cli::gen::GenArgs>),
    /// Replay a repro file written by `gen` and show the difference.
    Repro(lockstep::cli::repro::ReproArgs),
    /// Trace cases under two engines (spec, revm) and print the first differing step.
    Trace(lockstep::cli::trace::TraceArgs),
    /// Print the names of the available executors, comma-separated.
    Executors,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => lockstep::cli::run::run(*args),
        Command::Bench(args) => lockstep::cli::bench::run(args),
        Command::Mutants(args) => lockstep::cli::mutants::run(args),
        Command::Gen(args) => lockstep::cli::gen::run(*args),
        Command::Repro(args) => lockstep::cli::repro::run(args),
        Command::Trace(args) => lockstep::cli::trace::run(args),
        Command::Executors => {
            println!("{}", lockstep::executors::EXECUTOR_NAMES.join(","));
            Ok(true)
        }
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
