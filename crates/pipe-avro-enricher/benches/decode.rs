//! Decode throughput of `avro_json::decode` alone (no framing, masking or output
//! serialization): `cargo bench -p pipe-avro-enricher --bench decode`. Plain `Instant` timing so
//! the crate needs no benchmark dependency.

use std::hint::black_box;
use std::time::{Duration, Instant};

use apache_avro::types::Value;
use apache_avro::writer::datum::GenericDatumWriter;
use apache_avro::{Decimal, Schema};
use base64::Engine;
use pipe_avro_enricher::avro_json::{decode, decode_reference, WriterSchema};

const PRODUCT: &str = r#"{"type":"record","name":"Product","fields":[{"name":"id","type":"long"},{"name":"name","type":"string"},{"name":"description","type":"string"},{"name":"price","type":"double"}]}"#;
const PRODUCT_RECORD: &str = "AAABhqH+zAEKMTMxMTkKMTMxMTkAAAAAgJ/JQA==";

const KINDS: [&str; 10] = [
    r#""long""#,
    r#""string""#,
    r#""double""#,
    r#""boolean""#,
    r#""int""#,
    r#"{"type":"int","logicalType":"date"}"#,
    r#"{"type":"long","logicalType":"timestamp-millis"}"#,
    r#"{"type":"long","logicalType":"timestamp-micros"}"#,
    r#"{"type":"bytes","logicalType":"decimal","precision":12,"scale":2}"#,
    r#"{"type":"string","logicalType":"uuid"}"#,
];

fn wide_schema() -> String {
    let fields: Vec<String> = (0..30)
        .map(|i| {
            let kind = KINDS[i % 10];
            let ty = if i >= 25 {
                format!(r#"["null",{kind}]"#)
            } else {
                kind.to_owned()
            };
            format!(r#"{{"name":"f{i:02}","type":{ty}}}"#)
        })
        .collect();
    format!(
        r#"{{"type":"record","name":"Wide","namespace":"bench","fields":[{}]}}"#,
        fields.join(",")
    )
}

fn wide_value(i: usize) -> Value {
    match i % 10 {
        0 => Value::Long(1_699_282_778_691 + i as i64),
        1 => Value::String(format!("value number {i} of the record")),
        2 => Value::Double(1234.5678 * i as f64),
        3 => Value::Boolean(i.is_multiple_of(2)),
        4 => Value::Int(42 * i as i32),
        5 => Value::Date(19_675 + i as i32),
        6 => Value::TimestampMillis(1_699_282_778_691),
        7 => Value::TimestampMicros(1_699_282_778_691_123),
        8 => Value::Decimal(Decimal::from(vec![0x01, 0xe2, 0x40 + i as u8])),
        _ => Value::Uuid(uuid::Uuid::from_u128(
            0x1234_5678_9abc_def0_1234_5678_9abc_def0,
        )),
    }
}

fn wide_payload(schema: &str) -> Vec<u8> {
    let schema = Schema::parse_str(schema).unwrap();
    let fields = (0..30)
        .map(|i| {
            let v = wide_value(i);
            let v = if i >= 25 {
                Value::Union(1, Box::new(v))
            } else {
                v
            };
            (format!("f{i:02}"), v)
        })
        .collect();
    GenericDatumWriter::builder(&schema)
        .build()
        .unwrap()
        .write_value_to_vec(Value::Record(fields))
        .unwrap()
}

fn bench(label: &str, payload: &[u8], writer: &WriterSchema) {
    let direct = decode(payload, writer, None).expect("bench payload decodes");
    assert_eq!(
        Some(direct),
        decode_reference(payload, writer, None, true).ok(),
        "direct and reference paths agree"
    );
    run(label, || decode(black_box(payload), writer, None).unwrap());
    run(&format!("{label} reference"), || {
        decode_reference(black_box(payload), writer, None, true).unwrap()
    });
}

fn run(label: &str, mut f: impl FnMut() -> serde_json::Value) {
    // DECODE_BENCH_MS shortens runs, e.g. under callgrind.
    let ms = std::env::var("DECODE_BENCH_MS").map_or(2000, |v| v.parse().unwrap_or(2000));
    let budget = Duration::from_millis(ms);
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < budget {
        for _ in 0..1000 {
            black_box(f());
        }
        n += 1000;
    }
    let ns = start.elapsed().as_nanos() as f64 / n as f64;
    println!(
        "{label:<36} {ns:>9.0} ns/record {:>10.0} records/s",
        1e9 / ns
    );
}

fn main() {
    let framed = base64::engine::general_purpose::STANDARD
        .decode(PRODUCT_RECORD)
        .unwrap();
    let product = WriterSchema::parse(PRODUCT, &[]).unwrap();
    bench("product (4 fields)", &framed[5..], &product);

    let text = wide_schema();
    let wide = WriterSchema::parse(&text, &[]).unwrap();
    bench("wide (30 fields)", &wide_payload(&text), &wide);
}
