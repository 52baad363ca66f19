//! pipe-avro-enricher benchmark cases.

use std::time::{Duration, Instant};

use common::config::Env;
use common::Invocation;
use e2e_tests::enricher_fixtures::{confluent, product_avro, record, PRODUCT};
use e2e_tests::local_cloud::{python, LocalCloud};
use e2e_tests::workspace::{root, ScratchDir};
use pipe_avro_enricher::config::EnricherConfig;
use serde_json::value::RawValue;
use serde_json::Value;

use super::Case;

fn product_record(id: i32, offset: i64, text: &str) -> Value {
    record(
        "bench",
        offset,
        Some(offset.to_string().as_bytes()),
        Some(&confluent(id, &product_avro(offset, text, 1.5))),
    )
}

/// The cold-start case: the sample batch, then a batch close to Pipes' 6 MB
/// request limit for the peak-RSS figure.
pub async fn case(cloud: &LocalCloud) -> Case {
    let id = cloud
        .register_confluent("bench-value", PRODUCT, None)
        .await
        .expect("register") as i32;
    let dlq = cloud.create_queue("bench-dlq").await;
    let _ = cloud
        .s3()
        .await
        .create_bucket()
        .bucket("bench-dlq")
        .send()
        .await;
    let small: Vec<Value> = (0..10).map(|o| product_record(id, o, "13119")).collect();
    let text = "x".repeat(300_000);
    let big: Vec<Value> = (0..7).map(|o| product_record(id, o, &text)).collect();
    let size = serde_json::to_vec(&big)
        .map(|v| v.len())
        .unwrap_or_default();
    println!(
        "(peak RSS after a 10-record batch and a {:.1} MB batch)",
        size as f64 / 1e6
    );
    Case {
        function: "pipe-avro-enricher",
        env: vec![
            (
                "CONFLUENT_SCHEMA_REGISTRY_URL".into(),
                cloud.local_aws.url.clone(),
            ),
            ("DLQ_URL".into(), dlq),
            ("DLQ_BUCKET".into(), "bench-dlq".into()),
        ],
        events: vec![Value::Array(small), Value::Array(big)],
    }
}

/// Median time per batch over `rounds` rounds of `per_round` batches, from the event's bytes
/// to the response's bytes: what lambda_runtime and the handler do with one invocation (the body
/// parsed to the handler's input, the handler, the response serialized), as the Python baseline
/// times its runtime's `json.loads`, the sample's work and `json.dumps` on the same body.
async fn time_per_batch(
    rounds: usize,
    per_round: usize,
    body: &[u8],
    enricher: &pipe_avro_enricher::enrich::Enricher<pipe_avro_enricher::registry::Registries>,
    dlq: &pipe_avro_enricher::dead_letters::DeadLetterSink<
        pipe_avro_enricher::adapters::SqsQueue,
        pipe_avro_enricher::adapters::S3Store,
    >,
) -> Duration {
    let mut samples = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let start = Instant::now();
        for _ in 0..per_round {
            let response = invoke(std::hint::black_box(body), enricher, dlq).await;
            std::hint::black_box(response);
        }
        samples.push(start.elapsed() / per_round as u32);
    }
    samples.sort();
    samples[rounds / 2]
}

/// One invocation's work on `body`; returns the response body.
async fn invoke(
    body: &[u8],
    enricher: &pipe_avro_enricher::enrich::Enricher<pipe_avro_enricher::registry::Registries>,
    dlq: &pipe_avro_enricher::dead_letters::DeadLetterSink<
        pipe_avro_enricher::adapters::SqsQueue,
        pipe_avro_enricher::adapters::S3Store,
    >,
) -> Vec<u8> {
    let event: Box<RawValue> = serde_json::from_slice(body).expect("event");
    let out = pipe_avro_enricher::handler::handle_raw(event, Invocation::for_test(), enricher, dlq)
        .await
        .expect("batch");
    serde_json::to_vec(&out).expect("response")
}

pub async fn throughput(cloud: &LocalCloud) {
    let scratch = ScratchDir::new("bench-batches");
    let path = scratch.join("batches.json");
    // Async: the baseline talks to the in-process registry on this thread.
    let baseline = tokio::process::Command::new(python())
        .arg(root().join("tools/bench_python_baseline.py"))
        .arg(&cloud.local_aws.url)
        .arg(&path)
        .arg("3")
        .output()
        .await
        .expect("python baseline");
    assert!(
        baseline.status.success(),
        "{}",
        String::from_utf8_lossy(&baseline.stderr)
    );
    let python_rates: Vec<Value> = String::from_utf8_lossy(&baseline.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    // The event bodies the baseline timed, byte for byte.
    let bodies: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("bodies")).expect("json");

    let mut env = Env::from_pairs([(
        "CONFLUENT_SCHEMA_REGISTRY_URL",
        cloud.local_aws.url.as_str(),
    )]);
    let config = EnricherConfig::from_env(&mut env);
    let config = env.finish(config).expect("config");
    let aws = cloud.moto_config().await;
    let enricher = pipe_avro_enricher::adapters::connect(&config, &aws)
        .await
        .expect("enricher");
    let dlq = pipe_avro_enricher::adapters::dead_letter_sink(
        &pipe_avro_enricher::config::DeadLetterConfig {
            queue_url: cloud.create_queue("bench-throughput-dlq").await,
            bucket: "bench-dlq".into(),
            max_message_bytes: 262_144,
        },
        &aws,
    );

    println!("(both sides from the same event body to the response body; see BENCHMARKS.md)");
    println!(
        "{:<22} {:>16} {:>16} {:>16} {:>9}",
        "schema", "10-record batch", "rust records/s", "python records/s", "speed-up"
    );
    for rate in &python_rates {
        let name = rate["schema"].as_str().unwrap_or_default();
        let body = bodies[name].as_str().unwrap_or_default().as_bytes();
        let records = rate["records"].as_u64().unwrap_or_default() as usize;
        // Warm the schema cache; every record must decode.
        let warm: Vec<Value> =
            serde_json::from_slice(&invoke(body, &enricher, &dlq).await).expect("response");
        assert_eq!(warm.len(), records, "every benchmark record decodes");
        let per_batch = time_per_batch(15, 400, body, &enricher, &dlq).await;
        let rust_rate = records as f64 / per_batch.as_secs_f64();
        let python_rate = rate["records_per_sec"].as_f64().unwrap_or(f64::NAN);
        println!(
            "{:<22} {:>14.1}us {:>16.0} {:>16.0} {:>8.1}x",
            name,
            per_batch.as_secs_f64() * 1e6,
            rust_rate,
            python_rate,
            rust_rate / python_rate
        );
    }
}
