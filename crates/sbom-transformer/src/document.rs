//! The SBOM documents Inspector exports, as lenient borrowed serde structs.
//!
//! One top-level struct holds the fields of both formats, so a single pass
//! over the bytes both detects the format (`spdxVersion` vs `bomFormat`) and
//! reads it. Strings borrow from the input where JSON allows it (no escapes),
//! unknown fields are skipped without being built (serde's `IgnoredAny`), and
//! every field is optional or defaulted: Inspector writes
//! `"metadata": {"component": null}`, omits `dataLicense` and component
//! versions, and future exports may add fields.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

use crate::sbom::SpdxPackages;

/// A borrowed string; owned only when the JSON string has escapes.
pub type Text<'a> = Cow<'a, str>;

/// Both formats' top-level fields.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Document<'a> {
    // SPDX 2.3
    #[serde(borrow, deserialize_with = "text")]
    pub spdx_version: Option<Text<'a>>,
    #[serde(borrow, deserialize_with = "text")]
    pub name: Option<Text<'a>>,
    #[serde(borrow, deserialize_with = "text")]
    pub document_namespace: Option<Text<'a>>,
    #[serde(borrow)]
    pub creation_info: Option<CreationInfo<'a>>,
    #[serde(borrow)]
    pub packages: Option<SpdxPackages<'a>>,

    // CycloneDX 1.4 / 1.5
    #[serde(borrow, deserialize_with = "text")]
    pub bom_format: Option<Text<'a>>,
    #[serde(borrow, deserialize_with = "text")]
    pub spec_version: Option<Text<'a>>,
    #[serde(borrow)]
    pub metadata: Option<CdxMetadata<'a>>,
    #[serde(borrow)]
    pub components: Option<Vec<CdxComponent<'a>>>,
    #[serde(borrow)]
    pub vulnerabilities: Option<Vec<CdxVulnerability<'a>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CreationInfo<'a> {
    #[serde(borrow, deserialize_with = "text")]
    pub created: Option<Text<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct SpdxPackage<'a> {
    #[serde(borrow, deserialize_with = "text")]
    pub name: Option<Text<'a>>,
    #[serde(borrow, deserialize_with = "text")]
    pub version_info: Option<Text<'a>>,
    #[serde(borrow, deserialize_with = "text")]
    pub source_info: Option<Text<'a>>,
    #[serde(borrow, deserialize_with = "text")]
    pub primary_package_purpose: Option<Text<'a>>,
    #[serde(borrow)]
    pub external_refs: Option<SpdxRefs<'a>>,
}

/// A package's `externalRefs`, reduced while they are read to what the
/// tables use: the first purl and the vulnerability ids (no per-package
/// vector of refs is built).
#[derive(Debug, Default)]
pub struct SpdxRefs<'a> {
    pub purl: Option<Text<'a>>,
    pub vulnerabilities: Vec<Text<'a>>,
}

impl<'a> SpdxRefs<'a> {
    /// Keeps what `r` adds: the first non-empty purl, every vulnerability id.
    pub fn add(&mut self, r: SpdxExternalRef<'a>) {
        let Some(locator) = r.reference_locator.filter(|l| !l.is_empty()) else {
            return;
        };
        match (r.reference_category.as_deref(), r.reference_type.as_deref()) {
            (Some("PACKAGE-MANAGER" | "PACKAGE_MANAGER"), Some("purl")) if self.purl.is_none() => {
                self.purl = Some(locator)
            }
            (Some("SECURITY"), Some("vulnerability" | "advisory")) => {
                self.vulnerabilities.push(locator)
            }
            _ => {}
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for SpdxRefs<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Refs<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for Refs<'a> {
            type Value = SpdxRefs<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array of SPDX external references")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = SpdxRefs::default();
                while let Some(r) = seq.next_element::<SpdxExternalRef<'a>>()? {
                    out.add(r);
                }
                Ok(out)
            }
        }
        deserializer.deserialize_seq(Refs(PhantomData))
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct SpdxExternalRef<'a> {
    #[serde(borrow, deserialize_with = "text")]
    pub reference_category: Option<Text<'a>>,
    #[serde(borrow, deserialize_with = "text")]
    pub reference_type: Option<Text<'a>>,
    #[serde(borrow, deserialize_with = "text")]
    pub reference_locator: Option<Text<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CdxMetadata<'a> {
    #[serde(borrow, deserialize_with = "text")]
    pub timestamp: Option<Text<'a>>,
    #[serde(borrow)]
    pub properties: Option<Vec<CdxProperty<'a>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CdxProperty<'a> {
    #[serde(borrow, deserialize_with = "text")]
    pub name: Option<Text<'a>>,
    #[serde(borrow, deserialize_with = "text")]
    pub value: Option<Text<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CdxComponent<'a> {
    #[serde(borrow, rename = "type", deserialize_with = "text")]
    pub component_type: Option<Text<'a>>,
    #[serde(borrow, deserialize_with = "text")]
    pub name: Option<Text<'a>>,
    #[serde(borrow, deserialize_with = "text")]
    pub version: Option<Text<'a>>,
    #[serde(borrow, deserialize_with = "text")]
    pub purl: Option<Text<'a>>,
    #[serde(borrow, rename = "bom-ref", deserialize_with = "text")]
    pub bom_ref: Option<Text<'a>>,
    #[serde(borrow)]
    pub properties: Option<Vec<CdxProperty<'a>>>,
    /// CycloneDX allows nested components (sbomgen nests some).
    #[serde(borrow)]
    pub components: Option<Vec<CdxComponent<'a>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CdxVulnerability<'a> {
    #[serde(borrow, deserialize_with = "text")]
    pub id: Option<Text<'a>>,
    #[serde(borrow)]
    pub ratings: Option<Vec<CdxRating<'a>>>,
    #[serde(borrow)]
    pub affects: Option<Vec<CdxAffects<'a>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CdxRating<'a> {
    #[serde(borrow, deserialize_with = "text")]
    pub severity: Option<Text<'a>>,
    pub score: Option<f64>,
    #[serde(borrow, deserialize_with = "text")]
    pub method: Option<Text<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CdxAffects<'a> {
    #[serde(borrow, rename = "ref", deserialize_with = "text")]
    pub reference: Option<Text<'a>>,
}

/// An optional string field, borrowed from the input unless it has escapes.
///
/// serde borrows a bare `Cow<str>` field but deserializes `Option<Cow<str>>`
/// through `Cow`'s own impl, which always copies: one allocation per string
/// of the document.
fn text<'de: 'a, 'a, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Text<'a>>, D::Error> {
    struct Str<'a>(Text<'a>);
    impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            struct V<'a>(PhantomData<&'a ()>);
            impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
                type Value = Str<'a>;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("a string")
                }
                fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                    Ok(Str(Cow::Borrowed(v)))
                }
                fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                    Ok(Str(Cow::Owned(v.to_owned())))
                }
                fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                    Ok(Str(Cow::Owned(v)))
                }
            }
            deserializer.deserialize_str(V(PhantomData))
        }
    }
    Ok(Option::<Str<'a>>::deserialize(deserializer)?.map(|s| s.0))
}

