use common::Startup;

#[tokio::main]
async fn main() -> Result<(), common::Error> {
    let startup = Startup::begin("hello");
    let config = startup.config(hello::Config::from_env).await?;
    let s3 = common::aws::s3_client(&common::aws::sdk_config().await);
    startup
        .run(|event, invocation| hello::handle(event, invocation, &config, &s3))
        .await
}
