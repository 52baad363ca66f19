//! The `/_local-aws/` control API: faults, latency, reset and the request
//! log, observed through the real Network Firewall SDK client.

mod common;

use std::time::{Duration, Instant};

use aws_config::retry::RetryConfig;
use aws_sdk_networkfirewall::operation::describe_rule_group::DescribeRuleGroupError;
use aws_sdk_networkfirewall::operation::update_rule_group::UpdateRuleGroupError;
use aws_sdk_networkfirewall::types::RuleGroupType;
use aws_sdk_networkfirewall::Client;
use common::{control_post, create_stateful, nf_client, request_log, start_nf};
use serde_json::{json, Value};

const RULES: &str = "pass tcp any any -> any 443 (sid:1;)";

async fn create(client: &Client, name: &str) -> (String, String) {
    create_stateful(client, name, 10, RULES).await
}

async fn update(client: &Client, arn: &str, token: &str) -> Result<String, UpdateRuleGroupError> {
    client
        .update_rule_group()
        .rule_group_arn(arn)
        .update_token(token)
        .rules(RULES)
        .send()
        .await
        .map(|out| out.update_token().to_owned())
        .map_err(|e| e.into_service_error())
}

fn throttle_fault(count: u32) -> Value {
    json!({"service": "network-firewall", "operation": "UpdateRuleGroup", "count": count,
           "error": {"code": "ThrottlingException", "status": 400, "message": "Rate exceeded"}})
}

fn calls_of<'a>(log: &'a [Value], operation: &str) -> Vec<&'a Value> {
    log.iter().filter(|r| r["operation"] == operation).collect()
}

#[tokio::test]
async fn throttling_fault_fails_exactly_the_next_n_calls() {
    let (aws, client) = start_nf().await;
    let (arn, token) = create(&client, "throttled").await;
    let (status, body) = control_post(&aws.url, "faults", &throttle_fault(2)).await;
    assert_eq!(status, 200, "{body}");

    for _ in 0..2 {
        let err = update(&client, &arn, &token).await.unwrap_err();
        assert!(
            matches!(err, UpdateRuleGroupError::ThrottlingException(_)),
            "{err:?}"
        );
        assert!(err.to_string().contains("Rate exceeded"), "{err}");
    }
    // Other operations were never affected.
    client
        .describe_rule_group()
        .rule_group_arn(&arn)
        .send()
        .await
        .unwrap();
    // The throttled calls did not run: the original token is still current.
    update(&client, &arn, &token)
        .await
        .expect("third call succeeds");

    let log = request_log(&aws.url).await;
    let updates: Vec<_> = calls_of(&log, "UpdateRuleGroup")
        .iter()
        .map(|r| (r["status"].clone(), r["error"].clone()))
        .collect();
    assert_eq!(
        updates,
        [
            (json!(400), json!("ThrottlingException")),
            (json!(400), json!("ThrottlingException")),
            (json!(200), Value::Null),
        ]
    );
}

#[tokio::test]
async fn sdk_retries_throttling_and_the_log_shows_every_attempt() {
    let (aws, _) = start_nf().await;
    let retrying = RetryConfig::standard()
        .with_max_attempts(3)
        .with_initial_backoff(Duration::from_millis(1))
        .with_max_backoff(Duration::from_millis(5));
    let client = nf_client(&aws.url, "eu-west-1", retrying).await;
    let (arn, token) = create(&client, "retried").await;
    control_post(&aws.url, "faults", &throttle_fault(2)).await;

    update(&client, &arn, &token)
        .await
        .expect("third attempt succeeds");

    let log = request_log(&aws.url).await;
    let statuses: Vec<_> = calls_of(&log, "UpdateRuleGroup")
        .iter()
        .map(|r| r["status"].clone())
        .collect();
    assert_eq!(
        statuses,
        [json!(400), json!(400), json!(200)],
        "two throttled attempts, then success"
    );
}

