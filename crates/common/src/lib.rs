//! What two or more of the project's Lambda functions share.
//!
//! A function's `main` reads its [`config`], builds its clients with [`aws`],
//! and hands its handler to [`runtime::Startup::run`], which gives it
//! Powertools-compatible JSON logs ([`logging`]), one EMF flush per invocation
//! ([`metrics`]) and typed, path-naming event errors. Handlers report failures
//! as [`failure::FunctionError`], whose class decides between "AWS retries
//! this" and "dead-letter it with the reason".
//!
//! Only code used by at least two functions belongs here; anything else lives
//! in that function's crate.

pub mod aws;
pub mod backoff;
pub mod batch;
pub mod cloudwatch_logs;
pub mod config;
pub mod events;
pub mod failure;
pub mod logging;
pub mod metrics;
pub mod runtime;
pub mod s3_key;
pub mod yaml;

pub mod firewall_state;

pub mod event_pattern;

pub use failure::{FailureClass, FunctionError};
pub use runtime::{Invocation, Startup};

/// The error type a function's `main` returns.
pub type Error = lambda_runtime::Error;
