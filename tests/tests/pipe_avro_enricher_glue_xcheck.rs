//! pipe-avro-enricher against an independent Glue producer: records framed by
//! the AWS Glue Schema Registry Python library (PyPI aws-glue-schema-registry,
//! its schemas registered through Glue on moto), uncompressed and zlib, in
//! Pipes' MSK shape; expected JSON computed by fastavro + the contract in
//! Python (`tools/xcheck_glue.py`).

mod enricher_common;

use std::process::Command;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use e2e_tests::local_cloud::python;
use e2e_tests::workspace::{root, ScratchDir};
use enricher_common::*;
use serde_json::{json, Value};

/// Runs `tools/xcheck_glue.py` against the fixture's moto.
fn glue_vectors(fx: &Fixture) -> Value {
    let scratch = ScratchDir::new("xcheck-glue");
    let out_path = scratch.join("vectors.json");
    let status = Command::new(python())
        .arg(root().join("tools/xcheck_glue.py"))
        .arg(&fx.cloud.moto.url)
        .arg(&out_path)
        .status()
        .unwrap();
    assert!(status.success(), "tools/xcheck_glue.py failed");
    let vectors: Value =
        serde_json::from_str(&std::fs::read_to_string(&out_path).unwrap()).unwrap();
    vectors
}

fn assert_decoded(i: usize, got: &Value, want: &Value) {
    assert_eq!(got["value"], want["value"], "record {i}: value");
    assert_eq!(got["key"], want["key"], "record {i}: key");
    let id = got["valueSchemaId"]
        .as_str()
        .unwrap_or_else(|| panic!("record {i}: valueSchemaId is a string: {got}"));
    assert!(
        uuid::Uuid::parse_str(id).is_ok(),
        "record {i}: a Glue schema version UUID: {id}"
    );
    assert_eq!(
        got["valueSchemaId"], want["valueSchemaId"],
        "record {i}: valueSchemaId"
    );
    assert_eq!(
        got.get("keySchemaId"),
        want.get("keySchemaId"),
        "record {i}: keySchemaId"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_from_the_glue_python_serializer_decode_to_the_contract() {
    let fx = Fixture::start().await;
    let vectors = glue_vectors(&fx);
    let batch = vectors["batch"].clone();
    let expected = vectors["expected"].as_array().unwrap();
    assert!(expected.len() >= 8);
    let zlib = vectors["zlib"].as_u64().unwrap() as usize;
    assert!(
        zlib > 0 && zlib < expected.len(),
        "both zlib and uncompressed records are covered: {zlib} of {}",
        expected.len()
    );
    assert!(
        batch
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r.get("topic").is_none()),
        "MSK records carry no topic"
    );
    assert!(
        batch
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["partition"].is_string()),
        "some partitions are strings"
    );

    let f = fx
        .function(&[("WIRE_FORMAT", "glue"), ("MAX_OUTPUT_RECORDS", "100")])
        .await;
    let out = success(f.invoke(&batch).await.unwrap());
    assert!(fx.dead_letters().await.is_empty());
    assert_eq!(out.len(), expected.len());
    for (i, (got, want)) in out.iter().zip(expected).enumerate() {
        assert_decoded(i, got, want);
        assert_eq!(got["offset"], batch[i]["offset"], "record {i}: in order");
    }
    let versions: Vec<&Value> = out.iter().map(|r| &r["valueSchemaId"]).collect();
    for v in vectors["versions"].as_array().unwrap() {
        assert!(versions.contains(&v), "schema version {v} is covered");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_glue_version_unknown_to_the_registry_is_dead_lettered() {
    let fx = Fixture::start().await;
    let vectors = glue_vectors(&fx);
    let mut batch = vectors["batch"].clone();
    let expected = vectors["expected"].as_array().unwrap();
    // A record with a string partition; its header names a version moto never issued.
    let bad = 2;
    assert!(batch[bad]["partition"].is_string());
    let unknown = uuid::Uuid::new_v4();
    let mut value = BASE64
        .decode(batch[bad]["value"].as_str().unwrap())
        .unwrap();
    assert_eq!(value[0], 0x03, "Glue framing");
    value[2..18].copy_from_slice(unknown.as_bytes());
    batch[bad]["value"] = json!(BASE64.encode(&value));

    let f = fx
        .function(&[("WIRE_FORMAT", "glue"), ("MAX_OUTPUT_RECORDS", "100")])
        .await;
    let out = success(f.invoke(&batch).await.unwrap());
    assert_eq!(out.len(), expected.len() - 1);
    let others = expected.iter().enumerate().filter(|(i, _)| *i != bad);
    for ((i, want), got) in others.zip(&out) {
        assert_eq!(got["offset"], batch[i]["offset"], "record {i}: in order");
        assert_decoded(i, got, want);
    }

    let letters = fx.dead_letters().await;
    assert_eq!(letters.len(), 1, "{letters:?}");
    let (body, kind) = &letters[0];
    assert_eq!(kind, "schema_not_found");
    assert_eq!(body["error"]["kind"], "schema_not_found");
    assert_eq!(body["schemaId"], unknown.to_string());
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&unknown.to_string()),
        "{body}"
    );
    assert_eq!(
        body["record"], batch[bad],
        "the original record, unmodified"
    );
    assert_eq!(body["topic"], vectors["topic"], "topic from eventSourceKey");
    let partition: i64 = batch[bad]["partition"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        body["partition"],
        json!(partition),
        "the string partition, read as a number"
    );
    assert_eq!(body["offset"], batch[bad]["offset"]);
}
