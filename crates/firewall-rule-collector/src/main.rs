// The handler future nests the S3, EC2, Logs and SQS call futures deeply.
#![recursion_limit = "256"]

use common::Startup;
use firewall_rule_collector::{adapters::Aws, config::Config, handler};

#[tokio::main]
async fn main() -> Result<(), common::Error> {
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_none() {
        let args: Vec<String> = std::env::args().skip(1).collect();
        std::process::exit(firewall_rule_collector::cli::main(&args));
    }
    let startup = Startup::begin("firewall-rule-collector");
    let config = startup.config(Config::from_env).await?;
    let function = std::env::var("AWS_LAMBDA_FUNCTION_NAME")
        .unwrap_or_else(|_| "firewall-rule-collector".into());
    let ports = handler::Ports::from_one(Aws::new(
        common::aws::sdk_config().await,
        &config,
        &function,
    ));
    startup
        .run(|event, invocation| handler::handle(event, invocation, &config, &ports))
        .await
}
