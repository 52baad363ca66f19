//! The control-plane act: an MWAA environment goes PENDING and its endpoints
//! appear; the event again creates nothing; a scale-out alarm and a
//! scheduled change set a Flink application's KPUs.

use e2e_tests::control_plane_fixtures::*;
use e2e_tests::demo::Demo;
use e2e_tests::local_cloud::LocalCloud;
use e2e_tests::runtime_api::FunctionProcess;
use e2e_tests::workspace::event;
use serde_json::{json, Value};

async fn invoke(f: &FunctionProcess, event: &Value) -> Result<Value, String> {
    let outcome = f.invoke(event).await.map_err(|e| e.to_string())?;
    match (outcome.success(), outcome.error()) {
        (Some(v), _) => Ok(v.clone()),
        (_, Some((kind, message))) => Err(format!("{kind}: {message}")),
        _ => Err("no outcome".into()),
    }
}

fn endpoint_list(endpoints: &[EndpointRow]) -> String {
    endpoints
        .iter()
        .map(|(id, service, _)| format!("{id} {}", service.rsplit('.').next().unwrap_or_default()))
        .collect::<Vec<_>>()
        .join(", ")
}

async fn kpu(cloud: &LocalCloud) -> String {
    let (status, p) = flink_parallelism(cloud).await;
    let parallelism = p["Parallelism"].as_u64().unwrap_or(0);
    let ppk = p["ParallelismPerKPU"].as_u64().unwrap_or(1).max(1);
    format!(
        "{} KPU (parallelism {parallelism}, {ppk} per KPU, {status})",
        parallelism.div_ceil(ppk)
    )
}

pub async fn act(demo: &mut Demo, cloud: &LocalCloud) {
    demo.act("mwaa-endpoint-creator: PENDING environment, customer-managed endpoints");
    let vpc = Vpc::create(cloud).await;
    let sqs = vpc
        .sqs_endpoint(
            &[&vpc.subnets[1]],
            &sqs_policy(&[queue_arn("OtherEnv")], true),
        )
        .await;
    let mwaa = mwaa_function(cloud, &[]).await;
    let pending = status_event("DemoEnv", "PENDING", &vpc, "PRIVATE_ONLY");
    demo.step(
        "MWAA Environment Status Change: PENDING",
        invoke(&mwaa, &pending),
        |out| {
            format!(
                "{} endpoint(s), policy: {}",
                out["environments"][0]["endpoints"]
                    .as_array()
                    .map_or(0, Vec::len),
                out["environments"][0]["policy"]
            )
        },
    )
    .await;
    let before = vpc.live_endpoints().await;
    println!(
        "        endpoints in {}: {}",
        vpc.vpc_id,
        endpoint_list(&before)
    );
    println!(
        "        SQS endpoint {sqs} policy Resource: {}",
        vpc.policy(&sqs).await["Statement"][0]["Resource"]
    );
    demo.step(
        "the same event again (redelivery)",
        invoke(&mwaa, &pending),
        |_| String::new(),
    )
    .await;
    let after = vpc.live_endpoints().await;
    println!(
        "        endpoints: {} before, {} after: {}",
        before.len(),
        after.len(),
        if before == after {
            "nothing new"
        } else {
            "CHANGED"
        }
    );

    demo.act("flink-scaler: scale-out alarm, then a scheduled change");
    seed_flink_app(cloud, 4, 2).await;
    let flink = flink_function(
        cloud,
        &[
            ("APPLICATION_NAME", FLINK_APP),
            ("SCALE_OUT_ALARM", SCALE_OUT_ALARM),
            ("SCALE_IN_ALARM", SCALE_IN_ALARM),
        ],
    )
    .await;
    println!("        before: {}", kpu(cloud).await);
    demo.step(
        "CloudWatch Alarm State Change: scale-out ALARM",
        invoke(&flink, &event("flink-scaler", "scale-out-alarm")),
        |o| format!("{} {} -> {} KPU", o["action"], o["fromKpu"], o["targetKpu"]),
    )
    .await;
    control(
        cloud,
        "kinesis-analytics-v2/settle",
        &json!({"ApplicationName": FLINK_APP}),
    )
    .await;
    println!("        after:  {}", kpu(cloud).await);
    demo.step(
        "EventBridge Scheduler payload {\"targetKpu\": 8}",
        invoke(&flink, &event("flink-scaler", "schedule-scale-up")),
        |o| format!("{} {} -> {} KPU", o["action"], o["fromKpu"], o["targetKpu"]),
    )
    .await;
    control(
        cloud,
        "kinesis-analytics-v2/settle",
        &json!({"ApplicationName": FLINK_APP}),
    )
    .await;
    println!("        now:    {}", kpu(cloud).await);
}
