//! The ports on the AWS SDK: Network Firewall clients per Region (the
//! function's own role), S3 for stored states, the spoke's log through the
//! spoke role.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use aws_config::{Region, SdkConfig};
use aws_sdk_networkfirewall::types::{
    FirewallPolicy, IpSet, ResourceManagedStatus, RuleGroup, RuleGroupType, RuleOrder,
    RuleVariables, RulesSource, StatefulRuleGroupReference, StatefulRuleOptions, Tag,
};
use aws_sdk_networkfirewall::Client;
use common::aws::partition_of;
use common::aws::CrossAccount;
use common::firewall_state::DesiredState;
use common::FunctionError;

use crate::config::{Config, MANAGED_TAG, MANAGED_VALUE, ROLE_TAG};
use crate::handler::{Firewall, FirewallError, GroupRead, SpokeLog, StateStore};
use crate::plan::{GroupContent, GroupState};
use crate::policy::{attach, detach, GroupRef, GroupRole};

pub struct Aws {
    own: SdkConfig,
    clients: Mutex<HashMap<String, Client>>,
    policies: BTreeMap<String, String>,
    strict: bool,
    spokes: CrossAccount,
    role_name: String,
    external_id: Option<String>,
}

impl Aws {
    pub fn new(own: SdkConfig, config: &Config, function_name: &str) -> Self {
        Aws {
            spokes: CrossAccount::new(own.clone(), function_name),
            own,
            clients: Mutex::default(),
            policies: config.policies.clone(),
            strict: config.strict_order,
            role_name: config.spoke_role_name.clone(),
            external_id: config.spoke_external_id.clone(),
        }
    }

    fn nfw(&self, region: &str) -> Client {
        let mut clients = self.clients.lock().expect("not poisoned");
        clients
            .entry(region.to_string())
            .or_insert_with(|| {
                Client::new(
                    &self
                        .own
                        .to_builder()
                        .region(Region::new(region.to_string()))
                        .build(),
                )
            })
            .clone()
    }

    fn policy_arn(&self, region: &str) -> Result<&str, FirewallError> {
        self.policies
            .get(region)
            .map(String::as_str)
            .ok_or_else(|| {
                FunctionError::permanent("UnsupportedRegion", format!("no policy for {region}"))
                    .into()
            })
    }

    fn rule_order(&self) -> RuleOrder {
        if self.strict {
            RuleOrder::StrictOrder
        } else {
            RuleOrder::DefaultActionOrder
        }
    }

    fn rule_group(&self, content: &GroupContent) -> Result<RuleGroup, FirewallError> {
        let mut ip_sets = HashMap::new();
        for (name, cidrs) in &content.ip_sets {
            let set = IpSet::builder()
                .set_definition(Some(cidrs.clone()))
                .build()
                .map_err(|e| FunctionError::permanent("InvalidIpSet", e.to_string()))?;
            ip_sets.insert(name.clone(), set);
        }
        let mut group = RuleGroup::builder()
            .rules_source(
                RulesSource::builder()
                    .rules_string(content.rules_string())
                    .build(),
            )
            .stateful_rule_options(
                StatefulRuleOptions::builder()
                    .rule_order(self.rule_order())
                    .build(),
            );
        if !ip_sets.is_empty() {
            group =
                group.rule_variables(RuleVariables::builder().set_ip_sets(Some(ip_sets)).build());
        }
        Ok(group.build())
    }

    /// Describe, change the references, update with that describe's token;
    /// a stale token re-reads (bounded).
    async fn change_policy(
        &self,
        region: &str,
        change: impl Fn(&[GroupRef]) -> Result<Option<Vec<GroupRef>>, String>,
    ) -> Result<(), FirewallError> {
        let client = self.nfw(region);
        let arn = self.policy_arn(region)?.to_string();
        for _ in 0..5 {
            let out = client
                .describe_firewall_policy()
                .firewall_policy_arn(&arn)
                .send()
                .await
                .map_err(|e| FunctionError::from_sdk("DescribeFirewallPolicy", &e))?;
            let policy = out.firewall_policy().cloned().ok_or_else(|| {
                FunctionError::permanent("PolicyMissing", format!("{arn} has no FirewallPolicy"))
            })?;
            let refs: Vec<GroupRef> = policy
                .stateful_rule_group_references()
                .iter()
                .map(|r| GroupRef {
                    arn: r.resource_arn().to_string(),
                    priority: r.priority(),
                })
                .collect();
            let Some(new_refs) =
                change(&refs).map_err(|e| FunctionError::permanent("PolicyFull", e))?
            else {
                return Ok(());
            };
            let new_policy = with_references(&policy, &new_refs)?;
            match client
                .update_firewall_policy()
                .firewall_policy_arn(&arn)
                .update_token(out.update_token())
                .firewall_policy(new_policy)
                .send()
                .await
            {
                Ok(_) => return Ok(()),
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|s| s.is_invalid_token_exception()) =>
                {
                    continue
                }
                Err(e) => return Err(FunctionError::from_sdk("UpdateFirewallPolicy", &e).into()),
            }
        }
        Err(FunctionError::retryable(
            "InvalidTokenException",
            format!("policy {arn} kept changing"),
        )
        .into())
    }
}

