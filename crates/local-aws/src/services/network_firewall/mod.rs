//! AWS Network Firewall rule groups: awsJson 1.0, target prefix
//! `NetworkFirewall_20201112`, SigV4 signing name `network-firewall`.
//!
//! Modelled semantics: every create/update issues a fresh `UpdateToken` and
//! an update must present the current one (optimistic locking); names are
//! unique per type within an account and region; `Capacity` is fixed at
//! creation and the rules must fit in it; `RulesString` is at most 1,000,000
//! characters; `DryRun` validates without changing anything. The stored rule
//! group is the `RuleGroup` object as the API accepts it, so members this
//! emulator does not interpret (`RuleVariables`, `StatefulRuleOptions`, ...)
//! round-trip unchanged.

mod policies;
mod rules;
mod suricata;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Map, Value};

use self::rules::{consumed_capacity, rule_group_from_input, Kind};
use crate::input::{opt_array, opt_bool, opt_i64, opt_object, opt_str};
use crate::{AwsError, RegionalState, RequestContext, Service};

/// Largest `Capacity` a rule group may declare (developer guide maximum).
const MAX_CAPACITY: i64 = 30_000;
const MAX_DESCRIPTION_CHARS: usize = 512;
pub(super) const MAX_TAGS: usize = 200;
const MAX_LIST_RESULTS: i64 = 100;

/// The Network Firewall rule-group emulator.
#[derive(Debug, Default)]
pub struct NetworkFirewall {
    state: RegionalState<Regional>,
}

#[derive(Debug, Default)]
struct Regional {
    // Keyed by name first so ListRuleGroups pages in name order.
    groups: BTreeMap<(String, Kind), StoredRuleGroup>,
    policies: BTreeMap<String, policies::StoredPolicy>,
}

#[derive(Debug, Clone)]
struct StoredRuleGroup {
    name: String,
    kind: Kind,
    id: String,
    arn: String,
    capacity: i64,
    consumed_capacity: i64,
    description: Option<String>,
    rule_group: Value,
    tags: Vec<Value>,
    encryption_configuration: Value,
    source_metadata: Option<Value>,
    summary_configuration: Option<Value>,
    update_token: String,
    last_modified: f64,
}

impl StoredRuleGroup {
    /// The `RuleGroupResponse` structure.
    fn response(&self, status: &str) -> Value {
        let mut r = Map::new();
        r.insert("RuleGroupArn".into(), json!(self.arn));
        r.insert("RuleGroupName".into(), json!(self.name));
        r.insert("RuleGroupId".into(), json!(self.id));
        r.insert("Type".into(), json!(self.kind.as_str()));
        r.insert("Capacity".into(), json!(self.capacity));
        r.insert("ConsumedCapacity".into(), json!(self.consumed_capacity));
        r.insert("RuleGroupStatus".into(), json!(status));
        r.insert("NumberOfAssociations".into(), json!(0));
        r.insert(
            "EncryptionConfiguration".into(),
            self.encryption_configuration.clone(),
        );
        r.insert("LastModifiedTime".into(), json!(self.last_modified));
        if let Some(description) = &self.description {
            r.insert("Description".into(), json!(description));
        }
        if !self.tags.is_empty() {
            r.insert("Tags".into(), json!(self.tags));
        }
        if let Some(metadata) = &self.source_metadata {
            r.insert("SourceMetadata".into(), metadata.clone());
        }
        if let Some(summary) = &self.summary_configuration {
            r.insert("SummaryConfiguration".into(), summary.clone());
        }
        Value::Object(r)
    }
}

impl NetworkFirewall {
    /// An emulator with no rule groups.
    pub fn new() -> Self {
        Self::default()
    }

