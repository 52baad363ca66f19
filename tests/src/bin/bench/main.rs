//! `make bench`: one table per measurement, figures for BENCHMARKS.md.
//!
//! 1. Per function binary (release): `bootstrap` size, cold start (process
//!    exec to its first `/next`, i.e. init done, over 20 starts), peak RSS.
//! 2. pipe-avro-enricher in process on one core: a 10-record batch through
//!    the handler with schemas cached, and records per second for the AWS
//!    sample's schema and a 30-field schema with logical types, side by side
//!    with the Python baseline (what the AWS Confluent sample does per record)
//!    on the same records.

mod enricher;

mod firewall;

mod control_plane;

mod sbom;

mod event_pattern;

mod audit_forwarder;

use std::time::Duration;

use e2e_tests::local_cloud::LocalCloud;
use e2e_tests::runtime_api::FunctionProcess;
use e2e_tests::workspace::function_binary;
use serde_json::Value;

const COLD_STARTS: usize = 20;

/// One function's benchmark setup.
pub struct Case {
    pub function: &'static str,
    pub env: Vec<(String, String)>,
    /// Events served once after the first start; peak RSS is read after them.
    pub events: Vec<Value>,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

async fn cold_starts(cloud: &LocalCloud, cases: Vec<Case>) {
    println!(
        "{:<24} {:>10} {:>9} {:>9} {:>9} {:>10}",
        "function", "bootstrap", "cold min", "cold p50", "cold p90", "peak RSS"
    );
    for case in cases {
        let binary = function_binary(case.function);
        let size = std::fs::metadata(&binary)
            .map(|m| m.len())
            .unwrap_or_default();
        let mut env = cloud.function_env();
        env.extend(case.env.iter().cloned());
        let mut inits = Vec::with_capacity(COLD_STARTS);
        let mut peak_rss = 0;
        for round in 0..COLD_STARTS {
            let f = FunctionProcess::spawn(&binary, case.function, &env)
                .await
                .expect("spawn");
            inits.push(f.wait_ready(Duration::from_secs(30)).await.expect("init"));
            if round == 0 {
                for event in &case.events {
                    let outcome = f.invoke(event).await.expect("invoke");
                    assert!(outcome.success().is_some(), "{outcome:?}");
                }
                peak_rss = f.peak_rss_kib().unwrap_or_default();
            }
            f.shutdown().await.expect("shutdown");
        }
        inits.sort();
        println!(
            "{:<24} {:>8.2}MB {:>7.1}ms {:>7.1}ms {:>7.1}ms {:>8.1}MB",
            case.function,
            size as f64 / 1e6,
            inits[0].as_secs_f64() * 1e3,
            percentile(&inits, 0.5).as_secs_f64() * 1e3,
            percentile(&inits, 0.9).as_secs_f64() * 1e3,
            peak_rss as f64 / 1024.0,
        );
    }
}

/// `bench [SECTION ...]` runs only the named sections (all when none is
/// given), so one function's figures can be re-measured without the rest:
/// `cold`, `enricher`, `firewall`, `sbom`, `event-pattern`, `audit-forwarder`.
const SECTIONS: [&str; 6] = [
    "cold",
    "enricher",
    "firewall",
    "sbom",
    "event-pattern",
    "audit-forwarder",
];

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let wanted: Vec<String> = std::env::args().skip(1).collect();
    if let Some(unknown) = wanted.iter().find(|w| !SECTIONS.contains(&w.as_str())) {
        eprintln!(
            "bench: unknown section {unknown:?}; sections: {}",
            SECTIONS.join(", ")
        );
        std::process::exit(2);
    }
    let run = |section: &str| wanted.is_empty() || wanted.iter().any(|w| w == section);
    let cloud = LocalCloud::start().await.expect("local cloud");
    if run("cold") {
        println!("== cold start, size, memory (release builds, local Runtime API)");
        let cases = vec![
            enricher::case(&cloud).await,
            firewall::collector_case(),
            firewall::executor_case(),
            control_plane::mwaa_case(&cloud).await,
            control_plane::flink_case(&cloud).await,
            sbom::trigger_case(),
            sbom::transformer_case(&cloud).await,
            audit_forwarder::case(&cloud).await,
        ];
        cold_starts(&cloud, cases).await;
    }
    if run("enricher") {
        println!("\n== pipe-avro-enricher in process, one core, schemas cached");
        enricher::throughput(&cloud).await;
    }
    if run("firewall") {
        println!("\n== firewall-rule-collector: validation + transformation, one core");
        firewall::validation();
        println!("\n== firewall-rule-executor: Network Firewall API calls for a one-rule change");
        firewall::api_calls(&cloud).await;
    }
    if run("sbom") {
        println!(
            "\n== sbom-transformer convert vs the Python baseline (json.load + pandas + pyarrow)"
        );
        sbom::conversion();
    }
    if run("event-pattern") {
        println!(
            "\n== EventBridge pattern matching in process, one core: common::event_pattern vs moto"
        );
        event_pattern::throughput();
    }
    if run("audit-forwarder") {
        println!("\n== audit-forwarder vs the API-destination path, 1 000 CloudTrail events, local REST produce API");
        audit_forwarder::throughput(&cloud).await;
    }
}
