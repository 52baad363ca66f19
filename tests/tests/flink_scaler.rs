//! flink-scaler end to end: the shipped binary under the local Runtime API,
//! Kinesis Analytics v2 in local-aws (version ids, conditional tokens,
//! UPDATING after an update, ResourceInUseException while busy).

use e2e_tests::control_plane_fixtures::*;
use e2e_tests::local_cloud::LocalCloud;
use e2e_tests::runtime_api::{FunctionProcess, InvocationOutcome};
use e2e_tests::workspace::event;
use serde_json::{json, Value};

fn success(outcome: InvocationOutcome) -> Value {
    match outcome.success() {
        Some(v) => v.clone(),
        None => panic!("invocation failed: {:?}", outcome.error()),
    }
}

async fn scaler(
    cloud: &LocalCloud,
    operation: &str,
    out: &str,
    inn: &str,
    min: &str,
    max: &str,
) -> FunctionProcess {
    flink_function(
        cloud,
        &[
            ("APPLICATION_NAME", FLINK_APP),
            ("SCALE_OUT_ALARM", SCALE_OUT_ALARM),
            ("SCALE_IN_ALARM", SCALE_IN_ALARM),
            ("SCALE_OPERATION", operation),
            ("SCALE_OUT_FACTOR", out),
            ("SCALE_IN_FACTOR", inn),
            ("MIN_KPU", min),
            ("MAX_KPU", max),
            ("UPDATE_ATTEMPTS", "3"),
        ],
    )
    .await
}

async fn settle(cloud: &LocalCloud) {
    control(
        cloud,
        "kinesis-analytics-v2/settle",
        &json!({"ApplicationName": FLINK_APP}),
    )
    .await;
}

