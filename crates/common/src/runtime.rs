//! Function start-up and the per-invocation wrapper.
//!
//! `main` stays a few lines: [`Startup::begin`] installs logging,
//! [`Startup::config`] loads typed configuration and turns a bad one into a
//! Runtime API init error (the deploy's first invoke fails with every problem
//! named, instead of each event failing later), and [`Startup::run`] serves
//! events: it parses each into the handler's type with a path-naming error,
//! opens the invocation's log context, and flushes its metrics.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};

use lambda_runtime::{service_fn, Context, Diagnostic, LambdaEvent};
use lambda_runtime_api_client::body::Body;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::value::RawValue;
use tracing::Instrument;

use crate::config::Env;
use crate::failure::FunctionError;
use crate::metrics::Metrics;
use crate::Error;

/// What a handler gets besides its event.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub context: Context,
    pub metrics: Metrics,
    pub cold_start: bool,
}

impl Invocation {
    /// An invocation for tests of handlers: default context, fresh metrics.
    pub fn for_test() -> Self {
        Invocation {
            context: Context::default(),
            metrics: Metrics::new("Test", "test"),
            cold_start: false,
        }
    }
}

/// A function's start-up state.
pub struct Startup {
    service: String,
    function_name: String,
    namespace: String,
}

impl Startup {
    /// Installs logging. `service` is the function's name in the project
    /// (overridable with `POWERTOOLS_SERVICE_NAME`).
    pub fn begin(service: &str) -> Self {
        let service = std::env::var("POWERTOOLS_SERVICE_NAME")
            .ok()
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| service.to_string());
        let function_name =
            std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| service.clone());
        let namespace = std::env::var("POWERTOOLS_METRICS_NAMESPACE")
            .ok()
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| "EventAutomations".to_string());
        crate::logging::init(&service, &function_name);
        Startup {
            service,
            function_name,
            namespace,
        }
    }

    /// Loads configuration with `load`; on any problem reports them all as
    /// an init error (`Runtime.ConfigError`) and returns the error for `main`
    /// to return.
    pub async fn config<T>(&self, load: impl FnOnce(&mut Env) -> T) -> Result<T, Error> {
        let mut env = Env::from_process();
        let value = load(&mut env);
        self.init_step(env.finish(value), "Runtime.ConfigError")
            .await
    }

    /// Passes `result` through; an error is logged and reported to the Runtime
    /// API as an init error of type `error_type` (e.g. a client that cannot be
    /// built).
    pub async fn init_step<T, E: std::fmt::Display>(
        &self,
        result: Result<T, E>,
        error_type: &str,
    ) -> Result<T, Error> {
        match result {
            Ok(v) => Ok(v),
            Err(e) => {
                let message = e.to_string();
                tracing::error!(error_type, "init failed: {message}");
                report_init_error(error_type, &message).await;
                Err(message.into())
            }
        }
    }

    /// Serves events until the sandbox is shut down.
    pub async fn run<T, R, F, Fut>(self, handler: F) -> Result<(), Error>
    where
        T: DeserializeOwned,
        R: Serialize,
        F: Fn(T, Invocation) -> Fut,
        Fut: Future<Output = Result<R, FunctionError>>,
    {
        self.serve(crate::events::from_value::<T>, handler).await
    }

    /// [`Startup::run`] for a handler that takes the event unparsed, as the Runtime API sent
    /// it: for a hot path that reads only part of a large event and copies the rest through.
    pub async fn run_raw<R, F, Fut>(self, handler: F) -> Result<(), Error>
    where
        R: Serialize,
        F: Fn(Box<RawValue>, Invocation) -> Fut,
        Fut: Future<Output = Result<R, FunctionError>>,
    {
        self.serve(|raw: Box<RawValue>| Ok(raw), handler).await
    }

    /// The invocation loop: lambda_runtime parses each event as `P`, `parse` turns it into
    /// the handler's type (a mismatch is an invalid-event error).
    async fn serve<P, T, R, F, Fut>(
        self,
        parse: impl Fn(P) -> Result<T, String>,
        handler: F,
    ) -> Result<(), Error>
    where
        P: DeserializeOwned,
        R: Serialize,
        F: Fn(T, Invocation) -> Fut,
        Fut: Future<Output = Result<R, FunctionError>>,
    {
        let cold = AtomicBool::new(true);
        let (cold, handler, parse, this) = (&cold, &handler, &parse, &self);
        lambda_runtime::run(service_fn(move |event: LambdaEvent<P>| async move {
            let (payload, context) = event.into_parts();
            let cold_start = cold.swap(false, Ordering::Relaxed);
            let span = tracing::info_span!(
                "invocation",
                function_request_id = %context.request_id,
                xray_trace_id = context.xray_trace_id.as_deref().unwrap_or_default(),
                cold_start,
                correlation_id = tracing::field::Empty,
            );
            async move {
                let metrics = Metrics::new(&this.namespace, &this.service);
                let result = match parse(payload) {
                    Ok(event) => {
                        let invocation = Invocation {
                            context,
                            metrics: metrics.clone(),
                            cold_start,
                        };
                        handler(event, invocation).await
                    }
                    Err(e) => Err(FunctionError::invalid_event(format!("event does not match the expected shape: {e}"))),
                };
                if let Err(e) = &result {
                    tracing::error!(error_type = %e.kind, retryable = e.is_retryable(), "invocation failed: {}", e.message);
                }
                metrics.flush(cold_start.then_some(this.function_name.as_str()));
                result
            }
            .instrument(span)
            .await
        }))
        .await
    }
}

/// Posts to `/runtime/init/error`, as the Runtime API expects from a runtime
/// whose initialisation failed (lambda_runtime only does it for SnapStart).
/// Outside Lambda (no `AWS_LAMBDA_RUNTIME_API`) there is nobody to tell.
async fn report_init_error(error_type: &str, message: &str) {
    if std::env::var("AWS_LAMBDA_RUNTIME_API").is_err() {
        return;
    }
    let diagnostic = Diagnostic {
        error_type: error_type.to_string(),
        error_message: message.to_string(),
    };
    let sent = async {
        let client = lambda_runtime_api_client::Client::builder().build()?;
        let request = lambda_runtime_api_client::build_request()
            .method("POST")
            .uri("/2018-06-01/runtime/init/error")
            .header("lambda-runtime-function-error-type", error_type)
            .body(Body::from(serde_json::to_vec(&diagnostic)?))?;
        client.call(request).await?;
        Ok::<(), Error>(())
    };
    if let Err(e) = sent.await {
        tracing::error!("could not report the init error to the Runtime API: {e}");
    }
}
