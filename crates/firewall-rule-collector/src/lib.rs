//! `firewall-rule-collector`: turns a spoke account's `<region>-config.yaml`
//! allow-list (anfw-automate schema) into validated Suricata rules and
//! publishes the account's complete desired state for that Region.
//!
//! Pure parts: [`spoke_config`] (the file), [`domain_name`] (domain entries,
//! public suffixes), [`custom_rule`] (the CUSTOM grammar), [`rules`] (rule
//! text, names, sids), [`validate`] (all checks and the transformation).

pub mod adapters;
pub mod cli;
pub mod config;
pub mod custom_rule;
pub mod domain_name;
pub mod file_name;
pub mod handler;
pub mod rules;
pub mod spoke_config;
pub mod trigger;
pub mod validate;
