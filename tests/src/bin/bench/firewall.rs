//! firewall-rule-collector / firewall-rule-executor: cold-start cases, the
//! validation + transformation of a 1,000-rule config side by side with the
//! Python baseline (anfw-automate's stack: PyYAML + jsonschema + regex), and
//! the Network Firewall API calls a one-rule change costs on a firewall with
//! 20 managed groups.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use aws_sdk_networkfirewall::types::{FirewallPolicy, RuleOrder, StatefulEngineOptions};
use common::firewall_state::{Change, DesiredState, Origin, VpcRules, FORMAT};
use e2e_tests::local_cloud::{python, sdk_config_for, LocalCloud, REGION};
use firewall_rule_collector::rules::{predefined_rule, Predefined, RuleOrder as Order};
use firewall_rule_collector::spoke_config::load;
use firewall_rule_collector::validate::{transform, vpc_ids, VpcFacts};
use firewall_rule_executor::config::Config;
use firewall_rule_executor::handler::{reconcile, Context};

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
    let path = std::env::temp_dir().join("firewall-bench-us-east-1-config.yaml");
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

fn desired(rules: usize, vpc: &str) -> DesiredState {
    let rules = (0..rules)
        .map(|i| {
            predefined_rule(
                ACCOUNT,
                vpc,
                Predefined::Https,
                &format!(".h{i}.example.com"),
                Order::Strict,
            )
        })
        .collect();
    DesiredState {
        format: FORMAT,
        account: ACCOUNT.into(),
        region: REGION.into(),
        change: Change::Replace {
            vpcs: vec![VpcRules {
                vpc_id: vpc.into(),
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

/// API calls for a one-rule change on a firewall with 20 managed groups.
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
    let config = Config {
        policies: BTreeMap::from([(REGION.to_string(), arn)]),
        strict_order: true,
        group_capacity: 53,
        // 1,000 rules fill 19 tenant groups; with the global group, 20 managed groups.
        global_group_capacity: 100,
        group_prefix: "bench-rules".into(),
        firewall_vpc_id: "vpc-0f1e2d3c4b5a69788".into(),
        spoke_role_name: "r".into(),
        spoke_external_id: None,
        global_rules_yaml: "Rules:\n  - 'drop tcp $HOME_NET any -> $EXTERNAL_NET any'\n".into(),
    };
    let aws = firewall_rule_executor::adapters::Aws::new(sdk.clone(), &config, "bench");
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
    let vpc = "vpc-0bench00000000001";
    reconcile(&desired(1000, vpc), &cx, &aws)
        .await
        .expect("initial state");
    let calls = |from: usize| {
        let all = cloud.local_aws.emulator.requests();
        let mut by_op: BTreeMap<String, usize> = BTreeMap::new();
        for r in &all[from..] {
            *by_op.entry(r.operation.clone()).or_default() += 1;
        }
        (all.len(), by_op)
    };
    let (start, _) = calls(0);
    let groups = nfw
        .list_rule_groups()
        .send()
        .await
        .expect("list")
        .rule_groups()
        .len();
    let (start2, _) = calls(start);
    let t = Instant::now();
    reconcile(&desired(1001, vpc), &cx, &aws)
        .await
        .expect("one-rule change");
    let elapsed: Duration = t.elapsed();
    let (end, by_op) = calls(start2);
    println!("one-rule change on a firewall with {groups} managed rule groups ({} tenant + 1 global), 1,000 -> 1,001 rules:", groups - 1);
    println!(
        "  firewall-rule-executor: {} calls {by_op:?} in {:.1} ms against local-aws",
        end - start2,
        elapsed.as_secs_f64() * 1e3
    );
    println!("  target (issue 4): <= 3 calls; anfw-automate (from its code): ~{} DescribeRuleGroup + {} UpdateRuleGroup (O(rules x groups))", 1001 * groups * 2, 1001);
}
