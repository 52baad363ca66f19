//! The emulated services, one module each.

use std::sync::Arc;

use crate::Service;

pub mod confluent_schema_registry;
pub mod network_firewall;

// ~~ firewall (issue 4) modules ~~

// ~~ control-plane (issue 5) modules ~~
pub mod kinesis_analytics_v2;
pub mod mwaa;

// ~~ sbom (issue 7) modules ~~
pub mod inspector2;

// ~~ audit (issue 6) modules ~~

// ~~ audit-forwarder (issue 6) modules ~~
pub mod confluent_kafka_rest;

/// Every built-in service, as [`crate::LocalAws::new`] registers them.
pub fn builtin() -> Vec<Arc<dyn Service>> {
    vec![
        Arc::new(network_firewall::NetworkFirewall::new()),
        Arc::new(confluent_schema_registry::ConfluentSchemaRegistry::new()),
        // ~~ firewall (issue 4) services ~~

        // ~~ control-plane (issue 5) services ~~
        Arc::new(kinesis_analytics_v2::KinesisAnalyticsV2::new()),
        Arc::new(mwaa::Mwaa::new()),
        // ~~ sbom (issue 7) services ~~
        Arc::new(inspector2::Inspector2::new()),
        // ~~ audit (issue 6) services ~~

        // ~~ audit-forwarder (issue 6) services ~~
        Arc::new(confluent_kafka_rest::ConfluentKafkaRest::new()),
    ]
}
