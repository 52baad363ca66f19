//! Property tests of the CUSTOM grammar: generated valid rules are accepted
//! and read back option by option; arbitrary text never panics the parser;
//! nothing accepted can carry a second line or leave the tenant's header.

use firewall_rule_collector::custom_rule::{parse_custom_rule, ALLOWED_KEYWORDS, PROTOCOLS};
use proptest::prelude::*;

const VAR: &str = "a1122334455661234abcd6789efg";

fn port() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("any".to_string()),
        (1u32..=65535).prop_map(|p| p.to_string())
    ]
}

fn content() -> impl Strategy<Value = String> {
    // Printable text with the characters that need escaping escaped.
    "[ -~]{1,20}".prop_map(|s| {
        s.chars()
            .map(|c| match c {
                '"' => "\\\"".to_string(),
                '\\' => "\\\\".to_string(),
                ';' => "\\;".to_string(),
                c => c.to_string(),
            })
            .collect()
    })
}

fn flagged() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "nocase",
        "startswith",
        "endswith",
        "http.uri",
        "tls.cert_subject",
    ])
    .prop_map(str::to_string)
}

prop_compose! {
    fn valid_rule()(proto in prop::sample::select(PROTOCOLS.to_vec()), sp in port(), dp in port(),
                    contents in prop::collection::vec(content(), 1..4), flags in prop::collection::vec(flagged(), 0..3),
                    spaces in 1usize..3)
                   -> (String, usize) {
        let sep = " ".repeat(spaces);
        let mut options: Vec<String> = contents.iter().map(|c| format!("content:\"{c}\";")).collect();
        options.extend(flags.iter().map(|f| format!("{f};")));
        let count = options.len();
        (format!("pass{sep}{proto} ${VAR} {sp} ->{sep}$EXTERNAL_NET {dp} ({})", options.join(" ")), count)
    }
}

proptest! {
    #[test]
    fn generated_valid_rules_are_accepted((rule, count) in valid_rule()) {
        let parsed = parse_custom_rule(&rule, VAR).map_err(|e| TestCaseError::fail(format!("{rule}: {e}")))?;
        prop_assert_eq!(parsed.options.len(), count);
        prop_assert!(parsed.options.iter().all(|o| ALLOWED_KEYWORDS.contains(&o.keyword)));
    }

    #[test]
    fn a_line_break_anywhere_is_rejected((rule, _) in valid_rule(), at in any::<prop::sample::Index>(),
                                         brk in prop::sample::select(vec!["\n", "\r", "\r\n", "\u{2028}", "\u{0}"])) {
        let cut = rule.char_indices().map(|(i, _)| i).nth(at.index(rule.chars().count())).unwrap_or(0);
        let broken = format!("{}{brk}{}", &rule[..cut], &rule[cut..]);
        prop_assert!(parse_custom_rule(&broken, VAR).is_err());
    }

    #[test]
    fn arbitrary_text_never_panics_and_acceptance_implies_the_header(text in "\\PC{0,120}") {
        for candidate in [text.clone(), format!("pass tcp ${VAR} any -> $EXTERNAL_NET any ({text})")] {
            if let Ok(r) = parse_custom_rule(&candidate, VAR) {
                prop_assert!(candidate.starts_with("pass "));
                prop_assert!(PROTOCOLS.contains(&r.protocol));
                prop_assert!(!candidate.chars().any(char::is_control));
                prop_assert!(r.options.iter().any(|o| o.keyword == "content"));
                let header: Vec<&str> = candidate[..candidate.find('(').unwrap()].split_whitespace().collect();
                prop_assert_eq!(header[2], format!("${VAR}"));
                prop_assert_eq!(header[4], "->");
                prop_assert_eq!(header[5], "$EXTERNAL_NET");
            }
        }
    }
}
