//! Direct calls into the service for branches the SDK tests do not reach.

use serde_json::{json, Value};

use super::NetworkFirewall;
use crate::{AwsError, RequestContext, Service};

fn call(nf: &NetworkFirewall, operation: &str, input: Value) -> Result<Value, AwsError> {
    nf.handle(&RequestContext::for_region("eu-west-1"), operation, input)
}

fn create(nf: &NetworkFirewall, name: &str) -> Value {
    let input = json!({"RuleGroupName": name, "Type": "STATEFUL", "Capacity": 5,
        "Rules": "pass ip any any -> any any (sid:1;)"});
    call(nf, "CreateRuleGroup", input).unwrap()
}

#[test]
fn list_scope_and_next_token_validation() {
    let nf = NetworkFirewall::new();
    create(&nf, "a");
    let managed = call(&nf, "ListRuleGroups", json!({"Scope": "MANAGED"})).unwrap();
    assert_eq!(
        managed["RuleGroups"],
        json!([]),
        "AWS managed groups are not emulated"
    );
    let err = call(&nf, "ListRuleGroups", json!({"Scope": "EVERYONE"})).unwrap_err();
    assert_eq!(err.code, "InvalidRequestException");
    let err = call(&nf, "ListRuleGroups", json!({"NextToken": "garbage"})).unwrap_err();
    assert_eq!(err.code, "InvalidRequestException");
    let err = call(&nf, "ListRuleGroups", json!({"MaxResults": 0})).unwrap_err();
    assert_eq!(err.code, "InvalidRequestException");
}

#[test]
fn next_token_survives_deletion_of_the_last_listed_group() {
    let nf = NetworkFirewall::new();
    for name in ["a", "b", "c"] {
        create(&nf, name);
    }
    let page = call(&nf, "ListRuleGroups", json!({"MaxResults": 2})).unwrap();
    let token = page["NextToken"].clone();
    call(
        &nf,
        "DeleteRuleGroup",
        json!({"RuleGroupName": "b", "Type": "STATEFUL"}),
    )
    .unwrap();
    let rest = call(&nf, "ListRuleGroups", json!({"NextToken": token})).unwrap();
    assert_eq!(rest["RuleGroups"][0]["Name"], "c");
    assert!(rest.get("NextToken").is_none());
}

#[test]
fn input_validation_errors() {
    let nf = NetworkFirewall::new();
    let base = json!({"RuleGroupName": "x", "Type": "STATEFUL", "Capacity": 5,
        "Rules": "pass ip any any -> any any (sid:1;)"});
    let with = |key: &str, value: Value| {
        let mut input = base.clone();
        input[key] = value;
        call(&nf, "CreateRuleGroup", input).unwrap_err()
    };
    assert_eq!(
        with("RuleGroupName", json!("bad name")).code,
        "InvalidRequestException"
    );
    assert_eq!(
        with("Type", json!("STATEFUL_DOMAIN")).code,
        "InvalidRequestException"
    );
    assert_eq!(
        with("Capacity", json!(30_001)).code,
        "InvalidRequestException"
    );
    assert_eq!(with("Capacity", json!("5")).code, "SerializationException");
    assert_eq!(
        with("Description", json!("d".repeat(513))).code,
        "InvalidRequestException"
    );
    assert_eq!(
        with("Tags", json!([{"Key": ""}])).code,
        "InvalidRequestException"
    );
    assert_eq!(
        with("EncryptionConfiguration", json!({"Type": "ROT13"})).code,
        "InvalidRequestException"
    );
    let mut no_rules = base.clone();
    no_rules.as_object_mut().unwrap().remove("Rules");
    assert_eq!(
        call(&nf, "CreateRuleGroup", no_rules).unwrap_err().code,
        "InvalidRequestException"
    );
}

#[test]
fn arn_and_name_must_agree_and_rule_group_round_trips() {
    let nf = NetworkFirewall::new();
    let group = json!({"RulesSource": {"RulesString": "pass ip any any -> any any (sid:1;)"},
        "RuleVariables": {"IPSets": {"HOME_NET": {"Definition": ["10.0.0.0/8"]}}}});
    let input =
        json!({"RuleGroupName": "vars", "Type": "STATEFUL", "Capacity": 5, "RuleGroup": group});
    let created = call(&nf, "CreateRuleGroup", input).unwrap();
    let arn = created["RuleGroupResponse"]["RuleGroupArn"].clone();
    let described = call(&nf, "DescribeRuleGroup", json!({"RuleGroupArn": arn})).unwrap();
    assert_eq!(
        described["RuleGroup"], group,
        "uninterpreted members are kept"
    );
    let err = call(
        &nf,
        "DescribeRuleGroup",
        json!({"RuleGroupArn": arn, "RuleGroupName": "other"}),
    )
    .unwrap_err();
    assert_eq!(err.code, "InvalidRequestException");
    // Another region's state is separate even for a valid ARN.
    let err = nf
        .handle(
            &RequestContext::for_region("us-east-1"),
            "DescribeRuleGroup",
            json!({"RuleGroupArn": arn}),
        )
        .unwrap_err();
    assert_eq!(err.code, "ResourceNotFoundException");
}

#[test]
fn reset_forgets_every_region() {
    let nf = NetworkFirewall::new();
    create(&nf, "a");
    nf.reset();
    let listed = call(&nf, "ListRuleGroups", json!({})).unwrap();
    assert_eq!(listed["RuleGroups"], json!([]));
}
