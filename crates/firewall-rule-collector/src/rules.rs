//! Suricata rule text, names and preferred sids, byte-for-byte as
//! anfw-automate writes them (so its rule groups are adopted without churn),
//! with its template bugs fixed.

use md5::{Digest, Md5};

use common::firewall_state::NamedRule;

/// The firewall policy's stateful rule order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleOrder {
    Strict,
    DefaultAction,
}

impl RuleOrder {
    /// Parses the Network Firewall enum value.
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "STRICT_ORDER" => Ok(RuleOrder::Strict),
            "DEFAULT_ACTION_ORDER" => Ok(RuleOrder::DefaultAction),
            other => Err(format!(
                "{other:?} is not STRICT_ORDER or DEFAULT_ACTION_ORDER"
            )),
        }
    }

    /// anfw-automate's `priority` fragment: only meaningful (and only
    /// written) under the default action order.
    pub fn priority_fragment(self) -> &'static str {
        match self {
            RuleOrder::DefaultAction => "priority:250;",
            RuleOrder::Strict => "",
        }
    }
}

/// A predefined property key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Predefined {
    Http,
    Https,
    Tls,
}

impl Predefined {
    /// The lower-cased key, as hashed into rule names.
    pub fn key(self) -> &'static str {
        match self {
            Predefined::Http => "http",
            Predefined::Https => "https",
            Predefined::Tls => "tls",
        }
    }

    fn sticky_buffer(self) -> &'static str {
        match self {
            Predefined::Http => "http.host",
            Predefined::Https | Predefined::Tls => "tls.sni",
        }
    }
}

/// First ten hex digits of the MD5 of `text`.
pub fn md5_10(text: &str) -> String {
    let digest = Md5::digest(text.as_bytes());
    digest[..5].iter().map(|b| format!("{b:02x}")).collect()
}

/// Python's `separator.join(iterable_of_chars)`: `"x".join("abc")` is
/// `"axbxc"`. anfw-automate hashes `domain.join(protocol)`.
fn python_join(separator: &str, chars: &str) -> String {
    let mut out = String::new();
    for (i, c) in chars.chars().enumerate() {
        if i > 0 {
            out.push_str(separator);
        }
        out.push(c);
    }
    out
}

/// The name of a predefined rule: `<account>-<vpc>-<md5(value.join(key))[:10]>`
/// where `value` is the lower-cased entry including `:port`.
pub fn predefined_rule_name(account: &str, vpc_id: &str, key: Predefined, value: &str) -> String {
    let vpc = vpc_id.trim_start_matches("vpc-");
    format!("{account}-{vpc}-{}", md5_10(&python_join(value, key.key())))
}

/// The name of a custom rule: the hash of the rule exactly as written.
pub fn custom_rule_name(account: &str, vpc_id: &str, rule: &str) -> String {
    let vpc = vpc_id.trim_start_matches("vpc-");
    format!("{account}-{vpc}-{}", md5_10(rule))
}

pub use common::firewall_state::{TENANT_SID_BASE, TENANT_SID_SPAN};

/// The sid a rule asks for, from its full name (account and VPC included,
/// so the same domain of two tenants in one group does not collide). The
/// executor moves a rule only if this is taken in its group.
pub fn preferred_sid(name: &str) -> u32 {
    let digest = Md5::digest(name.as_bytes());
    let n = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]);
    TENANT_SID_BASE + n % TENANT_SID_SPAN
}