/// `policy` with its stateful references replaced; every other member kept.
fn with_references(
    policy: &FirewallPolicy,
    refs: &[GroupRef],
) -> Result<FirewallPolicy, FirewallError> {
    let mut stateful = Vec::new();
    for r in refs {
        stateful.push(
            StatefulRuleGroupReference::builder()
                .resource_arn(&r.arn)
                .set_priority(r.priority)
                .build()
                .map_err(|e| FunctionError::permanent("InvalidReference", e.to_string()))?,
        );
    }
    FirewallPolicy::builder()
        .set_stateless_rule_group_references(Some(
            policy.stateless_rule_group_references().to_vec(),
        ))
        .set_stateless_default_actions(Some(policy.stateless_default_actions().to_vec()))
        .set_stateless_fragment_default_actions(Some(
            policy.stateless_fragment_default_actions().to_vec(),
        ))
        .set_stateless_custom_actions(Some(policy.stateless_custom_actions().to_vec()))
        .set_stateful_rule_group_references(Some(stateful))
        .set_stateful_default_actions(
            Some(policy.stateful_default_actions().to_vec()).filter(|v| !v.is_empty()),
        )
        .set_stateful_engine_options(policy.stateful_engine_options().cloned())
        .set_tls_inspection_configuration_arn(
            policy
                .tls_inspection_configuration_arn()
                .map(str::to_string),
        )
        .set_policy_variables(policy.policy_variables().cloned())
        .set_enable_tls_session_holding(policy.enable_tls_session_holding())
        .build()
        .map_err(|e| FunctionError::permanent("InvalidPolicy", e.to_string()).into())
}

/// Sends a `DescribeRuleGroup`; `None` when the group is gone or not ours.
async fn describe(
    request: aws_sdk_networkfirewall::operation::describe_rule_group::builders::DescribeRuleGroupFluentBuilder,
) -> Result<Option<GroupRead>, FirewallError> {
    let d = match request.send().await {
        Ok(d) => d,
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            return Ok(None)
        }
        Err(e) => return Err(FunctionError::from_sdk("DescribeRuleGroup", &e).into()),
    };
    let Some(response) = d.rule_group_response() else {
        return Ok(None);
    };
    let tag = |k: &str| {
        response
            .tags()
            .iter()
            .find(|t| t.key() == k)
            .map(|t| t.value().to_string())
    };
    if tag(MANAGED_TAG).as_deref() != Some(MANAGED_VALUE) {
        return Ok(None);
    }
    let role = match tag(ROLE_TAG).as_deref() {
        Some("global") => GroupRole::Global,
        _ => GroupRole::Tenant,
    };
    let group = d.rule_group();
    let rules = group
        .and_then(|g| g.rules_source())
        .and_then(|s| s.rules_string())
        .map(lines)
        .unwrap_or_default();
    let ip_sets = group
        .and_then(|g| g.rule_variables())
        .and_then(|v| v.ip_sets())
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.definition().to_vec()))
                .collect()
        })
        .unwrap_or_default();
    Ok(Some(GroupRead {
        arn: response.rule_group_arn().to_string(),
        token: d.update_token().to_string(),
        role,
        state: GroupState {
            name: response.rule_group_name().to_string(),
            capacity: response.capacity().unwrap_or(0).max(0) as usize,
            rules,
            ip_sets,
        },
    }))
}

