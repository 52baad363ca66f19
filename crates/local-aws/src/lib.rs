//! `local-aws`: an HTTP emulator of the AWS APIs moto lacks, speaking their
//! real wire protocols so the real `aws-sdk-*` clients can be pointed at it
//! with `AWS_ENDPOINT_URL_<SERVICE>=http://127.0.0.1:<port>`.
//!
//! It models the semantics code under test depends on (optimistic-lock
//! tokens, per-region state, validation limits), not just happy paths, and
//! adds a control API under `/_local-aws/` for fault injection (throttling,
//! latency), resets and a log of every call. A dev/test tool; never deployed.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let aws = local_aws::spawn("127.0.0.1:0").await?;
//! // point an SDK client at aws.url; the server stops when `aws` is dropped
//! # Ok(()) }
//! ```
//!
//! # Protocols
//!
//! * awsJson 1.0/1.1: `POST /` with `X-Amz-Target: <Prefix>.<Operation>`.
//! * REST-JSON: routes declared by each service (`/schemas/ids/{id}`).
//!
//! Both answer errors with the `x-amzn-ErrorType` header and a
//! `{"__type", "message"}` body, the shape the SDKs map to typed errors.
//!
//! One non-AWS API is served too: the Confluent Schema Registry REST API
//! ([`services::confluent_schema_registry`]), at the root paths (`/subjects`,
//! `/schemas/ids/{id}`, `/config`, ...), so a registry client's `url` is the
//! emulator's base URL. It is not SigV4-signed, answers
//! `application/vnd.schemaregistry.v1+json` and `{"error_code", "message"}`
//! errors, and can require HTTP basic auth (see below). Its paths start with
//! segments no AWS REST API hosted here uses; a test guards that.
//!
//! A second one is the Confluent REST v3 produce API
//! ([`services::confluent_kafka_rest`], `/kafka/v3/clusters/...`): topics,
//! basic auth, streaming produce with per-record delivery reports, and the
//! stored records at `GET /_local-aws/confluent-kafka-rest/records`.
//!
//! # Control API
//!
//! * `GET /_local-aws/health`: liveness and the service names.
//! * `POST /_local-aws/reset`: clears every service's state (the registry's
//!   auth setting included), the faults and the request log.
//! * `POST /_local-aws/faults` `{"service", "operation"?, "count",
//!   "error"?: {"code", "status", "message"}, "latency_ms"?}`: the next
//!   `count` calls fail or stall; `GET` lists, `DELETE` clears. For the
//!   registry, a numeric `code` (`"50001"`) becomes the body's `error_code`.
//! * `GET /_local-aws/requests`: every call (service, operation, region,
//!   input, status, error); `DELETE` clears.
//! * `/_local-aws/<service>/<action>`: a service's own settings
//!   ([`Service::control`]). The registry's:
//!   `POST /_local-aws/confluent-schema-registry/auth`
//!   `{"username", "password"}` makes every registry call require
//!   `Authorization: Basic` with them (else 401
//!   `{"error_code": 401, "message": "Unauthorized"}`, Confluent Cloud's
//!   answer); `DELETE` turns it off; `GET` shows it.
//!
//! # Adding a service
//!
//! 1. Add `src/services/<name>.rs` with a type implementing [`Service`]:
//!    its name, its awsJson target prefix or its [`RestRoute`]s, the list of
//!    operations, `handle` (a `match` on the operation name that reads the
//!    JSON input with the helpers in [`input`] and returns the output JSON or
//!    an [`AwsError`]) and `reset`. Keep state in a [`RegionalState`] so it is
//!    partitioned by account and region as AWS partitions it.
//! 2. Register it in `services::builtin()`.
//!
//! The framework then provides dispatch, error rendering, faults, latency
//! and the request log; the service never sees HTTP. Non-AWS REST APIs
//! override [`Service::rest_error_body`], [`Service::rest_content_type`] and,
//! for their own auth, [`Service::authorize`] (headers are in the
//! [`RequestContext`]).

#![warn(missing_docs)]

pub mod clock;
pub mod input;
pub mod services;

mod control;
mod dispatch;
mod error;
mod faults;
mod request_log;
mod route;
mod server;
mod service;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::Router;

