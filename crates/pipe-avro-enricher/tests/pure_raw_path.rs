//! The raw path the function runs (`handler::handle_raw`, `Enricher::enrich_raw`,
//! `raw::Element`) against the parsed one (`handler::handle`, `Enricher::enrich`,
//! `RecordFields::parse`): for the same batch text, the same output (byte for byte when the text
//! is compact serde_json output, the same JSON otherwise), the same dead letters, the same errors.

mod pure_common;

use std::sync::Mutex;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use common::{FunctionError, Invocation};
use pipe_avro_enricher::dead_letters::{
    DeadLetterSink, FailedEntry, MessageQueue, ObjectStore, QueueMessage,
};
use pipe_avro_enricher::enrich::{Enricher, Settings};
use pipe_avro_enricher::framing::SchemaRef;
use pipe_avro_enricher::handler::{handle, handle_raw};
use pipe_avro_enricher::mask::MaskRules;
use pipe_avro_enricher::raw::parse_batch;
use pipe_avro_enricher::record::RecordFields;
use pipe_avro_enricher::registry::{FetchError, FetchedSchema, SchemaSource};
use proptest::prelude::*;
use pure_common::{CONFLUENT_SAMPLE, PRODUCT};
use serde_json::value::RawValue;
use serde_json::{json, Value};

const GUID: &str = "7d2a2e63-8e80-4e2b-9c4e-2a3b4c5d6e7f";

/// Schema 100001 is the sample's `Product`, 9 is not Avro, 7 is behind a registry that is down,
/// GUID is `Product` again; anything else does not exist.
struct Schemas;

impl SchemaSource for Schemas {
    async fn fetch(&self, schema: &SchemaRef) -> Result<FetchedSchema, FetchError> {
        let product = || FetchedSchema {
            main: PRODUCT.to_owned(),
            references: Vec::new(),
        };
        match schema {
            SchemaRef::ConfluentId(100_001) => Ok(product()),
            SchemaRef::ConfluentGuid(g) if g.to_string() == GUID => Ok(product()),
            SchemaRef::ConfluentId(9) => Ok(FetchedSchema {
                main: r#"{"type":"nope"}"#.to_owned(),
                references: Vec::new(),
            }),
            SchemaRef::ConfluentId(7) => Err(FetchError::Unavailable("registry down".into())),
            other => Err(FetchError::NotFound(format!("{other} not found"))),
        }
    }
}

fn enricher(settings: Settings) -> Enricher<Schemas> {
    Enricher::new(settings, Schemas, 16)
}

fn framed(id: u32, payload: &[u8]) -> String {
    let mut bytes = vec![0];
    bytes.extend_from_slice(&id.to_be_bytes());
    bytes.extend_from_slice(payload);
    BASE64.encode(bytes)
}

fn product_payload() -> Vec<u8> {
    BASE64.decode(CONFLUENT_SAMPLE).unwrap()[5..].to_vec()
}

fn record(offset: i64, value: Value) -> Value {
    json!({
        "topic": "topic_0", "partition": 3, "offset": offset, "timestamp": 1698221925140u64,
        "timestampType": "CREATE_TIME", "key": "MTI0MzU=", "value": value,
        "headers": [{"task.generation": [48]}, {"task.id": [48]}, {"current.iteration": [49, 50]}],
        "bootstrapServers": "smk://pkc-p11xm.us-east-1.aws.confluent.cloud:9092",
        "eventSource": "SelfManagedKafka", "eventSourceKey": "topic_0-3"
    })
}

/// Enriches `text` both ways and asserts the same outcome; returns the raw output's JSON.
async fn same_outcome(enricher: &Enricher<Schemas>, text: &str) -> Value {
    let parsed: Vec<Value> = serde_json::from_str(text).unwrap();
    let by_value = enricher.enrich(parsed).await;
    let event = RawValue::from_string(text.to_owned()).unwrap();
    let by_raw = enricher.enrich_raw(parse_batch(&event).unwrap()).await;
    match (by_value, by_raw) {
        (Ok(v), Ok(r)) => {
            let output: Value = serde_json::from_str(r.output.get()).unwrap();
            let expected: Vec<Value> = v
                .output
                .iter()
                .map(|o| serde_json::from_str(o.get()).unwrap())
                .collect();
            assert_eq!(output, Value::Array(expected), "output of {text}");
            assert_eq!(r.records, v.output.len());
            assert_eq!(r.dead_letters, v.dead_letters, "dead letters of {text}");
            output
        }
        (Err(v), Err(r)) => {
            assert_eq!(r, v);
            Value::Null
        }
        (v, r) => panic!("{text}: parsed path {v:?}, raw path {r:?}"),
    }
}