fn lines(rules: &str) -> Vec<String> {
    rules
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

impl Firewall for Aws {
    async fn managed_groups(&self, region: &str) -> Result<Vec<GroupRead>, FirewallError> {
        let client = self.nfw(region);
        let mut pages = client
            .list_rule_groups()
            .scope(ResourceManagedStatus::Account)
            .r#type(RuleGroupType::Stateful)
            .into_paginator()
            .send();
        let mut arns = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| FunctionError::from_sdk("ListRuleGroups", &e))?;
            arns.extend(
                page.rule_groups()
                    .iter()
                    .filter_map(|g| g.arn().map(str::to_string)),
            );
        }
        let mut out = Vec::new();
        for arn in arns {
            let request = client.describe_rule_group().rule_group_arn(&arn);
            if let Some(g) = describe(request).await? {
                out.push(g);
            }
        }
        Ok(out)
    }

    async fn describe_group(
        &self,
        region: &str,
        name: &str,
    ) -> Result<Option<GroupRead>, FirewallError> {
        let request = self
            .nfw(region)
            .describe_rule_group()
            .rule_group_name(name)
            .r#type(RuleGroupType::Stateful);
        describe(request).await
    }

    async fn update_group(
        &self,
        region: &str,
        group: &GroupRead,
        content: &GroupContent,
    ) -> Result<(), FirewallError> {
        let rule_group = self.rule_group(content)?;
        match self
            .nfw(region)
            .update_rule_group()
            .rule_group_arn(&group.arn)
            .update_token(&group.token)
            .r#type(RuleGroupType::Stateful)
            .rule_group(rule_group)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_invalid_token_exception()) =>
            {
                Err(FirewallError::InvalidToken)
            }
            Err(e) => Err(FunctionError::from_sdk("UpdateRuleGroup", &e).into()),
        }
    }

    async fn create_group(
        &self,
        region: &str,
        name: &str,
        role: GroupRole,
        capacity: usize,
        content: &GroupContent,
    ) -> Result<String, FirewallError> {
        let role_value = match role {
            GroupRole::Tenant => "tenant",
            GroupRole::Global => "global",
        };
        let tag = |k: &str, v: &str| {
            Tag::builder()
                .key(k)
                .value(v)
                .build()
                .expect("key and value set")
        };
        let out = self
            .nfw(region)
            .create_rule_group()
            .rule_group_name(name)
            .r#type(RuleGroupType::Stateful)
            .capacity(capacity as i32)
            .description("Managed by firewall-rule-executor; do not edit")
            .rule_group(self.rule_group(content)?)
            .tags(tag(MANAGED_TAG, MANAGED_VALUE))
            .tags(tag(ROLE_TAG, role_value))
            .send()
            .await
            .map_err(|e| FunctionError::from_sdk("CreateRuleGroup", &e))?;
        Ok(out
            .rule_group_response()
            .map(|r| r.rule_group_arn().to_string())
            .unwrap_or_default())
    }

    async fn delete_group(&self, region: &str, arn: &str) -> Result<(), FirewallError> {
        match self
            .nfw(region)
            .delete_rule_group()
            .rule_group_arn(arn)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(FunctionError::from_sdk("DeleteRuleGroup", &e).into()),
        }
    }

    async fn attach(&self, region: &str, arn: &str, role: GroupRole) -> Result<(), FirewallError> {
        let strict = self.strict;
        self.change_policy(region, |refs| attach(refs, arn, strict, role))
            .await
    }

    async fn detach(&self, region: &str, arn: &str) -> Result<(), FirewallError> {
        self.change_policy(region, |refs| Ok(detach(refs, arn)))
            .await
    }

    async fn attach_missing(
        &self,
        region: &str,
        groups: &[(String, GroupRole)],
    ) -> Result<(), FirewallError> {
        let strict = self.strict;
        self.change_policy(region, |refs| {
            let mut changed: Option<Vec<GroupRef>> = None;
            for (arn, role) in groups {
                if let Some(next) = attach(changed.as_deref().unwrap_or(refs), arn, strict, *role)?
                {
                    changed = Some(next);
                }
            }
            Ok(changed)
        })
        .await
    }
}

impl StateStore for Aws {
    async fn fetch(&self, bucket: &str, key: &str) -> Result<DesiredState, FunctionError> {
        let s3 = common::aws::s3_client(&self.own);
        let out = s3
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| {
                FunctionError::from_sdk("s3:GetObject", &e)
                    .context(format_args!("desired state s3://{bucket}/{key}"))
            })?;
        let bytes = out.body.collect().await.map_err(|e| {
            FunctionError::retryable(
                "S3ReadFailed",
                format!("desired state s3://{bucket}/{key}: {e}"),
            )
        })?;
        serde_json::from_slice(&bytes.to_vec()).map_err(|e| {
            FunctionError::invalid_event(format!("s3://{bucket}/{key} is not a desired state: {e}"))
        })
    }
}

impl SpokeLog for Aws {
    async fn write(
        &self,
        account: &str,
        region: &str,
        group: &str,
        stream: &str,
        lines: &[String],
    ) -> Result<(), FunctionError> {
        let partition = partition_of(region);
        let arn = format!("arn:{partition}:iam::{account}:role/{}", self.role_name);
        let config = self
            .spokes
            .config_for(&arn, self.external_id.as_deref())
            .await?
            .to_builder()
            .region(Region::new(region.to_string()))
            .build();
        common::cloudwatch_logs::append_lines(
            &config,
            group,
            stream,
            lines.iter().map(String::as_str),
        )
        .await
    }
}
