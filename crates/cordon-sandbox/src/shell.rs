//! What `/bin/sh -c 'WORDS'` would run, and starting a command the way the
//! shell would (the program directly where the shell would only exec it).
//! Shared by every backend's init and by the lifecycle exec server.

use std::ffi::{CStr, CString};
use std::path::{Path, PathBuf};

use crate::sys;

/// Start the command in a new session: `words`' program itself where the
/// shell (`argv`, `/bin/sh -c LINE`) would only exec that file, which saves
/// a process start; else, or should that fail, the shell, which then reports
/// as a shell does. Used by the one-shot init and the exec server.
pub fn spawn_command(
    argv: &[CString],
    words: Option<&[CString]>,
    envp: &[CString],
    cwd: &CStr,
    stdio: sys::Stdio<'_>,
) -> std::io::Result<libc::pid_t> {
    let direct = words.and_then(|words| {
        let program = direct_program(words, envp)?;
        sys::spawn_session(&program, words, envp, cwd, stdio).ok()
    });
    match direct {
        Some(pid) => Ok(pid),
        None => sys::spawn_session(&argv[0], argv, envp, cwd, stdio),
    }
}

/// dash's builtins and keywords: for these `sh -c` does not exec a file.
const SHELL_BUILTINS: &[&str] = &[
    ".", ":", "[", "alias", "bg", "break", "case", "cd", "chdir", "command", "continue", "do",
    "done", "echo", "elif", "else", "esac", "eval", "exec", "exit", "export", "false", "fc", "fg",
    "fi", "for", "getopts", "hash", "if", "jobs", "kill", "local", "printf", "pwd", "read",
    "readonly", "return", "set", "shift", "test", "then", "times", "trap", "true", "type",
    "ulimit", "umask", "unalias", "unset", "until", "wait", "while", "{", "}", "!",
];

/// Where `/bin/sh -c 'WORDS'` would look for the file to exec when the first
/// word is `name`, in the order it looks: the path itself, or each entry of
/// `path` (the `PATH` variable). None wherever the shell might do anything
/// else than exec a file found that way: a builtin, an assignment (the words
/// are joined with `=` unquoted, so the shell reads `NAME=value CMD` as one),
/// a relative path, a relative or missing `PATH`.
pub fn exec_candidates(name: &str, path: Option<&str>) -> Option<Vec<PathBuf>> {
    if name.is_empty() || name.contains('=') || SHELL_BUILTINS.contains(&name) {
        return None;
    }
    if name.contains('/') {
        return name.starts_with('/').then(|| vec![PathBuf::from(name)]);
    }
    path?
        .split(':')
        .map(|dir| dir.starts_with('/').then(|| Path::new(dir).join(name)))
        .collect()
}

/// The file `/bin/sh -c 'WORDS'` would exec for `words`: the first of its
/// [`exec_candidates`] that exists, if that is an executable regular file;
/// None wherever the shell might do anything else. Runs in the init after
/// its confinement, so it sees what the command will.
fn direct_program(words: &[CString], envp: &[CString]) -> Option<CString> {
    let name = words.first()?.to_str().ok()?;
    let path = envp
        .iter()
        .find_map(|e| e.to_str().ok()?.strip_prefix("PATH="));
    let found = exec_candidates(name, path)?
        .into_iter()
        .find(|candidate| candidate.exists())?;
    let meta = std::fs::metadata(&found).ok()?;
    let c = sys::cstring(&found).ok()?;
    // SAFETY: access(2) on a NUL-terminated path.
    let executable = unsafe { libc::access(c.as_ptr(), libc::X_OK) } == 0;
    (meta.is_file() && executable).then_some(c)
}
