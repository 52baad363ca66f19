//! `make bench`: per function, release `bootstrap` size, cold start (process
//! exec to its first `/next`, i.e. init done) and peak RSS after serving its
//! `events/` samples, through the local Runtime API against the local cloud.

use std::time::Duration;

use e2e_tests::local_cloud::LocalCloud;
use e2e_tests::runtime_api::FunctionProcess;
use e2e_tests::workspace::{event, function_binary};

const COLD_STARTS: usize = 20;

/// One function's benchmark setup: extra environment and the samples to serve.
struct Case {
    function: &'static str,
    env: Vec<(String, String)>,
    samples: &'static [&'static str],
}

async fn cases(cloud: &LocalCloud) -> Vec<Case> {
    cloud
        .s3()
        .await
        .create_bucket()
        .bucket("bench")
        .send()
        .await
        .expect("bucket");
    vec![Case {
        function: "hello",
        env: vec![("GREETING_BUCKET".into(), "bench".into())],
        samples: &["greeting", "invalid-name"],
    }]
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[tokio::main]
async fn main() {
    let cloud = LocalCloud::start().await.expect("local cloud");
    println!(
        "{:<28} {:>11} {:>10} {:>10} {:>10} {:>10}",
        "function", "bootstrap", "cold min", "cold p50", "cold p90", "peak RSS"
    );
    for case in cases(&cloud).await {
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
                for sample in case.samples {
                    f.invoke(&event(case.function, sample))
                        .await
                        .expect("invoke");
                }
                peak_rss = f.peak_rss_kib().unwrap_or_default();
            }
            f.shutdown().await.expect("shutdown");
        }
        inits.sort();
        println!(
            "{:<28} {:>9.2}MB {:>8.1}ms {:>8.1}ms {:>8.1}ms {:>8.1}MB",
            case.function,
            size as f64 / 1e6,
            inits[0].as_secs_f64() * 1e3,
            percentile(&inits, 0.5).as_secs_f64() * 1e3,
            percentile(&inits, 0.9).as_secs_f64() * 1e3,
            peak_rss as f64 / 1024.0,
        );
    }
}
