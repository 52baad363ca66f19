//! `template.yaml` against the workspace: every template function is a
//! workspace binary built with cargo-lambda and has `events/` samples, every
//! function crate is deployed, and the Globals match what the binaries expect.

use std::collections::BTreeSet;

use e2e_tests::workspace::root;
use serde_yaml::Value;

/// Crates under `crates/` that are tools or libraries, not functions.
const NOT_FUNCTIONS: &[&str] = &["common", "local-aws"];

/// Write actions that support no resource-level permissions (Service
/// Authorization Reference: no resource type), so `"*"` is their only valid
/// Resource.
const NO_RESOURCE_TYPES: &[&str] = &["inspector2:CreateSbomExport"];

fn template() -> Value {
    let text = std::fs::read_to_string(root().join("template.yaml")).unwrap();
    serde_yaml::from_str(&text).unwrap()
}

fn functions(t: &Value) -> Vec<(String, &Value)> {
    t["Resources"]
        .as_mapping()
        .unwrap()
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::Serverless::Function")
        .map(|(k, r)| (k.as_str().unwrap().to_string(), r))
        .collect()
}

fn function_crates() -> BTreeSet<String> {
    std::fs::read_dir(root().join("crates"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("Cargo.toml").is_file())
        .map(|p| {
            let manifest: toml::Table = std::fs::read_to_string(p.join("Cargo.toml"))
                .unwrap()
                .parse()
                .unwrap();
            let name = manifest["package"]["name"].as_str().unwrap().to_string();
            let dir = p.file_name().unwrap().to_str().unwrap();
            assert_eq!(
                name, dir,
                "a crate's package name must be its directory name"
            );
            name
        })
        .filter(|n| !NOT_FUNCTIONS.contains(&n.as_str()))
        .collect()
}

fn tag(v: &Value) -> Option<(String, &Value)> {
    match v {
        Value::Tagged(t) => Some((t.tag.to_string(), &t.value)),
        _ => None,
    }
}

#[test]
fn globals_match_the_rust_runtime_contract() {
    let t = template();
    assert_eq!(t["Transform"], "AWS::Serverless-2016-10-31");
    let g = &t["Globals"]["Function"];
    assert_eq!(g["Runtime"], "provided.al2023");
    assert_eq!(g["Handler"], "bootstrap");
    assert_eq!(g["Tracing"], "Active");
    assert_eq!(
        g["LoggingConfig"]["LogFormat"], "JSON",
        "the functions' logs are JSON"
    );
    let arch = &g["Architectures"][0];
    assert_eq!(
        tag(arch),
        Some(("!Ref".to_string(), &Value::from("Architecture")))
    );
    let p = &t["Parameters"]["Architecture"];
    assert_eq!(p["Default"], "arm64");
    assert_eq!(
        p["AllowedValues"],
        serde_yaml::from_str::<Value>("[arm64, x86_64]").unwrap()
    );
}

#[test]
fn every_function_is_a_workspace_binary_with_samples_and_vice_versa() {
    let t = template();
    let crates = function_crates();
    let mut deployed = BTreeSet::new();
    for (name, f) in functions(&t) {
        assert_eq!(f["Metadata"]["BuildMethod"], "rust-cargolambda", "{name}");
        assert_eq!(
            f["Properties"]["CodeUri"], ".",
            "{name}: CodeUri must be the workspace root so builds share ./target"
        );
        let binary = f["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .unwrap_or_else(|| panic!("{name} has no BuildProperties.Binary"));
        assert!(
            crates.contains(binary),
            "{name} builds {binary:?}, which is not a function crate in crates/"
        );
        let samples = root().join("events").join(binary);
        let count = std::fs::read_dir(&samples)
            .unwrap_or_else(|_| panic!("{name}: no {} directory", samples.display()))
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|x| x == "json")
            })
            .count();
        assert!(
            count > 0,
            "{name}: {} has no .json sample",
            samples.display()
        );
        assert!(
            deployed.insert(binary.to_string()),
            "{binary} is deployed twice"
        );
    }
    assert_eq!(
        deployed, crates,
        "function crates and template functions differ"
    );
    for dir in std::fs::read_dir(root().join("events")).unwrap() {
        let dir = dir.unwrap().file_name().into_string().unwrap();
        assert!(
            deployed.contains(&dir),
            "events/{dir} belongs to no template function"
        );
    }
}

#[test]
fn policies_are_least_privilege() {
    let t = template();
    for (name, f) in functions(&t) {
        let policies = f["Properties"]["Policies"]
            .as_sequence()
            .cloned()
            .unwrap_or_default();
        for policy in &policies {
            if let Some(s) = policy.as_str() {
                panic!("{name}: managed policy {s} is broader than the function needs; write the statement");
            }
            for statement in policy["Statement"].as_sequence().into_iter().flatten() {
                let actions: Vec<String> = match &statement["Action"] {
                    Value::String(s) => vec![s.clone()],
                    Value::Sequence(s) => {
                        s.iter().map(|a| a.as_str().unwrap().to_string()).collect()
                    }
                    other => panic!("{name}: Action {other:?}"),
                };
                for a in &actions {
                    assert!(
                        a != "*" && !a.ends_with(":*"),
                        "{name}: wildcard action {a}"
                    );
                }
                let resource_star = statement["Resource"] == "*";
                let read_only = actions.iter().all(|a| {
                    let op = a.split(':').nth(1).unwrap_or_default();
                    op.starts_with("Describe")
                        || op.starts_with("List")
                        || op.starts_with("Get")
                        || NO_RESOURCE_TYPES.contains(&a.as_str())
                });
                assert!(
                    !resource_star || read_only,
                    "{name}: {actions:?} on Resource \"*\"; scope it to the resources it touches"
                );
            }
        }
    }
}
