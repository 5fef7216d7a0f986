//! Errors of the policy layer, with MXC's closed set of error codes.

use std::fmt;

/// MXC's closed set of error codes (SPEC §4). Every refusal carries one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    MalformedRequest,
    UnsupportedContainment,
    UnsupportedPhase,
    BackendUnavailable,
    MalformedId,
    StaleId,
    NotProvisioned,
    NotStarted,
    AlreadyStarted,
    AlreadyStopped,
    PolicyValidation,
    BackendError,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::MalformedRequest => "malformed_request",
            ErrorCode::UnsupportedContainment => "unsupported_containment",
            ErrorCode::UnsupportedPhase => "unsupported_phase",
            ErrorCode::BackendUnavailable => "backend_unavailable",
            ErrorCode::MalformedId => "malformed_id",
            ErrorCode::StaleId => "stale_id",
            ErrorCode::NotProvisioned => "not_provisioned",
            ErrorCode::NotStarted => "not_started",
            ErrorCode::AlreadyStarted => "already_started",
            ErrorCode::AlreadyStopped => "already_stopped",
            ErrorCode::PolicyValidation => "policy_validation",
            ErrorCode::BackendError => "backend_error",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refusal: what code, and a one-line reason that names the field or path at fault.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct PolicyError {
    pub code: ErrorCode,
    pub message: String,
}

impl PolicyError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        PolicyError {
            code,
            message: message.into(),
        }
    }

    /// A request that is not well-formed (shape, types, unknown fields, versions).
    pub fn malformed(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::MalformedRequest, message)
    }

    /// A well-formed request whose policy cannot be honoured as written.
    pub fn policy(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::PolicyValidation, message)
    }

    /// A policy feature cordon parses but does not enforce yet: refused, never ignored.
    pub fn not_supported_yet(what: impl fmt::Display) -> Self {
        Self::policy(format!(
            "{what} is not supported yet by cordon; refusing rather than running without it"
        ))
    }
}

pub type Result<T, E = PolicyError> = std::result::Result<T, E>;
