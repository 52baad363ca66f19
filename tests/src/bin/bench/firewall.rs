//! firewall-rule-collector / firewall-rule-executor: cold-start cases, the
//! validation + transformation of a 1,000-rule config side by side with the
//! Python baseline (anfw-automate's stack: PyYAML + jsonschema + regex), and
//! the Network Firewall API calls a one-rule change costs on a firewall with
//! 20 managed groups.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use aws_sdk_networkfirewall::types::{FirewallPolicy, RuleOrder, StatefulEngineOptions};
use common::firewall_state::{Change, DesiredState, Origin, VpcRules, FORMAT};
use e2e_tests::local_cloud::{python, sdk_config_for, LocalCloud, REGION};
use firewall_rule_collector::rules::{predefined_rule, Predefined, RuleOrder as Order};
use firewall_rule_collector::spoke_config::load;
use firewall_rule_collector::validate::{transform, vpc_ids, VpcFacts};
use firewall_rule_executor::config::Config;
use firewall_rule_executor::handler::{
    reconcile, Context, FirewallError, IndexRead, OwnershipStore, Precondition,
};
use firewall_rule_executor::index_store::S3Index;
use firewall_rule_executor::ownership::OwnershipIndex;

use crate::Case;

const ACCOUNT: &str = "112233445566";

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

pub fn collector_case() -> Case {
    Case {
        function: "firewall-rule-collector",
        env: env(&[
            (
                "QUEUE_URL",
                "https://sqs.us-east-1.amazonaws.com/123456789012/rules.fifo",
            ),
            ("OVERFLOW_BUCKET", "state"),
            ("SPOKE_ROLE_NAME", "anfw-spoke-config-reader"),
            ("SPOKE_LOG_GROUP", "anfw-customer-log"),
            ("SUPPORTED_REGIONS", REGION),
        ]),
        events: vec![],
    }
}

pub fn executor_case() -> Case {
    Case {
        function: "firewall-rule-executor",
        env: env(&[
            (
                "POLICY_ARNS",
                "us-east-1=arn:aws:network-firewall:us-east-1:123456789012:firewall-policy/central",
            ),
            ("FIREWALL_VPC_ID", "vpc-0f1e2d3c4b5a69788"),
            ("SPOKE_ROLE_NAME", "anfw-spoke-config-reader"),
        ]),
        events: vec![],
    }
}

/// A config with `rules` rules over 10 VPCs: 90% HTTPS domains, 10% CUSTOM.
fn config(rules: usize) -> (String, BTreeMap<String, VpcFacts>) {
    let mut yaml = String::from("Version: 0.1.0\nDescription: bench\nConfig:\n");
    let mut facts = BTreeMap::new();
    let per_vpc = rules / 10;
    for v in 0..10 {
        let vpc = format!("vpc-0bench{v:011}");
        facts.insert(
            vpc.clone(),
            VpcFacts {
                cidrs: vec![format!("10.{v}.0.0/16")],
                attached: true,
            },
        );
        yaml.push_str(&format!(
            "  - VPC: {vpc}\n    Type: ANFW::VPC\n    Properties:\n      - HTTPS:\n"
        ));
        let custom = per_vpc / 10;
        for i in 0..per_vpc - custom {
            yaml.push_str(&format!("          - .host{i}.team{v}.example.com\n"));
        }
        yaml.push_str("      - CUSTOM:\n");
        let var = format!("$a{ACCOUNT}{}", vpc.trim_start_matches("vpc-"));
        for i in 0..custom {
            yaml.push_str(&format!("          - 'pass tls {var} any -> $EXTERNAL_NET 443 (tls.sni; content:\"svc{i}.example.net\"; startswith; endswith; flow:to_server, established;)'\n"));
        }
    }
    (yaml, facts)
}

