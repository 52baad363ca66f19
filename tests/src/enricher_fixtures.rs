//! Schemas, records and registry set-up for pipe-avro-enricher, shared by
//! its end-to-end tests, the demo and the benchmark.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use serde_json::{json, Value};

use crate::local_cloud::LocalCloud;

/// The AWS Confluent sample's schema (its records decode with id 100001).
pub const PRODUCT: &str = r#"{"type":"record","name":"Product","fields":[{"name":"id","type":"long"},{"name":"name","type":"string"},{"name":"description","type":"string"},{"name":"price","type":"double"}]}"#;

/// The AWS Glue sample's `shared/customer_schema.avsc`, as its golden record implies.
pub const CUSTOMER: &str = r#"{"type":"record","name":"Customer","namespace":"com.amazonaws.services.schemaregistry.serializers.avro","fields":[
 {"name":"customer_account_no","type":"int"},
 {"name":"first_name","type":"string"},
 {"name":"middle_name","type":["null","string"],"default":null},
 {"name":"last_name","type":"string"},
 {"name":"email_addresses","type":["null",{"type":"array","items":"string"}],"default":null},
 {"name":"customer_address","type":"string"},
 {"name":"mode_of_payment","type":{"type":"enum","name":"ModeOfPayment","symbols":["CARD","CASH"]}},
 {"name":"customer_rating","type":["null","int"],"default":null}]}"#;

/// The Glue sample's record value (schema version 93a5348a-...).
pub const GLUE_SAMPLE_VALUE: &str =
    "AwCTpTSK4StOq6M+06m3n5Q2GBRsZkNtUVZCallOABRibG5GTG9TRHVZAgIUWVhlWmVWZVFjdgAUQ0FITHBlb3h3RgAA";

/// Confluent v0 framing.
pub fn confluent(id: i32, avro: &[u8]) -> Vec<u8> {
    let mut v = vec![0u8];
    v.extend_from_slice(&id.to_be_bytes());
    v.extend_from_slice(avro);
    v
}

/// The Avro body of a `PRODUCT` record (`name` also as the description).
pub fn product_avro(id: i64, name: &str, price: f64) -> Vec<u8> {
    let mut out = zigzag(id);
    for s in [name, name] {
        out.extend(zigzag(s.len() as i64));
        out.extend_from_slice(s.as_bytes());
    }
    out.extend_from_slice(&price.to_le_bytes());
    out
}

/// Avro's zig-zag varint.
pub fn zigzag(v: i64) -> Vec<u8> {
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

/// A self-managed-Kafka Pipes record with base64 key and value.
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

impl LocalCloud {
    /// Registers a schema in the emulated Confluent registry, optionally
    /// under a fixed id (IMPORT mode); returns its id.
    pub async fn register_confluent(
        &self,
        subject: &str,
        schema: &str,
        id: Option<i64>,
    ) -> Result<i64, String> {
        let mut body = json!({"schema": schema});
        if let Some(id) = id {
            body["id"] = json!(id);
        }
        let r: Value = reqwest::Client::new()
            .post(format!(
                "{}/subjects/{subject}/versions",
                self.local_aws.url
            ))
            .json(&body)
            .send()
            .await
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        r["id"]
            .as_i64()
            .ok_or_else(|| format!("register failed: {r}"))
    }

    /// Creates an Avro schema in a Glue registry on moto (the registry too,
    /// if needed); returns its first version id.
    pub async fn register_glue(
        &self,
        registry: &str,
        name: &str,
        definition: &str,
    ) -> Result<String, String> {
        use aws_sdk_glue::types::{Compatibility, DataFormat, RegistryId};
        let glue = aws_sdk_glue::Client::new(&self.moto_config().await);
        let _ = glue.create_registry().registry_name(registry).send().await;
        let out = glue
            .create_schema()
            .registry_id(RegistryId::builder().registry_name(registry).build())
            .schema_name(name)
            .data_format(DataFormat::Avro)
            .compatibility(Compatibility::Full)
            .schema_definition(definition)
            .send()
            .await
            .map_err(|e| aws_sdk_glue::error::DisplayErrorContext(e).to_string())?;
        out.schema_version_id()
            .map(str::to_string)
            .ok_or_else(|| "CreateSchema returned no version id".to_string())
    }
}
