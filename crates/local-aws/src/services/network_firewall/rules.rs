//! Validation of a `RuleGroup` object and the capacity its rules consume,
//! following the Network Firewall developer guide's capacity rules.

use serde_json::{json, Value};

use crate::input::{opt_array, opt_i64, opt_object, opt_str};
use crate::AwsError;

/// API limit on `RulesString` and `Rules` (characters).
pub(super) const MAX_RULES_STRING_CHARS: usize = 1_000_000;

/// Rule group kind; ARNs, lookups and allowed rule sources depend on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Kind {
    Stateful,
    Stateless,
}

impl Kind {
    pub fn parse(value: &str) -> Result<Self, AwsError> {
        match value {
            "STATEFUL" => Ok(Self::Stateful),
            "STATELESS" => Ok(Self::Stateless),
            other => Err(AwsError::invalid_request(format!(
                "Type must be STATEFUL or STATELESS (got {other:?}; STATEFUL_DOMAIN is not emulated)"
            ))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Stateful => "STATEFUL",
            Self::Stateless => "STATELESS",
        }
    }

    /// Resource type in the rule group's ARN.
    pub fn arn_resource(self) -> &'static str {
        match self {
            Self::Stateful => "stateful-rulegroup",
            Self::Stateless => "stateless-rulegroup",
        }
    }
}

/// The rule group the request specifies, via `RuleGroup` or the Suricata
/// `Rules` shorthand (stored as the `RuleGroup` it stands for, which is what
/// DescribeRuleGroup returns for it); `None` if neither is given.
pub(super) fn rule_group_from_input(input: &Value) -> Result<Option<Value>, AwsError> {
    let rule_group = opt_object(input, "RuleGroup")?;
    let rules = opt_str(input, "Rules")?;
    match (rule_group, rules) {
        (Some(_), Some(_)) => Err(AwsError::invalid_request(
            "provide either RuleGroup or Rules, not both",
        )),
        (Some(group), None) => Ok(Some(group.clone())),
        (None, Some(rules)) => {
            check_rules_string_length("Rules", rules)?;
            Ok(Some(json!({ "RulesSource": { "RulesString": rules } })))
        }
        (None, None) => Ok(None),
    }
}

/// Validates `rule_group` for a group of `kind` and returns the capacity
/// its rules consume.
pub(super) fn consumed_capacity(kind: Kind, rule_group: &Value) -> Result<i64, AwsError> {
    for member in ["RuleVariables", "ReferenceSets", "StatefulRuleOptions"] {
        opt_object(rule_group, member)?;
    }
    let source = opt_object(rule_group, "RulesSource")?
        .ok_or_else(|| AwsError::invalid_request("RuleGroup.RulesSource is required"))?;
    const SOURCES: [&str; 4] = [
        "RulesString",
        "RulesSourceList",
        "StatefulRules",
        "StatelessRulesAndCustomActions",
    ];
    let given: Vec<&str> = SOURCES
        .into_iter()
        .filter(|key| source.get(*key).is_some_and(|v| !v.is_null()))
        .collect();
    let [which] = given[..] else {
        return Err(AwsError::invalid_request(format!(
            "RulesSource must specify exactly one of {SOURCES:?} (got {given:?})"
        )));
    };
    let stateless_source = which == "StatelessRulesAndCustomActions";
    if stateless_source != (kind == Kind::Stateless) {
        return Err(AwsError::invalid_request(format!(
            "RulesSource.{which} is not valid in a {} rule group",
            kind.as_str()
        )));
    }
    match which {
        "RulesString" => {
            let rules = opt_str(source, which)?.unwrap_or_default();
            check_rules_string_length("RulesString", rules)?;
            super::suricata::check(rules, rule_group.get("RuleVariables"))?;
            Ok(suricata_rule_count(rules))
        }
        "StatefulRules" => stateful_rules_capacity(source),
        "RulesSourceList" => domain_list_capacity(source),
        _ => stateless_capacity(source),
    }
}

fn check_rules_string_length(member: &str, rules: &str) -> Result<(), AwsError> {
    let chars = rules.chars().count();
    if chars > MAX_RULES_STRING_CHARS {
        return Err(AwsError::invalid_request(format!(
            "{member} is {chars} characters; the maximum is {MAX_RULES_STRING_CHARS}"
        )));
    }
    Ok(())
}

