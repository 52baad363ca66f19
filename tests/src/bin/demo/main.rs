//! `make demo`: the project's functions run end to end, as shipped binaries
//! under a local Lambda Runtime API, against the local cloud; then a summary
//! of what they did there.

mod local_aws;
mod pipe_avro_enricher;

mod firewall;

mod control_plane;

mod sbom;

mod audit;

mod audit_forwarder;

use e2e_tests::demo::Demo;
use e2e_tests::local_cloud::LocalCloud;

#[tokio::main]
async fn main() {
    let mut demo = Demo::default();
    demo.act("local cloud");
    let Some(cloud) = demo
        .step(
            "start moto server and local-aws on free loopback ports",
            LocalCloud::start(),
            |c| format!("moto {}  local-aws {}", c.moto.url, c.local_aws.url),
        )
        .await
    else {
        std::process::exit(demo.finish());
    };

    pipe_avro_enricher::act(&mut demo, &cloud).await;
    local_aws::act(&mut demo, &cloud).await;

    firewall::act(&mut demo, &cloud).await;

    control_plane::act(&mut demo, &cloud).await;

    sbom::act(&mut demo, &cloud).await;

    audit::act(&mut demo, &cloud).await;

    audit_forwarder::act(&mut demo, &cloud).await;

    demo.act("what happened in the local cloud");
    summary(&cloud).await;
    // process::exit skips destructors: stop the servers first.
    drop(cloud);
    std::process::exit(demo.finish());
}

async fn summary(cloud: &LocalCloud) {
    let s3 = cloud.s3().await;
    if let Ok(buckets) = s3.list_buckets().send().await {
        for bucket in buckets.buckets() {
            let name = bucket.name().unwrap_or_default();
            let objects = s3.list_objects_v2().bucket(name).send().await;
            for o in objects.iter().flat_map(|o| o.contents()) {
                println!(
                    "  moto       s3://{name}/{} ({} bytes)",
                    o.key().unwrap_or_default(),
                    o.size().unwrap_or_default()
                );
            }
        }
    }
    let log: serde_json::Value =
        match reqwest::get(format!("{}/_local-aws/requests", cloud.local_aws.url)).await {
            Ok(r) => r.json().await.unwrap_or_default(),
            Err(_) => serde_json::Value::Null,
        };
    for entry in log.as_array().into_iter().flatten() {
        println!(
            "  local-aws  {} {} -> {}{}",
            entry["service"].as_str().unwrap_or_default(),
            entry["operation"].as_str().unwrap_or_default(),
            entry["status"],
            entry["error"]
                .as_str()
                .map(|e| format!(" {e}"))
                .unwrap_or_default()
        );
    }
}
