// The invocation future nests the Flink and CloudWatch call futures deeply;
// the release build's layout computation needs more than the default depth.
#![recursion_limit = "256"]

use common::Startup;
use flink_scaler::{adapters::Kda, config, handler::handle};

#[tokio::main]
async fn main() -> Result<(), common::Error> {
    let startup = Startup::begin("flink-scaler");
    let settings = startup.config(config::from_env).await?;
    let aws = common::aws::sdk_config().await;
    let kda = Kda::new(&aws);
    startup
        .run(|event, invocation| handle(event, invocation, &kda, &settings))
        .await
}
