//! `make local-cloud`: moto and local-aws in the foreground for interactive
//! use, with the exports that point a function or the AWS CLI at them.

use e2e_tests::local_cloud::LocalCloud;

#[tokio::main]
async fn main() {
    let cloud = match LocalCloud::start().await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("local cloud: {e}");
            std::process::exit(1);
        }
    };
    println!(
        "# moto server at {}, local-aws at {}",
        cloud.moto.url, cloud.local_aws.url
    );
    println!("# paste into another shell (Ctrl-C here stops both):");
    println!("export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing");
    for (k, v) in cloud.function_env() {
        println!("export {k}={v}");
    }
    let _ = tokio::signal::ctrl_c().await;
    println!("# stopping");
}
