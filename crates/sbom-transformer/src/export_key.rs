//! Inspector's SBOM export object keys:
//! `<keyPrefix>/<FORMAT>_outputs_<reportId>/account=<account>/resource=AWS_ECR_CONTAINER_IMAGE/<file>.json`,
//! where `<file>` is the image's resource id
//! (`arn:aws:ecr:<region>:<account>:repository/<repo>/sha256:<hex>`) with
//! every `/` replaced by `_`, then `_<FORMAT>`.
//!
//! The image identity comes from here (and the event), never from the SBOM's
//! free text. The `/`→`_` mapping loses which `_` of a namespaced repository
//! (`team/service`) was a `/`: [`ExportKey::repository`] resolves that from
//! the SBOM when the SBOM names the image, else keeps the key's form.

use std::fmt;

/// The resource type whose exports the function reads.
pub const ECR_IMAGE_SEGMENT: &str = "resource=AWS_ECR_CONTAINER_IMAGE";

/// What an export key says about the export and the image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportKey {
    /// `SPDX_2_3` or `CYCLONEDX_1_4`, from the key.
    pub format: String,
    pub report_id: String,
    pub account_id: String,
    pub partition: String,
    pub region: String,
    /// The repository as the key writes it (`/` shown as `_`).
    pub repository_in_key: String,
    /// `sha256:<64 hex>`.
    pub digest: String,
}

/// Why a key is not an Inspector ECR image export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyError {
    pub key: String,
    pub reason: String,
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "S3 key {:?} is not an Inspector ECR image SBOM export: {}",
            self.key, self.reason
        )
    }
}

impl std::error::Error for KeyError {}

impl ExportKey {
    /// Parses a decoded object key.
    pub fn parse(key: &str) -> Result<ExportKey, KeyError> {
        let err = |reason: &str| KeyError {
            key: key.to_string(),
            reason: reason.to_string(),
        };
        let segments: Vec<&str> = key.split('/').collect();
        let at = segments
            .iter()
            .rposition(|s| *s == ECR_IMAGE_SEGMENT)
            .ok_or_else(|| err("no /resource=AWS_ECR_CONTAINER_IMAGE/ segment"))?;
        if at < 2 || at + 2 != segments.len() {
            return Err(err(
                "expected <FORMAT>_outputs_<reportId>/account=<id>/resource=AWS_ECR_CONTAINER_IMAGE/<file>.json",
            ));
        }
        let account_id = segments[at - 1]
            .strip_prefix("account=")
            .filter(|a| is_account_id(a))
            .ok_or_else(|| err("the segment before resource= is not account=<12 digits>"))?;
        let (format, report_id) = segments[at - 2]
            .split_once("_outputs_")
            .filter(|(f, r)| !f.is_empty() && !r.is_empty())
            .ok_or_else(|| err("no <FORMAT>_outputs_<reportId> segment"))?;
        let file = segments[at + 1]
            .strip_suffix(".json")
            .ok_or_else(|| err("the object is not a .json file"))?;
        let resource = file
            .strip_suffix(format)
            .and_then(|r| r.strip_suffix('_'))
            .ok_or_else(|| err("the file name does not end in _<FORMAT>.json"))?;
        // arn:<partition>:ecr:<region>:<account>:repository_<repo>_sha256:<hex>
        let mut arn = resource.splitn(6, ':');
        let (
            Some("arn"),
            Some(partition),
            Some("ecr"),
            Some(region),
            Some(arn_account),
            Some(rest),
        ) = (
            arn.next(),
            arn.next(),
            arn.next(),
            arn.next(),
            arn.next(),
            arn.next(),
        )
        else {
            return Err(err("the file name is not an ECR image resource id"));
        };
        if arn_account != account_id {
            return Err(err("the image's account differs from the account= segment"));
        }
        if partition.is_empty() || region.is_empty() {
            return Err(err("the image ARN has no partition or region"));
        }
        let (repository, hex) = rest
            .strip_prefix("repository_")
            .and_then(|r| r.rsplit_once("_sha256:"))
            .ok_or_else(|| err("the file name has no repository_<name>_sha256:<digest>"))?;
        if repository.is_empty() {
            return Err(err("the repository name is empty"));
        }
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(err("the image digest is not sha256:<64 hex digits>"));
        }
        Ok(ExportKey {
            format: format.to_string(),
            report_id: report_id.to_string(),
            account_id: account_id.to_string(),
            partition: partition.to_string(),
            region: region.to_string(),
            repository_in_key: repository.to_string(),
            digest: format!("sha256:{}", hex.to_ascii_lowercase()),
        })
    }

    /// The repository name: the key's form, or the SBOM's when `subject`
    /// (e.g. the SPDX document name) holds an image ARN whose repository maps
    /// to the key's form, which resolves `team_service` vs `team/service`.
    pub fn repository(&self, subject: Option<&str>) -> String {
        if let Some(text) = subject {
            let mut rest = text;
            while let Some(i) = rest.find(":repository/") {
                let after = &rest[i + ":repository/".len()..];
                if let Some(end) = after.find("/sha256:") {
                    let candidate = &after[..end];
                    if candidate.replace('/', "_") == self.repository_in_key {
                        return candidate.to_string();
                    }
                }
                rest = after;
            }
        }
        self.repository_in_key.clone()
    }

    /// The image ARN (Inspector's resource id) for `repository`.
    pub fn image_arn(&self, repository: &str) -> String {
        format!(
            "arn:{}:ecr:{}:{}:repository/{}/{}",
            self.partition, self.region, self.account_id, repository, self.digest
        )
    }

    /// The digest without `sha256:`.
    pub fn digest_hex(&self) -> &str {
        &self.digest["sha256:".len()..]
    }
}

fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const REAL: &str = "CYCLONEDX_1_4_outputs_75fe89e2-aad1-4a7e-8240-44d70e687eeb/account=187940674018/resource=AWS_ECR_CONTAINER_IMAGE/arn:aws:ecr:us-east-1:187940674018:repository_webapp-legacyassets_sha256:1ffd88db3d0754bceaa663a63a789c6b57bce154af36c8a2f7210bfaed943660_CYCLONEDX_1_4.json";

    #[test]
    fn parses_the_real_export_key_from_the_spec() {
        let k = ExportKey::parse(REAL).unwrap();
        assert_eq!(k.format, "CYCLONEDX_1_4");
        assert_eq!(k.report_id, "75fe89e2-aad1-4a7e-8240-44d70e687eeb");
        assert_eq!(k.account_id, "187940674018");
        assert_eq!(k.region, "us-east-1");
        assert_eq!(k.repository_in_key, "webapp-legacyassets");
        assert_eq!(
            k.digest,
            "sha256:1ffd88db3d0754bceaa663a63a789c6b57bce154af36c8a2f7210bfaed943660"
        );
        assert_eq!(
            k.image_arn(&k.repository(None)),
            "arn:aws:ecr:us-east-1:187940674018:repository/webapp-legacyassets/sha256:1ffd88db3d0754bceaa663a63a789c6b57bce154af36c8a2f7210bfaed943660"
        );
        // With a key prefix, as the trigger configures it.
        let prefixed = ExportKey::parse(&format!("raw/sboms/{REAL}")).unwrap();
        assert_eq!(prefixed, k);
    }

    #[test]
    fn resolves_namespaced_repositories_from_the_sbom() {
        let hex = "a".repeat(64);
        let key = format!("raw/SPDX_2_3_outputs_r1/account=111122223333/resource=AWS_ECR_CONTAINER_IMAGE/arn:aws:ecr:eu-west-1:111122223333:repository_team_my_app_sha256:{hex}_SPDX_2_3.json");
        let k = ExportKey::parse(&key).unwrap();
        assert_eq!(k.repository_in_key, "team_my_app");
        let name = format!("111122223333/ECR/arn:aws:ecr:eu-west-1:111122223333:repository/team/my_app/sha256:{hex}");
        assert_eq!(k.repository(Some(&name)), "team/my_app");
        // A subject that names another repository does not override the key.
        assert_eq!(
            k.repository(Some("x:repository/other/sha256:1")),
            "team_my_app"
        );
        assert_eq!(k.repository(None), "team_my_app");
    }

    #[test]
    fn rejects_what_is_not_an_ecr_export() {
        let hex = "b".repeat(64);
        let cases = [
            ("x/SPDX_2_3_outputs_r/account=111122223333/resource=AWS_LAMBDA_FUNCTION/f_SPDX_2_3.json", "no /resource=AWS_ECR"),
            (&*format!("SPDX_2_3_outputs_r/account=111122223333/resource=AWS_ECR_CONTAINER_IMAGE/arn:aws:ecr:us-east-1:111122223333:repository_a_sha256:{hex}_SPDX_2_3.txt"), "not a .json"),
            (&*format!("SPDX_2_3_outputs_r/account=1111/resource=AWS_ECR_CONTAINER_IMAGE/arn:aws:ecr:us-east-1:111122223333:repository_a_sha256:{hex}_SPDX_2_3.json"), "account=<12 digits>"),
            (&*format!("SPDX_2_3_outputs_r/account=999999999999/resource=AWS_ECR_CONTAINER_IMAGE/arn:aws:ecr:us-east-1:111122223333:repository_a_sha256:{hex}_SPDX_2_3.json"), "differs"),
            ("SPDX_2_3_outputs_r/account=111122223333/resource=AWS_ECR_CONTAINER_IMAGE/arn:aws:ecr:us-east-1:111122223333:repository_a_sha256:abc_SPDX_2_3.json", "64 hex"),
            (&*format!("SPDX_2_3_outputs_r/account=111122223333/resource=AWS_ECR_CONTAINER_IMAGE/arn:aws:ecr:us-east-1:111122223333:repository_a_sha256:{hex}_CYCLONEDX_1_4.json"), "_<FORMAT>.json"),
            (&*format!("nothing/account=111122223333/resource=AWS_ECR_CONTAINER_IMAGE/arn:aws:ecr:us-east-1:111122223333:repository_a_sha256:{hex}_SPDX_2_3.json"), "_outputs_"),
            (&*format!("SPDX_2_3_outputs_r/account=111122223333/resource=AWS_ECR_CONTAINER_IMAGE/extra/arn:aws:ecr:us-east-1:111122223333:repository_a_sha256:{hex}_SPDX_2_3.json"), "expected"),
        ];
        for (key, why) in cases {
            let e = ExportKey::parse(key).unwrap_err();
            assert!(e.to_string().contains(why), "{key}: {e}");
        }
    }

    proptest! {
        #[test]
        fn round_trips_any_image(
            repo in "[a-z0-9][a-z0-9._/-]{0,40}",
            hex in "[0-9a-f]{64}",
            report in "[0-9a-f-]{8,36}",
            spdx in any::<bool>(),
        ) {
            let format = if spdx { "SPDX_2_3" } else { "CYCLONEDX_1_4" };
            let arn = format!("arn:aws:ecr:ap-south-1:123456789012:repository/{repo}/sha256:{hex}");
            let key = format!("raw/{format}_outputs_{report}/account=123456789012/resource=AWS_ECR_CONTAINER_IMAGE/{}_{format}.json", arn.replace('/', "_"));
            let k = ExportKey::parse(&key).unwrap();
            prop_assert_eq!(k.image_arn(&k.repository(Some(&arn))), arn);
            prop_assert_eq!(&k.report_id, &report);
        }

        #[test]
        fn never_panics(key in "\\PC{0,200}") {
            let _ = ExportKey::parse(&key);
        }
    }
}
