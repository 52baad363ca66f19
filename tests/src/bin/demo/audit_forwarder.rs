//! The audit-forwarder act: the seed's CloudTrail events through an SQS
//! queue (moto) to a Confluent topic (the local REST produce API): one
//! streamed request per batch, and a record the cluster refuses reported
//! back to SQS alone.

use std::time::Duration;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use e2e_tests::audit_forwarder_fixtures::{prepare, produce_requests, stored_records};
use e2e_tests::demo::Demo;
use e2e_tests::local_cloud::LocalCloud;
use e2e_tests::runtime_api::FunctionProcess;
use e2e_tests::workspace::{event, function_binary};
use serde_json::{json, Value};

pub async fn act(demo: &mut Demo, cloud: &LocalCloud) {
    demo.act("audit-forwarder: CloudTrail events -> SQS -> one streamed Confluent REST produce request per batch");
    let Some(extra) = demo
        .step(
            "API key in Secrets Manager, basic auth and topic audit_events on the cluster",
            prepare(cloud, "audit_events"),
            |_| "cluster lkc-audit1, 6 partitions".into(),
        )
        .await
    else {
        return;
    };
    let sample = event("audit-forwarder", "cloudtrail-batch");
    let queue = cloud.create_queue("audit-forwarder").await;
    let sqs = aws_sdk_sqs::Client::new(&cloud.moto_config().await);
    let sent = async {
        for r in sample["Records"].as_array().into_iter().flatten() {
            sqs.send_message()
                .queue_url(&queue)
                .message_body(r["body"].as_str().unwrap_or_default())
                .send()
                .await
                .map_err(|e| e.to_string())?;
        }
        Ok::<_, String>(cloud.drain_queue(&queue).await)
    };
    let Some(messages) = demo
        .step(
            "the seed's events (aws s3 ls, GetSecretValue from aws-cli, GetObject) through an SQS queue",
            sent,
            |m| format!("{} messages received as one batch", m.len()),
        )
        .await
    else {
        return;
    };
    let batch = json!({"Records": messages.iter().map(|m| json!({
        "messageId": m.message_id(), "receiptHandle": m.receipt_handle(), "body": m.body(),
        "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {},
        "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:audit-forwarder",
        "awsRegion": "us-east-1"})).collect::<Vec<_>>()});

    let mut env = cloud.function_env();
    env.extend(extra);
    let Some(function) = demo
        .step(
            "start the audit-forwarder binary",
            async {
                let f = FunctionProcess::spawn(
                    &function_binary("audit-forwarder"),
                    "audit-forwarder",
                    &env,
                )
                .await
                .map_err(|e| e.to_string())?;
                f.wait_ready(Duration::from_secs(20))
                    .await
                    .map_err(|e| e.to_string())?;
                Ok::<_, String>(f)
            },
            |_| String::new(),
        )
        .await
    else {
        return;
    };

    let before = produce_requests(cloud).await;
    demo.step(
        "invoke with the batch",
        async { function.invoke(&batch).await.map_err(|e| e.to_string()) },
        |o| format!("response {}", o.success().cloned().unwrap_or(Value::Null)),
    )
    .await;
    let requests = produce_requests(cloud).await - before;
    let records = stored_records(cloud).await;
    demo.step(
        "what the topic holds",
        async { Ok::<_, String>(()) },
        |_| {
            format!(
                "{} records from {requests} produce request(s)",
                records.len()
            )
        },
    )
    .await;
    for r in &records {
        let value: Value = r["value"]
            .as_str()
            .and_then(|v| BASE64.decode(v).ok())
            .and_then(|v| serde_json::from_slice(&v).ok())
            .unwrap_or_default();
        println!(
            "        partition {} offset {}  {} {} by {}",
            r["partition_id"],
            r["offset"],
            value["eventSource"].as_str().unwrap_or_default(),
            value["eventName"].as_str().unwrap_or_default(),
            value["userIdentity"]["arn"].as_str().unwrap_or_default()
        );
    }

    // The cluster refuses one record (as it does one over max.message.bytes).
    let _ = reqwest::Client::new()
        .post(format!(
            "{}/_local-aws/confluent-kafka-rest/record-errors",
            cloud.local_aws.url
        ))
        .json(&json!({"count": 1, "error_code": 413, "message": "record too large"}))
        .send()
        .await;
    demo.step(
        "same batch, the cluster refusing its first record",
        async { function.invoke(&batch).await.map_err(|e| e.to_string()) },
        |o| {
            format!(
                "batchItemFailures {} (SQS redelivers it; after maxReceiveCount, the DLQ)",
                o.success()
                    .map(|s| s["batchItemFailures"].clone())
                    .unwrap_or_default()
            )
        },
    )
    .await;
    let _ = function.shutdown().await;
}
