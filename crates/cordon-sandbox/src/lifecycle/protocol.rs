//! The exec protocol between `cordon exec` (the client, on the host) and a
//! long-lived sandbox's server (inside): one `SOCK_SEQPACKET` message each
//! way. The request carries the caller's stdin, stdout and stderr as three
//! descriptors; with a terminal, the server answers first with the
//! terminal's master side (and `{"pty":true}`), then with the status.

use std::ffi::CString;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Largest request accepted (argv + env of one command).
pub const MAX_REQUEST: usize = 1 << 20;

/// A terminal's size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TermSize {
    pub rows: u16,
    pub cols: u16,
}

/// Run one command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecRequest {
    /// `/bin/sh -c LINE`, as the process plan resolved it.
    pub argv: Vec<String>,
    /// The same command as words, when the client had them.
    #[serde(default)]
    pub words: Option<Vec<String>>,
    /// `NAME=value` entries.
    pub env: Vec<String>,
    #[serde(default)]
    pub cwd: Option<PathBuf>,
    #[serde(default)]
    pub timeout_ms: Option<u64>,
    /// Give the command a new terminal of this size.
    #[serde(default)]
    pub pty: Option<TermSize>,
}

/// A request checked and converted for spawning.
#[derive(Debug)]
pub struct Checked {
    pub argv: Vec<CString>,
    pub words: Option<Vec<CString>>,
    pub envp: Vec<CString>,
    pub cwd: PathBuf,
    pub timeout: Option<Duration>,
    pub pty: Option<TermSize>,
}

fn c_strings(field: &str, items: Vec<String>) -> Result<Vec<CString>, String> {
    items
        .into_iter()
        .map(|s| CString::new(s).map_err(|_| format!("request.{field} holds a string with NUL")))
        .collect()
}

impl ExecRequest {
    /// Parse and check the bytes of a request: the server's only reading of
    /// them (fuzzed: `fuzz/fuzz_targets/exec_request.rs`).
    pub fn parse(bytes: &[u8]) -> Result<Checked, String> {
        let request: ExecRequest =
            serde_json::from_slice(bytes).map_err(|e| format!("malformed request: {e}"))?;
        let argv = c_strings("argv", request.argv)?;
        if argv.is_empty() {
            return Err("request.argv is empty".into());
        }
        let words = request.words.map(|w| c_strings("words", w)).transpose()?;
        let envp = c_strings("env", request.env)?;
        let cwd = request.cwd.unwrap_or_else(|| PathBuf::from("/"));
        if CString::new(cwd.as_os_str().as_encoded_bytes()).is_err() {
            return Err("request.cwd contains NUL".into());
        }
        Ok(Checked {
            argv,
            words,
            envp,
            cwd,
            timeout: request
                .timeout_ms
                .filter(|ms| *ms > 0)
                .map(Duration::from_millis),
            pty: request.pty,
        })
    }
}

/// How a command ended, or why it did not run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ExecReply {
    /// The request was refused; nothing ran.
    Refused { error: String },
    #[serde(rename_all = "camelCase")]
    Ended {
        exit_code: i32,
        signal: Option<i32>,
        timed_out: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        exec_error: Option<String>,
    },
}

impl ExecReply {
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_reads_back_and_is_checked() {
        let request = ExecRequest {
            argv: vec!["/bin/sh".into(), "-c".into(), "true".into()],
            words: Some(vec!["true".into()]),
            env: vec!["PATH=/bin".into()],
            cwd: Some("/tmp".into()),
            timeout_ms: Some(1500),
            pty: Some(TermSize {
                rows: 30,
                cols: 100,
            }),
        };
        let bytes = serde_json::to_vec(&request).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.contains("\"timeoutMs\":1500"), "{text}");
        let checked = ExecRequest::parse(&bytes).unwrap();
        assert_eq!(checked.argv.len(), 3);
        assert_eq!(checked.timeout, Some(Duration::from_millis(1500)));
        assert_eq!(
            checked.pty,
            Some(TermSize {
                rows: 30,
                cols: 100
            })
        );
    }

    #[test]
    fn bad_requests_are_refused_with_the_field() {
        for (bytes, says) in [
            (&br#"{"argv":[],"env":[]}"#[..], "argv is empty"),
            (br#"{"argv":["a\u0000b"],"env":[]}"#, "request.argv"),
            (br#"{"argv":["a"],"env":["X=\u0000"]}"#, "request.env"),
            (
                br#"{"argv":["a"],"env":[],"cwd":"/a\u0000"}"#,
                "request.cwd",
            ),
            (br#"{"argv":"a","env":[]}"#, "malformed request"),
            (b"\xff", "malformed request"),
        ] {
            let e = ExecRequest::parse(bytes).unwrap_err();
            assert!(e.contains(says), "{e}");
        }
    }

    #[test]
    fn replies_keep_their_wire_shape() {
        let ended = ExecReply::Ended {
            exit_code: 3,
            signal: None,
            timed_out: false,
            exec_error: None,
        };
        let text = String::from_utf8(ended.encode()).unwrap();
        assert_eq!(text, r#"{"exitCode":3,"signal":null,"timedOut":false}"#);
        let refused: ExecReply = serde_json::from_str(r#"{"error":"no"}"#).unwrap();
        assert_eq!(refused, ExecReply::Refused { error: "no".into() });
        let back: ExecReply = serde_json::from_str(&text).unwrap();
        assert_eq!(back, ended);
    }
}
