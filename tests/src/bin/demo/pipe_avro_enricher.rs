//! The pipe-avro-enricher act: Kafka records framed by both registries (and
//! one bad record) through the enrichment step; what the pipe target gets,
//! and what the DLQ got and why.

use std::time::Duration;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use e2e_tests::demo::Demo;
use e2e_tests::enricher_fixtures::{CUSTOMER, PRODUCT};
use e2e_tests::local_cloud::LocalCloud;
use e2e_tests::runtime_api::FunctionProcess;
use e2e_tests::workspace::{event, function_binary};
use serde_json::{json, Value};

pub async fn act(demo: &mut Demo, cloud: &LocalCloud) {
    demo.act("pipe-avro-enricher: Avro Kafka records (Confluent + Glue registries) -> JSON for the pipe target");
    let dlq_url = cloud.create_queue("enricher-dlq").await;
    let s3 = cloud.s3().await;
    let _ = s3
        .create_bucket()
        .bucket("enricher-dead-letters")
        .send()
        .await;

    demo.step(
        "register Product as schema id 100001 in the Confluent registry (local-aws)",
        cloud.register_confluent("topic_0-value", PRODUCT, Some(100001)),
        |_| String::new(),
    )
    .await;
    let Some(version) = demo
        .step(
            "register CustomerSchema in the Glue Schema Registry (moto)",
            cloud.register_glue("PipesExample", "CustomerSchema", CUSTOMER),
            |v| format!("version {v}"),
        )
        .await
    else {
        return;
    };

    // The AWS samples' records: two Confluent-framed, one Glue-framed (its
    // header carrying our registry's version id), and one whose schema id
    // no registry knows.
    let mut batch = event("pipe-avro-enricher", "confluent-batch");
    let mut glue_record = event("pipe-avro-enricher", "msk-glue-batch")[0].clone();
    let mut value = BASE64
        .decode(glue_record["value"].as_str().unwrap_or_default())
        .unwrap_or_default();
    if let Ok(id) = uuid::Uuid::parse_str(&version) {
        value[2..18].copy_from_slice(id.as_bytes());
    }
    glue_record["value"] = json!(BASE64.encode(&value));
    let mut unknown = batch[0].clone();
    unknown["offset"] = json!(2130);
    unknown["value"] = json!(BASE64.encode([0, 0, 0, 0x1f, 0x40, 2, 0]));
    let batch = Value::Array(vec![batch[0].take(), batch[1].take(), glue_record, unknown]);

    let mut env = cloud.function_env();
    env.extend([
        ("DLQ_URL".to_string(), dlq_url.clone()),
        (
            "DLQ_BUCKET".to_string(),
            "enricher-dead-letters".to_string(),
        ),
        (
            "CONFLUENT_SCHEMA_REGISTRY_URL".to_string(),
            cloud.local_aws.url.clone(),
        ),
    ]);
    let Some(function) = demo
        .step(
            "start the pipe-avro-enricher binary",
            async {
                let f = FunctionProcess::spawn(
                    &function_binary("pipe-avro-enricher"),
                    "pipe-avro-enricher",
                    &env,
                )
                .await?;
                let init = f.wait_ready(Duration::from_secs(20)).await?;
                Ok::<_, e2e_tests::runtime_api::HarnessError>((f, init))
            },
            |(_, init)| format!("init {} ms", init.as_millis()),
        )
        .await
        .map(|(f, _)| f)
    else {
        return;
    };
    let Some(output) = demo
        .step(
            "enrich a batch of 4 records (2 Confluent, 1 Glue, 1 unknown schema)",
            async {
                let out = function.invoke(&batch).await.map_err(|e| e.to_string())?;
                match out.success() {
                    Some(Value::Array(records)) if records.len() == 3 => Ok(records.clone()),
                    _ => Err(format!("expected 3 decoded records, got {out:?}")),
                }
            },
            |r| format!("{} records for the target", r.len()),
        )
        .await
    else {
        return;
    };
    for r in &output {
        println!(
            "        -> {}@{} key={} value={}",
            r["eventSourceKey"].as_str().unwrap_or_default(),
            r["offset"],
            r["key"],
            r["value"]
        );
    }
    let sqs = aws_sdk_sqs::Client::new(&cloud.moto_config().await);
    demo.step(
        "the unknown-schema record is in the DLQ with its reason",
        async {
            let got = sqs
                .receive_message()
                .queue_url(&dlq_url)
                .max_number_of_messages(10)
                .send()
                .await
                .map_err(|e| e.to_string())?;
            let bodies: Vec<Value> = got
                .messages()
                .iter()
                .filter_map(|m| serde_json::from_str(m.body().unwrap_or_default()).ok())
                .collect();
            match bodies.as_slice() {
                [one] if one["error"]["kind"] == "schema_not_found" => Ok(one.clone()),
                other => Err(format!(
                    "expected one schema_not_found dead letter, got {other:?}"
                )),
            }
        },
        |b| format!("{}: {}", b["error"]["kind"], b["error"]["message"]),
    )
    .await;
}
