//! Spec §9: every bypass anfw-automate let through, as a whole config file,
//! rejected with the right reason (and nothing generated).

use std::collections::BTreeMap;

use firewall_rule_collector::rules::RuleOrder;
use firewall_rule_collector::spoke_config::{load, MAX_CONFIG_BYTES};
use firewall_rule_collector::validate::{transform, VpcFacts};

const ACCOUNT: &str = "112233445566";
const VPC: &str = "vpc-1234abcd6789efg";
const VAR: &str = "$a1122334455661234abcd6789efg";

fn config(property: &str, value: &str) -> String {
    // Single-quoted YAML scalar: '' is a quote; YAML escapes need double quotes.
    let value = if value.contains('\n') || value.contains('\u{0}') || value.contains('\t') {
        serde_json::to_string(value).unwrap()
    } else {
        format!("'{}'", value.replace('\'', "''"))
    };
    format!("Version: 0.1.0\nDescription: hostile\nConfig:\n  - VPC: {VPC}\n    Type: ANFW::VPC\n    Properties:\n      - HTTPS: [ok.example.com]\n      - {property}:\n          - {value}\n")
}

fn vpcs() -> BTreeMap<String, VpcFacts> {
    BTreeMap::from([(
        VPC.to_string(),
        VpcFacts {
            cidrs: vec!["10.0.0.0/16".into()],
            attached: true,
        },
    )])
}

