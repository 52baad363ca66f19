//! The Runtime API endpoints, with RAPID's status codes and error bodies.

use super::{
    lock,
    server::{Delivery, Queued, Shared},
    InvocationOutcome, MAX_RESPONSE_PAYLOAD_BYTES, RUNTIME_API_VERSION,
};
use axum::{
    body::Bytes,
    extract::{rejection::BytesRejection, DefaultBodyLimit, Path, State},
    http::{header::CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use serde_json::{json, Value};
use std::{
    sync::Arc,
    time::{Instant, SystemTime, UNIX_EPOCH},
};
use uuid::Uuid;

/// Bodies are buffered up to this size so an oversized response is drained and answered with a
/// clean 413 instead of a reset connection, which would make `lambda_runtime` exit.
const BODY_BUFFER_LIMIT: usize = 64 * 1024 * 1024;
const ERROR_TYPE_HEADER: &str = "lambda-runtime-function-error-type";

pub(super) fn router(shared: Arc<Shared>) -> Router {
    let base = format!("/{}/runtime", RUNTIME_API_VERSION);
    Router::new()
        .route(&format!("{base}/invocation/next"), get(next))
        .route(
            &format!("{base}/invocation/{{request_id}}/response"),
            post(response),
        )
        .route(
            &format!("{base}/invocation/{{request_id}}/error"),
            post(error),
        )
        .route(&format!("{base}/init/error"), post(init_error))
        .layer(DefaultBodyLimit::max(BODY_BUFFER_LIMIT))
        .with_state(shared)
}

/// What the runtime posted for an in-flight invocation.
pub(super) enum Completion {
    Response(Bytes),
    Error(Option<String>, Bytes),
    TooLarge(usize),
}

impl Completion {
    pub(super) fn into_outcome(self) -> (InvocationOutcome, Vec<u8>) {
        match self {
            Self::Response(body) => {
                let value = serde_json::from_slice(&body)
                    .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()));
                (InvocationOutcome::Success(value), body.to_vec())
            }
            Self::Error(header_type, body) => {
                let parsed: Option<Value> = serde_json::from_slice(&body).ok();
                let field = |name: &str| {
                    parsed
                        .as_ref()
                        .and_then(|v| v.get(name))
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                };
                let error_type = field("errorType")
                    .or(header_type)
                    .unwrap_or_else(|| "Unhandled".to_owned());
                let error_message = field("errorMessage")
                    .unwrap_or_else(|| String::from_utf8_lossy(&body).into_owned());
                let body_value = parsed
                    .unwrap_or_else(|| Value::String(String::from_utf8_lossy(&body).into_owned()));
                let outcome = InvocationOutcome::Error {
                    error_type,
                    error_message,
                    body: body_value,
                };
                (outcome, body.to_vec())
            }
            Self::TooLarge(size) => {
                let error_type = "Function.ResponseSizeTooLarge".to_owned();
                let error_message = format!(
                    "Response payload size ({size} bytes) exceeded maximum allowed payload size \
                     ({MAX_RESPONSE_PAYLOAD_BYTES} bytes)."
                );
                let body = json!({"errorType": error_type, "errorMessage": error_message});
                let outcome = InvocationOutcome::Error {
                    error_type,
                    error_message,
                    body,
                };
                (outcome, Vec::new())
            }
        }
    }
}

async fn next(State(shared): State<Arc<Shared>>) -> Response {
    shared.lifecycle.send_if_modified(|l| {
        let first = l.first_poll.is_none();
        if first {
            l.first_poll = Some(Instant::now());
        }
        first
    });
    if !lock(&shared.state).in_flight.is_empty() {
        return api_error(
            StatusCode::FORBIDDEN,
            "InvalidStateTransition",
            "/next called while an invocation is outstanding",
        );
    }
    let mut stopped = shared.stopped.subscribe();
    loop {
        let queued = tokio::select! {
            queued = async { shared.queue_rx.lock().await.recv().await } => queued,
            _ = stopped.wait_for(|s| *s) => None,
        };
        let Some(queued) = queued else {
            return api_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceStopped",
                "Runtime API stopped",
            );
        };
        if let Some(response) = deliver(&shared, queued) {
            return response;
        }
    }
}

