//! Decode throughput of `avro_json::decode` alone (no framing, masking or output
//! serialization): `cargo bench -p pipe-avro-enricher --bench decode`. Plain `Instant` timing so
//! the crate needs no benchmark dependency; `BENCH_MS` shortens runs.

mod fixtures;

use std::hint::black_box;

use base64::Engine;
use fixtures::{time_per_call, wide_payload, wide_schema, PRODUCT, PRODUCT_RECORD};
use pipe_avro_enricher::avro_json::{decode, decode_reference, WriterSchema};

fn bench(label: &str, payload: &[u8], writer: &WriterSchema) {
    let direct = decode(payload, writer, None).expect("bench payload decodes");
    assert_eq!(
        Some(direct),
        decode_reference(payload, writer, None, true).ok(),
        "direct and reference paths agree"
    );
    report(
        label,
        time_per_call(|| decode(black_box(payload), writer, None).unwrap()),
    );
    report(
        &format!("{label} reference"),
        time_per_call(|| decode_reference(black_box(payload), writer, None, true).unwrap()),
    );
}

fn report(label: &str, ns: f64) {
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
