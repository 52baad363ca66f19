//! audit-forwarder end to end: the shipped binary under the local Runtime
//! API, Secrets Manager and SQS in moto, the Confluent REST produce API and
//! schema registry in local-aws.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use e2e_tests::local_cloud::{python, LocalCloud};
use e2e_tests::runtime_api::{FunctionProcess, InvocationOutcome};
use e2e_tests::workspace::{event, function_binary, root};
use serde_json::{json, Value};

const CLUSTER: &str = "lkc-audit1";
const TOPIC: &str = "audit_events";

struct Fixture {
    cloud: LocalCloud,
    http: reqwest::Client,
}

impl Fixture {
    /// The local cloud with the cluster's API key in Secrets Manager, basic
    /// auth on, and the topic created with `configs`.
    async fn start(configs: Value) -> Fixture {
        let cloud = LocalCloud::start().await.unwrap();
        let http = reqwest::Client::new();
        let fx = Fixture { cloud, http };
        fx.secret(
            "kafka-api-key",
            json!({"username": "KEY", "password": "SECRET"}),
        )
        .await;
        fx.control(
            "confluent-kafka-rest/auth",
            json!({"username": "KEY", "password": "SECRET"}),
        )
        .await;
        let r = fx
            .http
            .post(format!("{}/kafka/v3/clusters/{CLUSTER}/topics", fx.url()))
            .basic_auth("KEY", Some("SECRET"))
            .json(&json!({"topic_name": TOPIC, "partitions_count": 3, "configs": configs}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        fx
    }

    fn url(&self) -> &str {
        &self.cloud.local_aws.url
    }

    async fn secret(&self, name: &str, value: Value) {
        aws_sdk_secretsmanager::Client::new(&self.cloud.moto_config().await)
            .create_secret()
            .name(name)
            .secret_string(value.to_string())
            .send()
            .await
            .unwrap();
    }

    async fn control(&self, path: &str, body: Value) {
        let r = self
            .http
            .post(format!("{}/_local-aws/{path}", self.url()))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            r.status().is_success(),
            "{path}: {}",
            r.text().await.unwrap()
        );
    }

    async fn function(&self, extra: &[(&str, &str)]) -> FunctionProcess {
        let mut env = self.cloud.function_env();
        for (k, v) in [
            ("KAFKA_REST_ENDPOINT", self.url()),
            ("KAFKA_CLUSTER_ID", CLUSTER),
            ("KAFKA_TOPIC", TOPIC),
            ("KAFKA_API_KEY_SECRET_NAME", "kafka-api-key"),
            ("RETRY_BASE_MS", "10"),
        ] {
            env.push((k.into(), v.into()));
        }
        env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let f =
            FunctionProcess::spawn(&function_binary("audit-forwarder"), "audit-forwarder", &env)
                .await
                .unwrap();
        f.wait_ready(Duration::from_secs(20)).await.unwrap();
        f
    }

    /// Records stored on the topic.
    async fn records(&self) -> Vec<Value> {
        let r: Value = self
            .http
            .get(format!(
                "{}/_local-aws/confluent-kafka-rest/records",
                self.url()
            ))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        r["records"].as_array().unwrap().clone()
    }

    /// How many produce requests reached the endpoint.
    async fn produce_requests(&self) -> usize {
        let log: Value = self
            .http
            .get(format!("{}/_local-aws/requests", self.url()))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        log.as_array()
            .unwrap()
            .iter()
            .filter(|r| r["operation"] == "ProduceRecords")
            .count()
    }
}

/// The CloudTrail events of an SQS event sample, as sent through a real
/// (moto) queue: the batch the event source mapping would deliver.
async fn through_queue(cloud: &LocalCloud, sample: &Value) -> Value {
    let url = cloud.create_queue("audit-forwarder").await;
    let sqs = aws_sdk_sqs::Client::new(&cloud.moto_config().await);
    for r in sample["Records"].as_array().unwrap() {
        sqs.send_message()
            .queue_url(&url)
            .message_body(r["body"].as_str().unwrap())
            .send()
            .await
            .unwrap();
    }
    let messages = cloud.drain_queue(&url).await;
    let records: Vec<Value> = messages
        .iter()
        .map(|m| {
            json!({
                "messageId": m.message_id(),
                "receiptHandle": m.receipt_handle(),
                "body": m.body(),
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": m.md5_of_body(),
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:audit-forwarder",
                "awsRegion": "us-east-1",
            })
        })
        .collect();
    json!({ "Records": records })
}

fn failed_ids(outcome: &InvocationOutcome) -> Vec<String> {
    let response = outcome
        .success()
        .unwrap_or_else(|| panic!("expected a batch response, got {outcome:?}"));
    response["batchItemFailures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["itemIdentifier"].as_str().unwrap().to_string())
        .collect()
}

fn bodies(batch: &Value) -> Vec<Value> {
    batch["Records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| serde_json::from_str(r["body"].as_str().unwrap()).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_json_batch_is_produced_in_one_streamed_request() {
    let fx = Fixture::start(json!([])).await;
    let batch = through_queue(&fx.cloud, &event("audit-forwarder", "cloudtrail-batch")).await;
    let f = fx.function(&[]).await;
    let outcome = f.invoke(&batch).await.unwrap();
    assert!(failed_ids(&outcome).is_empty());
    assert_eq!(
        fx.produce_requests().await,
        1,
        "one request for the whole batch"
    );

    let records = fx.records().await;
    let events = bodies(&batch);
    assert_eq!(records.len(), events.len());
    for (record, event) in records.iter().zip(&events) {
        assert_eq!(record["value_type"], "JSON");
        let value: Value =
            serde_json::from_slice(&BASE64.decode(record["value"].as_str().unwrap()).unwrap())
                .unwrap();
        assert_eq!(
            value, event["detail"],
            "the topic carries the CloudTrail record"
        );
        let key = BASE64.decode(record["key"].as_str().unwrap()).unwrap();
        assert_eq!(key, event["id"].as_str().unwrap().as_bytes());
        assert_eq!(record["timestamp"], event["time"]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn avro_values_decode_with_confluents_own_deserializer() {
    let fx =
        Fixture::start(json!([{"name": "confluent.value.schema.validation", "value": "true"}]))
            .await;
    fx.secret("schema-registry", json!({"url": fx.url()})).await;
    let batch = event("audit-forwarder", "cloudtrail-batch");
    let f = fx
        .function(&[
            ("VALUE_FORMAT", "avro"),
            ("SCHEMA_REGISTRY_SECRET_NAME", "schema-registry"),
            ("RECORD_KEY", "/detail/userIdentity/principalId"),
        ])
        .await;
    assert!(failed_ids(&f.invoke(&batch).await.unwrap()).is_empty());

    let records = fx.records().await;
    assert_eq!(records.len(), 3);
    let values: Vec<&str> = records
        .iter()
        .map(|r| r["value"].as_str().unwrap())
        .collect();
    let mut child = Command::new(python())
        .arg(root().join("tools/xcheck_audit_avro.py"))
        .arg(fx.url())
        .arg(TOPIC)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(json!(values).to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "tools/xcheck_audit_avro.py failed");
    let decoded: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();

    // The id in the framing is the one registered under <topic>-value.
    let latest: Value = fx
        .http
        .get(format!(
            "{}/subjects/{TOPIC}-value/versions/latest",
            fx.url()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for ((d, event), record) in decoded.iter().zip(bodies(&batch)).zip(&records) {
        let detail = &event["detail"];
        assert_eq!(d["_schema_id"], latest["id"]);
        assert_eq!(record["schema_id"], latest["id"]);
        assert_eq!(d["event_id"], event["id"]);
        assert_eq!(d["time"], event["time"]);
        assert_eq!(d["event_source"], detail["eventSource"]);
        assert_eq!(d["event_name"], detail["eventName"]);
        assert_eq!(d["user_identity_type"], detail["userIdentity"]["type"]);
        assert_eq!(d["principal_id"], detail["userIdentity"]["principalId"]);
        assert_eq!(d["user_agent"], detail["userAgent"]);
        assert_eq!(d["read_only"], detail["readOnly"]);
        let text: Value = serde_json::from_str(d["detail"].as_str().unwrap()).unwrap();
        assert_eq!(&text, detail);
        let key = BASE64.decode(record["key"].as_str().unwrap()).unwrap();
        assert_eq!(
            key,
            detail["userIdentity"]["principalId"]
                .as_str()
                .unwrap()
                .as_bytes()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_record_failures_are_reported_as_batch_item_failures() {
    // Room for the sample's records, not for the padded one.
    let fx = Fixture::start(json!([{"name": "max.message.bytes", "value": "4000"}])).await;
    let mut batch = event("audit-forwarder", "mixed-batch");
    let mut big: Value =
        serde_json::from_str(batch["Records"][0]["body"].as_str().unwrap()).unwrap();
    big["id"] = json!("3a8f6e1c-0000-4000-8000-0000000000ff");
    big["detail"]["requestParameters"] = json!({"policy": "x".repeat(5000)});
    let mut big_record = batch["Records"][0].clone();
    big_record["messageId"] = json!("big-one");
    big_record["body"] = json!(big.to_string());
    batch["Records"].as_array_mut().unwrap().push(big_record);

    let f = fx.function(&[]).await;
    let outcome = f.invoke(&batch).await.unwrap();
    let mixed_second = batch["Records"][1]["messageId"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(failed_ids(&outcome), [mixed_second, "big-one".to_string()]);
    assert_eq!(
        fx.records().await.len(),
        1,
        "the good record is on the topic"
    );
    assert_eq!(
        fx.produce_requests().await,
        1,
        "a refused record is not retried in the invocation"
    );
    let logs = f.json_logs();
    assert!(
        logs.iter()
            .any(|l| l.to_string().contains("error_code 413")),
        "the refusal reason is logged"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_is_retried_with_backoff() {
    let fx = Fixture::start(json!([])).await;
    // Two throttled requests, then one record throttled inside the stream.
    fx.control(
        "faults",
        json!({"service": "confluent-kafka-rest", "operation": "ProduceRecords", "count": 2,
               "error": {"code": "429", "status": 429, "message": "Too Many Requests"}}),
    )
    .await;
    fx.control(
        "confluent-kafka-rest/record-errors",
        json!({"count": 1, "error_code": 429, "message": "throttled"}),
    )
    .await;
    let batch = event("audit-forwarder", "cloudtrail-batch");
    let f = fx.function(&[]).await;
    let outcome = f.invoke(&batch).await.unwrap();
    assert!(failed_ids(&outcome).is_empty(), "{outcome:?}");
    assert_eq!(
        fx.produce_requests().await,
        4,
        "2 throttled + 1 partial + 1 retry of the record"
    );
    let records = fx.records().await;
    assert_eq!(records.len(), 3, "every record written exactly once");
    let keys: std::collections::BTreeSet<Vec<u8>> = records
        .iter()
        .map(|r| BASE64.decode(r["key"].as_str().unwrap()).unwrap())
        .collect();
    assert_eq!(keys.len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_credentials_fail_the_invocation() {
    let fx = Fixture::start(json!([])).await;
    fx.secret("wrong-key", json!({"username": "KEY", "password": "WRONG"}))
        .await;
    let f = fx
        .function(&[("KAFKA_API_KEY_SECRET_NAME", "wrong-key")])
        .await;
    let outcome = f
        .invoke(&event("audit-forwarder", "cloudtrail-batch"))
        .await
        .unwrap();
    let (kind, message) = outcome.error().unwrap_or_else(|| panic!("{outcome:?}"));
    assert_eq!(kind, "KafkaAuthenticationFailed");
    assert!(message.contains("HTTP 401"), "{message}");
    assert!(
        !message.contains("WRONG"),
        "the secret never reaches an error"
    );
    assert!(fx.records().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_api_key_is_picked_up_without_a_restart() {
    let fx = Fixture::start(json!([])).await;
    let f = fx.function(&[]).await;
    // Rotation: the cluster accepts only the new key, the secret holds it.
    aws_sdk_secretsmanager::Client::new(&fx.cloud.moto_config().await)
        .put_secret_value()
        .secret_id("kafka-api-key")
        .secret_string(json!({"username": "KEY2", "password": "SECRET2"}).to_string())
        .send()
        .await
        .unwrap();
    fx.control(
        "confluent-kafka-rest/auth",
        json!({"username": "KEY2", "password": "SECRET2"}),
    )
    .await;
    let outcome = f
        .invoke(&event("audit-forwarder", "cloudtrail-batch"))
        .await
        .unwrap();
    assert!(failed_ids(&outcome).is_empty(), "{outcome:?}");
    assert_eq!(fx.records().await.len(), 3);
    assert_eq!(
        fx.produce_requests().await,
        2,
        "refused once, then sent with the new key"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_auto_registration_the_schema_is_looked_up_by_subject() {
    let fx = Fixture::start(json!([])).await;
    fx.secret("schema-registry", json!({"url": fx.url()})).await;
    let f = fx
        .function(&[
            ("VALUE_FORMAT", "avro"),
            ("SCHEMA_REGISTRY_SECRET_NAME", "schema-registry"),
            ("AUTO_REGISTER_SCHEMA", "false"),
        ])
        .await;
    let batch = event("audit-forwarder", "cloudtrail-batch");
    let outcome = f.invoke(&batch).await.unwrap();
    let (kind, message) = outcome.error().unwrap_or_else(|| panic!("{outcome:?}"));
    assert_eq!(kind, "SchemaNotRegistered");
    assert!(message.contains("audit_events-value"), "{message}");
    assert!(fx.records().await.is_empty());

    // A platform team registers it (with other formatting): the next batch
    // finds it; nothing was cached from the failure.
    let schema: Value = serde_json::from_str(audit_forwarder::avro::AUDIT_EVENT_SCHEMA).unwrap();
    let registered: Value = fx
        .http
        .post(format!("{}/subjects/{TOPIC}-value/versions", fx.url()))
        .json(&json!({"schema": schema.to_string()}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(failed_ids(&f.invoke(&batch).await.unwrap()).is_empty());
    let records = fx.records().await;
    assert_eq!(records.len(), 3);
    assert_eq!(records[0]["schema_id"], registered["id"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_over_the_request_size_limit_is_split() {
    let fx = Fixture::start(json!([])).await;
    // Room for one of the sample's records per request, not two.
    fx.control(
        "confluent-kafka-rest/limits",
        json!({"max_request_bytes": 2500}),
    )
    .await;
    let f = fx.function(&[]).await;
    let outcome = f
        .invoke(&event("audit-forwarder", "cloudtrail-batch"))
        .await
        .unwrap();
    assert!(failed_ids(&outcome).is_empty(), "{outcome:?}");
    let records = fx.records().await;
    assert_eq!(records.len(), 3, "every record written once");
    // All 3 in one request: 413; halved to 1 record per request: 3 more.
    assert_eq!(fx.produce_requests().await, 4);
}

/// The template's capture rule pattern, as JSON.
fn capture_pattern() -> Value {
    let text = std::fs::read_to_string(root().join("template.yaml")).unwrap();
    let template: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    let pattern = &template["Resources"]["AuditForwarderCaptureRule"]["Properties"]["EventPattern"];
    serde_json::to_value(pattern).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_templates_capture_rule_feeds_the_queue_and_the_function_forwards_it() {
    let fx = Fixture::start(json!([])).await;
    let queue_url = fx.cloud.create_queue("audit-capture").await;
    let queue_arn = "arn:aws:sqs:us-east-1:123456789012:audit-capture";
    let samples = bodies(&event("audit-forwarder", "cloudtrail-batch"));
    let mut events: Vec<Value> = samples
        .iter()
        .map(|e| json!({"source": e["source"], "detail-type": e["detail-type"], "detail": e["detail"]}))
        .collect();
    // Near misses the seed's pattern must drop: an AWS service acting on its
    // own, an STS call, an SSM call, another detail-type.
    let near = |f: &dyn Fn(&mut Value)| {
        let mut e = events[0].clone();
        f(&mut e);
        e
    };
    let misses = vec![
        near(&|e| {
            e["detail"]["userIdentity"] =
                json!({"type": "AWSService", "invokedBy": "s3.amazonaws.com"})
        }),
        near(&|e| e["detail"]["eventSource"] = json!("sts.amazonaws.com")),
        near(&|e| e["detail"]["eventSource"] = json!("ssm.amazonaws.com")),
        near(&|e| e["detail-type"] = json!("AWS Console Sign In via CloudTrail")),
    ];
    events.extend(misses);
    let spec = json!({"endpoint": fx.cloud.moto.url, "queue_arn": queue_arn,
                      "pattern": capture_pattern(), "events": events});
    let mut child = Command::new(python())
        .arg(root().join("tools/put_audit_events.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(spec.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "tools/put_audit_events.py failed");
    let put: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(put["failed"], 0);

    let messages = fx.cloud.drain_queue(&queue_url).await;
    let mut names: Vec<String> = messages
        .iter()
        .map(|m| {
            let e: Value = serde_json::from_str(m.body().unwrap()).unwrap();
            e["detail"]["eventName"].as_str().unwrap().to_string()
        })
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["GetObject", "GetSecretValue", "ListBuckets"],
        "only the seed's matches"
    );

    // moto's default SQS target body (its DEFAULT_EVENT_INPUT_TEMPLATE)
    // leaves out the event's `account`, which EventBridge always sends; put
    // it back, or the function rightly refuses the body.
    let body = |m: &aws_sdk_sqs::types::Message| {
        let mut e: Value = serde_json::from_str(m.body().unwrap()).unwrap();
        assert!(
            e.get("account").is_none(),
            "moto now sends account: drop this patch"
        );
        e["account"] = json!("123456789012");
        e.to_string()
    };
    let batch = json!({"Records": messages.iter().map(|m| json!({
        "messageId": m.message_id(), "receiptHandle": m.receipt_handle(), "body": body(m),
        "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {},
        "eventSource": "aws:sqs", "eventSourceARN": format!("{queue_arn}"), "awsRegion": "us-east-1",
    })).collect::<Vec<_>>()});
    let f = fx.function(&[]).await;
    assert!(failed_ids(&f.invoke(&batch).await.unwrap()).is_empty());
    assert_eq!(fx.records().await.len(), 3);
    assert_eq!(fx.produce_requests().await, 1);
}
