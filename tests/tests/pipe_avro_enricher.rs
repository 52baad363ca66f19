//! pipe-avro-enricher end to end: the shipped binary under the local Runtime
//! API, the Confluent registry in local-aws, Glue, SQS, S3 and Secrets
//! Manager in moto.

mod enricher_common;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use e2e_tests::runtime_api::InvocationOutcome;
use e2e_tests::workspace::event;
use enricher_common::*;
use serde_json::{json, Value};

#[tokio::test]
async fn confluent_golden_vectors_from_the_aws_sample() {
    let fx = Fixture::start().await;
    assert_eq!(
        fx.register_confluent("topic_0-value", PRODUCT, Some(100001))
            .await,
        100001
    );
    let f = fx.function(&[]).await;
    let out = success(
        f.invoke(&event("pipe-avro-enricher", "confluent-batch"))
            .await
            .unwrap(),
    );
    assert_eq!(out.len(), 2);
    assert_eq!(
        out[0]["value"],
        json!({"id": 13119, "name": "13119", "description": "13119", "price": 13119.0})
    );
    assert_eq!(out[0]["key"], "13119");
    assert_eq!(out[0]["valueSchemaId"], 100001);
    assert_eq!(out[0]["offset"], 2129);
    assert_eq!(out[0]["eventSourceKey"], "topic_0-5");
    assert_eq!(
        out[0]["headers"],
        json!([{"task.generation": "1"}, {"task.id": "0"}, {"current.iteration": "13119"}])
    );
    assert_eq!(out[1]["value"]["id"], 12435);
    assert_eq!(out[1]["value"]["price"], 12435.0);
    assert!(fx.dead_letters().await.is_empty());
}

#[tokio::test]
async fn glue_golden_vector_from_the_aws_sample() {
    let fx = Fixture::start().await;
    let version = fx.register_glue("CustomerSchema", CUSTOMER).await;
    // moto assigns its own version id: put it in the sample's header; the
    // Avro payload stays the sample's bytes.
    let mut value = BASE64.decode(GLUE_SAMPLE_VALUE).unwrap();
    value[2..18].copy_from_slice(uuid::Uuid::parse_str(&version).unwrap().as_bytes());
    let mut batch = event("pipe-avro-enricher", "msk-glue-batch");
    batch[0]["value"] = json!(BASE64.encode(&value));

    let f = fx.function(&[("WIRE_FORMAT", "glue")]).await;
    let out = success(f.invoke(&batch).await.unwrap());
    assert_eq!(
        out[0]["value"],
        json!({"customer_account_no": 12, "first_name": "lfCmQVBjYN", "middle_name": null,
               "last_name": "blnFLoSDuY", "email_addresses": ["YXeZeVeQcv"],
               "customer_address": "CAHLpeoxwF", "mode_of_payment": "CARD", "customer_rating": null})
    );
    assert_eq!(out[0]["valueSchemaId"], version);
    assert_eq!(out[0]["key"], Value::Null, "the MSK sample has no key");
    assert_eq!(out[0]["offset"], 20192);
}

