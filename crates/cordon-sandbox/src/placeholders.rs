//! Placeholders for denied paths that do not exist yet.
//!
//! A denied path that does not exist but lies in a writable tree must not be
//! creatable during the run. The backend mounts a mask over it, which needs
//! something to mount on: an empty directory created on the host for the run
//! and removed afterwards. (If cordon itself is SIGKILLed, the empty directory
//! stays; the next run masks it like any existing denied directory.)

use std::path::PathBuf;

use crate::SandboxError;

/// Placeholders for missing denied paths in writable trees, removed after the run.
pub struct Placeholders(Vec<PathBuf>);

impl Placeholders {
    pub fn create(paths: &[PathBuf]) -> Result<Self, SandboxError> {
        let mut made = Placeholders(Vec::new());
        for path in paths {
            match std::fs::create_dir(path) {
                Ok(()) => made.0.push(path.clone()),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    return Err(SandboxError::setup(format!(
                        "denied path {} appeared while the sandbox was being prepared; refusing",
                        path.display()
                    )))
                }
                Err(e) => {
                    return Err(SandboxError::setup(format!(
                        "cannot reserve denied path {}: {e}",
                        path.display()
                    )))
                }
            }
        }
        Ok(made)
    }
}

impl Drop for Placeholders {
    fn drop(&mut self) {
        for path in &self.0 {
            let _ = std::fs::remove_dir(path);
        }
    }
}

impl Placeholders {
    /// Keep the placeholders beyond this guard (a long-lived sandbox removes
    /// them when it stops). Returns their paths.
    pub fn keep(mut self) -> Vec<PathBuf> {
        std::mem::take(&mut self.0)
    }
}
