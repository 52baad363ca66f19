//! The emulated services, one module each.

use std::sync::Arc;

use crate::Service;

pub mod confluent_schema_registry;
pub mod network_firewall;

/// Every built-in service, as [`crate::LocalAws::new`] registers them.
pub fn builtin() -> Vec<Arc<dyn Service>> {
    vec![
        Arc::new(network_firewall::NetworkFirewall::new()),
        Arc::new(confluent_schema_registry::ConfluentSchemaRegistry::new()),
    ]
}
