//! `pipe-avro-enricher`: EventBridge Pipes enrichment that turns
//! Schema-Registry-framed Avro Kafka records (Confluent or AWS Glue) into
//! JSON; records that cannot be decoded go to a dead-letter queue with the
//! reason.
//!
//! Pure parts: [`record`] (the Pipes input), [`framing`] (wire formats),
//! [`avro_json`] (the JSON contract), [`mask`], [`enrich`] (per-record logic
//! and output limits). Ports: [`registry::SchemaSource`],
//! [`dead_letters::MessageQueue`], [`dead_letters::ObjectStore`], implemented
//! in [`adapters`].

pub mod adapters;
pub mod avro_json;
pub mod cli;
pub mod config;
pub mod dead_letters;
pub mod enrich;
pub mod framing;
pub mod handler;
pub mod mask;
mod output;
pub mod raw;
pub mod record;
pub mod registry;
pub mod schema_cache;
