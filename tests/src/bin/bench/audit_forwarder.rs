//! audit-forwarder: the cold-start case, and records per second and HTTP
//! requests per 1 000 events against the local REST produce API, next to the
//! API-destination path (one POST per event with the input transformer's
//! body `{"value": {"type": "JSON", "data": <detail>}}`), against the same
//! emulator on the same machine.

use std::time::{Duration, Instant};

use e2e_tests::audit_forwarder_fixtures::{
    cloudtrail_event, prepare, produce_requests, sqs_batch, API_KEY, API_SECRET, CLUSTER,
};
use e2e_tests::local_cloud::LocalCloud;
use e2e_tests::runtime_api::FunctionProcess;
use e2e_tests::workspace::function_binary;
use serde_json::{json, Value};

use super::Case;

const EVENTS: usize = 1_000;

/// The cold-start case: one 100-event batch.
pub async fn case(cloud: &LocalCloud) -> Case {
    let env = prepare(cloud, "bench_cold").await.expect("prepare");
    let events: Vec<Value> = (0..100).map(cloudtrail_event).collect();
    Case {
        function: "audit-forwarder",
        env,
        events: vec![sqs_batch(&events)],
    }
}

/// 1 000 events through the function at several batch sizes, and through
/// the one-request-per-event path: on loopback, then with every produce
/// request taking 20 ms longer (a network round trip to the cluster plus
/// the brokers' acks), where the request count decides.
pub async fn throughput(cloud: &LocalCloud) {
    for latency_ms in [0, 20] {
        set_latency(cloud, latency_ms).await;
        println!("-- {latency_ms} ms added per produce request");
        run(cloud, latency_ms).await;
    }
    set_latency(cloud, 0).await;
}

/// Arms (or clears) a latency fault on every produce request.
async fn set_latency(cloud: &LocalCloud, latency_ms: u64) {
    let http = reqwest::Client::new();
    let faults = format!("{}/_local-aws/faults", cloud.local_aws.url);
    http.delete(&faults).send().await.expect("clear faults");
    if latency_ms > 0 {
        let r = http
            .post(&faults)
            .json(
                &json!({"service": "confluent-kafka-rest", "operation": "ProduceRecords",
                          "count": 1_000_000, "latency_ms": latency_ms}),
            )
            .send()
            .await
            .expect("arm latency");
        assert!(r.status().is_success());
    }
}

async fn run(cloud: &LocalCloud, latency_ms: u64) {
    let events: Vec<Value> = (0..EVENTS).map(cloudtrail_event).collect();
    println!("{:<44} {:>10} {:>14}", "path", "records/s", "requests/1000");
    for batch_size in [10, 100, 1_000] {
        let topic = format!("bench_batch_{batch_size}_{latency_ms}");
        let mut env = cloud.function_env();
        env.extend(prepare(cloud, &topic).await.expect("prepare"));
        let f =
            FunctionProcess::spawn(&function_binary("audit-forwarder"), "audit-forwarder", &env)
                .await
                .expect("spawn");
        f.wait_ready(Duration::from_secs(30)).await.expect("init");
        let batches: Vec<Value> = events.chunks(batch_size).map(sqs_batch).collect();
        let before = produce_requests(cloud).await;
        let started = Instant::now();
        for batch in &batches {
            let outcome = f.invoke(batch).await.expect("invoke");
            let failures = outcome
                .success()
                .map(|r| r["batchItemFailures"].as_array().map_or(0, Vec::len));
            assert_eq!(failures, Some(0), "{outcome:?}");
        }
        let elapsed = started.elapsed();
        let requests = produce_requests(cloud).await - before;
        println!(
            "{:<44} {:>10.0} {:>14}",
            format!("audit-forwarder, SQS batches of {batch_size}"),
            EVENTS as f64 / elapsed.as_secs_f64(),
            requests * 1_000 / EVENTS
        );
        let _ = f.shutdown().await;
    }

    // The API destination: EventBridge sends each event on its own, the
    // input transformer's JSON as the body, no batching. Measured with 10
    // requests in flight, more than a rule's target usually has.
    let url = format!(
        "{}/kafka/v3/clusters/{CLUSTER}/topics/bench_api_destination_{latency_ms}/records",
        cloud.local_aws.url
    );
    let _ = prepare(cloud, &format!("bench_api_destination_{latency_ms}"))
        .await
        .expect("prepare");
    let http = reqwest::Client::new();
    let before = produce_requests(cloud).await;
    let started = Instant::now();
    for chunk in events.chunks(10) {
        let sends: Vec<_> = chunk
            .iter()
            .map(|e| {
                tokio::spawn(
                    http.post(&url)
                        .basic_auth(API_KEY, Some(API_SECRET))
                        .json(&json!({"value": {"type": "JSON", "data": e["detail"]}}))
                        .send(),
                )
            })
            .collect();
        for send in sends {
            assert_eq!(send.await.expect("join").expect("send").status(), 200);
        }
    }
    let elapsed = started.elapsed();
    let requests = produce_requests(cloud).await - before;
    println!(
        "{:<44} {:>10.0} {:>14}",
        "API destination path (1 event per request)",
        EVENTS as f64 / elapsed.as_secs_f64(),
        requests * 1_000 / EVENTS
    );
}
