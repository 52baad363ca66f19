//! One SBOM, normalised: its packages and the vulnerabilities that affect
//! them, whichever format it came in.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

use std::marker::PhantomData;

use serde::de::{SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

use crate::document::{self, CdxComponent, CdxProperty, Document, SpdxPackage, Text};
use crate::purl;

/// The SBOM formats Inspector exports (and sbomgen / the Scan API write).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SbomFormat {
    Spdx23,
    CycloneDx14,
    CycloneDx15,
}

impl SbomFormat {
    /// The name Inspector's API and export keys use (`SPDX_2_3`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            SbomFormat::Spdx23 => "SPDX_2_3",
            SbomFormat::CycloneDx14 => "CYCLONEDX_1_4",
            SbomFormat::CycloneDx15 => "CYCLONEDX_1_5",
        }
    }
}

/// Why a document is not an SBOM this function reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SbomError {
    /// Not JSON, or a field of the wrong type (message names the path).
    Malformed(String),
    /// Neither `spdxVersion` nor `bomFormat`, or a version not supported.
    UnknownFormat(String),
}

impl SbomError {
    /// The stable error kind (the Lambda `errorType`).
    pub fn kind(&self) -> &'static str {
        match self {
            SbomError::Malformed(_) => "MalformedSbom",
            SbomError::UnknownFormat(_) => "UnknownSbomFormat",
        }
    }
}

impl fmt::Display for SbomError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SbomError::Malformed(m) => write!(f, "the SBOM is not valid JSON of its format: {m}"),
            SbomError::UnknownFormat(m) => write!(f, "unknown SBOM format: {m}"),
        }
    }
}

impl std::error::Error for SbomError {}

/// A package found in the image.
#[derive(Debug, Clone, PartialEq)]
pub struct Package<'a> {
    pub name: Text<'a>,
    pub version: Option<Text<'a>>,
    /// Its type is derived when written: [`Package::package_type`].
    pub purl: Option<Text<'a>>,
    /// Where the scanner found it (SPDX `sourceInfo`, a CycloneDX path).
    pub source_info: Option<Text<'a>>,
}

impl Package<'_> {
    /// The purl's type (`rpm`, `dpkg`, `pypi`, ...), derived when written
    /// rather than stored per package.
    pub fn package_type(&self) -> Option<Cow<'_, str>> {
        self.purl.as_deref().and_then(purl::package_type)
    }
}

/// A vulnerability of one package.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding<'a> {
    /// Index into [`Sbom::packages`].
    pub package: usize,
    /// `CVE-…`, or another advisory id (GHSA, ALAS, ...) when none exists yet.
    pub id: Text<'a>,
    pub severity: Option<Text<'a>>,
    pub score: Option<f64>,
}

/// A parsed SBOM.
#[derive(Debug, Clone, PartialEq)]
pub struct Sbom<'a> {
    pub format: SbomFormat,
    /// When the SBOM was generated, as written (RFC 3339).
    pub created: Option<Text<'a>>,
    /// The image's operating system, when the SBOM says.
    pub os: Option<String>,
    /// The document's own description of the resource (SPDX `name`), used
    /// only to resolve an ambiguous repository name.
    pub subject: Option<Text<'a>>,
    pub packages: Vec<Package<'a>>,
    pub findings: Vec<Finding<'a>>,
}

/// Parses an Inspector SBOM export (SPDX 2.3 or CycloneDX 1.4/1.5).
pub fn parse(bytes: &[u8]) -> Result<Sbom<'_>, SbomError> {
    let doc = document::from_slice(bytes).map_err(SbomError::Malformed)?;
    match (&doc.spdx_version, &doc.bom_format) {
        (Some(v), None) => {
            if !v.starts_with("SPDX-2.") {
                return Err(SbomError::UnknownFormat(format!(
                    "spdxVersion {v:?} (SPDX 2.x is read)"
                )));
            }
            Ok(from_spdx(doc))
        }
        (None, Some(f)) => {
            if f != "CycloneDX" {
                return Err(SbomError::UnknownFormat(format!(
                    "bomFormat {f:?} (expected \"CycloneDX\")"
                )));
            }
            let format = match doc.spec_version.as_deref() {
                Some("1.4") => SbomFormat::CycloneDx14,
                Some("1.5") | Some("1.6") => SbomFormat::CycloneDx15,
                other => {
                    return Err(SbomError::UnknownFormat(format!(
                        "CycloneDX specVersion {other:?} (1.4 and 1.5 are read)"
                    )))
                }
            };
            Ok(from_cyclonedx(doc, format))
        }
        (Some(_), Some(_)) => Err(SbomError::UnknownFormat(
            "the document has both spdxVersion and bomFormat".into(),
        )),
        (None, None) => Err(SbomError::UnknownFormat(
            "the document has neither spdxVersion (SPDX) nor bomFormat (CycloneDX)".into(),
        )),
    }
}

