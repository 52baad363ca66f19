//! `firewall-rule-collector validate`: the collector's validation and
//! transformation without AWS, for the spokes' CI before upload.
//!
//! ```text
//! firewall-rule-collector validate --account <id> --vpc <vpc-id>=<cidr>[,<cidr>] ...
//!     [--rule-order STRICT_ORDER|DEFAULT_ACTION_ORDER] <region>-config.yaml
//! ```
//!
//! Prints the Suricata rules it would publish, one per line, and exits 0; or
//! prints every problem on stderr and exits 1. Usage errors exit 2. VPCs not
//! given with `--vpc` count as missing from the account; given ones as
//! attached to the Transit Gateway (the CLI cannot know).

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use crate::file_name::region_of_key;
use crate::rules::RuleOrder;
use crate::spoke_config::load;
use crate::validate::{transform, VpcFacts};

pub const USAGE: &str = "usage: firewall-rule-collector validate --account <12-digit id> --vpc <vpc-id>=<cidr>[,<cidr>] ... [--rule-order STRICT_ORDER|DEFAULT_ACTION_ORDER] <region>-config.yaml";

/// What a run printed and its exit code.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs the command named by `args` (without the program name).
pub fn main(args: &[String]) -> i32 {
    let outcome = run(args, |path| {
        std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))
    });
    print!("{}", outcome.stdout);
    eprint!("{}", outcome.stderr);
    outcome.code
}

struct Args {
    account: String,
    vpcs: BTreeMap<String, VpcFacts>,
    order: RuleOrder,
    file: String,
}

/// The command, with file reading injected (tests give text directly).
pub fn run(args: &[String], read: impl Fn(&str) -> Result<String, String>) -> Outcome {
    let args = match parse_args(args) {
        Ok(a) => a,
        Err(e) => {
            return Outcome {
                code: 2,
                stdout: String::new(),
                stderr: format!("{e}\n{USAGE}\n"),
            }
        }
    };
    let mut stderr = String::new();
    let key = args.file.as_str();
    if let Err(e) = region_of_key(key) {
        stderr.push_str(&format!("{e}\n"));
    }
    let text = match read(key) {
        Ok(t) => t,
        Err(e) => {
            return Outcome {
                code: 2,
                stdout: String::new(),
                stderr: format!("{e}\n"),
            }
        }
    };
    let config = match load(&text, key) {
        Ok(c) => c,
        Err(e) => {
            stderr.push_str(&format!("{e}\n"));
            return Outcome {
                code: 1,
                stdout: String::new(),
                stderr,
            };
        }
    };
    match transform(&config, &args.account, args.order, &args.vpcs) {
        Ok(vpcs) if stderr.is_empty() => {
            let mut stdout = String::new();
            for rule in vpcs.iter().flat_map(|v| &v.rules) {
                stdout.push_str(&rule.rule);
                stdout.push('\n');
            }
            Outcome {
                code: 0,
                stdout,
                stderr,
            }
        }
        Ok(_) => Outcome {
            code: 1,
            stdout: String::new(),
            stderr,
        },
        Err(problems) => {
            for p in problems {
                stderr.push_str(&format!("{key}: {p}\n"));
            }
            Outcome {
                code: 1,
                stdout: String::new(),
                stderr,
            }
        }
    }
}

fn parse_args(args: &[String]) -> Result<Args, String> {
    let mut it = args.iter();
    if it.next().map(String::as_str) != Some("validate") {
        return Err("the only command is validate".into());
    }
    let (mut account, mut vpcs, mut order, mut file) =
        (None, BTreeMap::new(), RuleOrder::Strict, None);
    while let Some(a) = it.next() {
        let mut value = |flag: &str| it.next().cloned().ok_or(format!("{flag} needs a value"));
        match a.as_str() {
            "--account" => {
                let v = value("--account")?;
                if !common::aws::is_account_id(&v) {
                    return Err(format!("--account {v:?} is not a 12-digit account id"));
                }
                account = Some(v);
            }
            "--vpc" => {
                let v = value("--vpc")?;
                let (id, cidrs) = v
                    .split_once('=')
                    .ok_or(format!("--vpc {v:?} is not <vpc-id>=<cidr>[,<cidr>]"))?;
                let cidrs: Vec<String> = cidrs.split(',').map(str::to_string).collect();
                if let Some(bad) = cidrs.iter().find(|c| !is_ipv4_cidr(c)) {
                    return Err(format!("--vpc {id}: {bad:?} is not an IPv4 CIDR"));
                }
                vpcs.insert(
                    id.to_string(),
                    VpcFacts {
                        cidrs,
                        attached: true,
                    },
                );
            }
            "--rule-order" => order = RuleOrder::parse(&value("--rule-order")?)?,
            f if f.starts_with("--") => return Err(format!("unknown option {f}")),
            path if file.is_none() => file = Some(path.to_string()),
            extra => return Err(format!("unexpected argument {extra:?}")),
        }
    }
    Ok(Args {
        account: account.ok_or("--account is required")?,
        vpcs,
        order,
        file: file.ok_or("the config file is required")?,
    })
}

