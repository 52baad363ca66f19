//! Helpers and sample data shared by the `pure_avro_json*` test binaries.

#![allow(dead_code)]

use apache_avro::types::Value;
use apache_avro::writer::datum::GenericDatumWriter;
use apache_avro::Schema;
use base64::Engine;
use pipe_avro_enricher::avro_json::WriterSchema;

/// The AWS Confluent sample's record (schema id 100001, `PRODUCT`).
pub const CONFLUENT_SAMPLE: &str = "AAABhqH+zAEKMTMxMTkKMTMxMTkAAAAAgJ/JQA==";
pub const PRODUCT: &str = r#"{"type":"record","name":"Product","fields":[{"name":"id","type":"long"},{"name":"name","type":"string"},{"name":"description","type":"string"},{"name":"price","type":"double"}]}"#;

pub fn b64(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

pub fn writer(text: &str) -> WriterSchema {
    WriterSchema::parse(text, &[]).unwrap()
}

/// Avro binary of `value` by apache-avro, the independent encoder.
pub fn encode(schema: &str, value: Value) -> Vec<u8> {
    let schema = Schema::parse_str(schema).unwrap();
    GenericDatumWriter::builder(&schema)
        .build()
        .unwrap()
        .write_value_to_vec(value)
        .unwrap()
}
