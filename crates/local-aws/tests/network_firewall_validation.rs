//! Network Firewall input validation and limits (RulesString length,
//! capacity, unique names, DryRun), through the real SDK client.

mod common;

use aws_sdk_networkfirewall::operation::create_rule_group::CreateRuleGroupError;
use aws_sdk_networkfirewall::operation::update_rule_group::UpdateRuleGroupError;
use aws_sdk_networkfirewall::types::RuleGroupType;
use common::{
    aws_json, create_stateful as create, describe_rules, rules_group, start_nf,
    NF_TARGET_PREFIX as TARGET_PREFIX,
};
use serde_json::json;

const RULES: &str =
    "# allow web\npass tcp any any -> any 443 (sid:1;)\n\ndrop ip any any -> any any (sid:2;)\n";

#[tokio::test]
async fn oversize_rules_string_is_rejected_and_limit_is_inclusive() {
    let (_aws, client) = start_nf().await;
    let too_long = "a".repeat(1_000_001);
    let err = client
        .create_rule_group()
        .rule_group_name("big")
        .r#type(RuleGroupType::Stateful)
        .capacity(10)
        .rule_group(rules_group(&too_long))
        .send()
        .await
        .unwrap_err();
    let err = err.into_service_error();
    assert!(
        matches!(err, CreateRuleGroupError::InvalidRequestException(_)),
        "{err:?}"
    );
    assert!(err.to_string().contains("1000000"), "{err}");

    // Exactly the limit is accepted (one long line is one rule).
    // (A valid rule: the emulator also checks Suricata syntax.)
    let head = "pass ip any any -> any any (content:\"";
    let tail = "\"; sid:1;)";
    let long_rule = format!(
        "{head}{}{tail}",
        "a".repeat(1_000_000 - head.len() - tail.len())
    );
    let (arn, token) = create(&client, "big", 10, &long_rule).await;

    let err = client
        .update_rule_group()
        .rule_group_arn(&arn)
        .update_token(&token)
        .rules(too_long)
        .send()
        .await
        .unwrap_err();
    assert!(matches!(
        err.as_service_error(),
        Some(UpdateRuleGroupError::InvalidRequestException(_))
    ));
}

#[tokio::test]
async fn rules_beyond_capacity_are_rejected_and_capacity_is_fixed() {
    let (aws, client) = start_nf().await;
    let three = "pass ip any any -> any any (sid:1;)\npass ip any any -> any any (sid:2;)\npass ip any any -> any any (sid:3;)";
    let err = client
        .create_rule_group()
        .rule_group_name("small")
        .r#type(RuleGroupType::Stateful)
        .capacity(2)
        .rules(three)
        .send()
        .await
        .unwrap_err();
    let err = err.into_service_error();
    assert!(
        matches!(err, CreateRuleGroupError::InvalidRequestException(_)),
        "{err:?}"
    );
    assert!(err.to_string().contains("need 3"), "{err}");

    let (arn, token) = create(&client, "small", 2, "pass ip any any -> any any (sid:1;)").await;
    let err = client
        .update_rule_group()
        .rule_group_arn(&arn)
        .update_token(&token)
        .rules(three)
        .send()
        .await
        .unwrap_err();
    assert!(matches!(
        err.as_service_error(),
        Some(UpdateRuleGroupError::InvalidRequestException(_))
    ));

    // Capacity is not an UpdateRuleGroup input: sent anyway, it is ignored.
    let body = json!({"RuleGroupArn": arn, "UpdateToken": token, "Capacity": 500,
        "Rules": "pass ip any any -> any any (sid:1;)\npass ip any any -> any any (sid:2;)"});
    let target = format!("{TARGET_PREFIX}.UpdateRuleGroup");
    let (status, _, out) = aws_json(
        &aws.url,
        &target,
        "application/x-amz-json-1.0",
        Some("eu-west-1"),
        body.to_string(),
    )
    .await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(out["RuleGroupResponse"]["Capacity"], 2);
    assert_eq!(out["RuleGroupResponse"]["ConsumedCapacity"], 2);

    // Capacity is required at creation.
    let body = json!({"RuleGroupName": "nocap", "Type": "STATEFUL", "Rules": "pass ip any any -> any any (sid:1;)"});
    let target = format!("{TARGET_PREFIX}.CreateRuleGroup");
    let (status, _, out) = aws_json(
        &aws.url,
        &target,
        "application/x-amz-json-1.0",
        Some("eu-west-1"),
        body.to_string(),
    )
    .await;
    assert_eq!(
        (status, out["__type"].as_str()),
        (400, Some("InvalidRequestException"))
    );
    assert!(out["message"].as_str().unwrap().contains("Capacity"));
}

