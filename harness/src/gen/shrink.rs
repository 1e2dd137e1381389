//! Reduces a generated case that diverged to a minimal one with the same [`Signature`] (the
//! same kind of finding between the same executors): first proptest's own shrinking of the
//! plan (fewer transactions, simpler choices), then a block-level reducer that drops
//! transactions (renumbering the nonces after them and signing again), accounts, storage
//! slots and code bytes, re-running the executors after each step.

use super::{case_of, from_plan, plan_tree, GenCase, GenConfig, Signature};
use crate::result::CaseResult;
use crate::run::Runner;
use k256::ecdsa::SigningKey;
use lockstep_spec::types::{Block, WorldState};
use lockstep_spec::Fork;
use std::time::{Duration, Instant};

/// Limits of one shrink.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    /// Most executions of the case (all executors each).
    pub runs: usize,
    /// Most wall time.
    pub time: Duration,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            runs: 2_000,
            time: Duration::from_secs(60),
        }
    }
}

/// A reduced case.
#[derive(Clone, Debug)]
pub struct Shrunk {
    /// The reduced pre-state.
    pub pre: WorldState,
    /// The reduced block.
    pub block: Block,
    /// The result of the reduced case (same signature as the original).
    pub result: CaseResult,
    /// What each accepted step removed.
    pub steps: Vec<String>,
    /// Executions tried.
    pub runs: usize,
}

struct Search<'a> {
    runner: &'a Runner,
    names: &'a [String],
    target: &'a Signature,
    fork: Fork,
    id: String,
    runs: usize,
    budget: Budget,
    started: Instant,
}

impl Search<'_> {
    fn exhausted(&self) -> bool {
        self.runs >= self.budget.runs || self.started.elapsed() >= self.budget.time
    }

    /// The result of the candidate if it keeps the signature.
    fn keeps(&mut self, pre: &WorldState, block: &Block) -> Option<CaseResult> {
        if self.exhausted() {
            return None;
        }
        self.runs += 1;
        let result = self
            .runner
            .run_case(&case_of(&self.id, self.fork, pre, block));
        (Signature::of(&result, self.names).as_ref() == Some(self.target)).then_some(result)
    }
}

/// `block` without transaction `index`; the later transactions of its sender move down one
/// nonce and are signed again (with the secret key they carry).
pub fn drop_transaction(block: &Block, index: usize) -> Option<Block> {
    let mut out = block.clone();
    let removed = out.transactions.remove(index);
    for tx in out.transactions.iter_mut().skip(index) {
        if tx.sender == removed.sender && tx.nonce > removed.nonce {
            tx.nonce -= 1;
            let key = SigningKey::from_slice(tx.secret_key?.as_slice()).ok()?;
            super::sign::sign(tx, &key).ok()?;
        }
    }
    Some(out)
}