    fn create(&self, ctx: &RequestContext, input: &Value) -> Result<Value, AwsError> {
        let name = required_str(input, "RuleGroupName")?;
        validate_name(name)?;
        let kind = Kind::parse(required_str(input, "Type")?)?;
        let capacity = opt_i64(input, "Capacity")?
            .ok_or_else(|| AwsError::invalid_request("Capacity is required"))?;
        if !(1..=MAX_CAPACITY).contains(&capacity) {
            return Err(AwsError::invalid_request(format!(
                "Capacity must be between 1 and {MAX_CAPACITY} (got {capacity})"
            )));
        }
        let description = description(input)?;
        let rule_group = rule_group_from_input(input)?
            .ok_or_else(|| AwsError::invalid_request("provide either RuleGroup or Rules"))?;
        let consumed = consumed_capacity(kind, &rule_group)?;
        check_fits(consumed, capacity)?;
        let tags = tags(input)?;
        let dry_run = opt_bool(input, "DryRun")?.unwrap_or(false);
        let group = StoredRuleGroup {
            name: name.to_owned(),
            kind,
            id: uuid::Uuid::new_v4().to_string(),
            arn: format!(
                "arn:aws:network-firewall:{}:{}:{}/{name}",
                ctx.region,
                ctx.account_id,
                kind.arn_resource()
            ),
            capacity,
            consumed_capacity: consumed,
            description: description.map(str::to_owned),
            rule_group,
            tags,
            encryption_configuration: encryption_configuration(input)?
                .unwrap_or_else(|| json!({ "Type": "AWS_OWNED_KMS_KEY" })),
            source_metadata: opt_object(input, "SourceMetadata")?.cloned(),
            summary_configuration: opt_object(input, "SummaryConfiguration")?.cloned(),
            update_token: uuid::Uuid::new_v4().to_string(),
            last_modified: now_epoch_seconds(),
        };
        self.state.with(ctx, |state| {
            let key = (group.name.clone(), kind);
            if state.groups.contains_key(&key) {
                return Err(AwsError::invalid_request(format!(
                    "a {} rule group named {name} already exists",
                    kind.as_str()
                )));
            }
            let output = json!({
                "UpdateToken": group.update_token,
                "RuleGroupResponse": group.response("ACTIVE"),
            });
            if !dry_run {
                state.groups.insert(key, group);
            }
            Ok(output)
        })
    }

    fn describe(&self, ctx: &RequestContext, input: &Value) -> Result<Value, AwsError> {
        self.state.with(ctx, |state| {
            let group = &state.groups[&lookup(state, ctx, input)?];
            Ok(json!({
                "UpdateToken": group.update_token,
                "RuleGroup": group.rule_group,
                "RuleGroupResponse": group.response("ACTIVE"),
            }))
        })
    }

    fn update(&self, ctx: &RequestContext, input: &Value) -> Result<Value, AwsError> {
        let token = required_str(input, "UpdateToken")?;
        let new_rules = rule_group_from_input(input)?;
        let description = description(input)?;
        let encryption = encryption_configuration(input)?;
        let source_metadata = opt_object(input, "SourceMetadata")?;
        let summary = opt_object(input, "SummaryConfiguration")?;
        let dry_run = opt_bool(input, "DryRun")?.unwrap_or(false);
        self.state.with(ctx, |state| {
            let key = lookup(state, ctx, input)?;
            let current = &state.groups[&key];
            if current.update_token != token {
                return Err(AwsError::invalid_token(format!(
                    "the update token for rule group {} is stale or invalid; describe it again to get the current token",
                    current.name
                )));
            }
            // UpdateRuleGroup replaces the whole RuleGroup object; Capacity
            // is not an input, so it cannot change.
            let mut updated = current.clone();
            if let Some(rule_group) = new_rules {
                updated.consumed_capacity = consumed_capacity(updated.kind, &rule_group)?;
                check_fits(updated.consumed_capacity, updated.capacity)?;
                updated.rule_group = rule_group;
            }
            if let Some(description) = description {
                updated.description = Some(description.to_owned());
            }
            if let Some(encryption) = encryption {
                updated.encryption_configuration = encryption;
            }
            if let Some(metadata) = source_metadata {
                updated.source_metadata = Some(metadata.clone());
            }
            if let Some(summary) = summary {
                updated.summary_configuration = Some(summary.clone());
            }
            if dry_run {
                // Nothing changed, so the caller's token stays the valid one.
                return Ok(json!({
                    "UpdateToken": current.update_token,
                    "RuleGroupResponse": updated.response("ACTIVE"),
                }));
            }
            updated.update_token = uuid::Uuid::new_v4().to_string();
            updated.last_modified = now_epoch_seconds();
            let output = json!({
                "UpdateToken": updated.update_token,
                "RuleGroupResponse": updated.response("ACTIVE"),
            });
            state.groups.insert(key, updated);
            Ok(output)
        })
    }

    fn delete(&self, ctx: &RequestContext, input: &Value) -> Result<Value, AwsError> {
        self.state.with(ctx, |state| {
            let key = lookup(state, ctx, input)?;
            let arn = state.groups[&key].arn.clone();
            if let Some(p) = state.policies.values().find(|p| policies::referenced_arns(&p.policy).contains(&arn.as_str())) {
                return Err(AwsError::new(
                    "InvalidOperationException",
                    400,
                    format!("rule group {arn} is referenced by firewall policy {}; remove the reference first", p.name),
                ));
            }
            let group = state
                .groups
                .remove(&key)
                .expect("lookup returned a present key");
            Ok(json!({ "RuleGroupResponse": group.response("DELETING") }))
        })
    }

