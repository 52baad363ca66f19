//! The ports implemented on the AWS SDK clients, and start-up wiring.

use std::collections::HashMap;
use std::sync::Arc;

use aws_config::SdkConfig;
use aws_sdk_sqs::types::{MessageAttributeValue, SendMessageBatchRequestEntry};
use common::backoff::Backoff;
use common::FunctionError;

use crate::avro_json::ReaderSchema;
use crate::config::{ConfluentSource, DeadLetterConfig, EnricherConfig};
use crate::dead_letters::{DeadLetterSink, FailedEntry, MessageQueue, ObjectStore, QueueMessage};
use crate::enrich::{Enricher, Settings};
use crate::registry::confluent::{ConfluentRegistry, RegistrySettings};
use crate::registry::glue::GlueRegistry;
use crate::registry::{Registries, SchemaSource};

/// The dead-letter queue.
pub struct SqsQueue {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl MessageQueue for SqsQueue {
    async fn send_batch(
        &self,
        messages: &[QueueMessage],
    ) -> Result<Vec<FailedEntry>, FunctionError> {
        let mut entries = Vec::with_capacity(messages.len());
        for m in messages {
            let mut entry = SendMessageBatchRequestEntry::builder()
                .id(&m.id)
                .message_body(&m.body)
                .set_message_group_id(m.group_id.clone())
                .set_message_deduplication_id(m.dedup_id.clone());
            for (name, value) in &m.attributes {
                let attribute = MessageAttributeValue::builder()
                    .data_type("String")
                    .string_value(value)
                    .build()
                    .map_err(|e| FunctionError::permanent("DeadLetterBuild", e.to_string()))?;
                entry = entry.message_attributes(name, attribute);
            }
            entries.push(
                entry
                    .build()
                    .map_err(|e| FunctionError::permanent("DeadLetterBuild", e.to_string()))?,
            );
        }
        let out = self
            .client
            .send_message_batch()
            .queue_url(&self.url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| {
                // Whatever the SDK thinks, an unreachable DLQ means "retry the
                // batch later", never "drop the records".
                let mut err = FunctionError::from_sdk("sqs:SendMessageBatch", &e);
                err.class = common::FailureClass::Retryable;
                err
            })?;
        Ok(out
            .failed()
            .iter()
            .map(|f| FailedEntry {
                id: f.id().to_string(),
                code: f.code().to_string(),
                sender_fault: f.sender_fault(),
            })
            .collect())
    }
}

/// The claim-check bucket.
pub struct S3Store {
    client: aws_sdk_s3::Client,
}

impl ObjectStore for S3Store {
    async fn put(&self, bucket: &str, key: &str, body: Vec<u8>) -> Result<(), FunctionError> {
        self.client
            .put_object()
            .bucket(bucket)
            .key(key)
            .content_type("application/json")
            .body(body.into())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                let mut err = FunctionError::from_sdk("s3:PutObject", &e);
                err.class = common::FailureClass::Retryable;
                err
            })
    }
}

/// The dead-letter destination on SQS and S3.
pub fn dead_letter_sink(
    config: &DeadLetterConfig,
    aws: &SdkConfig,
) -> DeadLetterSink<SqsQueue, S3Store> {
    DeadLetterSink {
        queue: SqsQueue {
            client: aws_sdk_sqs::Client::new(aws),
            url: config.queue_url.clone(),
        },
        store: S3Store {
            client: common::aws::s3_client(aws),
        },
        bucket: config.bucket.clone(),
        fifo: config.queue_url.ends_with(".fifo"),
        max_message_bytes: config.max_message_bytes,
        retry: Backoff::default(),
    }
}

/// Reads the registry secret. Its content never reaches a log or an error.
async fn registry_settings(aws: &SdkConfig, name: &str) -> Result<RegistrySettings, String> {
    let client = aws_sdk_secretsmanager::Client::new(aws);
    let out = client
        .get_secret_value()
        .secret_id(name)
        .send()
        .await
        .map_err(|e| {
            format!(
                "reading secret {name:?} (CONFLUENT_SCHEMA_REGISTRY_SECRET_NAME) failed: {}",
                aws_sdk_secretsmanager::error::DisplayErrorContext(&e)
            )
        })?;
    let text = out
        .secret_string()
        .ok_or_else(|| format!("secret {name:?} has no string value"))?;
    RegistrySettings::from_secret(text).map_err(|e| format!("secret {name:?}: {e}"))
}

/// Builds the enricher: registry clients, and the reader schemas resolved
/// once (an init failure names the topic and schema).
pub async fn connect(
    config: &EnricherConfig,
    aws: &SdkConfig,
) -> Result<Enricher<Registries>, String> {
    let confluent = match &config.confluent {
        None => None,
        Some(ConfluentSource::Url(url)) => Some(ConfluentRegistry::new(
            &RegistrySettings {
                url: url.clone(),
                user_info: None,
            },
            config.registry_timeout,
        )?),
        Some(ConfluentSource::Secret(name)) => Some(ConfluentRegistry::new(
            &registry_settings(aws, name).await?,
            config.registry_timeout,
        )?),
    };
    let glue = config
        .glue
        .then(|| GlueRegistry::new(aws_sdk_glue::Client::new(aws)));
    let registries = Registries { confluent, glue };
    let mut readers = HashMap::new();
    for (topic, schema) in &config.reader_schemas {
        let fetched = registries
            .fetch(schema)
            .await
            .map_err(|e| format!("READER_SCHEMAS {topic}: {e}"))?;
        let reader = ReaderSchema::parse_with_references(&fetched.main, &fetched.references)
            .map_err(|e| format!("READER_SCHEMAS {topic} ({schema}): {e}"))?;
        readers.insert(topic.clone(), Arc::new(reader));
    }
    let settings = Settings {
        wire_format: config.wire_format,
        max_output_records: config.max_output_records,
        max_output_bytes: config.max_output_bytes,
        mask: config.mask.clone(),
        reader_schemas: readers,
    };
    Ok(Enricher::new(
        settings,
        registries,
        config.schema_cache_size,
    ))
}
