use std::collections::BTreeMap;

use common::firewall_state::{
    sid_of, with_sid, Change, DesiredState, NamedRule, Origin, VpcRules, FORMAT,
};

use super::plan::*;

const A: &str = "112233445566";
const B: &str = "998877665544";

fn rule(account: &str, vpc: &str, domain: &str, sid: u32) -> NamedRule {
    let hash = format!(
        "{:010x}",
        domain.len() as u64 * 7919 + domain.bytes().map(u64::from).sum::<u64>()
    );
    let name = format!("{account}-{vpc}-{hash}");
    NamedRule {
        rule: format!("pass tls $a{account}{vpc} any -> $EXTERNAL_NET any (tls.sni; content:\"{domain}\"; endswith; flow:to_server, established; sid:{sid}; rev:1; metadata: rule_name {name};)"),
        name,
    }
}

fn vpc(account: &str, id: &str, cidrs: &[&str], domains: &[(&str, u32)]) -> VpcRules {
    VpcRules {
        vpc_id: format!("vpc-{id}"),
        cidrs: cidrs.iter().map(|c| c.to_string()).collect(),
        rules: domains
            .iter()
            .map(|(d, s)| rule(account, id, d, *s))
            .collect(),
    }
}

fn state(account: &str, change: Change) -> DesiredState {
    DesiredState {
        format: FORMAT,
        account: account.into(),
        region: "eu-west-1".into(),
        change,
        origin: Origin {
            event: "Update".into(),
            version: "v1".into(),
            log_group: "g".into(),
            log_stream: "s".into(),
        },
    }
}

fn replace(account: &str, vpcs: Vec<VpcRules>) -> DesiredState {
    state(account, Change::Replace { vpcs })
}

/// Applies a plan to the groups, as the firewall would.
fn apply(groups: &[GroupState], plan: &Plan, capacity: usize) -> Vec<GroupState> {
    let mut out: BTreeMap<String, GroupState> =
        groups.iter().map(|g| (g.name.clone(), g.clone())).collect();
    for w in &plan.writes {
        match w {
            GroupWrite::Update { group, content } | GroupWrite::Create { group, content } => {
                out.insert(
                    group.clone(),
                    GroupState {
                        name: group.clone(),
                        capacity,
                        rules: content.rules.clone(),
                        ip_sets: content.ip_sets.clone(),
                    },
                );
            }
            GroupWrite::Delete { group } => {
                out.remove(group);
            }
        }
    }
    out.into_values().collect()
}

fn names(i: usize) -> String {
    format!("new-{i}")
}

fn all_rules(groups: &[GroupState]) -> Vec<String> {
    let mut r: Vec<String> = groups.iter().flat_map(|g| g.rules.clone()).collect();
    r.sort();
    r
}

#[test]
fn first_upload_creates_a_group_with_the_rules_and_variables() {
    let d = replace(
        A,
        vec![vpc(
            A,
            "11111111",
            &["10.0.0.0/16", "10.9.0.0/16"],
            &[("a.example.com", 1_000_001), ("b.example.com", 1_000_002)],
        )],
    );
    let p = plan(&[], &d, 100, names);
    let [GroupWrite::Create { group, content }] = p.writes.as_slice() else {
        panic!("{p:?}")
    };
    assert_eq!(group, "new-0");
    assert_eq!(content.rules.len(), 2);
    assert_eq!(
        content.ip_sets,
        BTreeMap::from([(
            format!("a{A}11111111"),
            vec!["10.0.0.0/16".to_string(), "10.9.0.0/16".to_string()]
        )])
    );
    assert_eq!(p.summary.added, 2);
}

#[test]
fn re_delivery_plans_zero_writes() {
    let d = replace(
        A,
        vec![vpc(
            A,
            "11111111",
            &["10.0.0.0/16"],
            &[("a.example.com", 1_000_001), ("b.example.com", 1_000_002)],
        )],
    );
    let after = apply(&[], &plan(&[], &d, 100, names), 100);
    let again = plan(&after, &d, 100, names);
    assert_eq!(again.writes, []);
    assert_eq!(again.summary.unchanged, 2);
}

