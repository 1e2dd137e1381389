//! JUnit XML, one `testcase` per case, for CI systems that display test results.

use crate::result::{CaseResult, Status};
use std::fmt::Write;
use std::path::Path;

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Renders JUnit XML.
pub fn render_junit(results: &[CaseResult]) -> String {
    let failures = results
        .iter()
        .filter(|r| matches!(r.status, Status::Failed(_) | Status::Diverged(_)))
        .count();
    let errors = results
        .iter()
        .filter(|r| matches!(r.status, Status::Error(_)))
        .count();
    let skipped = results
        .iter()
        .filter(|r| matches!(r.status, Status::Skipped(_)))
        .count();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(out, "<testsuite name=\"lockstep\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\">", results.len());
    for r in results {
        let _ = write!(
            out,
            "  <testcase classname=\"{}\" name=\"{}\"",
            escape(&r.fork),
            escape(&r.id)
        );
        match &r.status {
            Status::Passed => out.push_str("/>\n"),
            Status::Failed(m) | Status::Diverged(m) => {
                let _ = writeln!(out, "><failure message=\"{}\"/></testcase>", escape(m));
            }
            Status::Error(m) => {
                let _ = writeln!(out, "><error message=\"{}\"/></testcase>", escape(m));
            }
            Status::Skipped(m) | Status::KnownFailure(m) => {
                let _ = writeln!(out, "><skipped message=\"{}\"/></testcase>", escape(m));
            }
        }
    }
    out.push_str("</testsuite>\n");
    out
}

/// Writes JUnit XML to `path`.
pub fn write_junit(path: &Path, results: &[CaseResult]) -> anyhow::Result<()> {
    use anyhow::Context;
    std::fs::write(path, render_junit(results))
        .with_context(|| format!("writing JUnit report {}", path.display()))
}
