//! The central team's global rules (`global_rules.yaml`), kept in a reserved
//! rule group evaluated after the tenants' pass rules.
//!
//! anfw-automate appended options without a space (`any(msg:`, invalid
//! Suricata), left lines that had options without a sid, and drew new random
//! sids on every message, so the group was rewritten each time. Here every
//! line gets deterministic options, so the group changes only when the file
//! does.

use std::collections::HashSet;

use md5::{Digest, Md5};
use serde::Deserialize;

/// Global rules have sids in `[GLOBAL_SID_BASE, GLOBAL_SID_BASE + GLOBAL_SID_SPAN)`,
/// below every tenant sid.
pub const GLOBAL_SID_BASE: u32 = 1_000;
pub const GLOBAL_SID_SPAN: u32 = 900_000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(rename = "Rules")]
    rules: Vec<String>,
}

/// Renders `global_rules.yaml` for the firewall in `account` whose VPC is
/// `vpc_id`; `priority` is the fragment of the rule order (`priority:250;`
/// under the default action order, empty under strict order). Errors name
/// the line.
pub fn render(
    yaml: &str,
    account: &str,
    vpc_id: &str,
    priority: &str,
) -> Result<Vec<String>, String> {
    let file: File =
        common::yaml::from_yaml(yaml, "global_rules.yaml").map_err(|e| e.to_string())?;
    let vpc = vpc_id.trim_start_matches("vpc-");
    let mut taken = HashSet::new();
    let mut out = Vec::with_capacity(file.rules.len());
    for (i, line) in file.rules.iter().enumerate() {
        let fail = |why: &str| format!("global_rules.yaml Rules[{i}] {line:?}: {why}");
        if line.chars().any(char::is_control) {
            return Err(fail("contains a control character"));
        }
        let (header, options) = match line.find('(') {
            Some(open) => {
                let inner = line[open + 1..]
                    .strip_suffix(')')
                    .ok_or_else(|| fail("must end with ')'"))?;
                let inner = inner.trim_end();
                if !inner.is_empty() && !inner.ends_with(';') {
                    return Err(fail("options must end with ';'"));
                }
                (line[..open].trim_end(), Some(inner))
            }
            None => (line.trim_end(), None),
        };
        let parts: Vec<&str> = header.split(' ').filter(|p| !p.is_empty()).collect();
        let [action, proto, _, _, direction, _, _] = parts.as_slice() else {
            return Err(fail(
                "the header needs 7 parts: action protocol source port direction destination port",
            ));
        };
        if !matches!(*action, "pass" | "drop" | "reject" | "alert") {
            return Err(fail("action must be pass, drop, reject or alert"));
        }
        if !matches!(*direction, "->" | "<>") {
            return Err(fail("direction must be -> or <>"));
        }
        if let Some(o) = options {
            if o.split(';').map(str::trim_start).any(|opt| {
                ["sid:", "rev:", "metadata:"]
                    .iter()
                    .any(|k| opt.starts_with(k))
            }) {
                return Err(fail("sid, rev and metadata are set by the executor"));
            }
        }
        let name = format!("{account}-{vpc}-{}", hex10(line));
        let mut sid = preferred_sid(&name);
        while !taken.insert(sid) {
            sid = GLOBAL_SID_BASE + (sid - GLOBAL_SID_BASE + 1) % GLOBAL_SID_SPAN;
        }
        let header = parts.join(" ");
        let rendered = match options {
            None => {
                let msg = format!(
                    "{}{} all {}",
                    action[..1].to_ascii_uppercase(),
                    &action[1..],
                    proto.to_ascii_uppercase()
                );
                format!("{header} (msg:\"{msg}\"; {priority}flow:to_server, established; sid:{sid}; rev:1; metadata: rule_name {name};)")
            }
            Some(inner) => {
                let sep = if inner.is_empty() { "" } else { " " };
                format!("{header} ({inner}{sep}sid:{sid}; rev:1; metadata: rule_name {name};)")
            }
        };
        out.push(rendered);
    }
    Ok(out)
}

fn hex10(text: &str) -> String {
    Md5::digest(text.as_bytes())[..5]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn preferred_sid(name: &str) -> u32 {
    let d = Md5::digest(name.as_bytes());
    GLOBAL_SID_BASE + u32::from_be_bytes([d[0], d[1], d[2], d[3]]) % GLOBAL_SID_SPAN
}

#[cfg(test)]
mod tests {
    use super::*;
    use common::firewall_state::{rule_name_of, sid_of, with_sid};

    const MAIN: &str = "Rules:\n  - 'drop tcp $HOME_NET any -> $EXTERNAL_NET any'\n  - 'drop udp $HOME_NET any -> $EXTERNAL_NET any'\n";

    #[test]
    fn the_reference_file_renders_with_the_space_and_stable_sids() {
        let rules = render(MAIN, "111122223333", "vpc-0a1b2c3d", "").unwrap();
        let first = with_sid(&rules[0], 7).unwrap();
        assert_eq!(first, "drop tcp $HOME_NET any -> $EXTERNAL_NET any (msg:\"Drop all TCP\"; flow:to_server, established; sid:7; rev:1; metadata: rule_name 111122223333-0a1b2c3d-fca1f714c1;)");
        assert!(rules[1].ends_with("rule_name 111122223333-0a1b2c3d-a74dbab167;)"));
        assert_eq!(
            rule_name_of(&rules[1]),
            Some("111122223333-0a1b2c3d-a74dbab167")
        );
        assert_eq!(
            render(MAIN, "111122223333", "vpc-0a1b2c3d", "").unwrap(),
            rules,
            "deterministic"
        );
        let sids: HashSet<u32> = rules.iter().filter_map(|r| sid_of(r)).collect();
        assert_eq!(sids.len(), 2);
        assert!(sids
            .iter()
            .all(|s| *s < common::firewall_state::TENANT_SID_BASE));
    }

    #[test]
    fn lines_with_options_get_a_sid_too() {
        let yaml = "Rules:\n  - 'alert tls $HOME_NET any -> $EXTERNAL_NET any (tls.sni; content:\"evil.example\";)'\n";
        let rules = render(yaml, "111122223333", "vpc-0a1b2c3d", "priority:250;").unwrap();
        assert!(rules[0].starts_with("alert tls $HOME_NET any -> $EXTERNAL_NET any (tls.sni; content:\"evil.example\"; sid:"), "{}", rules[0]);
    }

    #[test]
    fn invalid_lines_are_named() {
        for (line, why) in [
            ("drop tcp $HOME_NET any -> $EXTERNAL_NET", "7 parts"),
            ("block tcp $HOME_NET any -> $EXTERNAL_NET any", "action"),
            ("drop tcp $HOME_NET any => $EXTERNAL_NET any", "direction"),
            (
                "drop tcp $HOME_NET any -> $EXTERNAL_NET any (sid:1;)",
                "set by the executor",
            ),
            (
                "drop tcp $HOME_NET any -> $EXTERNAL_NET any (content:\"x\")",
                "end with ';'",
            ),
        ] {
            let e = render(
                &format!("Rules:\n  - '{line}'\n"),
                "111122223333",
                "vpc-0a1b2c3d",
                "",
            )
            .unwrap_err();
            assert!(e.contains(why) && e.contains("Rules[0]"), "{line}: {e}");
        }
    }
}
