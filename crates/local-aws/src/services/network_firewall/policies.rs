//! Firewall policies: `CreateFirewallPolicy`, `DescribeFirewallPolicy`,
//! `UpdateFirewallPolicy`, `DeleteFirewallPolicy`, with update tokens.
//!
//! Modelled semantics: the stateful references must name existing stateful
//! groups of the Region, at most 20; under STRICT_ORDER each needs a
//! priority, unique in the policy, and the groups must use strict order
//! too; under the default order priorities are not allowed; the referenced
//! groups' capacities must fit the policy's 30,000 stateful units. A rule
//! group referenced by a policy cannot be deleted.

use serde_json::{json, Map, Value};

use super::rules::Kind;
use super::{now_epoch_seconds, required_str, tags, Regional};
use crate::input::{opt_array, opt_object, opt_str};
use crate::{AwsError, RequestContext};

pub(super) const MAX_STATEFUL_REFERENCES: usize = 20;
pub(super) const MAX_POLICY_STATEFUL_CAPACITY: i64 = 30_000;

#[derive(Debug, Clone)]
pub(super) struct StoredPolicy {
    pub name: String,
    pub arn: String,
    pub id: String,
    pub policy: Value,
    pub description: Option<String>,
    pub tags: Vec<Value>,
    pub update_token: String,
    pub last_modified: f64,
}

impl StoredPolicy {
    fn response(&self, regional: &Regional, status: &str) -> Value {
        let mut r = Map::new();
        r.insert("FirewallPolicyName".into(), json!(self.name));
        r.insert("FirewallPolicyArn".into(), json!(self.arn));
        r.insert("FirewallPolicyId".into(), json!(self.id));
        r.insert("FirewallPolicyStatus".into(), json!(status));
        r.insert(
            "ConsumedStatefulRuleCapacity".into(),
            json!(stateful_capacity(regional, &self.policy).unwrap_or(0)),
        );
        r.insert("NumberOfAssociations".into(), json!(0));
        r.insert("LastModifiedTime".into(), json!(self.last_modified));
        if let Some(d) = &self.description {
            r.insert("Description".into(), json!(d));
        }
        if !self.tags.is_empty() {
            r.insert("Tags".into(), json!(self.tags));
        }
        Value::Object(r)
    }
}

/// The ARNs of the stateful groups `policy` references.
pub(super) fn referenced_arns(policy: &Value) -> Vec<&str> {
    policy
        .get("StatefulRuleGroupReferences")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|r| r.get("ResourceArn").and_then(Value::as_str))
        .collect()
}

fn stateful_capacity(regional: &Regional, policy: &Value) -> Result<i64, AwsError> {
    let mut total = 0;
    for arn in referenced_arns(policy) {
        let group = regional
            .groups
            .values()
            .find(|g| g.arn == arn && g.kind == Kind::Stateful)
            .ok_or_else(|| AwsError::invalid_request(format!("StatefulRuleGroupReferences: {arn} is not a stateful rule group in this Region")))?;
        total += group.capacity;
    }
    Ok(total)
}

