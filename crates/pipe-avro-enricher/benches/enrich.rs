//! Where a record's time goes through the handler: `cargo bench -p pipe-avro-enricher --bench
//! enrich`. The same 10-record Pipes batches as `make bench` (the Python baseline's shapes): the
//! raw handler the function runs from the event's bytes to the response's bytes, the `Value`
//! handler the same way, then the steps timed one by one on the same records, so a change to
//! the hot path shows where it helped. Schemas come from memory; no dead letters occur.

mod fixtures;

use std::hint::black_box;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use common::FunctionError;
use fixtures::{time_per_call, time_per_input, wide_payload, wide_schema, PRODUCT, PRODUCT_RECORD};
use pipe_avro_enricher::avro_json::{decode, decode_for_output, WriterSchema};
use pipe_avro_enricher::dead_letters::{
    DeadLetterSink, FailedEntry, MessageQueue, ObjectStore, QueueMessage,
};
use pipe_avro_enricher::enrich::{Enricher, Settings};
use pipe_avro_enricher::framing::SchemaRef;
use pipe_avro_enricher::raw::parse_batch;
use pipe_avro_enricher::record::{decode_base64, ReadableHeaders, RecordFields};
use pipe_avro_enricher::registry::{FetchError, FetchedSchema, SchemaSource};
use serde_json::value::RawValue;
use serde_json::{json, Value};

struct Schemas(Vec<String>);

impl SchemaSource for Schemas {
    async fn fetch(&self, schema: &SchemaRef) -> Result<FetchedSchema, FetchError> {
        match schema {
            SchemaRef::ConfluentId(id) => self
                .0
                .get(*id as usize - 1)
                .map(|main| FetchedSchema {
                    main: main.clone(),
                    references: Vec::new(),
                })
                .ok_or_else(|| FetchError::NotFound(format!("{schema}"))),
            _ => Err(FetchError::NotFound(format!("{schema}"))),
        }
    }
}

/// The benchmark batches decode cleanly: any dead letter is a bug in the benchmark.
struct NoDeadLetters;

impl MessageQueue for NoDeadLetters {
    async fn send_batch(&self, _: &[QueueMessage]) -> Result<Vec<FailedEntry>, FunctionError> {
        panic!("a benchmark record was dead-lettered")
    }
}

impl ObjectStore for NoDeadLetters {
    async fn put(&self, _: &str, _: &str, _: Vec<u8>) -> Result<(), FunctionError> {
        panic!("a benchmark record was dead-lettered")
    }
}

