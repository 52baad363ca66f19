//! Cold-start cases of the control-plane functions: the sample events
//! against a VPC in moto and an application in local-aws.

use e2e_tests::control_plane_fixtures::*;
use e2e_tests::local_cloud::LocalCloud;
use e2e_tests::workspace::event;

use super::Case;

/// mwaa-endpoint-creator: a PENDING event, its redelivery, a reconcile.
pub async fn mwaa_case(cloud: &LocalCloud) -> Case {
    let vpc = Vpc::create(cloud).await;
    vpc.sqs_endpoint(
        &[&vpc.subnets[0]],
        &sqs_policy(&[queue_arn("OtherEnv")], false),
    )
    .await;
    let pending = status_event("BenchEnv", "PENDING", &vpc, "PRIVATE_ONLY");
    Case {
        function: "mwaa-endpoint-creator",
        env: Vec::new(),
        events: vec![
            pending.clone(),
            pending,
            event("mwaa-endpoint-creator", "reconcile"),
        ],
    }
}

/// flink-scaler: a scale-out alarm (an update), then the same alarm while
/// the application is updating.
pub async fn flink_case(cloud: &LocalCloud) -> Case {
    seed_flink_app(cloud, 4, 2).await;
    let alarm = event("flink-scaler", "scale-out-alarm");
    Case {
        function: "flink-scaler",
        env: vec![
            ("APPLICATION_NAME".into(), FLINK_APP.into()),
            ("SCALE_OUT_ALARM".into(), SCALE_OUT_ALARM.into()),
            ("SCALE_IN_ALARM".into(), SCALE_IN_ALARM.into()),
        ],
        events: vec![alarm.clone(), alarm],
    }
}
