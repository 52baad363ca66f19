//! AWS client construction.
//!
//! `aws-config` with the latest behaviour version reads region, credentials and
//! `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_<SERVICE>` itself; the local cloud
//! is reached only through those variables. What it does not do is switch S3
//! to path-style addressing for a custom endpoint, which local emulators need
//! (virtual-host style would put the bucket in a hostname that loopback does
//! not resolve).

use std::collections::HashMap;

use aws_config::sts::AssumeRoleProvider;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use tokio::sync::Mutex;

use crate::failure::FunctionError;

/// The shared SDK configuration of the function's own role.
pub async fn sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest()).load().await
}

/// Whether `AWS_ENDPOINT_URL_<service>` or `AWS_ENDPOINT_URL` overrides the
/// endpoint of `service` (its env-var suffix, e.g. `S3`, `SECRETS_MANAGER`).
pub fn endpoint_overridden(service: &str) -> bool {
    let set = |name: &str| std::env::var(name).is_ok_and(|v| !v.trim().is_empty());
    set(&format!("AWS_ENDPOINT_URL_{service}")) || set("AWS_ENDPOINT_URL")
}

/// An S3 client; path-style when the endpoint is overridden.
pub fn s3_client(config: &SdkConfig) -> aws_sdk_s3::Client {
    let s3 = aws_sdk_s3::config::Builder::from(config)
        .force_path_style(endpoint_overridden("S3"))
        .build();
    aws_sdk_s3::Client::from_conf(s3)
}

/// Checks the form `arn:<partition>:iam::<12 digits>:role/<path/name>`.
///
/// Role ARNs are often assembled from event fields (an account id) and a
/// configured role name; this keeps a crafted account id from steering
/// AssumeRole anywhere else.
pub fn validate_role_arn(arn: &str) -> Result<(), String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ok = parts.len() == 6
        && parts[0] == "arn"
        && matches!(parts[1], "aws" | "aws-cn" | "aws-us-gov")
        && parts[2] == "iam"
        && parts[3].is_empty()
        && is_account_id(parts[4])
        && parts[5].strip_prefix("role/").is_some_and(|name| {
            !name.is_empty()
                && name.len() <= 512
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+=,.@-_/".contains(c))
        });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{arn:?} is not an IAM role ARN (arn:aws:iam::<12-digit account>:role/<name>)"
        ))
    }
}

/// The partition of a Region, for the ARNs functions build themselves
/// (`cn-*` and `us-gov-*` Regions are not in `aws`).
pub fn partition_of(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// Whether `s` is a 12-digit AWS account id.
pub fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// A role session name from the function name: STS allows `[\w+=,.@-]`, 2 to
/// 64 characters. CloudTrail in the target account then shows which function
/// acted.
pub fn session_name(function_name: &str) -> String {
    let mut name: String = function_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_+=,.@-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .take(64)
        .collect();
    while name.len() < 2 {
        name.push('-');
    }
    name
}

/// SDK configurations for roles in other accounts, one per (role, external
/// id), kept for the sandbox's life. Each holds an AssumeRole provider whose
/// credentials the SDK's identity cache refreshes before they expire, so a warm
/// function calls STS once per role and hour, not once per event.
pub struct CrossAccount {
    base: SdkConfig,
    session_name: String,
    configs: Mutex<HashMap<(String, Option<String>), SdkConfig>>,
}

impl CrossAccount {
    pub fn new(base: SdkConfig, function_name: &str) -> Self {
        CrossAccount {
            base,
            session_name: session_name(function_name),
            configs: Mutex::default(),
        }
    }

    /// The configuration that acts as `role_arn` (assumed lazily, on the
    /// first call a client makes).
    pub async fn config_for(
        &self,
        role_arn: &str,
        external_id: Option<&str>,
    ) -> Result<SdkConfig, FunctionError> {
        validate_role_arn(role_arn).map_err(|m| FunctionError::permanent("InvalidRoleArn", m))?;
        let key = (role_arn.to_string(), external_id.map(str::to_string));
        let mut configs = self.configs.lock().await;
        if let Some(c) = configs.get(&key) {
            return Ok(c.clone());
        }
        let mut provider = AssumeRoleProvider::builder(role_arn)
            .session_name(&self.session_name)
            .configure(&self.base);
        if let Some(id) = external_id {
            provider = provider.external_id(id);
        }
        let provider = provider.build().await;
        let config = self
            .base
            .to_builder()
            .credentials_provider(SharedCredentialsProvider::new(provider))
            .build();
        configs.insert(key, config.clone());
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_of_regions() {
        assert_eq!(partition_of("us-east-1"), "aws");
        assert_eq!(partition_of("eu-central-1"), "aws");
        assert_eq!(partition_of("cn-north-1"), "aws-cn");
        assert_eq!(partition_of("us-gov-west-1"), "aws-us-gov");
    }

    #[test]
    fn role_arns_are_validated() {
        assert!(validate_role_arn("arn:aws:iam::112233445566:role/anfw-spoke").is_ok());
        assert!(validate_role_arn("arn:aws:iam::112233445566:role/path/to/r_1+=,.@-").is_ok());
        for bad in [
            "arn:aws:iam::11223344556:role/x",
            "arn:aws:iam::112233445566:user/x",
            "arn:aws:iam::112233445566:role/",
            "arn:aws:sts::112233445566:role/x",
            "arn:aws:iam::112233445566:role/x y",
            "arn:evil:iam::112233445566:role/x",
            "112233445566",
        ] {
            let err = validate_role_arn(bad).unwrap_err();
            assert!(err.contains("is not an IAM role ARN"), "{bad}: {err}");
        }
    }

    #[test]
    fn session_names_fit_sts_rules() {
        assert_eq!(
            session_name("firewall-rule-collector"),
            "firewall-rule-collector"
        );
        assert_eq!(session_name("a b/c"), "a-b-c");
        assert_eq!(session_name("x"), "x-");
        assert_eq!(session_name(&"y".repeat(100)).len(), 64);
    }
}
