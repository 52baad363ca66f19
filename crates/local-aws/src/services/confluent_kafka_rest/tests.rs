use serde_json::{json, Value};

use super::codec::{base64_decode, base64_encode, now_rfc3339};
use super::*;

fn ctx(cluster: &str, topic: Option<&str>) -> RequestContext {
    let mut c = RequestContext::for_region("us-east-1");
    c.path_params.insert("cluster_id".into(), cluster.into());
    if let Some(t) = topic {
        c.path_params.insert("topic_name".into(), t.into());
    }
    c
}

fn with_topic(configs: Value) -> ConfluentKafkaRest {
    let k = ConfluentKafkaRest::new();
    k.handle(
        &ctx("lkc-1", None),
        "CreateTopic",
        json!({"topic_name": "audit", "partitions_count": 3, "configs": configs}),
    )
    .unwrap();
    k
}

fn produce(k: &ConfluentKafkaRest, topic: &str, body: &str) -> Result<Vec<Value>, AwsError> {
    let out = k.handle(
        &ctx("lkc-1", Some(topic)),
        PRODUCE,
        Value::String(body.into()),
    )?;
    Ok(serde_json::Deserializer::from_str(out.as_str().unwrap())
        .into_iter::<Value>()
        .map(Result::unwrap)
        .collect())
}

fn stored(k: &ConfluentKafkaRest) -> Vec<Value> {
    let out = k.control("GET", "records", json!({})).unwrap();
    out["records"].as_array().unwrap().clone()
}

