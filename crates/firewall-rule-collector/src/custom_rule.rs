//! The `CUSTOM` rule grammar: a tenant's Suricata rule is parsed, not
//! pattern-matched, and only this subset is accepted:
//!
//! ```text
//! rule    = "pass" SP proto SP "$a<account><vpc>" SP port SP "->" SP "$EXTERNAL_NET" SP port SP "(" options ")"
//! port    = "any" | 1..65535
//! options = *( [SP] keyword [ ":" [SP] value ] ";" ) [SP]
//! value   = *( quoted | "\" char | any char but ";" and `"` )
//! quoted  = `"` *( `\"` | `\\` | `\;` | `\:` | any char but `"` and `\` ) `"`
//! ```
//!
//! `SP` is one or more spaces. Keywords come from an allow-list; the ones the
//! application writes itself (sid, rev, metadata, ...) and state keywords
//! that let one rule affect another's flows (flowbits, xbits, ...) are
//! rejected by name; `content` is required. No control characters anywhere,
//! so a rule is always exactly one line.

use crate::domain_name::{is_public_suffix, parse_domain_entry};

/// Protocols a tenant may name (anfw-automate's `protocols.yaml`, minus
/// `https`, which Suricata does not know: TLS traffic is `tls`).
pub const PROTOCOLS: &[&str] = &[
    "http", "tls", "ftp", "smb", "dns", "dcerpc", "ssh", "smtp", "imap", "modbus", "dnp3", "nfs",
    "ikev2", "krb5", "ntp", "dhcp", "rfb", "rdp", "snmp", "tftp", "sip", "tcp", "udp", "icmp",
    "ip",
];

/// Keywords the application owns or that reach beyond the rule itself.
pub const RESERVED_KEYWORDS: &[&str] = &[
    "sid",
    "rev",
    "gid",
    "priority",
    "metadata",
    "msg",
    "classtype",
    "reference",
    "target",
    "flowbits",
    "flowint",
    "xbits",
    "hostbits",
    "noalert",
    "threshold",
    "detection_filter",
    "tag",
];

/// Options a tenant may use: content matching and the sticky buffers of
/// the allowed protocols, plus `flow` with its direction/state values.
pub const ALLOWED_KEYWORDS: &[&str] = &[
    "content",
    "nocase",
    "depth",
    "offset",
    "distance",
    "within",
    "startswith",
    "endswith",
    "isdataat",
    "bsize",
    "dotprefix",
    "fast_pattern",
    "flow",
    "app-layer-protocol",
    "dsize",
    "http.host",
    "http.uri",
    "http.method",
    "http.user_agent",
    "http.header",
    "http.cookie",
    "http.request_line",
    "http.protocol",
    "http.header_names",
    "http.accept",
    "http.content_type",
    "http.referer",
    "http.start",
    "tls.sni",
    "tls.cert_subject",
    "tls.cert_issuer",
    "tls.cert_serial",
    "tls.cert_fingerprint",
    "tls.version",
    "ssl_version",
    "ja3.hash",
    "ja3s.hash",
    "dns.query",
    "ssh.proto",
    "ssh.software",
    "ssh.protoversion",
    "ssh.softwareversion",
    "ftpdata_command",
    "smb.share",
    "smb.named_pipe",
    "sip.method",
    "sip.uri",
    "krb5.cname",
    "krb5.sname",
];

const FLOW_VALUES: &[&str] = &[
    "to_server",
    "to_client",
    "from_server",
    "from_client",
    "established",
    "not_established",
    "stateless",
    "only_stream",
    "no_stream",
    "only_frag",
    "no_frag",
];

/// The longest custom rule accepted.
pub const MAX_RULE_CHARS: usize = 4096;

/// One `keyword[:value];` option, value as written (trimmed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleOption<'a> {
    pub keyword: &'a str,
    pub value: Option<&'a str>,
}

/// A custom rule that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomRule<'a> {
    pub protocol: &'a str,
    pub options: Vec<RuleOption<'a>>,
}

/// The first control character (or Unicode line/paragraph separator) in
/// `s`, as an escaped description.
pub fn control_character(s: &str) -> Option<String> {
    s.chars()
        .find(|c| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}'))
        .map(|c| format!("{:?}", c.to_string()))
}

