//! AWS Glue Schema Registry: `GetSchemaVersion` by the schema version id
//! from the record's header, with the function's own role.

use aws_sdk_glue::operation::get_schema_version::GetSchemaVersionError;
use aws_sdk_glue::types::{DataFormat, SchemaVersionStatus};

use super::{FetchError, FetchedSchema};
use crate::framing::SchemaRef;

pub struct GlueRegistry {
    client: aws_sdk_glue::Client,
}

impl GlueRegistry {
    pub fn new(client: aws_sdk_glue::Client) -> Self {
        GlueRegistry { client }
    }

    pub async fn fetch(&self, schema: &SchemaRef) -> Result<FetchedSchema, FetchError> {
        let SchemaRef::GlueVersion(id) = schema else {
            return Err(FetchError::NotFound(format!(
                "{schema} is not a Glue schema version"
            )));
        };
        let out = self
            .client
            .get_schema_version()
            .schema_version_id(id.to_string())
            .send()
            .await
            .map_err(|e| {
                let message = format!(
                    "{schema}: glue:GetSchemaVersion failed: {}",
                    aws_sdk_glue::error::DisplayErrorContext(&e)
                );
                match e.as_service_error() {
                    Some(GetSchemaVersionError::EntityNotFoundException(_)) => {
                        FetchError::NotFound(message)
                    }
                    Some(GetSchemaVersionError::InvalidInputException(_)) => {
                        FetchError::NotFound(message)
                    }
                    // Missing permissions are the deployment's fault, not the record's.
                    Some(GetSchemaVersionError::AccessDeniedException(_)) => {
                        FetchError::Unavailable(message)
                    }
                    // Throttling, 5xx, transport: the registry's fault, retried by Pipes.
                    _ => FetchError::Unavailable(message),
                }
            })?;
        match out.data_format() {
            Some(DataFormat::Avro) => {}
            other => {
                return Err(FetchError::Invalid(format!(
                    "{schema} has data format {}; only AVRO is supported",
                    other.map(|f| f.as_str()).unwrap_or("unknown")
                )))
            }
        }
        if let Some(status) = out.status() {
            if *status != SchemaVersionStatus::Available {
                return Err(FetchError::NotFound(format!(
                    "{schema} is {}, not AVAILABLE",
                    status.as_str()
                )));
            }
        }
        let definition = out
            .schema_definition()
            .ok_or_else(|| FetchError::Invalid(format!("{schema} has no schema definition")))?;
        Ok(FetchedSchema {
            main: definition.to_string(),
            references: Vec::new(),
        })
    }
}
