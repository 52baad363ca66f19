//! mwaa-endpoint-creator end to end: the shipped binary under the local
//! Runtime API, EC2 (VPC, subnets, endpoints, policies) in moto, MWAA in
//! local-aws.

use e2e_tests::control_plane_fixtures::*;
use e2e_tests::local_cloud::LocalCloud;
use e2e_tests::workspace::event;
use serde_json::{json, Value};

const ENV: &str = "MyAirflowEnv";

fn env_arn(name: &str) -> String {
    format!("arn:aws:airflow:us-east-1:123456789012:environment/{name}")
}

fn success(outcome: e2e_tests::runtime_api::InvocationOutcome) -> Value {
    match outcome.success() {
        Some(v) => v.clone(),
        None => panic!("invocation failed: {:?}", outcome.error()),
    }
}

fn services(endpoints: &[EndpointRow]) -> Vec<&str> {
    endpoints.iter().map(|e| e.1.as_str()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn pending_creates_exactly_the_endpoints_and_policy_entry_and_a_redelivery_nothing_more() {
    let cloud = LocalCloud::start().await.unwrap();
    let vpc = Vpc::create(&cloud).await;
    let other = queue_arn("OtherEnv");
    // The SQS endpoint serves only the second subnet: the sample's bug
    // (checking the first subnet twice) would miss it.
    let sqs = vpc
        .sqs_endpoint(
            &[&vpc.subnets[1]],
            &sqs_policy(std::slice::from_ref(&other), false),
        )
        .await;
    let f = mwaa_function(&cloud, &[]).await;
    let pending = status_event(ENV, "PENDING", &vpc, "PRIVATE_ONLY");

    let out = success(f.invoke(&pending).await.unwrap());
    let report = &out["environments"][0];
    assert_eq!(report["action"], "ensured");
    assert_eq!(report["vpcId"], json!(vpc.vpc_id));
    assert_eq!(report["sqsEndpoint"], json!(sqs));
    assert_eq!(report["policy"], "queue added");
    let outcomes: Vec<(&str, &str)> = report["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["role"].as_str().unwrap(), e["outcome"].as_str().unwrap()))
        .collect();
    assert_eq!(
        outcomes,
        [("database", "created"), ("webserver", "created")]
    );

    let endpoints = vpc.live_endpoints().await;
    assert_eq!(
        services(&endpoints),
        [SQS_SERVICE, DATABASE_SERVICE, WEBSERVER_SERVICE]
    );
    let db_tags = &endpoints[1].2;
    assert!(
        db_tags.contains(&("mwaa:environment".into(), env_arn(ENV))),
        "{db_tags:?}"
    );
    assert!(
        db_tags.contains(&("Name".into(), format!("{ENV}-database"))),
        "{db_tags:?}"
    );
    assert!(endpoints[2]
        .2
        .contains(&("mwaa:endpoint".into(), "webserver".into())));
    let policy = vpc.policy(&sqs).await;
    assert_eq!(
        policy["Statement"][0]["Resource"],
        json!([other, queue_arn(ENV)])
    );

    // Redelivered (EventBridge is at-least-once): nothing new anywhere.
    let again = success(f.invoke(&pending).await.unwrap());
    let report = &again["environments"][0];
    assert_eq!(report["policy"], "the queue is already in the policy");
    assert!(report["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["outcome"] == "existing"));
    assert_eq!(vpc.live_endpoints().await, endpoints);
    assert_eq!(vpc.policy(&sqs).await, policy);
}

#[tokio::test(flavor = "multi_thread")]
async fn string_resource_becomes_a_list_and_a_public_web_server_gets_no_endpoint() {
    let cloud = LocalCloud::start().await.unwrap();
    let vpc = Vpc::create(&cloud).await;
    let other = queue_arn("OtherEnv");
    let sqs = vpc
        .sqs_endpoint(
            &[&vpc.subnets[0]],
            &sqs_policy(std::slice::from_ref(&other), true),
        )
        .await;
    let f = mwaa_function(&cloud, &[]).await;
    let mut pending = status_event(ENV, "PENDING", &vpc, "PUBLIC_ONLY");
    pending["detail"]
        .as_object_mut()
        .unwrap()
        .remove("webserverVpcEndpointService");
    success(f.invoke(&pending).await.unwrap());
    assert_eq!(
        services(&vpc.live_endpoints().await),
        [SQS_SERVICE, DATABASE_SERVICE]
    );
    assert_eq!(
        vpc.policy(&sqs).await["Statement"][0]["Resource"],
        json!([other, queue_arn(ENV)])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_access_policy_is_left_alone() {
    let cloud = LocalCloud::start().await.unwrap();
    let vpc = Vpc::create(&cloud).await;
    let full = json!({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]});
    let sqs = vpc
        .sqs_endpoint(&[&vpc.subnets[0], &vpc.subnets[1]], &full)
        .await;
    let f = mwaa_function(&cloud, &[]).await;
    let out = success(
        f.invoke(&status_event(ENV, "PENDING", &vpc, "PRIVATE_ONLY"))
            .await
            .unwrap(),
    );
    assert_eq!(
        out["environments"][0]["policy"],
        "an Allow statement already covers every resource (*)"
    );
    assert_eq!(vpc.policy(&sqs).await, full);
}

#[tokio::test(flavor = "multi_thread")]
async fn deleted_removes_the_tagged_endpoints_and_the_queue_and_nothing_else() {
    let cloud = LocalCloud::start().await.unwrap();
    let vpc = Vpc::create(&cloud).await;
    let other = queue_arn("OtherEnv");
    let sqs = vpc
        .sqs_endpoint(
            &[&vpc.subnets[0]],
            &sqs_policy(std::slice::from_ref(&other), false),
        )
        .await;
    let f = mwaa_function(&cloud, &[]).await;
    success(
        f.invoke(&status_event(ENV, "PENDING", &vpc, "PRIVATE_ONLY"))
            .await
            .unwrap(),
    );
    assert_eq!(vpc.live_endpoints().await.len(), 3);

    let out = success(
        f.invoke(&status_event(ENV, "DELETED", &vpc, "PRIVATE_ONLY"))
            .await
            .unwrap(),
    );
    let report = &out["environments"][0];
    assert_eq!(report["action"], "cleaned_up");
    assert_eq!(report["deletedEndpoints"].as_array().unwrap().len(), 2);
    assert_eq!(services(&vpc.live_endpoints().await), [SQS_SERVICE]);
    assert_eq!(
        vpc.policy(&sqs).await["Statement"][0]["Resource"],
        json!([other])
    );

    // DELETING then DELETED both arrive: the second finds nothing to do.
    let out = success(
        f.invoke(&status_event(ENV, "DELETED", &vpc, "PRIVATE_ONLY"))
            .await
            .unwrap(),
    );
    assert_eq!(out["environments"][0]["deletedEndpoints"], Value::Null);
    assert_eq!(
        out["environments"][0]["policy"],
        "queue not in any SQS endpoint policy"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn reconcile_finishes_a_pending_environment_whose_event_was_lost() {
    let cloud = LocalCloud::start().await.unwrap();
    let vpc = Vpc::create(&cloud).await;
    let sqs = vpc
        .sqs_endpoint(
            &[&vpc.subnets[0]],
            &sqs_policy(&[queue_arn("OtherEnv")], false),
        )
        .await;
    control(
        &cloud,
        "mwaa/environments",
        &environment("LostEvent", "PENDING", &vpc),
    )
    .await;
    control(
        &cloud,
        "mwaa/environments",
        &environment("Running", "AVAILABLE", &vpc),
    )
    .await;
    let mut service_managed = environment("ServiceManaged", "PENDING", &vpc);
    service_managed["EndpointManagement"] = json!("SERVICE");
    control(&cloud, "mwaa/environments", &service_managed).await;

    let f = mwaa_function(&cloud, &[]).await;
    let out = success(
        f.invoke(&event("mwaa-endpoint-creator", "reconcile"))
            .await
            .unwrap(),
    );
    let reports = out["environments"].as_array().unwrap();
    assert_eq!(reports.len(), 1, "{out}");
    assert_eq!(reports[0]["environment"], "LostEvent");
    assert_eq!(
        services(&vpc.live_endpoints().await),
        [SQS_SERVICE, DATABASE_SERVICE, WEBSERVER_SERVICE]
    );
    let resources = vpc.policy(&sqs).await["Statement"][0]["Resource"].clone();
    assert!(
        resources
            .as_array()
            .unwrap()
            .contains(&json!(queue_arn("LostEvent"))),
        "{resources}"
    );

    // The next reconcile run changes nothing.
    let out = success(
        f.invoke(&event("mwaa-endpoint-creator", "reconcile"))
            .await
            .unwrap(),
    );
    assert!(out["environments"][0]["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["outcome"] == "existing"));
    assert_eq!(vpc.live_endpoints().await.len(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_fields_and_a_missing_sqs_endpoint_fail_before_anything_is_created() {
    let cloud = LocalCloud::start().await.unwrap();
    let vpc = Vpc::create(&cloud).await;
    let f = mwaa_function(&cloud, &[]).await;
    let good = status_event(ENV, "PENDING", &vpc, "PRIVATE_ONLY");

    let cases: [(&str, Value, &str); 4] = [
        (
            "databaseVpcEndpointService",
            json!("com.amazonaws.vpce.us-east-1.evil"),
            "databaseVpcEndpointService: ",
        ),
        (
            "celeryExecutorQueue",
            json!("arn:aws:sqs:eu-west-1:123456789012:q"),
            "celeryExecutorQueue: ",
        ),
        (
            "networkConfiguration",
            json!({"subnetIds": ["subnet-1", vpc.subnets[1]], "securityGroupIds": ["sg-x"]}),
            "subnetIds[0]: ",
        ),
        (
            "webserverAccessMode",
            json!("PUBLIC_AND_PRIVATE"),
            "webserverAccessMode",
        ),
    ];
    for (field, value, needle) in cases {
        let mut bad = good.clone();
        bad["detail"][field] = value;
        let outcome = f.invoke(&bad).await.unwrap();
        let (kind, message) = outcome
            .error()
            .unwrap_or_else(|| panic!("{field} accepted"));
        assert_eq!(kind, "InvalidEvent", "{field}");
        assert!(message.contains(needle), "{field}: {message}");
    }
    let mut not_mwaa = good.clone();
    not_mwaa["detail-type"] = json!("EC2 Instance State-change Notification");
    assert_eq!(
        f.invoke(&not_mwaa).await.unwrap().error().unwrap().0,
        "InvalidEvent"
    );

    // Valid event, but no SQS endpoint in the VPC: a clear failure, no endpoint created.
    let outcome = f.invoke(&good).await.unwrap();
    let (kind, message) = outcome.error().unwrap();
    assert_eq!(kind, "NoSqsEndpoint");
    assert!(
        message.contains(&vpc.subnets[0]) && message.contains(&vpc.subnets[1]),
        "{message}"
    );
    assert!(vpc.live_endpoints().await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn other_statuses_are_ignored_with_a_log_line() {
    let cloud = LocalCloud::start().await.unwrap();
    let vpc = Vpc::create(&cloud).await;
    let f = mwaa_function(&cloud, &[]).await;
    let out = success(
        f.invoke(&status_event(ENV, "AVAILABLE", &vpc, "PRIVATE_ONLY"))
            .await
            .unwrap(),
    );
    assert_eq!(out["environments"][0]["action"], "ignored");
    assert!(vpc.live_endpoints().await.is_empty());
    assert!(f.json_logs().iter().any(|l| l["message"]
        .as_str()
        .is_some_and(|m| m.contains("needs no endpoint work"))));
}

#[tokio::test(flavor = "multi_thread")]
async fn reconcile_pages_through_every_environment() {
    let cloud = LocalCloud::start().await.unwrap();
    let vpc = Vpc::create(&cloud).await;
    vpc.sqs_endpoint(
        &[&vpc.subnets[0]],
        &sqs_policy(&[queue_arn("OtherEnv")], false),
    )
    .await;
    for i in 0..27 {
        control(
            &cloud,
            "mwaa/environments",
            &environment(&format!("Env{i:02}"), "AVAILABLE", &vpc),
        )
        .await;
    }
    // Sorts after the 25 names of the first page.
    control(
        &cloud,
        "mwaa/environments",
        &environment("Pending", "PENDING", &vpc),
    )
    .await;
    let f = mwaa_function(&cloud, &[]).await;
    let out = success(
        f.invoke(&event("mwaa-endpoint-creator", "reconcile"))
            .await
            .unwrap(),
    );
    assert_eq!(out["environments"][0]["environment"], "Pending", "{out}");
    let log: Vec<Value> = reqwest::get(format!("{}/_local-aws/requests", cloud.local_aws.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let count = |op: &str| log.iter().filter(|r| r["operation"] == op).count();
    assert_eq!(
        (count("ListEnvironments"), count("GetEnvironment")),
        (2, 28)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_vpc_owned_by_another_account_is_worked_on_through_the_configured_role() {
    let cloud = LocalCloud::start().await.unwrap();
    let role = "arn:aws:iam::111122223333:role/mwaa-vpc-owner";
    let owner = common::aws::CrossAccount::new(cloud.moto_config().await, "test")
        .config_for(role, Some("ext-7"))
        .await
        .unwrap();
    let vpc = Vpc::create_with(&owner).await;
    let sqs = vpc
        .sqs_endpoint(
            &[&vpc.subnets[0]],
            &sqs_policy(&[queue_arn("OtherEnv")], false),
        )
        .await;
    let f = mwaa_function(
        &cloud,
        &[("EC2_ROLE_ARN", role), ("EC2_EXTERNAL_ID", "ext-7")],
    )
    .await;
    success(
        f.invoke(&status_event(ENV, "PENDING", &vpc, "PRIVATE_ONLY"))
            .await
            .unwrap(),
    );
    // Created in the owner's account (moto keeps accounts apart)...
    assert_eq!(
        services(&vpc.live_endpoints().await),
        [SQS_SERVICE, DATABASE_SERVICE, WEBSERVER_SERVICE]
    );
    let resources = vpc.policy(&sqs).await["Statement"][0]["Resource"].clone();
    assert_eq!(resources, json!([queue_arn("OtherEnv"), queue_arn(ENV)]));
    // ...and nothing in the function's own account.
    let own = aws_sdk_ec2::Client::new(&cloud.moto_config().await);
    let mine = own.describe_vpc_endpoints().send().await.unwrap();
    assert!(mine.vpc_endpoints().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn one_bad_environment_does_not_stop_the_reconcile_but_fails_it() {
    let cloud = LocalCloud::start().await.unwrap();
    let vpc = Vpc::create(&cloud).await;
    vpc.sqs_endpoint(
        &[&vpc.subnets[0]],
        &sqs_policy(&[queue_arn("OtherEnv")], false),
    )
    .await;
    let mut bad = environment("Broken", "PENDING", &vpc);
    bad["DatabaseVpcEndpointService"] = json!("com.amazonaws.vpce.us-east-1.not-a-service");
    control(&cloud, "mwaa/environments", &bad).await;
    control(
        &cloud,
        "mwaa/environments",
        &environment("Good", "PENDING", &vpc),
    )
    .await;
    let f = mwaa_function(&cloud, &[]).await;
    let outcome = f
        .invoke(&event("mwaa-endpoint-creator", "reconcile"))
        .await
        .unwrap();
    let (kind, message) = outcome
        .error()
        .expect("the reconcile reports the broken environment");
    assert_eq!(kind, "InvalidEnvironment");
    assert!(
        message.starts_with("environment Broken: databaseVpcEndpointService"),
        "{message}"
    );
    // "Good" sorts after "Broken" and was still done.
    assert_eq!(
        services(&vpc.live_endpoints().await),
        [SQS_SERVICE, DATABASE_SERVICE, WEBSERVER_SERVICE]
    );
}