/// SPDX `packages`, converted while they are read: each package becomes a
/// [`Package`] (and its [`Finding`]s) as soon as the parser has it, so the
/// document's own package structs never exist all at once.
#[derive(Debug, Default)]
pub struct SpdxPackages<'a> {
    pub packages: Vec<Package<'a>>,
    pub findings: Vec<Finding<'a>>,
    /// From a package whose purpose is `OPERATING-SYSTEM`.
    pub os: Option<String>,
}

impl<'a> SpdxPackages<'a> {
    /// Room for the packages of `bytes` of SPDX text: Inspector writes
    /// about 400 bytes a package, so the vector is not regrown (and copied)
    /// a dozen times. A document of mostly other members over-reserves by
    /// at most a quarter of its size (a test holds the row size to that).
    pub fn for_bytes(bytes: usize) -> Self {
        SpdxPackages {
            packages: Vec::with_capacity(bytes / 400),
            ..Default::default()
        }
    }

    /// Adds one document package (and its findings), as it is read.
    pub fn push(&mut self, p: SpdxPackage<'a>) {
        let refs = p.external_refs.unwrap_or_default();
        let (purl, ids) = (refs.purl, refs.vulnerabilities);
        let name = p.name.unwrap_or_default();
        if p.primary_package_purpose.as_deref() == Some("OPERATING-SYSTEM") {
            self.os
                .get_or_insert_with(|| join_os(&name, p.version_info.as_deref()));
            if ids.is_empty() {
                return;
            }
        }
        let version = p
            .version_info
            .filter(|v| !v.is_empty() && v != "NOASSERTION")
            .or_else(|| from_purl(&purl, purl::version));
        let index = self.packages.len();
        self.packages.push(Package {
            name,
            version,
            purl,
            source_info: p.source_info.filter(|s| !s.is_empty()),
        });
        self.findings.extend(ids.into_iter().map(|id| Finding {
            package: index,
            id,
            severity: None,
            score: None,
        }));
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for SpdxPackages<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Packages<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for Packages<'a> {
            type Value = SpdxPackages<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array of SPDX packages")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = SpdxPackages::default();
                while let Some(p) = seq.next_element::<SpdxPackage<'a>>()? {
                    out.push(p);
                }
                Ok(out)
            }
        }
        deserializer.deserialize_seq(Packages(PhantomData))
    }
}

