//! The process side: a function binary launched with the environment Lambda gives it.

use super::{
    output::{json_object, Output},
    HarnessError, Invocation, InvocationOutcome, InvocationReport, RuntimeApi, DEFAULT_REGION,
};
use std::{
    collections::BTreeMap,
    path::Path,
    process::{ExitStatus, Stdio},
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};
use tokio::{
    process::{Child, Command},
    sync::{watch, Notify},
    task::JoinHandle,
};
use uuid::Uuid;

/// How many trailing output lines an exit error carries.
const LAST_OUTPUT_LINES: usize = 20;
/// How long to keep reading a dead process's pipes; a grandchild may hold them open forever.
const OUTPUT_DRAIN_GRACE: Duration = Duration::from_secs(2);
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

type ExitResult = Result<ExitStatus, String>;

/// A function binary running as a child process against its own [`RuntimeApi`].
/// The child is killed when this is dropped, including while a failing test unwinds.
pub struct FunctionProcess {
    api: RuntimeApi,
    pid: Option<u32>,
    spawned_at: Instant,
    output: Arc<Output>,
    exit: watch::Receiver<Option<ExitResult>>,
    kill: Arc<Notify>,
    killed_by_harness: AtomicBool,
}

impl FunctionProcess {
    /// Launch `binary` with the environment a real Lambda gives a `provided.al2023` function
    /// (the host environment is cleared first so nothing leaks in; dummy credentials; region;
    /// JSON log format), plus `extra_env`, which may override any of it.
    ///
    /// The binary's directory plays `/var/task`: it is the working directory and
    /// `LAMBDA_TASK_ROOT`, so files shipped next to the bootstrap are found the same way.
    pub async fn spawn(
        binary: &Path,
        function_name: &str,
        extra_env: &[(String, String)],
    ) -> Result<Self, HarnessError> {
        let spawn_error = |source| HarnessError::Spawn {
            binary: binary.to_owned(),
            source,
        };
        // Absolute, because a relative program path combined with current_dir is ambiguous.
        let binary = std::fs::canonicalize(binary).map_err(spawn_error)?;
        let task_root = binary.parent().unwrap_or(Path::new("/"));
        let api = RuntimeApi::start(function_name).await?;
        let env = lambda_environment(&api, task_root, function_name, extra_env);
        if let Some(region) = env.get("AWS_REGION") {
            api.set_region(region);
        }
        let mut command = Command::new(&binary);
        command
            .env_clear()
            .envs(&env)
            .current_dir(task_root)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut attempt = 0;
        let (spawned_at, mut child) = loop {
            let spawned_at = Instant::now();
            match command.spawn() {
                // A script written by a test can be briefly held open for writing by a sibling
                // test's fork; the kernel then refuses to exec it until that child execs.
                Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy && attempt < 10 => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(10 * attempt)).await;
                }
                result => break (spawned_at, result.map_err(spawn_error)?),
            }
        };
        let pid = child.id();
        let output = Output::new();
        let mut readers = Vec::new();
        if let Some(stdout) = child.stdout.take() {
            readers.push(output.capture(stdout));
        }
        if let Some(stderr) = child.stderr.take() {
            readers.push(output.capture(stderr));
        }
        let (exit_tx, exit) = watch::channel(None);
        let kill = Arc::new(Notify::new());
        tokio::spawn(monitor(child, readers, kill.clone(), exit_tx));
        Ok(Self {
            api,
            pid,
            spawned_at,
            output,
            exit,
            kill,
            killed_by_harness: AtomicBool::new(false),
        })
    }

    /// Sets the function timeout (the invocation deadline); the default is 30 s.
    pub fn with_timeout(self, timeout: Duration) -> Self {
        self.api.set_timeout(timeout);
        self
    }

    /// The Runtime API this process talks to.
    pub fn api(&self) -> &RuntimeApi {
        &self.api
    }

    /// The child's process id (for `/proc` probes of your own).
    pub fn pid(&self) -> Option<u32> {
        self.pid
    }

    /// Waits until the function's first `GET /next` and returns the init duration measured from
    /// exec. Fails with [`HarnessError::InitFailed`] if it posts `/init/error`, or
    /// [`HarnessError::Exited`] (status and last output lines) if it exits first.
    pub async fn wait_ready(&self, timeout: Duration) -> Result<Duration, HarnessError> {
        let wait = async {
            tokio::select! {
                biased;
                init = self.api.init_finished() => {
                    init.map(|at| at.saturating_duration_since(self.spawned_at))
                }
                exit = self.exited() => {
                    // An init error posted just before exiting is the better diagnosis.
                    if let Some((error_type, error_message)) = self.api.init_error() {
                        return Err(HarnessError::InitFailed { error_type, error_message });
                    }
                    Err(self.exit_error(exit, "during init"))
                }
            }
        };
        let ready =
            tokio::time::timeout(timeout, wait)
                .await
                .map_err(|_| HarnessError::Timeout {
                    waiting_for: "the function to finish init (first GET /next)".into(),
                    after: timeout,
                })?;
        self.output.sync().await;
        ready
    }

    /// Queues one event and waits for its response or error, bounded by the function timeout.
    /// An exit mid-invocation is [`HarnessError::Exited`]; a timeout kills the process, as
    /// Lambda discards a sandbox whose invocation timed out.
    pub async fn invoke(
        &self,
        event: &serde_json::Value,
    ) -> Result<InvocationOutcome, HarnessError> {
        Ok(self.invoke_detailed(Invocation::new(event)).await?.outcome)
    }

    /// Like [`Self::invoke`], with context headers and a full report (request id, trace id,
    /// duration, raw body).
    pub async fn invoke_detailed(
        &self,
        invocation: Invocation,
    ) -> Result<InvocationReport, HarnessError> {
        let current = self.exit.borrow().clone();
        if let Some(exit) = current {
            return Err(self.exit_error(exit, "before the invocation"));
        }
        let abort = async {
            let exit = self.exited().await;
            self.exit_error(exit, "during the invocation")
        };
        let result = self.api.run_invocation(invocation, abort).await;
        if let Err(HarnessError::Timeout { .. }) = result {
            self.kill();
        }
        self.output.sync().await;
        result
    }

    /// Stdout and stderr lines so far, in arrival order.
    /// After `wait_ready` or `invoke` returns, this includes every line the function wrote
    /// before it polled or answered.
    pub fn logs(&self) -> Vec<String> {
        self.output.lines()
    }

    /// The log lines that are JSON objects (what `AWS_LAMBDA_LOG_FORMAT=JSON` produces).
    pub fn json_logs(&self) -> Vec<serde_json::Value> {
        self.output
            .lines()
            .iter()
            .filter_map(|line| json_object(line))
            .collect()
    }

    /// Waits for an output line matching `matches` (already captured or still to come), e.g. one
    /// written by a background task after the response.
    pub async fn wait_for_log(
        &self,
        timeout: Duration,
        matches: impl Fn(&str) -> bool,
    ) -> Result<String, HarnessError> {
        let mut grew = self.output.subscribe();
        let find = || self.output.find(&matches);
        let search = async {
            loop {
                if let Some(line) = find() {
                    return Ok(line);
                }
                tokio::select! {
                    biased;
                    _ = grew.changed() => {}
                    exit = self.exited() => {
                        // Output is fully drained once the exit is published.
                        return find().ok_or_else(|| self.exit_error(exit, "before the log line appeared"));
                    }
                }
            }
        };
        tokio::time::timeout(timeout, search)
            .await
            .map_err(|_| HarnessError::Timeout {
                waiting_for: "a matching log line".into(),
                after: timeout,
            })?
    }

    /// Like [`Self::wait_for_log`], for a JSON object line.
    pub async fn wait_for_json_log(
        &self,
        timeout: Duration,
        matches: impl Fn(&serde_json::Value) -> bool,
    ) -> Result<serde_json::Value, HarnessError> {
        let line = self
            .wait_for_log(timeout, |line| {
                json_object(line).is_some_and(|v| matches(&v))
            })
            .await?;
        Ok(json_object(&line).unwrap_or_default())
    }

    /// Peak resident set size (`VmHWM`) in KiB, while the process is alive.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        if self.exit.borrow().is_some() {
            return None;
        }
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid?)).ok()?;
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|value| value.trim().strip_suffix("kB"))
            .and_then(|value| value.trim().parse().ok())
    }

    /// Kills the process and waits for it. Fails if it had already exited on its own, because
    /// a Lambda runtime never exits by itself: that is a crash the test should hear about.
    pub async fn shutdown(self) -> Result<(), HarnessError> {
        let current = self.exit.borrow().clone();
        if let Some(exit) = current {
            if self.killed_by_harness.load(Ordering::SeqCst) {
                return Ok(());
            }
            return Err(self.exit_error(exit, "before shutdown"));
        }
        self.kill();
        match tokio::time::timeout(SHUTDOWN_GRACE, self.exited()).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(lost)) => Err(HarnessError::ProcessLost(lost)),
            Err(_) => Err(HarnessError::Timeout {
                waiting_for: "the killed function process to exit".into(),
                after: SHUTDOWN_GRACE,
            }),
        }
    }

    fn kill(&self) {
        self.killed_by_harness.store(true, Ordering::SeqCst);
        self.kill.notify_one();
    }

    async fn exited(&self) -> ExitResult {
        let mut exit = self.exit.clone();
        let result = match exit.wait_for(Option::is_some).await {
            Ok(exit) => exit.clone().unwrap_or_else(|| Err("no exit status".into())),
            Err(_) => Err("the process monitor stopped".into()),
        };
        result
    }

    fn exit_error(&self, exit: ExitResult, during: &str) -> HarnessError {
        let status = match exit {
            Ok(status) => status,
            Err(lost) => return HarnessError::ProcessLost(lost),
        };
        let during = if self.killed_by_harness.load(Ordering::SeqCst) {
            format!("{during} (killed by the harness after a timeout)")
        } else {
            during.to_owned()
        };
        HarnessError::Exited {
            status,
            during,
            last_output: self.output.tail(LAST_OUTPUT_LINES),
        }
    }
}

