//! Everything a config must satisfy before any of it reaches the firewall,
//! and its transformation into rules. A file is accepted or rejected whole;
//! a rejection lists every problem with the VPC, property and index.

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use common::firewall_state::{vpc_variable, NamedRule, VpcRules};

use crate::custom_rule::{control_character, parse_custom_rule};
use crate::domain_name::parse_domain_entry;
use crate::rules::{custom_rule, predefined_rule, Predefined, RuleOrder};
use crate::spoke_config::SpokeConfig;

/// What the spoke account says about a VPC named in the config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VpcFacts {
    /// Every associated IPv4 CIDR, primary first.
    pub cidrs: Vec<String>,
    /// Attached to the Transit Gateway the firewall inspects (or, when none
    /// is configured, to any Transit Gateway).
    pub attached: bool,
}

/// One thing wrong with a config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub vpc: Option<String>,
    /// `HTTP`, `HTTPS`, `TLS`, `CUSTOM` or the offending key.
    pub property: Option<String>,
    /// Index of the rule in its property list.
    pub index: Option<usize>,
    /// Path in the file, e.g. `Config[0].Properties[1].HTTPS[2]`.
    pub path: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(vpc) = &self.vpc {
            write!(f, "{vpc}: ")?;
        }
        match (&self.property, self.index) {
            (Some(p), Some(i)) => write!(f, "{p} rule {i}: ")?,
            (Some(p), None) => write!(f, "{p}: ")?,
            _ => {}
        }
        write!(f, "{} (at {})", self.message, self.path)
    }
}

/// Checks the VPC id form anfw-automate's schema requires.
pub fn is_vpc_id(s: &str) -> bool {
    s.strip_prefix("vpc-").is_some_and(|id| {
        (8..=17).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric())
    })
}

/// The VPC ids worth looking up in the spoke account (well-formed ones).
pub fn vpc_ids(config: &SpokeConfig) -> Vec<String> {
    let mut seen = HashSet::new();
    config
        .config
        .iter()
        .map(|e| e.vpc.clone())
        .filter(|v| is_vpc_id(v) && seen.insert(v.clone()))
        .collect()
}

