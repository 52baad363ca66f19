// The handler future (EC2 and MWAA SDK calls nested in the reconcile) is
// deeper than rustc's default layout query limit.
#![recursion_limit = "256"]

use common::Startup;
use mwaa_endpoint_creator::{adapters, config::Config, handler::handle};

#[tokio::main]
async fn main() -> Result<(), common::Error> {
    let startup = Startup::begin("mwaa-endpoint-creator");
    let config = startup.config(Config::from_env).await?;
    let aws = common::aws::sdk_config().await;
    let (network, environments) = startup
        .init_step(
            adapters::connect(&config, &aws).await,
            "Runtime.AssumeRoleError",
        )
        .await?;
    let settings = &config.settings;
    startup
        .run(|event, invocation| handle(event, invocation, &network, &environments, settings))
        .await
}