/// Checks a `FirewallPolicy` object against the Region's rule groups.
fn validate(regional: &Regional, policy: &Value) -> Result<(), AwsError> {
    for member in ["StatelessDefaultActions", "StatelessFragmentDefaultActions"] {
        if opt_array(policy, member)?.is_none_or(|a| a.is_empty()) {
            return Err(AwsError::invalid_request(format!(
                "FirewallPolicy.{member} is required"
            )));
        }
    }
    let strict = opt_object(policy, "StatefulEngineOptions")?
        .map(|o| opt_str(o, "RuleOrder"))
        .transpose()?
        .flatten()
        == Some("STRICT_ORDER");
    let refs = opt_array(policy, "StatefulRuleGroupReferences")?
        .cloned()
        .unwrap_or_default();
    if refs.len() > MAX_STATEFUL_REFERENCES {
        return Err(AwsError::invalid_request(format!(
            "a policy references at most {MAX_STATEFUL_REFERENCES} stateful rule groups (got {})",
            refs.len()
        )));
    }
    let mut priorities = Vec::new();
    let mut arns = Vec::new();
    for r in &refs {
        let arn = required_str(r, "ResourceArn")?;
        if arns.contains(&arn) {
            return Err(AwsError::invalid_request(format!(
                "{arn} is referenced twice"
            )));
        }
        arns.push(arn);
        let group = regional
            .groups
            .values()
            .find(|g| g.arn == arn)
            .ok_or_else(|| {
                AwsError::invalid_request(format!(
                    "StatefulRuleGroupReferences: {arn} does not exist"
                ))
            })?;
        let group_strict = group
            .rule_group
            .pointer("/StatefulRuleOptions/RuleOrder")
            .and_then(Value::as_str)
            == Some("STRICT_ORDER");
        if group_strict != strict {
            return Err(AwsError::invalid_request(format!(
                "{arn} does not use the policy's stateful rule order"
            )));
        }
        match (strict, r.get("Priority").and_then(Value::as_i64)) {
            (true, None) => {
                return Err(AwsError::invalid_request(format!(
                    "{arn}: Priority is required under STRICT_ORDER"
                )))
            }
            (true, Some(p)) if !(1..=65_535).contains(&p) => {
                return Err(AwsError::invalid_request(format!(
                    "{arn}: Priority {p} is not from 1 to 65535"
                )))
            }
            (true, Some(p)) if priorities.contains(&p) => {
                return Err(AwsError::invalid_request(format!(
                    "Priority {p} is used by two rule group references; priorities must be unique"
                )))
            }
            (true, Some(p)) => priorities.push(p),
            (false, Some(_)) => {
                return Err(AwsError::invalid_request(format!(
                    "{arn}: Priority is only valid under STRICT_ORDER"
                )))
            }
            (false, None) => {}
        }
    }
    let capacity = stateful_capacity(regional, policy)?;
    if capacity > MAX_POLICY_STATEFUL_CAPACITY {
        return Err(AwsError::invalid_request(format!(
            "the referenced stateful rule groups need {capacity} capacity units; a policy allows {MAX_POLICY_STATEFUL_CAPACITY}"
        )));
    }
    Ok(())
}

fn lookup<'a>(
    regional: &'a Regional,
    ctx: &RequestContext,
    input: &Value,
) -> Result<&'a StoredPolicy, AwsError> {
    let arn = opt_str(input, "FirewallPolicyArn")?;
    let name = opt_str(input, "FirewallPolicyName")?;
    regional
        .policies
        .values()
        .find(|p| {
            arn.is_some_and(|a| a == p.arn) || (arn.is_none() && name == Some(p.name.as_str()))
        })
        .ok_or_else(|| {
            AwsError::resource_not_found(format!(
                "firewall policy {} not found in account {} region {}",
                arn.or(name).unwrap_or("(unnamed)"),
                ctx.account_id,
                ctx.region
            ))
        })
}

pub(super) fn create(
    regional: &mut Regional,
    ctx: &RequestContext,
    input: &Value,
) -> Result<Value, AwsError> {
    let name = required_str(input, "FirewallPolicyName")?;
    super::validate_name(name)?;
    let policy = opt_object(input, "FirewallPolicy")?
        .ok_or_else(|| AwsError::invalid_request("FirewallPolicy is required"))?
        .clone();
    validate(regional, &policy)?;
    if regional.policies.contains_key(name) {
        return Err(AwsError::invalid_request(format!(
            "a firewall policy named {name} already exists"
        )));
    }
    let stored = StoredPolicy {
        name: name.to_string(),
        arn: format!(
            "arn:aws:network-firewall:{}:{}:firewall-policy/{name}",
            ctx.region, ctx.account_id
        ),
        id: uuid::Uuid::new_v4().to_string(),
        policy,
        description: super::description(input)?.map(str::to_string),
        tags: tags(input)?,
        update_token: uuid::Uuid::new_v4().to_string(),
        last_modified: now_epoch_seconds(),
    };
    let out = json!({"UpdateToken": stored.update_token, "FirewallPolicyResponse": stored.response(regional, "ACTIVE")});
    regional.policies.insert(name.to_string(), stored);
    Ok(out)
}

