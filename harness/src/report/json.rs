//! The JSON report: `summary` (integer counters) and `cases` (one object per case).

use super::Summary;
use crate::result::CaseResult;
use serde::Serialize;
use std::path::Path;

#[derive(Serialize)]
struct Report<'a> {
    summary: Summary,
    cases: &'a [CaseResult],
}

/// Renders the JSON report.
pub fn render_json(results: &[CaseResult]) -> serde_json::Result<String> {
    serde_json::to_string_pretty(&Report {
        summary: Summary::of(results),
        cases: results,
    })
}

/// Writes the JSON report to `path`.
pub fn write_json(path: &Path, results: &[CaseResult]) -> anyhow::Result<()> {
    use anyhow::Context;
    let text = render_json(results).context("serialising the JSON report")?;
    std::fs::write(path, text).with_context(|| format!("writing JSON report {}", path.display()))
}
