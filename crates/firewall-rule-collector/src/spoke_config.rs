//! The spoke's `<region>-config.yaml`, in anfw-automate's schema:
//!
//! ```yaml
//! Version: 0.1.0
//! Description: ...
//! Config:
//!   - VPC: vpc-1234abcd6789efg
//!     Type: ANFW::VPC
//!     Properties:
//!       - HTTPS: [.amazonaws.com]
//!       - CUSTOM: ['pass tls $a... (...)']
//! ```
//!
//! Loading checks the shape (unknown keys, types) and names the path of the
//! first problem; [`crate::validate`] checks the content and reports every
//! problem.

use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

/// Largest config file accepted; anything near it would not fit a rule
/// group anyway.
pub const MAX_CONFIG_BYTES: usize = 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpokeConfig {
    /// Not interpreted (anfw-automate does not either), but required. An
    /// unquoted `1.0` is taken as the text `1.0`: anfw-automate's schema
    /// rejected it as a number, so no file that passed there changes, and
    /// rejecting a whole allow-list over a field nobody reads helps nobody.
    #[serde(rename = "Version")]
    pub version: String,
    #[serde(rename = "Description")]
    pub description: String,
    #[serde(rename = "Config")]
    pub config: Vec<VpcEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VpcEntry {
    #[serde(rename = "VPC")]
    pub vpc: String,
    /// Not interpreted; the sample uses `ANFW::VPC`.
    #[serde(rename = "Type")]
    pub kind: String,
    #[serde(rename = "Properties")]
    pub properties: Vec<PropertyItem>,
}

/// One `- KEY: [values]` item. Every key of the mapping is kept, in order,
/// so a multi-key item is validated whole (anfw-automate read only the
/// first key and crashed on `- {}`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PropertyItem(pub Vec<(String, Vec<String>)>);

impl<'de> Deserialize<'de> for PropertyItem {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ItemVisitor;
        impl<'de> Visitor<'de> for ItemVisitor {
            type Value = PropertyItem;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a mapping of HTTP, HTTPS, TLS or CUSTOM to a list of strings")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<PropertyItem, A::Error> {
                let mut entries = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, Vec<String>>()? {
                    entries.push((k, v));
                }
                Ok(PropertyItem(entries))
            }
        }
        d.deserialize_map(ItemVisitor)
    }
}

/// A config file that could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError(pub String);

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Parses `text` (named `source` in errors).
pub fn load(text: &str, source: &str) -> Result<SpokeConfig, LoadError> {
    if text.len() > MAX_CONFIG_BYTES {
        return Err(LoadError(format!(
            "{source}: the file is {} bytes; the limit is {MAX_CONFIG_BYTES}",
            text.len()
        )));
    }
    common::yaml::from_yaml(text, source).map_err(|e| LoadError(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_key_items_keep_every_key_in_order() {
        let c = load(
            "Version: '1'\nDescription: d\nConfig:\n  - VPC: vpc-12345678\n    Type: ANFW::VPC\n    Properties:\n      - HTTPS: [a.example.com]\n        HTTP: [b.example.com]\n      - {}\n",
            "eu-west-1-config.yaml",
        )
        .unwrap();
        let props = &c.config[0].properties;
        assert_eq!(
            props[0].0[0],
            ("HTTPS".into(), vec!["a.example.com".into()])
        );
        assert_eq!(props[0].0[1], ("HTTP".into(), vec!["b.example.com".into()]));
        assert!(props[1].0.is_empty());
    }

    #[test]
    fn version_is_text_even_unquoted() {
        for (written, read) in [
            ("0.1.0", "0.1.0"),
            ("'1.0'", "1.0"),
            ("1.0", "1.0"),
            ("2", "2"),
        ] {
            let c = load(
                &format!("Version: {written}\nDescription: d\nConfig: []\n"),
                "f.yaml",
            )
            .unwrap();
            assert_eq!(c.version, read);
        }
        let e = load("Version: [1]\nDescription: d\nConfig: []\n", "f.yaml").unwrap_err();
        assert!(e.0.contains("Version"), "{e}");
    }

    #[test]
    fn shape_errors_name_the_path() {
        for (yaml, path) in [
            ("Version: '1'\nDescription: d\nConfig: []\nExtra: 1\n", "unknown field `Extra`"),
            ("Description: d\nConfig: []\n", "missing field `Version`"),
            ("Version: '1'\nDescription: d\nConfig:\n  - VPC: vpc-12345678\n    Type: t\n    Properties:\n      - HTTPS: [1.5, {a: b}]\n", "Config[0].Properties[0]"),
            ("Version: '1'\nDescription: d\nConfig:\n  - VPC: vpc-12345678\n    Type: t\n    Properties:\n      - HTTPS\n", "Config[0].Properties[0]"),
        ] {
            let e = load(yaml, "f.yaml").unwrap_err().0;
            assert!(e.contains(path), "{yaml}: {e}");
        }
        let big = format!(
            "Version: '1'\nDescription: '{}'\nConfig: []\n",
            "x".repeat(MAX_CONFIG_BYTES)
        );
        assert!(load(&big, "f.yaml").unwrap_err().0.contains("the limit is"));
    }
}