    fn list(&self, ctx: &RequestContext, input: &Value) -> Result<Value, AwsError> {
        let max_results = opt_i64(input, "MaxResults")?.unwrap_or(MAX_LIST_RESULTS);
        if !(1..=MAX_LIST_RESULTS).contains(&max_results) {
            return Err(AwsError::invalid_request(format!(
                "MaxResults must be between 1 and {MAX_LIST_RESULTS}"
            )));
        }
        let kind = opt_str(input, "Type")?.map(Kind::parse).transpose()?;
        let managed = match opt_str(input, "Scope")? {
            None | Some("ACCOUNT") => false,
            Some("MANAGED") => true,
            Some(other) => {
                return Err(AwsError::invalid_request(format!(
                    "Scope must be ACCOUNT or MANAGED (got {other:?})"
                )))
            }
        };
        let after = opt_str(input, "NextToken")?
            .map(parse_next_token)
            .transpose()?;
        self.state.with(ctx, |state| {
            // AWS managed rule groups are not emulated: MANAGED lists none.
            let mut matching = state
                .groups
                .iter()
                .filter(|_| !managed)
                .filter(|((_, k), _)| kind.is_none_or(|kind| kind == *k))
                .filter(|(key, _)| after.as_ref().is_none_or(|after| *key > after));
            let page_size = usize::try_from(max_results).unwrap_or(usize::MAX);
            let page: Vec<_> = matching.by_ref().take(page_size).collect();
            let mut output = json!({
                "RuleGroups": page
                    .iter()
                    .map(|(_, g)| json!({ "Name": g.name, "Arn": g.arn }))
                    .collect::<Vec<_>>(),
            });
            if let (Some(((name, kind), _)), Some(_)) = (page.last(), matching.next()) {
                output["NextToken"] = json!(format!("{}/{name}", kind.as_str()));
            }
            Ok(output)
        })
    }
}

impl Service for NetworkFirewall {
    fn name(&self) -> &'static str {
        "network-firewall"
    }

    fn json_target_prefix(&self) -> Option<&'static str> {
        Some("NetworkFirewall_20201112")
    }

    fn operations(&self) -> &'static [&'static str] {
        &[
            "CreateRuleGroup",
            "DescribeRuleGroup",
            "UpdateRuleGroup",
            "DeleteRuleGroup",
            "ListRuleGroups",
            "CreateFirewallPolicy",
            "DescribeFirewallPolicy",
            "UpdateFirewallPolicy",
            "DeleteFirewallPolicy",
            "TagResource",
            "UntagResource",
            "ListTagsForResource",
        ]
    }

    fn handle(
        &self,
        ctx: &RequestContext,
        operation: &str,
        input: Value,
    ) -> Result<Value, AwsError> {
        match operation {
            "CreateRuleGroup" => self.create(ctx, &input),
            "DescribeRuleGroup" => self.describe(ctx, &input),
            "UpdateRuleGroup" => self.update(ctx, &input),
            "DeleteRuleGroup" => self.delete(ctx, &input),
            "ListRuleGroups" => self.list(ctx, &input),
            "CreateFirewallPolicy" => self.state.with(ctx, |s| policies::create(s, ctx, &input)),
            "DescribeFirewallPolicy" => {
                self.state.with(ctx, |s| policies::describe(s, ctx, &input))
            }
            "UpdateFirewallPolicy" => self.state.with(ctx, |s| policies::update(s, ctx, &input)),
            "DeleteFirewallPolicy" => self.state.with(ctx, |s| policies::delete(s, ctx, &input)),
            "TagResource" => self.state.with(ctx, |s| policies::tag_resource(s, &input)),
            "UntagResource" => self
                .state
                .with(ctx, |s| policies::untag_resource(s, &input)),
            "ListTagsForResource" => self.state.with(ctx, |s| policies::list_tags(s, &input)),
            other => Err(AwsError::unknown_operation(format!(
                "network-firewall has no operation {other}"
            ))),
        }
    }

    fn reset(&self) {
        self.state.clear();
    }
}