#[tokio::test]
async fn latency_fault_delays_then_performs_the_call() {
    let (aws, client) = start_nf().await;
    let (arn, _) = create(&client, "slow").await;
    let fault = json!({"service": "network-firewall", "operation": "DescribeRuleGroup",
                       "count": 1, "latency_ms": 400});
    assert_eq!(control_post(&aws.url, "faults", &fault).await.0, 200);

    let started = Instant::now();
    let out = client
        .describe_rule_group()
        .rule_group_arn(&arn)
        .send()
        .await
        .unwrap();
    let slow = started.elapsed();
    assert!(slow >= Duration::from_millis(400), "took {slow:?}");
    assert_eq!(
        out.rule_group_response().unwrap().rule_group_arn(),
        arn,
        "still performed"
    );

    // The fault was used up by that one call: none is left to delay the next.
    let pending: Vec<Value> = reqwest::get(format!("{}/_local-aws/faults", aws.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(pending.is_empty(), "only one call delayed: {pending:?}");
}

#[tokio::test]
async fn reset_clears_state_faults_and_log() {
    let (aws, client) = start_nf().await;
    let (arn, _) = create(&client, "ephemeral").await;
    control_post(&aws.url, "faults", &throttle_fault(5)).await;

    let (status, _) = control_post(&aws.url, "reset", &json!({})).await;
    assert_eq!(status, 200);
    assert!(request_log(&aws.url).await.is_empty());
    let faults: Value = reqwest::get(format!("{}/_local-aws/faults", aws.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(faults, json!([]));

    let err = client
        .describe_rule_group()
        .rule_group_arn(&arn)
        .send()
        .await
        .unwrap_err();
    assert!(matches!(
        err.as_service_error(),
        Some(DescribeRuleGroupError::ResourceNotFoundException(_))
    ));
    // The name is free again.
    create(&client, "ephemeral").await;
}

#[tokio::test]
async fn request_log_records_calls_in_order_with_input_and_outcome() {
    let (aws, client) = start_nf().await;
    create(&client, "logged").await;
    client
        .describe_rule_group()
        .rule_group_name("missing")
        .r#type(RuleGroupType::Stateful)
        .send()
        .await
        .unwrap_err();

    let log = request_log(&aws.url).await;
    assert_eq!(log.len(), 2, "{log:#?}");
    assert_eq!(log[0]["service"], "network-firewall");
    assert_eq!(log[0]["operation"], "CreateRuleGroup");
    assert_eq!(log[0]["region"], "eu-west-1");
    assert_eq!(log[0]["input"]["RuleGroupName"], "logged");
    assert_eq!(log[0]["input"]["Rules"], RULES);
    assert_eq!(log[0]["status"], 200);
    assert_eq!(log[0]["error"], Value::Null);
    assert_eq!(log[1]["operation"], "DescribeRuleGroup");
    assert_eq!(log[1]["status"], 400);
    assert_eq!(log[1]["error"], "ResourceNotFoundException");
    // The same records through the Rust API.
    assert_eq!(aws.emulator.requests().len(), 2);
}

#[tokio::test]
async fn faults_that_could_never_fire_are_rejected() {
    let (aws, _) = start_nf().await;
    let cases = [
        (
            json!({"service": "network-firewal", "count": 1, "latency_ms": 1}),
            "unknown service",
        ),
        (
            json!({"service": "network-firewall", "operation": "UpdateRuleGroups", "count": 1, "latency_ms": 1}),
            "no operation",
        ),
        (
            json!({"service": "network-firewall", "count": 0, "latency_ms": 1}),
            "at least 1",
        ),
        (
            json!({"service": "network-firewall", "count": 1}),
            "error or latency_ms",
        ),
        (
            json!({"service": "network-firewall", "count": 1, "error": {"code": "X", "status": 200}}),
            "400..=599",
        ),
        (
            json!({"service": "network-firewall", "count": 1, "latency": 5}),
            "unknown field",
        ),
    ];
    for (fault, expected) in cases {
        let (status, body) = control_post(&aws.url, "faults", &fault).await;
        assert_eq!(status, 400, "{fault}");
        assert_eq!(body["__type"], "ValidationException");
        let message = body["message"].as_str().unwrap();
        assert!(message.contains(expected), "{fault}: {message}");
    }
}

#[tokio::test]
async fn fault_without_operation_affects_every_operation_of_the_service() {
    let (aws, client) = start_nf().await;
    let fault = json!({"service": "network-firewall", "count": 1,
                       "error": {"code": "InternalServerError", "status": 500, "message": "boom"}});
    control_post(&aws.url, "faults", &fault).await;
    let err = client.list_rule_groups().send().await.unwrap_err();
    assert!(
        matches!(
            err.as_service_error(),
            Some(aws_sdk_networkfirewall::operation::list_rule_groups::ListRuleGroupsError::InternalServerError(_))
        ),
        "{err:?}"
    );
    client
        .list_rule_groups()
        .send()
        .await
        .expect("fault used up");
}