#[tokio::test]
async fn every_failure_kind_is_dead_lettered_while_good_records_come_out() {
    let fx = Fixture::start().await;
    let id = fx.register_confluent("orders-value", PRODUCT, None).await as i32;
    let good = confluent(id, &product_avro(1, "one", 1.5));
    let mut truncated = confluent(id, &product_avro(2, "two", 2.5));
    truncated.truncate(truncated.len() - 3);
    let mut bad_base64 = record("orders", 2, None, None);
    bad_base64["value"] = json!("!!not base64!!");
    let mut invalid = record("orders", 6, None, Some(&good));
    invalid["partition"] = json!(true);
    // A JSON Schema under a Confluent id: it exists, but it is not Avro.
    let json_schema: Value = reqwest::Client::new()
        .post(format!(
            "{}/subjects/json-value/versions",
            fx.cloud.local_aws.url
        ))
        .json(&json!({"schema": r#"{"type":"object"}"#, "schemaType": "JSON"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let json_id = json_schema["id"].as_i64().unwrap() as i32;
    let batch = json!([
        record("orders", 0, Some(b"k0"), Some(&good)),
        record("orders", 1, Some(b"k1"), None),
        bad_base64,
        record("orders", 3, None, Some(br#"{"json": true}"#)),
        record(
            "orders",
            4,
            None,
            Some(&confluent(9999, &product_avro(1, "x", 1.0)))
        ),
        record("orders", 5, None, Some(&truncated)),
        invalid,
        record("orders", 7, None, Some(&good)),
        record("orders", 8, None, Some(&confluent(json_id, b"{}"))),
    ]);
    let f = fx.function(&[]).await;
    let out = success(f.invoke(&batch).await.unwrap());
    let offsets: Vec<i64> = out.iter().map(|r| r["offset"].as_i64().unwrap()).collect();
    assert_eq!(
        offsets,
        [0, 1, 7],
        "good records and the tombstone, in order"
    );
    assert_eq!(out[0]["value"]["name"], "one");
    assert_eq!(out[0]["key"], "k0");
    assert_eq!(
        out[1]["value"],
        Value::Null,
        "a tombstone is a success with a null value"
    );

    let mut letters = fx.dead_letters().await;
    letters.sort_by_key(|(b, _)| b["record"]["offset"].as_i64());
    let kinds: Vec<&str> = letters.iter().map(|(_, k)| k.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "base64",
            "framing",
            "schema_not_found",
            "decode",
            "invalid_record",
            "schema_invalid"
        ]
    );
    for (body, kind) in &letters {
        assert_eq!(body["error"]["kind"], kind.as_str());
        assert!(!body["error"]["message"].as_str().unwrap().is_empty());
        assert!(body["time"].as_str().is_some());
    }
    let (framing, _) = &letters[1];
    assert_eq!(
        framing["record"]["value"], batch[3]["value"],
        "the original record, unmodified"
    );
    assert_eq!(
        (framing["topic"].clone(), framing["offset"].clone()),
        (json!("orders"), json!(3))
    );
    assert!(
        framing["error"]["message"]
            .as_str()
            .unwrap()
            .contains("0x7b"),
        "{framing}"
    );
    let (missing, _) = &letters[2];
    assert_eq!(missing["schemaId"], 9999);
    assert!(
        missing["error"]["message"]
            .as_str()
            .unwrap()
            .contains("9999"),
        "{missing}"
    );
    let (invalid, _) = &letters[4];
    assert!(
        invalid["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("partition:"),
        "{invalid}"
    );

    let warnings: Vec<_> = f
        .json_logs()
        .into_iter()
        .filter(|l| {
            l["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("record dead-lettered"))
        })
        .collect();
    assert_eq!(warnings.len(), 6);
    assert!(
        warnings
            .iter()
            .all(|w| !w.to_string().contains(batch[0]["value"].as_str().unwrap())),
        "no payloads in logs"
    );
}

#[tokio::test]
async fn a_registry_outage_fails_the_invocation_and_leaves_the_dlq_empty() {
    let fx = Fixture::start().await;
    let id = fx.register_confluent("orders-value", PRODUCT, None).await as i32;
    let batch = json!([record(
        "orders",
        0,
        None,
        Some(&confluent(id, &product_avro(1, "one", 1.0)))
    )]);
    let faults = json!({"service": "confluent-schema-registry", "operation": "GetSchemaById", "count": 3,
                        "error": {"code": "InternalServerError", "status": 500, "message": "down"}});
    let r = reqwest::Client::new()
        .post(format!("{}/_local-aws/faults", fx.cloud.local_aws.url))
        .json(&faults)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{:?}", r.text().await);

    let f = fx.function(&[]).await;
    let outcome = f.invoke(&batch).await.unwrap();
    let (kind, message) = outcome.error().unwrap_or_else(|| panic!("{outcome:?}"));
    assert_eq!(kind, "SchemaRegistryUnavailable");
    assert!(message.contains("500"), "{message}");
    assert!(
        fx.dead_letters().await.is_empty(),
        "an outage is not the records' fault"
    );

    // The failure was not cached: the retried batch succeeds.
    let out = success(f.invoke(&batch).await.unwrap());
    assert_eq!(out[0]["value"]["name"], "one");
}

#[tokio::test]
async fn oversize_dead_letters_are_claim_checked_in_s3() {
    let fx = Fixture::start().await;
    let big = confluent(4242, &vec![7u8; 4096]);
    let f = fx.function(&[("DLQ_MAX_MESSAGE_BYTES", "2048")]).await;
    let out = success(
        f.invoke(&json!([record("big", 9, None, Some(&big))]))
            .await
            .unwrap(),
    );
    assert!(out.is_empty());
    let letters = fx.dead_letters().await;
    assert_eq!(letters.len(), 1);
    let (body, kind) = &letters[0];
    assert_eq!(kind, "schema_not_found");
    assert_eq!(body["record"], Value::Null);
    let key = body["claimCheck"]["key"].as_str().unwrap();
    assert_eq!(key, "dead-letters/schema_not_found/big-0-9.json");
    let object = fx
        .cloud
        .s3()
        .await
        .get_object()
        .bucket(DLQ_BUCKET)
        .key(key)
        .send()
        .await
        .unwrap();
    let full: Value =
        serde_json::from_slice(&object.body.collect().await.unwrap().into_bytes()).unwrap();
    assert_eq!(full["record"]["value"], json!(BASE64.encode(&big)));
    assert_eq!(full["error"]["kind"], "schema_not_found");
}

#[tokio::test]
async fn output_limits_send_the_rest_to_the_dlq_as_overflow() {
    let fx = Fixture::start().await;
    let id = fx.register_confluent("o-value", PRODUCT, None).await as i32;
    let batch: Vec<Value> = (0..3)
        .map(|i| {
            record(
                "o",
                i,
                None,
                Some(&confluent(id, &product_avro(i, "n", 0.5))),
            )
        })
        .collect();
    let f = fx.function(&[("MAX_OUTPUT_RECORDS", "2")]).await;
    let out = success(f.invoke(&Value::Array(batch)).await.unwrap());
    assert_eq!(out.len(), 2);
    let letters = fx.dead_letters().await;
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].1, "overflow");
    assert_eq!(letters[0].0["offset"], 2);
}

#[tokio::test]
async fn registry_credentials_come_from_secrets_manager() {
    let fx = Fixture::start().await;
    let id = fx.register_confluent("s-value", PRODUCT, None).await as i32;
    let http = reqwest::Client::new();
    http.post(format!(
        "{}/_local-aws/confluent-schema-registry/auth",
        fx.cloud.local_aws.url
    ))
    .json(&json!({"username": "KEY", "password": "S3CR3T-PASSWORD"}))
    .send()
    .await
    .unwrap()
    .error_for_status()
    .unwrap();
    let secrets = aws_sdk_secretsmanager::Client::new(&fx.cloud.moto_config().await);
    for (name, info) in [
        ("sr-good", "KEY:S3CR3T-PASSWORD"),
        ("sr-bad", "KEY:WRONG-PASSWORD"),
    ] {
        let secret = json!({"url": fx.cloud.local_aws.url, "basic.auth.user.info": info});
        secrets
            .create_secret()
            .name(name)
            .secret_string(secret.to_string())
            .send()
            .await
            .unwrap();
    }
    let batch = json!([record(
        "s",
        0,
        None,
        Some(&confluent(id, &product_avro(5, "five", 5.0)))
    )]);

    let good = fx
        .function(&[("CONFLUENT_SCHEMA_REGISTRY_SECRET_NAME", "sr-good")])
        .await;
    let out = success(good.invoke(&batch).await.unwrap());
    assert_eq!(out[0]["value"]["id"], 5);
    assert!(
        good.logs().iter().all(|l| !l.contains("S3CR3T-PASSWORD")),
        "secrets never reach the logs"
    );

    let bad = fx
        .function(&[("CONFLUENT_SCHEMA_REGISTRY_SECRET_NAME", "sr-bad")])
        .await;
    let outcome = bad.invoke(&batch).await.unwrap();
    let (kind, message) = outcome.error().unwrap();
    assert_eq!(
        kind, "SchemaRegistryUnavailable",
        "bad credentials fail the invocation: {message}"
    );
    assert!(message.contains("401"), "{message}");
    assert!(!message.contains("WRONG-PASSWORD"));
    assert!(fx.dead_letters().await.is_empty());
}

#[tokio::test]
async fn bad_configuration_fails_init_with_every_problem_named() {
    let fx = Fixture::start().await;
    let mut env = fx.env(&[("WIRE_FORMAT", "protobuf"), ("MASK_FIELDS", "a..b")]);
    env.retain(|(k, _)| k != "DLQ_URL");
    let f = e2e_tests::runtime_api::FunctionProcess::spawn(
        &e2e_tests::workspace::function_binary("pipe-avro-enricher"),
        "pipe-avro-enricher",
        &env,
    )
    .await
    .unwrap();
    match f.wait_ready(std::time::Duration::from_secs(20)).await {
        Err(e2e_tests::runtime_api::HarnessError::InitFailed {
            error_type,
            error_message,
        }) => {
            assert_eq!(error_type, "Runtime.ConfigError");
            for var in ["WIRE_FORMAT", "MASK_FIELDS", "DLQ_URL"] {
                assert!(
                    error_message.contains(var),
                    "{var} missing from: {error_message}"
                );
            }
        }
        other => panic!("expected an init error, got {other:?}"),
    }

    let f = e2e_tests::runtime_api::FunctionProcess::spawn(
        &e2e_tests::workspace::function_binary("pipe-avro-enricher"),
        "pipe-avro-enricher",
        &fx.env(&[("CONFLUENT_SCHEMA_REGISTRY_SECRET_NAME", "no-such-secret")]),
    )
    .await
    .unwrap();
    match f.wait_ready(std::time::Duration::from_secs(20)).await {
        Err(e2e_tests::runtime_api::HarnessError::InitFailed { error_message, .. }) => {
            assert!(error_message.contains("no-such-secret"), "{error_message}");
        }
        other => panic!("expected an init error, got {other:?}"),
    }
}

#[tokio::test]
async fn masked_fields_keep_only_their_last_characters() {
    let fx = Fixture::start().await;
    let id = fx.register_confluent("m-value", PRODUCT, None).await as i32;
    let f = fx.function(&[("MASK_FIELDS", "name:1,description")]).await;
    let batch = json!([record(
        "m",
        0,
        None,
        Some(&confluent(id, &product_avro(1, "secret", 1.0)))
    )]);
    let out = success(f.invoke(&batch).await.unwrap());
    assert_eq!(out[0]["value"]["name"], "*****t");
    assert_eq!(out[0]["value"]["description"], "****et");
    assert_eq!(out[0]["value"]["id"], 1);
}

#[tokio::test]
async fn invocation_outcome_for_a_non_array_event_names_the_problem() {
    let fx = Fixture::start().await;
    let f = fx.function(&[]).await;
    let outcome = f.invoke(&json!({"records": {}})).await.unwrap();
    assert!(
        matches!(&outcome, InvocationOutcome::Error { error_type, .. } if error_type == "InvalidEvent"),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn logs_and_metrics_follow_the_powertools_contract() {
    let fx = Fixture::start().await;
    let id = fx.register_confluent("l-value", PRODUCT, None).await as i32;
    let f = fx.function(&[]).await;
    let batch = json!([
        record(
            "l",
            41,
            None,
            Some(&confluent(id, &product_avro(1, "a", 1.0)))
        ),
        record(
            "l",
            42,
            None,
            Some(&confluent(99, &product_avro(1, "a", 1.0)))
        ),
    ]);
    for _ in 0..2 {
        success(f.invoke(&batch).await.unwrap());
    }
    let logs = f.json_logs();
    let done: Vec<_> = logs
        .iter()
        .filter(|l| l["message"] == "batch enriched")
        .collect();
    assert_eq!(done.len(), 2, "{logs:#?}");
    assert_eq!(
        (done[0]["cold_start"].clone(), done[1]["cold_start"].clone()),
        (json!(true), json!(false))
    );
    assert_eq!(done[0]["correlation_id"], "l-0@41");
    assert_eq!(done[0]["service"], "pipe-avro-enricher");
    assert_eq!(
        (done[0]["decoded"].clone(), done[0]["dead_lettered"].clone()),
        (json!(1), json!(1))
    );
    assert!(done[0]["function_request_id"]
        .as_str()
        .is_some_and(|r| r.len() == 36));
    assert_ne!(
        done[0]["function_request_id"],
        done[1]["function_request_id"]
    );
    assert!(done[0]["xray_trace_id"]
        .as_str()
        .is_some_and(|t| t.starts_with("Root=1-")));

    let emf: Vec<_> = logs.iter().filter(|l| l.get("_aws").is_some()).collect();
    assert_eq!(
        emf.iter().filter(|l| l.get("ColdStart").is_some()).count(),
        1,
        "one cold start"
    );
    let flushes: Vec<_> = emf
        .iter()
        .filter(|l| l.get("RecordsDecoded").is_some())
        .collect();
    assert_eq!(flushes.len(), 2, "one EMF flush per invocation");
    assert_eq!(flushes[0]["RecordsDeadLettered"], 1.0);
    assert_eq!(
        flushes[0]["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
        json!([["service"]])
    );
    assert_eq!(
        flushes[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"],
        "EventAutomations"
    );
}

#[tokio::test]
async fn reader_schemas_give_consumers_one_shape_while_producers_evolve() {
    let fx = Fixture::start().await;
    let v1 = fx.register_confluent("evo-value", PRODUCT, None).await as i32;
    // The consumers' shape: `description` dropped, `currency` added with a default.
    let reader = r#"{"type":"record","name":"Product","fields":[{"name":"id","type":"long"},{"name":"name","type":"string"},{"name":"price","type":"double"},{"name":"currency","type":"string","default":"EUR"}]}"#;
    let reader_id = fx.register_confluent("evo-reader", reader, None).await;
    let spec = format!("evo=confluent:{reader_id}");
    let f = fx.function(&[("READER_SCHEMAS", spec.as_str())]).await;
    let out = success(
        f.invoke(&json!([record(
            "evo",
            0,
            None,
            Some(&confluent(v1, &product_avro(3, "n", 2.5)))
        )]))
        .await
        .unwrap(),
    );
    assert_eq!(
        out[0]["value"],
        json!({"id": 3, "name": "n", "price": 2.5, "currency": "EUR"})
    );
    assert_eq!(
        out[0]["valueSchemaId"], v1,
        "the writer's id is still reported"
    );
}
