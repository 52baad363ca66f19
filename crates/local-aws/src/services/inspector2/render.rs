//! SBOM files as Inspector's export writes them (the shapes of the AWS
//! documentation's SPDX 2.3 and CycloneDX 1.4 samples), for one ECR image.

use serde_json::{json, Value};

/// A package Inspector found in an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    /// Package name.
    pub name: String,
    /// Package version.
    pub version: String,
    /// Package URL.
    pub purl: String,
    /// Where the scanner found it (SPDX `sourceInfo`).
    pub source_info: String,
    /// Vulnerability ids (CVE-…, GHSA-…).
    pub vulnerabilities: Vec<String>,
}

/// What the SBOM says about the image itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageFacts<'a> {
    /// The image's account.
    pub account_id: &'a str,
    /// The image's Inspector resource id (image ARN).
    pub resource_id: &'a str,
    /// Inspector platform, e.g. `DEBIAN_12`.
    pub platform: &'a str,
    pub architecture: &'a str,
    /// RFC 3339 UTC.
    pub created: &'a str,
}

/// A Debian 12 base image with a Python app: OS packages from the dpkg
/// database, a language package, one package found twice (two paths) and
/// vulnerabilities, one of them without a CVE yet.
pub fn default_packages(architecture: &str) -> Vec<Package> {
    let arch = architecture.to_ascii_uppercase();
    let dpkg = |name: &str, version: &str, vulns: &[&str]| Package {
        name: name.into(),
        version: version.into(),
        purl: format!(
            "pkg:dpkg/{name}@{version}?arch={arch}&epoch=0&upstream={name}-{version}.src.dpkg"
        ),
        source_info: "/var/lib/dpkg/status".into(),
        vulnerabilities: vulns.iter().map(|v| v.to_string()).collect(),
    };
    let pypi = |name: &str, version: &str, path: &str, vulns: &[&str]| Package {
        name: name.into(),
        version: version.into(),
        purl: format!("pkg:pypi/{name}@{version}"),
        source_info: path.into(),
        vulnerabilities: vulns.iter().map(|v| v.to_string()).collect(),
    };
    vec![
        dpkg("base-files", "12.4+deb12u5", &[]),
        dpkg(
            "libc6",
            "2.36-9+deb12u4",
            &["CVE-2023-4911", "CVE-2024-2961"],
        ),
        dpkg(
            "openssl",
            "3.0.11-1~deb12u2",
            &["CVE-2023-5678", "CVE-2024-0727"],
        ),
        dpkg(
            "libssl3",
            "3.0.11-1~deb12u2",
            &["CVE-2023-5678", "CVE-2024-0727"],
        ),
        dpkg("zlib1g", "1:1.2.13.dfsg-1", &["CVE-2023-45853"]),
        dpkg("tzdata", "2024a-0+deb12u1", &[]),
        dpkg("bash", "5.2.15-2+b2", &[]),
        pypi(
            "pip",
            "23.0.1",
            "/usr/lib/python3/dist-packages/pip-23.0.1.dist-info/METADATA",
            &["CVE-2023-5752"],
        ),
        pypi(
            "requests",
            "2.31.0",
            "/app/.venv/lib/python3.11/site-packages/requests-2.31.0.dist-info/METADATA",
            &["CVE-2024-35195"],
        ),
        pypi(
            "requests",
            "2.31.0",
            "/usr/lib/python3/dist-packages/requests-2.31.0.dist-info/METADATA",
            &["CVE-2024-35195"],
        ),
        pypi(
            "internal-sdk",
            "0.9.1",
            "/app/.venv/lib/python3.11/site-packages/internal_sdk-0.9.1.dist-info/METADATA",
            &["GHSA-jfh8-c2jp-5v3q"],
        ),
    ]
}

