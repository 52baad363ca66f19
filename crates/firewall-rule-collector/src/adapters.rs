//! The ports on the AWS SDK. Spoke data (config bucket, VPCs, customer log)
//! is read and written through the spoke's role; the queue and the overflow
//! bucket are the function's own.

use std::collections::BTreeMap;
use std::sync::Arc;

use aws_config::{Region, SdkConfig};
use aws_sdk_ec2::types::Filter;
use common::aws::CrossAccount;
use common::firewall_state::{DesiredState, QueueMessage, SQS_MAX_BODY_BYTES};
use common::FunctionError;

use crate::config::Config;
use crate::handler::{ConfigStore, LogLine, SpokeLog, StatePublisher, VpcDirectory};
use crate::trigger::ObjectRef;
use crate::validate::VpcFacts;

/// Every port, on one set of clients (cheap to clone).
#[derive(Clone)]
pub struct Aws {
    own: SdkConfig,
    spokes: Arc<CrossAccount>,
    role_name: String,
    external_id: Option<String>,
    queue_url: String,
    overflow_bucket: String,
    log_group: String,
}

impl Aws {
    pub fn new(own: SdkConfig, config: &Config, function_name: &str) -> Self {
        Aws {
            spokes: Arc::new(CrossAccount::new(own.clone(), function_name)),
            own,
            role_name: config.spoke_role_name.clone(),
            external_id: config.spoke_external_id.clone(),
            queue_url: config.queue_url.clone(),
            overflow_bucket: config.overflow_bucket.clone(),
            log_group: config.spoke_log_group.clone(),
        }
    }

    async fn spoke(&self, account: &str, region: &str) -> Result<SdkConfig, FunctionError> {
        let partition = common::aws::partition_of(region);
        let arn = format!("arn:{partition}:iam::{account}:role/{}", self.role_name);
        let config = self
            .spokes
            .config_for(&arn, self.external_id.as_deref())
            .await?;
        Ok(config
            .to_builder()
            .region(Region::new(region.to_string()))
            .build())
    }
}

fn is_code<E: aws_smithy_types::error::metadata::ProvideErrorMetadata>(
    e: &aws_smithy_runtime_api::client::result::SdkError<
        E,
        aws_smithy_runtime_api::client::orchestrator::HttpResponse,
    >,
    codes: &[&str],
) -> bool {
    let status_404 = matches!(e, aws_smithy_runtime_api::client::result::SdkError::ServiceError(s) if s.raw().status().as_u16() == 404);
    status_404
        || e.as_service_error()
            .and_then(|s| s.code())
            .is_some_and(|c| codes.contains(&c))
}

impl ConfigStore for Aws {
    async fn current_version(&self, o: &ObjectRef) -> Result<Option<String>, FunctionError> {
        let s3 = common::aws::s3_client(&self.spoke(&o.account, &o.bucket_region).await?);
        match s3.head_object().bucket(&o.bucket).key(&o.key).send().await {
            Ok(h) => Ok(Some(h.version_id().unwrap_or("null").to_string())),
            Err(e) if is_code(&e, &["NotFound", "NoSuchKey"]) => Ok(None),
            Err(e) => Err(FunctionError::from_sdk("s3:HeadObject", &e)),
        }
    }

    async fn fetch(&self, o: &ObjectRef, version: &str) -> Result<Option<String>, FunctionError> {
        let s3 = common::aws::s3_client(&self.spoke(&o.account, &o.bucket_region).await?);
        let mut get = s3.get_object().bucket(&o.bucket).key(&o.key);
        if version != "null" {
            get = get.version_id(version);
        }
        let out = match get.send().await {
            Ok(out) => out,
            Err(e) if is_code(&e, &["NoSuchKey", "NoSuchVersion"]) => return Ok(None),
            Err(e) => return Err(FunctionError::from_sdk("s3:GetObject", &e)),
        };
        if out.content_length().unwrap_or(0) > crate::spoke_config::MAX_CONFIG_BYTES as i64 {
            return Err(FunctionError::permanent(
                "ConfigTooLarge",
                format!(
                    "s3://{}/{} is over {} bytes",
                    o.bucket,
                    o.key,
                    crate::spoke_config::MAX_CONFIG_BYTES
                ),
            ));
        }
        let bytes = out.body.collect().await.map_err(|e| {
            FunctionError::retryable(
                "S3ReadFailed",
                format!("reading s3://{}/{}: {e}", o.bucket, o.key),
            )
        })?;
        String::from_utf8(bytes.to_vec()).map(Some).map_err(|_| {
            FunctionError::permanent(
                "ConfigNotUtf8",
                format!("s3://{}/{} is not UTF-8 text", o.bucket, o.key),
            )
        })
    }
}