pub use error::AwsError;
pub use faults::Fault;
pub use request_log::RequestRecord;
pub use server::{serve, serve_with_shutdown, spawn, spawn_emulator, RunningLocalAws};
pub use service::{
    RegionalState, RequestContext, RestRoute, Service, DEFAULT_ACCOUNT_ID, DEFAULT_REGION,
};

/// Largest request body accepted. Above every AWS payload limit the emulated
/// services enforce (Network Firewall's 1,000,000-character rules string,
/// JSON-escaped), so oversize inputs reach the service's own validation.
const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// The emulator: the registered services plus faults and the request log.
/// Cheap to clone; clones share all state.
#[derive(Clone)]
pub struct LocalAws {
    inner: Arc<Inner>,
}

struct Inner {
    services: Vec<Arc<dyn Service>>,
    faults: faults::FaultRegistry,
    log: request_log::RequestLog,
}

impl LocalAws {
    /// An emulator with every built-in service registered.
    pub fn new() -> Self {
        Self::with_services(services::builtin())
    }

    /// An emulator with exactly `services` (e.g. a test-only service).
    ///
    /// # Panics
    /// If two services share a name or an awsJson target prefix, or a REST
    /// route names an operation missing from [`Service::operations`]: those
    /// are programming errors that would make dispatch or faults misbehave.
    pub fn with_services(services: Vec<Arc<dyn Service>>) -> Self {
        for service in &services {
            for route in service.rest_routes() {
                assert!(
                    service.operations().contains(&route.operation),
                    "{}: route {} {} names unlisted operation {}",
                    service.name(),
                    route.method,
                    route.path,
                    route.operation
                );
            }
        }
        for (i, a) in services.iter().enumerate() {
            for b in &services[i + 1..] {
                assert_ne!(a.name(), b.name(), "duplicate service name");
                if let Some(prefix) = a.json_target_prefix() {
                    assert_ne!(
                        Some(prefix),
                        b.json_target_prefix(),
                        "duplicate target prefix"
                    );
                }
            }
        }
        Self {
            inner: Arc::new(Inner {
                services,
                faults: faults::FaultRegistry::default(),
                log: request_log::RequestLog::default(),
            }),
        }
    }

    /// The HTTP application: the control API plus every service's protocol.
    pub fn router(&self) -> Router {
        control::routes()
            .fallback(dispatch::dispatch)
            .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
            .with_state(self.clone())
    }

    /// Names of the registered services.
    pub fn service_names(&self) -> Vec<&'static str> {
        self.inner.services.iter().map(|s| s.name()).collect()
    }

    /// Clears every service's state, the armed faults and the request log.
    pub fn reset(&self) {
        for service in &self.inner.services {
            service.reset();
        }
        self.inner.faults.clear();
        self.inner.log.clear();
    }

    /// Arms a fault after checking it can ever fire: the service and
    /// operation must exist, `count` be positive, and it must do something.
    pub fn inject_fault(&self, fault: Fault) -> Result<(), AwsError> {
        let service = self
            .inner
            .services
            .iter()
            .find(|s| s.name() == fault.service)
            .ok_or_else(|| {
                AwsError::validation(format!(
                    "unknown service {:?}; known: {:?}",
                    fault.service,
                    self.service_names()
                ))
            })?;
        if let Some(op) = &fault.operation {
            if !service.operations().contains(&op.as_str()) {
                return Err(AwsError::validation(format!(
                    "{} has no operation {op:?}; known: {:?}",
                    fault.service,
                    service.operations()
                )));
            }
        }
        if fault.count == 0 {
            return Err(AwsError::validation("fault count must be at least 1"));
        }
        match &fault.error {
            None if fault.latency_ms.is_none() => {
                return Err(AwsError::validation("a fault needs an error or latency_ms"))
            }
            Some(err) if err.code.is_empty() || !(400..=599).contains(&err.status) => {
                return Err(AwsError::validation(
                    "a fault error needs a code and a status in 400..=599",
                ))
            }
            _ => {}
        }
        self.inner.faults.add(fault);
        Ok(())
    }

    /// Every call so far (since the last reset), in arrival order.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.inner.log.snapshot()
    }
}

impl Default for LocalAws {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for LocalAws {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalAws")
            .field("services", &self.service_names())
            .finish_non_exhaustive()
    }
}