#[tokio::test]
async fn good_records_come_out_the_same_byte_for_byte() {
    let key = framed(100_001, &product_payload());
    let mut keyed = record(3, json!(CONFLUENT_SAMPLE));
    keyed["key"] = json!(key);
    let batch = json!([
        record(1, json!(CONFLUENT_SAMPLE)),
        record(2, Value::Null),
        keyed,
        {"partition": "0", "offset": 9007199254740993i64, "eventSourceKey": "messages-2-0",
         "value": CONFLUENT_SAMPLE, "extra": {"nested": [1.5, -0.0, "é\u{1}", null, true]}},
    ]);
    let text = serde_json::to_string(&batch).unwrap();
    let enricher = enricher(Settings::default());
    let output = same_outcome(&enricher, &text).await;
    assert_eq!(output.as_array().unwrap().len(), 4);
    assert_eq!(output[0]["value"]["id"], 13119);
    assert_eq!(output[2]["keySchemaId"], 100_001);

    // Compact serde_json text in: the raw response is the bytes the parsed path serializes.
    let parsed: Vec<Value> = serde_json::from_str(&text).unwrap();
    let by_value = enricher.enrich(parsed).await.unwrap();
    let event = RawValue::from_string(text.clone()).unwrap();
    let by_raw = enricher
        .enrich_raw(parse_batch(&event).unwrap())
        .await
        .unwrap();
    assert_eq!(
        by_raw.output.get(),
        serde_json::to_string(&by_value.output).unwrap()
    );
}

#[tokio::test]
async fn text_serde_json_would_not_write_gives_the_same_json() {
    // Escapes in names and values (base64's `/` as `\/`), whitespace, an exponent, a repeated
    // member (the last one counts), a header in another shape, unsigned header bytes.
    let sample = CONFLUENT_SAMPLE.replace('+', "\\u002b");
    let text = format!(
        r#" [ {{ "top\u0069c" : "t\u00f6pic", "partition" : 1 , "offset": 5, "offset": 6,
              "key": "Pz8\/", "value": "{sample}", "n": 1.0e3,
              "headers": [ {{"a\nb": [-61, -85]}}, {{}}, {{"x": [255], "y": [1]}}, {{"x": [0]}} ] }} ,
            {{"eventSourceKey": "a-b-c-7", "value": "{CONFLUENT_SAMPLE}", "headers": null}} ] "#
    );
    let output = same_outcome(&enricher(Settings::default()), &text).await;
    assert_eq!(output[0]["topic"], "töpic");
    assert_eq!(output[0]["offset"], 6);
    assert_eq!(output[0]["key"], "???");
    assert_eq!(
        output[0]["headers"],
        json!([{"a\nb": "ë"}, {"x": "/w=="}, {"y": "\u{1}"}, {"x": "\u{0}"}])
    );
    assert_eq!(output[1]["headers"], json!([]));
}

#[tokio::test]
async fn every_failure_is_the_same_dead_letter() {
    let value = |v: &str| record(1, json!(v));
    let mut guid_header = vec![1u8];
    guid_header.extend_from_slice(uuid::Uuid::parse_str(GUID).unwrap().as_bytes());
    let mut by_guid = record(2, json!(BASE64.encode(product_payload())));
    by_guid["headers"] = json!([{ "__value_schema_id": guid_header }]);
    let payload = product_payload();
    let batch = json!([
        "not a record", 5, null, [1, 2], true, {},
        {"partition": true}, {"offset": 1.5}, {"offset": 18446744073709551615u64},
        {"key": 5}, {"value": {}}, {"headers": "x"}, {"headers": [{"h": [1, 300]}]},
        {"headers": [{"h": "x"}]}, {"headers": [7]}, {"topic": ["t"]}, {"eventSourceKey": 1},
        value("!!"), value(&BASE64.encode([7, 1, 2])), value(&framed(42, &payload)),
        value(&framed(9, &payload)), value(&framed(100_001, &payload[..3])),
        value(&framed(100_001, &[payload.as_slice(), &[0, 0]].concat())),
        by_guid, record(3, json!(CONFLUENT_SAMPLE)),
    ]);
    let output = same_outcome(
        &enricher(Settings::default()),
        &serde_json::to_string(&batch).unwrap(),
    )
    .await;
    assert_eq!(output.as_array().unwrap().len(), 3, "{output}");
}

