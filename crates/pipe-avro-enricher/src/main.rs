use common::Startup;
use pipe_avro_enricher::{adapters, config::Config, handler::handle_raw};

#[tokio::main]
async fn main() -> Result<(), common::Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.is_empty() {
        std::process::exit(pipe_avro_enricher::cli::main(&args).await);
    }
    let startup = Startup::begin("pipe-avro-enricher");
    let config = startup.config(Config::from_env).await?;
    let aws = common::aws::sdk_config().await;
    let connected = adapters::connect(&config.enricher, &aws).await;
    let enricher = startup
        .init_step(connected, "Runtime.RegistryError")
        .await?;
    let dead_letters = adapters::dead_letter_sink(&config.dead_letters, &aws);
    startup
        .run_raw(|event, invocation| handle_raw(event, invocation, &enricher, &dead_letters))
        .await
}