/// Finds the group a request names by `RuleGroupArn`, or by `RuleGroupName`
/// plus `Type` (names are only unique per type).
fn lookup(
    state: &Regional,
    ctx: &RequestContext,
    input: &Value,
) -> Result<(String, Kind), AwsError> {
    let arn = opt_str(input, "RuleGroupArn")?;
    let name = opt_str(input, "RuleGroupName")?;
    let kind = opt_str(input, "Type")?.map(Kind::parse).transpose()?;
    let key = match (arn, name) {
        (Some(arn), _) => {
            let (key, group) = state
                .groups
                .iter()
                .find(|(_, g)| g.arn == arn)
                .ok_or_else(|| not_found(&format!("with ARN {arn}"), ctx))?;
            if name.is_some_and(|n| n != group.name) || kind.is_some_and(|k| k != group.kind) {
                return Err(AwsError::invalid_request(
                    "RuleGroupName/Type do not match the rule group RuleGroupArn identifies",
                ));
            }
            key.clone()
        }
        (None, Some(name)) => {
            let kind = kind.ok_or_else(|| {
                AwsError::invalid_request(
                    "Type is required when the rule group is named without RuleGroupArn",
                )
            })?;
            let key = (name.to_owned(), kind);
            if !state.groups.contains_key(&key) {
                return Err(not_found(&format!("{name} of type {}", kind.as_str()), ctx));
            }
            key
        }
        (None, None) => {
            return Err(AwsError::invalid_request(
                "specify RuleGroupArn or RuleGroupName",
            ))
        }
    };
    Ok(key)
}

fn not_found(what: &str, ctx: &RequestContext) -> AwsError {
    AwsError::resource_not_found(format!(
        "rule group {what} not found in account {} region {}",
        ctx.account_id, ctx.region
    ))
}

pub(super) fn required_str<'a>(input: &'a Value, key: &str) -> Result<&'a str, AwsError> {
    opt_str(input, key)?.ok_or_else(|| AwsError::invalid_request(format!("{key} is required")))
}

pub(super) fn validate_name(name: &str) -> Result<(), AwsError> {
    let valid_chars = name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if name.is_empty() || name.len() > 128 || !valid_chars {
        return Err(AwsError::invalid_request(format!(
            "RuleGroupName must be 1-128 characters of [a-zA-Z0-9-] (got {name:?})"
        )));
    }
    Ok(())
}

pub(super) fn description(input: &Value) -> Result<Option<&str>, AwsError> {
    let description = opt_str(input, "Description")?;
    if description.is_some_and(|d| d.chars().count() > MAX_DESCRIPTION_CHARS) {
        return Err(AwsError::invalid_request(format!(
            "Description exceeds {MAX_DESCRIPTION_CHARS} characters"
        )));
    }
    Ok(description)
}

fn encryption_configuration(input: &Value) -> Result<Option<Value>, AwsError> {
    let Some(config) = opt_object(input, "EncryptionConfiguration")? else {
        return Ok(None);
    };
    match opt_str(config, "Type")? {
        Some("AWS_OWNED_KMS_KEY" | "CUSTOMER_KMS") => Ok(Some(config.clone())),
        other => Err(AwsError::invalid_request(format!(
            "EncryptionConfiguration.Type must be AWS_OWNED_KMS_KEY or CUSTOMER_KMS (got {other:?})"
        ))),
    }
}

pub(super) fn tags(input: &Value) -> Result<Vec<Value>, AwsError> {
    let tags = opt_array(input, "Tags")?.cloned().unwrap_or_default();
    if tags.len() > MAX_TAGS {
        return Err(AwsError::invalid_request(format!(
            "at most {MAX_TAGS} tags are allowed"
        )));
    }
    for tag in &tags {
        let key = opt_str(tag, "Key")?.unwrap_or_default();
        let value = opt_str(tag, "Value")?;
        if key.is_empty()
            || key.chars().count() > 128
            || value.is_none_or(|v| v.chars().count() > 256)
        {
            return Err(AwsError::invalid_request(
                "each tag needs a Key of 1-128 and a Value of 0-256 characters",
            ));
        }
    }
    Ok(tags)
}

fn check_fits(consumed: i64, capacity: i64) -> Result<(), AwsError> {
    if consumed > capacity {
        return Err(AwsError::invalid_request(format!(
            "the rules need {consumed} capacity units but the rule group's capacity is {capacity}"
        )));
    }
    Ok(())
}

fn parse_next_token(token: &str) -> Result<(String, Kind), AwsError> {
    let invalid = || AwsError::invalid_request(format!("invalid NextToken {token:?}"));
    let (kind, name) = token.split_once('/').ok_or_else(invalid)?;
    Ok((name.to_owned(), Kind::parse(kind).map_err(|_| invalid())?))
}

pub(super) fn now_epoch_seconds() -> f64 {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    // Millisecond precision, as AWS sends it.
    (since_epoch.as_millis() as f64) / 1000.0
}
