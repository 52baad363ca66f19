//! `flink-scaler`: scales a Managed Service for Apache Flink application's
//! KPUs, from CloudWatch alarms (through the Step Functions state machine in
//! the template) and from EventBridge Scheduler schedules carrying a target.
//!
//! Pure parts: [`capacity`] (KPU arithmetic, steps, limits), [`request`]
//! (the two event shapes, alarm direction), [`plan`] (the decision). Port:
//! [`handler::FlinkApplications`], implemented in [`adapters`].

pub mod adapters;
pub mod capacity;
pub mod config;
pub mod handler;
pub mod plan;
pub mod request;
