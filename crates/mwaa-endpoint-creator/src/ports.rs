//! The narrow ports the handler works through, implemented in [`crate::adapters`].

use std::future::Future;

use common::FunctionError;

use crate::environment::Reported;

/// A VPC endpoint as DescribeVpcEndpoints reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub id: String,
    pub vpc_id: String,
    pub service_name: String,
    /// Lower-cased (`available`, `pending`, `deleted`, ...).
    pub state: String,
    /// `interface`, `gateway`, ... lower-cased.
    pub endpoint_type: String,
    pub subnet_ids: Vec<String>,
    pub policy: Option<String>,
}

impl Endpoint {
    /// Whether the endpoint exists or is coming into existence (not deleted,
    /// being deleted, failed or rejected).
    pub fn is_live(&self) -> bool {
        !matches!(
            self.state.as_str(),
            "deleted" | "deleting" | "failed" | "rejected" | "expired"
        )
    }
}

/// Which endpoints to list; every `Some` narrows the search.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EndpointQuery {
    pub vpc_id: Option<String>,
    pub service_name: Option<String>,
    /// `(key, value)` of a tag the endpoints must carry.
    pub tag: Option<(String, String)>,
}

/// An interface endpoint to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEndpoint {
    pub vpc_id: String,
    pub service_name: String,
    pub subnet_ids: Vec<String>,
    pub security_group_ids: Vec<String>,
    pub client_token: String,
    pub tags: Vec<(String, String)>,
}

/// The EC2 calls the function makes (in the VPC owner's account).
pub trait Network {
    /// The VPC of the subnets; an error if they are unknown or in several VPCs.
    fn vpc_of_subnets(
        &self,
        subnet_ids: &[String],
    ) -> impl Future<Output = Result<String, FunctionError>> + Send;
    /// Every endpoint matching `query`, all pages.
    fn endpoints(
        &self,
        query: &EndpointQuery,
    ) -> impl Future<Output = Result<Vec<Endpoint>, FunctionError>> + Send;
    /// Creates an interface endpoint; returns its id.
    fn create_endpoint(
        &self,
        endpoint: &NewEndpoint,
    ) -> impl Future<Output = Result<String, FunctionError>> + Send;
    /// Replaces an endpoint's policy document.
    fn set_policy(
        &self,
        endpoint_id: &str,
        policy: &str,
    ) -> impl Future<Output = Result<(), FunctionError>> + Send;
    /// Deletes endpoints.
    fn delete_endpoints(
        &self,
        endpoint_ids: &[String],
    ) -> impl Future<Output = Result<(), FunctionError>> + Send;
}

/// The MWAA calls of the reconcile.
pub trait Environments {
    /// Names of every environment in the account and Region.
    fn names(&self) -> impl Future<Output = Result<Vec<String>, FunctionError>> + Send;
    /// One environment, `None` when it no longer exists.
    fn get(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Option<Reported>, FunctionError>> + Send;
}
