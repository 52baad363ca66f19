//! `firewall-rule-executor`: applies a spoke account's desired rules to the
//! central Network Firewall of a Region, one token-consistent
//! read-modify-write per rule group and no write when nothing changes.
//!
//! Pure parts: [`plan`] (reconciliation), [`global_rules`] (the central
//! team's reserved group), [`policy`] (group references and priorities).

pub mod adapters;
pub mod config;
pub mod global_rules;
pub mod handler;
pub mod plan;
pub mod policy;

#[cfg(test)]
mod plan_tests;