/// Parses and checks `rule` for the VPC whose IP-set variable is `variable`
/// (`a<account><vpc without prefix>`).
pub fn parse_custom_rule<'a>(rule: &'a str, variable: &str) -> Result<CustomRule<'a>, String> {
    if let Some(c) = control_character(rule) {
        return Err(format!(
            "contains the control character {c}; a rule must be one line"
        ));
    }
    if rule.chars().count() > MAX_RULE_CHARS {
        return Err(format!("is longer than {MAX_RULE_CHARS} characters"));
    }
    let open = rule
        .find('(')
        .ok_or("has no options; write them in parentheses at the end, e.g. (tls.sni; content:\"example.com\";)")?;
    let inner = rule[open + 1..]
        .strip_suffix(')')
        .ok_or("must end with the ')' closing its options")?;
    let header: Vec<&str> = rule[..open].split(' ').filter(|t| !t.is_empty()).collect();
    let protocol = check_header(&header, variable)?;
    let options = parse_options(inner)?;
    check_options(&options)?;
    Ok(CustomRule { protocol, options })
}

fn check_header<'a>(header: &[&'a str], variable: &str) -> Result<&'a str, String> {
    let [action, protocol, source, source_port, direction, destination, destination_port] = header
    else {
        return Err(format!(
            "header has {} parts; expected 7: pass <protocol> ${variable} <port> -> $EXTERNAL_NET <port>",
            header.len()
        ));
    };
    if *action != "pass" {
        return Err(format!(
            "action is {action:?}; tenants may only write \"pass\" rules"
        ));
    }
    if !PROTOCOLS.contains(protocol) {
        return Err(format!(
            "protocol {protocol:?} is not allowed; use one of {}",
            PROTOCOLS.join(", ")
        ));
    }
    if source.strip_prefix('$') != Some(variable) {
        return Err(format!(
            "source is {source:?}; it must be this VPC's variable ${variable}"
        ));
    }
    check_port("source port", source_port)?;
    if *direction != "->" {
        return Err(format!(
            "direction is {direction:?}; only \"->\" is allowed"
        ));
    }
    if *destination != "$EXTERNAL_NET" {
        return Err(format!(
            "destination is {destination:?}; it must be $EXTERNAL_NET"
        ));
    }
    check_port("destination port", destination_port)?;
    Ok(protocol)
}

fn check_port(what: &str, port: &str) -> Result<(), String> {
    let numeric = !port.is_empty()
        && port.len() <= 5
        && port.bytes().all(|b| b.is_ascii_digit())
        && matches!(port.parse::<u32>(), Ok(1..=65535));
    if port == "any" || numeric {
        Ok(())
    } else {
        Err(format!(
            "{what} is {port:?}; use \"any\" or a number from 1 to 65535"
        ))
    }
}

/// Splits the text between the parentheses into options.
pub fn parse_options(inner: &str) -> Result<Vec<RuleOption<'_>>, String> {
    let bytes = inner.as_bytes();
    let mut options = Vec::new();
    let mut i = 0;
    loop {
        while i < bytes.len() && bytes[i] == b' ' {
            i += 1;
        }
        if i == bytes.len() {
            return Ok(options);
        }
        let start = i;
        while i < bytes.len()
            && (bytes[i].is_ascii_lowercase()
                || bytes[i].is_ascii_digit()
                || matches!(bytes[i], b'_' | b'.' | b'-'))
        {
            i += 1;
        }
        let keyword = &inner[start..i];
        if keyword.is_empty() {
            let found = inner[i..].chars().next().unwrap_or(' ');
            return Err(format!(
                "option {} starts with {found:?}; expected a lower-case keyword",
                options.len() + 1
            ));
        }
        while i < bytes.len() && bytes[i] == b' ' {
            i += 1;
        }
        let value = match bytes.get(i) {
            Some(b';') => None,
            Some(b':') => {
                i += 1;
                let value_start = i;
                i = value_end(inner, i).map_err(|e| format!("option {keyword:?}: {e}"))?;
                Some(inner[value_start..i].trim())
            }
            Some(_) => {
                return Err(format!(
                    "option {keyword:?} is followed by {:?}; expected ':' or ';'",
                    inner[i..].chars().next().unwrap_or(' ')
                ))
            }
            None => return Err(format!("option {keyword:?} is not terminated by ';'")),
        };
        if i >= bytes.len() || bytes[i] != b';' {
            return Err(format!("option {keyword:?} is not terminated by ';'"));
        }
        if value == Some("") {
            return Err(format!("option {keyword:?} has an empty value"));
        }
        i += 1;
        options.push(RuleOption { keyword, value });
    }
}

