//! pipe-avro-enricher against independent implementations: records written
//! by Confluent's own Python serializer (confluent-kafka AvroSerializer, both
//! the id-prefix and the GUID-header strategy, Avro keys, schema
//! references), expected JSON computed by fastavro + the contract in Python;
//! and the offline `decode` command.

mod enricher_common;

use std::io::Write;
use std::process::{Command, Stdio};

use e2e_tests::local_cloud::python;
use e2e_tests::workspace::{event, function_binary, root, ScratchDir};
use enricher_common::*;
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_from_confluents_python_serializer_decode_to_the_contract() {
    let fx = Fixture::start().await;
    let scratch = ScratchDir::new("xcheck");
    let out_path = scratch.join("vectors.json");
    let status = Command::new(python())
        .arg(root().join("tools/xcheck_confluent.py"))
        .arg(&fx.cloud.local_aws.url)
        .arg(&out_path)
        .status()
        .unwrap();
    assert!(status.success(), "tools/xcheck_confluent.py failed");
    let vectors: Value =
        serde_json::from_str(&std::fs::read_to_string(&out_path).unwrap()).unwrap();
    let batch = vectors["batch"].clone();
    let expected = vectors["expected"].as_array().unwrap();
    assert!(expected.len() >= 8);

    let f = fx.function(&[("MAX_OUTPUT_RECORDS", "100")]).await;
    let out = success(f.invoke(&batch).await.unwrap());
    assert!(fx.dead_letters().await.is_empty());
    assert_eq!(out.len(), expected.len());
    let mut header_strategy = 0;
    for (i, (got, want)) in out.iter().zip(expected).enumerate() {
        assert_eq!(got["value"], want["value"], "record {i}: value");
        assert_eq!(got["key"], want["key"], "record {i}: key");
        if want["header"] == true {
            header_strategy += 1;
            assert!(
                got["valueSchemaId"].is_string(),
                "record {i}: a GUID from the header"
            );
        } else {
            assert!(
                got["valueSchemaId"].is_i64(),
                "record {i}: an id from the prefix"
            );
        }
    }
    assert!(header_strategy > 0, "the GUID-header strategy is covered");
}

// Multi-threaded: the test blocks on the child process while the in-process
// local-aws must keep answering it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_decode_prints_output_and_failures() {
    let fx = Fixture::start().await;
    fx.register_confluent("topic_0-value", PRODUCT, Some(100001))
        .await;
    let mut batch = event("pipe-avro-enricher", "confluent-batch");
    batch[1]["value"] = Value::from("AAAAAAc=");
    let mut child = Command::new(function_binary("pipe-avro-enricher"))
        .args(["decode", "--max-output-records", "5"])
        .env_clear()
        .envs(fx.env(&[]))
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(batch.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "a failed record makes the exit code 1: {stderr}"
    );
    let decoded: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(decoded[0]["value"]["id"], 13119);
    let failure: Value = serde_json::from_str(stderr.lines().next().unwrap()).unwrap();
    assert_eq!(failure["kind"], "schema_not_found");
    assert_eq!(failure["offset"], 2136);
    assert_eq!(failure["partition"], 3);

    let usage = Command::new(function_binary("pipe-avro-enricher"))
        .arg("bogus")
        .output()
        .unwrap();
    assert_eq!(usage.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&usage.stderr).contains("usage: pipe-avro-enricher decode"));
}