pub(super) fn describe(
    regional: &Regional,
    ctx: &RequestContext,
    input: &Value,
) -> Result<Value, AwsError> {
    let p = lookup(regional, ctx, input)?;
    Ok(
        json!({"UpdateToken": p.update_token, "FirewallPolicyResponse": p.response(regional, "ACTIVE"), "FirewallPolicy": p.policy}),
    )
}

pub(super) fn update(
    regional: &mut Regional,
    ctx: &RequestContext,
    input: &Value,
) -> Result<Value, AwsError> {
    let token = required_str(input, "UpdateToken")?;
    let policy = opt_object(input, "FirewallPolicy")?
        .ok_or_else(|| AwsError::invalid_request("FirewallPolicy is required"))?
        .clone();
    let name = lookup(regional, ctx, input)?.name.clone();
    if regional.policies[&name].update_token != token {
        return Err(AwsError::invalid_token(
            "the update token is not the policy's current one; describe the policy again and retry",
        ));
    }
    validate(regional, &policy)?;
    let description = super::description(input)?.map(str::to_string);
    let stored = regional.policies.get_mut(&name).expect("looked up");
    stored.policy = policy;
    if description.is_some() {
        stored.description = description;
    }
    stored.update_token = uuid::Uuid::new_v4().to_string();
    stored.last_modified = now_epoch_seconds();
    let stored = stored.clone();
    Ok(
        json!({"UpdateToken": stored.update_token, "FirewallPolicyResponse": stored.response(regional, "ACTIVE")}),
    )
}

pub(super) fn delete(
    regional: &mut Regional,
    ctx: &RequestContext,
    input: &Value,
) -> Result<Value, AwsError> {
    let name = lookup(regional, ctx, input)?.name.clone();
    let p = regional.policies.remove(&name).expect("looked up");
    Ok(json!({"FirewallPolicyResponse": p.response(regional, "DELETING")}))
}

/// Tags of the rule group or policy `arn`.
fn tags_of<'a>(regional: &'a mut Regional, arn: &str) -> Result<&'a mut Vec<Value>, AwsError> {
    if let Some(g) = regional.groups.values_mut().find(|g| g.arn == arn) {
        return Ok(&mut g.tags);
    }
    regional
        .policies
        .values_mut()
        .find(|p| p.arn == arn)
        .map(|p| &mut p.tags)
        .ok_or_else(|| AwsError::resource_not_found(format!("no resource {arn}")))
}

pub(super) fn tag_resource(regional: &mut Regional, input: &Value) -> Result<Value, AwsError> {
    let arn = required_str(input, "ResourceArn")?;
    let new = tags(input)?;
    let existing = tags_of(regional, arn)?;
    for t in new {
        let key = t.get("Key").cloned();
        existing.retain(|e| e.get("Key") != key.as_ref());
        existing.push(t);
    }
    if existing.len() > super::MAX_TAGS {
        return Err(AwsError::invalid_request(format!(
            "at most {} tags are allowed",
            super::MAX_TAGS
        )));
    }
    Ok(json!({}))
}

pub(super) fn untag_resource(regional: &mut Regional, input: &Value) -> Result<Value, AwsError> {
    let arn = required_str(input, "ResourceArn")?;
    let keys: Vec<Value> = opt_array(input, "TagKeys")?.cloned().unwrap_or_default();
    tags_of(regional, arn)?.retain(|t| !t.get("Key").is_some_and(|k| keys.contains(k)));
    Ok(json!({}))
}

pub(super) fn list_tags(regional: &mut Regional, input: &Value) -> Result<Value, AwsError> {
    let arn = required_str(input, "ResourceArn")?;
    Ok(json!({"Tags": tags_of(regional, arn)?.clone()}))
}