/// Validation + transformation of a 1,000-rule config, Rust vs Python.
pub fn validation() {
    let (yaml, facts) = config(1000);
    let mut times = Vec::new();
    let mut count = 0;
    for _ in 0..200 {
        let start = Instant::now();
        let parsed = load(&yaml, "us-east-1-config.yaml").expect("valid");
        let _ = vpc_ids(&parsed);
        let vpcs = transform(&parsed, ACCOUNT, Order::Strict, &facts).expect("valid");
        times.push(start.elapsed());
        count = vpcs.iter().map(|v| v.rules.len()).sum();
    }
    times.sort();
    let rust = times[times.len() / 2];
    let scratch = e2e_tests::workspace::ScratchDir::new("firewall-bench");
    let path = scratch.join("us-east-1-config.yaml");
    std::fs::write(&path, &yaml).expect("write config");
    let script = e2e_tests::workspace::root().join("tools/firewall_baseline.py");
    let out = std::process::Command::new(python())
        .arg(script)
        .arg(&path)
        .arg(ACCOUNT)
        .arg("20")
        .output()
        .expect("python baseline");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut parts = text.split_whitespace();
    let python_ms: f64 = parts
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(f64::NAN);
    let python_rules = parts.next().unwrap_or("?").to_string();
    println!(
        "{:<44} {:>10} {:>8}",
        "validate + transform, 1,000-rule config", "median", "rules"
    );
    println!(
        "{:<44} {:>8.2}ms {:>8}",
        "firewall-rule-collector (Rust, in process)",
        rust.as_secs_f64() * 1e3,
        count
    );
    println!(
        "{:<44} {:>8.2}ms {:>8}",
        "Python baseline (PyYAML + jsonschema + re)", python_ms, python_rules
    );
    if !out.status.success() {
        println!(
            "  (python baseline failed: {})",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
}

/// The desired state of `account`: `rules` HTTPS domains in one VPC, the
/// `renamed`-th one changed (another domain, so another rule name).
fn desired(account: &str, rules: usize, renamed: Option<usize>) -> DesiredState {
    let vpc = format!("vpc-0b{account}");
    let rules = (0..rules)
        .map(|i| {
            let domain = if renamed == Some(i) {
                format!(".renamed{i}.example.com")
            } else {
                format!(".h{i}.example.com")
            };
            predefined_rule(account, &vpc, Predefined::Https, &domain, Order::Strict)
        })
        .collect();
    DesiredState {
        format: FORMAT,
        account: account.into(),
        region: REGION.into(),
        change: Change::Replace {
            vpcs: vec![VpcRules {
                vpc_id: vpc.clone(),
                cidrs: vec!["10.0.0.0/16".into()],
                rules,
            }],
        },
        origin: Origin {
            event: "Update".into(),
            version: "v".into(),
            log_group: "g".into(),
            log_stream: "s".into(),
        },
    }
}

/// The ownership index store, counting its S3 calls (one per method call).
struct Counted<'a> {
    inner: &'a S3Index,
    calls: Mutex<BTreeMap<&'static str, usize>>,
}

impl Counted<'_> {
    fn take(&self) -> BTreeMap<&'static str, usize> {
        std::mem::take(&mut *self.calls.lock().unwrap())
    }
}

impl OwnershipStore for Counted<'_> {
    async fn read(&self, region: &str) -> Result<IndexRead, FirewallError> {
        let out = self.inner.read(region).await;
        if !matches!(out, Ok(IndexRead::Disabled)) {
            *self
                .calls
                .lock()
                .unwrap()
                .entry("s3:GetObject")
                .or_default() += 1;
        }
        out
    }

    async fn write(
        &self,
        region: &str,
        index: &OwnershipIndex,
        condition: &Precondition,
    ) -> Result<String, FirewallError> {
        *self
            .calls
            .lock()
            .unwrap()
            .entry("s3:PutObject")
            .or_default() += 1;
        self.inner.write(region, index, condition).await
    }
}

fn account(k: usize) -> String {
    format!("1000000000{k:02}")
}