/// Shrinks `case`, whose result has signature `target`, within `budget`.
pub fn shrink(
    cfg: &GenConfig,
    case: &GenCase,
    first: CaseResult,
    runner: &Runner,
    names: &[String],
    target: &Signature,
    budget: Budget,
) -> Shrunk {
    let mut search = Search {
        runner,
        names,
        target,
        fork: case.fork,
        id: case.id(),
        runs: 0,
        budget,
        started: Instant::now(),
    };
    let mut best = Shrunk {
        pre: case.pre.clone(),
        block: case.block.clone(),
        result: first,
        steps: Vec::new(),
        runs: 0,
    };
    // proptest's shrinking of the plan: simplify while the finding persists, complicate back
    // when it vanishes.
    if let Ok(mut tree) = plan_tree(cfg, case.seed, case.index) {
        if tree.simplify() {
            while !search.exhausted() {
                let candidate = from_plan(cfg, case.seed, case.index, tree.current()).ok();
                let kept = candidate
                    .as_ref()
                    .and_then(|c| search.keeps(&c.pre, &c.block).map(|r| (c, r)));
                match kept {
                    Some((c, result)) => {
                        if c.block.transactions.len() < best.block.transactions.len() {
                            // Successive proptest steps are one step.
                            if best.steps.last().is_some_and(|s| s.starts_with("proptest")) {
                                best.steps.pop();
                            }
                            best.steps.push(format!(
                                "proptest shrinking: {} to {} transactions",
                                case.block.transactions.len(),
                                c.block.transactions.len()
                            ));
                        }
                        best.pre = c.pre.clone();
                        best.block = c.block.clone();
                        best.result = result;
                        if !tree.simplify() {
                            break;
                        }
                    }
                    None => {
                        if !tree.complicate() {
                            break;
                        }
                    }
                }
            }
        }
    }
    // The block-level reducer, to a fixed point.
    loop {
        let before = (best.pre.clone(), best.block.transactions.len());
        reduce_transactions(&mut search, &mut best);
        reduce_accounts(&mut search, &mut best);
        reduce_storage(&mut search, &mut best);
        reduce_code(&mut search, &mut best);
        let unchanged = before.0 == best.pre && before.1 == best.block.transactions.len();
        if unchanged || search.exhausted() {
            break;
        }
    }
    best.runs = search.runs;
    best
}

fn reduce_transactions(search: &mut Search<'_>, best: &mut Shrunk) {
    let mut i = best.block.transactions.len();
    while i > 0 {
        i -= 1;
        let Some(candidate) = drop_transaction(&best.block, i) else {
            continue;
        };
        if let Some(result) = search.keeps(&best.pre, &candidate) {
            best.steps.push(format!("dropped transaction {i}"));
            best.block = candidate;
            best.result = result;
        }
    }
}

fn reduce_accounts(search: &mut Search<'_>, best: &mut Shrunk) {
    let addresses: Vec<_> = best.pre.accounts.keys().copied().collect();
    for address in addresses {
        let mut candidate = best.pre.clone();
        candidate.accounts.remove(&address);
        if let Some(result) = search.keeps(&candidate, &best.block) {
            best.steps.push(format!("dropped account {address}"));
            best.pre = candidate;
            best.result = result;
        }
    }
}

fn reduce_storage(search: &mut Search<'_>, best: &mut Shrunk) {
    let slots: Vec<_> = best
        .pre
        .accounts
        .iter()
        .flat_map(|(a, acc)| acc.storage.keys().map(move |s| (*a, *s)))
        .collect();
    for (address, slot) in slots {
        let mut candidate = best.pre.clone();
        if let Some(account) = candidate.accounts.get_mut(&address) {
            account.storage.remove(&slot);
        }
        if let Some(result) = search.keeps(&candidate, &best.block) {
            best.steps.push(format!("dropped slot {slot} of {address}"));
            best.pre = candidate;
            best.result = result;
        }
    }
}

fn reduce_code(search: &mut Search<'_>, best: &mut Shrunk) {
    let coded: Vec<_> = best
        .pre
        .accounts
        .iter()
        .filter(|(_, a)| !a.code.is_empty())
        .map(|(a, acc)| (*a, acc.code.len()))
        .collect();
    for (address, len) in coded {
        // Shortest first: no code, then growing prefixes (code past its end stops).
        for keep in [0, len / 4, len / 2, 3 * len / 4, len.saturating_sub(1)] {
            if keep >= len {
                continue;
            }
            let mut candidate = best.pre.clone();
            if let Some(account) = candidate.accounts.get_mut(&address) {
                account.code = account.code.slice(..keep);
            }
            if let Some(result) = search.keeps(&candidate, &best.block) {
                // Successive cuts of one contract are one step.
                let prefix = format!("cut the code of {address} to ");
                if best.steps.last().is_some_and(|s| s.starts_with(&prefix)) {
                    best.steps.pop();
                }
                best.steps.push(format!("{prefix}{keep} bytes"));
                best.pre = candidate;
                best.result = result;
                break;
            }
        }
    }
}
