//! What running a case produced: one status per executor and an overall verdict.

use serde::Serialize;

/// The verdict for one executor on one case, or for the whole case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "status", content = "reason", rename_all = "snake_case")]
pub enum Status {
    /// Every expectation held.
    Passed,
    /// An expectation of the fixture did not hold.
    Failed(String),
    /// Two executors produced different results.
    Diverged(String),
    /// Not run; the reason says why.
    Skipped(String),
    /// The case could not be run: bad input, a panic, a timeout.
    Error(String),
    /// Failed, as listed in the committed known-failures file with this reason.
    KnownFailure(String),
}

impl Status {
    /// Short lowercase name, as in reports.
    pub fn name(&self) -> &'static str {
        match self {
            Status::Passed => "passed",
            Status::Failed(_) => "failed",
            Status::Diverged(_) => "diverged",
            Status::Skipped(_) => "skipped",
            Status::Error(_) => "error",
            Status::KnownFailure(_) => "known_failure",
        }
    }

    /// The reason, if any.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Status::Passed => None,
            Status::Failed(r)
            | Status::Diverged(r)
            | Status::Skipped(r)
            | Status::Error(r)
            | Status::KnownFailure(r) => Some(r),
        }
    }

    /// Whether this status makes a run fail.
    pub fn is_bad(&self) -> bool {
        matches!(
            self,
            Status::Failed(_) | Status::Diverged(_) | Status::Error(_)
        )
    }
}

/// One executor's result on a case.
#[derive(Clone, Debug, Serialize)]
pub struct ExecutorResult {
    /// Executor name.
    pub executor: String,
    /// Its verdict.
    #[serde(flatten)]
    pub status: Status,
    /// Wall time spent executing, in milliseconds.
    pub millis: f64,
    /// Whether the parallel path ran on every block (parallel executors only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parallel: Option<bool>,
    /// Summed counters of a parallel executor over the case's blocks (not in the JSON report).
    #[serde(skip)]
    pub stats: Option<lockstep_spec::types::ExecStats>,
}

/// The result of one case over all executors.
#[derive(Clone, Debug, Serialize)]
pub struct CaseResult {
    /// Case id.
    pub id: String,
    /// Fork name.
    pub fork: String,
    /// Overall verdict.
    #[serde(flatten)]
    pub status: Status,
    /// Per-executor verdicts.
    pub executors: Vec<ExecutorResult>,
}