#[tokio::test]
async fn output_limits_masking_and_an_unavailable_registry_act_the_same() {
    let batch: Vec<Value> = (0..5).map(|o| record(o, json!(CONFLUENT_SAMPLE))).collect();
    let text = serde_json::to_string(&batch).unwrap();
    let limited = Settings {
        max_output_records: 2,
        ..Settings::default()
    };
    let output = same_outcome(&enricher(limited), &text).await;
    assert_eq!(output.as_array().unwrap().len(), 2);
    let one_record = serde_json::to_string(&output[0]).unwrap().len();
    let small = Settings {
        max_output_bytes: 2 + 2 * (one_record + 1),
        ..Settings::default()
    };
    assert_eq!(same_outcome(&enricher(small), &text).await, output);
    let nothing = Settings {
        max_output_records: 0,
        ..Settings::default()
    };
    assert_eq!(same_outcome(&enricher(nothing), &text).await, json!([]));

    let masked = Settings {
        mask: MaskRules::parse("name:1,description").unwrap(),
        ..Settings::default()
    };
    let output = same_outcome(&enricher(masked), &text).await;
    assert_eq!(output[0]["value"]["name"], "****9");

    let down = json!([
        record(1, json!(CONFLUENT_SAMPLE)),
        record(2, json!(framed(7, &[0])))
    ]);
    let down = serde_json::to_string(&down).unwrap();
    assert_eq!(
        same_outcome(&enricher(Settings::default()), &down).await,
        Value::Null
    );
}

/// Records every message the handler dead-letters.
#[derive(Default)]
struct Recorded(Mutex<Vec<Value>>);

impl MessageQueue for Recorded {
    async fn send_batch(
        &self,
        messages: &[QueueMessage],
    ) -> Result<Vec<FailedEntry>, FunctionError> {
        let mut sent = self.0.lock().unwrap();
        for m in messages {
            let mut body: Value = serde_json::from_str(&m.body).unwrap();
            body["time"] = Value::Null;
            sent.push(body);
        }
        Ok(Vec::new())
    }
}

impl ObjectStore for Recorded {
    async fn put(&self, _: &str, _: &str, _: Vec<u8>) -> Result<(), FunctionError> {
        panic!("no claim check expected")
    }
}

fn sink() -> DeadLetterSink<Recorded, Recorded> {
    DeadLetterSink {
        queue: Recorded::default(),
        store: Recorded::default(),
        bucket: String::new(),
        fifo: false,
        max_message_bytes: 262_144,
        retry: Default::default(),
    }
}

#[tokio::test]
async fn the_raw_handler_answers_and_dead_letters_like_the_parsed_one() {
    let batch = json!([
        record(1, json!(CONFLUENT_SAMPLE)),
        record(2, json!("!!")),
        {"offset": "x"},
        record(3, json!(framed(42, &product_payload()))),
    ]);
    let text = serde_json::to_string(&batch).unwrap();
    let enricher = enricher(Settings::default());
    let (by_value, by_raw) = (sink(), sink());
    let records: Vec<Value> = serde_json::from_str(&text).unwrap();
    let out = handle(records, Invocation::for_test(), &enricher, &by_value)
        .await
        .unwrap();
    let event = RawValue::from_string(text).unwrap();
    let raw_out = handle_raw(event, Invocation::for_test(), &enricher, &by_raw)
        .await
        .unwrap();
    assert_eq!(raw_out.get(), serde_json::to_string(&out).unwrap());
    let sent = by_value.queue.0.lock().unwrap().clone();
    assert_eq!(sent.len(), 3);
    assert_eq!(*by_raw.queue.0.lock().unwrap(), sent);

    // An event that is not an array is not a Pipes batch.
    let err = handle_raw(
        RawValue::from_string(r#"{"records": []}"#.into()).unwrap(),
        Invocation::for_test(),
        &enricher,
        &by_raw,
    )
    .await
    .unwrap_err();
    assert!(
        err.message
            .starts_with("event does not match the expected shape"),
        "{}",
        err.message
    );
}

/// A JSON value of any shape a field might have, biased to the shapes the fields expect.
fn field_value() -> impl Strategy<Value = Value> {
    let text = prop_oneof![
        "[A-Za-z0-9+/=]{0,12}",
        "[0-9]{1,3}",
        " -?[0-9]{1,20} ",
        "[a-z]{0,3}-[0-9]{1,2}(-[0-9])?",
        ".{0,6}",
    ];
    let byte = prop_oneof![-300i64..300, Just(i64::MAX)].prop_map(Value::from);
    let header = prop_oneof![
        (
            "[a-z\"\\\\é.]{0,4}",
            prop::collection::vec(byte.clone(), 0..4)
        )
            .prop_map(|(n, b)| Value::Object([(n, json!(b))].into_iter().collect())),
        prop::collection::vec(("[a-c]", prop::collection::vec(byte, 0..2)), 0..3)
            .prop_map(|kv| Value::Object(kv.into_iter().map(|(k, v)| (k, json!(v))).collect())),
        Just(json!("x")),
    ];
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1e6f64..1e6).prop_map(Value::from),
        text.prop_map(Value::from),
        prop::collection::vec(header, 0..3).prop_map(Value::Array),
        Just(json!({"a": 1})),
    ]
}

