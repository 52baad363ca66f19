// The batch future nests the Network Firewall call futures deeply.
#![recursion_limit = "256"]

use common::Startup;
use firewall_rule_executor::{adapters::Aws, config::Config, handler, index_store::S3Index};

#[tokio::main]
async fn main() -> Result<(), common::Error> {
    let startup = Startup::begin("firewall-rule-executor");
    let config = startup.config(Config::from_env).await?;
    let function = std::env::var("AWS_LAMBDA_FUNCTION_NAME")
        .unwrap_or_else(|_| "firewall-rule-executor".into());
    let sdk = common::aws::sdk_config().await;
    let index = S3Index::new(common::aws::s3_client(&sdk), config.index_bucket.clone());
    let aws = Aws::new(sdk, &config, &function);
    let cx = handler::Context::new(config);
    let ports = || handler::Ports {
        firewall: &aws,
        index: &index,
        store: &aws,
        log: &aws,
    };
    startup
        .run(|event, inv| handler::handle(event, inv, &cx, ports()))
        .await
}