#[test]
fn an_edit_writes_only_the_group_that_changes() {
    let mut groups = vec![GroupState {
        name: "fw-tenant-0".into(),
        capacity: 2,
        rules: vec![
            rule(B, "22222222", "x.example.com", 1_000_100).rule,
            rule(B, "22222222", "y.example.com", 1_000_101).rule,
        ],
        ip_sets: BTreeMap::from([(format!("a{B}22222222"), vec!["10.2.0.0/16".into()])]),
    }];
    let d = replace(
        A,
        vec![vpc(
            A,
            "11111111",
            &["10.0.0.0/16"],
            &[("a.example.com", 1_000_001)],
        )],
    );
    groups = apply(&groups, &plan(&groups, &d, 2, names), 2);
    assert_eq!(
        groups.len(),
        2,
        "the full group is not touched; a new one is made"
    );
    let d2 = replace(
        A,
        vec![vpc(
            A,
            "11111111",
            &["10.0.0.0/16"],
            &[("a.example.com", 1_000_001), ("c.example.com", 1_000_003)],
        )],
    );
    let p = plan(&groups, &d2, 2, names);
    assert_eq!(p.writes.len(), 1, "{p:?}");
    assert_eq!(p.writes[0].group(), "new-0");
    assert_eq!((p.summary.added, p.summary.unchanged), (1, 1));
}

#[test]
fn a_vpc_dropped_from_the_file_loses_its_rules_and_variable() {
    let d = replace(
        A,
        vec![
            vpc(
                A,
                "11111111",
                &["10.0.0.0/16"],
                &[("a.example.com", 1_000_001)],
            ),
            vpc(
                A,
                "33333333",
                &["10.3.0.0/16"],
                &[("b.example.com", 1_000_002)],
            ),
        ],
    );
    let groups = apply(&[], &plan(&[], &d, 100, names), 100);
    let d2 = replace(
        A,
        vec![vpc(
            A,
            "11111111",
            &["10.0.0.0/16"],
            &[("a.example.com", 1_000_001)],
        )],
    );
    let after = apply(&groups, &plan(&groups, &d2, 100, names), 100);
    assert_eq!(
        after[0].rules,
        [rule(A, "11111111", "a.example.com", 1_000_001).rule]
    );
    assert!(!after[0].ip_sets.contains_key(&format!("a{A}33333333")));
}

#[test]
fn deletes_remove_only_their_scope_and_empty_groups_go() {
    let mut groups = vec![GroupState {
        name: "fw-tenant-0".into(),
        capacity: 10,
        rules: vec![rule(B, "22222222", "x.example.com", 1_000_100).rule],
        ip_sets: BTreeMap::from([(format!("a{B}22222222"), vec!["10.2.0.0/16".into()])]),
    }];
    let d = replace(
        A,
        vec![
            vpc(
                A,
                "11111111",
                &["10.0.0.0/16"],
                &[("a.example.com", 1_000_001)],
            ),
            vpc(
                A,
                "33333333",
                &["10.3.0.0/16"],
                &[("b.example.com", 1_000_002)],
            ),
        ],
    );
    groups = apply(&groups, &plan(&groups, &d, 10, names), 10);
    let p = plan(
        &groups,
        &state(
            A,
            Change::RemoveVpc {
                vpc_id: "vpc-33333333".into(),
            },
        ),
        10,
        names,
    );
    groups = apply(&groups, &p, 10);
    assert_eq!(groups[0].rules.len(), 2);
    assert_eq!(groups[0].ip_sets.len(), 2);
    groups = apply(
        &groups,
        &plan(&groups, &state(A, Change::RemoveAll), 10, names),
        10,
    );
    assert_eq!(
        groups[0].rules,
        [rule(B, "22222222", "x.example.com", 1_000_100).rule]
    );
    assert_eq!(
        groups[0].ip_sets.keys().collect::<Vec<_>>(),
        [&format!("a{B}22222222")]
    );
    let p = plan(&groups, &state(B, Change::RemoveAll), 10, names);
    assert_eq!(
        p.writes,
        [GroupWrite::Delete {
            group: "fw-tenant-0".into()
        }]
    );
}