/// One capacity unit per rule: every non-blank line that is not a comment.
pub(super) fn suricata_rule_count(rules: &str) -> i64 {
    let rules = rules
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .count();
    i64::try_from(rules).unwrap_or(i64::MAX)
}

fn len_i64(items: &[Value]) -> i64 {
    i64::try_from(items.len()).unwrap_or(i64::MAX)
}

fn stateful_rules_capacity(source: &Value) -> Result<i64, AwsError> {
    let rules = opt_array(source, "StatefulRules")?.map_or(&[][..], Vec::as_slice);
    for rule in rules {
        let action = opt_str(rule, "Action")?.unwrap_or_default();
        if !["PASS", "DROP", "ALERT", "REJECT"].contains(&action) {
            return Err(AwsError::invalid_request(format!(
                "StatefulRules Action must be PASS, DROP, ALERT or REJECT (got {action:?})"
            )));
        }
        opt_object(rule, "Header")?
            .ok_or_else(|| AwsError::invalid_request("each StatefulRule needs a Header"))?;
    }
    Ok(len_i64(rules))
}

/// A domain list generates at least one rule per domain.
fn domain_list_capacity(source: &Value) -> Result<i64, AwsError> {
    let list = opt_object(source, "RulesSourceList")?.unwrap_or(source);
    let targets = opt_array(list, "Targets")?.map_or(&[][..], Vec::as_slice);
    let target_types = opt_array(list, "TargetTypes")?.map_or(&[][..], Vec::as_slice);
    let kind = opt_str(list, "GeneratedRulesType")?.unwrap_or_default();
    if !["ALLOWLIST", "DENYLIST", "ALERTLIST", "REJECTLIST"].contains(&kind) {
        return Err(AwsError::invalid_request(format!(
            "RulesSourceList.GeneratedRulesType is invalid: {kind:?}"
        )));
    }
    let known = |t: &Value| matches!(t.as_str(), Some("TLS_SNI" | "HTTP_HOST"));
    if targets.is_empty() || target_types.is_empty() || !target_types.iter().all(known) {
        return Err(AwsError::invalid_request(
            "RulesSourceList needs Targets and TargetTypes of TLS_SNI/HTTP_HOST",
        ));
    }
    Ok(len_i64(targets))
}

