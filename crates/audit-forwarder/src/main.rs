use audit_forwarder::{adapters, config::Config, forward::Forwarder, handler::handle};
use common::Startup;

#[tokio::main]
async fn main() -> Result<(), common::Error> {
    let startup = Startup::begin("audit-forwarder");
    let config = startup.config(Config::from_env).await?;
    let aws = common::aws::sdk_config().await;
    let rest = startup
        .init_step(
            adapters::kafka_rest(&config, &aws).await,
            "Runtime.SecretError",
        )
        .await?;
    let registry = adapters::registry(&config, &aws).await;
    let registry = startup.init_step(registry, "Runtime.SecretError").await?;
    let forwarder = Forwarder::new(rest, registry, config.format, config.key, config.backoff);
    startup
        .run(|event, invocation| handle(event, invocation, &forwarder))
        .await
}
