// The invocation future nests the Inspector call futures deeply; the release
// build's layout computation needs more than the default depth.
#![recursion_limit = "256"]

use common::Startup;
use sbom_export_trigger::{adapters::InspectorClient, config::Config, handler::handle};

#[tokio::main]
async fn main() -> Result<(), common::Error> {
    let startup = Startup::begin("sbom-export-trigger");
    let config = startup.config(Config::from_env).await?;
    let aws = common::aws::sdk_config().await;
    let inspector = InspectorClient::new(&aws);
    startup
        .run(|event, invocation| handle(event, invocation, &config, &inspector))
        .await
}
