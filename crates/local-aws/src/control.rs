//! The control API under `/_local-aws/`: health, reset, fault injection, the
//! request log and per-service settings. Plain JSON, for tests and for
//! humans with curl.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::dispatch::{error_response, json_error_body};
use crate::faults::Fault;
use crate::{AwsError, LocalAws};

/// Routes of the control API, mounted before the AWS protocol fallback.
pub(crate) fn routes() -> Router<LocalAws> {
    Router::new()
        .route("/_local-aws/health", get(health))
        .route("/_local-aws/reset", post(reset))
        .route(
            "/_local-aws/faults",
            post(add_fault).get(list_faults).delete(clear_faults),
        )
        .route("/_local-aws/requests", get(requests).delete(clear_requests))
        .route("/_local-aws/{service}/{action}", any(service_control))
}

async fn health(State(aws): State<LocalAws>) -> Json<Value> {
    Json(json!({ "status": "ok", "services": aws.service_names() }))
}

async fn reset(State(aws): State<LocalAws>) -> Json<Value> {
    aws.reset();
    Json(json!({ "reset": true }))
}

async fn add_fault(State(aws): State<LocalAws>, body: Bytes) -> Response {
    // Parsed by hand so a bad fault gets a message naming the problem rather
    // than axum's generic rejection text.
    let fault = match serde_json::from_slice::<Fault>(&body) {
        Ok(fault) => fault,
        Err(e) => return bad_request(AwsError::validation(format!("invalid fault: {e}"))),
    };
    match aws.inject_fault(fault.clone()) {
        Ok(()) => (StatusCode::OK, Json(fault)).into_response(),
        Err(err) => bad_request(err),
    }
}

async fn list_faults(State(aws): State<LocalAws>) -> Json<Vec<Fault>> {
    Json(aws.inner.faults.list())
}

async fn clear_faults(State(aws): State<LocalAws>) -> Json<Value> {
    aws.inner.faults.clear();
    Json(json!({ "cleared": true }))
}

async fn requests(State(aws): State<LocalAws>) -> Response {
    Json(aws.requests()).into_response()
}

async fn clear_requests(State(aws): State<LocalAws>) -> Json<Value> {
    aws.inner.log.clear();
    Json(json!({ "cleared": true }))
}

/// `/_local-aws/<service>/<action>`: a service's own emulator settings.
async fn service_control(
    State(aws): State<LocalAws>,
    Path((service, action)): Path<(String, String)>,
    method: Method,
    body: Bytes,
) -> Response {
    let Some(svc) = aws.inner.services.iter().find(|s| s.name() == service) else {
        let err = AwsError::new("NotFound", 404, format!("unknown service {service:?}"));
        return bad_request(err);
    };
    let input = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        match serde_json::from_slice(&body) {
            Ok(input) => input,
            Err(e) => return bad_request(AwsError::validation(format!("invalid JSON: {e}"))),
        }
    };
    match svc.control(method.as_str(), &action, input) {
        Ok(output) => Json(output).into_response(),
        Err(err) => bad_request(err),
    }
}

fn bad_request(err: AwsError) -> Response {
    error_response(&err, "application/json", json_error_body(&err))
}
