//! A local AWS Lambda Runtime API (version 2018-06-01) and a launcher that runs a compiled function
//! binary against it the way Lambda runs a `provided.al2023` function.
//!
//! [`RuntimeApi`] is the HTTP side: an axum server that hands queued events to `GET /next` and
//! collects `/response`, `/error` and `/init/error` posts. It models the RAPID behaviour the
//! `lambda_runtime` crate relies on: 202 `{"status":"OK"}` for accepted posts, 400
//! `InvalidRequestID` for an unknown or already answered request id, 413 `RequestEntityTooLarge`
//! for a response over [`MAX_RESPONSE_PAYLOAD_BYTES`] (reported to the caller as
//! `Function.ResponseSizeTooLarge`), 403 `InvalidStateTransition` for out-of-order calls.
//!
//! [`FunctionProcess`] owns the child process and its `RuntimeApi`, so a test only deals in
//! events and outcomes. Invocations are served one at a time, like a sandbox; the output the
//! function wrote before answering is captured by the time `invoke` returns.
//!
//! [`fake_runtime`] plays the function's side over plain HTTP, for tests of the harness itself.

pub mod fake_runtime;
mod output;
mod process;
mod routes;
mod server;

pub use process::FunctionProcess;
pub use server::RuntimeApi;

use serde_json::Value;
use std::{
    path::PathBuf,
    process::ExitStatus,
    sync::{Mutex, MutexGuard, PoisonError},
    time::{Duration, SystemTime},
};

/// The Runtime API version in every path, e.g. `/2018-06-01/runtime/invocation/next`.
pub const RUNTIME_API_VERSION: &str = "2018-06-01";
/// Largest accepted response body: RAPID's 6291556 bytes (6 MiB + 100), as its errors state.
pub const MAX_RESPONSE_PAYLOAD_BYTES: usize = 6 * 1024 * 1024 + 100;
/// Function timeout used for the deadline header unless one is set explicitly.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Region used for the ARN and `AWS_REGION` unless `AWS_REGION` is overridden.
pub const DEFAULT_REGION: &str = "us-east-1";
/// Account id in the invoked function ARN.
pub const ACCOUNT_ID: &str = "123456789012";

/// Everything that can go wrong while running a function under the harness.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    /// The Runtime API server could not bind or serve.
    #[error("local Runtime API I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The binary could not be executed (missing, not executable, bad interpreter).
    #[error("cannot launch {}: {source}", binary.display())]
    Spawn {
        binary: PathBuf,
        source: std::io::Error,
    },
    /// The runtime posted `/runtime/init/error`.
    #[error("function init failed: {error_type}: {error_message}")]
    InitFailed {
        error_type: String,
        error_message: String,
    },
    /// The process ended on its own (or was killed after a timeout) when it was needed.
    #[error("function process exited {during} ({status}); last output:\n{}", last_output.join("\n"))]
    Exited {
        status: ExitStatus,
        during: String,
        last_output: Vec<String>,
    },
    /// Nothing happened in time: init, pick-up of an event, or a response by the deadline.
    #[error("timed out after {after:?} waiting for {waiting_for}")]
    Timeout {
        waiting_for: String,
        after: Duration,
    },
    /// Waiting on the child failed at the OS level.
    #[error("lost track of the function process: {0}")]
    ProcessLost(String),
    /// The server went away while an invocation was pending.
    #[error("the local Runtime API stopped")]
    ApiStopped,
}

/// How an invocation ended, as the caller of `Invoke` would see it.
#[derive(Debug, Clone, PartialEq)]
pub enum InvocationOutcome {
    /// The posted response, parsed as JSON; a body that is not JSON becomes a `Value::String` of
    /// its (lossy UTF-8) text, and [`InvocationReport::raw_body`] keeps the exact bytes.
    Success(Value),
    /// The posted error (or the platform's own, e.g. `Function.ResponseSizeTooLarge`).
    /// `error_type` is the body's `errorType`, falling back to the
    /// `Lambda-Runtime-Function-Error-Type` header, because `lambda_runtime` always sends
    /// `unhandled` in the header and puts the real type in the body.
    Error {
        error_type: String,
        error_message: String,
        body: Value,
    },
}

impl InvocationOutcome {
    /// The response, if the invocation succeeded.
    pub fn success(&self) -> Option<&Value> {
        match self {
            Self::Success(value) => Some(value),
            Self::Error { .. } => None,
        }
    }

    /// `(error_type, error_message)`, if the invocation failed.
    pub fn error(&self) -> Option<(&str, &str)> {
        match self {
            Self::Success(_) => None,
            Self::Error {
                error_type,
                error_message,
                ..
            } => Some((error_type, error_message)),
        }
    }
}

/// One invocation to queue: the payload plus the optional mobile-SDK context headers.
#[derive(Debug, Clone, Default)]
pub struct Invocation {
    /// The event body, sent verbatim.
    pub payload: Vec<u8>,
    /// Sent as `Lambda-Runtime-Client-Context` (JSON text).
    pub client_context: Option<Value>,
    /// Sent as `Lambda-Runtime-Cognito-Identity` (JSON text), e.g.
    /// `{"cognitoIdentityId": "...", "cognitoIdentityPoolId": "..."}`.
    pub cognito_identity: Option<Value>,
}

impl Invocation {
    /// An invocation carrying `event` as its JSON payload.
    pub fn new(event: &Value) -> Self {
        Self {
            payload: event.to_string().into_bytes(),
            ..Self::default()
        }
    }

    /// An invocation with an arbitrary payload, e.g. to check how a function rejects bad JSON.
    pub fn raw(payload: impl Into<Vec<u8>>) -> Self {
        Self {
            payload: payload.into(),
            ..Self::default()
        }
    }

    /// Adds a mobile-SDK client context (`ClientContext` in `lambda_runtime`).
    pub fn with_client_context(mut self, context: Value) -> Self {
        self.client_context = Some(context);
        self
    }

    /// Adds a Cognito identity (`CognitoIdentity` in `lambda_runtime`).
    pub fn with_cognito_identity(mut self, identity: Value) -> Self {
        self.cognito_identity = Some(identity);
        self
    }
}

/// An invocation's outcome with the ids and timings a test may want to correlate with logs.
#[derive(Debug, Clone)]
pub struct InvocationReport {
    /// The `Lambda-Runtime-Aws-Request-Id` (the `requestId` in the function's JSON logs).
    pub request_id: String,
    /// The `Lambda-Runtime-Trace-Id` X-Ray header.
    pub trace_id: String,
    /// The instant sent in `Lambda-Runtime-Deadline-Ms`.
    pub deadline: SystemTime,
    /// From handing the event to the runtime until its response or error arrived.
    pub duration: Duration,
    pub outcome: InvocationOutcome,
    /// The posted body exactly as received (empty for a rejected oversized response).
    pub raw_body: Vec<u8>,
}

/// A panicking test thread must not turn every later lock into a second panic.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
