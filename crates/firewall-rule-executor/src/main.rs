// The batch future nests the Network Firewall call futures deeply.
#![recursion_limit = "256"]

use common::Startup;
use firewall_rule_executor::{adapters::Aws, config::Config, handler};

#[tokio::main]
async fn main() -> Result<(), common::Error> {
    let startup = Startup::begin("firewall-rule-executor");
    let config = startup.config(Config::from_env).await?;
    let function = std::env::var("AWS_LAMBDA_FUNCTION_NAME")
        .unwrap_or_else(|_| "firewall-rule-executor".into());
    let aws = Aws::new(common::aws::sdk_config().await, &config, &function);
    let cx = handler::Context::new(config);
    startup
        .run(|event, invocation| handler::handle(event, invocation, &cx, &aws, &aws, &aws))
        .await
}