/// Hands `queued` to the runtime, or `None` if its invoker already gave up on it.
fn deliver(shared: &Shared, queued: Queued) -> Option<Response> {
    let config = lock(&shared.config).clone();
    let deadline = SystemTime::now() + config.timeout;
    let trace_id = trace_id();
    let mut headers = HeaderMap::new();
    let mut set = |name: &'static str, value: String| {
        // from_bytes (unlike from_str) accepts the UTF-8 a JSON context header may contain.
        if let Ok(value) = HeaderValue::from_bytes(value.as_bytes()) {
            headers.insert(HeaderName::from_static(name), value);
        }
    };
    set("lambda-runtime-aws-request-id", queued.request_id.clone());
    set(
        "lambda-runtime-deadline-ms",
        epoch_millis(deadline).to_string(),
    );
    set("lambda-runtime-invoked-function-arn", config.arn());
    set("lambda-runtime-trace-id", trace_id.clone());
    if let Some(context) = &queued.invocation.client_context {
        set("lambda-runtime-client-context", context.to_string());
    }
    if let Some(identity) = &queued.invocation.cognito_identity {
        set("lambda-runtime-cognito-identity", identity.to_string());
    }
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    {
        // Checked under the lock the invoker abandons under, so a given-up event can never be
        // left in flight (which would turn every later /next into a 403).
        let mut state = lock(&shared.state);
        if queued.done.is_closed() || state.finished.contains(&queued.request_id) {
            return None;
        }
        state.in_flight.insert(queued.request_id, queued.done);
    }
    let _ = queued.delivered.send(Delivery {
        trace_id,
        deadline,
        at: Instant::now(),
    });
    Some((StatusCode::OK, headers, queued.invocation.payload).into_response())
}

async fn response(
    State(shared): State<Arc<Shared>>,
    Path(request_id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    if !shared.is_in_flight(&request_id) {
        return invalid_request_id();
    }
    let completion = match body {
        Ok(body) if body.len() > MAX_RESPONSE_PAYLOAD_BYTES => Completion::TooLarge(body.len()),
        Ok(body) => Completion::Response(body),
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            Completion::TooLarge(BODY_BUFFER_LIMIT)
        }
        // A truncated upload leaves the invocation open, like RAPID.
        Err(rejection) => return rejection.into_response(),
    };
    let too_large = matches!(completion, Completion::TooLarge(_));
    if !shared.complete(&request_id, completion) {
        return invalid_request_id();
    }
    if too_large {
        return api_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestEntityTooLarge",
            &format!("Exceeded maximum allowed payload size ({MAX_RESPONSE_PAYLOAD_BYTES} bytes)."),
        );
    }
    accepted()
}

async fn error(
    State(shared): State<Arc<Shared>>,
    Path(request_id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    if !shared.is_in_flight(&request_id) {
        return invalid_request_id();
    }
    let body = match body {
        Ok(body) => body,
        Err(rejection) => return rejection.into_response(),
    };
    if !shared.complete(
        &request_id,
        Completion::Error(error_type_header(&headers), body),
    ) {
        return invalid_request_id();
    }
    accepted()
}

async fn init_error(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (outcome, _) = Completion::Error(error_type_header(&headers), body).into_outcome();
    let InvocationOutcome::Error {
        error_type,
        error_message,
        ..
    } = outcome
    else {
        unreachable!("an error completion always maps to an error outcome")
    };
    let recorded = shared.lifecycle.send_if_modified(|l| {
        let allowed = l.first_poll.is_none() && l.init_error.is_none();
        if allowed {
            l.init_error = Some((error_type, error_message));
        }
        allowed
    });
    if !recorded {
        return api_error(
            StatusCode::FORBIDDEN,
            "InvalidStateTransition",
            "init error reported after init completed or twice",
        );
    }
    accepted()
}

fn error_type_header(headers: &HeaderMap) -> Option<String> {
    headers
        .get(ERROR_TYPE_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn accepted() -> Response {
    (StatusCode::ACCEPTED, Json(json!({"status": "OK"}))).into_response()
}

fn invalid_request_id() -> Response {
    api_error(
        StatusCode::BAD_REQUEST,
        "InvalidRequestID",
        "Invalid request ID",
    )
}

fn api_error(status: StatusCode, error_type: &str, message: &str) -> Response {
    let body = json!({"errorMessage": message, "errorType": error_type});
    (status, Json(body)).into_response()
}

/// An X-Ray trace header: `Root=1-<epoch secs hex>-<24 hex>;Parent=<16 hex>;Sampled=1`.
fn trace_id() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let root = Uuid::new_v4().simple().to_string();
    let parent = Uuid::new_v4().simple().to_string();
    format!(
        "Root=1-{secs:08x}-{};Parent={};Sampled=1",
        &root[..24],
        &parent[..16]
    )
}

fn epoch_millis(at: SystemTime) -> u128 {
    at.duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis()
}
