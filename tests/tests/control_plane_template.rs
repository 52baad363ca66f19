//! The control-plane part of `template.yaml`: the Flink scaling state
//! machine is parsed and executed by a small ASL interpreter over scripted
//! task results (every path ends, loops are bounded, failures reach Fail
//! states, the Choice values are the function's actions), and the MWAA and
//! scheduler wiring is checked.

use std::collections::{BTreeMap, BTreeSet};

use e2e_tests::workspace::root;
use flink_scaler::plan::Action;
use serde_json::{json, Value};

fn template() -> serde_yaml::Value {
    serde_yaml::from_str(&std::fs::read_to_string(root().join("template.yaml")).unwrap()).unwrap()
}

fn resource(name: &str) -> Value {
    // CloudFormation tags (!Ref, !Sub) become {"tag": ..., "value": ...} objects; fine here.
    serde_json::to_value(&template()["Resources"][name]).unwrap()
}

fn definition() -> Value {
    resource("FlinkScalingStateMachine")["Properties"]["Definition"].clone()
}

fn targets(state: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for key in ["Next", "Default"] {
        if let Some(n) = state[key].as_str() {
            out.push(n.to_string());
        }
    }
    for list in ["Choices", "Catch"] {
        for item in state[list].as_array().into_iter().flatten() {
            out.push(item["Next"].as_str().unwrap().to_string());
        }
    }
    out
}

fn is_loop_bound(state: &Value) -> bool {
    state["Type"] == "Choice"
        && state["Choices"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["NumericGreaterThanEqualsPath"] == "$.loop.maxLoops")
}

#[test]
fn every_state_is_reachable_every_target_exists_and_tasks_catch_into_fail_states() {
    let d = definition();
    let states = d["States"].as_object().unwrap();
    let start = d["StartAt"].as_str().unwrap();
    let mut seen = BTreeSet::from([start.to_string()]);
    let mut todo = vec![start.to_string()];
    while let Some(name) = todo.pop() {
        let state = states
            .get(&name)
            .unwrap_or_else(|| panic!("{name} is a target but no state"));
        let kind = state["Type"].as_str().unwrap();
        let terminal = matches!(kind, "Succeed" | "Fail") || state["End"] == true;
        assert_eq!(
            terminal,
            targets(state).is_empty(),
            "{name}: a state either ends or goes on"
        );
        if kind == "Task" {
            let catch = &state["Catch"][0];
            assert_eq!(
                catch["ErrorEquals"],
                json!(["States.ALL"]),
                "{name} catches everything"
            );
            assert_eq!(
                states[catch["Next"].as_str().unwrap()]["Type"],
                "Fail",
                "{name}"
            );
            assert!(
                state["Retry"].as_array().is_some_and(|r| !r.is_empty()),
                "{name} retries"
            );
        }
        for t in targets(state) {
            if seen.insert(t.clone()) {
                todo.push(t);
            }
        }
    }
    let all: BTreeSet<String> = states.keys().cloned().collect();
    assert_eq!(seen, all, "unreachable states");
}

#[test]
fn every_cycle_passes_a_loop_bound() {
    // Without the bound checks the graph must be acyclic.
    let d = definition();
    let states = d["States"].as_object().unwrap();
    let graph: BTreeMap<&str, Vec<String>> = states
        .iter()
        .filter(|(_, s)| !is_loop_bound(s))
        .map(|(n, s)| (n.as_str(), targets(s)))
        .collect();
    assert!(states.values().filter(|s| is_loop_bound(s)).count() >= 2);
    fn visit<'a>(
        n: &'a str,
        g: &'a BTreeMap<&str, Vec<String>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) {
        if done.contains(n) {
            return;
        }
        assert!(!path.contains(&n), "unbounded cycle: {path:?} -> {n}");
        path.push(n);
        for t in g.get(n).into_iter().flatten() {
            visit(t, g, path, done);
        }
        path.pop();
        done.insert(n);
    }
    let mut done = BTreeSet::new();
    for n in graph.keys() {
        visit(n, &graph, &mut Vec::new(), &mut done);
    }
}

