//! The audit path's way back: a record of `flagged_topic` as the Flink
//! statement of `examples/confluent-flink/anomaly.sql` writes it (Avro,
//! Confluent-framed, schema in the registry) through the shipped
//! pipe-avro-enricher with the `MASK_FIELDS` the template gives it when the
//! audit pipe is on. A statement that forgot to mask still gets
//! `userIdentity` masked but its last two characters.

mod enricher_common;

use e2e_tests::workspace::root;
use enricher_common::*;
use serde_json::json;

/// The value schema Confluent Cloud Flink registers for the DDL of
/// `flagged_topic` in anomaly.sql.
const FLAGGED: &str = r#"{"type":"record","name":"flagged_topic_value","namespace":"org.apache.flink.avro.generated.record","fields":[
 {"name":"window_start","type":{"type":"long","logicalType":"timestamp-millis"}},
 {"name":"window_end","type":{"type":"long","logicalType":"timestamp-millis"}},
 {"name":"userIdentity","type":"string"},
 {"name":"eventSource","type":"string"},
 {"name":"apiCalls","type":"long"},
 {"name":"eventNames","type":"string"},
 {"name":"sourceIps","type":"string"}]}"#;

fn avro_string(out: &mut Vec<u8>, s: &str) {
    out.extend(zigzag(s.len() as i64));
    out.extend_from_slice(s.as_bytes());
}

fn flagged_avro(user_identity: &str, calls: i64) -> Vec<u8> {
    let mut out = zigzag(1_763_784_060_000);
    out.extend(zigzag(1_763_784_120_000));
    avro_string(&mut out, user_identity);
    avro_string(&mut out, "s3.amazonaws.com");
    out.extend(zigzag(calls));
    avro_string(&mut out, "GetObject,ListBuckets,ListObjectsV2");
    avro_string(&mut out, "203.0.113.24");
    out
}

/// `MASK_FIELDS` of the enricher when the template creates the audit pipe.
fn template_mask_fields() -> String {
    let text = std::fs::read_to_string(root().join("template.yaml")).unwrap();
    let t: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    let mask = &t["Resources"]["PipeAvroEnricherFunction"]["Properties"]["Environment"]
        ["Variables"]["MASK_FIELDS"];
    let serde_yaml::Value::Tagged(tagged) = mask else {
        panic!("MASK_FIELDS is not an !If on the audit pipe: {mask:?}");
    };
    assert_eq!(tagged.tag.to_string(), "!If");
    assert_eq!(tagged.value[0], "AuditPipeMasksUserIdentity");
    tagged.value[1].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn flagged_records_come_back_as_json_with_user_identity_masked() {
    let mask = template_mask_fields();
    assert_eq!(mask, "userIdentity");
    let fx = Fixture::start().await;
    let id = fx
        .register_confluent("flagged_topic-value", FLAGGED, None)
        .await as i32;
    let principal = "arn:aws:sts::123456789012:assumed-role/Admin/bob";
    let already_masked = format!("{}ob", "*".repeat(principal.len() - 2));
    let batch = json!([
        record(
            "flagged_topic",
            7,
            None,
            Some(&confluent(id, &flagged_avro(principal, 42)))
        ),
        record(
            "flagged_topic",
            8,
            None,
            Some(&confluent(id, &flagged_avro(&already_masked, 11)))
        ),
    ]);
    let f = fx.function(&[("MASK_FIELDS", mask.as_str())]).await;
    let out = success(f.invoke(&batch).await.unwrap());
    assert_eq!(out.len(), 2);
    for (record, calls) in out.iter().zip([42, 11]) {
        let value = &record["value"];
        assert_eq!(value["userIdentity"], already_masked, "{record}");
        assert_eq!(value["apiCalls"], calls);
        assert_eq!(value["eventSource"], "s3.amazonaws.com");
        assert_eq!(value["eventNames"], "GetObject,ListBuckets,ListObjectsV2");
        assert_eq!(record["valueSchemaId"], id);
    }
    assert!(fx.dead_letters().await.is_empty());
}