/// Reads a document; the error names the JSON path of the first problem.
/// SPDX documents are read by [`spdx_reader`](crate::spdx_reader) first.
///
/// The path is tracked only when the fast parse fails (so is a file that
/// is not UTF-8 located): tracking it costs on every value, and errors are
/// rare.
pub fn from_slice(bytes: &[u8]) -> Result<Document<'_>, String> {
    if let Some(doc) = crate::spdx_reader::read(bytes) {
        return Ok(doc);
    }
    serde_from_slice(bytes)
}

/// [`from_slice`] through serde_json alone: CycloneDX, and any SPDX
/// document the direct reader hands back.
pub fn serde_from_slice(bytes: &[u8]) -> Result<Document<'_>, String> {
    // UTF-8 checked once for the whole file, not string by string.
    if let Ok(text) = std::str::from_utf8(bytes) {
        if let Ok(doc) = serde_json::from_str::<Document<'_>>(text) {
            return Ok(doc);
        }
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let doc: Document<'_> = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." || path.is_empty() {
            inner.to_string()
        } else {
            format!("at {path}: {inner}")
        }
    })?;
    de.end().map_err(|e| format!("after the document: {e}"))?;
    Ok(doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_borrow_from_the_input_unless_escaped() {
        let doc = from_slice(
            br#"{"spdxVersion":"SPDX-2.3","name":"plain","documentNamespace":"a\/b",
                 "metadata":{"timestamp":null}}"#,
        )
        .unwrap();
        assert!(matches!(doc.spdx_version, Some(Cow::Borrowed("SPDX-2.3"))));
        assert!(matches!(doc.name, Some(Cow::Borrowed("plain"))));
        assert!(matches!(doc.document_namespace, Some(Cow::Owned(ref s)) if s == "a/b"));
        assert!(doc.metadata.unwrap().timestamp.is_none());
    }

    #[test]
    fn external_refs_keep_the_first_purl_and_every_vulnerability() {
        let doc = from_slice(
            br#"{"packages":[{"name":"p","externalRefs":[
                {"referenceCategory":"SECURITY","referenceType":"vulnerability","referenceLocator":"CVE-1"},
                {"referenceCategory":"PACKAGE-MANAGER","referenceType":"purl","referenceLocator":""},
                {"referenceCategory":"PACKAGE_MANAGER","referenceType":"purl","referenceLocator":"pkg:npm/p@1"},
                {"referenceCategory":"PACKAGE-MANAGER","referenceType":"purl","referenceLocator":"pkg:npm/p@2"},
                {"referenceCategory":"SECURITY","referenceType":"advisory","referenceLocator":"GHSA-1"},
                {"referenceCategory":"OTHER","referenceType":"cpe23Type","referenceLocator":"cpe:2.3:a"}]}]}"#,
        )
        .unwrap();
        let spdx = doc.packages.unwrap();
        assert_eq!(spdx.packages[0].purl.as_deref(), Some("pkg:npm/p@1"));
        let ids: Vec<&str> = spdx.findings.iter().map(|f| f.id.as_ref()).collect();
        assert_eq!(ids, ["CVE-1", "GHSA-1"]);
    }
}
