use audit_forwarder::{adapters, config::Config, handler::handle};
use common::Startup;

#[tokio::main]
async fn main() -> Result<(), common::Error> {
    let startup = Startup::begin("audit-forwarder");
    let config = startup.config(Config::from_env).await?;
    let aws = common::aws::sdk_config().await;
    let connected = adapters::forwarder(config, &aws).await;
    let forwarder = startup.init_step(connected, "Runtime.SecretError").await?;
    startup
        .run(|event, invocation| handle(event, invocation, &forwarder))
        .await
}