const FIELDS: [&str; 8] = [
    "eventSourceKey",
    "topic",
    "partition",
    "offset",
    "key",
    "value",
    "headers",
    "other",
];

proptest! {
    /// Whatever shape the fields have, the raw read gives the same fields or the same error,
    /// compact or pretty-printed.
    #[test]
    fn raw_fields_match_parsed_fields(
        members in prop::collection::vec((0..FIELDS.len(), field_value()), 0..10),
        pretty in any::<bool>(),
    ) {
        let record = Value::Object(
            members.into_iter().map(|(i, v)| (FIELDS[i].to_owned(), v)).collect(),
        );
        let text = if pretty {
            serde_json::to_string_pretty(&[&record]).unwrap()
        } else {
            serde_json::to_string(&[&record]).unwrap()
        };
        // Both read the same text (serde_json's float parsing is not the identity on every f64).
        let parsed: Vec<Value> = serde_json::from_str(&text).unwrap();
        let event = RawValue::from_string(text.clone()).unwrap();
        let elements = parse_batch(&event).unwrap();
        prop_assert_eq!(elements[0].fields(), RecordFields::parse(&parsed[0]));
        prop_assert_eq!(elements[0].to_value(), parsed[0].clone());
    }
}

#[test]
fn the_scan_finds_quotes_and_escapes_at_every_position() {
    // The scan skips strings eight bytes at a time: put the escapes at every offset.
    for n in 0..40 {
        let filler = "A".repeat(n);
        let member = format!("{filler}\"\\{filler}\\u00e9/");
        let record = json!({ "x": member, member.clone(): [member.clone(), {"y": filler}] });
        let text = serde_json::to_string(&[&record]).unwrap();
        let event = RawValue::from_string(text).unwrap();
        let elements = parse_batch(&event).unwrap();
        assert_eq!(elements.len(), 1);
        assert_eq!(elements[0].to_value(), record, "offset {n}");
    }
}

/// The batch fast path (every schema cached) against the fetching path (some schema not cached
/// yet): a record decodes to the same output or the same dead letter either way, also when the
/// cache is too small to hold one record's two schemas.
#[tokio::test]
async fn cached_and_uncached_schemas_give_the_same_outcome() {
    let payload = product_payload();
    let mut guid_header = vec![1u8];
    guid_header.extend_from_slice(uuid::Uuid::parse_str(GUID).unwrap().as_bytes());
    // Value by GUID header, key by id: two schemas for one record.
    let mut two_schemas = record(2, json!(BASE64.encode(&payload)));
    two_schemas["headers"] = json!([{ "__value_schema_id": guid_header }]);
    two_schemas["key"] = json!(framed(100_001, &payload));
    let mixed = json!([
        record(1, json!(CONFLUENT_SAMPLE)),
        two_schemas,
        record(3, json!(framed(42, &payload))),
        record(4, json!(framed(9, &payload))),
        record(5, json!("!!")),
        record(6, json!(framed(100_001, &payload[..3]))),
    ]);
    // Only ids that can be cached, failures of other kinds among them.
    let mut cacheable = mixed.clone();
    cacheable.as_array_mut().unwrap().drain(2..4);
    for batch in [mixed, cacheable] {
        let text = serde_json::to_string(&batch).unwrap();
        let event = RawValue::from_string(text.clone()).unwrap();
        for capacity in [1, 16] {
            let enricher = Enricher::new(Settings::default(), Schemas, capacity);
            let cold = enricher
                .enrich_raw(parse_batch(&event).unwrap())
                .await
                .unwrap();
            let warm = enricher
                .enrich_raw(parse_batch(&event).unwrap())
                .await
                .unwrap();
            assert_eq!(warm.output.get(), cold.output.get(), "capacity {capacity}");
            assert_eq!(warm.dead_letters, cold.dead_letters, "capacity {capacity}");
            let output: Value = serde_json::from_str(cold.output.get()).unwrap();
            assert_eq!(output[1]["valueSchemaId"], GUID);
            assert_eq!(output[1]["keySchemaId"], 100_001);
            assert_eq!(output[1]["key"]["id"], output[1]["value"]["id"]);
            let failed: Vec<_> = cold.dead_letters.iter().map(|d| d.offset).collect();
            let expected: &[i64] = if batch.as_array().unwrap().len() == 6 {
                &[3, 4, 5, 6]
            } else {
                &[5, 6]
            };
            assert_eq!(
                failed,
                expected.iter().map(|&o| Some(o)).collect::<Vec<_>>()
            );
            // And the same as the parsed path.
            assert_eq!(same_outcome(&enricher, &text).await, output);
        }
    }
}
