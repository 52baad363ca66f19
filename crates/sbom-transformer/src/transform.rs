//! One SBOM export in, two Parquet files out: the whole pure pipeline, used
//! by the Lambda handler and the offline `convert` command alike.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::export_key::ExportKey;
use crate::rows;
use crate::sbom::{self, SbomError};
use crate::tables::{self, ImageContext};

/// The Parquet files of one image and what they hold.
#[derive(Debug, Clone)]
pub struct Converted {
    pub image: ImageContext,
    pub format: &'static str,
    pub sbom_parquet: Vec<u8>,
    pub cve_parquet: Vec<u8>,
    /// Rows written (after duplicates were dropped).
    pub packages: usize,
    pub cves: usize,
    /// Package and vulnerability entries in the document.
    pub packages_in_document: usize,
    pub findings_in_document: usize,
}

/// Why an SBOM could not be converted.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    #[error(transparent)]
    Sbom(#[from] SbomError),
    #[error("writing Parquet failed: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
}

/// Where the image identity comes from: an Inspector export key, or (for
/// offline conversion) an image ARN given by the user.
#[derive(Debug, Clone)]
pub enum Identity<'k> {
    Export(&'k ExportKey),
    Given(GivenImage),
}

/// An image named by its ARN, for files that do not come from an export key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GivenImage {
    pub image_arn: String,
    pub account_id: String,
    pub region: String,
    pub repository: String,
    pub sha: String,
}

impl GivenImage {
    /// Parses `arn:<partition>:ecr:<region>:<account>:repository/<repo>/sha256:<hex>`.
    pub fn parse(arn: &str) -> Result<GivenImage, String> {
        let bad = || {
            format!("{arn:?} is not an ECR image ARN (arn:aws:ecr:<region>:<account>:repository/<name>/sha256:<64 hex>)")
        };
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        if parts.len() != 6 || parts[0] != "arn" || parts[2] != "ecr" || parts[3].is_empty() {
            return Err(bad());
        }
        let (repo, hex) = parts[5]
            .strip_prefix("repository/")
            .and_then(|r| r.rsplit_once("/sha256:"))
            .ok_or_else(bad)?;
        if repo.is_empty()
            || hex.len() != 64
            || !hex.bytes().all(|b| b.is_ascii_hexdigit())
            || parts[4].len() != 12
            || !parts[4].bytes().all(|b| b.is_ascii_digit())
        {
            return Err(bad());
        }
        Ok(GivenImage {
            image_arn: arn.to_string(),
            account_id: parts[4].to_string(),
            region: parts[3].to_string(),
            repository: repo.to_string(),
            sha: format!("sha256:{}", hex.to_ascii_lowercase()),
        })
    }
}

/// Converts one SBOM document. `fallback_time` (µs) stamps `exportedat`
/// when the document carries no creation time.
pub fn convert(
    bytes: &[u8],
    identity: Identity<'_>,
    fallback_time: i64,
) -> Result<Converted, ConvertError> {
    let sbom = sbom::parse(bytes)?;
    let exported_at_micros = sbom
        .created
        .as_deref()
        .and_then(rfc3339_micros)
        .unwrap_or(fallback_time);
    let image = match identity {
        Identity::Export(key) => {
            let repository = key.repository(sbom.subject.as_deref());
            ImageContext {
                image_arn: key.image_arn(&repository),
                account_id: key.account_id.clone(),
                region: key.region.clone(),
                repository,
                sha: key.digest.clone(),
                report_id: key.report_id.clone(),
                exported_at_micros,
            }
        }
        Identity::Given(g) => ImageContext {
            image_arn: g.image_arn,
            account_id: g.account_id,
            region: g.region,
            repository: g.repository,
            sha: g.sha,
            report_id: String::new(),
            exported_at_micros,
        },
    };
    let format = sbom.format.as_str();
    let rows = rows::dedup(sbom);
    let files = tables::write_tables(&rows, &image)?;
    let (packages_in_document, findings_in_document) = rows.in_document();
    Ok(Converted {
        image,
        format,
        packages: files.sbom_rows,
        cves: files.cve_rows,
        sbom_parquet: files.sbom,
        cve_parquet: files.cve,
        packages_in_document,
        findings_in_document,
    })
}

/// Microseconds since the epoch of an RFC 3339 UTC time (`…Z`).
pub fn rfc3339_micros(text: &str) -> Option<i64> {
    let t = humantime::parse_rfc3339_weak(text.trim()).ok()?;
    micros(t)
}

/// Microseconds since the epoch of `t`.
pub fn micros(t: SystemTime) -> Option<i64> {
    i64::try_from(t.duration_since(UNIX_EPOCH).ok()?.as_micros()).ok()
}

/// Now, in microseconds since the epoch.
pub fn now_micros() -> i64 {
    micros(SystemTime::now()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(
            rfc3339_micros("2023-06-02T01:17:46Z"),
            Some(1_685_668_666_000_000)
        );
        assert_eq!(
            rfc3339_micros("2023-06-02T01:17:46.5Z"),
            Some(1_685_668_666_500_000)
        );
        assert_eq!(rfc3339_micros("yesterday"), None);
    }

    #[test]
    fn given_image_arns() {
        let hex = "C".repeat(64);
        let g = GivenImage::parse(&format!(
            "arn:aws:ecr:eu-west-1:111122223333:repository/team/app/sha256:{hex}"
        ))
        .unwrap();
        assert_eq!(g.repository, "team/app");
        assert_eq!(g.sha, format!("sha256:{}", "c".repeat(64)));
        assert_eq!(g.account_id, "111122223333");
        for bad in [
            "arn:aws:ecr:eu-west-1:111122223333:repository/app",
            "arn:aws:s3:::b",
            "x",
        ] {
            assert!(GivenImage::parse(bad)
                .unwrap_err()
                .contains("not an ECR image ARN"));
        }
    }
}
