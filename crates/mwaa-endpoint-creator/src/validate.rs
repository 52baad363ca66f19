//! Field checks on everything that arrives in an event or from the MWAA API
//! before it reaches an EC2 call: an event can come over a cross-account bus,
//! so no field is trusted.

/// Whether `s` is `<prefix>` followed by 8 or 17 lower-case hex digits (EC2 ids).
fn is_ec2_id(s: &str, prefix: &str) -> bool {
    s.strip_prefix(prefix).is_some_and(|hex| {
        matches!(hex.len(), 8 | 17)
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// A subnet id: `subnet-` and 8 or 17 hex digits.
pub fn subnet_id(s: &str) -> Result<(), String> {
    is_ec2_id(s, "subnet-")
        .then_some(())
        .ok_or_else(|| format!("{s:?} is not a subnet id (subnet-<8 or 17 hex digits>)"))
}

/// A security group id: `sg-` and 8 or 17 hex digits.
pub fn security_group_id(s: &str) -> Result<(), String> {
    is_ec2_id(s, "sg-")
        .then_some(())
        .ok_or_else(|| format!("{s:?} is not a security group id (sg-<8 or 17 hex digits>)"))
}

/// A Region name such as `us-east-1` or `us-gov-west-1`.
pub fn is_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() >= 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
        && parts
            .last()
            .is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()))
}

/// An MWAA endpoint service name in `region`:
/// `com.amazonaws.vpce.<region>.vpce-svc-<17 hex digits>`.
pub fn endpoint_service(s: &str, region: &str) -> Result<(), String> {
    let expected = format!("com.amazonaws.vpce.{region}.");
    let ok = s
        .strip_prefix(&expected)
        .is_some_and(|rest| is_ec2_id(rest, "vpce-svc-"));
    ok.then_some(()).ok_or_else(|| {
        format!("{s:?} is not an endpoint service name of {region} (com.amazonaws.vpce.{region}.vpce-svc-<hex>)")
    })
}

/// A Celery queue ARN in `region`: `arn:<partition>:sqs:<region>:<12 digits>:<queue>`.
pub fn queue_arn(s: &str, region: &str) -> Result<(), String> {
    let parts: Vec<&str> = s.split(':').collect();
    let ok = parts.len() == 6
        && parts[0] == "arn"
        && matches!(parts[1], "aws" | "aws-cn" | "aws-us-gov")
        && parts[2] == "sqs"
        && parts[3] == region
        && common::aws::is_account_id(parts[4])
        && !parts[5].is_empty()
        && parts[5].len() <= 80
        && parts[5]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    ok.then_some(()).ok_or_else(|| {
        format!(
            "{s:?} is not an SQS queue ARN of {region} (arn:aws:sqs:{region}:<account>:<queue>)"
        )
    })
}

/// An MWAA environment name: a letter, then letters, digits, `-`, `_`; at most 80.
pub fn environment_name(s: &str) -> Result<(), String> {
    let ok = (1..=80).contains(&s.len())
        && s.starts_with(|c: char| c.is_ascii_alphabetic())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    ok.then_some(()).ok_or_else(|| {
        format!("{s:?} is not an MWAA environment name (a letter, then letters, digits, '-', '_'; at most 80)")
    })
}

/// An MWAA environment ARN of `region` named `name`:
/// `arn:<partition>:airflow:<region>:<12 digits>:environment/<name>`.
pub fn environment_arn(s: &str, region: &str, name: &str) -> Result<(), String> {
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    let ok = parts.len() == 6
        && parts[0] == "arn"
        && matches!(parts[1], "aws" | "aws-cn" | "aws-us-gov")
        && parts[2] == "airflow"
        && parts[3] == region
        && common::aws::is_account_id(parts[4])
        && parts[5].strip_prefix("environment/") == Some(name);
    ok.then_some(()).ok_or_else(|| {
        format!("{s:?} is not the ARN of environment {name} in {region} (arn:aws:airflow:{region}:<account>:environment/{name})")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const R: &str = "us-east-1";

    #[test]
    fn ids() {
        assert!(subnet_id("subnet-0123456789abcdef0").is_ok());
        assert!(subnet_id("subnet-12345678").is_ok());
        for bad in [
            "subnet-123",
            "subnet-0123456789ABCDEF0",
            "sg-12345678",
            "subnet-12345678 ",
            "",
        ] {
            assert!(subnet_id(bad).is_err(), "{bad:?}");
        }
        assert!(security_group_id("sg-0123456789abcdef0").is_ok());
        assert!(security_group_id("subnet-12345678")
            .unwrap_err()
            .contains("security group id"));
    }

    #[test]
    fn endpoint_services_must_be_mwaa_style_in_this_region() {
        assert!(
            endpoint_service("com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0", R).is_ok()
        );
        for bad in [
            "com.amazonaws.vpce.eu-west-1.vpce-svc-0123456789abcdef0",
            "com.amazonaws.us-east-1.sqs",
            "com.amazonaws.vpce.us-east-1.vpce-svc-xyz",
            "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0.evil",
        ] {
            let e = endpoint_service(bad, R).unwrap_err();
            assert!(
                e.contains("is not an endpoint service name of us-east-1"),
                "{e}"
            );
        }
    }

    #[test]
    fn queue_arns() {
        assert!(queue_arn(
            "arn:aws:sqs:us-east-1:123456789012:airflow-celery-a1b2c3d4-e5f6",
            R
        )
        .is_ok());
        for bad in [
            "arn:aws:sqs:eu-west-1:123456789012:q",
            "arn:aws:sns:us-east-1:123456789012:q",
            "arn:aws:sqs:us-east-1:12345:q",
            "arn:aws:sqs:us-east-1:123456789012:",
            "arn:aws:sqs:us-east-1:123456789012:q:extra",
            "arn:aws:sqs:us-east-1:123456789012:*",
        ] {
            assert!(queue_arn(bad, R).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_arns_and_regions() {
        assert!(environment_name("MyEnv_1-a").is_ok());
        assert!(environment_name("1env").is_err());
        assert!(environment_name(&"a".repeat(81)).is_err());
        assert!(environment_arn(
            "arn:aws:airflow:us-east-1:123456789012:environment/MyEnv",
            R,
            "MyEnv"
        )
        .is_ok());
        assert!(environment_arn(
            "arn:aws:airflow:us-east-1:123456789012:environment/Other",
            R,
            "MyEnv"
        )
        .is_err());
        assert!(
            is_region("us-east-1") && is_region("us-gov-west-1") && is_region("ap-southeast-2")
        );
        assert!(!is_region("us-east") && !is_region("US-EAST-1") && !is_region("us-east-1a"));
    }

    proptest! {
        #[test]
        fn validators_never_panic_and_accept_only_their_prefix(s in "\\PC{0,80}") {
            let sub = subnet_id(&s).is_ok();
            prop_assert!(!sub || s.starts_with("subnet-"));
            let q = queue_arn(&s, R).is_ok();
            prop_assert!(!q || s.starts_with("arn:"));
            let e = endpoint_service(&s, R).is_ok();
            prop_assert!(!e || s.starts_with("com.amazonaws.vpce.us-east-1.vpce-svc-"));
        }
    }
}
