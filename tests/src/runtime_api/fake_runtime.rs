//! The function side of the Runtime API, played with plain HTTP calls: lets tests drive a
//! [`RuntimeApi`] exactly as `lambda_runtime` 1.5 would, without building a function.

use super::{RuntimeApi, RUNTIME_API_VERSION};
use reqwest::{header::HeaderMap, StatusCode};
use serde_json::{json, Value};

const ERROR_TYPE_HEADER: &str = "lambda-runtime-function-error-type";

/// A runtime client for one Runtime API address.
#[derive(Clone)]
pub struct FakeRuntime {
    client: reqwest::Client,
    base: String,
}

/// An event handed out by `GET /next`.
#[derive(Debug)]
pub struct NextEvent {
    pub request_id: String,
    pub headers: HeaderMap,
    pub body: Value,
}

/// A Runtime API reply to a post.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiReply {
    pub status: StatusCode,
    pub body: Value,
}

impl ApiReply {
    /// RAPID's acknowledgement: 202 `{"status":"OK"}`.
    pub fn is_accepted(&self) -> bool {
        self.status == StatusCode::ACCEPTED && self.body == json!({"status": "OK"})
    }

    /// The `errorType` of an error reply.
    pub fn error_type(&self) -> Option<&str> {
        self.body.get("errorType").and_then(Value::as_str)
    }
}

impl FakeRuntime {
    /// A client for `api`.
    pub fn new(api: &RuntimeApi) -> Self {
        Self::for_address(&api.address().to_string())
    }

    /// For a `host:port` such as the value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn for_address(address: &str) -> Self {
        Self {
            client: reqwest::Client::new(),
            base: format!("http://{address}/{RUNTIME_API_VERSION}/runtime"),
        }
    }

    /// `GET /next` as sent, whatever the reply.
    pub async fn next_raw(&self) -> reqwest::Result<reqwest::Response> {
        let url = format!("{}/invocation/next", self.base);
        self.client.get(url).send().await
    }

    /// `GET /next`, expecting an event with a JSON payload.
    pub async fn next(&self) -> reqwest::Result<NextEvent> {
        let response = self.next_raw().await?.error_for_status()?;
        let headers = response.headers().clone();
        let request_id = headers
            .get("lambda-runtime-aws-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = response.json().await?;
        Ok(NextEvent {
            request_id,
            headers,
            body,
        })
    }

    /// Posts a response for `request_id`.
    pub async fn respond(
        &self,
        request_id: &str,
        body: impl Into<Vec<u8>>,
    ) -> reqwest::Result<ApiReply> {
        let path = format!("invocation/{request_id}/response");
        self.post(&path, None, body.into()).await
    }

    /// Posts an error as `lambda_runtime` 1.5 does: `unhandled` in the error type header, the
    /// real type in the body.
    pub async fn fail(
        &self,
        request_id: &str,
        body: impl Into<Vec<u8>>,
    ) -> reqwest::Result<ApiReply> {
        let path = format!("invocation/{request_id}/error");
        self.post(&path, Some("unhandled"), body.into()).await
    }

    /// Posts `/init/error` as `lambda_runtime` does (type `Runtime.InitError` in the header).
    pub async fn init_error(&self, error_type: &str, message: &str) -> reqwest::Result<ApiReply> {
        let body = json!({"errorType": error_type, "errorMessage": message});
        let body = body.to_string().into_bytes();
        self.post("init/error", Some("Runtime.InitError"), body)
            .await
    }

    async fn post(
        &self,
        path: &str,
        error_type: Option<&str>,
        body: Vec<u8>,
    ) -> reqwest::Result<ApiReply> {
        let mut request = self.client.post(format!("{}/{path}", self.base)).body(body);
        if let Some(error_type) = error_type {
            request = request.header(ERROR_TYPE_HEADER, error_type);
        }
        let response = request.send().await?;
        let status = response.status();
        let bytes = response.bytes().await?;
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        Ok(ApiReply { status, body })
    }
}

/// A scripted runtime loop for the harness's own process tests, reading its Runtime API from
/// `AWS_LAMBDA_RUNTIME_API` like a real function. `mode` is one of `echo` (answers
/// `{"echo", "function", "requestId"}` between two JSON log lines), `crash` (exits 70 on the first
/// event), `hang` (never answers) and `init-error` (posts `/init/error`, exits 1).
/// It writes `plain stderr line` to stderr first.
pub async fn run_scripted_function(mode: &str) {
    let address = std::env::var("AWS_LAMBDA_RUNTIME_API").expect("AWS_LAMBDA_RUNTIME_API");
    let name = std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_default();
    let runtime = FakeRuntime::for_address(&address);
    eprintln!("plain stderr line");
    if mode == "init-error" {
        let reply = runtime
            .init_error("ConfigError", "TABLE_NAME is not set")
            .await;
        eprintln!("init error reported: {reply:?}");
        std::process::exit(1);
    }
    loop {
        let next = runtime.next().await.expect("GET /next");
        match mode {
            "crash" => {
                eprintln!("fatal: crashing on purpose");
                std::process::exit(70);
            }
            "hang" => std::future::pending::<()>().await,
            _ => {
                let id = next.request_id;
                let log = json!({"level": "INFO", "message": "handled", "requestId": id});
                println!("{log}");
                let response = json!({"echo": next.body, "function": name, "requestId": id});
                runtime
                    .respond(&id, response.to_string())
                    .await
                    .expect("POST response");
                println!(
                    "{}",
                    json!({"level": "DEBUG", "message": "after response", "requestId": id})
                );
            }
        }
    }
}
