//! The function's configuration, from environment variables.

use std::time::Duration;

use common::config::Env;

/// The report formats `CreateSbomExport` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SbomFormat {
    Spdx23,
    CycloneDx14,
}

impl SbomFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            SbomFormat::Spdx23 => "SPDX_2_3",
            SbomFormat::CycloneDx14 => "CYCLONEDX_1_4",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The raw bucket Inspector writes the SBOM to.
    pub bucket: String,
    /// Key prefix of the export, without a trailing `/` (Inspector adds it).
    pub key_prefix: String,
    /// The KMS key Inspector encrypts the export with (mandatory).
    pub kms_key_arn: String,
    pub format: SbomFormat,
    /// How long after a push the trigger keeps failing (so the event is
    /// retried) while Inspector has not scanned the image.
    pub scan_wait_limit: Duration,
    /// How long to follow the export with `GetSbomExport`, so a failed export
    /// fails the invocation with Inspector's reason; zero: do not follow.
    pub export_wait: Duration,
}

impl Config {
    pub fn from_env(env: &mut Env) -> Self {
        let duration = |env: &mut Env, name: &str, default: &str| {
            env.parse_with(
                name,
                humantime::parse_duration(default).expect("valid default"),
                "a duration such as 30s, 15m or 1h",
                humantime::parse_duration,
            )
        };
        Config {
            bucket: env.required("RAW_BUCKET", "the S3 bucket Inspector writes SBOM exports to"),
            key_prefix: env
                .optional("KEY_PREFIX")
                .unwrap_or_else(|| "raw".into())
                .trim_end_matches('/')
                .to_string(),
            kms_key_arn: env.required_with(
                "KMS_KEY_ARN",
                "the ARN of the KMS key Inspector encrypts exports with (arn:aws:kms:<region>:<account>:key/<id>)",
                |v| {
                    let parts: Vec<&str> = v.splitn(6, ':').collect();
                    let ok = parts.len() == 6
                        && parts[0] == "arn"
                        && parts[2] == "kms"
                        && !parts[3].is_empty()
                        && common::aws::is_account_id(parts[4])
                        && parts[5].strip_prefix("key/").is_some_and(|id| !id.is_empty());
                    if ok {
                        Ok(v.to_string())
                    } else {
                        Err("not a KMS key ARN")
                    }
                },
            ),
            format: env.parse_with(
                "SBOM_FORMAT",
                SbomFormat::Spdx23,
                "SPDX_2_3 or CYCLONEDX_1_4",
                |v| match v {
                    "SPDX_2_3" => Ok(SbomFormat::Spdx23),
                    "CYCLONEDX_1_4" => Ok(SbomFormat::CycloneDx14),
                    _ => Err("unknown format"),
                },
            ),
            scan_wait_limit: duration(env, "SCAN_WAIT_LIMIT", "30m"),
            export_wait: duration(env, "EXPORT_WAIT", "20s"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";

    #[test]
    fn defaults_and_values() {
        let mut env = Env::from_pairs([
            ("RAW_BUCKET", "raw-bucket"),
            ("KMS_KEY_ARN", KEY),
            ("KEY_PREFIX", "sboms/"),
        ]);
        let c = Config::from_env(&mut env);
        let c = env.finish(c).unwrap();
        assert_eq!(c.key_prefix, "sboms");
        assert_eq!(c.format, SbomFormat::Spdx23);
        assert_eq!(c.scan_wait_limit, Duration::from_secs(1800));
        assert_eq!(c.export_wait, Duration::from_secs(20));
    }

    #[test]
    fn every_problem_is_reported() {
        let mut env = Env::from_pairs([
            ("KMS_KEY_ARN", "alias/x"),
            ("SBOM_FORMAT", "CYCLONEDX_1_5"),
            ("EXPORT_WAIT", "soon"),
        ]);
        let c = Config::from_env(&mut env);
        let e = env.finish(c).unwrap_err().to_string();
        for v in ["RAW_BUCKET", "KMS_KEY_ARN", "SBOM_FORMAT", "EXPORT_WAIT"] {
            assert!(e.contains(v), "{v}: {e}");
        }
    }
}
