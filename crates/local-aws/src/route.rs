//! REST path template matching (`/schemas/ids/{id}`, `/tags/{arn+}`).

use std::collections::HashMap;

/// Binds `path` against `template`, returning the decoded labels, or `None`
/// if the path does not fit. Labels are percent-decoded after splitting, so
/// an encoded `/` (as in an ARN label) stays inside its segment.
pub(crate) fn match_template(template: &str, path: &str) -> Option<HashMap<String, String>> {
    let template: Vec<&str> = template.trim_start_matches('/').split('/').collect();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let mut params = HashMap::new();
    for (i, part) in template.iter().enumerate() {
        let label = part.strip_prefix('{').and_then(|p| p.strip_suffix('}'));
        match label {
            Some(name) if name.ends_with('+') => {
                // A greedy label must be last and binds the rest of the path.
                if i + 1 != template.len() || i >= segments.len() {
                    return None;
                }
                let rest = segments[i..].join("/");
                if rest.is_empty() {
                    return None;
                }
                params.insert(name.trim_end_matches('+').to_owned(), percent_decode(&rest));
                return Some(params);
            }
            Some(name) => {
                let segment = segments.get(i).filter(|s| !s.is_empty())?;
                params.insert(name.to_owned(), percent_decode(segment));
            }
            None => {
                if segments.get(i) != Some(part) {
                    return None;
                }
            }
        }
    }
    (segments.len() == template.len()).then_some(params)
}

/// Decodes `%XX` escapes; malformed escapes are kept literally, as lenient
/// servers do, rather than failing the whole request.
pub(crate) fn percent_decode(input: &str) -> String {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binds_labels_and_rejects_mismatches() {
        let p = match_template("/schemas/ids/{id}", "/schemas/ids/42").unwrap();
        assert_eq!(p["id"], "42");
        assert!(match_template("/schemas/ids/{id}", "/schemas/ids/").is_none());
        assert!(match_template("/schemas/ids/{id}", "/schemas/ids/1/x").is_none());
        assert!(match_template("/schemas/ids/{id}", "/schemas/id/1").is_none());
        assert!(match_template("/a", "/a/b").is_none());
        assert!(match_template("/", "/").is_some());
    }

    #[test]
    fn decodes_labels_after_splitting() {
        let p = match_template(
            "/tags/{arn}",
            "/tags/arn%3Aaws%3Aairflow%3Aeu-west-1%3A1%3Aenvironment%2Fdev",
        )
        .unwrap();
        assert_eq!(p["arn"], "arn:aws:airflow:eu-west-1:1:environment/dev");
    }

    #[test]
    fn greedy_label_binds_the_rest() {
        let p = match_template("/objects/{key+}", "/objects/a/b%20c").unwrap();
        assert_eq!(p["key"], "a/b c");
        assert!(match_template("/objects/{key+}", "/objects").is_none());
    }

    #[test]
    fn malformed_escapes_are_kept() {
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        assert_eq!(percent_decode("%41"), "A");
    }
}