impl Drop for FunctionProcess {
    fn drop(&mut self) {
        // If the runtime is shutting down instead, dropping the monitor task drops the Child,
        // and kill_on_drop does the same.
        self.kill.notify_one();
    }
}

/// Owns the child: reports its exit, or kills it on request.
async fn monitor(
    mut child: Child,
    readers: Vec<JoinHandle<()>>,
    kill: Arc<Notify>,
    exit_tx: watch::Sender<Option<ExitResult>>,
) {
    let status = tokio::select! {
        status = child.wait() => status,
        () = kill.notified() => {
            let _ = child.start_kill();
            child.wait().await
        }
    };
    // The last lines before a crash explain it; collect them before announcing the exit.
    let drain = async {
        for reader in readers {
            let _ = reader.await;
        }
    };
    let _ = tokio::time::timeout(OUTPUT_DRAIN_GRACE, drain).await;
    exit_tx.send_replace(Some(status.map_err(|e| e.to_string())));
}

/// The variables Lambda defines for an OS-only (`provided.al2023`) runtime, then `extra_env`.
fn lambda_environment(
    api: &RuntimeApi,
    task_root: &Path,
    function_name: &str,
    extra_env: &[(String, String)],
) -> BTreeMap<String, String> {
    let task_root = task_root.display().to_string();
    let vars = [
        ("AWS_LAMBDA_RUNTIME_API", api.address().to_string()),
        ("AWS_LAMBDA_FUNCTION_NAME", function_name.to_owned()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_owned()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128".to_owned()),
        ("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{function_name}")),
        ("AWS_LAMBDA_LOG_STREAM_NAME", log_stream_name()),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".to_owned()),
        ("AWS_LAMBDA_LOG_FORMAT", "JSON".to_owned()),
        ("AWS_LAMBDA_LOG_LEVEL", "INFO".to_owned()),
        ("AWS_REGION", DEFAULT_REGION.to_owned()),
        ("AWS_DEFAULT_REGION", DEFAULT_REGION.to_owned()),
        // Dummy session credentials: present like the execution role's, valid nowhere.
        ("AWS_ACCESS_KEY_ID", "ASIAIOSFODNN7EXAMPLE".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".to_owned()),
        ("AWS_SESSION_TOKEN", "e2e-harness-dummy-session-token".to_owned()),
        ("AWS_XRAY_CONTEXT_MISSING", "LOG_ERROR".to_owned()),
        ("AWS_XRAY_DAEMON_ADDRESS", "169.254.79.129:2000".to_owned()),
        ("_AWS_XRAY_DAEMON_ADDRESS", "169.254.79.129".to_owned()),
        ("_AWS_XRAY_DAEMON_PORT", "2000".to_owned()),
        ("_HANDLER", "bootstrap".to_owned()),
        ("LAMBDA_TASK_ROOT", task_root.clone()),
        ("LAMBDA_RUNTIME_DIR", "/var/runtime".to_owned()),
        ("TZ", ":UTC".to_owned()),
        ("LANG", "en_US.UTF-8".to_owned()),
        ("PATH", "/usr/local/bin:/usr/bin/:/bin:/opt/bin".to_owned()),
        (
            "LD_LIBRARY_PATH",
            format!("/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:{task_root}:{task_root}/lib:/opt/lib"),
        ),
    ];
    let mut env: BTreeMap<String, String> =
        vars.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    env.extend(extra_env.iter().cloned());
    env
}

/// `YYYY/MM/DD/[$LATEST]<32 hex>`, the shape of a real stream name.
fn log_stream_name() -> String {
    let days = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
        / 86_400;
    let (year, month, day) = civil_from_days(days);
    let id = Uuid::new_v4().simple();
    format!("{year:04}/{month:02}/{day:02}/[$LATEST]{id}")
}

/// Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}
