//! The contract between `firewall-rule-collector` and
//! `firewall-rule-executor`: the SQS FIFO message carrying a spoke account's
//! desired Network Firewall rules for one Region, and the rule identity both
//! sides read out of Suricata rule text.
//!
//! Identity is the anfw-automate rule name `<account>-<vpc>-<10 hex>` in the
//! rule's trailing `metadata: rule_name <name>;)`, which the collector writes
//! itself (tenants cannot: `metadata` is a reserved keyword), so groups that
//! anfw-automate already manages are adopted without churn.

use serde::{Deserialize, Serialize};

/// Version of the message format; the executor rejects others.
pub const FORMAT: u32 = 1;

/// Largest message body SQS accepts (256 KiB); a larger desired state is
/// stored in S3 and the message carries [`QueueMessage::Stored`].
pub const SQS_MAX_BODY_BYTES: usize = 262_144;

/// The body of one SQS message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum QueueMessage {
    /// The desired state itself.
    State(DesiredState),
    /// The desired state was over the SQS limit; it is this S3 object (JSON
    /// of [`DesiredState`]).
    Stored { bucket: String, key: String },
}

/// What one spoke account wants in one Region's firewall after one event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DesiredState {
    pub format: u32,
    pub account: String,
    pub region: String,
    pub change: Change,
    pub origin: Origin,
}

/// How the account's rules in the Region change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Change {
    /// The config file's complete content: the account's rules in the
    /// Region become exactly these (a VPC missing here loses its rules).
    Replace { vpcs: Vec<VpcRules> },
    /// The VPC was deleted: its rules and IP set go.
    RemoveVpc { vpc_id: String },
    /// The config file was deleted: every rule of the account in the Region
    /// goes.
    RemoveAll,
}

/// One VPC's rules and the CIDRs of its IP-set variable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VpcRules {
    pub vpc_id: String,
    /// Every IPv4 CIDR associated with the VPC (primary and secondary).
    pub cidrs: Vec<String>,
    pub rules: Vec<NamedRule>,
}

/// A complete Suricata rule and its name. The text carries the preferred
/// sid; the executor may move it to resolve a collision inside a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamedRule {
    pub name: String,
    pub rule: String,
}

/// Where the change came from, for the spoke's log and ordering.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Origin {
    /// `Update`, `DeleteS3` or `DeleteVpc` (anfw-automate's event names).
    pub event: String,
    /// The S3 object version id, or the VPC id for `DeleteVpc`.
    pub version: String,
    /// The spoke log group and stream the executor reports to.
    pub log_group: String,
    pub log_stream: String,
}

/// Tenant rules have sids in `[TENANT_SID_BASE, TENANT_SID_BASE + TENANT_SID_SPAN)`;
/// the central team's global rules live below it.
pub const TENANT_SID_BASE: u32 = 1_000_000;
pub const TENANT_SID_SPAN: u32 = 1_000_000_000;

/// The next tenant sid after `sid`, wrapping inside the tenant range (how a
/// collision inside a group is resolved).
pub fn next_tenant_sid(sid: u32) -> u32 {
    if sid.saturating_add(1) >= TENANT_SID_BASE + TENANT_SID_SPAN || sid < TENANT_SID_BASE {
        TENANT_SID_BASE
    } else {
        sid + 1
    }
}

/// The IP-set variable of a VPC: `a<account><vpc id without "vpc-">`.
pub fn vpc_variable(account: &str, vpc_id: &str) -> String {
    format!("a{account}{}", vpc_id.trim_start_matches("vpc-"))
}

/// A parsed `<account>-<vpc>-<10 hex>` rule name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RuleName<'a> {
    pub account: &'a str,
    /// The VPC id without `vpc-`.
    pub vpc: &'a str,
    pub hash: &'a str,
}

impl<'a> RuleName<'a> {
    /// Parses a rule name exactly: 12 digits, `-`, alphanumerics, `-`, 10
    /// lower-case hex digits.
    pub fn parse(name: &'a str) -> Option<Self> {
        let (account, rest) = name.split_once('-')?;
        let (vpc, hash) = rest.split_once('-')?;
        let ok = account.len() == 12
            && account.bytes().all(|b| b.is_ascii_digit())
            && !vpc.is_empty()
            && vpc.bytes().all(|b| b.is_ascii_alphanumeric())
            && hash.len() == 10
            && hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        ok.then_some(RuleName { account, vpc, hash })
    }
}

const NAME_MARK: &str = "metadata: rule_name ";

