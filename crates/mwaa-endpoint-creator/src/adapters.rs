//! The ports on the AWS SDK clients, and start-up wiring.

use aws_config::SdkConfig;
use aws_sdk_ec2::types::{Filter, ResourceType, Tag, TagSpecification, VpcEndpointType};
use aws_sdk_mwaa::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_mwaa::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_mwaa::error::BoxError;
use aws_sdk_mwaa::operation::get_environment::GetEnvironmentError;
use aws_smithy_runtime_api::client::endpoint::EndpointPrefix;
use common::FunctionError;

use crate::config::Config;
use crate::environment::Reported;
use crate::ports::{Endpoint, EndpointQuery, Environments, Network, NewEndpoint};

/// EC2 in the VPC owner's account.
pub struct Ec2Network {
    client: aws_sdk_ec2::Client,
}

impl Network for Ec2Network {
    async fn vpc_of_subnets(&self, subnet_ids: &[String]) -> Result<String, FunctionError> {
        let out = self
            .client
            .describe_subnets()
            .set_subnet_ids(Some(subnet_ids.to_vec()))
            .send()
            .await
            .map_err(|e| FunctionError::from_sdk("ec2:DescribeSubnets", &e))?;
        let mut vpcs: Vec<&str> = out.subnets().iter().filter_map(|s| s.vpc_id()).collect();
        vpcs.sort_unstable();
        vpcs.dedup();
        match vpcs.as_slice() {
            [one] if out.subnets().len() == subnet_ids.len() => Ok((*one).to_string()),
            [] | [_] => Err(FunctionError::permanent(
                "SubnetsNotFound",
                format!("DescribeSubnets did not return every subnet of {subnet_ids:?}"),
            )),
            many => Err(FunctionError::permanent(
                "SubnetsInSeveralVpcs",
                format!("subnets {subnet_ids:?} are in several VPCs: {many:?}"),
            )),
        }
    }

    async fn endpoints(&self, query: &EndpointQuery) -> Result<Vec<Endpoint>, FunctionError> {
        let filter = |name: &str, value: &str| Filter::builder().name(name).values(value).build();
        let mut filters = Vec::new();
        if let Some(vpc) = &query.vpc_id {
            filters.push(filter("vpc-id", vpc));
        }
        if let Some(service) = &query.service_name {
            filters.push(filter("service-name", service));
        }
        if let Some((key, value)) = &query.tag {
            filters.push(filter(&format!("tag:{key}"), value));
        }
        let mut found = Vec::new();
        let mut next_token = None;
        loop {
            let out = self
                .client
                .describe_vpc_endpoints()
                .set_filters(Some(filters.clone()))
                .set_next_token(next_token)
                .send()
                .await
                .map_err(|e| FunctionError::from_sdk("ec2:DescribeVpcEndpoints", &e))?;
            found.extend(out.vpc_endpoints().iter().map(|e| {
                Endpoint {
                    id: e.vpc_endpoint_id().unwrap_or_default().to_string(),
                    vpc_id: e.vpc_id().unwrap_or_default().to_string(),
                    service_name: e.service_name().unwrap_or_default().to_string(),
                    state: e
                        .state()
                        .map(|s| s.as_str().to_ascii_lowercase())
                        .unwrap_or_default(),
                    endpoint_type: e
                        .vpc_endpoint_type()
                        .map(|t| t.as_str().to_ascii_lowercase())
                        .unwrap_or_default(),
                    subnet_ids: e.subnet_ids().to_vec(),
                    policy: e.policy_document().map(str::to_string),
                }
            }));
            next_token = out
                .next_token()
                .filter(|t| !t.is_empty())
                .map(str::to_string);
            if next_token.is_none() {
                return Ok(found);
            }
        }
    }

    async fn create_endpoint(&self, endpoint: &NewEndpoint) -> Result<String, FunctionError> {
        let tags = TagSpecification::builder()
            .resource_type(ResourceType::VpcEndpoint)
            .set_tags(Some(
                endpoint
                    .tags
                    .iter()
                    .map(|(k, v)| Tag::builder().key(k).value(v).build())
                    .collect(),
            ))
            .build();
        let out = self
            .client
            .create_vpc_endpoint()
            .vpc_endpoint_type(VpcEndpointType::Interface)
            .vpc_id(&endpoint.vpc_id)
            .service_name(&endpoint.service_name)
            .set_subnet_ids(Some(endpoint.subnet_ids.clone()))
            .set_security_group_ids(Some(endpoint.security_group_ids.clone()))
            // MWAA's endpoint services are reached by the endpoint's own DNS
            // names, which MWAA reads from the endpoint; no private hosted zone.
            .private_dns_enabled(false)
            .client_token(&endpoint.client_token)
            .tag_specifications(tags)
            .send()
            .await
            .map_err(|e| FunctionError::from_sdk("ec2:CreateVpcEndpoint", &e))?;
        out.vpc_endpoint()
            .and_then(|e| e.vpc_endpoint_id())
            .map(str::to_string)
            .ok_or_else(|| {
                FunctionError::retryable(
                    "IncompleteResponse",
                    "CreateVpcEndpoint returned no endpoint id",
                )
            })
    }

