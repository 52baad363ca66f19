//! [`FlinkApplications`] on the `kinesisanalyticsv2` SDK client.

use aws_sdk_kinesisanalyticsv2::operation::update_application::UpdateApplicationError;
use aws_sdk_kinesisanalyticsv2::types::{
    ApplicationConfigurationUpdate, ConfigurationType, FlinkApplicationConfigurationUpdate,
    ParallelismConfigurationUpdate,
};
use aws_sdk_kinesisanalyticsv2::Client;
use common::FunctionError;

use crate::handler::{FlinkApplications, UpdateError};
use crate::plan::Application;

/// The Managed Service for Apache Flink API.
pub struct Kda {
    client: Client,
}

impl Kda {
    pub fn new(config: &aws_config::SdkConfig) -> Self {
        Kda {
            client: Client::new(config),
        }
    }
}

fn positive(value: Option<i32>, default: u32) -> u32 {
    value
        .and_then(|v| u32::try_from(v).ok())
        .filter(|v| *v > 0)
        .unwrap_or(default)
}

impl FlinkApplications for Kda {
    async fn describe(&self, name: &str) -> Result<Application, FunctionError> {
        let out = self
            .client
            .describe_application()
            .application_name(name)
            .send()
            .await
            .map_err(|e| FunctionError::from_sdk("kinesisanalyticsv2:DescribeApplication", &e))?;
        let detail = out.application_detail().ok_or_else(|| {
            FunctionError::retryable(
                "IncompleteResponse",
                "DescribeApplication returned no ApplicationDetail",
            )
        })?;
        let parallelism = detail
            .application_configuration_description()
            .and_then(|c| c.flink_application_configuration_description())
            .and_then(|f| f.parallelism_configuration_description());
        // Absent members take the service defaults (Parallelism 1, PPK 1).
        let configured = positive(parallelism.and_then(|p| p.parallelism()), 1);
        Ok(Application {
            status: detail.application_status().as_str().to_string(),
            version_id: detail.application_version_id(),
            conditional_token: detail.conditional_token().map(str::to_string),
            parallelism: configured,
            parallelism_per_kpu: positive(parallelism.and_then(|p| p.parallelism_per_kpu()), 1),
            current_parallelism: positive(
                parallelism.and_then(|p| p.current_parallelism()),
                configured,
            ),
            autoscaling_enabled: parallelism
                .and_then(|p| p.auto_scaling_enabled())
                .unwrap_or(false),
        })
    }

    async fn set_parallelism(
        &self,
        name: &str,
        app: &Application,
        parallelism: u32,
    ) -> Result<(), UpdateError> {
        let to_i32 = |v: u32| i32::try_from(v).unwrap_or(i32::MAX);
        let update = ParallelismConfigurationUpdate::builder()
            .configuration_type_update(ConfigurationType::Custom)
            .parallelism_update(to_i32(parallelism))
            .parallelism_per_kpu_update(to_i32(app.parallelism_per_kpu))
            .auto_scaling_enabled_update(false)
            .build();
        let request = self
            .client
            .update_application()
            .application_name(name)
            .application_configuration_update(
                ApplicationConfigurationUpdate::builder()
                    .flink_application_configuration_update(
                        FlinkApplicationConfigurationUpdate::builder()
                            .parallelism_configuration_update(update)
                            .build(),
                    )
                    .build(),
            );
        // The token is the documented stronger guard; the version id is the fallback.
        let request = match &app.conditional_token {
            Some(token) => request.conditional_token(token),
            None => request.current_application_version_id(app.version_id),
        };
        match request.send().await {
            Ok(_) => Ok(()),
            Err(e) => {
                let error = FunctionError::from_sdk("kinesisanalyticsv2:UpdateApplication", &e);
                Err(match e.as_service_error() {
                    Some(UpdateApplicationError::ConcurrentModificationException(_)) => {
                        UpdateError::Conflict(error)
                    }
                    Some(UpdateApplicationError::ResourceInUseException(_)) => {
                        UpdateError::InUse(error)
                    }
                    _ => UpdateError::Failed(error),
                })
            }
        }
    }
}
