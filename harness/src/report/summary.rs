//! Counting results and printing the terminal summary: a table per fork and per executor,
//! every skip reason with its count, and the cases that did not pass.

use crate::result::{CaseResult, Status};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write;

/// Totals over a run. Every case is in exactly one of the last six counters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Cases run or skipped.
    pub cases: usize,
    /// Cases where every executor that ran passed and all agreed.
    pub passed: usize,
    /// Cases where an executor missed an expectation of the fixture.
    pub failed: usize,
    /// Cases where executors disagreed.
    pub diverged: usize,
    /// Cases no executor ran.
    pub skipped: usize,
    /// Cases that could not be run (bad input, panic, timeout).
    pub errors: usize,
    /// Cases that failed as the committed known-failures list says.
    pub known_failures: usize,
}

impl Summary {
    /// Counts the results.
    pub fn of(results: &[CaseResult]) -> Self {
        let mut s = Summary {
            cases: results.len(),
            ..Default::default()
        };
        for r in results {
            match r.status {
                Status::Passed => s.passed += 1,
                Status::Failed(_) => s.failed += 1,
                Status::Diverged(_) => s.diverged += 1,
                Status::Skipped(_) => s.skipped += 1,
                Status::Error(_) => s.errors += 1,
                Status::KnownFailure(_) => s.known_failures += 1,
            }
        }
        s
    }

    /// Whether the run is green: nothing failed, diverged or errored.
    pub fn is_green(&self) -> bool {
        self.failed == 0 && self.diverged == 0 && self.errors == 0
    }
}

#[derive(Default)]
struct Row {
    total: usize,
    by_executor: BTreeMap<String, [usize; 4]>, // passed, failed (incl. error), skipped, known
}

/// How often a parallel executor's parallel path ran, per executor name: cases where it ran
/// on every block, and cases where it fell back to sequential execution on some block.
pub fn parallel_path_counts(results: &[CaseResult]) -> BTreeMap<String, (usize, usize)> {
    let mut counts: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for e in results.iter().flat_map(|r| &r.executors) {
        if let Some(ran) = e.parallel {
            let entry = counts.entry(e.executor.clone()).or_default();
            if ran {
                entry.0 += 1;
            } else {
                entry.1 += 1;
            }
        }
    }
    counts
}

/// The executors whose parallel path is forced
/// ([`crate::executors::BlockExecutor::parallel_forced`]) that ran
/// in this run but never took their parallel path: such a run compared sequential with
/// sequential and proves nothing about them. Each is printed as an error.
pub fn never_parallel(
    results: &[CaseResult],
    executors: &[std::sync::Arc<dyn crate::executors::BlockExecutor>],
) -> Vec<String> {
    let counts = parallel_path_counts(results);
    let mut never = Vec::new();
    let forced = executors
        .iter()
        .filter(|e| e.parallel_forced())
        .map(|e| e.name());
    for name in forced {
        let ran_any = results
            .iter()
            .flat_map(|r| &r.executors)
            .any(|e| e.executor == name && e.parallel.is_some());
        if ran_any && counts.get(name).is_some_and(|(ran, _)| *ran == 0) {
            eprintln!("error: executor `{name}` never ran its parallel path in this run");
            never.push(name.to_string());
        }
    }
    never
}

