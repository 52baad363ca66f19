//! The HTTP side: an axum server speaking the Runtime API to one function.

use super::{
    lock, routes, routes::Completion, HarnessError, Invocation, InvocationOutcome,
    InvocationReport, ACCOUNT_ID, DEFAULT_REGION, DEFAULT_TIMEOUT,
};
use serde_json::Value;
use std::{
    collections::{HashMap, HashSet},
    future::Future,
    net::{Ipv4Addr, SocketAddr},
    sync::{Arc, Mutex},
    time::{Duration, Instant, SystemTime},
};
use tokio::sync::{mpsc, oneshot, watch};
use uuid::Uuid;

/// A local Lambda Runtime API for one function, listening on `127.0.0.1:<ephemeral port>`.
/// The server stops when this value is dropped.
pub struct RuntimeApi {
    shared: Arc<Shared>,
    address: SocketAddr,
}

pub(super) struct Shared {
    pub(super) config: Mutex<FunctionConfig>,
    pub(super) queue_tx: mpsc::UnboundedSender<Queued>,
    pub(super) queue_rx: tokio::sync::Mutex<mpsc::UnboundedReceiver<Queued>>,
    pub(super) state: Mutex<InvokeState>,
    pub(super) lifecycle: watch::Sender<Lifecycle>,
    pub(super) stopped: watch::Sender<bool>,
    /// Held for a whole invocation: a sandbox serves one event at a time.
    pub(super) turn: tokio::sync::Mutex<()>,
}

#[derive(Clone)]
pub(super) struct FunctionConfig {
    pub(super) name: String,
    pub(super) region: String,
    pub(super) timeout: Duration,
}

#[derive(Default)]
pub(super) struct InvokeState {
    pub(super) in_flight: HashMap<String, oneshot::Sender<Completion>>,
    /// Answered or abandoned ids, kept so a late or repeated post gets RAPID's 400.
    pub(super) finished: HashSet<String>,
}

#[derive(Clone, Default)]
pub(super) struct Lifecycle {
    pub(super) first_poll: Option<Instant>,
    pub(super) init_error: Option<(String, String)>,
}

pub(super) struct Queued {
    pub(super) request_id: String,
    pub(super) invocation: Invocation,
    pub(super) delivered: oneshot::Sender<Delivery>,
    pub(super) done: oneshot::Sender<Completion>,
}

pub(super) struct Delivery {
    pub(super) trace_id: String,
    pub(super) deadline: SystemTime,
    pub(super) at: Instant,
}