/// Index of the `;` ending the value starting at `i`, honouring quotes and
/// backslash escapes.
fn value_end(inner: &str, mut i: usize) -> Result<usize, String> {
    let bytes = inner.as_bytes();
    let mut quoted = false;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => {
                match bytes.get(i + 1) {
                    Some(b'"' | b'\\' | b';' | b':') => i += 2,
                    Some(_) => {
                        return Err(format!(
                            "unknown escape \\{}; only \\\" \\\\ \\; \\: are allowed",
                            inner[i + 1..].chars().next().unwrap_or(' ')
                        ))
                    }
                    None => return Err("ends with a lone backslash".into()),
                }
                continue;
            }
            b'"' => quoted = !quoted,
            b';' if !quoted => return Ok(i),
            _ => {}
        }
        i += 1;
    }
    Err(if quoted {
        "has an unterminated quoted string".into()
    } else {
        "is not terminated by ';'".into()
    })
}

fn check_options(options: &[RuleOption<'_>]) -> Result<(), String> {
    for o in options {
        if RESERVED_KEYWORDS.contains(&o.keyword) {
            return Err(format!(
                "uses the reserved keyword {:?}; the firewall team's system sets it",
                o.keyword
            ));
        }
        if !ALLOWED_KEYWORDS.contains(&o.keyword) {
            return Err(format!(
                "uses the keyword {:?}, which is not allowed",
                o.keyword
            ));
        }
        match (o.keyword, o.value) {
            ("content", Some(v)) => {
                content_text(v)?;
            }
            ("content", None) => return Err("content needs a quoted value".into()),
            ("flow", Some(v)) => {
                for part in v.split(',').map(str::trim) {
                    if !FLOW_VALUES.contains(&part) {
                        return Err(format!("flow value {part:?} is not allowed"));
                    }
                }
            }
            _ => {}
        }
    }
    if !options.iter().any(|o| o.keyword == "content") {
        return Err("has no content option; every custom rule must match content".into());
    }
    // A domain match on the host/SNI buffer must not be a bare TLD or a
    // public suffix (the reference's check never ran).
    if let Some(first) = options.first() {
        if matches!(first.keyword, "tls.sni" | "http.host") {
            let content = options
                .iter()
                .find(|o| o.keyword == "content")
                .and_then(|o| o.value)
                .map(content_text)
                .transpose()?
                .unwrap_or_default();
            check_host_content(&content)?;
        }
    }
    Ok(())
}

/// The text of a `content` value: `["!"] "..."`, escapes resolved.
fn content_text(value: &str) -> Result<String, String> {
    let quoted = value.strip_prefix('!').unwrap_or(value).trim_start();
    let body = quoted
        .strip_prefix('"')
        .and_then(|q| q.strip_suffix('"'))
        .filter(|b| !b.is_empty())
        .ok_or_else(|| format!("content value {value} is not a non-empty quoted string"))?;
    let mut text = String::with_capacity(body.len());
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => text.extend(chars.next()),
            '"' => {
                return Err(format!(
                    "content value {value} has an unescaped quote inside"
                ))
            }
            c => text.push(c),
        }
    }
    Ok(text)
}