/// The rule name of a rule this system wrote: the trailing
/// `metadata: rule_name <name>;)`. `None` for anything else (a foreign or
/// blank line), never a guess from a substring elsewhere in the rule.
pub fn rule_name_of(rule: &str) -> Option<&str> {
    let body = rule.trim_end().strip_suffix(";)")?;
    let at = body.rfind(NAME_MARK)?;
    let name = &body[at + NAME_MARK.len()..];
    RuleName::parse(name).map(|_| name)
}

/// The sid the system wrote into `rule`: the last `sid:<digits>;` option,
/// which is the one the application appends after the tenant's options.
pub fn sid_of(rule: &str) -> Option<u32> {
    let (start, end) = sid_span(rule)?;
    rule[start..end].parse().ok()
}

/// `rule` with its system-written sid replaced by `sid`.
pub fn with_sid(rule: &str, sid: u32) -> Option<String> {
    let (start, end) = sid_span(rule)?;
    Some(format!("{}{sid}{}", &rule[..start], &rule[end..]))
}

/// Byte range of the digits of the last `sid:<digits>;` in `rule`.
fn sid_span(rule: &str) -> Option<(usize, usize)> {
    let mut search = rule.len();
    while let Some(at) = rule[..search].rfind("sid:") {
        let start = at + 4;
        let digits = rule[start..].bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 && rule[start + digits..].starts_with(';') {
            return Some((start, start + digits));
        }
        search = at;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: &str = "pass tls $a123456789012123123123123 any -> $EXTERNAL_NET any (tls.sni; dotprefix; content:\".amazonaws.com\"; endswith; flow:to_server, established; sid:10; rev:1; metadata: rule_name 123456789012-123123123123-96ccf8d27f;)";

    #[test]
    fn rule_names_parse_exactly() {
        assert_eq!(
            RuleName::parse("123456789012-123123123123-96ccf8d27f"),
            Some(RuleName {
                account: "123456789012",
                vpc: "123123123123",
                hash: "96ccf8d27f"
            })
        );
        for bad in [
            "3-eu-west",
            "12345678901-1231-96ccf8d27f",
            "123456789012-1231-96ccf8d27",
            "123456789012-1231-96CCF8D27F",
            "123456789012--96ccf8d27f",
            "123456789012-12_3-96ccf8d27f",
            "123456789012-123-96ccf8d27f-x",
        ] {
            assert_eq!(RuleName::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_name_comes_from_the_trailing_metadata_only() {
        assert_eq!(
            rule_name_of(RULE),
            Some("123456789012-123123123123-96ccf8d27f")
        );
        // anfw-automate's first-match regex read `3-eu-west` out of this.
        let s3 = RULE.replace(".amazonaws.com", "s3-eu-west-1.amazonaws.com");
        assert_eq!(
            rule_name_of(&s3),
            Some("123456789012-123123123123-96ccf8d27f")
        );
        assert_eq!(rule_name_of(""), None);
        assert_eq!(rule_name_of("pass tcp any any -> any any (sid:1;)"), None);
    }

    #[test]
    fn sids_are_read_and_replaced_at_the_system_tail() {
        assert_eq!(sid_of(RULE), Some(10));
        let moved = with_sid(RULE, 4242).unwrap();
        assert_eq!(moved, RULE.replace("sid:10;", "sid:4242;"));
        // A tenant's content mentioning a sid does not confuse either.
        let tricky = "pass tcp $a1 any -> $EXTERNAL_NET any (content:\"sid:7;\";sid:99;rev:1;metadata: rule_name 123456789012-1-0123456789;)";
        assert_eq!(sid_of(tricky), Some(99));
        assert!(with_sid(tricky, 5).unwrap().contains("\"sid:7;\";sid:5;"));
    }

    #[test]
    fn messages_round_trip() {
        let m = QueueMessage::State(DesiredState {
            format: FORMAT,
            account: "112233445566".into(),
            region: "eu-west-1".into(),
            change: Change::RemoveVpc {
                vpc_id: "vpc-0123456789abcdef0".into(),
            },
            origin: Origin {
                event: "DeleteVpc".into(),
                version: "vpc-0123456789abcdef0".into(),
                log_group: "g".into(),
                log_stream: "s".into(),
            },
        });
        let text = serde_json::to_string(&m).unwrap();
        assert!(text.starts_with("{\"state\":{\"format\":1,"), "{text}");
        assert_eq!(serde_json::from_str::<QueueMessage>(&text).unwrap(), m);
        let all = serde_json::to_value(Change::RemoveAll).unwrap();
        assert_eq!(all, serde_json::json!("remove_all"));
        assert_eq!(
            vpc_variable("112233445566", "vpc-1234abcd6789efg"),
            "a1122334455661234abcd6789efg"
        );
    }
}