impl VpcDirectory for Aws {
    async fn describe(
        &self,
        account: &str,
        region: &str,
        vpc_ids: &[String],
        transit_gateway: Option<&str>,
    ) -> Result<BTreeMap<String, VpcFacts>, FunctionError> {
        let mut facts = BTreeMap::new();
        if vpc_ids.is_empty() {
            return Ok(facts);
        }
        let ec2 = aws_sdk_ec2::Client::new(&self.spoke(account, region).await?);
        // One call per VPC: DescribeVpcs with several ids fails as a whole
        // when one does not exist, and the spoke should hear which.
        for id in vpc_ids {
            let vpcs = match ec2.describe_vpcs().vpc_ids(id).send().await {
                Ok(out) => out.vpcs.unwrap_or_default(),
                Err(e) if is_code(&e, &["InvalidVpcID.NotFound", "InvalidVpcID.Malformed"]) => {
                    continue
                }
                Err(e) => return Err(FunctionError::from_sdk("ec2:DescribeVpcs", &e)),
            };
            let Some(vpc) = vpcs.into_iter().find(|v| v.vpc_id() == Some(id)) else {
                continue;
            };
            let mut cidrs: Vec<String> = vpc.cidr_block().map(str::to_string).into_iter().collect();
            for a in vpc.cidr_block_association_set() {
                let associated = a
                    .cidr_block_state()
                    .and_then(|s| s.state())
                    .is_none_or(|s| s.as_str() == "associated");
                if let Some(c) = a.cidr_block() {
                    if associated && !cidrs.iter().any(|x| x == c) {
                        cidrs.push(c.to_string());
                    }
                }
            }
            let mut attachments = ec2
                .describe_transit_gateway_attachments()
                .filters(Filter::builder().name("resource-id").values(id).build())
                .filters(
                    Filter::builder()
                        .name("resource-type")
                        .values("vpc")
                        .build(),
                )
                .into_paginator()
                .items()
                .send();
            let mut attached = false;
            while let Some(a) = attachments.next().await {
                let a = a.map_err(|e| {
                    FunctionError::from_sdk("ec2:DescribeTransitGatewayAttachments", &e)
                })?;
                let live = a.state().is_some_and(|s| s.as_str() == "available");
                let right_tgw = transit_gateway.is_none_or(|t| a.transit_gateway_id() == Some(t));
                attached |= live && right_tgw;
            }
            facts.insert(id.clone(), VpcFacts { cidrs, attached });
        }
        Ok(facts)
    }
}

impl SpokeLog for Aws {
    async fn write(
        &self,
        account: &str,
        region: &str,
        stream: &str,
        lines: &[LogLine],
    ) -> Result<(), FunctionError> {
        write_spoke_log(
            &self.spoke(account, region).await?,
            &self.log_group,
            stream,
            lines,
        )
        .await
    }
}

/// Appends `lines` to `stream` (created if needed) of the spoke's group.
pub async fn write_spoke_log(
    config: &SdkConfig,
    group: &str,
    stream: &str,
    lines: &[LogLine],
) -> Result<(), FunctionError> {
    common::cloudwatch_logs::append_lines(
        config,
        group,
        stream,
        lines.iter().map(|l| l.json.as_str()),
    )
    .await
}

impl StatePublisher for Aws {
    async fn publish(&self, state: &DesiredState, dedup_id: &str) -> Result<(), FunctionError> {
        let sqs = aws_sdk_sqs::Client::new(&self.own);
        let inline =
            serde_json::to_string(&QueueMessage::State(state.clone())).expect("serialisable");
        let body = if inline.len() <= SQS_MAX_BODY_BYTES {
            inline
        } else {
            let key = format!(
                "desired-state/{}/{}/{}.json",
                state.account,
                state.region,
                dedup_id.replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "_")
            );
            let s3 = common::aws::s3_client(&self.own);
            let json = serde_json::to_vec(state).expect("serialisable");
            s3.put_object()
                .bucket(&self.overflow_bucket)
                .key(&key)
                .body(json.into())
                .content_type("application/json")
                .send()
                .await
                .map_err(|e| FunctionError::from_sdk("s3:PutObject", &e))?;
            serde_json::to_string(&QueueMessage::Stored {
                bucket: self.overflow_bucket.clone(),
                key,
            })
            .expect("serialisable")
        };
        sqs.send_message()
            .queue_url(&self.queue_url)
            .message_body(body)
            .message_group_id(&state.region)
            .message_deduplication_id(dedup_id)
            .send()
            .await
            .map_err(|e| FunctionError::from_sdk("sqs:SendMessage", &e))?;
        Ok(())
    }
}
