//! A refused or failed phase call, with MXC's error code.

use cordon_policy::ErrorCode;

use crate::error::SandboxError;

/// A refused or failed phase, with MXC's error code.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct LifecycleError {
    pub code: ErrorCode,
    pub message: String,
}

impl LifecycleError {
    pub(crate) fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        LifecycleError {
            code,
            message: message.into(),
        }
    }
}

impl From<SandboxError> for LifecycleError {
    fn from(e: SandboxError) -> Self {
        LifecycleError::new(e.code(), e.to_string())
    }
}

impl From<cordon_policy::PolicyError> for LifecycleError {
    fn from(e: cordon_policy::PolicyError) -> Self {
        LifecycleError::new(e.code, e.message)
    }
}

pub type Result<T> = std::result::Result<T, LifecycleError>;

/// A failed host operation, named.
pub(crate) fn io_err(what: &str, e: std::io::Error) -> LifecycleError {
    LifecycleError::new(ErrorCode::BackendError, format!("{what}: {e}"))
}
