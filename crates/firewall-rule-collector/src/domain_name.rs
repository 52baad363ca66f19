//! Domain entries of `HTTP`, `HTTPS` and `TLS` properties: anfw-automate's
//! schema pattern, written as code (its look-ahead is not `regex`-crate
//! syntax), plus the check the blog promises and the reference never ran:
//! no bare top-level domain and no public suffix (`.com`, `.co.uk`).

use std::collections::HashSet;
use std::sync::OnceLock;

/// A valid entry: the host as written (lower-cased, leading dot kept) and
/// the port, when given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainEntry {
    pub host: String,
    pub port: Option<u16>,
}

/// Checks `raw` against `^\.?((?!-)[a-zA-Z0-9-]{0,62}[a-zA-Z0-9]\.)+[a-zA-Z]{2,63}(:\d{1,5})?$`
/// (the port mandatory when `port_required`, as for `TLS`), with the port
/// limited to 1-65535, and rejects public suffixes.
pub fn parse_domain_entry(raw: &str, port_required: bool) -> Result<DomainEntry, String> {
    let (host, port) = match raw.rsplit_once(':') {
        Some((host, port)) => (host, Some(parse_port(port)?)),
        None if port_required => {
            return Err(format!(
                "{raw:?} has no port; TLS entries name one, e.g. \".example.com:443\""
            ))
        }
        None => (raw, None),
    };
    let bare = host.strip_prefix('.').unwrap_or(host);
    let labels: Vec<&str> = bare.split('.').collect();
    if labels.len() == 1 && is_tld_label(labels[0]) {
        return Err(format!(
            "{raw:?} is a bare top-level domain; it would allow every site under it"
        ));
    }
    let (tld, names) = labels.split_last().expect("split yields one item");
    if labels.len() < 2 || !is_tld_label(tld) || !names.iter().all(|l| is_dns_label(l)) {
        return Err(format!(
            "{raw:?} is not a domain name (labels of letters, digits and inner hyphens, a top-level domain of 2-63 letters, optionally :port)"
        ));
    }
    let lower = bare.to_ascii_lowercase();
    if is_public_suffix(&lower) {
        return Err(format!(
            "{raw:?} is a public suffix ({lower}); it would allow every registrant under it"
        ));
    }
    Ok(DomainEntry {
        host: host.to_ascii_lowercase(),
        port,
    })
}

fn parse_port(port: &str) -> Result<u16, String> {
    if port.is_empty() || port.len() > 5 || !port.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("port {port:?} is not a number from 1 to 65535"));
    }
    match port.parse::<u32>() {
        Ok(p @ 1..=65535) => Ok(p as u16),
        _ => Err(format!("port {port} is not from 1 to 65535")),
    }
}

fn is_tld_label(label: &str) -> bool {
    (2..=63).contains(&label.len()) && label.bytes().all(|b| b.is_ascii_alphabetic())
}

fn is_dns_label(label: &str) -> bool {
    let bytes = label.as_bytes();
    (1..=63).contains(&bytes.len())
        && bytes[0] != b'-'
        && bytes[bytes.len() - 1] != b'-'
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
}

/// The ICANN section of the Public Suffix List, compiled in.
struct SuffixList {
    exact: HashSet<&'static str>,
    wildcard: HashSet<&'static str>,
    exceptions: HashSet<&'static str>,
}

fn suffix_list() -> &'static SuffixList {
    static LIST: OnceLock<SuffixList> = OnceLock::new();
    LIST.get_or_init(|| {
        let mut list = SuffixList {
            exact: HashSet::new(),
            wildcard: HashSet::new(),
            exceptions: HashSet::new(),
        };
        let text = include_str!("../data/public_suffix_icann.dat");
        for line in text
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with("//"))
        {
            if let Some(rest) = line.strip_prefix("*.") {
                list.wildcard.insert(rest);
            } else if let Some(rest) = line.strip_prefix('!') {
                list.exceptions.insert(rest);
            } else {
                list.exact.insert(line);
            }
        }
        list
    })
}

/// Whether `host` (lower case, no leading dot) is itself a public suffix.
/// Internationalised suffixes are listed in Unicode; hosts here are ASCII,
/// so only their punycode forms could match, which the list does not carry.
pub fn is_public_suffix(host: &str) -> bool {
    let list = suffix_list();
    if list.exceptions.contains(host) {
        return false;
    }
    if list.exact.contains(host) {
        return true;
    }
    match host.split_once('.') {
        Some((_, parent)) => list.wildcard.contains(parent),
        None => true, // every single label is a (possibly unlisted) TLD
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_valid_entries_parse() {
        let e = parse_domain_entry(".amazonaws.com", false).unwrap();
        assert_eq!((e.host.as_str(), e.port), (".amazonaws.com", None));
        let e = parse_domain_entry("HelpDomain.org", false).unwrap();
        assert_eq!(e.host, "helpdomain.org");
        let e = parse_domain_entry(".amazon.com:443", true).unwrap();
        assert_eq!((e.host.as_str(), e.port), (".amazon.com", Some(443)));
        assert!(parse_domain_entry("a-b.example.co.uk", false).is_ok());
        assert!(parse_domain_entry("xn--80ak6aa92e.com", false).is_ok());
    }

    #[test]
    fn malformed_entries_are_rejected() {
        for bad in [
            "-a.example.com",
            "a-.example.com",
            "*.example.com",
            "example",
            "example.c",
            "example.c0m",
            "exa mple.com",
            "example..com",
            "example.com:",
            "example.com:0",
            "example.com:65536",
            "example.com:99999",
            "example.com:44a",
            "",
            ".",
            &format!("{}.com", "a".repeat(64)),
        ] {
            assert!(parse_domain_entry(bad, false).is_err(), "{bad:?}");
        }
        let err = parse_domain_entry(".example.com", true).unwrap_err();
        assert!(err.contains("no port"), "{err}");
    }

    #[test]
    fn tlds_and_public_suffixes_are_rejected() {
        for (bad, why) in [
            (".com", "bare top-level domain"),
            ("com", "bare top-level domain"),
            (".co.uk", "public suffix"),
            ("co.uk:443", "public suffix"),
            (".com.au", "public suffix"),
            ("city.kawasaki.jp", "not"), // exception rule: a registrable name
        ] {
            match parse_domain_entry(bad, false) {
                Err(e) => assert!(e.contains(why), "{bad}: {e}"),
                Ok(_) => assert_eq!(why, "not", "{bad} accepted"),
            }
        }
        assert!(is_public_suffix("anything.kawasaki.jp"), "wildcard rule");
        assert!(!is_public_suffix("city.kawasaki.jp"), "exception rule");
        assert!(!is_public_suffix("amazonaws.com"));
        assert!(!is_public_suffix("example.co.uk"));
    }
}
