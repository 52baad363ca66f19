//! The error every emulated operation returns, rendered by the protocol layer
//! in the exact shape the AWS SDKs parse.

use serde::{Deserialize, Serialize};

/// An AWS service error: the modelled error code (the SDKs map it to their
/// typed error variants), a message, and the HTTP status it is sent with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{code} ({status}): {message}")]
pub struct AwsError {
    /// Error shape name without namespace, e.g. `InvalidTokenException`.
    pub code: String,
    /// Human-readable message, sent as `message` in the body.
    #[serde(default)]
    pub message: String,
    /// HTTP status code. awsJson services send most client errors as 400.
    #[serde(default = "default_status")]
    pub status: u16,
}

fn default_status() -> u16 {
    400
}

impl AwsError {
    /// Any error code with any status.
    pub fn new(code: impl Into<String>, status: u16, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
            status,
        }
    }

    /// Replaces the status; REST-JSON services send e.g. 404 where awsJson
    /// services send 400 for the same error code.
    #[must_use]
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    /// `ValidationException` (400), the generic input-validation error.
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new("ValidationException", 400, message)
    }

    /// `InvalidRequestException` (400), the validation error of services
    /// such as Network Firewall that model no `ValidationException`.
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new("InvalidRequestException", 400, message)
    }

    /// `ResourceNotFoundException` (400, the awsJson convention).
    pub fn resource_not_found(message: impl Into<String>) -> Self {
        Self::new("ResourceNotFoundException", 400, message)
    }

    /// `InvalidTokenException` (400): a stale or unknown optimistic-lock token.
    pub fn invalid_token(message: impl Into<String>) -> Self {
        Self::new("InvalidTokenException", 400, message)
    }

    /// `ThrottlingException` (400); the SDKs retry it as a throttling error.
    pub fn throttling(message: impl Into<String>) -> Self {
        Self::new("ThrottlingException", 400, message)
    }

    /// `SerializationException` (400): the body is not valid JSON or a member
    /// has the wrong JSON type.
    pub fn serialization(message: impl Into<String>) -> Self {
        Self::new("SerializationException", 400, message)
    }

    /// `UnknownOperationException` (400): no such target or operation.
    pub fn unknown_operation(message: impl Into<String>) -> Self {
        Self::new("UnknownOperationException", 400, message)
    }

    /// `InternalFailure` (500); the SDKs retry it as a transient error.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new("InternalFailure", 500, message)
    }
}
