//! `firewall-rule-executor`: applies a spoke account's desired rules to the
//! central Network Firewall of a Region, one token-consistent
//! read-modify-write per rule group and no write when nothing changes.
//!
//! Pure parts: [`plan`] (reconciliation), [`ownership`] (which groups hold
//! an account's rules), [`global_rules`] (the central team's reserved
//! group), [`policy`] (group references and priorities); [`reconcile`]
//! drives them over the ports.

pub mod adapters;
pub mod config;
pub mod global_rules;
pub mod handler;
pub mod index_store;
pub mod ownership;
pub mod plan;
pub mod policy;
pub mod reconcile;

#[cfg(test)]
mod plan_tests;
#[cfg(test)]
mod reconcile_tests;
