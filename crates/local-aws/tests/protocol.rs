//! Wire-protocol dispatch, driven over real HTTP against test-only services.

mod common;

use std::sync::Arc;

use common::{authorization, aws_json, header, request_log};
use local_aws::{AwsError, LocalAws, RequestContext, RestRoute, RunningLocalAws, Service};
use serde_json::{json, Value};

/// Echoes what the framework handed it, so tests see the dispatch result.
struct Echo;

impl Service for Echo {
    fn name(&self) -> &'static str {
        "echo"
    }
    fn json_target_prefix(&self) -> Option<&'static str> {
        Some("Echo_20240101")
    }
    fn rest_routes(&self) -> Vec<RestRoute> {
        vec![
            RestRoute::new("GET", "/things/{id}", "GetThing"),
            RestRoute::new("POST", "/things", "CreateThing").with_success_status(201),
            RestRoute::new("DELETE", "/things/{id}", "DeleteThing").with_success_status(204),
            RestRoute::new("GET", "/files/{key+}", "GetFile"),
            RestRoute::new("GET", "/tags/{arn}", "ListTags"),
        ]
    }
    fn operations(&self) -> &'static [&'static str] {
        &[
            "Echo",
            "Fail",
            "Panic",
            "GetThing",
            "CreateThing",
            "DeleteThing",
            "GetFile",
            "ListTags",
        ]
    }
    fn handle(
        &self,
        ctx: &RequestContext,
        operation: &str,
        input: Value,
    ) -> Result<Value, AwsError> {
        match operation {
            "Fail" => Err(AwsError::invalid_token("stale token")),
            "Panic" => panic!("handler bug"),
            _ => Ok(json!({
                "service": "echo",
                "operation": operation,
                "input": input,
                "region": ctx.region,
                "account": ctx.account_id,
                "path": ctx.path_params,
                "query": ctx.query_params,
            })),
        }
    }
    fn reset(&self) {}
}

/// A REST service sharing `/tags/{arn}` with [`Echo`] and using a non-AWS
/// error body, as the Confluent Schema Registry will.
struct Other;

impl Service for Other {
    fn name(&self) -> &'static str {
        "other"
    }
    fn signing_name(&self) -> &'static str {
        "other-signing"
    }
    fn rest_routes(&self) -> Vec<RestRoute> {
        vec![
            RestRoute::new("GET", "/tags/{arn}", "ListTags"),
            RestRoute::new("GET", "/subjects/{subject}", "GetSubject"),
        ]
    }
    fn operations(&self) -> &'static [&'static str] {
        &["ListTags", "GetSubject"]
    }
    fn handle(&self, _: &RequestContext, operation: &str, _: Value) -> Result<Value, AwsError> {
        match operation {
            "GetSubject" => Err(AwsError::new("40401", 404, "Subject not found")),
            _ => Ok(json!({ "service": "other" })),
        }
    }
    fn reset(&self) {}
    fn rest_error_body(&self, error: &AwsError) -> Value {
        json!({ "error_code": error.code.parse::<u32>().unwrap_or(50001), "message": error.message })
    }
}

async fn start() -> RunningLocalAws {
    let emulator = LocalAws::with_services(vec![Arc::new(Echo), Arc::new(Other)]);
    local_aws::spawn_emulator("127.0.0.1:0", emulator)
        .await
        .expect("emulator started")
}

