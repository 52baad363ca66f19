//! A basic Suricata check of a stateful group's `RulesString`, enough to
//! catch what Network Firewall rejects and rule generators get wrong: a
//! header of seven parts with a known action and direction, options in
//! parentheses at the end, a `sid` in every rule and unique in the group,
//! and every `$VARIABLE` defined (by the group or as a standard one).

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use crate::AwsError;

const ACTIONS: &[&str] = &[
    "pass",
    "drop",
    "reject",
    "alert",
    "rejectsrc",
    "rejectdst",
    "rejectboth",
];
/// Variables Network Firewall defines itself.
const BUILTIN_VARIABLES: &[&str] = &["HOME_NET", "EXTERNAL_NET"];

/// Checks `rules` of a group whose `RuleVariables` are `variables`.
pub(super) fn check(rules: &str, variables: Option<&Value>) -> Result<(), AwsError> {
    let defined: HashSet<&str> = ["IPSets", "PortSets"]
        .iter()
        .filter_map(|k| variables.and_then(|v| v.get(*k)).and_then(Value::as_object))
        .flat_map(|m| m.keys().map(String::as_str))
        .chain(BUILTIN_VARIABLES.iter().copied())
        .collect();
    let mut sids: HashMap<u64, usize> = HashMap::new();
    for (i, line) in rules.lines().map(str::trim).enumerate() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let n = i + 1;
        let bad = |why: String| AwsError::invalid_request(format!("RulesString line {n}: {why}"));
        let open = line
            .find('(')
            .ok_or_else(|| bad("no options in parentheses".into()))?;
        if !line[..open].ends_with(' ') {
            return Err(bad(
                "a space must separate the header from the options".into()
            ));
        }
        if !line.ends_with(')') {
            return Err(bad("the options must end the rule with ')'".into()));
        }
        let header: Vec<&str> = line[..open].split_whitespace().collect();
        let [action, _proto, src, sport, dir, dst, dport] = header.as_slice() else {
            return Err(bad(format!(
                "the header has {} parts; Suricata needs 7",
                header.len()
            )));
        };
        if !ACTIONS.contains(action) {
            return Err(bad(format!("unknown action {action:?}")));
        }
        if !matches!(*dir, "->" | "<>") {
            return Err(bad(format!("unknown direction {dir:?}")));
        }
        for part in [src, sport, dst, dport] {
            for var in part
                .split(|c: char| "[],!".contains(c))
                .filter_map(|t| t.strip_prefix('$'))
            {
                if !defined.contains(var) {
                    return Err(bad(format!(
                        "the variable ${var} is not defined in RuleVariables"
                    )));
                }
            }
        }
        let sid = sid_of(&line[open..]).ok_or_else(|| bad("no sid option".into()))?;
        if let Some(first) = sids.insert(sid, n) {
            return Err(bad(format!(
                "sid {sid} is already used on line {first}; sids must be unique in a rule group"
            )));
        }
    }
    Ok(())
}

/// The value of the `sid` option: the `sid:` following `(`, `;` or
/// whitespace outside quotes.
fn sid_of(options: &str) -> Option<u64> {
    let bytes = options.as_bytes();
    let mut quoted = false;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 1,
            b'"' => quoted = !quoted,
            b's' if !quoted
                && options[i..].starts_with("sid:")
                && i > 0
                && matches!(bytes[i - 1], b'(' | b';' | b' ') =>
            {
                let digits: String = options[i + 4..]
                    .trim_start()
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                return digits.parse().ok();
            }
            _ => {}
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn valid_rules_pass_and_each_defect_is_named() {
        let vars = json!({"IPSets": {"a1": {"Definition": ["10.0.0.0/16"]}}});
        check("# c\npass tls $a1 any -> $EXTERNAL_NET 443 (content:\"sid:5;\"; sid:1; rev:1;)\ndrop tcp $HOME_NET any -> any any (sid:2;)", Some(&vars)).unwrap();
        for (rules, why) in [
            (
                "pass tcp any any -> any any (sid:1;)\npass tcp any any -> any any (sid:1;)",
                "sid 1 is already used on line 1",
            ),
            ("pass tcp any any -> any any (msg:\"x\";)", "no sid"),
            ("pass tcp any any -> any any sid:1;", "no options"),
            (
                "drop tcp $HOME_NET any -> $EXTERNAL_NET any(msg: \"x\"; sid:1;)",
                "a space must separate",
            ),
            (
                "drop tcp $HOME_NET any -> $EXTERNAL_NET (msg: \"x\"; sid:1;)",
                "7",
            ),
            ("block tcp any any -> any any (sid:1;)", "unknown action"),
            ("pass tcp any any => any any (sid:1;)", "unknown direction"),
            ("pass tcp $a2 any -> any any (sid:1;)", "$a2 is not defined"),
            ("pass tcp any any -> any any (sid:1;) x", "must end"),
        ] {
            let e = check(rules, Some(&vars)).unwrap_err();
            assert!(e.message.contains(why), "{rules}: {}", e.message);
        }
    }
}