#[test]
fn the_choice_values_are_the_functions_actions() {
    let d = definition();
    let values: BTreeSet<&str> = d["States"]["Scaled?"]["Choices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["StringEquals"].as_str().unwrap())
        .collect();
    let actions = [Action::Scaled, Action::NotRunning, Action::AtLimit].map(Action::as_str);
    assert_eq!(values, BTreeSet::from(actions), "noop falls to the default");
}

/// Runs the definition with scripted results for the tasks; returns the
/// visited state names.
fn run(script: &mut dyn FnMut(&str, &Value) -> Value) -> Vec<String> {
    let d = definition();
    let states = &d["States"];
    let mut data = json!({"detail": {"alarmName": "a", "state": {"value": "ALARM"}}});
    let mut name = d["StartAt"].as_str().unwrap().to_string();
    let mut visited = Vec::new();
    for _ in 0..10_000 {
        visited.push(name.clone());
        let s = &states[&name];
        let next = match s["Type"].as_str().unwrap() {
            "Succeed" | "Fail" => return visited,
            "Pass" => {
                let mut out = serde_json::Map::new();
                for (k, v) in s["Parameters"].as_object().unwrap() {
                    let (key, value) = match (k.strip_suffix(".$"), v.as_str()) {
                        (Some(key), Some(expr)) => (key.to_string(), eval(expr, &data)),
                        _ => (k.clone(), v.clone()),
                    };
                    out.insert(key, value);
                }
                set(
                    &mut data,
                    s["ResultPath"].as_str().unwrap(),
                    Value::Object(out),
                );
                s["Next"].as_str().unwrap().to_string()
            }
            "Task" => {
                let result = script(&name, &data);
                set(&mut data, s["ResultPath"].as_str().unwrap(), result);
                s["Next"].as_str().unwrap().to_string()
            }
            "Wait" => {
                let seconds = get(&data, s["SecondsPath"].as_str().unwrap());
                assert!(seconds.as_u64().is_some(), "{name}: wait of {seconds}");
                s["Next"].as_str().unwrap().to_string()
            }
            "Choice" => s["Choices"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| {
                    let v = get(&data, c["Variable"].as_str().unwrap());
                    if let Some(x) = c.get("StringEquals") {
                        v == *x
                    } else {
                        v.as_f64().unwrap()
                            >= get(&data, c["NumericGreaterThanEqualsPath"].as_str().unwrap())
                                .as_f64()
                                .unwrap()
                    }
                })
                .map_or(&s["Default"], |c| &c["Next"])
                .as_str()
                .unwrap()
                .to_string(),
            other => panic!("{other}"),
        };
        name = next;
    }
    panic!("no end after 10000 states")
}

fn get(data: &Value, path: &str) -> Value {
    data.pointer(&path.trim_start_matches('$').replace('.', "/"))
        .cloned()
        .unwrap_or(Value::Null)
}

fn set(data: &mut Value, path: &str, value: Value) {
    // Every ResultPath of the definition is one top-level key.
    let key = path
        .strip_prefix("$.")
        .unwrap_or_else(|| panic!("ResultPath {path}"));
    assert!(!key.contains('.'), "ResultPath {path}");
    data.as_object_mut().unwrap().insert(key.to_string(), value);
}

fn eval(expr: &str, data: &Value) -> Value {
    if let Some(arg) = expr
        .strip_prefix("States.StringToJson('")
        .and_then(|r| r.strip_suffix("')"))
    {
        // The default parameter values, as DefinitionSubstitutions fill them in.
        return json!(match arg {
            "${UpdateWaitSeconds}" => 60,
            "${CooldownSeconds}" => 300,
            "${MaxLoops}" => 20,
            other => panic!("{other}"),
        });
    }
    if let Some(inner) = expr
        .strip_prefix("States.MathAdd(")
        .and_then(|r| r.strip_suffix(", 1)"))
    {
        return json!(get(data, inner).as_i64().unwrap() + 1);
    }
    get(data, expr)
}

#[test]
fn a_scale_waits_for_the_update_cools_down_and_stops_at_the_limit() {
    let mut describes = 0;
    let mut scales = 0;
    let path = run(&mut |task, _| match task {
        "Scale" => {
            scales += 1;
            json!({"action": if scales == 1 { "scaled" } else { "at_limit" }, "targetKpu": 4})
        }
        "DescribeApplication" => {
            describes += 1;
            json!({"status": if describes < 3 { "UPDATING" } else { "RUNNING" }})
        }
        "DescribeAlarm" => json!({"state": "ALARM"}),
        other => panic!("{other}"),
    });
    let expected = [
        "Start",
        "Scale",
        "Scaled?",
        "WaitForUpdate",
        "DescribeApplication",
        "StillUpdating?",
        "CountWait",
        "WaitBound?",
        "WaitForUpdate",
        "DescribeApplication",
        "StillUpdating?",
        "CountWait",
        "WaitBound?",
        "WaitForUpdate",
        "DescribeApplication",
        "StillUpdating?",
        "CoolDown",
        "DescribeAlarm",
        "StillInAlarm?",
        "CountRound",
        "RoundBound?",
        "Scale",
        "Scaled?",
        "AtLimit",
    ];
    assert_eq!(path, expected);
}

#[test]
fn alarms_that_never_clear_and_rollbacks_end_in_fail_states() {
    let path = run(&mut |task, _| match task {
        "Scale" => json!({"action": "scaled", "targetKpu": 4}),
        "DescribeApplication" => json!({"status": "RUNNING"}),
        "DescribeAlarm" => json!({"state": "ALARM"}),
        other => panic!("{other}"),
    });
    assert_eq!(path.last().unwrap(), "LoopBoundReached");
    assert_eq!(
        path.iter().filter(|s| *s == "Scale").count(),
        20,
        "MaxLoops rounds"
    );

    let path = run(&mut |task, _| match task {
        "Scale" => json!({"action": "scaled", "targetKpu": 4}),
        "DescribeApplication" => json!({"status": "ROLLED_BACK"}),
        other => panic!("{other}"),
    });
    assert_eq!(path.last().unwrap(), "RolledBack");

    let path = run(&mut |task, _| match task {
        "Scale" => json!({"action": "noop", "targetKpu": 4}),
        other => panic!("{other}"),
    });
    assert_eq!(path, ["Start", "Scale", "Scaled?", "Done"]);
}

#[test]
fn mwaa_creator_is_serialised_and_its_triggers_retry_into_a_dead_letter_queue() {
    let f = resource("MwaaEndpointCreatorFunction");
    assert_eq!(f["Properties"]["ReservedConcurrentExecutions"], 1);
    let events = &f["Properties"]["Events"];
    let rule = &events["StatusChange"];
    assert_eq!(rule["Type"], "EventBridgeRule");
    assert_eq!(
        rule["Properties"]["Pattern"]["detail"]["status"],
        json!(["PENDING", "DELETING", "DELETED"])
    );
    let reconcile = &events["Reconcile"];
    assert_eq!(reconcile["Type"], "ScheduleV2");
    assert_eq!(
        serde_json::from_str::<Value>(reconcile["Properties"]["Input"].as_str().unwrap()).unwrap(),
        json!({"action": "reconcile"})
    );
    for e in [rule, reconcile] {
        assert!(
            e["Properties"]["RetryPolicy"]["MaximumRetryAttempts"]
                .as_u64()
                .unwrap()
                > 0
        );
        assert!(e["Properties"]["DeadLetterConfig"]["Arn"].is_object());
    }
}

#[test]
fn schedules_carry_their_target_and_a_time_zone() {
    for name in ["FlinkScheduleUp", "FlinkScheduleDown"] {
        let s = &resource(name)["Properties"];
        assert!(s["ScheduleExpressionTimezone"].is_object(), "{name}");
        let input = s["Target"]["Input"].to_string();
        assert!(input.contains("targetKpu"), "{name}: {input}");
        assert!(
            s["Target"]["RetryPolicy"].is_object() && s["Target"]["DeadLetterConfig"].is_object()
        );
    }
}
