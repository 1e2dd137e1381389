//! The first step where two traces part, and how it is printed.

use super::TraceStep;
use lockstep_spec::vm::trace::op_name;
use std::fmt::Write as _;

/// Where two traces part.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FirstDifference {
    /// Index of the first differing step (in both traces).
    pub step: usize,
    /// The first field that differs: `transaction`, `depth`, `pc`, `op`, `gas`, `stack`,
    /// `memSize`, or `end` where one trace stops early.
    pub field: &'static str,
    /// That field's value in the first trace.
    pub a: String,
    /// That field's value in the second trace.
    pub b: String,
}

fn tx_label(tx: Option<usize>) -> String {
    tx.map_or("system call".into(), |t| t.to_string())
}

fn stack_label(stack: &[alloy_primitives::U256]) -> String {
    let top: Vec<String> = stack
        .iter()
        .rev()
        .take(6)
        .map(|v| format!("{v:#x}"))
        .collect();
    let more = if stack.len() > 6 { ", ..." } else { "" };
    format!(
        "[{}{more}] (top first, {} items)",
        top.join(", "),
        stack.len()
    )
}

/// The first field in which `a` and `b` differ, with both values.
fn differing_field(a: &TraceStep, b: &TraceStep) -> Option<(&'static str, String, String)> {
    if a.tx != b.tx {
        return Some(("transaction", tx_label(a.tx), tx_label(b.tx)));
    }
    if a.depth != b.depth {
        return Some(("depth", a.depth.to_string(), b.depth.to_string()));
    }
    if a.pc != b.pc {
        return Some(("pc", a.pc.to_string(), b.pc.to_string()));
    }
    if a.op != b.op {
        return Some(("op", op_name(a.op).into(), op_name(b.op).into()));
    }
    if a.gas != b.gas {
        return Some(("gas", a.gas.to_string(), b.gas.to_string()));
    }
    if a.stack != b.stack {
        return Some(("stack", stack_label(&a.stack), stack_label(&b.stack)));
    }
    if a.mem_size != b.mem_size {
        return Some(("memSize", a.mem_size.to_string(), b.mem_size.to_string()));
    }
    // The refund counter is shown, not compared: revm adds a returning frame's refunds to
    // its caller's counter, the spec keeps one counter per frame.
    None
}

/// The first step where `a` and `b` differ; `None` when they are equal.
pub fn first_difference(a: &[TraceStep], b: &[TraceStep]) -> Option<FirstDifference> {
    for (step, (x, y)) in a.iter().zip(b).enumerate() {
        if let Some((field, va, vb)) = differing_field(x, y) {
            return Some(FirstDifference {
                step,
                field,
                a: va,
                b: vb,
            });
        }
    }
    if a.len() != b.len() {
        let step = a.len().min(b.len());
        let next = |t: &[TraceStep]| {
            t.get(step).map_or("ends".to_string(), |s| {
                format!("goes on with {} at pc {}", op_name(s.op), s.pc)
            })
        };
        return Some(FirstDifference {
            step,
            field: "end",
            a: next(a),
            b: next(b),
        });
    }
    None
}

fn step_line(s: &TraceStep) -> String {
    format!(
        "tx {} depth {} pc {} {} gas {} cost {} memSize {} refund {} stack {}",
        tx_label(s.tx),
        s.depth,
        s.pc,
        op_name(s.op),
        s.gas,
        s.gas_cost,
        s.mem_size,
        s.refund,
        stack_label(&s.stack)
    )
}

impl FirstDifference {
    /// The difference as text: where, which field with both values, and `context` steps
    /// before it from the first trace (with the second's where it differs).
    pub fn render(
        &self,
        a_name: &str,
        b_name: &str,
        a: &[TraceStep],
        b: &[TraceStep],
        context: usize,
    ) -> String {
        let mut out = String::new();
        let at = a.get(self.step).or_else(|| b.get(self.step));
        let _ = match at {
            Some(s) => writeln!(
                out,
                "first difference at step {}: transaction {}, depth {}, pc {}, {}: {} {a_name} {} != {b_name} {}",
                self.step,
                tx_label(s.tx),
                s.depth,
                s.pc,
                op_name(s.op),
                self.field,
                self.a,
                self.b
            ),
            None => writeln!(out, "first difference at step {}", self.step),
        };
        let from = self.step.saturating_sub(context);
        for i in from..=self.step {
            let (x, y) = (a.get(i), b.get(i));
            let marker = if i == self.step { ">" } else { " " };
            match (x, y) {
                (Some(x), Some(y)) if x == y => {
                    let _ = writeln!(out, "  {marker} {i:>6}  {}", step_line(x));
                }
                _ => {
                    if let Some(x) = x {
                        let _ = writeln!(out, "  {marker} {i:>6}  {a_name}: {}", step_line(x));
                    }
                    if let Some(y) = y {
                        let _ = writeln!(out, "  {marker} {i:>6}  {b_name}: {}", step_line(y));
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::U256;

    fn step(pc: usize, op: u8, gas: u64) -> TraceStep {
        TraceStep {
            tx: Some(0),
            depth: 1,
            pc,
            op,
            gas,
            gas_cost: 3,
            stack: vec![U256::from(1)],
            mem_size: 0,
            refund: 0,
        }
    }

    #[test]
    fn the_first_differing_field_is_named() {
        let a = vec![step(0, 0x60, 100), step(2, 0x60, 97), step(4, 0x01, 94)];
        let mut b = a.clone();
        assert_eq!(first_difference(&a, &b), None);
        b[2].gas = 92;
        let d = first_difference(&a, &b).expect("differs");
        assert_eq!(
            (d.step, d.field, d.a.as_str(), d.b.as_str()),
            (2, "gas", "94", "92")
        );
        let text = d.render("spec", "revm", &a, &b, 1);
        assert!(
            text.contains("transaction 0, depth 1, pc 4, ADD: gas spec 94 != revm 92"),
            "{text}"
        );
        assert!(text.contains("PUSH1"), "context shown: {text}");
    }

    #[test]
    fn a_shorter_trace_is_an_end_difference() {
        let a = vec![step(0, 0x60, 100), step(2, 0x00, 97)];
        let d = first_difference(&a, &a[..1]).expect("differs");
        assert_eq!((d.step, d.field), (1, "end"));
        assert_eq!(d.b, "ends");
    }
}
