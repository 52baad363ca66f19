//! `mwaa-endpoint-creator`: creates the VPC endpoints an Amazon MWAA
//! environment with customer-managed endpoints waits for in `PENDING`, adds
//! its Celery queue to the SQS endpoint policy, and undoes both when the
//! environment is deleted; idempotent under redelivery, with a scheduled
//! reconcile for lost events.
//!
//! Pure parts: [`validate`], [`environment`] (event and API shapes, the
//! validated environment, client tokens), [`policy`] (endpoint policy
//! edits). Ports: [`ports::Network`] (EC2), [`ports::Environments`] (MWAA),
//! implemented in [`adapters`].

pub mod adapters;
pub mod config;
pub mod environment;
pub mod handler;
pub mod policy;
pub mod ports;
pub mod validate;