fn is_ipv4_cidr(s: &str) -> bool {
    s.split_once('/').is_some_and(|(ip, len)| {
        ip.parse::<Ipv4Addr>().is_ok()
            && len.parse::<u8>().is_ok_and(|l| l <= 32)
            && !len.starts_with('+')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split(' ').map(str::to_string).collect()
    }

    const SAMPLE: &str = include_str!("../tests/fixtures/us-east-1-config.yaml");

    #[test]
    fn a_valid_file_prints_its_rules() {
        let out = run(&args("validate --account 112233445566 --vpc vpc-1234abcd6789efg=10.0.0.0/16 --vpc vpc-1234abcd6789abc=10.1.0.0/16,10.2.0.0/24 us-east-1-config.yaml"), |_| Ok(SAMPLE.into()));
        assert_eq!((out.code, out.stderr.as_str()), (0, ""));
        let lines: Vec<&str> = out.stdout.lines().collect();
        assert_eq!(lines.len(), 15);
        assert!(lines
            .iter()
            .all(|l| l.starts_with("pass ") && l.contains("metadata: rule_name 112233445566-")));
        assert!(!out.stdout.contains("priority:250;"));
        let action = run(&args("validate --account 112233445566 --vpc vpc-1234abcd6789efg=10.0.0.0/16 --vpc vpc-1234abcd6789abc=10.1.0.0/16 --rule-order DEFAULT_ACTION_ORDER us-east-1-config.yaml"), |_| Ok(SAMPLE.into()));
        assert_eq!(action.stdout.matches("priority:250;").count(), 15);
    }

    #[test]
    fn problems_go_to_stderr_with_exit_1() {
        let out = run(&args("validate --account 999999999999 --vpc vpc-1234abcd6789efg=10.0.0.0/16 x/us-east-1-config.yml"), |_| Ok(SAMPLE.into()));
        assert_eq!(out.code, 1);
        assert_eq!(out.stdout, "");
        let lines: Vec<&str> = out.stderr.lines().collect();
        assert_eq!(lines.len(), 3, "{}", out.stderr);
        assert!(
            lines[0].starts_with(
                "x/us-east-1-config.yml: vpc-1234abcd6789efg: CUSTOM rule 0: the rule source is"
            ),
            "{}",
            lines[0]
        );
        assert!(lines[2].contains("vpc-1234abcd6789abc: does not exist in account 999999999999"));
        let bad_name = run(&args("validate --account 112233445566 --vpc vpc-1234abcd6789efg=10.0.0.0/16 --vpc vpc-1234abcd6789abc=10.1.0.0/16 config.yaml.bak"), |_| Ok(SAMPLE.into()));
        assert_eq!(bad_name.code, 1);
        assert!(bad_name
            .stderr
            .contains("is not named <region>-config.yaml"));
    }

    #[test]
    fn usage_errors_exit_2() {
        for a in [
            "validate",
            "check --account 112233445566 f",
            "validate --account 1234 us-east-1-config.yaml",
            "validate --account 112233445566 --vpc vpc-1=10.0.0.0/33 us-east-1-config.yaml",
            "validate --account 112233445566 --rule-order strict us-east-1-config.yaml",
            "validate --account 112233445566 --bogus us-east-1-config.yaml",
        ] {
            let out = run(&args(a), |_| Ok(SAMPLE.into()));
            assert_eq!(out.code, 2, "{a}: {out:?}");
            assert!(out.stderr.contains("usage:"));
        }
        let missing = run(
            &args("validate --account 112233445566 us-east-1-config.yaml"),
            |p| Err(format!("{p}: not found")),
        );
        assert_eq!(missing.code, 2);
    }
}