/// Sum over rules of the product of each match setting's element count
/// (an unset or empty setting counts 1), as the capacity guide defines it.
fn stateless_capacity(source: &Value) -> Result<i64, AwsError> {
    let actions = opt_object(source, "StatelessRulesAndCustomActions")?.unwrap_or(source);
    let rules = opt_array(actions, "StatelessRules")?.map_or(&[][..], Vec::as_slice);
    let mut priorities = std::collections::BTreeSet::new();
    let mut total: i64 = 0;
    for rule in rules {
        let priority = opt_i64(rule, "Priority")?
            .filter(|p| (1..=65_535).contains(p))
            .ok_or_else(|| {
                AwsError::invalid_request("each StatelessRule needs a Priority in 1..=65535")
            })?;
        if !priorities.insert(priority) {
            return Err(AwsError::invalid_request(format!(
                "duplicate StatelessRule Priority {priority}"
            )));
        }
        let definition = opt_object(rule, "RuleDefinition")?.ok_or_else(|| {
            AwsError::invalid_request("each StatelessRule needs a RuleDefinition")
        })?;
        let matches = opt_object(definition, "MatchAttributes")?.unwrap_or(&Value::Null);
        let mut rule_capacity: i64 = 1;
        for setting in [
            "Sources",
            "Destinations",
            "SourcePorts",
            "DestinationPorts",
            "Protocols",
            "TCPFlags",
        ] {
            let count = opt_array(matches, setting)?.map_or(1, |v| len_i64(v).max(1));
            rule_capacity = rule_capacity.saturating_mul(count);
        }
        total = total.saturating_add(rule_capacity);
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suricata_rules_count_lines_that_are_rules() {
        let rules = "# header\n\npass tcp any any -> any any (sid:1;)\n  \n  # indented comment\r\ndrop ip any any -> any any (sid:2;)\n";
        assert_eq!(suricata_rule_count(rules), 2);
        assert_eq!(suricata_rule_count(""), 0);
    }

    #[test]
    fn stateless_capacity_is_sum_of_products() {
        let group = json!({"RulesSource": {"StatelessRulesAndCustomActions": {"StatelessRules": [
            {"Priority": 1, "RuleDefinition": {"Actions": ["aws:pass"], "MatchAttributes": {
                "Protocols": [6, 17],
                "Sources": [{"AddressDefinition": "10.0.0.0/24"}, {"AddressDefinition": "10.0.1.0/24"}, {"AddressDefinition": "10.0.2.0/24"}],
                "DestinationPorts": [{"FromPort": 443, "ToPort": 443}]}}},
            {"Priority": 2, "RuleDefinition": {"Actions": ["aws:drop"], "MatchAttributes": {}}}
        ]}}});
        assert_eq!(
            consumed_capacity(Kind::Stateless, &group).unwrap(),
            2 * 3 + 1
        );
    }

    #[test]
    fn duplicate_stateless_priority_is_rejected() {
        let rule = json!({"Priority": 5, "RuleDefinition": {"Actions": [], "MatchAttributes": {}}});
        let group = json!({"RulesSource": {"StatelessRulesAndCustomActions": {"StatelessRules": [rule.clone(), rule]}}});
        let err = consumed_capacity(Kind::Stateless, &group).unwrap_err();
        assert_eq!(err.code, "InvalidRequestException");
        assert!(err.message.contains("Priority 5"), "{}", err.message);
    }

    #[test]
    fn rule_source_must_match_kind_and_be_unique() {
        let suricata =
            json!({"RulesSource": {"RulesString": "pass ip any any -> any any (sid:1;)"}});
        assert_eq!(consumed_capacity(Kind::Stateful, &suricata).unwrap(), 1);
        assert!(consumed_capacity(Kind::Stateless, &suricata).is_err());
        let two = json!({"RulesSource": {"RulesString": "x", "StatefulRules": []}});
        assert!(consumed_capacity(Kind::Stateful, &two).is_err());
        assert!(consumed_capacity(Kind::Stateful, &json!({})).is_err());
    }

    #[test]
    fn stateful_rules_and_domain_lists_count_entries() {
        let header = json!({"Protocol": "TCP", "Source": "ANY", "SourcePort": "ANY",
            "Direction": "FORWARD", "Destination": "ANY", "DestinationPort": "443"});
        let rules = json!({"RulesSource": {"StatefulRules": [
            {"Action": "PASS", "Header": header, "RuleOptions": []},
            {"Action": "DROP", "Header": header, "RuleOptions": []}]}});
        assert_eq!(consumed_capacity(Kind::Stateful, &rules).unwrap(), 2);
        let bad =
            json!({"RulesSource": {"StatefulRules": [{"Action": "ALLOW", "Header": header}]}});
        assert!(consumed_capacity(Kind::Stateful, &bad).is_err());
        let domains = json!({"RulesSource": {"RulesSourceList": {"GeneratedRulesType": "ALLOWLIST",
            "TargetTypes": ["TLS_SNI", "HTTP_HOST"], "Targets": [".example.com", "aws.amazon.com", "x.org"]}}});
        assert_eq!(consumed_capacity(Kind::Stateful, &domains).unwrap(), 3);
    }

    #[test]
    fn rules_shorthand_becomes_rule_group_and_is_length_checked() {
        let input = json!({"Rules": "pass ip any any -> any any (sid:1;)"});
        let group = rule_group_from_input(&input).unwrap().unwrap();
        assert_eq!(group["RulesSource"]["RulesString"], input["Rules"]);
        let too_long = json!({"Rules": "a".repeat(MAX_RULES_STRING_CHARS + 1)});
        assert_eq!(
            rule_group_from_input(&too_long).unwrap_err().code,
            "InvalidRequestException"
        );
        let exactly = json!({"Rules": "a".repeat(MAX_RULES_STRING_CHARS)});
        assert!(rule_group_from_input(&exactly).is_ok());
        let both = json!({"Rules": "x", "RuleGroup": {}});
        assert!(rule_group_from_input(&both).is_err());
    }
}