/// A rule for a predefined entry: `value` is the lower-cased entry as
/// written (`.amazon.com:443`), `variable` the VPC's IP-set variable.
pub fn predefined_rule(
    account: &str,
    vpc_id: &str,
    key: Predefined,
    value: &str,
    order: RuleOrder,
) -> NamedRule {
    let name = predefined_rule_name(account, vpc_id, key, value);
    let (domain, port) = split_port(value);
    let proto = key.sticky_buffer().split('.').next().unwrap_or_default();
    let buffer = key.sticky_buffer();
    let variable = common::firewall_state::vpc_variable(account, vpc_id);
    let prio = order.priority_fragment();
    let sid = preferred_sid(&name);
    let matcher = if domain.starts_with('.') {
        format!("{buffer}; dotprefix; content:\"{domain}\"; endswith;")
    } else {
        format!("{buffer}; content:\"{domain}\"; startswith; endswith;")
    };
    let rule = format!(
        "pass {proto} ${variable} any -> $EXTERNAL_NET {port} ({matcher} {prio}flow:to_server, established; sid:{sid}; rev:1; metadata: rule_name {name};)"
    );
    NamedRule { name, rule }
}

/// anfw-automate's port split: `^.+:\d+$` makes the part after the last
/// `:` the port, otherwise the port is `any` and the colon stays.
fn split_port(value: &str) -> (&str, &str) {
    match value.rsplit_once(':') {
        Some((domain, port))
            if !domain.is_empty()
                && !port.is_empty()
                && port.bytes().all(|b| b.is_ascii_digit()) =>
        {
            (domain, port)
        }
        _ => (value, "any"),
    }
}