/// API calls for a one-rule change on a firewall with 20 managed groups:
/// 19 tenant accounts of 53 rules, one group each (capacity 53; the last
/// account has 52, so one free slot), plus the global group.
pub async fn api_calls(cloud: &LocalCloud) {
    let sdk = sdk_config_for(&cloud.local_aws.url).await;
    let nfw = aws_sdk_networkfirewall::Client::new(&sdk);
    let policy = FirewallPolicy::builder()
        .stateless_default_actions("aws:forward_to_sfe")
        .stateless_fragment_default_actions("aws:forward_to_sfe")
        .stateful_engine_options(
            StatefulEngineOptions::builder()
                .rule_order(RuleOrder::StrictOrder)
                .build(),
        )
        .build()
        .expect("policy");
    let arn = nfw
        .create_firewall_policy()
        .firewall_policy_name("bench")
        .firewall_policy(policy)
        .send()
        .await
        .expect("policy")
        .firewall_policy_response
        .expect("response")
        .firewall_policy_arn;
    let bucket = "bench-firewall-state";
    let s3 = cloud.s3().await;
    s3.create_bucket()
        .bucket(bucket)
        .send()
        .await
        .expect("bucket");
    let config = Config {
        policies: BTreeMap::from([(REGION.to_string(), arn)]),
        strict_order: true,
        group_capacity: 53,
        global_group_capacity: 100,
        group_prefix: "bench-rules".into(),
        firewall_vpc_id: "vpc-0f1e2d3c4b5a69788".into(),
        spoke_role_name: "r".into(),
        spoke_external_id: None,
        global_rules_yaml: "Rules:\n  - 'drop tcp $HOME_NET any -> $EXTERNAL_NET any'\n".into(),
        index_bucket: Some(bucket.into()),
    };
    let aws = firewall_rule_executor::adapters::Aws::new(sdk.clone(), &config, "bench");
    let s3_index = S3Index::new(s3.clone(), Some(bucket.into()));
    let no_index = S3Index::new(s3, None);
    let index = Counted {
        inner: &s3_index,
        calls: Mutex::default(),
    };
    let scan = Counted {
        inner: &no_index,
        calls: Mutex::default(),
    };
    let cx = Context::new(config);
    let _ = cx.global_rules.set(
        firewall_rule_executor::global_rules::render(
            &cx.config.global_rules_yaml,
            "123456789012",
            &cx.config.firewall_vpc_id,
            "",
        )
        .expect("global rules"),
    );
    let sizes: Vec<usize> = (0..19).map(|k| if k == 18 { 52 } else { 53 }).collect();
    for (k, n) in sizes.iter().enumerate() {
        reconcile(&desired(&account(k), *n, None), &cx, &aws, &index)
            .await
            .expect("initial state");
    }
    index.take();
    let emulator = &cloud.local_aws.emulator;
    let groups = nfw
        .list_rule_groups()
        .send()
        .await
        .expect("list")
        .rule_groups()
        .len();
    println!(
        "one-rule change on a firewall with {groups} managed rule groups ({} tenant accounts of ~53 rules, one group each, + 1 global):",
        groups - 1
    );
    println!(
        "  {:<52} {:>5} {:>9}  calls",
        "firewall-rule-executor", "total", "ms"
    );
    let cases: [(&str, DesiredState, &Counted); 4] = [
        (
            "edit: a domain renamed (ownership index)",
            desired(&account(5), 53, Some(7)),
            &index,
        ),
        (
            "add: one rule that fits the account's group (index)",
            desired(&account(18), 53, None),
            &index,
        ),
        (
            "re-delivery of the edit (index)",
            desired(&account(5), 53, Some(7)),
            &index,
        ),
        (
            "edit, without the index (full scan)",
            desired(&account(5), 53, Some(8)),
            &scan,
        ),
    ];
    for (label, state, store) in cases {
        let from = emulator.requests().len();
        let t = Instant::now();
        reconcile(&state, &cx, &aws, store)
            .await
            .expect("one-rule change");
        let elapsed: Duration = t.elapsed();
        let mut by_op: BTreeMap<String, usize> = BTreeMap::new();
        for r in &emulator.requests()[from..] {
            *by_op.entry(r.operation.clone()).or_default() += 1;
        }
        for (op, n) in store.take() {
            by_op.insert(op.into(), n);
        }
        let total: usize = by_op.values().sum();
        println!(
            "  {label:<52} {total:>5} {:>9.1}  {by_op:?}",
            elapsed.as_secs_f64() * 1e3
        );
    }
    println!(
        "  target (issue 4): <= 3 calls; anfw-automate (from its code): ~{} DescribeRuleGroup + {} UpdateRuleGroup (O(rules x groups))",
        1006 * groups * 2,
        1006
    );
}
