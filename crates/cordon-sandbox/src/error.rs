//! Why cordon could not run a command, and the exit codes that say so.

/// Exit code of a run that hit its timeout.
pub const EXIT_TIMEOUT: i32 = 124;
/// Exit code when cordon itself failed (config, policy, backend).
pub const EXIT_CORDON_FAILED: i32 = 125;

/// Why cordon could not run the command.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SandboxError {
    /// The selected backend cannot run on this host.
    #[error("{0}")]
    Unavailable(String),
    /// The backend is available but building the sandbox failed.
    #[error("{0}")]
    Setup(String),
}

impl SandboxError {
    pub fn unavailable(msg: impl Into<String>) -> Self {
        SandboxError::Unavailable(msg.into())
    }
    pub fn setup(msg: impl Into<String>) -> Self {
        SandboxError::Setup(msg.into())
    }
    /// MXC error code for this failure.
    pub fn code(&self) -> cordon_policy::ErrorCode {
        match self {
            SandboxError::Unavailable(_) => cordon_policy::ErrorCode::BackendUnavailable,
            SandboxError::Setup(_) => cordon_policy::ErrorCode::BackendError,
        }
    }
}