fn from_spdx(doc: Document<'_>) -> Sbom<'_> {
    let SpdxPackages {
        packages,
        findings,
        mut os,
    } = doc.packages.unwrap_or_default();
    if os.is_none() {
        os = doc
            .document_namespace
            .as_deref()
            .and_then(platform_in_namespace);
    }
    Sbom {
        format: SbomFormat::Spdx23,
        created: doc.creation_info.and_then(|c| c.created),
        os,
        subject: doc.name,
        packages,
        findings,
    }
}

fn from_cyclonedx(doc: Document<'_>, format: SbomFormat) -> Sbom<'_> {
    let mut packages = Vec::new();
    let mut refs: HashMap<Text<'_>, usize> = HashMap::new();
    let mut os = None;
    let mut stack: Vec<CdxComponent<'_>> = doc.components.unwrap_or_default();
    stack.reverse();
    while let Some(mut c) = stack.pop() {
        if let Some(children) = c.components.take() {
            stack.extend(children.into_iter().rev());
        }
        let name = c.name.unwrap_or_default();
        if c.component_type.as_deref() == Some("operating-system") {
            os.get_or_insert_with(|| join_os(&name, c.version.as_deref()));
            continue;
        }
        let purl = c.purl.filter(|p| !p.is_empty());
        let version = c
            .version
            .filter(|v| !v.is_empty())
            .or_else(|| from_purl(&purl, purl::version));
        let source_info = property(
            c.properties.as_deref(),
            &[
                "amazon:inspector:sbom_scanner:path",
                "amazon:inspector:sbom_generator:source_path",
            ],
        )
        .or_else(|| from_purl(&purl, |p| purl::qualifier(p, "path")));
        if let Some(r) = c.bom_ref.filter(|r| !r.is_empty()) {
            refs.entry(r).or_insert(packages.len());
        }
        packages.push(Package {
            name,
            version,
            purl,
            source_info,
        });
    }
    let mut findings = Vec::new();
    for v in doc.vulnerabilities.unwrap_or_default() {
        let Some(id) = v.id.filter(|i| !i.is_empty()) else {
            continue;
        };
        let (severity, score) = best_rating(v.ratings.unwrap_or_default());
        for a in v.affects.unwrap_or_default() {
            // A ref to no component in the file (the AWS doc sample has
            // such) cannot be attributed to a package; it is skipped.
            if let Some(&package) = a.reference.as_ref().and_then(|r| refs.get(r)) {
                findings.push(Finding {
                    package,
                    id: id.clone(),
                    severity: severity.clone(),
                    score,
                });
            }
        }
    }
    let metadata = doc.metadata.unwrap_or_default();
    Sbom {
        format,
        created: metadata.timestamp,
        os,
        subject: None,
        packages,
        findings,
    }
}

/// The CVSS rating (newest method first); EPSS and other non-CVSS ratings
/// are not severities. Falls back to the first rating with a severity.
fn best_rating(ratings: Vec<crate::document::CdxRating<'_>>) -> (Option<Text<'_>>, Option<f64>) {
    const ORDER: &[&str] = &["CVSSv4", "CVSSv31", "CVSSv3", "CVSSv2"];
    let rank = |m: Option<&str>| {
        m.and_then(|m| ORDER.iter().position(|o| o.eq_ignore_ascii_case(m)))
            .unwrap_or(ORDER.len())
    };
    let best = ratings
        .into_iter()
        .filter(|r| r.severity.is_some() || r.score.is_some())
        .filter(|r| {
            !r.method
                .as_deref()
                .is_some_and(|m| m.eq_ignore_ascii_case("other"))
        })
        .min_by_key(|r| rank(r.method.as_deref()));
    match best {
        Some(r) => (r.severity, r.score.filter(|s| s.is_finite())),
        None => (None, None),
    }
}

fn property<'a>(properties: Option<&[CdxProperty<'a>]>, names: &[&str]) -> Option<Text<'a>> {
    properties?.iter().find_map(|p| {
        let name = p.name.as_deref()?;
        names
            .contains(&name)
            .then(|| p.value.clone())
            .flatten()
            .filter(|v| !v.is_empty())
    })
}

fn join_os(name: &str, version: Option<&str>) -> String {
    match version.filter(|v| !v.is_empty()) {
        Some(v) => format!("{name} {v}"),
        None => name.to_string(),
    }
}

/// `f` of the purl, borrowing from the input when the purl does.
fn from_purl<'a>(
    purl: &Option<Text<'a>>,
    f: impl for<'s> Fn(&'s str) -> Option<Cow<'s, str>>,
) -> Option<Text<'a>> {
    match purl.as_ref()? {
        Cow::Borrowed(s) => f(s),
        Cow::Owned(s) => f(s).map(into_owned_cow),
    }
}

fn into_owned_cow<'a>(c: Cow<'_, str>) -> Cow<'a, str> {
    Cow::Owned(c.into_owned())
}

