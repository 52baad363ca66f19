//! The SPDX SBOMs `make bench` converts (`tests/src/bin/bench/sbom.rs` includes this file too),
//! so the step bench here and the side-by-side table read the same documents.

use std::fmt::Write as _;

/// The image digest of the bench SBOMs.
pub const DIGEST: &str = "sha256:36c7b282abd0186e01419f2e58743e1bf635808231049bbc9d77e5a1b2c3d4e5";

/// An SPDX 2.3 SBOM in Inspector's export shape with `packages` packages:
/// OS and language packages, every fifth with one or two vulnerabilities.
pub fn spdx_sbom(packages: usize) -> String {
    let mut out = String::with_capacity(packages * 600);
    out.push_str(&format!(
        r#"{{"name":"123456789012/ECR/arn:aws:ecr:us-east-1:123456789012:repository/bench/{DIGEST}","spdxVersion":"SPDX-2.3","creationInfo":{{"created":"2026-11-20T08:30:00Z","creators":["Organization: 123456789012","Tool: Amazon Inspector SBOM Generator"]}},"documentNamespace":"ECR://arn:aws:ecr:us-east-1:123456789012:repository/bench/{DIGEST}/DEBIAN_12/null/amd64","comment":"","packages":["#
    ));
    for i in 0..packages {
        if i > 0 {
            out.push(',');
        }
        let (name, version, purl, source) = if i % 3 == 0 {
            let n = format!("python-lib-{i}");
            let v = format!("{}.{}.{}", i % 7, i % 13, i % 100);
            let p = format!("pkg:pypi/{n}@{v}");
            let s = format!("/usr/lib/python3/dist-packages/{n}-{v}.dist-info/METADATA");
            (n, v, p, s)
        } else {
            let n = format!("libpackage{i}");
            let v = format!("{}.{}-{}+deb12u{}", i % 9, i % 31, i % 5, i % 4);
            let p = format!("pkg:dpkg/{n}@{v}?arch=AMD64&epoch=0&upstream={n}-{v}.src.dpkg");
            (n, v, p, "/var/lib/dpkg/status".to_string())
        };
        let _ = write!(
            out,
            r#"{{"name":"{name}","versionInfo":"{version}","downloadLocation":"NOASSERTION","sourceInfo":"{source}","filesAnalyzed":false,"externalRefs":[{{"referenceCategory":"PACKAGE-MANAGER","referenceType":"purl","referenceLocator":"{purl}"}}"#
        );
        if i % 5 == 0 {
            let _ = write!(
                out,
                r#",{{"referenceCategory":"SECURITY","referenceType":"vulnerability","referenceLocator":"CVE-2024-{:05}"}}"#,
                i % 40_000
            );
            if i % 10 == 0 {
                let _ = write!(
                    out,
                    r#",{{"referenceCategory":"SECURITY","referenceType":"vulnerability","referenceLocator":"CVE-2023-{:05}"}}"#,
                    i % 30_000
                );
            }
        }
        let _ = write!(out, r#"],"SPDXID":"SPDXRef-Package-{i}"}}"#);
    }
    out.push_str(r#"],"relationships":[],"SPDXID":"SPDXRef-DOCUMENT"}"#);
    out
}
