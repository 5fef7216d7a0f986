//! What a sandbox's init (native) or reaper (Landlock-only) tells its
//! supervisor on the report pipe: one JSON object per line, typed both ways.
//! The text is written by the sandbox side and read by cordon; a line that
//! does not parse is ignored (the init's exit status then speaks).

use std::os::fd::RawFd;

use serde::{Deserialize, Serialize};

use crate::sys;

/// How far the Landlock filesystem layer could be enforced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LandlockEnforced {
    Fully,
    /// An older ABI: some access rights are not handled.
    Partially,
    NotAvailable,
}

impl LandlockEnforced {
    /// As `--debug` and the audit record list it.
    pub fn describe(self) -> &'static str {
        match self {
            LandlockEnforced::Fully => "fully enforced",
            LandlockEnforced::Partially => "partially enforced (older ABI)",
            LandlockEnforced::NotAvailable => "not available in this kernel",
        }
    }
}

/// One message from the sandbox side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "report", rename_all = "kebab-case")]
pub enum InitReport {
    /// The sandbox was built; this is what Landlock could enforce.
    Landlock {
        enforced: LandlockEnforced,
    },
    /// A long-lived sandbox's init is ready to serve exec requests.
    Ready,
    /// The sandbox could not be built; nothing ran.
    SetupFailed {
        message: String,
    },
    /// Namespaces could be created but not used here (an LSM such as
    /// AppArmor's userns restriction): the caller may fall back.
    NamespacesUnusable {
        message: String,
    },
    /// The command could not be started (126, or 127 when not found).
    ExecFailed {
        code: i32,
        message: String,
    },
    Exited {
        code: i32,
    },
    Signaled {
        signal: i32,
    },
}

impl InitReport {
    /// The report, and the exit code a shell would give, for a command that
    /// could not be started (127 when it was not found, else 126).
    pub fn exec_failed(e: &std::io::Error) -> (InitReport, i32) {
        let code = match e.raw_os_error() {
            Some(libc::ENOENT) => 127,
            _ => 126,
        };
        let report = InitReport::ExecFailed {
            code,
            message: format!("cannot run /bin/sh in the sandbox: {e}"),
        };
        (report, code)
    }

    /// The line written to the report pipe.
    pub fn encode(&self) -> Vec<u8> {
        let mut line = serde_json::to_vec(self).unwrap_or_default();
        line.push(b'\n');
        line
    }

    /// Write this report to `fd` (the sandbox side).
    pub fn send(&self, fd: RawFd) {
        sys::write_all(fd, &self.encode());
    }

    /// Every report in what the sandbox side wrote, in order.
    pub fn parse_all(text: &str) -> Vec<InitReport> {
        text.lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_report_reads_back_as_written() {
        let all = [
            InitReport::Landlock {
                enforced: LandlockEnforced::Partially,
            },
            InitReport::Ready,
            InitReport::SetupFailed {
                message: "mount: no\nsecond line".into(),
            },
            InitReport::NamespacesUnusable {
                message: "uid_map: EPERM".into(),
            },
            InitReport::ExecFailed {
                code: 127,
                message: "not found".into(),
            },
            InitReport::Exited { code: 3 },
            InitReport::Signaled { signal: 9 },
        ];
        let text: Vec<u8> = all.iter().flat_map(InitReport::encode).collect();
        let text = String::from_utf8(text).unwrap();
        assert_eq!(text.lines().count(), all.len(), "one line each: {text}");
        assert_eq!(InitReport::parse_all(&text), all);
    }

    #[test]
    fn garbage_lines_are_ignored() {
        let text = "error:old format\n{\"report\":\"exited\",\"code\":0}\n{bad\n";
        assert_eq!(
            InitReport::parse_all(text),
            vec![InitReport::Exited { code: 0 }]
        );
    }
}