    async fn set_policy(&self, endpoint_id: &str, policy: &str) -> Result<(), FunctionError> {
        self.client
            .modify_vpc_endpoint()
            .vpc_endpoint_id(endpoint_id)
            .policy_document(policy)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| FunctionError::from_sdk("ec2:ModifyVpcEndpoint", &e))
    }

    async fn delete_endpoints(&self, endpoint_ids: &[String]) -> Result<(), FunctionError> {
        let out = self
            .client
            .delete_vpc_endpoints()
            .set_vpc_endpoint_ids(Some(endpoint_ids.to_vec()))
            .send()
            .await
            .map_err(|e| FunctionError::from_sdk("ec2:DeleteVpcEndpoints", &e))?;
        let failed: Vec<String> = out
            .unsuccessful()
            .iter()
            .map(|u| {
                format!(
                    "{}: {}",
                    u.resource_id().unwrap_or_default(),
                    u.error().and_then(|e| e.message()).unwrap_or_default()
                )
            })
            .collect();
        if failed.is_empty() {
            Ok(())
        } else {
            Err(FunctionError::retryable(
                "DeleteVpcEndpointsFailed",
                failed.join("; "),
            ))
        }
    }
}

/// MWAA in the function's own account.
pub struct Mwaa {
    client: aws_sdk_mwaa::Client,
}

impl Environments for Mwaa {
    async fn names(&self) -> Result<Vec<String>, FunctionError> {
        let mut names = Vec::new();
        let mut next_token = None;
        loop {
            let out = self
                .client
                .list_environments()
                .set_next_token(next_token)
                .send()
                .await
                .map_err(|e| FunctionError::from_sdk("airflow:ListEnvironments", &e))?;
            names.extend(out.environments().iter().cloned());
            next_token = out
                .next_token()
                .filter(|t| !t.is_empty())
                .map(str::to_string);
            if next_token.is_none() {
                return Ok(names);
            }
        }
    }

    async fn get(&self, name: &str) -> Result<Option<Reported>, FunctionError> {
        let out = match self.client.get_environment().name(name).send().await {
            Ok(out) => out,
            Err(e)
                if matches!(
                    e.as_service_error(),
                    Some(GetEnvironmentError::ResourceNotFoundException(_))
                ) =>
            {
                return Ok(None)
            }
            Err(e) => return Err(FunctionError::from_sdk("airflow:GetEnvironment", &e)),
        };
        let Some(env) = out.environment() else {
            return Ok(None);
        };
        let network = env.network_configuration();
        Ok(Some(Reported {
            name: env.name().map(str::to_string),
            arn: env.arn().map(str::to_string),
            status: env.status().map(|s| s.as_str().to_string()),
            queue_arn: env.celery_executor_queue().map(str::to_string),
            subnet_ids: network.map(|n| n.subnet_ids().to_vec()).unwrap_or_default(),
            security_group_ids: network
                .map(|n| n.security_group_ids().to_vec())
                .unwrap_or_default(),
            database_service: env.database_vpc_endpoint_service().map(str::to_string),
            webserver_service: env.webserver_vpc_endpoint_service().map(str::to_string),
            webserver_access_mode: env.webserver_access_mode().map(|m| m.as_str().to_string()),
            endpoint_management: env.endpoint_management().map(|m| m.as_str().to_string()),
        }))
    }
}

/// MWAA operations carry the `api.` host prefix. With an endpoint URL set
/// explicitly (`AWS_ENDPOINT_URL_MWAA`: a VPC endpoint's DNS name, a proxy,
/// an emulator) the URL is where requests must go, as botocore's
/// `inject_host_prefix = false` allows; prefixing it would name a host that
/// does not exist.
#[derive(Debug)]
struct NoHostPrefix;

impl Intercept for NoHostPrefix {
    fn name(&self) -> &'static str {
        "NoHostPrefix"
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        cfg.interceptor_state().unset::<EndpointPrefix>();
        Ok(())
    }
}

/// Builds the ports: EC2 as the VPC owner (an assumed role when configured),
/// MWAA as the function.
pub async fn connect(
    config: &Config,
    aws: &SdkConfig,
) -> Result<(Ec2Network, Mwaa), FunctionError> {
    let ec2_config = match &config.ec2_role_arn {
        None => aws.clone(),
        Some(role) => {
            let function = std::env::var("AWS_LAMBDA_FUNCTION_NAME")
                .unwrap_or_else(|_| "mwaa-endpoint-creator".into());
            common::aws::CrossAccount::new(aws.clone(), &function)
                .config_for(role, config.ec2_external_id.as_deref())
                .await?
        }
    };
    let mut mwaa = aws_sdk_mwaa::config::Builder::from(aws);
    if common::aws::endpoint_overridden("MWAA") {
        mwaa = mwaa.interceptor(NoHostPrefix);
    }
    Ok((
        Ec2Network {
            client: aws_sdk_ec2::Client::new(&ec2_config),
        },
        Mwaa {
            client: aws_sdk_mwaa::Client::from_conf(mwaa.build()),
        },
    ))
}
