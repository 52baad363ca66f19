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

use serde::Deserialize;

use crate::sbom::SpdxPackages;

/// A borrowed string; owned only when the JSON string has escapes.
pub type Text<'a> = Cow<'a, str>;

/// Both formats' top-level fields.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Document<'a> {
    // SPDX 2.3
    #[serde(borrow)]
    pub spdx_version: Option<Text<'a>>,
    #[serde(borrow)]
    pub name: Option<Text<'a>>,
    #[serde(borrow)]
    pub document_namespace: Option<Text<'a>>,
    #[serde(borrow)]
    pub creation_info: Option<CreationInfo<'a>>,
    #[serde(borrow)]
    pub packages: Option<SpdxPackages<'a>>,

    // CycloneDX 1.4 / 1.5
    #[serde(borrow)]
    pub bom_format: Option<Text<'a>>,
    #[serde(borrow)]
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
    #[serde(borrow)]
    pub created: Option<Text<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct SpdxPackage<'a> {
    #[serde(borrow)]
    pub name: Option<Text<'a>>,
    #[serde(borrow)]
    pub version_info: Option<Text<'a>>,
    #[serde(borrow)]
    pub source_info: Option<Text<'a>>,
    #[serde(borrow)]
    pub primary_package_purpose: Option<Text<'a>>,
    #[serde(borrow)]
    pub external_refs: Option<Vec<SpdxExternalRef<'a>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct SpdxExternalRef<'a> {
    #[serde(borrow)]
    pub reference_category: Option<Text<'a>>,
    #[serde(borrow)]
    pub reference_type: Option<Text<'a>>,
    #[serde(borrow)]
    pub reference_locator: Option<Text<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CdxMetadata<'a> {
    #[serde(borrow)]
    pub timestamp: Option<Text<'a>>,
    #[serde(borrow)]
    pub properties: Option<Vec<CdxProperty<'a>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CdxProperty<'a> {
    #[serde(borrow)]
    pub name: Option<Text<'a>>,
    #[serde(borrow)]
    pub value: Option<Text<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CdxComponent<'a> {
    #[serde(borrow, rename = "type")]
    pub component_type: Option<Text<'a>>,
    #[serde(borrow)]
    pub name: Option<Text<'a>>,
    #[serde(borrow)]
    pub version: Option<Text<'a>>,
    #[serde(borrow)]
    pub purl: Option<Text<'a>>,
    #[serde(borrow, rename = "bom-ref")]
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
    #[serde(borrow)]
    pub id: Option<Text<'a>>,
    #[serde(borrow)]
    pub ratings: Option<Vec<CdxRating<'a>>>,
    #[serde(borrow)]
    pub affects: Option<Vec<CdxAffects<'a>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CdxRating<'a> {
    #[serde(borrow)]
    pub severity: Option<Text<'a>>,
    pub score: Option<f64>,
    #[serde(borrow)]
    pub method: Option<Text<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CdxAffects<'a> {
    #[serde(borrow, rename = "ref")]
    pub reference: Option<Text<'a>>,
}

/// Reads a document; the error names the JSON path of the first problem.
///
/// The path is tracked only when the fast parse fails: tracking it costs
/// on every value, and errors are rare.
pub fn from_slice(bytes: &[u8]) -> Result<Document<'_>, String> {
    if let Ok(doc) = serde_json::from_slice::<Document<'_>>(bytes) {
        return Ok(doc);
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