fn rejection(yaml: &str) -> String {
    let config = match load(yaml, "us-east-1-config.yaml") {
        Ok(c) => c,
        Err(e) => return e.to_string(),
    };
    let problems = transform(&config, ACCOUNT, RuleOrder::Strict, &vpcs())
        .expect_err("the hostile config was accepted");
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn every_bypass_is_rejected_with_its_reason() {
    let ok = format!("pass tcp {VAR} any -> $EXTERNAL_NET 443 (content:\"x\";)");
    let cases: Vec<(&str, String, &str)> = vec![
        ("CUSTOM", format!("{ok}\npass ip any any -> any any (content:\"y\";)"), "control character"),
        ("CUSTOM", format!("pass tcp {VAR} any -> $EXTERNAL_NET 443 (content:\"x\"; sid:999;)\npass ip any any -> any any (content:\"y\";)"), "control character"),
        ("CUSTOM", ok.replace("pass", "drop"), "only write \"pass\""),
        ("CUSTOM", ok.replace("pass", "alert"), "only write \"pass\""),
        ("CUSTOM", ok.replace("pass", "reject"), "only write \"pass\""),
        ("CUSTOM", ok.replace("->", "<>"), "only \"->\""),
        ("CUSTOM", ok.replace("$EXTERNAL_NET", "any"), "must be $EXTERNAL_NET"),
        ("CUSTOM", ok.replace("$EXTERNAL_NET", "$HOME_NET"), "must be $EXTERNAL_NET"),
        ("CUSTOM", ok.replace("$EXTERNAL_NET", "$a9988776655441234abcd6789efg"), "must be $EXTERNAL_NET"),
        ("CUSTOM", ok.replace("$EXTERNAL_NET 443", "1.2.3.4 443"), "must be $EXTERNAL_NET"),
        ("CUSTOM", ok.replace(VAR, "$a9988776655441234abcd6789efg"), "this VPC's variable"),
        ("CUSTOM", ok.replace("443", "[80,443]"), "destination port"),
        ("CUSTOM", ok.replace("pass tcp", "PASS TCP"), "only write \"pass\""),
        ("CUSTOM", ok.replace("content:\"x\";", "content:\"x\"; sid:1;"), "reserved keyword \"sid\""),
        ("CUSTOM", ok.replace("content:\"x\";", "content:\"x\"; rev:2;"), "reserved keyword \"rev\""),
        ("CUSTOM", ok.replace("content:\"x\";", "content:\"x\"; gid:1;"), "reserved keyword \"gid\""),
        ("CUSTOM", ok.replace("content:\"x\";", "content:\"x\"; priority:1;"), "reserved keyword \"priority\""),
        ("CUSTOM", ok.replace("content:\"x\";", "content:\"x\"; metadata: rule_name 1;"), "reserved keyword \"metadata\""),
        ("CUSTOM", ok.replace("content:\"x\";", "msg:\"hi\"; content:\"x\";"), "reserved keyword \"msg\""),
        ("CUSTOM", ok.replace("content:\"x\";", "content:\"x\"; classtype:misc;"), "reserved keyword \"classtype\""),
        ("CUSTOM", ok.replace("content:\"x\";", "content:\"x\"; reference:url,x;"), "reserved keyword \"reference\""),
        ("CUSTOM", ok.replace("content:\"x\";", "content:\"x\"; target:dest_ip;"), "reserved keyword \"target\""),
        ("CUSTOM", ok.replace("content:\"x\";", "content:\"x\"; flowbits:set,x;"), "reserved keyword \"flowbits\""),
        ("CUSTOM", ok.replace("content:\"x\";", "content:\"x\"; xbits:set,x,track ip_src;"), "reserved keyword \"xbits\""),
        ("CUSTOM", ok.replace("content:\"x\";", "nocase;"), "no content"),
        ("CUSTOM", ok.replace("x", "a\u{0}b"), "control character"),
        ("CUSTOM", ok.replace(" 443 ", "\t443 "), "control character"),
        ("CUSTOM", format!("pass tls {VAR} any -> $EXTERNAL_NET any (tls.sni; content:\".com\";)"), "public suffix"),
        ("HTTPS", ".com".into(), "bare top-level domain"),
        ("HTTP", "com".into(), "bare top-level domain"),
        ("HTTPS", ".co.uk".into(), "public suffix"),
        ("TLS", ".com:443".into(), "bare top-level domain"),
        ("TLS", ".example.com".into(), "no port"),
        ("HTTPS", "ex ample.com".into(), "not a domain name"),
        ("HTTPS", "example.com\nx".into(), "control character"),
        ("FTP", "example.com".into(), "is not a property"),
    ];
    for (property, value, reason) in cases {
        let yaml = config(property, &value);
        let why = rejection(&yaml);
        assert!(
            why.contains(reason),
            "{property}: {value:?}\n  rejected for: {why}\n  expected: {reason}"
        );
        assert!(why.starts_with(VPC), "{why}");
        assert!(
            why.contains(&format!("at Config[0].Properties[1].{property}[0]")) || property == "FTP",
            "{why}"
        );
    }
}

#[test]
fn oversized_and_malformed_files_are_rejected() {
    let huge = config(
        "HTTPS",
        &format!("{}.example.com", "a".repeat(MAX_CONFIG_BYTES)),
    );
    assert!(rejection(&huge).contains("the limit is"));
    assert!(rejection("Version: 0.1.0\nDescription: d\nConfig:\n  - VPC: vpc-1234abcd6789efg\n    Type: ANFW::VPC\n    Properties:\n      - {}\n").contains("empty item"));
    // anfw-automate's schema rejected an unquoted `Version: 1.0` (a float);
    // the value is never used, so it is accepted here.
    assert!(load("Version: 1.0\nDescription: d\nConfig: []\n", "f").is_ok());
    assert!(rejection("- just a list\n").contains("invalid type"));
    assert!(rejection("Version: 0.1.0\nDescription: d\nConfig:\n  - VPC: vpc-12\n    Type: t\n    Properties: []\n").contains("is not a VPC id"));
    assert!(rejection("Version: 0.1.0\nDescription: d\nConfig:\n  - VPC: vpc-99999999\n    Type: t\n    Properties: []\n").contains("does not exist in account 112233445566"));
}

#[test]
fn one_bad_rule_rejects_the_whole_file_and_every_problem_is_listed() {
    let yaml = format!(
        "Version: 0.1.0\nDescription: d\nConfig:\n  - VPC: {VPC}\n    Type: ANFW::VPC\n    Properties:\n      - HTTPS: [good.example.com, .com, also.example.com, .co.uk]\n"
    );
    let config = load(&yaml, "f").unwrap();
    let problems = transform(&config, ACCOUNT, RuleOrder::Strict, &vpcs()).unwrap_err();
    let indexes: Vec<Option<usize>> = problems.iter().map(|p| p.index).collect();
    assert_eq!(indexes, [Some(1), Some(3)]);
}