/// Inspector's platform enum (`DEBIAN_12`, `AMAZON_LINUX_2`, `ALPINE_3_18`)
/// from an SPDX `documentNamespace` such as
/// `EC2://i-0…/AMAZON_LINUX_2/null/x86_64`: the segment that looks like a
/// platform, wherever it is (the layout is not documented for ECR).
pub fn platform_in_namespace(namespace: &str) -> Option<String> {
    const FAMILIES: &[&str] = &[
        "AMAZON_LINUX",
        "ALPINE",
        "DEBIAN",
        "UBUNTU",
        "CENTOS",
        "RHEL",
        "REDHAT",
        "ORACLE",
        "OPENSUSE",
        "SUSE",
        "SLES",
        "FEDORA",
        "ROCKY",
        "ALMA",
        "WINDOWS",
        "MACOS",
        "BOTTLEROCKET",
        "PHOTON",
        "DISTROLESS",
        "BUSYBOX",
        "CHAINGUARD",
        "WOLFI",
        "MARINER",
        "AZURE_LINUX",
    ];
    let rest = namespace.split_once("://").map_or(namespace, |(_, r)| r);
    rest.split('/')
        .find(|seg| {
            seg.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
                && FAMILIES.iter().any(|f| seg.starts_with(f))
        })
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn for_bytes_reserves_at_most_a_quarter_of_the_document() {
        for bytes in [0, 399, 400, 41_000_000] {
            let reserved = SpdxPackages::for_bytes(bytes).packages.capacity()
                * std::mem::size_of::<Package<'_>>();
            assert!(
                reserved <= bytes / 4,
                "{reserved} bytes for a {bytes}-byte document"
            );
        }
        assert!(SpdxPackages::for_bytes(41_000_000).packages.capacity() >= 100_000);
    }

    #[test]
    fn platform_from_namespaces() {
        assert_eq!(
            platform_in_namespace("EC2://i-022fba820db137c64/AMAZON_LINUX_2/null/x86_64")
                .as_deref(),
            Some("AMAZON_LINUX_2")
        );
        assert_eq!(
            platform_in_namespace("ECR://repository/app/sha256:abc/DEBIAN_12/null/arm64")
                .as_deref(),
            Some("DEBIAN_12")
        );
        assert_eq!(platform_in_namespace("EC2://i-1/null/null/x86_64"), None);
        assert_eq!(platform_in_namespace(""), None);
    }

    #[test]
    fn format_detection_and_errors() {
        assert_eq!(
            parse(br#"{"spdxVersion":"SPDX-2.3"}"#).unwrap().format,
            SbomFormat::Spdx23
        );
        assert_eq!(
            parse(br#"{"bomFormat":"CycloneDX","specVersion":"1.5"}"#)
                .unwrap()
                .format,
            SbomFormat::CycloneDx15
        );
        let e = parse(br#"{"hello":1}"#).unwrap_err();
        assert_eq!(e.kind(), "UnknownSbomFormat");
        assert!(e.to_string().contains("neither spdxVersion"), "{e}");
        let e = parse(br#"{"bomFormat":"CycloneDX","specVersion":"1.2"}"#).unwrap_err();
        assert!(e.to_string().contains("specVersion Some(\"1.2\")"), "{e}");
        let e = parse(br#"{"spdxVersion":"SPDX-3.0"}"#).unwrap_err();
        assert_eq!(e.kind(), "UnknownSbomFormat");
        let e = parse(br#"{"spdxVersion":"SPDX-2.3","packages":[{"name":"a"},{"name":7}]}"#)
            .unwrap_err();
        assert_eq!(e.kind(), "MalformedSbom");
        assert!(e.to_string().contains("packages[1].name"), "{e}");
        let e = parse(b"{\"spdxVersion\":\"SPDX-2.3\"").unwrap_err();
        assert_eq!(e.kind(), "MalformedSbom");
        let e = parse(b"[1,2]").unwrap_err();
        assert_eq!(e.kind(), "MalformedSbom");
        let e = parse(b"{} trailing").unwrap_err();
        assert_eq!(e.kind(), "MalformedSbom");
    }

    #[test]
    fn ratings_prefer_cvss_over_epss() {
        let doc = br#"{"bomFormat":"CycloneDX","specVersion":"1.5",
          "components":[{"name":"a","purl":"pkg:generic/a@1","bom-ref":"c1"}],
          "vulnerabilities":[{"id":"CVE-1","affects":[{"ref":"c1"},{"ref":"nowhere"}],"ratings":[
            {"severity":"none","score":0.00044,"method":"other"},
            {"severity":"medium","score":5.0,"method":"CVSSv2"},
            {"severity":"high","score":9.1,"method":"CVSSv31"}]}]}"#;
        let s = parse(doc).unwrap();
        assert_eq!(s.findings.len(), 1);
        assert_eq!(s.findings[0].severity.as_deref(), Some("high"));
        assert_eq!(s.findings[0].score, Some(9.1));
    }
}
