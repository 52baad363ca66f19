//! The Kafka REST produce emulator over HTTP: a chunked (streaming) request,
//! concatenated delivery reports, injected throttling, basic auth.

mod common;

use common::{control_post, request_log};
use serde_json::{json, Value};

const RECORDS: &str = "/kafka/v3/clusters/lkc-1/topics/audit/records";

async fn start() -> local_aws::RunningLocalAws {
    let aws = local_aws::spawn("127.0.0.1:0").await.unwrap();
    let r = reqwest::Client::new()
        .post(format!("{}/kafka/v3/clusters/lkc-1/topics", aws.url))
        .json(&json!({"topic_name": "audit", "partitions_count": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    aws
}

/// Sends `documents` as separate chunks of a body of unknown length.
async fn produce_chunked(url: &str, documents: &[&str]) -> (u16, String) {
    // A raw HTTP/1.1 request over TCP, so the test controls the chunking.
    let addr = url.trim_start_matches("http://").to_owned();
    let mut body = String::new();
    for d in documents {
        body.push_str(&format!("{:x}\r\n{d}\r\n", d.len()));
    }
    body.push_str("0\r\n\r\n");
    let request = format!(
        "POST {RECORDS} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n{body}"
    );
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let text = String::from_utf8(response).unwrap();
    let status = text[9..12].parse().unwrap();
    let (head, raw_body) = text.split_once("\r\n\r\n").unwrap();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        (status, dechunk(raw_body))
    } else {
        (status, raw_body.to_owned())
    }
}

fn dechunk(raw: &str) -> String {
    let mut out = String::new();
    let mut rest = raw;
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).expect("a chunk size");
        if n == 0 {
            break;
        }
        out.push_str(&tail[..n]);
        rest = &tail[n + 2..];
    }
    out
}

fn reports(body: &str) -> Vec<Value> {
    serde_json::Deserializer::from_str(body)
        .into_iter::<Value>()
        .map(Result::unwrap)
        .collect()
}

#[tokio::test]
async fn a_chunked_stream_gets_concatenated_reports() {
    let aws = start().await;
    let (status, body) = produce_chunked(
        &aws.url,
        &[
            r#"{"value":{"type":"JSON","data":{"n":1}}}"#,
            r#"{"value":{"type":"JSON","data":{"n":2}}}"#,
            r#"{"value":{"type":"TEXT","data":"x"}}"#,
        ],
    )
    .await;
    assert_eq!(status, 200);
    let codes: Vec<_> = reports(&body)
        .iter()
        .map(|r| r["error_code"].clone())
        .collect();
    assert_eq!(codes, [json!(200), json!(200), json!(400)]);
    let log = request_log(&aws.url).await;
    assert_eq!(log.len(), 2, "one CreateTopic and one ProduceRecords call");
    assert_eq!(log[1]["operation"], "ProduceRecords");
}

#[tokio::test]
async fn throttling_faults_and_auth_are_request_level_errors() {
    let aws = start().await;
    let (status, _) = control_post(
        &aws.url,
        "faults",
        &json!({"service": "confluent-kafka-rest", "operation": "ProduceRecords", "count": 1,
                "error": {"code": "429", "status": 429, "message": "Too Many Requests"}}),
    )
    .await;
    assert_eq!(status, 200);
    let url = format!("{}{RECORDS}", aws.url);
    let http = reqwest::Client::new();
    let r = http
        .post(&url)
        .body(r#"{"value":null}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"error_code": 429, "message": "Too Many Requests"})
    );
    let r = http
        .post(&url)
        .body(r#"{"value":null}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    control_post(
        &aws.url,
        "confluent-kafka-rest/auth",
        &json!({"username": "KEY", "password": "SECRET"}),
    )
    .await;
    let r = http.post(&url).body("{}").send().await.unwrap();
    assert_eq!(r.status(), 401);
    let r = http
        .post(&url)
        .basic_auth("KEY", Some("SECRET"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}
