//! Network Firewall policies, tagging and the Suricata checks, through the
//! real SDK client: update tokens, STRICT_ORDER priorities, references to
//! existing groups only, groups in use cannot be deleted, duplicate sids
//! rejected.

mod common;

use aws_sdk_networkfirewall::operation::create_rule_group::CreateRuleGroupError;
use aws_sdk_networkfirewall::operation::delete_rule_group::DeleteRuleGroupError;
use aws_sdk_networkfirewall::operation::update_firewall_policy::UpdateFirewallPolicyError;
use aws_sdk_networkfirewall::types::{
    FirewallPolicy, RuleGroup, RuleGroupType, RuleOrder, RulesSource, StatefulEngineOptions,
    StatefulRuleGroupReference, StatefulRuleOptions, Tag,
};
use aws_sdk_networkfirewall::Client;
use common::start_nf;

async fn strict_group(client: &Client, name: &str, rules: &str) -> String {
    let group = RuleGroup::builder()
        .rules_source(RulesSource::builder().rules_string(rules).build())
        .stateful_rule_options(
            StatefulRuleOptions::builder()
                .rule_order(RuleOrder::StrictOrder)
                .build(),
        )
        .build();
    client
        .create_rule_group()
        .rule_group_name(name)
        .r#type(RuleGroupType::Stateful)
        .capacity(100)
        .rule_group(group)
        .send()
        .await
        .unwrap()
        .rule_group_response()
        .unwrap()
        .rule_group_arn()
        .to_string()
}

fn policy(refs: &[(&str, Option<i32>)]) -> FirewallPolicy {
    let mut p = FirewallPolicy::builder()
        .stateless_default_actions("aws:forward_to_sfe")
        .stateless_fragment_default_actions("aws:forward_to_sfe")
        .stateful_engine_options(
            StatefulEngineOptions::builder()
                .rule_order(RuleOrder::StrictOrder)
                .build(),
        );
    for (arn, priority) in refs {
        p = p.stateful_rule_group_references(
            StatefulRuleGroupReference::builder()
                .resource_arn(*arn)
                .set_priority(*priority)
                .build()
                .unwrap(),
        );
    }
    p.build().unwrap()
}

#[tokio::test]
async fn policies_have_tokens_and_unique_strict_priorities() {
    let (_aws, client) = start_nf().await;
    let a = strict_group(&client, "a", "pass tcp any any -> any 443 (sid:1;)").await;
    let b = strict_group(&client, "b", "pass tcp any any -> any 80 (sid:1;)").await;
    let created = client
        .create_firewall_policy()
        .firewall_policy_name("p")
        .firewall_policy(policy(&[(&a, Some(100))]))
        .send()
        .await
        .unwrap();
    let arn = created
        .firewall_policy_response()
        .unwrap()
        .firewall_policy_arn()
        .to_string();
    let first = created.update_token().to_string();

    let d = client
        .describe_firewall_policy()
        .firewall_policy_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(d.update_token(), first);
    assert_eq!(
        d.firewall_policy()
            .unwrap()
            .stateful_rule_group_references()
            .len(),
        1
    );

    let dup = client
        .update_firewall_policy()
        .firewall_policy_arn(&arn)
        .update_token(&first)
        .firewall_policy(policy(&[(&a, Some(100)), (&b, Some(100))]))
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            dup.as_service_error(),
            Some(UpdateFirewallPolicyError::InvalidRequestException(_))
        ),
        "{dup:?}"
    );
    let missing = client
        .update_firewall_policy()
        .firewall_policy_arn(&arn)
        .update_token(&first)
        .firewall_policy(policy(&[(&a, Some(100)), (&b, None)]))
        .send()
        .await
        .unwrap_err();
    assert!(missing
        .into_service_error()
        .to_string()
        .contains("Priority is required"));

    let updated = client
        .update_firewall_policy()
        .firewall_policy_arn(&arn)
        .update_token(&first)
        .firewall_policy(policy(&[(&a, Some(100)), (&b, Some(101))]))
        .send()
        .await
        .unwrap();
    assert_ne!(updated.update_token(), first);
    let stale = client
        .update_firewall_policy()
        .firewall_policy_arn(&arn)
        .update_token(&first)
        .firewall_policy(policy(&[(&a, Some(100))]))
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            stale.as_service_error(),
            Some(UpdateFirewallPolicyError::InvalidTokenException(_))
        ),
        "{stale:?}"
    );

    let in_use = client
        .delete_rule_group()
        .rule_group_arn(&b)
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            in_use.as_service_error(),
            Some(DeleteRuleGroupError::InvalidOperationException(_))
        ),
        "{in_use:?}"
    );
    let ghost = a.replace("/a", "/ghost");
    let err = client
        .update_firewall_policy()
        .firewall_policy_arn(&arn)
        .update_token(updated.update_token())
        .firewall_policy(policy(&[(&ghost, Some(5))]))
        .send()
        .await
        .unwrap_err();
    assert!(err
        .into_service_error()
        .to_string()
        .contains("does not exist"));
}

#[tokio::test]
async fn duplicate_sids_bad_syntax_and_undefined_variables_are_rejected() {
    let (_aws, client) = start_nf().await;
    for (rules, why) in [
        (
            "pass tcp any any -> any 443 (sid:7;)\ndrop tcp any any -> any any (sid:7;)",
            "sid 7 is already used",
        ),
        (
            "drop tcp $HOME_NET any -> $EXTERNAL_NET any(msg: \"Drop all TCP\"; sid:1;)",
            "a space must separate",
        ),
        (
            "pass tls $a1122334455661234abcd6789efg any -> $EXTERNAL_NET any (sid:1;)",
            "not defined",
        ),
    ] {
        let err = client
            .create_rule_group()
            .rule_group_name("g")
            .r#type(RuleGroupType::Stateful)
            .capacity(10)
            .rules(rules)
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert!(
            matches!(err, CreateRuleGroupError::InvalidRequestException(_)),
            "{err:?}"
        );
        assert!(err.to_string().contains(why), "{rules}: {err}");
    }
}

#[tokio::test]
async fn tags_are_added_listed_and_removed() {
    let (_aws, client) = start_nf().await;
    let arn = strict_group(&client, "t", "pass tcp any any -> any 443 (sid:1;)").await;
    client
        .tag_resource()
        .resource_arn(&arn)
        .tags(Tag::builder().key("owner").value("net").build().unwrap())
        .send()
        .await
        .unwrap();
    let d = client
        .describe_rule_group()
        .rule_group_arn(&arn)
        .send()
        .await
        .unwrap();
    let tags = d.rule_group_response().unwrap().tags();
    assert_eq!(
        tags.iter()
            .map(|t| (t.key(), t.value()))
            .collect::<Vec<_>>(),
        [("owner", "net")]
    );
    let listed = client
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.tags().len(), 1);
    client
        .untag_resource()
        .resource_arn(&arn)
        .tag_keys("owner")
        .send()
        .await
        .unwrap();
    assert!(client
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap()
        .tags()
        .is_empty());
}
