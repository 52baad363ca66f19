//! `sbom-transformer`: turns the SBOMs Amazon Inspector exports to S3 (SPDX
//! 2.3, CycloneDX 1.4/1.5) into two snappy Parquet tables for Athena, `sbom`
//! (one row per package per image) and `cve` (one row per package, version
//! and vulnerability).
//!
//! Pure parts: [`document`] (lenient borrowed serde structs), [`spdx_reader`]
//! (the direct SPDX reader serde_json backs), [`sbom`]
//! (normalised packages and findings), [`purl`], [`export_key`] (image
//! identity from Inspector's key layout), [`rows`] (duplicates removed),
//! [`tables`] (Arrow/Parquet), [`constant_column`] (image-level columns),
//! [`plain_column`] (nearly unique text columns), [`dictionary_column`]
//! (repeating text columns), [`column_chunk`] (what those three share),
//! [`transform`] (the pipeline), [`event`]. Port: [`handler::ObjectStore`],
//! implemented in [`adapters`]. [`cli`]: offline `convert`. [`heap`]: allocator settings for
//! back-to-back conversions.

pub mod adapters;
pub mod cli;
pub mod column_chunk;
pub mod config;
pub mod constant_column;
pub mod dictionary_column;
pub mod document;
pub mod event;
pub mod export_key;
pub mod handler;
pub mod heap;
pub mod plain_column;
mod prefetch;
pub mod purl;
pub mod rows;
pub mod sbom;
pub mod spdx_reader;
mod string_run;
pub mod tables;
pub mod transform;