impl RuntimeApi {
    /// Binds `127.0.0.1:0` and serves the Runtime API for `function_name`.
    pub async fn start(function_name: &str) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let address = listener.local_addr()?;
        let (queue_tx, queue_rx) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            config: Mutex::new(FunctionConfig {
                name: function_name.to_owned(),
                region: DEFAULT_REGION.to_owned(),
                timeout: DEFAULT_TIMEOUT,
            }),
            queue_tx,
            queue_rx: tokio::sync::Mutex::new(queue_rx),
            state: Mutex::default(),
            lifecycle: watch::Sender::new(Lifecycle::default()),
            stopped: watch::Sender::new(false),
            turn: tokio::sync::Mutex::new(()),
        });
        let router = routes::router(shared.clone());
        let mut stopped = shared.stopped.subscribe();
        tokio::spawn(async move {
            let shutdown = async move {
                let _ = stopped.wait_for(|s| *s).await;
            };
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(shutdown)
                .await;
        });
        Ok(Self { shared, address })
    }

    /// The listening address; `address().to_string()` is the value for `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Sets the function timeout used for the deadline of later invocations.
    pub fn with_timeout(self, timeout: Duration) -> Self {
        self.set_timeout(timeout);
        self
    }

    /// Like [`Self::with_timeout`], for a shared reference.
    pub fn set_timeout(&self, timeout: Duration) {
        lock(&self.shared.config).timeout = timeout;
    }

    /// The current function timeout.
    pub fn timeout(&self) -> Duration {
        lock(&self.shared.config).timeout
    }

    /// Sets the region used in the invoked function ARN.
    pub fn set_region(&self, region: &str) {
        region.clone_into(&mut lock(&self.shared.config).region);
    }

    /// `arn:aws:lambda:<region>:123456789012:function:<name>`, as sent to the runtime.
    pub fn function_arn(&self) -> String {
        lock(&self.shared.config).arn()
    }

    /// The error the runtime posted to `/runtime/init/error`, if any.
    pub fn init_error(&self) -> Option<(String, String)> {
        self.shared.lifecycle.borrow().init_error.clone()
    }

    /// Waits until the runtime first polls `/next` (returns when it did) or posts an init error.
    pub async fn wait_for_init(&self, timeout: Duration) -> Result<Instant, HarnessError> {
        tokio::time::timeout(timeout, self.init_finished())
            .await
            .map_err(|_| HarnessError::Timeout {
                waiting_for: "the runtime to finish init (first GET /next)".into(),
                after: timeout,
            })?
    }

    pub(super) async fn init_finished(&self) -> Result<Instant, HarnessError> {
        let mut lifecycle = self.shared.lifecycle.subscribe();
        let state = lifecycle
            .wait_for(|l| l.first_poll.is_some() || l.init_error.is_some())
            .await
            .map_err(|_| HarnessError::ApiStopped)?;
        match (&state.init_error, state.first_poll) {
            (Some((error_type, error_message)), _) => Err(HarnessError::InitFailed {
                error_type: error_type.clone(),
                error_message: error_message.clone(),
            }),
            (None, Some(at)) => Ok(at),
            (None, None) => unreachable!("wait_for guarantees one of them"),
        }
    }

    /// Queues `event` and waits for its response or error, bounded by the function timeout.
    pub async fn invoke(&self, event: &Value) -> Result<InvocationOutcome, HarnessError> {
        Ok(self.invoke_detailed(Invocation::new(event)).await?.outcome)
    }

    /// Like [`Self::invoke`], with context headers and a full report.
    pub async fn invoke_detailed(
        &self,
        invocation: Invocation,
    ) -> Result<InvocationReport, HarnessError> {
        self.run_invocation(invocation, std::future::pending())
            .await
    }

    /// Runs one invocation; `abort` ends it early with its error (used for a process exit).
    /// The runtime gets `timeout` to pick the event up and then until the deadline to answer.
    pub(super) async fn run_invocation(
        &self,
        invocation: Invocation,
        abort: impl Future<Output = HarnessError>,
    ) -> Result<InvocationReport, HarnessError> {
        let _turn = self.shared.turn.lock().await;
        let timeout = self.timeout();
        let request_id = Uuid::new_v4().to_string();
        let (delivered_tx, delivered_rx) = oneshot::channel();
        let (done_tx, done_rx) = oneshot::channel();
        self.shared
            .queue_tx
            .send(Queued {
                request_id: request_id.clone(),
                invocation,
                delivered: delivered_tx,
                done: done_tx,
            })
            .map_err(|_| HarnessError::ApiStopped)?;
        // However this ends (even by the caller dropping the future), a late post must get 400
        // and must not block the runtime's next /next; a stale queued event is skipped because
        // done_rx is gone.
        let _abandon_on_exit = Abandon(&self.shared, request_id.clone());
        tokio::pin!(abort);
        let delivery = tokio::select! {
            biased;
            delivery = delivered_rx => delivery.map_err(|_| HarnessError::ApiStopped)?,
            err = &mut abort => return Err(err),
            () = tokio::time::sleep(timeout) => {
                return Err(HarnessError::Timeout {
                    waiting_for: format!("the runtime to poll /next for {request_id}"),
                    after: timeout,
                })
            }
        };
        let remaining = delivery
            .deadline
            .duration_since(SystemTime::now())
            .unwrap_or_default();
        let completion = tokio::select! {
            biased;
            completion = done_rx => completion.map_err(|_| HarnessError::ApiStopped),
            err = &mut abort => Err(err),
            () = tokio::time::sleep(remaining) => Err(HarnessError::Timeout {
                waiting_for: format!("the response to {request_id} (function timeout)"),
                after: timeout,
            }),
        };
        let completion = completion?;
        let duration = delivery.at.elapsed();
        let (outcome, raw_body) = completion.into_outcome();
        Ok(InvocationReport {
            request_id,
            trace_id: delivery.trace_id,
            deadline: delivery.deadline,
            duration,
            outcome,
            raw_body,
        })
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.shared.stopped.send_replace(true);
    }
}

struct Abandon<'a>(&'a Shared, String);

impl Drop for Abandon<'_> {
    fn drop(&mut self) {
        self.0.abandon(&self.1);
    }
}

impl FunctionConfig {
    pub(super) fn arn(&self) -> String {
        format!(
            "arn:aws:lambda:{}:{ACCOUNT_ID}:function:{}",
            self.region, self.name
        )
    }
}

impl Shared {
    fn abandon(&self, request_id: &str) {
        let mut state = lock(&self.state);
        state.in_flight.remove(request_id);
        state.finished.insert(request_id.to_owned());
    }

    /// Ends an in-flight invocation; `false` if the id is unknown or already answered.
    pub(super) fn complete(&self, request_id: &str, completion: Completion) -> bool {
        let mut state = lock(&self.state);
        let Some(done) = state.in_flight.remove(request_id) else {
            return false;
        };
        state.finished.insert(request_id.to_owned());
        let _ = done.send(completion);
        true
    }

    pub(super) fn is_in_flight(&self, request_id: &str) -> bool {
        lock(&self.state).in_flight.contains_key(request_id)
    }
}