#[test]
fn a_stream_gets_one_report_per_record_in_order() {
    let k = with_topic(json!([]));
    let body = concat!(
        r#"{"key":{"type":"STRING","data":"p1"},"value":{"type":"JSON","data":{"a":1}},"timestamp":"2024-05-01T12:00:00Z"}"#,
        "\n",
        r#"{"value":{"type":"BINARY","data":"AAAAAAcB"}}"#,
        r#"{"value":{"type":"BINARY","data":"not base64!"}}"#,
        r#"{"key":{"type":"STRING","data":"p1"},"value":{"type":"STRING","data":"x"}}"#,
    );
    let reports = produce(&k, "audit", body).unwrap();
    let codes: Vec<i64> = reports
        .iter()
        .map(|r| r["error_code"].as_i64().unwrap())
        .collect();
    assert_eq!(codes, [200, 200, 400, 200]);
    assert_eq!(reports[0]["timestamp"], "2024-05-01T12:00:00Z");
    assert_eq!(reports[0]["value"], json!({"type": "JSON", "size": 7}));
    assert_eq!(
        reports[0]["partition_id"], reports[3]["partition_id"],
        "one key, one partition"
    );
    assert_eq!(
        reports[3]["offset"].as_i64(),
        reports[0]["offset"].as_i64().map(|o| o + 1)
    );
    assert!(reports[2]["message"].as_str().unwrap().contains("base64"));
    let records = stored(&k);
    assert_eq!(records.len(), 3);
    assert_eq!(records[0]["value"], base64_encode(br#"{"a":1}"#));
    assert_eq!(records[1]["schema_id"], 7);
    assert_eq!(records[0]["schema_id"], Value::Null);
}

#[test]
fn request_level_errors() {
    let k = with_topic(json!([]));
    let err = produce(&k, "nope", r#"{"value":null}"#).unwrap_err();
    assert_eq!((err.code.as_str(), err.status), ("40403", 404));
    let err = k
        .handle(
            &ctx("lkc-2", Some("audit")),
            PRODUCE,
            Value::String("{}".into()),
        )
        .unwrap_err();
    assert_eq!((err.code.as_str(), err.status), ("404", 404));
    let err = produce(&k, "audit", "  ").unwrap_err();
    assert_eq!(err.status, 400);
    let err = k
        .handle(
            &ctx("lkc-1", None),
            "CreateTopic",
            json!({"topic_name": "audit"}),
        )
        .unwrap_err();
    assert!(err.message.contains("already exists"), "{err}");
    assert_eq!(
        k.rest_error_body(&err),
        json!({"error_code": 40002, "message": "Topic 'audit' already exists."})
    );
}

#[test]
fn malformed_json_ends_the_stream() {
    let k = with_topic(json!([]));
    let reports = produce(
        &k,
        "audit",
        r#"{"value":{"data":1}} {"value": oops} {"value":{"data":2}}"#,
    )
    .unwrap();
    assert_eq!(reports.len(), 2);
    assert_eq!(reports[1]["error_code"], 400);
    assert_eq!(stored(&k).len(), 1);
}

#[test]
fn size_limit_schema_validation_and_injected_record_errors() {
    let k = with_topic(json!([
        {"name": "max.message.bytes", "value": "20"},
        {"name": "confluent.value.schema.validation", "value": "true"}
    ]));
    let big = base64_encode(&[0u8; 30]);
    let body = format!(
        r#"{{"value":{{"type":"BINARY","data":"{big}"}}}}{{"value":{{"type":"JSON","data":1}}}}{{"value":{{"type":"BINARY","data":"AAAAAAEC"}}}}"#
    );
    let codes: Vec<i64> = produce(&k, "audit", &body)
        .unwrap()
        .iter()
        .map(|r| r["error_code"].as_i64().unwrap())
        .collect();
    assert_eq!(codes, [413, 400, 200]);

    k.control(
        "POST",
        "record-errors",
        json!({"count": 2, "error_code": 429, "message": "slow down"}),
    )
    .unwrap();
    let one = r#"{"value":{"type":"BINARY","data":"AAAAAAEC"}}"#;
    let codes: Vec<i64> = produce(&k, "audit", &one.repeat(3))
        .unwrap()
        .iter()
        .map(|r| r["error_code"].as_i64().unwrap())
        .collect();
    assert_eq!(codes, [429, 429, 200]);
    assert!(k
        .control(
            "POST",
            "record-errors",
            json!({"count": 0, "error_code": 429})
        )
        .is_err());
}

#[test]
fn basic_auth_once_enabled() {
    let k = with_topic(json!([]));
    let mut c = ctx("lkc-1", Some("audit"));
    assert!(k.authorize(&c).is_ok());
    k.control(
        "POST",
        "auth",
        json!({"username": "KEY", "password": "SECRET"}),
    )
    .unwrap();
    let err = k.authorize(&c).unwrap_err();
    assert_eq!(
        k.rest_error_body(&err),
        json!({"error_code": 401, "message": "Unauthorized"})
    );
    c.headers.insert(
        "authorization".into(),
        format!("Basic {}", base64_encode(b"KEY:SECRET")),
    );
    assert!(k.authorize(&c).is_ok());
    k.reset();
    assert!(k.authorize(&ctx("lkc-1", None)).is_ok());
}

#[test]
fn base64_round_trips_and_rejects_malformed_input() {
    for len in 0..40 {
        let data: Vec<u8> = (0..len).map(|i| (i * 37 % 256) as u8).collect();
        assert_eq!(base64_decode(&base64_encode(&data)), Some(data));
    }
    for bad in ["A", "AB=C", "A===", "AA==AAAA", "!!!!"] {
        assert_eq!(base64_decode(bad), None, "{bad}");
    }
    let now = now_rfc3339();
    assert_eq!(now.len(), 24, "{now}");
    assert!(now.starts_with("20") && now.ends_with('Z'), "{now}");
}

#[test]
fn request_size_limit_is_a_request_level_413() {
    let k = with_topic(json!([]));
    k.control("POST", "limits", json!({"max_request_bytes": 40}))
        .unwrap();
    let one = r#"{"value":{"type":"JSON","data":1}}"#;
    assert_eq!(produce(&k, "audit", one).unwrap().len(), 1);
    let err = produce(&k, "audit", &one.repeat(2)).unwrap_err();
    assert_eq!((err.code.as_str(), err.status), ("413", 413));
    k.control("DELETE", "limits", json!({})).unwrap();
    assert_eq!(produce(&k, "audit", &one.repeat(2)).unwrap().len(), 2);
}
