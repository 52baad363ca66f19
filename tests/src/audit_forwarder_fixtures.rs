//! audit-forwarder set-up shared by the demo and the benchmark: the cluster's
//! API key in Secrets Manager (moto), basic auth and a topic on the Kafka
//! REST emulator (local-aws), and SQS batches of CloudTrail events.

use serde_json::{json, Value};

use crate::local_cloud::LocalCloud;

pub const CLUSTER: &str = "lkc-audit1";
pub const API_KEY: &str = "AUDITKEY";
pub const API_SECRET: &str = "audit-secret-value";

/// Creates the secret (once per cloud), turns basic auth on and creates
/// `topic`; returns the function's environment beyond the cloud's.
pub async fn prepare(cloud: &LocalCloud, topic: &str) -> Result<Vec<(String, String)>, String> {
    let http = reqwest::Client::new();
    let secrets = aws_sdk_secretsmanager::Client::new(&cloud.moto_config().await);
    let secret = json!({"username": API_KEY, "password": API_SECRET}).to_string();
    if secrets
        .describe_secret()
        .secret_id("audit-forwarder-api-key")
        .send()
        .await
        .is_err()
    {
        secrets
            .create_secret()
            .name("audit-forwarder-api-key")
            .secret_string(secret)
            .send()
            .await
            .map_err(|e| format!("create secret: {e}"))?;
    }
    let url = &cloud.local_aws.url;
    http.post(format!("{url}/_local-aws/confluent-kafka-rest/auth"))
        .json(&json!({"username": API_KEY, "password": API_SECRET}))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let r = http
        .post(format!("{url}/kafka/v3/clusters/{CLUSTER}/topics"))
        .basic_auth(API_KEY, Some(API_SECRET))
        .json(&json!({"topic_name": topic, "partitions_count": 6}))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = r.status();
    if status != 201 {
        let body = r.text().await.unwrap_or_default();
        return Err(format!("create topic {topic}: HTTP {status} {body}"));
    }
    Ok(vec![
        ("KAFKA_REST_ENDPOINT".into(), url.clone()),
        ("KAFKA_CLUSTER_ID".into(), CLUSTER.into()),
        ("KAFKA_TOPIC".into(), topic.into()),
        (
            "KAFKA_API_KEY_SECRET_NAME".into(),
            "audit-forwarder-api-key".into(),
        ),
    ])
}

/// A CloudTrail management event as EventBridge delivers it; `n` varies
/// the id, principal and API.
pub fn cloudtrail_event(n: usize) -> Value {
    let (source, name) = [
        ("s3.amazonaws.com", "ListBuckets"),
        ("s3.amazonaws.com", "GetObject"),
        ("secretsmanager.amazonaws.com", "GetSecretValue"),
        ("ec2.amazonaws.com", "DescribeInstances"),
    ][n % 4];
    json!({
        "version": "0", "id": format!("00000000-0000-4000-8000-{n:012}"),
        "detail-type": "AWS API Call via CloudTrail", "source": format!("aws.{}", source.split('.').next().unwrap_or("s3")),
        "account": "123456789012", "time": "2024-05-01T12:00:00Z", "region": "us-east-1", "resources": [],
        "detail": {
            "eventVersion": "1.09", "eventTime": "2024-05-01T12:00:00Z",
            "userIdentity": {"type": "AssumedRole", "principalId": format!("AROAEXAMPLE:user{}", n % 17),
                             "arn": format!("arn:aws:sts::123456789012:assumed-role/Analyst/user{}", n % 17)},
            "eventSource": source, "eventName": name, "awsRegion": "us-east-1",
            "sourceIPAddress": "198.51.100.7", "userAgent": "aws-cli/2.15.30 Python/3.11.8",
            "requestParameters": null, "responseElements": null, "readOnly": true,
            "eventType": "AwsApiCall", "managementEvent": true, "recipientAccountId": "123456789012",
            "eventID": format!("e0000000-0000-4000-8000-{n:012}"), "eventCategory": "Management"
        }
    })
}

/// An SQS event (what the event source mapping delivers) carrying `events`.
pub fn sqs_batch(events: &[Value]) -> Value {
    let records: Vec<Value> = events
        .iter()
        .enumerate()
        .map(|(i, e)| {
            json!({
                "messageId": format!("msg-{i}-{}", e["id"].as_str().unwrap_or_default()),
                "receiptHandle": format!("rh-{i}"),
                "body": e.to_string(),
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:audit-forwarder",
                "awsRegion": "us-east-1",
            })
        })
        .collect();
    json!({ "Records": records })
}

/// Records stored on the emulated cluster.
pub async fn stored_records(cloud: &LocalCloud) -> Vec<Value> {
    let r: Value = match reqwest::get(format!(
        "{}/_local-aws/confluent-kafka-rest/records",
        cloud.local_aws.url
    ))
    .await
    {
        Ok(r) => r.json().await.unwrap_or_default(),
        Err(_) => Value::Null,
    };
    r["records"].as_array().cloned().unwrap_or_default()
}

/// Produce requests the emulator has seen (from the request log).
pub async fn produce_requests(cloud: &LocalCloud) -> usize {
    let log: Value =
        match reqwest::get(format!("{}/_local-aws/requests", cloud.local_aws.url)).await {
            Ok(r) => r.json().await.unwrap_or_default(),
            Err(_) => Value::Null,
        };
    log.as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["operation"] == "ProduceRecords")
        .count()
}