#[tokio::test]
async fn aws_json_1_0_and_1_1_mirror_content_type_and_read_region_from_sigv4_scope() {
    let aws = start().await;
    for content_type in ["application/x-amz-json-1.0", "application/x-amz-json-1.1"] {
        let (status, headers, body) = aws_json(
            &aws.url,
            "Echo_20240101.Echo",
            content_type,
            Some("eu-west-1"),
            r#"{"A":1}"#,
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(header(&headers, "content-type"), Some(content_type));
        assert!(header(&headers, "x-amzn-requestid").is_some_and(|id| id.len() == 36));
        assert_eq!(body["operation"], "Echo");
        assert_eq!(body["input"], json!({"A": 1}));
        assert_eq!(body["region"], "eu-west-1");
        assert_eq!(body["account"], "123456789012");
    }
    // Unsigned: default region; empty body: empty input object.
    let (status, _, body) = aws_json(
        &aws.url,
        "Echo_20240101.Echo",
        "application/x-amz-json-1.0",
        None,
        "",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["region"], "us-east-1");
    assert_eq!(body["input"], json!({}));
}

#[tokio::test]
async fn unknown_operation_and_unknown_prefix_are_aws_errors() {
    let aws = start().await;
    for target in ["Echo_20240101.Nope", "Nope_20240101.Echo", "NoDotAtAll"] {
        let (status, headers, body) =
            aws_json(&aws.url, target, "application/x-amz-json-1.1", None, "{}").await;
        assert_eq!(status, 400, "{target}");
        assert_eq!(
            header(&headers, "x-amzn-errortype"),
            Some("UnknownOperationException")
        );
        assert_eq!(
            header(&headers, "content-type"),
            Some("application/x-amz-json-1.1")
        );
        assert_eq!(body["__type"], "UnknownOperationException");
        assert!(body["message"].as_str().unwrap().contains(target), "{body}");
    }
    let log = request_log(&aws.url).await;
    assert_eq!(log.len(), 3);
    assert_eq!(log[0]["service"], "echo");
    assert_eq!(log[0]["operation"], "Nope");
    assert_eq!(log[1]["service"], "unknown");
    assert_eq!(log[2]["error"], "UnknownOperationException");
}

#[tokio::test]
async fn malformed_json_is_a_serialization_exception_naming_the_problem() {
    let aws = start().await;
    let (status, headers, body) = aws_json(
        &aws.url,
        "Echo_20240101.Echo",
        "application/x-amz-json-1.0",
        None,
        r#"{"A": tru"#,
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        header(&headers, "x-amzn-errortype"),
        Some("SerializationException")
    );
    assert_eq!(body["__type"], "SerializationException");
    let message = body["message"].as_str().unwrap();
    assert!(
        message.contains("malformed JSON") && message.contains("line 1"),
        "{message}"
    );

    let (status, _, body) = aws_json(
        &aws.url,
        "Echo_20240101.Echo",
        "application/x-amz-json-1.0",
        None,
        "[1]",
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["__type"], "SerializationException");

    let log = request_log(&aws.url).await;
    assert_eq!(log[0]["input"], r#"{"A": tru"#, "raw text is logged");
    assert_eq!(log[0]["error"], "SerializationException");
}

#[tokio::test]
async fn wrong_content_type_is_rejected() {
    let aws = start().await;
    let (status, headers, body) = aws_json(
        &aws.url,
        "Echo_20240101.Echo",
        "application/json",
        None,
        "{}",
    )
    .await;
    assert_eq!(status, 415);
    assert_eq!(
        header(&headers, "x-amzn-errortype"),
        Some("UnsupportedMediaTypeException")
    );
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("application/json"));
}

#[tokio::test]
async fn service_errors_and_panics_are_rendered_and_the_server_survives() {
    let aws = start().await;
    let (status, headers, body) = aws_json(
        &aws.url,
        "Echo_20240101.Fail",
        "application/x-amz-json-1.0",
        None,
        "{}",
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        header(&headers, "x-amzn-errortype"),
        Some("InvalidTokenException")
    );
    assert_eq!(
        body,
        json!({"__type": "InvalidTokenException", "message": "stale token"})
    );

    let (status, _, body) = aws_json(
        &aws.url,
        "Echo_20240101.Panic",
        "application/x-amz-json-1.0",
        None,
        "{}",
    )
    .await;
    assert_eq!(status, 500);
    assert_eq!(body["__type"], "InternalFailure");
    assert!(body["message"].as_str().unwrap().contains("handler bug"));

    let (status, _, _) = aws_json(
        &aws.url,
        "Echo_20240101.Echo",
        "application/x-amz-json-1.0",
        None,
        "{}",
    )
    .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn rest_routes_bind_path_and_query_params() {
    let aws = start().await;
    let client = reqwest::Client::new();
    let response = client
        .get(format!("{}/things/a%2Fb%3Ac?limit=5&name=x%20y", aws.url))
        .header("authorization", authorization("ap-south-1", "echo"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        header(response.headers(), "content-type"),
        Some("application/json")
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["operation"], "GetThing");
    assert_eq!(body["path"], json!({"id": "a/b:c"}));
    assert_eq!(body["query"], json!({"limit": "5", "name": "x y"}));
    assert_eq!(body["region"], "ap-south-1");

    let body: Value = client
        .get(format!("{}/files/dir/sub/file.txt", aws.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["path"], json!({"key": "dir/sub/file.txt"}));

    let response = client
        .post(format!("{}/things", aws.url))
        .json(&json!({"Name": "n"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["input"], json!({"Name": "n"}));

    let response = client
        .delete(format!("{}/things/7", aws.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert!(response.text().await.unwrap().is_empty());
}

#[tokio::test]
async fn rest_errors_unknown_routes_and_malformed_bodies() {
    let aws = start().await;
    let client = reqwest::Client::new();
    let response = client
        .get(format!("{}/nowhere", aws.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(
        header(response.headers(), "x-amzn-errortype"),
        Some("UnknownOperationException")
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["__type"], "UnknownOperationException");

    // Wrong method for an existing path is not a match either.
    let response = client
        .put(format!("{}/things/1", aws.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);

    let response = client
        .post(format!("{}/things", aws.url))
        .header("content-type", "application/json")
        .body("{nope")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(
        header(response.headers(), "x-amzn-errortype"),
        Some("SerializationException")
    );

    // A service's own error body shape (Confluent style) is used for REST.
    let response = client
        .get(format!("{}/subjects/s", aws.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(
        header(response.headers(), "x-amzn-errortype"),
        Some("40401")
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({"error_code": 40401, "message": "Subject not found"})
    );

    let log = request_log(&aws.url).await;
    let ops: Vec<_> = log
        .iter()
        .map(|r| (r["service"].clone(), r["operation"].clone()))
        .collect();
    assert_eq!(
        ops,
        [
            (json!("unknown"), json!("GET /nowhere")),
            (json!("unknown"), json!("PUT /things/1")),
            (json!("echo"), json!("CreateThing")),
            (json!("other"), json!("GetSubject")),
        ]
    );
}

#[tokio::test]
async fn shared_rest_path_is_resolved_by_sigv4_signing_name() {
    let aws = start().await;
    let client = reqwest::Client::new();
    let get = |signing: Option<&'static str>| {
        let mut request = client.get(format!("{}/tags/arn%3Ax", aws.url));
        if let Some(service) = signing {
            request = request.header("authorization", authorization("eu-west-1", service));
        }
        async move { request.send().await.unwrap().json::<Value>().await.unwrap()["service"].clone() }
    };
    assert_eq!(get(Some("other-signing")).await, "other");
    assert_eq!(get(Some("echo")).await, "echo");
    // Unsigned: the first registered service wins.
    assert_eq!(get(None).await, "echo");
}

#[tokio::test]
async fn health_lists_registered_services() {
    let aws = start().await;
    let health: Value = reqwest::get(format!("{}/_local-aws/health", aws.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        health,
        json!({"status": "ok", "services": ["echo", "other"]})
    );
}

#[tokio::test]
async fn dropping_the_handle_stops_the_server() {
    let aws = start().await;
    let url = aws.url.clone();
    drop(aws);
    // The abort is asynchronous: poll (bounded) until the port refuses.
    let client = reqwest::Client::new();
    let mut stopped = false;
    for _ in 0..200 {
        if client
            .get(format!("{url}/_local-aws/health"))
            .send()
            .await
            .is_err()
        {
            stopped = true;
            break;
        }
        tokio::task::yield_now().await;
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(stopped, "server still answering 2 s after drop");
}
