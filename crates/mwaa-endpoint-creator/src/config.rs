//! The function's configuration, from environment variables.

use common::config::Env;

use crate::handler::Settings;
use crate::validate::is_region;

#[derive(Debug, Clone)]
pub struct Config {
    pub settings: Settings,
    /// A role in the VPC owner's account for every EC2 call (shared VPCs
    /// whose owner is another account).
    pub ec2_role_arn: Option<String>,
    pub ec2_external_id: Option<String>,
}

impl Config {
    pub fn from_env(env: &mut Env) -> Config {
        let region = env.required("AWS_REGION", "the Region (set by Lambda)");
        if !region.is_empty() && !is_region(&region) {
            env.problem("AWS_REGION", format!("{region:?} is not a Region name"));
        }
        let ec2_role_arn = env.optional("EC2_ROLE_ARN");
        if let Some(arn) = &ec2_role_arn {
            if let Err(e) = common::aws::validate_role_arn(arn) {
                env.problem("EC2_ROLE_ARN", e);
            }
        }
        let ec2_external_id = env.optional("EC2_EXTERNAL_ID");
        if ec2_external_id.is_some() && ec2_role_arn.is_none() {
            env.problem("EC2_EXTERNAL_ID", "is set but EC2_ROLE_ARN is not");
        }
        Config {
            settings: Settings { region },
            ec2_role_arn,
            ec2_external_id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_and_role_are_checked() {
        let mut env = Env::from_pairs([("AWS_REGION", "eu-west-1")]);
        let c = Config::from_env(&mut env);
        assert!(env.finish(()).is_ok());
        assert_eq!(c.settings.region, "eu-west-1");
        let mut env = Env::from_pairs([
            ("AWS_REGION", "Europe"),
            ("EC2_ROLE_ARN", "arn:aws:iam::1:role/x"),
        ]);
        Config::from_env(&mut env);
        let text = env.finish(()).unwrap_err().to_string();
        assert!(text.contains("AWS_REGION: \"Europe\""), "{text}");
        assert!(text.contains("EC2_ROLE_ARN: "), "{text}");
        let mut env = Env::from_pairs([("AWS_REGION", "eu-west-1"), ("EC2_EXTERNAL_ID", "x")]);
        Config::from_env(&mut env);
        assert!(env
            .finish(())
            .unwrap_err()
            .to_string()
            .contains("EC2_ROLE_ARN is not"));
    }
}