/// Renders the summary table, skip reasons and failures (at most `max_failures` listed).
pub fn render_summary(
    results: &[CaseResult],
    executors: &[String],
    max_failures: usize,
    seconds: f64,
) -> String {
    let mut rows: BTreeMap<String, Row> = BTreeMap::new();
    let mut skip_reasons: BTreeMap<String, usize> = BTreeMap::new();
    for r in results {
        let row = rows.entry(r.fork.clone()).or_default();
        row.total += 1;
        for e in &r.executors {
            let counts = row.by_executor.entry(e.executor.clone()).or_default();
            match &e.status {
                Status::Passed => counts[0] += 1,
                Status::Failed(_) | Status::Error(_) | Status::Diverged(_) => counts[1] += 1,
                Status::Skipped(reason) => {
                    counts[2] += 1;
                    *skip_reasons
                        .entry(format!("{}: {reason}", e.executor))
                        .or_default() += 1;
                }
                Status::KnownFailure(_) => counts[3] += 1,
            }
        }
    }
    let mut out = String::new();
    let _ = write!(out, "{:<18} {:>7}", "fork", "cases");
    for e in executors {
        let _ = write!(out, "  {:>28}", format!("{e} pass/fail/skip/known"));
    }
    out.push('\n');
    // Forks in protocol order, not alphabetical.
    let mut forks: Vec<_> = rows.into_iter().collect();
    forks.sort_by_key(|(f, _)| f.parse::<lockstep_spec::Fork>().ok());
    for (fork, row) in &forks {
        let _ = write!(out, "{fork:<18} {:>7}", row.total);
        for e in executors {
            let c = row.by_executor.get(e).copied().unwrap_or_default();
            let _ = write!(
                out,
                "  {:>28}",
                format!("{}/{}/{}/{}", c[0], c[1], c[2], c[3])
            );
        }
        out.push('\n');
    }
    if !skip_reasons.is_empty() {
        out.push_str("\nskipped (executor: reason, count):\n");
        let mut reasons: Vec<_> = skip_reasons.into_iter().collect();
        reasons.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        for (reason, n) in reasons {
            let _ = writeln!(out, "  {n:>6}  {reason}");
        }
    }
    let bad: Vec<_> = results.iter().filter(|r| r.status.is_bad()).collect();
    if !bad.is_empty() {
        let _ = writeln!(
            out,
            "\nnot passed ({} cases{}):",
            bad.len(),
            if bad.len() > max_failures {
                format!(", first {max_failures} shown")
            } else {
                String::new()
            }
        );
        for r in bad.iter().take(max_failures) {
            let _ = writeln!(
                out,
                "  {} {}\n      {}",
                r.status.name().to_uppercase(),
                r.id,
                r.status.reason().unwrap_or_default()
            );
        }
    }
    let counts = parallel_path_counts(results);
    if !counts.is_empty() {
        out.push('\n');
    }
    for (executor, (ran, fell_back)) in counts {
        let _ = writeln!(
            out,
            "{executor}: parallel path ran in {ran} cases, fell back to sequential in {fell_back}"
        );
    }
    let s = Summary::of(results);
    let _ = writeln!(
        out,
        "\n{} cases: {} passed, {} failed, {} diverged, {} skipped, {} errors, {} known failures ({seconds:.1} s)",
        s.cases, s.passed, s.failed, s.diverged, s.skipped, s.errors, s.known_failures
    );
    out
}

/// The counters of each parallel executor summed over a run, by executor name (only
/// executors that reported any): incarnations, aborts, validations, dependency waits.
pub fn parallel_totals(
    results: &[CaseResult],
) -> BTreeMap<String, lockstep_spec::types::ExecStats> {
    let mut totals: BTreeMap<String, lockstep_spec::types::ExecStats> = BTreeMap::new();
    for e in results.iter().flat_map(|r| &r.executors) {
        if let Some(stats) = &e.stats {
            let total = totals.entry(e.executor.clone()).or_default();
            total.parallel |= stats.parallel;
            total.incarnations += stats.incarnations;
            total.aborts += stats.aborts;
            total.validations += stats.validations;
            total.dependency_waits += stats.dependency_waits;
        }
    }
    totals
}

/// One line per parallel executor with its [`parallel_totals`], for the summary.
pub fn render_parallel_totals(results: &[CaseResult]) -> String {
    let mut out = String::new();
    for (name, s) in parallel_totals(results) {
        let _ = writeln!(
            out,
            "{name}: {} incarnations, {} aborts / re-executions, {} validations, {} dependency waits",
            s.incarnations, s.aborts, s.validations, s.dependency_waits
        );
    }
    out
}
