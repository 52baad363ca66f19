//! `audit-forwarder`: audit events (CloudTrail via an EventBridge rule and an
//! SQS queue) to a Kafka topic on a Confluent cluster, public or private,
//! through the Confluent REST v3 produce API: the records of one SQS batch in
//! one streamed request, as JSON or as Schema-Registry-framed Avro, with
//! per-record results reported back to SQS (`ReportBatchItemFailures`).
//!
//! Pure parts: [`event`] (the SQS body), [`produce`] (the API's request and
//! response formats, retry classification), [`avro`] (the value schema and
//! Confluent framing), [`delivery`] (one batch: request, per-record retries).
//! Ports: [`delivery::KafkaRest`], [`forward::SchemaRegistry`], implemented in
//! [`adapters`].

pub mod adapters;
pub mod avro;
pub mod config;
pub mod delivery;
pub mod event;
pub mod forward;
pub mod handler;
pub mod produce;
