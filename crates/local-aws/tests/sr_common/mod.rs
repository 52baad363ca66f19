//! Helpers shared by the schema registry test binaries: plain HTTP calls
//! as the registry's REST clients make them.
#![allow(dead_code)] // each test binary uses a different subset

use reqwest::Method;
use serde_json::{json, Value};

pub const ADDRESS: &str = r#"{"type":"record","name":"Address","namespace":"com.acme","fields":[{"name":"street","type":"string"}]}"#;
pub const CUSTOMER: &str = r#"{"type":"record","name":"Customer","namespace":"com.acme","fields":[{"name":"home","type":"Address"}]}"#;
pub const EVENT_V1: &str =
    r#"{"type":"record","name":"Event","fields":[{"name":"id","type":"long"}]}"#;
pub const EVENT_V2: &str = r#"{"type":"record","name":"Event","fields":[{"name":"id","type":"long"},{"name":"note","type":["null","string"],"default":null}]}"#;

/// One registry call; returns status, content type and JSON body.
pub async fn call_with(
    url: &str,
    method: Method,
    path: &str,
    body: Option<&Value>,
    authz: Option<&str>,
) -> (u16, String, Value) {
    let mut request = reqwest::Client::new().request(method, format!("{url}{path}"));
    if let Some(body) = body {
        request = request
            .header("content-type", "application/vnd.schemaregistry.v1+json")
            .body(body.to_string());
    }
    if let Some(authz) = authz {
        request = request.header("authorization", authz);
    }
    let response = request.send().await.expect("request sent");
    let status = response.status().as_u16();
    let content_type = header(response.headers(), "content-type")
        .unwrap_or_default()
        .to_owned();
    let text = response.text().await.expect("body read");
    let json =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("non-JSON body {text:?}: {e}"));
    (status, content_type, json)
}

pub async fn call(url: &str, method: Method, path: &str, body: Option<&Value>) -> (u16, Value) {
    let (status, _, json) = call_with(url, method, path, body, None).await;
    (status, json)
}

pub async fn get(url: &str, path: &str) -> (u16, Value) {
    call(url, Method::GET, path, None).await
}

pub async fn register(url: &str, subject: &str, body: Value) -> (u16, Value) {
    call(
        url,
        Method::POST,
        &format!("/subjects/{subject}/versions"),
        Some(&body),
    )
    .await
}

/// Registers an Avro schema that must succeed; returns the response.
pub async fn register_ok(url: &str, subject: &str, schema: &str) -> Value {
    let (status, body) = register(url, subject, json!({ "schema": schema })).await;
    assert_eq!(status, 200, "{body}");
    body
}

pub fn assert_error(status: u16, body: &Value, want_status: u16, want_code: i64) {
    assert_eq!(status, want_status, "{body}");
    assert_eq!(body["error_code"], want_code, "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
}

pub async fn start() -> local_aws::RunningLocalAws {
    local_aws::spawn("127.0.0.1:0")
        .await
        .expect("emulator started")
}

fn header<'a>(headers: &'a reqwest::header::HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}