fn check_host_content(content: &str) -> Result<(), String> {
    let host = content.trim_start_matches('.').to_ascii_lowercase();
    if host.is_empty() || !host.contains('.') || is_public_suffix(&host) {
        return Err(format!(
            "content {content:?} is a top-level domain or public suffix; it would allow every site under it"
        ));
    }
    // A host that is a syntactically bad name is left to Suricata to not
    // match; only over-broad names are a safety issue. Catch the obvious
    // ones the domain grammar rejects with a suffix-based reason anyway.
    if let Err(e) = parse_domain_entry(&host, false) {
        if e.contains("public suffix") || e.contains("top-level") {
            return Err(e);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) const VAR: &str = "a1122334455661234abcd6789efg";

    fn ok(rule: &str) -> CustomRule<'_> {
        parse_custom_rule(rule, VAR).unwrap_or_else(|e| panic!("{rule}: {e}"))
    }

    fn err(rule: &str) -> String {
        parse_custom_rule(rule, VAR).expect_err(rule)
    }

    #[test]
    fn the_sample_rules_parse() {
        let r = ok("pass http $a1122334455661234abcd6789efg any -> $EXTERNAL_NET any (http.host; content:\"amazon.com\"; startswith; endswith; flow:to_server, established;)");
        assert_eq!(r.protocol, "http");
        assert_eq!(r.options.len(), 5);
        assert_eq!(
            r.options[4],
            RuleOption {
                keyword: "flow",
                value: Some("to_server, established")
            }
        );
        ok("pass tls $a1122334455661234abcd6789efg any -> $EXTERNAL_NET any (tls.sni; dotprefix; content:\".facebook.com\"; endswith; flow:to_server, established;)");
    }

    #[test]
    fn quotes_and_escapes_are_parsed() {
        let r = ok(
            r#"pass tcp $a1122334455661234abcd6789efg any -> $EXTERNAL_NET 443 (content:"a\;b\"c; sid:1;"; nocase;)"#,
        );
        assert_eq!(r.options[0].value, Some(r#""a\;b\"c; sid:1;""#));
        assert_eq!(
            content_text(r.options[0].value.unwrap()).unwrap(),
            "a;b\"c; sid:1;"
        );
        // A parenthesis inside content does not end the options.
        ok(r#"pass tcp $a1122334455661234abcd6789efg any -> $EXTERNAL_NET any (content:"a)b"; )"#);
    }

    #[test]
    fn each_bypass_is_rejected_with_its_reason() {
        let base =
            "pass tcp $a1122334455661234abcd6789efg any -> $EXTERNAL_NET 443 (content:\"x\";)";
        for (rule, reason) in [
            (format!("{base}\npass ip any any -> any any (content:\"y\";)"), "control character"),
            (base.replace("pass", "drop"), "only write \"pass\""),
            (base.replace("pass", "alert"), "only write \"pass\""),
            (base.replace("pass", "PASS"), "only write \"pass\""),
            (base.replace("->", "<>"), "only \"->\""),
            (base.replace("$EXTERNAL_NET", "any"), "must be $EXTERNAL_NET"),
            (base.replace("$EXTERNAL_NET", "$HOME_NET"), "must be $EXTERNAL_NET"),
            (base.replace("$EXTERNAL_NET", "$a9988776655441234abcd6789efg"), "must be $EXTERNAL_NET"),
            (base.replace("$a1122334455661234abcd6789efg", "$a9988776655441234abcd6789efg"), "this VPC's variable"),
            (base.replace("$a1122334455661234abcd6789efg", "any"), "this VPC's variable"),
            (base.replace("443", "[80,443]"), "destination port"),
            (base.replace("443", "0"), "destination port"),
            (base.replace("443", "65536"), "destination port"),
            (base.replace(" tcp ", " quic "), "protocol \"quic\""),
            (base.replace(" tcp ", " https "), "protocol \"https\""),
            (base.replace("content:\"x\";", "content:\"x\"; sid:999;"), "reserved keyword \"sid\""),
            (base.replace("content:\"x\";", "content:\"x\"; priority:1;"), "reserved keyword \"priority\""),
            (base.replace("content:\"x\";", "content:\"x\"; metadata: rule_name 1;"), "reserved keyword \"metadata\""),
            (base.replace("content:\"x\";", "content:\"x\"; flowbits:set,a;"), "reserved keyword \"flowbits\""),
            (base.replace("content:\"x\";", "content:\"x\"; xbits:set,a,track ip_src;"), "reserved keyword \"xbits\""),
            (base.replace("content:\"x\";", "content:\"x\"; pcre:\"/a/\";"), "not allowed"),
            (base.replace("content:\"x\";", "nocase;"), "no content"),
            (base.replace("content:\"x\";", "content:\"x\""), "not terminated"),
            (base.replace("content:\"x\";", "content:\"x;"), "unterminated quoted"),
            (base.replace("content:\"x\";", "content:x;"), "quoted string"),
            (base.replace("content:\"x\";", "content:\"\\1\";"), "unknown escape"),
            (base.replace("content:\"x\";", "content:\"x\"; flow:to_server,stateful;"), "flow value"),
            (base.replace("content:\"x\";", "Content:\"x\";"), "lower-case keyword"),
            (base.replace('(', ""), "has no options"),
            (format!("{base} "), "must end with"),
            (base.replace("any ->", "->"), "expected 7"),
            (base.replace("x", "a\u{0}b"), "control character"),
            (base.replace("x", "a\u{2028}b"), "control character"),
            (base.replace(" 443 ", " 443\t"), "control character"),
            ("pass tls $a1122334455661234abcd6789efg any -> $EXTERNAL_NET any (tls.sni; content:\".com\";)".to_string(), "public suffix"),
            ("pass http $a1122334455661234abcd6789efg any -> $EXTERNAL_NET any (http.host; content:\"co.uk\";)".to_string(), "public suffix"),
            (format!("pass tcp $a1122334455661234abcd6789efg any -> $EXTERNAL_NET any (content:\"{}\";)", "x".repeat(5000)), "longer than"),
        ] {
            let e = err(&rule);
            assert!(e.contains(reason), "{rule:?}: {e:?} lacks {reason:?}");
        }
        // A reserved word inside content is content, not an option.
        ok("pass tcp $a1122334455661234abcd6789efg any -> $EXTERNAL_NET 443 (content:\"sid:1; msg:x\";)");
    }
}
