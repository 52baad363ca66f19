//! Network Firewall rule groups, driven by the real `aws-sdk-networkfirewall`
//! client so the wire format is checked by the code that will consume it.
//! Validation limits are in `network_firewall_validation.rs`.

mod common;

use aws_config::retry::RetryConfig;
use aws_sdk_networkfirewall::operation::delete_rule_group::DeleteRuleGroupError;
use aws_sdk_networkfirewall::operation::describe_rule_group::DescribeRuleGroupError;
use aws_sdk_networkfirewall::operation::update_rule_group::UpdateRuleGroupError;
use aws_sdk_networkfirewall::types::{ResourceStatus, RuleGroupType, Tag};
use common::{
    aws_json, create_stateful as create, describe_rules, nf_client, rules_group, start_nf,
    NF_TARGET_PREFIX as TARGET_PREFIX,
};

const RULES: &str =
    "# allow web\npass tcp any any -> any 443 (sid:1;)\n\ndrop ip any any -> any any (sid:2;)\n";

#[tokio::test]
async fn create_returns_full_rule_group_response() {
    let (_aws, client) = start_nf().await;
    let out = client
        .create_rule_group()
        .rule_group_name("web-egress")
        .r#type(RuleGroupType::Stateful)
        .capacity(100)
        .description("egress allow-list")
        .tags(Tag::builder().key("team").value("net").build().unwrap())
        .rules(RULES)
        .send()
        .await
        .unwrap();
    assert!(!out.update_token().is_empty());
    let r = out.rule_group_response().unwrap();
    assert_eq!(
        r.rule_group_arn(),
        "arn:aws:network-firewall:eu-west-1:123456789012:stateful-rulegroup/web-egress"
    );
    assert_eq!(r.rule_group_name(), "web-egress");
    assert_eq!(r.rule_group_id().len(), 36);
    assert_eq!(r.r#type(), Some(&RuleGroupType::Stateful));
    assert_eq!(r.capacity(), Some(100));
    assert_eq!(
        r.consumed_capacity(),
        Some(2),
        "two rules, comment and blank skipped"
    );
    assert_eq!(r.rule_group_status(), Some(&ResourceStatus::Active));
    assert_eq!(r.number_of_associations(), Some(0));
    assert_eq!(r.description(), Some("egress allow-list"));
    assert_eq!(r.tags().len(), 1);
    let modified = r
        .last_modified_time()
        .expect("LastModifiedTime sent")
        .secs();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((now - modified).abs() < 60, "epoch seconds, got {modified}");
}

#[tokio::test]
async fn update_with_current_token_succeeds_and_stale_token_is_rejected() {
    let (_aws, client) = start_nf().await;
    let (arn, create_token) = create(&client, "locked", 100, RULES).await;

    let (rules, token) = describe_rules(&client, &arn).await;
    assert_eq!(rules, RULES);
    assert_eq!(token, create_token, "describe returns the current token");

    let new_rules = "pass tcp any any -> any 80 (sid:3;)";
    let updated = client
        .update_rule_group()
        .rule_group_arn(&arn)
        .update_token(&token)
        .rule_group(rules_group(new_rules))
        .send()
        .await
        .expect("update with current token succeeds");
    let new_token = updated.update_token().to_owned();
    assert!(!new_token.is_empty());
    assert_ne!(new_token, token, "each update issues a fresh token");
    assert_eq!(
        updated.rule_group_response().unwrap().consumed_capacity(),
        Some(1)
    );

    let err = client
        .update_rule_group()
        .rule_group_arn(&arn)
        .update_token(&token)
        .rules("drop ip any any -> any any (sid:9;)")
        .send()
        .await
        .expect_err("stale token must fail");
    let service_err = err.as_service_error().expect("a modelled service error");
    assert!(
        matches!(service_err, UpdateRuleGroupError::InvalidTokenException(_)),
        "got {service_err:?}"
    );

    let (rules, token) = describe_rules(&client, &arn).await;
    assert_eq!(rules, new_rules, "a rejected update changes nothing");
    assert_eq!(token, new_token);
}

#[tokio::test]
async fn describe_by_name_requires_type_and_finds_the_group() {
    let (aws, client) = start_nf().await;
    let (arn, token) = create(&client, "by-name", 10, RULES).await;
    let out = client
        .describe_rule_group()
        .rule_group_name("by-name")
        .r#type(RuleGroupType::Stateful)
        .send()
        .await
        .unwrap();
    assert_eq!(out.rule_group_response().unwrap().rule_group_arn(), arn);
    assert_eq!(out.update_token(), token);

    let err = client
        .describe_rule_group()
        .rule_group_name("by-name")
        .r#type(RuleGroupType::Stateless)
        .send()
        .await
        .unwrap_err();
    assert!(matches!(
        err.as_service_error(),
        Some(DescribeRuleGroupError::ResourceNotFoundException(_))
    ));

    // Without Type the name is ambiguous: rejected, not guessed.
    let (status, _, body) = aws_json(
        &aws.url,
        &format!("{TARGET_PREFIX}.DescribeRuleGroup"),
        "application/x-amz-json-1.0",
        Some("eu-west-1"),
        r#"{"RuleGroupName":"by-name"}"#,
    )
    .await;
    assert_eq!(
        (status, body["__type"].as_str()),
        (400, Some("InvalidRequestException"))
    );
}

#[tokio::test]
async fn missing_group_is_resource_not_found_for_every_operation() {
    let (_aws, client) = start_nf().await;
    let arn = "arn:aws:network-firewall:eu-west-1:123456789012:stateful-rulegroup/ghost";
    let err = client
        .describe_rule_group()
        .rule_group_arn(arn)
        .send()
        .await
        .unwrap_err();
    let err = err.into_service_error();
    assert!(
        matches!(err, DescribeRuleGroupError::ResourceNotFoundException(_)),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("ghost"),
        "message names the group: {err}"
    );

    let err = client
        .update_rule_group()
        .rule_group_arn(arn)
        .update_token("t")
        .rules("pass ip any any -> any any (sid:1;)")
        .send()
        .await
        .unwrap_err();
    assert!(matches!(
        err.as_service_error(),
        Some(UpdateRuleGroupError::ResourceNotFoundException(_))
    ));

    let err = client
        .delete_rule_group()
        .rule_group_arn(arn)
        .send()
        .await
        .unwrap_err();
    assert!(matches!(
        err.as_service_error(),
        Some(DeleteRuleGroupError::ResourceNotFoundException(_))
    ));
}

#[tokio::test]
async fn groups_are_isolated_per_region() {
    let (aws, eu) = start_nf().await;
    let us = nf_client(&aws.url, "us-east-1", RetryConfig::disabled()).await;
    let (eu_arn, _) = create(&eu, "regional", 10, RULES).await;

    let err = us
        .describe_rule_group()
        .rule_group_name("regional")
        .r#type(RuleGroupType::Stateful)
        .send()
        .await
        .unwrap_err();
    assert!(matches!(
        err.as_service_error(),
        Some(DescribeRuleGroupError::ResourceNotFoundException(_))
    ));
    let err = us
        .describe_rule_group()
        .rule_group_arn(&eu_arn)
        .send()
        .await
        .unwrap_err();
    assert!(matches!(
        err.as_service_error(),
        Some(DescribeRuleGroupError::ResourceNotFoundException(_))
    ));
    assert!(us
        .list_rule_groups()
        .send()
        .await
        .unwrap()
        .rule_groups()
        .is_empty());

    let (us_arn, _) = create(&us, "regional", 10, RULES).await;
    assert!(us_arn.contains(":us-east-1:"), "{us_arn}");
    assert_eq!(
        eu.list_rule_groups()
            .send()
            .await
            .unwrap()
            .rule_groups()
            .len(),
        1
    );
}

#[tokio::test]
async fn delete_removes_the_group_and_list_pages_in_name_order() {
    let (_aws, client) = start_nf().await;
    for name in ["e", "c", "a", "d", "b"] {
        create(&client, name, 10, RULES).await;
    }
    let deleted = client
        .delete_rule_group()
        .rule_group_name("c")
        .r#type(RuleGroupType::Stateful)
        .send()
        .await
        .unwrap();
    let response = deleted.rule_group_response().unwrap();
    assert_eq!(response.rule_group_name(), "c");
    assert_eq!(
        response.rule_group_status(),
        Some(&ResourceStatus::Deleting)
    );

    let mut names = Vec::new();
    let mut pages = 0;
    let mut next = None;
    loop {
        let page = client
            .list_rule_groups()
            .max_results(2)
            .set_next_token(next)
            .send()
            .await
            .unwrap();
        pages += 1;
        assert!(page.rule_groups().len() <= 2);
        names.extend(
            page.rule_groups()
                .iter()
                .map(|g| g.name().unwrap().to_owned()),
        );
        next = page.next_token().map(str::to_owned);
        if next.is_none() {
            break;
        }
    }
    assert_eq!(names, ["a", "b", "d", "e"]);
    assert_eq!(pages, 2, "no empty trailing page");
    let listed = client
        .list_rule_groups()
        .r#type(RuleGroupType::Stateless)
        .send()
        .await
        .unwrap();
    assert!(listed.rule_groups().is_empty(), "type filter applies");
}