/// (action, fromKpu, targetKpu) of an output.
fn summary(out: &Value) -> (String, u64, u64) {
    (
        out["action"].as_str().unwrap().to_string(),
        out["fromKpu"].as_u64().unwrap(),
        out["targetKpu"].as_u64().unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn capacity_table_through_the_api_with_ppk_above_one_and_multiply_divide() {
    let cloud = LocalCloud::start().await.unwrap();
    // Parallelism 4 at 2 per KPU = 2 KPU; service autoscaling on.
    control(
        &cloud,
        "kinesis-analytics-v2/applications",
        &json!({"ApplicationName": FLINK_APP, "Parallelism": 4, "ParallelismPerKPU": 2, "AutoScalingEnabled": true}),
    )
    .await;
    let f = scaler(&cloud, "Multiply/Divide", "2", "2", "1", "6").await;
    let out_alarm = event("flink-scaler", "scale-out-alarm");

    let out = success(f.invoke(&out_alarm).await.unwrap());
    assert_eq!(summary(&out), ("scaled".into(), 2, 4));
    let (status, p) = flink_parallelism(&cloud).await;
    assert_eq!(status, "UPDATING");
    settle(&cloud).await;
    let (status, p2) = flink_parallelism(&cloud).await;
    assert_eq!(status, "RUNNING");
    assert_eq!(
        (p2["Parallelism"].clone(), p2["ParallelismPerKPU"].clone()),
        (json!(8), json!(2))
    );
    assert_eq!(
        p2["AutoScalingEnabled"], false,
        "the scaler turns service autoscaling off"
    );
    assert_ne!(p, p2);

    // 4 KPU x 2 = 8 > max 6: clamped to 6 KPU (parallelism 12), still "scaled".
    let out = success(f.invoke(&out_alarm).await.unwrap());
    assert_eq!(summary(&out), ("scaled".into(), 4, 6));
    assert_eq!(out["clamped"], true);
    settle(&cloud).await;
    assert_eq!(flink_parallelism(&cloud).await.1["Parallelism"], 12);
    // At the maximum: no update.
    let out = success(f.invoke(&out_alarm).await.unwrap());
    assert_eq!(summary(&out), ("at_limit".into(), 6, 6));
    assert_eq!(flink_parallelism(&cloud).await.0, "RUNNING");

    // Scale in: 6 / 2 = 3 KPU = parallelism 6.
    let out = success(
        f.invoke(&event("flink-scaler", "scale-in-alarm"))
            .await
            .unwrap(),
    );
    assert_eq!(summary(&out), ("scaled".into(), 6, 3));
    settle(&cloud).await;
    assert_eq!(flink_parallelism(&cloud).await.1["Parallelism"], 6);
}

#[tokio::test(flavor = "multi_thread")]
async fn capacity_table_with_ppk_one_and_add_subtract_down_to_the_minimum() {
    let cloud = LocalCloud::start().await.unwrap();
    seed_flink_app(&cloud, 5, 1).await;
    let f = scaler(&cloud, "Add/Subtract", "3", "2", "2", "10").await;
    let in_alarm = event("flink-scaler", "scale-in-alarm");
    let mut steps = Vec::new();
    for _ in 0..3 {
        let out = success(f.invoke(&in_alarm).await.unwrap());
        steps.push(summary(&out));
        settle(&cloud).await;
    }
    assert_eq!(
        steps,
        [
            ("scaled".into(), 5, 3),
            ("scaled".into(), 3, 2),
            ("at_limit".into(), 2, 2)
        ]
    );
    let out = success(
        f.invoke(&event("flink-scaler", "scale-out-alarm"))
            .await
            .unwrap(),
    );
    assert_eq!(summary(&out), ("scaled".into(), 2, 5));
    settle(&cloud).await;
    assert_eq!(flink_parallelism(&cloud).await.1["Parallelism"], 5);
}

#[tokio::test(flavor = "multi_thread")]
async fn direction_comes_from_the_exact_alarm_name() {
    let cloud = LocalCloud::start().await.unwrap();
    seed_flink_app(&cloud, 4, 1).await;
    // An application called "ScaleOutJob": its scale-in alarm contains
    // "ScaleOut", which the sample's substring test took for a scale-out.
    let f = flink_function(
        &cloud,
        &[
            ("APPLICATION_NAME", FLINK_APP),
            ("SCALE_OUT_ALARM", "ScaleOutAlarm-ScaleOutJob"),
            ("SCALE_IN_ALARM", "ScaleInAlarm-ScaleOutJob"),
        ],
    )
    .await;
    let mut alarm = event("flink-scaler", "scale-in-alarm");
    alarm["detail"]["alarmName"] = json!("ScaleInAlarm-ScaleOutJob");
    alarm["resources"] =
        json!(["arn:aws:cloudwatch:us-east-1:123456789012:alarm:ScaleInAlarm-ScaleOutJob"]);
    let out = success(f.invoke(&alarm).await.unwrap());
    assert_eq!(
        (summary(&out), out["direction"].clone()),
        (("scaled".into(), 4, 2), json!("in"))
    );

    // An alarm that is not configured is rejected, never guessed.
    alarm["detail"]["alarmName"] = json!("ScaleOutAlarm-ScaleOutJob-2");
    alarm["resources"] = json!([]);
    let outcome = f.invoke(&alarm).await.unwrap();
    assert_eq!(outcome.error().unwrap().0, "UnknownAlarm");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stale_token_race_is_retried_with_a_fresh_describe() {
    let cloud = LocalCloud::start().await.unwrap();
    seed_flink_app(&cloud, 2, 1).await;
    let f = scaler(&cloud, "Multiply/Divide", "2", "2", "1", "10").await;
    // Another writer updates between the function's describe and update:
    // local-aws answers the next UpdateApplication as the service does.
    control(
        &cloud,
        "faults",
        &json!({"service": "kinesis-analytics-v2", "operation": "UpdateApplication", "count": 1,
                "error": {"code": "ConcurrentModificationException", "status": 400, "message": "stale token"}}),
    )
    .await;
    let out = success(
        f.invoke(&event("flink-scaler", "scale-out-alarm"))
            .await
            .unwrap(),
    );
    assert_eq!(summary(&out), ("scaled".into(), 2, 4));
    let log: Vec<Value> = reqwest::get(format!("{}/_local-aws/requests", cloud.local_aws.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let calls: Vec<(&str, Option<&str>)> = log
        .iter()
        .map(|r| (r["operation"].as_str().unwrap(), r["error"].as_str()))
        .collect();
    assert_eq!(
        calls,
        [
            ("DescribeApplication", None),
            ("UpdateApplication", Some("ConcurrentModificationException")),
            ("DescribeApplication", None),
            ("UpdateApplication", None),
        ]
    );
    // Every update carried the ConditionalToken, not a version id.
    for update in log.iter().filter(|r| r["operation"] == "UpdateApplication") {
        assert!(update["input"]["ConditionalToken"].is_string(), "{update}");
        assert!(update["input"].get("CurrentApplicationVersionId").is_none());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_updating_application_is_left_alone_and_a_persistent_resource_in_use_is_reported() {
    let cloud = LocalCloud::start().await.unwrap();
    seed_flink_app(&cloud, 2, 1).await;
    let f = scaler(&cloud, "Multiply/Divide", "2", "2", "1", "10").await;
    let alarm = event("flink-scaler", "scale-out-alarm");
    success(f.invoke(&alarm).await.unwrap());
    // Still UPDATING for the next describes: the state machine waits.
    let out = success(f.invoke(&alarm).await.unwrap());
    assert_eq!(out["action"], "not_running");
    assert_eq!(out["applicationStatus"], "UPDATING");
    // A schedule fails (retryable) so EventBridge Scheduler retries it.
    let outcome = f
        .invoke(&event("flink-scaler", "schedule-scale-up"))
        .await
        .unwrap();
    assert_eq!(outcome.error().unwrap().0, "ApplicationBusy");
    settle(&cloud).await;

    // Busy at update time on every attempt: reported after the bounded retries.
    control(
        &cloud,
        "faults",
        &json!({"service": "kinesis-analytics-v2", "operation": "UpdateApplication", "count": 3,
                "error": {"code": "ResourceInUseException", "status": 400, "message": "busy"}}),
    )
    .await;
    let outcome = f.invoke(&alarm).await.unwrap();
    let (kind, message) = outcome.error().unwrap();
    assert_eq!(kind, "ResourceInUseException");
    assert!(
        message.contains("after 3 describe-and-update attempts"),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_window_across_midnight_sets_each_target_when_its_schedule_fires() {
    let cloud = LocalCloud::start().await.unwrap();
    seed_flink_app(&cloud, 4, 2).await;
    let f = scaler(&cloud, "Multiply/Divide", "2", "2", "1", "10").await;
    // The template's schedules fire 22:00 (up) then 06:00 (down) local time:
    // each payload carries its target, so the clock never enters the decision.
    let up = success(
        f.invoke(&event("flink-scaler", "schedule-scale-up"))
            .await
            .unwrap(),
    );
    assert_eq!(summary(&up), ("scaled".into(), 2, 8));
    settle(&cloud).await;
    assert_eq!(
        flink_parallelism(&cloud).await.1["Parallelism"],
        16,
        "8 KPU x PPK 2"
    );
    // Redelivered: nothing to do.
    let again = success(
        f.invoke(&event("flink-scaler", "schedule-scale-up"))
            .await
            .unwrap(),
    );
    assert_eq!(summary(&again), ("noop".into(), 8, 8));
    let down = success(
        f.invoke(&event("flink-scaler", "schedule-scale-down"))
            .await
            .unwrap(),
    );
    assert_eq!(summary(&down), ("scaled".into(), 8, 2));
    settle(&cloud).await;
    let (_, p) = flink_parallelism(&cloud).await;
    assert_eq!(
        (p["Parallelism"].clone(), p["ParallelismPerKPU"].clone()),
        (json!(4), json!(2))
    );
}
