//! What bwrap writes on its `--json-status-fd`: one JSON object per line,
//! first the sandbox's PID 1 (`child-pid`), at the end the command's
//! `exit-code`. Other fields (namespace ids) are ignored.

use serde::Deserialize;

/// The fields cordon reads from bwrap's status lines.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Status {
    /// The sandbox's PID 1 (killing it kills the sandbox).
    pub child_pid: Option<libc::pid_t>,
    /// The command's exit code (128 + N when a signal N killed it).
    pub exit_code: Option<i32>,
}

impl Status {
    /// What the lines of `text` say, the first value of each field winning;
    /// a line that does not parse says nothing.
    pub fn parse(text: &str) -> Status {
        text.lines()
            .filter_map(|line| serde_json::from_str::<Status>(line).ok())
            .fold(Status::default(), |seen, line| Status {
                child_pid: seen.child_pid.or(line.child_pid),
                exit_code: seen.exit_code.or(line.exit_code),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_bwrap_status_lines() {
        let first = "{ \"child-pid\": 1234, \"cgroup-namespace\": 4026531835 }\n";
        assert_eq!(Status::parse(first).child_pid, Some(1234));
        let all = format!("{first}{{ \"exit-code\": 3 }}\n");
        assert_eq!(
            Status::parse(&all),
            Status {
                child_pid: Some(1234),
                exit_code: Some(3)
            }
        );
        assert_eq!(
            Status::parse("{ \"other\": 1 }\nnot json\n"),
            Status::default()
        );
    }
}
