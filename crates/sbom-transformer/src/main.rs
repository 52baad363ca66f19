// The handler future nests the S3 client futures deeply enough to exceed
// the default query depth when its layout is computed.
#![recursion_limit = "256"]

use common::Startup;
use sbom_transformer::{adapters::S3Store, config::Config, handler::handle};

#[tokio::main]
async fn main() -> Result<(), common::Error> {
    // Not a failure when it does not apply (a non-glibc build): only slower.
    let _ = sbom_transformer::heap::keep_freed_memory();
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_none() {
        let args: Vec<String> = std::env::args().skip(1).collect();
        std::process::exit(sbom_transformer::cli::main(&args));
    }
    let startup = Startup::begin("sbom-transformer");
    let config = startup.config(Config::from_env).await?;
    let aws = common::aws::sdk_config().await;
    let store = S3Store::new(common::aws::s3_client(&aws));
    startup
        .run(|event, invocation| handle(event, invocation, &config, &store))
        .await
}
