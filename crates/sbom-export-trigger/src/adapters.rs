//! [`Inspector`] on the AWS SDK's Inspector2 client.

use aws_sdk_inspector2::types::{
    CoverageFilterCriteria, CoverageStringComparison, CoverageStringFilter, Destination,
    ResourceFilterCriteria, ResourceStringComparison, ResourceStringFilter, SbomReportFormat,
};
use common::FunctionError;

use crate::config::SbomFormat;
use crate::coverage::Coverage;
use crate::handler::{ExportRequest, ExportStatus, Inspector};

pub struct InspectorClient {
    client: aws_sdk_inspector2::Client,
}

impl InspectorClient {
    /// The handler retries `CreateSbomExport` itself (only on throttling and
    /// internal errors, with jitter), so the SDK's own retries are off.
    pub fn new(config: &aws_config::SdkConfig) -> Self {
        let conf = aws_sdk_inspector2::config::Builder::from(config)
            .retry_config(aws_config::retry::RetryConfig::disabled())
            .build();
        InspectorClient {
            client: aws_sdk_inspector2::Client::from_conf(conf),
        }
    }
}

fn build_error(e: impl std::fmt::Display) -> FunctionError {
    FunctionError::permanent("RequestBuild", e.to_string())
}

impl Inspector for InspectorClient {
    async fn coverage(&self, resource_id: &str) -> Result<Option<Coverage>, FunctionError> {
        let filter = CoverageFilterCriteria::builder()
            .resource_id(
                CoverageStringFilter::builder()
                    .comparison(CoverageStringComparison::Equals)
                    .value(resource_id)
                    .build()
                    .map_err(build_error)?,
            )
            .build();
        let out = self
            .client
            .list_coverage()
            .filter_criteria(filter)
            .max_results(10)
            .send()
            .await
            .map_err(|e| FunctionError::from_sdk("inspector2:ListCoverage", &e))?;
        Ok(out
            .covered_resources()
            .iter()
            .find(|r| r.resource_id() == resource_id)
            .map(|r| Coverage {
                status_code: r
                    .scan_status()
                    .map(|s| s.status_code().as_str().to_string())
                    .unwrap_or_default(),
                reason: r
                    .scan_status()
                    .map(|s| s.reason().as_str().to_string())
                    .unwrap_or_default(),
            }))
    }

    async fn create_sbom_export(&self, request: &ExportRequest) -> Result<String, FunctionError> {
        let format = match request.format {
            SbomFormat::Spdx23 => SbomReportFormat::Spdx23,
            SbomFormat::CycloneDx14 => SbomReportFormat::Cyclonedx14,
        };
        let filter = ResourceFilterCriteria::builder()
            .resource_id(
                ResourceStringFilter::builder()
                    .comparison(ResourceStringComparison::Equals)
                    .value(&request.resource_id)
                    .build()
                    .map_err(build_error)?,
            )
            .build();
        let destination = Destination::builder()
            .bucket_name(&request.bucket)
            .set_key_prefix((!request.key_prefix.is_empty()).then(|| request.key_prefix.clone()))
            .kms_key_arn(&request.kms_key_arn)
            .build()
            .map_err(build_error)?;
        let out = self
            .client
            .create_sbom_export()
            .report_format(format)
            .resource_filter_criteria(filter)
            .s3_destination(destination)
            .send()
            .await
            .map_err(|e| FunctionError::from_sdk("inspector2:CreateSbomExport", &e))?;
        out.report_id().map(str::to_string).ok_or_else(|| {
            FunctionError::retryable(
                "NoReportId",
                "inspector2:CreateSbomExport returned no reportId",
            )
        })
    }

    async fn export_status(&self, report_id: &str) -> Result<ExportStatus, FunctionError> {
        let out = self
            .client
            .get_sbom_export()
            .report_id(report_id)
            .send()
            .await
            .map_err(|e| FunctionError::from_sdk("inspector2:GetSbomExport", &e))?;
        Ok(ExportStatus {
            status: out
                .status()
                .map(|s| s.as_str().to_string())
                .unwrap_or_else(|| "IN_PROGRESS".into()),
            error_code: out.error_code().map(|c| c.as_str().to_string()),
            error_message: out.error_message().map(str::to_string),
        })
    }
}