/// A valid config's rules, per VPC, in file order (a rule listed twice in a
/// VPC appears once).
pub fn transform(
    config: &SpokeConfig,
    account: &str,
    order: RuleOrder,
    vpcs: &BTreeMap<String, VpcFacts>,
) -> Result<Vec<VpcRules>, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut out: Vec<VpcRules> = Vec::new();
    let mut seen_vpcs = HashSet::new();
    for (ci, entry) in config.config.iter().enumerate() {
        let path = format!("Config[{ci}]");
        let vpc = entry.vpc.as_str();
        let problem =
            |property: Option<&str>, index: Option<usize>, path: String, message: String| Problem {
                vpc: Some(vpc.to_string()),
                property: property.map(str::to_string),
                index,
                path,
                message,
            };
        if let Some(c) = control_character(vpc) {
            problems.push(problem(
                None,
                None,
                format!("{path}.VPC"),
                format!("the VPC id contains the control character {c}"),
            ));
            continue;
        }
        if !is_vpc_id(vpc) {
            problems.push(problem(
                None,
                None,
                format!("{path}.VPC"),
                "is not a VPC id (vpc- and 8 to 17 letters or digits)".into(),
            ));
            continue;
        }
        if !seen_vpcs.insert(vpc) {
            problems.push(problem(
                None,
                None,
                format!("{path}.VPC"),
                "is listed twice; list each VPC once".into(),
            ));
            continue;
        }
        let cidrs = match vpcs.get(vpc) {
            None => {
                problems.push(problem(
                    None,
                    None,
                    format!("{path}.VPC"),
                    format!("does not exist in account {account} in this Region"),
                ));
                continue;
            }
            Some(f) if !f.attached => {
                problems.push(problem(
                    None,
                    None,
                    format!("{path}.VPC"),
                    "is not attached to the firewall's Transit Gateway".into(),
                ));
                continue;
            }
            Some(f) => f.cidrs.clone(),
        };
        let variable = vpc_variable(account, vpc);
        let mut rules: Vec<NamedRule> = Vec::new();
        let mut names = HashSet::new();
        for (pi, item) in entry.properties.iter().enumerate() {
            let item_path = format!("{path}.Properties[{pi}]");
            if item.0.is_empty() {
                problems.push(problem(
                    None,
                    None,
                    item_path,
                    "is an empty item ({}); give it one of HTTP, HTTPS, TLS or CUSTOM with a list"
                        .into(),
                ));
                continue;
            }
            for (key, values) in &item.0 {
                let predefined = match key.as_str() {
                    "HTTP" => Some(Predefined::Http),
                    "HTTPS" => Some(Predefined::Https),
                    "TLS" => Some(Predefined::Tls),
                    "CUSTOM" => None,
                    other => {
                        problems.push(problem(
                            Some(other),
                            None,
                            format!("{item_path}.{other}"),
                            "is not a property; use HTTP, HTTPS, TLS or CUSTOM".into(),
                        ));
                        continue;
                    }
                };
                for (ri, value) in values.iter().enumerate() {
                    let at = format!("{item_path}.{key}[{ri}]");
                    let generated = match predefined {
                        Some(p) => check_predefined(p, value)
                            .map(|v| predefined_rule(account, vpc, p, &v, order)),
                        None => parse_custom_rule(value, &variable)
                            .map(|_| custom_rule(account, vpc, value, order))
                            .map_err(|e| format!("the rule {e}")),
                    };
                    match generated {
                        Ok(rule) => {
                            if names.insert(rule.name.clone()) {
                                rules.push(rule);
                            }
                        }
                        Err(message) => problems.push(problem(Some(key), Some(ri), at, message)),
                    }
                }
            }
        }
        out.push(VpcRules {
            vpc_id: vpc.to_string(),
            cidrs,
            rules,
        });
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// A predefined entry's lower-cased value, as anfw-automate hashes it.
fn check_predefined(key: Predefined, value: &str) -> Result<String, String> {
    if let Some(c) = control_character(value) {
        return Err(format!("contains the control character {c}"));
    }
    parse_domain_entry(value, key == Predefined::Tls)?;
    Ok(value.to_ascii_lowercase())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::spoke_config::load;

    pub const SAMPLE: &str = include_str!("../tests/fixtures/us-east-1-config.yaml");

    pub fn sample_vpcs() -> BTreeMap<String, VpcFacts> {
        BTreeMap::from([
            (
                "vpc-1234abcd6789efg".to_string(),
                VpcFacts {
                    cidrs: vec!["10.0.0.0/16".into(), "10.1.0.0/16".into()],
                    attached: true,
                },
            ),
            (
                "vpc-1234abcd6789abc".to_string(),
                VpcFacts {
                    cidrs: vec!["10.2.0.0/16".into()],
                    attached: true,
                },
            ),
        ])
    }

    #[test]
    fn the_reference_sample_validates_for_its_account() {
        let config = load(SAMPLE, "us-east-1-config.yaml").unwrap();
        let vpcs = transform(&config, "112233445566", RuleOrder::Strict, &sample_vpcs()).unwrap();
        assert_eq!(vpcs.len(), 2);
        assert_eq!(vpcs[0].rules.len(), 8);
        assert_eq!(vpcs[1].rules.len(), 7);
        assert_eq!(vpcs[0].cidrs, ["10.0.0.0/16", "10.1.0.0/16"]);
        let names: Vec<&str> = vpcs[1].rules.iter().map(|r| r.name.as_str()).collect();
        assert!(
            names.contains(&"112233445566-1234abcd6789abc-fd45a9a56e"),
            "{names:?}"
        );
        assert!(
            names.contains(&"112233445566-1234abcd6789abc-48a1f085c2"),
            "{names:?}"
        );
        // Another account cannot use those CUSTOM rules: wrong variable.
        let problems =
            transform(&config, "999999999999", RuleOrder::Strict, &sample_vpcs()).unwrap_err();
        assert_eq!(problems.len(), 2);
        assert!(problems
            .iter()
            .all(|p| p.property.as_deref() == Some("CUSTOM")));
        assert_eq!(problems[1].index, Some(1));
        assert_eq!(problems[1].path, "Config[0].Properties[2].CUSTOM[1]");
    }

    #[test]
    fn vpc_facts_are_enforced() {
        let config = load(SAMPLE, "us-east-1-config.yaml").unwrap();
        let mut vpcs = sample_vpcs();
        vpcs.remove("vpc-1234abcd6789abc");
        vpcs.get_mut("vpc-1234abcd6789efg").unwrap().attached = false;
        let problems = transform(&config, "112233445566", RuleOrder::Strict, &vpcs).unwrap_err();
        let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(text, [
            "vpc-1234abcd6789efg: is not attached to the firewall's Transit Gateway (at Config[0].VPC)",
            "vpc-1234abcd6789abc: does not exist in account 112233445566 in this Region (at Config[1].VPC)",
        ]);
    }

    #[test]
    fn multi_key_items_are_processed_whole_and_empty_items_rejected() {
        let yaml = "Version: '1'\nDescription: d\nConfig:\n  - VPC: vpc-1234abcd6789abc\n    Type: ANFW::VPC\n    Properties:\n      - HTTPS: [a.example.com]\n        HTTP: [b.example.com]\n";
        let config = load(yaml, "f").unwrap();
        let vpcs = transform(&config, "112233445566", RuleOrder::Strict, &sample_vpcs()).unwrap();
        assert_eq!(vpcs[0].rules.len(), 2);
        let yaml = format!("{yaml}      - {{}}\n      - FTP: [x.example.com]\n");
        let config = load(&yaml, "f").unwrap();
        let problems =
            transform(&config, "112233445566", RuleOrder::Strict, &sample_vpcs()).unwrap_err();
        assert_eq!(problems.len(), 2);
        assert!(
            problems[0].message.starts_with("is an empty item ({})"),
            "{}",
            problems[0]
        );
        assert_eq!(problems[1].property.as_deref(), Some("FTP"));
    }
}
