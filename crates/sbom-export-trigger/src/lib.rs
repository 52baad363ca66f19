//! `sbom-export-trigger`: asks Amazon Inspector to export the SBOM of
//! exactly one ECR image (by digest) once Inspector has scanned it.
//!
//! Pure parts: [`event`] (the two trigger events), [`coverage`] (scanned
//! yet?), [`config`]. Port: [`handler::Inspector`], implemented in
//! [`adapters`].

pub mod adapters;
pub mod config;
pub mod coverage;
pub mod event;
pub mod handler;