#[tokio::test]
async fn duplicate_name_is_rejected_per_type() {
    let (aws, client) = start_nf().await;
    create(&client, "dup", 10, RULES).await;
    let err = client
        .create_rule_group()
        .rule_group_name("dup")
        .r#type(RuleGroupType::Stateful)
        .capacity(10)
        .rules(RULES)
        .send()
        .await
        .unwrap_err();
    assert!(matches!(
        err.as_service_error(),
        Some(CreateRuleGroupError::InvalidRequestException(_))
    ));

    // A stateless group of the same name is a different resource.
    let stateless = json!({"RuleGroupName": "dup", "Type": "STATELESS", "Capacity": 10,
        "RuleGroup": {"RulesSource": {"StatelessRulesAndCustomActions": {"StatelessRules": [
            {"Priority": 1, "RuleDefinition": {"Actions": ["aws:pass"],
             "MatchAttributes": {"Protocols": [6, 17], "Sources": [{"AddressDefinition": "10.0.0.0/8"}]}}}]}}}});
    let target = format!("{TARGET_PREFIX}.CreateRuleGroup");
    let (status, _, out) = aws_json(
        &aws.url,
        &target,
        "application/x-amz-json-1.0",
        Some("eu-west-1"),
        stateless.to_string(),
    )
    .await;
    assert_eq!(status, 200, "{out}");
    let response = &out["RuleGroupResponse"];
    assert_eq!(
        response["RuleGroupArn"],
        "arn:aws:network-firewall:eu-west-1:123456789012:stateless-rulegroup/dup"
    );
    assert_eq!(response["ConsumedCapacity"], 2);
    assert!(response["LastModifiedTime"].is_number());
}

#[tokio::test]
async fn dry_run_validates_without_changing_anything() {
    let (_aws, client) = start_nf().await;
    let out = client
        .create_rule_group()
        .rule_group_name("dry")
        .r#type(RuleGroupType::Stateful)
        .capacity(10)
        .rules(RULES)
        .dry_run(true)
        .send()
        .await
        .unwrap();
    assert_eq!(
        out.rule_group_response().unwrap().consumed_capacity(),
        Some(2)
    );
    let err = client
        .describe_rule_group()
        .rule_group_arn(out.rule_group_response().unwrap().rule_group_arn())
        .send()
        .await;
    assert!(err.is_err(), "dry-run create must not store the group");

    let (arn, token) = create(&client, "dry", 10, RULES).await;
    let out = client
        .update_rule_group()
        .rule_group_arn(&arn)
        .update_token(&token)
        .rules("pass ip any any -> any any (sid:7;)")
        .dry_run(true)
        .send()
        .await
        .unwrap();
    assert_eq!(
        out.update_token(),
        token,
        "dry run keeps the current token valid"
    );
    assert_eq!(
        out.rule_group_response().unwrap().consumed_capacity(),
        Some(1)
    );
    assert_eq!(
        describe_rules(&client, &arn).await,
        (RULES.to_owned(), token.clone())
    );

    // A dry run still fails on what would fail for real.
    let err = client
        .update_rule_group()
        .rule_group_arn(&arn)
        .update_token("stale")
        .rules(RULES)
        .dry_run(true)
        .send()
        .await
        .unwrap_err();
    assert!(matches!(
        err.as_service_error(),
        Some(UpdateRuleGroupError::InvalidTokenException(_))
    ));
}
