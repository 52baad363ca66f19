//! The executor's configuration, from environment variables.

use std::collections::BTreeMap;

use common::config::Env;

#[derive(Debug, Clone)]
pub struct Config {
    /// Region -> the firewall policy whose stateful groups this system manages.
    pub policies: BTreeMap<String, String>,
    pub strict_order: bool,
    /// Capacity of each tenant group (one unit per rule).
    pub group_capacity: usize,
    pub global_group_capacity: usize,
    /// Prefix of the names of groups this system creates.
    pub group_prefix: String,
    /// The firewall VPC, part of the global rules' names.
    pub firewall_vpc_id: String,
    pub spoke_role_name: String,
    pub spoke_external_id: Option<String>,
    /// The central team's `global_rules.yaml`, rendered at start-up.
    pub global_rules_yaml: String,
    /// Bucket of the per-Region ownership index (`ownership-index/`);
    /// unset means a full scan of the managed groups on every change.
    pub index_bucket: Option<String>,
}

/// The tag marking groups this system owns (never a name substring).
pub const MANAGED_TAG: &str = "anfw:managed-by";
pub const MANAGED_VALUE: &str = "firewall-rule-executor";
/// `tenant` or `global`.
pub const ROLE_TAG: &str = "anfw:role";

impl Config {
    pub fn from_env(env: &mut Env) -> Self {
        let mut policies = BTreeMap::new();
        for pair in env.list("POLICY_ARNS") {
            match pair.split_once('=') {
                Some((region, arn))
                    if arn.starts_with("arn:") && arn.contains(":firewall-policy/") =>
                {
                    policies.insert(region.to_string(), arn.to_string());
                }
                _ => env.problem(
                    "POLICY_ARNS",
                    format!("{pair:?} is not <region>=<firewall policy ARN>"),
                ),
            }
        }
        if policies.is_empty() {
            env.problem(
                "POLICY_ARNS",
                "names no policy; expected <region>=<firewall policy ARN>,...",
            );
        }
        let strict_order = env.parse_with(
            "RULE_ORDER",
            true,
            "STRICT_ORDER or DEFAULT_ACTION_ORDER",
            |v| match v {
                "STRICT_ORDER" => Ok(true),
                "DEFAULT_ACTION_ORDER" => Ok(false),
                _ => Err("unknown rule order"),
            },
        );
        let group_capacity =
            env.parse_or("GROUP_CAPACITY", 2000usize, "a capacity from 1 to 30000");
        if !(1..=30_000).contains(&group_capacity) {
            env.problem("GROUP_CAPACITY", "must be from 1 to 30000");
        }
        let group_prefix = env
            .optional("GROUP_PREFIX")
            .unwrap_or_else(|| "anfw-rules".into());
        if group_prefix.is_empty()
            || group_prefix.len() > 60
            || !group_prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            env.problem("GROUP_PREFIX", "must be 1-60 letters, digits or hyphens");
        }
        Config {
            policies,
            strict_order,
            group_capacity,
            global_group_capacity: env.parse_or(
                "GLOBAL_GROUP_CAPACITY",
                100usize,
                "a capacity from 1 to 30000",
            ),
            group_prefix,
            firewall_vpc_id: env.required("FIREWALL_VPC_ID", "the firewall VPC's id"),
            spoke_role_name: env.required(
                "SPOKE_ROLE_NAME",
                "the name of the role in every spoke account",
            ),
            spoke_external_id: env.optional("SPOKE_EXTERNAL_ID"),
            global_rules_yaml: include_str!("../data/global_rules.yaml").to_string(),
            index_bucket: env.optional("INDEX_BUCKET"),
        }
    }
}