#[test]
fn capacity_is_filled_before_new_groups_are_made() {
    let domains: Vec<(String, u32)> = (0..7)
        .map(|i| (format!("d{i}.example.com"), 1_000_000 + i))
        .collect();
    let refs: Vec<(&str, u32)> = domains.iter().map(|(d, s)| (d.as_str(), *s)).collect();
    let d = replace(A, vec![vpc(A, "11111111", &["10.0.0.0/16"], &refs)]);
    let p = plan(&[], &d, 3, names);
    let sizes: Vec<usize> = p
        .writes
        .iter()
        .map(|w| match w {
            GroupWrite::Create { content, .. } => content.rules.len(),
            _ => 0,
        })
        .collect();
    assert_eq!(sizes, [3, 3, 1]);
    let groups = apply(&[], &p, 3);
    assert!(groups
        .iter()
        .all(|g| g.ip_sets.contains_key(&format!("a{A}11111111"))));
}

#[test]
fn sid_collisions_are_resolved_stably_and_existing_sids_kept() {
    // Two tenants ask for the same sid; the second moves, the first keeps it.
    let da = replace(
        A,
        vec![vpc(
            A,
            "11111111",
            &["10.0.0.0/16"],
            &[("a.example.com", 1_000_500)],
        )],
    );
    let db = replace(
        B,
        vec![vpc(
            B,
            "22222222",
            &["10.2.0.0/16"],
            &[("b.example.com", 1_000_500)],
        )],
    );
    let g1 = apply(&[], &plan(&[], &da, 10, names), 10);
    let g2 = apply(&g1, &plan(&g1, &db, 10, names), 10);
    let sids: Vec<u32> = g2[0].rules.iter().filter_map(|l| sid_of(l)).collect();
    assert_eq!(sids, [1_000_500, 1_000_501]);
    // Same inputs, same outcome; and re-sending A changes nothing.
    assert_eq!(g2, apply(&g1, &plan(&g1, &db, 10, names), 10));
    assert_eq!(plan(&g2, &da, 10, names).writes, []);
}

#[test]
fn rules_adopted_from_anfw_automate_keep_their_random_sids() {
    let wanted = rule(A, "11111111", "a.example.com", 1_234_567);
    let existing = GroupState {
        name: "1234-strict".into(),
        capacity: 10,
        rules: vec![with_sid(&wanted.rule, 424_242).unwrap()],
        ip_sets: BTreeMap::from([(format!("a{A}11111111"), vec!["10.0.0.0/16".into()])]),
    };
    let d = replace(
        A,
        vec![vpc(
            A,
            "11111111",
            &["10.0.0.0/16"],
            &[("a.example.com", 1_234_567)],
        )],
    );
    assert_eq!(
        plan(std::slice::from_ref(&existing), &d, 10, names).writes,
        []
    );
    // A changed CIDR rewrites the variable only.
    let d = replace(
        A,
        vec![vpc(
            A,
            "11111111",
            &["10.0.0.0/16", "10.5.0.0/16"],
            &[("a.example.com", 1_234_567)],
        )],
    );
    let p = plan(std::slice::from_ref(&existing), &d, 10, names);
    let [GroupWrite::Update { content, .. }] = p.writes.as_slice() else {
        panic!("{p:?}")
    };
    assert_eq!(content.rules, existing.rules);
    assert_eq!(content.ip_sets[&format!("a{A}11111111")].len(), 2);
}

#[test]
fn foreign_lines_and_duplicates() {
    let r = rule(A, "11111111", "a.example.com", 1_000_001);
    let existing = GroupState {
        name: "g".into(),
        capacity: 10,
        rules: vec![
            "pass tcp any any -> any any (sid:5;)".into(),
            r.rule.clone(),
            with_sid(&r.rule, 1_000_009).unwrap(),
        ],
        ip_sets: BTreeMap::new(),
    };
    let d = replace(
        A,
        vec![vpc(
            A,
            "11111111",
            &["10.0.0.0/16"],
            &[("a.example.com", 1_000_001)],
        )],
    );
    let after = apply(
        std::slice::from_ref(&existing),
        &plan(std::slice::from_ref(&existing), &d, 10, names),
        10,
    );
    assert_eq!(
        after[0].rules,
        ["pass tcp any any -> any any (sid:5;)".to_string(), r.rule]
    );
    assert_eq!(all_rules(&after).len(), 2);
}
