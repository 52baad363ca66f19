//! Where writer schemas come from: the Confluent Schema Registry (REST) and
//! the AWS Glue Schema Registry (`GetSchemaVersion`), behind one port.

pub mod confluent;
pub mod glue;

use std::future::Future;

use crate::framing::SchemaRef;

/// A schema's text and the texts of the named schemas it references, in an
/// order where every schema comes after the ones it uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedSchema {
    pub main: String,
    pub references: Vec<String>,
}

/// Why a schema could not be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// The registry says it does not exist: the record's fault.
    #[error("{0}")]
    NotFound(String),
    /// It exists but is not an Avro schema we can use: the record's fault.
    #[error("{0}")]
    Invalid(String),
    /// The registry could not answer (5xx, timeout, throttling, credentials):
    /// not the record's fault; the invocation fails so Pipes retries.
    #[error("{0}")]
    Unavailable(String),
}

/// Port: fetch a writer schema by its registry reference.
pub trait SchemaSource: Send + Sync {
    fn fetch(
        &self,
        schema: &SchemaRef,
    ) -> impl Future<Output = Result<FetchedSchema, FetchError>> + Send;
}

/// The configured registries; a record that names a registry that is not
/// configured fails with `schema_not_found` and says which setting is missing.
pub struct Registries {
    pub confluent: Option<confluent::ConfluentRegistry>,
    pub glue: Option<glue::GlueRegistry>,
}

impl SchemaSource for Registries {
    async fn fetch(&self, schema: &SchemaRef) -> Result<FetchedSchema, FetchError> {
        match schema {
            SchemaRef::ConfluentId(_) | SchemaRef::ConfluentGuid(_) => match &self.confluent {
                Some(c) => c.fetch(schema).await,
                None => Err(FetchError::NotFound(format!(
                    "{schema}: no Confluent Schema Registry is configured \
                     (set CONFLUENT_SCHEMA_REGISTRY_SECRET_NAME or CONFLUENT_SCHEMA_REGISTRY_URL)"
                ))),
            },
            SchemaRef::GlueVersion(_) => match &self.glue {
                Some(g) => g.fetch(schema).await,
                None => Err(FetchError::NotFound(format!(
                    "{schema}: the Glue Schema Registry is not enabled"
                ))),
            },
        }
    }
}
