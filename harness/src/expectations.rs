//! The committed list of skips and known failures (`ethereum-tests/expectations.txt`), so that
//! a new difference fails the run and a fixed one is noticed.
//!
//! One rule per line; `#` starts a comment; the pattern is a substring of the case id:
//! ```text
//! skip  PATTERN  REASON...
//! known EXECUTOR PATTERN  REASON...     (EXECUTOR `*`: every executor)
//! ```

use std::sync::atomic::{AtomicUsize, Ordering};

/// A rule and how often it matched in this run.
#[derive(Debug)]
struct Rule {
    executor: Option<String>,
    pattern: String,
    reason: String,
    hits: AtomicUsize,
}

/// Skips and known failures.
#[derive(Debug, Default)]
pub struct Expectations {
    skips: Vec<Rule>,
    known: Vec<Rule>,
}

impl Expectations {
    /// Parses the file's text; errors name the line.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut out = Expectations::default();
        for (n, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or_default().trim();
            if line.is_empty() {
                continue;
            }
            let mut words = line.split_whitespace();
            let kind = words.next().unwrap_or_default();
            let bad = |what: &str| format!("line {}: {what}: `{line}`", n + 1);
            match kind {
                "skip" => {
                    let pattern = words.next().ok_or_else(|| bad("missing pattern"))?;
                    let reason = words.collect::<Vec<_>>().join(" ");
                    if reason.is_empty() {
                        return Err(bad("a skip needs a reason"));
                    }
                    out.skips.push(Rule {
                        executor: None,
                        pattern: pattern.into(),
                        reason,
                        hits: AtomicUsize::new(0),
                    });
                }
                "known" => {
                    let executor = words.next().ok_or_else(|| bad("missing executor"))?;
                    let pattern = words.next().ok_or_else(|| bad("missing pattern"))?;
                    let reason = words.collect::<Vec<_>>().join(" ");
                    if reason.is_empty() {
                        return Err(bad("a known failure needs a reason"));
                    }
                    out.known.push(Rule {
                        executor: Some(executor.into()),
                        pattern: pattern.into(),
                        reason,
                        hits: AtomicUsize::new(0),
                    });
                }
                _ => return Err(bad("expected `skip` or `known`")),
            }
        }
        Ok(out)
    }

    /// Why the case is skipped by a committed rule, if it is.
    pub fn skip_reason(&self, id: &str) -> Option<String> {
        self.skips
            .iter()
            .find(|r| id.contains(&r.pattern))
            .map(|r| {
                r.hits.fetch_add(1, Ordering::Relaxed);
                r.reason.clone()
            })
    }

    /// The reason the failure of `executor` on this case is known, if it is.
    pub fn known_failure(&self, executor: &str, id: &str) -> Option<String> {
        // Repeats of an executor (`parallel@2#1`) share its known failures.
        let executor = executor.split('@').next().unwrap_or(executor);
        self.known
            .iter()
            .find(|r| {
                matches!(r.executor.as_deref(), Some(e) if e == executor || e == "*")
                    && id.contains(&r.pattern)
            })
            .map(|r| {
                r.hits.fetch_add(1, Ordering::Relaxed);
                r.reason.clone()
            })
    }

    /// Known-failure rules that matched no failing case in this run (fixed, or not run).
    pub fn unused_known(&self) -> Vec<String> {
        self.known
            .iter()
            .filter(|r| r.hits.load(Ordering::Relaxed) == 0)
            .map(|r| {
                format!(
                    "{} {}",
                    r.executor.as_deref().unwrap_or_default(),
                    r.pattern
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_match_by_substring_and_count_hits() {
        let e = Expectations::parse(
            "# c\nskip slow/x.json too slow\nknown revm coll/y collision with storage\n",
        )
        .expect("parses");
        assert_eq!(
            e.skip_reason("a/slow/x.json::t").as_deref(),
            Some("too slow")
        );
        assert_eq!(e.skip_reason("other"), None);
        assert_eq!(e.known_failure("spec", "coll/y::t"), None);
        assert_eq!(e.unused_known(), vec!["revm coll/y".to_string()]);
        assert!(e.known_failure("revm", "coll/y::t").is_some());
        assert!(e.unused_known().is_empty());
        let any = Expectations::parse("known * reqs/ requests are not checked").expect("parses");
        assert!(any.known_failure("spec", "a/reqs/b").is_some());
        assert!(any.known_failure("parallel", "a/reqs/b").is_some());
    }

    #[test]
    fn rules_without_reason_are_rejected() {
        assert!(Expectations::parse("skip pattern")
            .unwrap_err()
            .contains("line 1"));
        assert!(Expectations::parse("bogus x y").is_err());
    }
}
