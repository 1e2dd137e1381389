//! Steps of a t8n tool run with `--trace`: its EIP-3155 JSON lines, one file per transaction.

use super::TraceStep;
use alloy_primitives::U256;
use lockstep_spec::types::{Block, WorldState};
use lockstep_spec::Fork;
use serde_json::Value;

fn number(v: Option<&Value>) -> Option<U256> {
    match v? {
        Value::Number(n) => n.as_u64().map(U256::from),
        Value::String(s) => match s.strip_prefix("0x") {
            Some(hex) => U256::from_str_radix(hex, 16).ok(),
            None => U256::from_str_radix(s, 10).ok(),
        },
        _ => None,
    }
}

fn small(v: Option<&Value>) -> Option<u64> {
    number(v).and_then(|n| u64::try_from(n).ok())
}

/// One EIP-3155 line as a step of transaction `tx`; `None` for the summary line.
fn step(tx: usize, line: &Value) -> Result<Option<TraceStep>, String> {
    if line.get("pc").is_none() {
        return Ok(None);
    }
    let field = |name: &str| small(line.get(name)).ok_or_else(|| format!("`{name}` in {line}"));
    let stack = match line.get("stack") {
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| number(Some(i)).ok_or_else(|| format!("stack item {i}")))
            .collect::<Result<_, _>>()?,
        _ => Vec::new(),
    };
    Ok(Some(TraceStep {
        tx: Some(tx),
        depth: field("depth")? as usize,
        pc: field("pc")? as usize,
        op: u8::try_from(field("op")?).map_err(|_| format!("`op` in {line}"))?,
        gas: field("gas")?,
        gas_cost: small(line.get("gasCost")).unwrap_or(0),
        stack,
        mem_size: small(line.get("memSize")).unwrap_or(0) as usize,
        refund: small(line.get("refund")).unwrap_or(0) as i64,
    }))
}

/// Every step of `block`'s transactions under the t8n tool `name` (`t8n:CMD`).
pub fn trace(
    name: &str,
    fork: Fork,
    pre: &WorldState,
    block: &Block,
) -> Result<Vec<TraceStep>, String> {
    let mut steps = Vec::new();
    for (tx, text) in crate::executors::t8n::trace_lines(name, fork, pre, block)? {
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let value: Value = serde_json::from_str(line)
                .map_err(|e| format!("trace of transaction {tx}: not JSON ({e}): {line}"))?;
            if let Some(s) = step(tx, &value)? {
                steps.push(s);
            }
        }
    }
    Ok(steps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_eip3155_line_becomes_a_step_and_the_summary_is_skipped() {
        let line: Value = serde_json::from_str(
            r#"{"pc":2,"op":1,"gas":"0x5f5e0fd","gasCost":"0x3","memSize":0,"stack":["0x1","0x2"],"depth":1,"refund":0,"opName":"ADD"}"#,
        )
        .expect("json");
        let s = step(3, &line).expect("parses").expect("a step");
        assert_eq!(
            (s.tx, s.pc, s.op, s.gas, s.depth),
            (Some(3), 2, 1, 0x5f5e0fd, 1)
        );
        assert_eq!(s.stack, vec![U256::from(1), U256::from(2)]);
        let summary: Value =
            serde_json::from_str(r#"{"output":"","gasUsed":"0x5208"}"#).expect("json");
        assert_eq!(step(0, &summary), Ok(None));
    }
}
