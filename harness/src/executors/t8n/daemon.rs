//! t8n as a daemon: the Python spec's `ethereum-spec-evm daemon --uds PATH` answers one t8n
//! request per HTTP/1.1 connection over a Unix socket, about 80 times faster than a process
//! per block (see EELS.md). A [`Pool`] starts daemons lazily, one per block running at once,
//! each in a temporary folder of its own (the daemon deletes files in its working folder),
//! and kills them when dropped.

use super::input::Input;
use super::process::{parse_output, tail};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a daemon may take to open its socket (Python start-up on a loaded machine).
const START_LIMIT: Duration = Duration::from_secs(60);

/// One running daemon.
struct Daemon {
    child: Child,
    socket: PathBuf,
    stderr: PathBuf,
    // Removed after the child is killed (fields drop after `Drop::drop`).
    _dir: tempfile::TempDir,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Daemon {
    fn stderr_from(&self, offset: u64) -> String {
        let text = std::fs::read(&self.stderr).unwrap_or_default();
        let start = usize::try_from(offset).unwrap_or(0).min(text.len());
        String::from_utf8_lossy(&text[start..]).into_owned()
    }

    fn stderr_len(&self) -> u64 {
        std::fs::metadata(&self.stderr).map_or(0, |m| m.len())
    }

    /// Starts `command` with `--uds SOCKET` and waits until the socket accepts connections.
    fn start(command: &[String]) -> Result<Daemon, String> {
        let (program, args) = command
            .split_first()
            .ok_or_else(|| "the t8n daemon command is empty".to_string())?;
        let dir = tempfile::Builder::new()
            .prefix("lockstep-t8n-daemon-")
            .tempdir()
            .map_err(|e| format!("cannot create a temporary folder: {e}"))?;
        let socket = dir.path().join("t8n.sock");
        let stderr = dir.path().join("stderr");
        let err_file = std::fs::File::create(&stderr)
            .map_err(|e| format!("cannot create {}: {e}", stderr.display()))?;
        let child = Command::new(program)
            .args(args)
            .arg("--uds")
            .arg(&socket)
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(err_file)
            .spawn()
            .map_err(|e| format!("cannot start t8n daemon `{program}`: {e}"))?;
        let mut daemon = Daemon {
            child,
            socket,
            stderr,
            _dir: dir,
        };
        let started = Instant::now();
        loop {
            if daemon.socket.exists() && UnixStream::connect(&daemon.socket).is_ok() {
                return Ok(daemon);
            }
            if let Ok(Some(status)) = daemon.child.try_wait() {
                return Err(format!(
                    "the t8n daemon exited at start-up ({status}); {}",
                    tail(&daemon.stderr_from(0))
                ));
            }
            if started.elapsed() > START_LIMIT {
                return Err(format!(
                    "the t8n daemon opened no socket within {} s; {}",
                    START_LIMIT.as_secs(),
                    tail(&daemon.stderr_from(0))
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends one t8n request; returns the answer's `result` and `alloc`.
    fn request(&mut self, input: &Input, limit: Duration) -> Result<(Value, Value), Failure> {
        let offset = self.stderr_len();
        let mut body_input = json!({"alloc": input.alloc, "env": input.env, "txs": input.txs});
        let mut query = Vec::new();
        if input.state_test {
            query.push("arg=--state-test");
        }
        if let Some(params) = &input.blob_params {
            body_input["blobParams"] = params.clone();
            query.push("arg=--input.blobParams%3Dstdin");
        }
        let body = json!({
            "state": {"fork": input.fork, "chainid": input.chain_id, "reward": input.reward},
            "input": body_input,
        })
        .to_string();
        let path = if query.is_empty() {
            "/".to_string()
        } else {
            format!("/?{}", query.join("&"))
        };
        let answer = match http_post(&self.socket, &path, &body, limit) {
            Ok(answer) => answer,
            Err(HttpError::Connect(e)) => return Err(Failure::Connect(e)),
            Err(HttpError::Io(e)) => {
                // Give a dying daemon a moment, so that its last words are in the message.
                std::thread::sleep(Duration::from_millis(50));
                return Err(Failure::Broken(format!(
                    "{e}; {}",
                    tail(&self.stderr_from(offset))
                )));
            }
        };
        let stderr = || self.stderr_from(offset);
        if answer.status != 200 {
            return Err(Failure::Answer(format!(
                "the t8n daemon answered HTTP {}: {}; {}",
                answer.status,
                String::from_utf8_lossy(&answer.body).trim(),
                tail(&stderr())
            )));
        }
        let text = String::from_utf8_lossy(&answer.body);
        let value = parse_output("answer", &text, &stderr()).map_err(Failure::Answer)?;
        match (value.get("result"), value.get("alloc")) {
            (Some(result), Some(alloc)) => Ok((result.clone(), alloc.clone())),
            _ => Err(Failure::Answer(format!(
                "the t8n daemon's answer has no `result` and `alloc`: `{}`; {}",
                super::output::snippet(&value),
                tail(&stderr())
            ))),
        }
    }
}

/// Why a request failed.
enum Failure {
    /// The socket did not accept the connection (a daemon that shut itself down): retry.
    Connect(String),
    /// The connection broke or timed out: the daemon is not reused.
    Broken(String),
    /// The daemon answered with something that is not t8n output; it stays usable.
    Answer(String),
}

/// Daemons started on demand and reused, at most one per block running at once.
pub struct Pool {
    command: Vec<String>,
    idle: Mutex<Vec<Daemon>>,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("command", &self.command)
            .finish_non_exhaustive()
    }
}

impl Pool {
    /// A pool of daemons run as `command --uds SOCKET`.
    pub fn new(command: Vec<String>) -> Self {
        Pool {
            command,
            idle: Mutex::new(Vec::new()),
        }
    }

    fn take(&self) -> Result<Daemon, String> {
        let idle = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        match idle {
            Some(daemon) => Ok(daemon),
            None => Daemon::start(&self.command),
        }
    }

    /// Runs one t8n request on an idle daemon (or a new one) within `limit`.
    pub fn run(&self, input: &Input, limit: Duration) -> Result<(Value, Value), String> {
        // A daemon that stopped listening (it shuts down when idle too long) is replaced once.
        for attempt in 0..2 {
            let mut daemon = self.take()?;
            match daemon.request(input, limit) {
                Ok(answer) => {
                    if let Ok(mut idle) = self.idle.lock() {
                        idle.push(daemon);
                    }
                    return Ok(answer);
                }
                Err(Failure::Connect(e)) if attempt == 0 => drop(e),
                Err(Failure::Connect(e)) => {
                    return Err(format!("cannot connect to the t8n daemon: {e}"))
                }
                Err(Failure::Broken(e)) => return Err(format!("t8n daemon: {e}")),
                Err(Failure::Answer(e)) => {
                    if let Ok(mut idle) = self.idle.lock() {
                        idle.push(daemon);
                    }
                    return Err(e);
                }
            }
        }
        Err("cannot reach a t8n daemon".into())
    }
}

/// An HTTP answer.
struct Answer {
    status: u16,
    body: Vec<u8>,
}

enum HttpError {
    Connect(String),
    Io(String),
}

/// A minimal HTTP/1.1 POST over a Unix socket: one request per connection, the answer read
/// to its `Content-Length` or to the end, all within `limit`.
fn http_post(
    socket: &std::path::Path,
    path: &str,
    body: &str,
    limit: Duration,
) -> Result<Answer, HttpError> {
    let deadline = Instant::now() + limit;
    let mut stream = UnixStream::connect(socket).map_err(|e| HttpError::Connect(e.to_string()))?;
    let io = |e: std::io::Error| {
        if matches!(
            e.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ) {
            HttpError::Io(format!(
                "the t8n daemon did not answer within {} s",
                limit.as_secs_f64()
            ))
        } else {
            HttpError::Io(format!("talking to the t8n daemon: {e}"))
        }
    };
    stream.set_write_timeout(Some(limit)).map_err(io)?;
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).map_err(io)?;
    stream.write_all(body.as_bytes()).map_err(io)?;
    let mut received = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut expected_len: Option<usize> = None;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io(std::io::ErrorKind::TimedOut.into()));
        }
        stream.set_read_timeout(Some(left)).map_err(io)?;
        let n = stream.read(&mut buf).map_err(io)?;
        if n == 0 {
            break;
        }
        received.extend_from_slice(&buf[..n]);
        if expected_len.is_none() {
            expected_len = header_end(&received)
                .and_then(|end| content_length(&received[..end]).map(|len| end + len));
        }
        if expected_len.is_some_and(|len| received.len() >= len) {
            break;
        }
    }
    let end = header_end(&received).ok_or_else(|| {
        HttpError::Io(format!(
            "the t8n daemon's answer is not HTTP: `{}`",
            String::from_utf8_lossy(&received[..received.len().min(200)])
        ))
    })?;
    let head = String::from_utf8_lossy(&received[..end]);
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| HttpError::Io(format!("the t8n daemon's status line is `{head}`")))?;
    let mut body = received[end..].to_vec();
    if let Some(len) = content_length(&received[..end]) {
        body.truncate(len);
    }
    Ok(Answer { status, body })
}

/// The offset just after the blank line that ends the headers.
fn header_end(bytes: &[u8]) -> Option<usize> {
    bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| p + 4)
}

fn content_length(head: &[u8]) -> Option<usize> {
    String::from_utf8_lossy(head).lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("content-length")
            .then(|| value.trim().parse().ok())?
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_end_and_length_are_found() {
        let answer = b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\nX: y\r\n\r\n{}";
        let end = header_end(answer).expect("headers end");
        assert_eq!(&answer[end..], b"{}");
        assert_eq!(content_length(&answer[..end]), Some(2));
        assert_eq!(content_length(b"HTTP/1.0 200 OK\r\n\r\n"), None);
    }
}
