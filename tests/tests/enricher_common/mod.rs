//! Shared set-up for the pipe-avro-enricher end-to-end tests: the local cloud
//! with a DLQ queue and bucket, schemas in both registries, and the function.

#![allow(dead_code)]

use std::time::Duration;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use e2e_tests::local_cloud::LocalCloud;
use e2e_tests::runtime_api::{FunctionProcess, InvocationOutcome};
use e2e_tests::workspace::function_binary;
use serde_json::{json, Value};

pub const PRODUCT: &str = r#"{"type":"record","name":"Product","fields":[{"name":"id","type":"long"},{"name":"name","type":"string"},{"name":"description","type":"string"},{"name":"price","type":"double"}]}"#;

/// The Glue sample's `shared/customer_schema.avsc`, as its golden record implies.
pub const CUSTOMER: &str = r#"{"type":"record","name":"Customer","namespace":"com.amazonaws.services.schemaregistry.serializers.avro","fields":[
 {"name":"customer_account_no","type":"int"},
 {"name":"first_name","type":"string"},
 {"name":"middle_name","type":["null","string"],"default":null},
 {"name":"last_name","type":"string"},
 {"name":"email_addresses","type":["null",{"type":"array","items":"string"}],"default":null},
 {"name":"customer_address","type":"string"},
 {"name":"mode_of_payment","type":{"type":"enum","name":"ModeOfPayment","symbols":["CARD","CASH"]}},
 {"name":"customer_rating","type":["null","int"],"default":null}]}"#;

pub const GLUE_SAMPLE_VALUE: &str =
    "AwCTpTSK4StOq6M+06m3n5Q2GBRsZkNtUVZCallOABRibG5GTG9TRHVZAgIUWVhlWmVWZVFjdgAUQ0FITHBlb3h3RgAA";

pub struct Fixture {
    pub cloud: LocalCloud,
    pub dlq_url: String,
}

pub const DLQ_BUCKET: &str = "enricher-dead-letters";

impl Fixture {
    pub async fn start() -> Fixture {
        let cloud = LocalCloud::start().await.unwrap();
        let dlq_url = cloud.create_queue("enricher-dlq").await;
        cloud
            .s3()
            .await
            .create_bucket()
            .bucket(DLQ_BUCKET)
            .send()
            .await
            .unwrap();
        Fixture { cloud, dlq_url }
    }

    /// The function's environment: DLQ, the emulated Confluent registry
    /// without auth, plus `extra`.
    pub fn env(&self, extra: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut env = self.cloud.function_env();
        env.push(("DLQ_URL".into(), self.dlq_url.clone()));
        env.push(("DLQ_BUCKET".into(), DLQ_BUCKET.into()));
        if !extra
            .iter()
            .any(|(k, _)| k.starts_with("CONFLUENT_SCHEMA_REGISTRY"))
        {
            env.push((
                "CONFLUENT_SCHEMA_REGISTRY_URL".into(),
                self.cloud.local_aws.url.clone(),
            ));
        }
        env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        env
    }

    pub async fn function(&self, extra: &[(&str, &str)]) -> FunctionProcess {
        let f = FunctionProcess::spawn(
            &function_binary("pipe-avro-enricher"),
            "pipe-avro-enricher",
            &self.env(extra),
        )
        .await
        .unwrap();
        f.wait_ready(Duration::from_secs(20)).await.unwrap();
        f
    }

    /// Registers a schema in the emulated Confluent registry, optionally
    /// under a fixed id (IMPORT mode), and returns its id.
    pub async fn register_confluent(&self, subject: &str, schema: &str, id: Option<i64>) -> i64 {
        let mut body = json!({"schema": schema});
        if let Some(id) = id {
            body["id"] = json!(id);
        }
        let r: Value = reqwest::Client::new()
            .post(format!(
                "{}/subjects/{subject}/versions",
                self.cloud.local_aws.url
            ))
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        r["id"]
            .as_i64()
            .unwrap_or_else(|| panic!("register failed: {r}"))
    }

    /// Creates a Glue registry schema on moto; returns its first version id.
    pub async fn register_glue(&self, name: &str, definition: &str) -> String {
        let glue = aws_sdk_glue::Client::new(&self.cloud.moto_config().await);
        let _ = glue
            .create_registry()
            .registry_name("PipesExample")
            .send()
            .await;
        let out = glue
            .create_schema()
            .registry_id(
                aws_sdk_glue::types::RegistryId::builder()
                    .registry_name("PipesExample")
                    .build(),
            )
            .schema_name(name)
            .data_format(aws_sdk_glue::types::DataFormat::Avro)
            .compatibility(aws_sdk_glue::types::Compatibility::Full)
            .schema_definition(definition)
            .send()
            .await
            .unwrap();
        out.schema_version_id().unwrap().to_string()
    }

    /// Dead letters waiting in the DLQ, as (body, errorKind attribute).
    pub async fn dead_letters(&self) -> Vec<(Value, String)> {
        self.cloud
            .drain_queue(&self.dlq_url)
            .await
            .into_iter()
            .map(|m| {
                let body: Value = serde_json::from_str(m.body().unwrap()).unwrap();
                let kind = m
                    .message_attributes()
                    .and_then(|a| a.get("errorKind"))
                    .and_then(|v| v.string_value())
                    .unwrap_or_default()
                    .to_string();
                (body, kind)
            })
            .collect()
    }
}

/// A Pipes record for `value` bytes.
pub fn record(topic: &str, offset: i64, key: Option<&[u8]>, value: Option<&[u8]>) -> Value {
    json!({
        "topic": topic, "partition": 0, "offset": offset, "timestamp": 1763773323000i64,
        "timestampType": "CREATE_TIME",
        "key": key.map(|k| BASE64.encode(k)),
        "value": value.map(|v| BASE64.encode(v)),
        "headers": [],
        "bootstrapServers": "smk://broker:9092", "eventSource": "SelfManagedKafka",
        "eventSourceKey": format!("{topic}-0"),
    })
}

/// Confluent v0 framing.
pub fn confluent(id: i32, avro: &[u8]) -> Vec<u8> {
    let mut v = vec![0u8];
    v.extend_from_slice(&id.to_be_bytes());
    v.extend_from_slice(avro);
    v
}

/// The Avro body of a `PRODUCT` record.
pub fn product_avro(id: i64, name: &str, price: f64) -> Vec<u8> {
    let mut out = zigzag(id);
    for s in [name, name] {
        out.extend(zigzag(s.len() as i64));
        out.extend_from_slice(s.as_bytes());
    }
    out.extend_from_slice(&price.to_le_bytes());
    out
}

fn zigzag(v: i64) -> Vec<u8> {
    let mut n = ((v << 1) ^ (v >> 63)) as u64;
    let mut out = Vec::new();
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(b);
            return out;
        }
        out.push(b | 0x80);
    }
}

pub fn success(outcome: InvocationOutcome) -> Vec<Value> {
    match outcome {
        InvocationOutcome::Success(Value::Array(a)) => a,
        other => panic!("expected an array response, got {other:?}"),
    }
}
