//! The local cloud: a moto server process for the services moto covers and an
//! in-process `local-aws` for the rest, each on a free loopback port, both
//! stopped when dropped (also when a test panics).

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use local_aws::RunningLocalAws;
use tokio::io::AsyncReadExt;
use tokio::process::{Child, Command};

/// The account moto acts as by default (do not set MOTO_ACCOUNT_ID: it
/// overrides the account of assumed-role credentials, breaking cross-account tests).
pub const ACCOUNT_ID: &str = "123456789012";
/// The Region the local cloud and the functions use.
pub const REGION: &str = "us-east-1";

/// Services served by moto, by their `AWS_ENDPOINT_URL_<SERVICE>` suffix.
pub const MOTO_SERVICES: &[&str] = &[
    "S3",
    "SQS",
    "STS",
    "IAM",
    "EC2",
    "GLUE",
    "SECRETS_MANAGER",
    "EVENTBRIDGE",
    "CLOUDWATCH_LOGS",
    "CLOUDWATCH",
];

/// Services served by local-aws.
pub const LOCAL_AWS_SERVICES: &[&str] = &[
    "NETWORK_FIREWALL",
    "KINESIS_ANALYTICS_V2",
    "INSPECTOR2",
    "MWAA",
];

/// Why the local cloud could not start.
#[derive(Debug, thiserror::Error)]
pub enum CloudError {
    #[error("moto_server not found at {0} (run `make venv`, or set MOTO_SERVER)")]
    MotoMissing(PathBuf),
    #[error("moto_server did not start: {0}")]
    MotoFailed(String),
    #[error("local-aws did not start: {0}")]
    LocalAws(std::io::Error),
}

/// A moto server child process.
pub struct Moto {
    child: Child,
    pub url: String,
}

fn moto_server_path() -> PathBuf {
    if let Some(p) = std::env::var_os("MOTO_SERVER") {
        return PathBuf::from(p);
    }
    crate::workspace::root().join(".venv/bin/moto_server")
}

fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

impl Moto {
    /// Starts moto server on a free port and waits until it answers.
    pub async fn start() -> Result<Moto, CloudError> {
        let program = moto_server_path();
        if !program.is_file() {
            return Err(CloudError::MotoMissing(program));
        }
        // The port is free when chosen but another process could take it
        // before moto binds it; a second try with a new port covers that.
        let mut last_error = String::new();
        for _ in 0..3 {
            let port = free_port().map_err(|e| CloudError::MotoFailed(e.to_string()))?;
            let mut child = Command::new(&program)
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .kill_on_drop(true)
                .spawn()
                .map_err(|e| CloudError::MotoFailed(format!("{}: {e}", program.display())))?;
            let url = format!("http://127.0.0.1:{port}");
            match wait_until_up(&url, &mut child).await {
                Ok(()) => return Ok(Moto { child, url }),
                Err(e) => last_error = e,
            }
        }
        Err(CloudError::MotoFailed(last_error))
    }

    /// Clears all of moto's state.
    pub async fn reset(&self) {
        let _ = reqwest::Client::new()
            .post(format!("{}/moto-api/reset", self.url))
            .send()
            .await;
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

/// Polls moto's dashboard API until it answers, the process dies, or 60 s pass.
async fn wait_until_up(url: &str, child: &mut Child) -> Result<(), String> {
    let http = reqwest::Client::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            let mut stderr = String::new();
            if let Some(mut err) = child.stderr.take() {
                let _ = err.read_to_string(&mut stderr).await;
            }
            return Err(format!("exited with {status}: {}", stderr.trim()));
        }
        if let Ok(r) = http.get(format!("{url}/moto-api/data.json")).send().await {
            if r.status().is_success() {
                return Ok(());
            }
        }
        if tokio::time::Instant::now() > deadline {
            return Err(format!("no answer from {url} within 60 s"));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Both servers.
pub struct LocalCloud {
    pub moto: Moto,
    pub local_aws: RunningLocalAws,
}

impl LocalCloud {
    pub async fn start() -> Result<LocalCloud, CloudError> {
        let local_aws = local_aws::spawn("127.0.0.1:0")
            .await
            .map_err(CloudError::LocalAws)?;
        let moto = Moto::start().await?;
        // Inspector2's emulated SBOM export writes its files into moto's S3.
        reqwest::Client::new()
            .post(format!(
                "{}/_local-aws/inspector2/s3-endpoint",
                local_aws.url
            ))
            .json(&serde_json::json!({ "url": moto.url }))
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| CloudError::LocalAws(std::io::Error::other(e)))?;
        Ok(LocalCloud { moto, local_aws })
    }

    /// The `AWS_ENDPOINT_URL_<SERVICE>` variables that point a function at
    /// this cloud, plus dummy credentials and the Region.
    pub fn function_env(&self) -> Vec<(String, String)> {
        let mut env: Vec<(String, String)> = MOTO_SERVICES
            .iter()
            .map(|s| (format!("AWS_ENDPOINT_URL_{s}"), self.moto.url.clone()))
            .chain(
                LOCAL_AWS_SERVICES
                    .iter()
                    .map(|s| (format!("AWS_ENDPOINT_URL_{s}"), self.local_aws.url.clone())),
            )
            .collect();
        env.push(("AWS_REGION".into(), REGION.into()));
        env
    }

    /// SDK configuration for test-side clients talking to moto.
    pub async fn moto_config(&self) -> SdkConfig {
        sdk_config_for(&self.moto.url).await
    }

    /// An S3 client on moto (path-style, as the functions use it).
    pub async fn s3(&self) -> aws_sdk_s3::Client {
        let config = self.moto_config().await;
        aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&config)
                .force_path_style(true)
                .build(),
        )
    }
}

/// SDK configuration with dummy credentials for an emulator at `url`.
pub async fn sdk_config_for(url: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(url)
        .region(Region::new(REGION))
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            "testing",
            "testing",
            None,
            None,
            "local-cloud",
        ))
        .load()
        .await
}

/// The project venv's Python (next to `moto_server`), for the tests that
/// cross-check against independent Python implementations.
pub fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("PYTHON_FOR_TESTS") {
        return PathBuf::from(p);
    }
    let python = moto_server_path().with_file_name("python");
    assert!(
        python.is_file(),
        "{} is missing: run `make venv`",
        python.display()
    );
    python
}

impl LocalCloud {
    /// Creates a standard SQS queue on moto; returns its URL.
    pub async fn create_queue(&self, name: &str) -> String {
        aws_sdk_sqs::Client::new(&self.moto_config().await)
            .create_queue()
            .queue_name(name)
            .send()
            .await
            .expect("create queue")
            .queue_url()
            .expect("queue url")
            .to_string()
    }

    /// Every message waiting in a queue (bodies and attributes), deleting them.
    pub async fn drain_queue(&self, url: &str) -> Vec<aws_sdk_sqs::types::Message> {
        let sqs = aws_sdk_sqs::Client::new(&self.moto_config().await);
        let mut out = Vec::new();
        loop {
            let got = sqs
                .receive_message()
                .queue_url(url)
                .max_number_of_messages(10)
                .message_attribute_names("All")
                .send()
                .await
                .expect("receive");
            let messages = got.messages().to_vec();
            if messages.is_empty() {
                return out;
            }
            for m in &messages {
                sqs.delete_message()
                    .queue_url(url)
                    .receipt_handle(m.receipt_handle().unwrap_or_default())
                    .send()
                    .await
                    .expect("delete");
            }
            out.extend(messages);
        }
    }
}
