//! The collector's configuration, from environment variables.

use std::collections::BTreeMap;

use common::config::Env;

use crate::file_name::is_region;
use crate::rules::RuleOrder;

#[derive(Debug, Clone)]
pub struct Config {
    /// The executor's FIFO queue.
    pub queue_url: String,
    /// Where a desired state over the SQS limit is stored.
    pub overflow_bucket: String,
    /// The spoke role's name (same in every spoke account).
    pub spoke_role_name: String,
    pub spoke_external_id: Option<String>,
    /// The spoke's customer log group (in the spoke account).
    pub spoke_log_group: String,
    /// Regions with a managed firewall; other Regions' files are rejected.
    pub supported_regions: Vec<String>,
    pub rule_order: RuleOrder,
    /// Region -> the Transit Gateway a VPC must be attached to; a Region
    /// without an entry accepts any available attachment.
    pub transit_gateways: BTreeMap<String, String>,
}

impl Config {
    pub fn from_env(env: &mut Env) -> Self {
        let supported_regions = env.list("SUPPORTED_REGIONS");
        if supported_regions.is_empty() {
            env.problem(
                "SUPPORTED_REGIONS",
                "is not set; expected a comma-separated list of Regions, e.g. eu-west-1,us-east-1",
            );
        }
        if let Some(bad) = supported_regions.iter().find(|r| !is_region(r)) {
            env.problem("SUPPORTED_REGIONS", format!("{bad:?} is not a Region name"));
        }
        let mut transit_gateways = BTreeMap::new();
        for pair in env.list("TRANSIT_GATEWAYS") {
            match pair.split_once('=') {
                Some((region, tgw)) if is_region(region) && tgw.starts_with("tgw-") => {
                    transit_gateways.insert(region.to_string(), tgw.to_string());
                }
                _ => env.problem(
                    "TRANSIT_GATEWAYS",
                    format!("{pair:?} is not <region>=tgw-<id>"),
                ),
            }
        }
        Config {
            queue_url: env.required("QUEUE_URL", "the URL of the executor's FIFO queue"),
            overflow_bucket: env.required(
                "OVERFLOW_BUCKET",
                "a bucket for desired states over 256 KiB",
            ),
            spoke_role_name: env.required(
                "SPOKE_ROLE_NAME",
                "the name of the role in every spoke account",
            ),
            spoke_external_id: env.optional("SPOKE_EXTERNAL_ID"),
            spoke_log_group: env.required(
                "SPOKE_LOG_GROUP",
                "the customer log group name in the spoke accounts",
            ),
            rule_order: env.parse_with(
                "RULE_ORDER",
                RuleOrder::Strict,
                "STRICT_ORDER or DEFAULT_ACTION_ORDER",
                RuleOrder::parse,
            ),
            supported_regions,
            transit_gateways,
        }
    }
}
