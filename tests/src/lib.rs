//! The local cloud and the runtime harness that the end-to-end tests, the
//! demo and the cold-start benchmark share: shipped function binaries run
//! through a local Lambda Runtime API against moto server and `local-aws` on
//! loopback, reached only through `AWS_ENDPOINT_URL_<SERVICE>`.

pub mod audit_forwarder_fixtures;
pub mod control_plane_fixtures;
pub mod demo;
pub mod enricher_fixtures;
pub mod firewall_fixture;
pub mod input_transformer;
pub mod local_cloud;
pub mod runtime_api;
pub mod template_rules;
pub mod workspace;