/// Ten records shaped like `tools/bench_python_baseline.py`'s.
fn batch(topic: &str, schema_id: u32, payload: &[u8]) -> Vec<Value> {
    let mut framed = vec![0];
    framed.extend_from_slice(&schema_id.to_be_bytes());
    framed.extend_from_slice(payload);
    (0..10)
        .map(|n| {
            json!({
                "topic": topic, "partition": n % 6, "offset": 1000 + n,
                "timestamp": 1763773323000u64 + n, "timestampType": "CREATE_TIME",
                "key": BASE64.encode(n.to_string()), "value": BASE64.encode(&framed),
                "headers": [{"task.id": [48]}],
                "bootstrapServers": "smk://broker:9092", "eventSource": "SelfManagedKafka",
                "eventSourceKey": format!("{topic}-{}", n % 6),
            })
        })
        .collect()
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let wide_text = wide_schema();
    let product_payload = BASE64.decode(PRODUCT_RECORD).unwrap()[5..].to_vec();
    let cases = [
        (
            "aws-sample-product",
            batch("products", 1, &product_payload),
            PRODUCT.to_owned(),
        ),
        (
            "wide-30-fields",
            batch("wide", 2, &wide_payload(&wide_text)),
            wide_text.clone(),
        ),
    ];
    let enricher = Enricher::new(
        Settings::default(),
        Schemas(vec![PRODUCT.to_owned(), wide_text]),
        16,
    );
    let sink = DeadLetterSink {
        queue: NoDeadLetters,
        store: NoDeadLetters,
        bucket: String::new(),
        fifo: false,
        max_message_bytes: 262_144,
        retry: Default::default(),
    };

    println!("{:<20} {:<34} {:>10}", "schema", "step", "ns/record");
    for (name, records, schema) in &cases {
        let writer = WriterSchema::parse(schema, &[]).unwrap();
        // `cargo bench --bench enrich -- <text>` times only the steps whose "schema step" name
        // contains it (e.g. `raw` or `wide-30-fields raw` under `perf record`).
        let only: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with("--"));
        macro_rules! row {
            ($step:expr, $time:expr $(,)?) => {
                let step: &str = $step;
                if only
                    .as_deref()
                    .is_none_or(|o| format!("{name} {}", step.trim()).contains(o))
                {
                    let ns_per_batch: f64 = $time;
                    println!(
                        "{name:<20} {step:<34} {:>10.0}",
                        ns_per_batch / records.len() as f64
                    );
                }
            };
        }
        // Inputs are cloned outside the clock, as Lambda hands the handler a parsed event.
        let handle = |input| {
            rt.block_on(pipe_avro_enricher::handler::handle(
                input,
                common::Invocation::for_test(),
                &enricher,
                &sink,
            ))
            .unwrap()
        };
        assert_eq!(handle(records.clone()).len(), records.len());
        // What the function runs: the event's bytes in, the response's bytes out (lambda_runtime
        // parses the body to the handler's type and serializes the response).
        let body = serde_json::to_vec(records).unwrap();
        let handle_raw = |body: &[u8]| {
            let event: Box<RawValue> = serde_json::from_slice(body).unwrap();
            let out = rt
                .block_on(pipe_avro_enricher::handler::handle_raw(
                    event,
                    common::Invocation::for_test(),
                    &enricher,
                    &sink,
                ))
                .unwrap();
            serde_json::to_vec(&out).unwrap()
        };
        let raw_out: Value = serde_json::from_slice(&handle_raw(&body)).unwrap();
        assert_eq!(raw_out.as_array().map(Vec::len), Some(records.len()));
        row!(
            "raw handler, bytes in and out",
            time_per_call(|| handle_raw(black_box(&body))),
        );
        row!(
            "  parse the event (RawValue)",
            time_per_call(|| serde_json::from_slice::<Box<RawValue>>(black_box(&body)).unwrap()),
        );
        let event: Box<RawValue> = serde_json::from_slice(&body).unwrap();
        row!(
            "  read the batch (raw::parse_batch)",
            time_per_call(|| parse_batch(black_box(&event)).unwrap().len()),
        );
        let elements = parse_batch(&event).unwrap();
        row!(
            "  raw record fields",
            time_per_call(|| {
                elements
                    .iter()
                    .map(|e| black_box(e).fields().unwrap().headers.len())
                    .sum::<usize>()
            }),
        );
        row!(
            "Value handler, bytes in and out",
            time_per_call(|| {
                // As `common::Startup::run` does: the body to a `Value`, then to the batch.
                let event: Value = serde_json::from_slice(black_box(&body)).unwrap();
                let batch: Vec<Value> = serde_json::from_value(event).unwrap();
                serde_json::to_vec(&handle(batch)).unwrap()
            }),
        );
        row!(
            "handler (whole batch, parsed input)",
            time_per_input(|| records.clone(), handle),
        );
        row!(
            "enrich (no handler bookkeeping)",
            time_per_input(
                || records.clone(),
                |input| rt.block_on(enricher.enrich(input)).unwrap(),
            ),
        );
        row!(
            "  RecordFields::parse",
            time_per_call(|| {
                records
                    .iter()
                    .map(|r| RecordFields::parse(black_box(r)).unwrap().headers.len())
                    .sum::<usize>()
            }),
        );
        let fields: Vec<RecordFields<'_>> = records
            .iter()
            .map(|r| RecordFields::parse(r).unwrap())
            .collect();
        row!(
            "  base64 of key and value",
            time_per_call(|| {
                fields
                    .iter()
                    .map(|f| {
                        decode_base64("value", f.value.as_deref().unwrap())
                            .unwrap()
                            .len()
                            + decode_base64("key", f.key.as_deref().unwrap())
                                .unwrap()
                                .len()
                    })
                    .sum::<usize>()
            }),
        );
        let payloads: Vec<Vec<u8>> = fields
            .iter()
            .map(|f| decode_base64("value", f.value.as_deref().unwrap()).unwrap()[5..].to_vec())
            .collect();
        row!(
            "  avro to JSON text, checked",
            time_per_call(|| {
                payloads
                    .iter()
                    .map(|p| {
                        let d = decode_for_output(&SchemaRef::ConfluentId(1), p, &writer, None);
                        d.unwrap().json_text().map_or(0, str::len)
                    })
                    .sum::<usize>()
            }),
        );
        row!(
            "  avro decode to Value",
            time_per_call(|| {
                for p in &payloads {
                    black_box(decode(black_box(p), &writer, None).unwrap());
                }
            }),
        );
        row!(
            "  readable headers",
            time_per_call(|| {
                for f in &fields {
                    black_box(serde_json::to_string(&ReadableHeaders(&f.headers)).unwrap());
                }
            }),
        );
        row!(
            "  serialize the input record",
            time_per_call(|| {
                records
                    .iter()
                    .map(|r| serde_json::to_string(black_box(r)).unwrap().len())
                    .sum::<usize>()
            }),
        );
        row!(
            "  drop the input batch",
            time_per_input(|| records.clone(), drop),
        );
    }
}
