//! One t8n process per block: the inputs as files in a temporary folder, the tool run under a
//! time limit with its output and errors captured in files (a full pipe cannot stall it), then
//! `result.json` and `alloc.json` read back.

use super::input::Input;
use super::output::snippet;
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;
use wait_timeout::ChildExt;

/// At most this much of a tool's stderr goes into a message (its end, where errors are).
const STDERR_TAIL: usize = 2_000;

/// The last [`STDERR_TAIL`] bytes of `text`, trimmed, or a note that there was none.
pub fn tail(text: &str) -> String {
    let text = text.trim();
    if text.is_empty() {
        return "(stderr empty)".into();
    }
    let mut start = text.len().saturating_sub(STDERR_TAIL);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    let prefix = if start > 0 { "..." } else { "" };
    format!("stderr: {prefix}{}", &text[start..])
}

fn write_json(path: &Path, value: &Value) -> Result<(), String> {
    let text = serde_json::to_vec(value).map_err(|e| format!("cannot encode t8n input: {e}"))?;
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Parses `text` as JSON, or says that the tool printed something else.
pub fn parse_output(what: &str, text: &str, stderr: &str) -> Result<Value, String> {
    serde_json::from_str(text).map_err(|e| {
        let start: String = text.chars().take(200).collect();
        format!(
            "the t8n tool's {what} is not JSON ({e}): `{start}`; {}",
            tail(stderr)
        )
    })
}

/// Runs `command` (program and arguments) as a t8n tool on `input`; returns its `result` and
/// post `alloc`, or why the tool failed, with its stderr.
pub fn run(command: &[String], input: &Input, limit: Duration) -> Result<(Value, Value), String> {
    run_in(command, input, limit, false).map(|(result, alloc, _)| (result, alloc))
}

/// Runs the tool with `--trace`; returns each transaction's EIP-3155 trace file
/// (`trace-INDEX-HASH.jsonl`) by index.
pub fn run_traced(
    command: &[String],
    input: &Input,
    limit: Duration,
) -> Result<Vec<(usize, String)>, String> {
    run_in(command, input, limit, true).map(|(_, _, traces)| traces)
}

/// Traces the tool left in `out`, by transaction index.
fn read_traces(out: &Path) -> Vec<(usize, String)> {
    let mut traces: Vec<(usize, String)> = std::fs::read_dir(out)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let index = name
                .strip_prefix("trace-")?
                .split('-')
                .next()?
                .parse()
                .ok()?;
            Some((index, std::fs::read_to_string(entry.path()).ok()?))
        })
        .collect();
    traces.sort_by_key(|(index, _)| *index);
    traces
}

type Output = (Value, Value, Vec<(usize, String)>);

fn run_in(
    command: &[String],
    input: &Input,
    limit: Duration,
    trace: bool,
) -> Result<Output, String> {
    let (program, args) = command
        .split_first()
        .ok_or_else(|| "the t8n command is empty".to_string())?;
    let dir = tempfile::Builder::new()
        .prefix("lockstep-t8n-")
        .tempdir()
        .map_err(|e| format!("cannot create a temporary folder: {e}"))?;
    let path = |name: &str| dir.path().join(name);
    let out = path("out");
    std::fs::create_dir(&out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    write_json(&path("alloc.json"), &input.alloc)?;
    write_json(&path("env.json"), &input.env)?;
    write_json(&path("txs.json"), &input.txs)?;
    let mut cmd = Command::new(program);
    cmd.args(args)
        .arg(format!("--input.alloc={}", path("alloc.json").display()))
        .arg(format!("--input.env={}", path("env.json").display()))
        .arg(format!("--input.txs={}", path("txs.json").display()))
        .arg(format!("--output.basedir={}", out.display()))
        .arg("--output.result=result.json")
        .arg("--output.alloc=alloc.json")
        .arg(format!("--state.fork={}", input.fork))
        .arg(format!("--state.chainid={}", input.chain_id))
        .arg(format!("--state.reward={}", input.reward));
    if input.state_test {
        cmd.arg("--state-test");
    }
    if trace {
        cmd.arg("--trace");
    }
    if let Some(params) = &input.blob_params {
        write_json(&path("blobParams.json"), params)?;
        cmd.arg(format!(
            "--input.blobParams={}",
            path("blobParams.json").display()
        ));
    }
    let open = |name: &str| {
        std::fs::File::create(path(name)).map_err(|e| format!("cannot create {name}: {e}"))
    };
    cmd.stdin(Stdio::null())
        .stdout(open("stdout")?)
        .stderr(open("stderr")?);
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start t8n tool `{program}`: {e}"))?;
    let status = child
        .wait_timeout(limit)
        .map_err(|e| format!("waiting for the t8n tool: {e}"))?;
    let read = |name: &str| std::fs::read_to_string(path(name)).unwrap_or_default();
    let status = match status {
        Some(status) => status,
        None => {
            // Killed and reaped here: a hung tool leaves nothing running behind the run.
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "the t8n tool did not finish within {} s and was killed; {}",
                limit.as_secs_f64(),
                tail(&read("stderr"))
            ));
        }
    };
    let stderr = read("stderr");
    if !status.success() {
        return Err(format!("the t8n tool failed ({status}); {}", tail(&stderr)));
    }
    let result = out.join("result.json");
    if result.is_file() {
        let result = parse_output("result.json", &read("out/result.json"), &stderr)?;
        let alloc = parse_output("alloc.json", &read("out/alloc.json"), &stderr)?;
        return Ok((result, alloc, read_traces(&out)));
    }
    // Some tools print `{"result": .., "alloc": ..}` instead of writing files.
    let printed = parse_output("output", &read("stdout"), &stderr)?;
    match (printed.get("result"), printed.get("alloc")) {
        (Some(result), Some(alloc)) => Ok((result.clone(), alloc.clone(), read_traces(&out))),
        _ => Err(format!(
            "the t8n tool wrote no result.json and printed no result and alloc: `{}`; {}",
            snippet(&printed),
            tail(&stderr)
        )),
    }
}