/// A custom rule (already checked by the grammar): the tenant's text kept
/// verbatim, the application's options appended inside the parentheses.
pub fn custom_rule(account: &str, vpc_id: &str, rule: &str, order: RuleOrder) -> NamedRule {
    let name = custom_rule_name(account, vpc_id, rule);
    let sid = preferred_sid(&name);
    let body = rule.strip_suffix(')').unwrap_or(rule);
    let prio = order.priority_fragment();
    NamedRule {
        rule: format!("{body}{prio}sid:{sid};rev:1;metadata: rule_name {name};)"),
        name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use common::firewall_state::{rule_name_of, with_sid};

    const ACCT: &str = "123456789012";
    const VPC: &str = "vpc-123123123123";

    /// The spec's golden strings were produced with the sid patched to 10.
    fn golden(rule: &NamedRule) -> String {
        with_sid(&rule.rule, 10).unwrap()
    }

    #[test]
    fn golden_predefined_rules() {
        let r = predefined_rule(
            ACCT,
            VPC,
            Predefined::Https,
            ".amazonaws.com",
            RuleOrder::Strict,
        );
        assert_eq!(golden(&r), "pass tls $a123456789012123123123123 any -> $EXTERNAL_NET any (tls.sni; dotprefix; content:\".amazonaws.com\"; endswith; flow:to_server, established; sid:10; rev:1; metadata: rule_name 123456789012-123123123123-96ccf8d27f;)");
        let r = predefined_rule(
            ACCT,
            VPC,
            Predefined::Https,
            "special:4443",
            RuleOrder::DefaultAction,
        );
        assert_eq!(golden(&r), "pass tls $a123456789012123123123123 any -> $EXTERNAL_NET 4443 (tls.sni; content:\"special\"; startswith; endswith; priority:250;flow:to_server, established; sid:10; rev:1; metadata: rule_name 123456789012-123123123123-e68594a8cb;)");
        let r = predefined_rule(
            ACCT,
            VPC,
            Predefined::Https,
            "special:not-a-port",
            RuleOrder::Strict,
        );
        assert!(golden(&r).contains(
            "-> $EXTERNAL_NET any (tls.sni; content:\"special:not-a-port\"; startswith; endswith; "
        ));
        assert_eq!(r.name, "123456789012-123123123123-c0f6b7d7f2");
        let r = predefined_rule(
            ACCT,
            VPC,
            Predefined::Http,
            "example.com:8080",
            RuleOrder::Strict,
        );
        assert_eq!(golden(&r), "pass http $a123456789012123123123123 any -> $EXTERNAL_NET 8080 (http.host; content:\"example.com\"; startswith; endswith; flow:to_server, established; sid:10; rev:1; metadata: rule_name 123456789012-123123123123-e06319ad9a;)");
        let r = predefined_rule(
            ACCT,
            VPC,
            Predefined::Tls,
            ".amazon.com:443",
            RuleOrder::Strict,
        );
        assert_eq!(golden(&r), "pass tls $a123456789012123123123123 any -> $EXTERNAL_NET 443 (tls.sni; dotprefix; content:\".amazon.com\"; endswith; flow:to_server, established; sid:10; rev:1; metadata: rule_name 123456789012-123123123123-48a1f085c2;)");
    }

    #[test]
    fn golden_custom_rule_in_both_orders() {
        let tenant = "pass http $a123456789012123123123123 any -> $EXTERNAL_NET any (http.host; content:\".amazon.com\"; startswith; endswith; flow:to_server, established;)";
        let strict = custom_rule(ACCT, VPC, tenant, RuleOrder::Strict);
        assert_eq!(golden(&strict), tenant.replace("established;)", "established;sid:10;rev:1;metadata: rule_name 123456789012-123123123123-2726ee0a97;)"));
        let action = custom_rule(ACCT, VPC, tenant, RuleOrder::DefaultAction);
        assert!(golden(&action).ends_with("established;priority:250;sid:10;rev:1;metadata: rule_name 123456789012-123123123123-2726ee0a97;)"));
        // A backslash sequence in content is copied, never interpreted.
        let r = custom_rule(
            ACCT,
            VPC,
            "pass tcp $a1 any -> $EXTERNAL_NET any (content:\"\\\\1\";)",
            RuleOrder::Strict,
        );
        assert!(r.rule.contains("(content:\"\\\\1\";sid:"), "{}", r.rule);
    }

    #[test]
    fn fixture_hashes_match_the_reference() {
        for (key, domain, hash) in [
            (Predefined::Https, ".google.com", "709f471759"),
            (Predefined::Https, ".example.com", "9773e15683"),
            (Predefined::Http, "amazonaws.com", "b35652bab4"),
            (Predefined::Http, "google.com", "39e4a33c8a"),
            (Predefined::Http, "helpdomain.org", "ab670070c7"),
            (Predefined::Https, "amazonaws.com", "fd45a9a56e"),
            (Predefined::Https, "google.com", "75e6002bd6"),
            (Predefined::Https, "helpdomain.org", "df1abf080d"),
        ] {
            let name = predefined_rule_name(ACCT, VPC, key, domain);
            assert_eq!(
                name,
                format!("{ACCT}-123123123123-{hash}"),
                "{key:?} {domain}"
            );
        }
    }

    #[test]
    fn names_parse_back_and_sids_are_deterministic_and_in_range() {
        let r = predefined_rule(
            ACCT,
            VPC,
            Predefined::Https,
            ".amazonaws.com",
            RuleOrder::Strict,
        );
        assert_eq!(rule_name_of(&r.rule), Some(r.name.as_str()));
        assert_eq!(preferred_sid(&r.name), preferred_sid(&r.name.clone()));
        let other = predefined_rule(
            "999999999999",
            VPC,
            Predefined::Https,
            ".amazonaws.com",
            RuleOrder::Strict,
        );
        assert_ne!(preferred_sid(&r.name), preferred_sid(&other.name));
        for n in ["a", "b", "123456789012-1-0000000000"] {
            let sid = preferred_sid(n);
            assert!((TENANT_SID_BASE..TENANT_SID_BASE + TENANT_SID_SPAN).contains(&sid));
        }
    }

    #[test]
    fn rule_order_parses() {
        assert_eq!(RuleOrder::parse("STRICT_ORDER"), Ok(RuleOrder::Strict));
        assert_eq!(
            RuleOrder::parse("DEFAULT_ACTION_ORDER"),
            Ok(RuleOrder::DefaultAction)
        );
        assert!(RuleOrder::parse("strict").is_err());
    }
}
