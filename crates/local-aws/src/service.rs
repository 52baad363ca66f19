//! The contract between the protocol layer and one emulated service.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use serde_json::Value;

use crate::AwsError;

/// Account every request is attributed to: the one moto and the AWS docs
/// use, so ARNs look familiar in assertions.
pub const DEFAULT_ACCOUNT_ID: &str = "123456789012";

/// Region used when a request carries no SigV4 credential scope.
pub const DEFAULT_REGION: &str = "us-east-1";

/// One emulated AWS service. Implementations keep their own state (behind a
/// lock: requests are served concurrently) and are otherwise pure
/// request-in/response-out; the framework does the wire protocol, fault
/// injection, latency and the request log.
pub trait Service: Send + Sync + 'static {
    /// Service name used by the control API and the request log, e.g.
    /// `network-firewall`.
    fn name(&self) -> &'static str;

    /// SigV4 signing name (credential scope service). It disambiguates REST
    /// routes that several services share, such as `/tags/{resourceArn}`.
    fn signing_name(&self) -> &'static str {
        self.name()
    }

    /// awsJson `X-Amz-Target` prefix (the part before the `.`), e.g.
    /// `NetworkFirewall_20201112`; `None` for REST-only services.
    fn json_target_prefix(&self) -> Option<&'static str> {
        None
    }

    /// REST routes of a REST-JSON service; empty for awsJson services.
    fn rest_routes(&self) -> Vec<RestRoute> {
        Vec::new()
    }

    /// Every operation the service implements. Anything else is answered
    /// with `UnknownOperationException`, and the fault API rejects it, so a
    /// misspelt fault fails loudly instead of never firing.
    fn operations(&self) -> &'static [&'static str];

    /// Runs one operation. `input` is the request's JSON body (`{}` when the
    /// body is empty); REST path and query parameters are in `ctx`.
    fn handle(
        &self,
        ctx: &RequestContext,
        operation: &str,
        input: Value,
    ) -> Result<Value, AwsError>;

    /// Forgets all state, as if freshly started.
    fn reset(&self);

    /// Body of a REST error response. The default is the REST-JSON shape the
    /// AWS SDKs parse; non-AWS REST APIs (Confluent Schema Registry) override
    /// it with their own.
    fn rest_error_body(&self, error: &AwsError) -> Value {
        serde_json::json!({ "__type": error.code, "message": error.message })
    }

    /// `Content-Type` of REST responses, successes and errors alike.
    fn rest_content_type(&self) -> &'static str {
        "application/json"
    }

    /// REST operations whose request body is not one JSON document (the
    /// Kafka REST produce API's concatenated JSON records): `handle` gets
    /// the body as a JSON string, and a string output is sent as the
    /// response body verbatim.
    fn raw_body_operations(&self) -> &'static [&'static str] {
        &[]
    }

    /// Admits or refuses a call before faults and the operation run, so an
    /// unauthenticated call neither consumes a fault nor touches state. AWS
    /// services accept any SigV4 signature; services with their own auth
    /// (the schema registry's HTTP basic auth) check `ctx.headers`.
    fn authorize(&self, _ctx: &RequestContext) -> Result<(), AwsError> {
        Ok(())
    }

    /// Emulator-only settings of this service, served by the control API at
    /// `/_local-aws/<service name>/<action>` (e.g. the registry's auth).
    /// `input` is the JSON body (`{}` when empty).
    fn control(&self, method: &str, action: &str, _input: Value) -> Result<Value, AwsError> {
        Err(AwsError::new(
            "NotFound",
            404,
            format!("{} has no control action {method} {action:?}", self.name()),
        ))
    }
}

/// A REST route: `method` plus a path template whose `{name}` segments bind
/// one path segment and whose final `{name+}` segment binds the rest of the
/// path (Smithy's greedy label).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestRoute {
    /// HTTP method, upper case.
    pub method: &'static str,
    /// Path template, e.g. `/schemas/ids/{id}`.
    pub path: &'static str,
    /// Operation name passed to [`Service::handle`].
    pub operation: &'static str,
    /// Status of a successful response; Smithy models pin it per operation.
    pub success_status: u16,
}

impl RestRoute {
    /// A route answering 200 on success.
    pub const fn new(method: &'static str, path: &'static str, operation: &'static str) -> Self {
        Self {
            method,
            path,
            operation,
            success_status: 200,
        }
    }

    /// Same route with another success status (e.g. 201, 204).
    #[must_use]
    pub const fn with_success_status(mut self, status: u16) -> Self {
        self.success_status = status;
        self
    }
}

/// Where and how a request arrived: what an operation needs beyond its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestContext {
    /// Region from the SigV4 credential scope, else [`DEFAULT_REGION`].
    pub region: String,
    /// Account the caller acts in; always [`DEFAULT_ACCOUNT_ID`] for now.
    pub account_id: String,
    /// Request id also sent back as `x-amzn-RequestId`.
    pub request_id: String,
    /// Bound REST path labels, percent-decoded.
    pub path_params: HashMap<String, String>,
    /// Query string parameters, decoded; the last value wins on repeats.
    pub query_params: HashMap<String, String>,
    /// Request headers with lower-case names; values that are not visible
    /// ASCII are dropped, and the last value wins on repeats.
    pub headers: HashMap<String, String>,
}

impl RequestContext {
    /// The base64 credentials of an `Authorization: Basic …` header, as sent.
    pub fn basic_credentials(&self) -> Option<&str> {
        self.headers
            .get("authorization")
            .and_then(|h| h.trim().split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
            .map(|(_, credentials)| credentials.trim())
    }
}

impl RequestContext {
    /// A context for `region` in the default account with no parameters;
    /// handy for calling a service directly in unit tests.
    pub fn for_region(region: impl Into<String>) -> Self {
        Self {
            region: region.into(),
            account_id: DEFAULT_ACCOUNT_ID.to_owned(),
            request_id: uuid::Uuid::new_v4().to_string(),
            path_params: HashMap::new(),
            query_params: HashMap::new(),
            headers: HashMap::new(),
        }
    }

    /// A bound path label, or a validation error naming it.
    pub fn path_param(&self, name: &str) -> Result<&str, AwsError> {
        self.path_params
            .get(name)
            .map(String::as_str)
            .ok_or_else(|| AwsError::validation(format!("missing path parameter {name}")))
    }
}

/// State partitioned the way AWS partitions it: one `T` per account and
/// region, created on first use.
#[derive(Debug, Default)]
pub struct RegionalState<T> {
    inner: Mutex<HashMap<(String, String), T>>,
}

impl<T: Default> RegionalState<T> {
    /// Empty state for every region.
    pub fn new() -> Self {
        Self {
            inner: Mutex::new(HashMap::new()),
        }
    }

    /// Runs `f` on the state of the caller's account and region, holding
    /// the lock so one operation is atomic with respect to others.
    pub fn with<R>(&self, ctx: &RequestContext, f: impl FnOnce(&mut T) -> R) -> R {
        let mut map = self.lock();
        let state = map
            .entry((ctx.account_id.clone(), ctx.region.clone()))
            .or_default();
        f(state)
    }

    /// Drops the state of every region.
    pub fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<(String, String), T>> {
        // A panicking handler must not wedge the emulator for every later
        // test; the framework already reported that request as failed.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
