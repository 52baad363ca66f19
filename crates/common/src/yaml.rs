//! YAML loading, behind one function so the deprecated `serde_yaml` can be
//! swapped for a maintained fork without touching callers.

use std::fmt;

use serde::de::DeserializeOwned;

/// A document that failed to load: where (source, line, column, field path)
/// and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    pub source: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// Dotted path to the offending field, empty at the document root.
    pub path: String,
    pub message: String,
}

impl fmt::Display for YamlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.source)?;
        if let (Some(l), Some(c)) = (self.line, self.column) {
            write!(f, ":{l}:{c}")?;
        }
        if !self.path.is_empty() {
            write!(f, ": at {}", self.path)?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for YamlError {}

/// Parses `text` (named `source` in errors, e.g. the S3 URI) into `T`.
pub fn from_yaml<T: DeserializeOwned>(text: &str, source: &str) -> Result<T, YamlError> {
    let de = serde_yaml::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let location = inner.location();
        // serde_yaml appends "at line L column C" itself; we report it as fields.
        let mut message = inner.to_string();
        if let Some(i) = message.find(" at line ") {
            message.truncate(i);
        }
        YamlError {
            source: source.to_string(),
            line: location.as_ref().map(|l| l.line()),
            column: location.as_ref().map(|l| l.column()),
            path: if path == "." { String::new() } else { path },
            message,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Doc {
        #[serde(rename = "Version")]
        version: String,
        #[serde(rename = "Items")]
        items: Vec<Item>,
    }
    #[derive(Debug, Deserialize, PartialEq)]
    struct Item {
        port: u16,
    }

    #[test]
    fn loads_a_document() {
        let d: Doc = from_yaml("Version: '1'\nItems:\n  - port: 443\n", "s3://b/k").unwrap();
        assert_eq!(d.items, [Item { port: 443 }]);
    }

    #[test]
    fn errors_carry_line_column_and_path() {
        let err = from_yaml::<Doc>(
            "Version: '1'\nItems:\n  - port: 443\n  - port: 70000\n",
            "s3://b/k",
        )
        .unwrap_err();
        assert_eq!(err.line, Some(4));
        assert_eq!(err.path, "Items[1].port");
        assert!(err.to_string().starts_with("s3://b/k:4:"), "{err}");
        assert!(err.message.contains("70000"), "{err}");
    }

    #[test]
    fn syntax_errors_are_located() {
        let err = from_yaml::<Doc>("Version: '1'\nItems: [\n", "cfg.yaml").unwrap_err();
        assert!(err.line.is_some(), "{err:?}");
        assert!(err.to_string().starts_with("cfg.yaml:"), "{err}");
    }
}