/// A 32-hex-digit reference like Inspector's `bom-ref`s (FNV-1a over the
/// purl and the package's position, so duplicates get distinct refs).
fn bom_ref(purl: &str, index: usize) -> String {
    let mut hash: u128 = 0x6c62272e07bb014262b821756295c58d;
    for b in purl.bytes().chain(index.to_le_bytes()) {
        hash ^= u128::from(b);
        hash = hash.wrapping_mul(0x0000000001000000000000000000013B);
    }
    format!("{hash:032x}")
}

/// The SPDX 2.3 document.
pub fn spdx(image: &ImageFacts<'_>, packages: &[Package]) -> Value {
    let spdx_packages: Vec<Value> = packages
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let mut refs = vec![json!({
                "referenceCategory": "PACKAGE-MANAGER",
                "referenceType": "purl",
                "referenceLocator": p.purl,
            })];
            refs.extend(p.vulnerabilities.iter().map(|v| {
                json!({"referenceCategory": "SECURITY", "referenceType": "vulnerability", "referenceLocator": v})
            }));
            json!({
                "name": p.name,
                "versionInfo": p.version,
                "downloadLocation": "NOASSERTION",
                "sourceInfo": p.source_info,
                "filesAnalyzed": false,
                "externalRefs": refs,
                "SPDXID": format!("SPDXRef-Package-{}", bom_ref(&p.purl, i)),
            })
        })
        .collect();
    let relationships: Vec<Value> = spdx_packages
        .iter()
        .map(|p| {
            json!({"spdxElementId": "SPDXRef-DOCUMENT", "relatedSpdxElement": p["SPDXID"], "relationshipType": "DESCRIBES"})
        })
        .collect();
    json!({
        "name": format!("{}/ECR/{}", image.account_id, image.resource_id),
        "spdxVersion": "SPDX-2.3",
        "creationInfo": {
            "created": image.created,
            "creators": [format!("Organization: {}", image.account_id), "Tool: Amazon Inspector SBOM Generator"],
        },
        "documentNamespace": format!("ECR://{}/{}/null/{}", image.resource_id, image.platform, image.architecture),
        "comment": "",
        "packages": spdx_packages,
        "relationships": relationships,
        "SPDXID": "SPDXRef-DOCUMENT",
    })
}

/// The CycloneDX 1.4 document: components without `version` (Inspector's
/// export omits it), `metadata.component: null`, vulnerabilities by ref.
pub fn cyclonedx(image: &ImageFacts<'_>, image_config_digest: &str, packages: &[Package]) -> Value {
    let refs: Vec<String> = packages
        .iter()
        .enumerate()
        .map(|(i, p)| bom_ref(&p.purl, i))
        .collect();
    let components: Vec<Value> = packages
        .iter()
        .zip(&refs)
        .map(|(p, r)| {
            let ty = if p.purl.starts_with("pkg:dpkg/") || p.purl.starts_with("pkg:rpm/") {
                "application"
            } else {
                "library"
            };
            json!({"type": ty, "name": p.name, "purl": p.purl, "bom-ref": r})
        })
        .collect();
    let mut ids: Vec<&str> = packages
        .iter()
        .flat_map(|p| p.vulnerabilities.iter().map(String::as_str))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let vulnerabilities: Vec<Value> = ids
        .into_iter()
        .map(|id| {
            let affects: Vec<Value> = packages
                .iter()
                .zip(&refs)
                .filter(|(p, _)| p.vulnerabilities.iter().any(|v| v == id))
                .map(|(_, r)| json!({"ref": r}))
                .collect();
            json!({"id": id, "affects": affects})
        })
        .collect();
    json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.4",
        "version": 1,
        "metadata": {
            "timestamp": image.created,
            "component": null,
            "properties": [
                {"name": "imageId", "value": image_config_digest},
                {"name": "architecture", "value": image.architecture},
                {"name": "accountId", "value": image.account_id},
                {"name": "resourceType", "value": "AWS_ECR_CONTAINER_IMAGE"},
            ],
        },
        "components": components,
        "vulnerabilities": vulnerabilities,
    })
}
