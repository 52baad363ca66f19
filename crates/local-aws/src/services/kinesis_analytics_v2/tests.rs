use serde_json::{json, Value};

use super::KinesisAnalyticsV2;
use crate::{RequestContext, Service};

fn ctx() -> RequestContext {
    RequestContext::for_region("us-east-1")
}

fn describe(kda: &KinesisAnalyticsV2) -> Value {
    kda.handle(
        &ctx(),
        "DescribeApplication",
        json!({"ApplicationName": "app"}),
    )
    .unwrap()["ApplicationDetail"]
        .clone()
}

fn update(
    kda: &KinesisAnalyticsV2,
    guard: Value,
    parallelism: i64,
) -> Result<Value, crate::AwsError> {
    let mut input = json!({"ApplicationName": "app", "ApplicationConfigurationUpdate": {
        "FlinkApplicationConfigurationUpdate": {"ParallelismConfigurationUpdate": {
            "ConfigurationTypeUpdate": "CUSTOM", "ParallelismUpdate": parallelism,
            "ParallelismPerKPUUpdate": 2, "AutoScalingEnabledUpdate": false}}}});
    input
        .as_object_mut()
        .unwrap()
        .extend(guard.as_object().unwrap().clone());
    kda.handle(&ctx(), "UpdateApplication", input)
}

fn seeded() -> KinesisAnalyticsV2 {
    let kda = KinesisAnalyticsV2::new();
    kda.control("POST", "applications", json!({"ApplicationName": "app", "Parallelism": 4, "ParallelismPerKPU": 2, "AutoScalingEnabled": true}))
        .unwrap();
    kda
}

#[test]
fn update_bumps_version_and_token_and_stays_updating_for_two_describes() {
    let kda = seeded();
    let d = describe(&kda);
    assert_eq!(d["ApplicationVersionId"], 1);
    let token = d["ConditionalToken"].as_str().unwrap().to_string();
    let out = update(&kda, json!({"ConditionalToken": token}), 8).unwrap();
    assert_eq!(out["ApplicationDetail"]["ApplicationStatus"], "UPDATING");
    assert_eq!(out["ApplicationDetail"]["ApplicationVersionId"], 2);
    assert_ne!(out["ApplicationDetail"]["ConditionalToken"], json!(token));
    let p = "/ApplicationConfigurationDescription/FlinkApplicationConfigurationDescription/ParallelismConfigurationDescription";
    for _ in 0..2 {
        let d = describe(&kda);
        assert_eq!(d["ApplicationStatus"], "UPDATING");
        assert_eq!(d.pointer(p).unwrap()["Parallelism"], 4);
    }
    let d = describe(&kda);
    assert_eq!(d["ApplicationStatus"], "RUNNING");
    assert_eq!(d.pointer(p).unwrap()["Parallelism"], 8);
    assert_eq!(d.pointer(p).unwrap()["CurrentParallelism"], 8);
    assert_eq!(d.pointer(p).unwrap()["AutoScalingEnabled"], false);
    assert_eq!(d["ApplicationVersionUpdatedFrom"], 1);
}

#[test]
fn stale_guards_and_busy_applications_are_refused() {
    let kda = seeded();
    let old_token = describe(&kda)["ConditionalToken"]
        .as_str()
        .unwrap()
        .to_string();
    update(&kda, json!({"CurrentApplicationVersionId": 1}), 6).unwrap();
    let err = update(&kda, json!({"ConditionalToken": old_token}), 6).unwrap_err();
    assert_eq!(err.code, "ResourceInUseException", "UPDATING refuses first");
    kda.control("POST", "settle", json!({"ApplicationName": "app"}))
        .unwrap();
    let err = update(&kda, json!({"ConditionalToken": old_token}), 6).unwrap_err();
    assert_eq!(err.code, "ConcurrentModificationException");
    let err = update(&kda, json!({"CurrentApplicationVersionId": 1}), 6).unwrap_err();
    assert_eq!(err.code, "ConcurrentModificationException");
    let err = update(&kda, json!({}), 6).unwrap_err();
    assert_eq!(err.code, "InvalidRequestException");
    kda.control(
        "POST",
        "status",
        json!({"ApplicationName": "app", "ApplicationStatus": "AUTOSCALING"}),
    )
    .unwrap();
    let err = update(&kda, json!({"CurrentApplicationVersionId": 2}), 6).unwrap_err();
    assert_eq!(err.code, "ResourceInUseException");
}

#[test]
fn parallelism_is_bounded_by_the_kpu_quota() {
    let kda = seeded();
    kda.control("POST", "quota", json!({"KpuQuota": 4}))
        .unwrap();
    let err = update(&kda, json!({"CurrentApplicationVersionId": 1}), 9).unwrap_err();
    assert_eq!(err.code, "InvalidArgumentException");
    assert!(update(&kda, json!({"CurrentApplicationVersionId": 1}), 8).is_ok());
    let err = kda
        .handle(
            &ctx(),
            "DescribeApplication",
            json!({"ApplicationName": "nope"}),
        )
        .unwrap_err();
    assert_eq!(err.code, "ResourceNotFoundException");
}
