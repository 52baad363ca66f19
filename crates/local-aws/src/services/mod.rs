//! The emulated services, one module each.

use std::sync::Arc;

use crate::Service;

pub mod confluent_schema_registry;
pub mod network_firewall;

pub mod kinesis_analytics_v2;
pub mod mwaa;

pub mod inspector2;

pub mod confluent_kafka_rest;

/// Every built-in service, as [`crate::LocalAws::new`] registers them.
pub fn builtin() -> Vec<Arc<dyn Service>> {
    vec![
        Arc::new(network_firewall::NetworkFirewall::new()),
        Arc::new(confluent_schema_registry::ConfluentSchemaRegistry::new()),
        Arc::new(kinesis_analytics_v2::KinesisAnalyticsV2::new()),
        Arc::new(mwaa::Mwaa::new()),
        Arc::new(inspector2::Inspector2::new()),
        Arc::new(confluent_kafka_rest::ConfluentKafkaRest::new()),
    ]
}
