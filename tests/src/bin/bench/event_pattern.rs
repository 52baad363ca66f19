//! The EventBridge matcher: the template's audit rules against the seeds'
//! CloudTrail events, in process, against moto's matcher on the same input.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use e2e_tests::local_cloud::python;
use e2e_tests::template_rules;
use e2e_tests::workspace::root;
use serde_json::{json, Value};

const SECONDS: f64 = 2.0;

fn cloudtrail_events() -> Vec<Value> {
    let dir = root().join("tests/fixtures/cloudtrail");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("fixtures")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| serde_json::from_str(&std::fs::read_to_string(p).expect("read")).expect("json"))
        .collect()
}

pub fn throughput() {
    let rules: Vec<_> = template_rules::load()
        .into_iter()
        .filter(|r| r.bus == "default")
        .collect();
    let events = cloudtrail_events();

    let mut child = Command::new(python())
        .arg(root().join("tools/event_pattern_moto.py"))
        .args(["--bench", &SECONDS.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("moto matcher");
    let input = json!({
        "patterns": rules.iter().map(|r| &r.pattern_json).collect::<Vec<_>>(),
        "events": events,
    });
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.to_string().as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("moto matcher output");
    let moto: Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    let moto_rate = moto["events_per_sec"].as_f64().unwrap_or(f64::NAN);

    let mut done = 0usize;
    let mut fired = 0usize;
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs_f64(SECONDS) {
        for event in &events {
            fired += rules.iter().filter(|r| r.pattern.matches(event)).count();
        }
        done += events.len();
    }
    let rust_rate = done as f64 / start.elapsed().as_secs_f64();
    assert!(fired > 0, "the audit rules fire on the seeds' events");
    println!(
        "{:<30} {:>8} {:>16} {:>16} {:>8}",
        "input", "rules", "rust events/s", "moto events/s", "speed-up"
    );
    println!(
        "{:<30} {:>8} {:>16.0} {:>16.0} {:>7.1}x",
        format!("{} CloudTrail events", events.len()),
        rules.len(),
        rust_rate,
        moto_rate,
        rust_rate / moto_rate
    );
}
