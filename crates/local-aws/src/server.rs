//! Running the emulator on a socket.

use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::LocalAws;

/// Serves `emulator` on `listener` until the process ends.
pub async fn serve(listener: TcpListener, emulator: LocalAws) -> std::io::Result<()> {
    serve_with_shutdown(listener, emulator, std::future::pending()).await
}

/// Serves `emulator` on `listener` until `shutdown` completes, then finishes
/// the requests in flight.
pub async fn serve_with_shutdown(
    listener: TcpListener,
    emulator: LocalAws,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, emulator.router())
        .with_graceful_shutdown(shutdown)
        .await
}

/// Binds `addr` (use `127.0.0.1:0` for a free port) and serves a fresh
/// emulator with the built-in services on a background task.
pub async fn spawn(addr: &str) -> std::io::Result<RunningLocalAws> {
    spawn_emulator(addr, LocalAws::new()).await
}

/// [`spawn`] for a given emulator (e.g. one with test-only services).
pub async fn spawn_emulator(addr: &str, emulator: LocalAws) -> std::io::Result<RunningLocalAws> {
    let listener = TcpListener::bind(addr).await?;
    let mut local_addr = listener.local_addr()?;
    // A wildcard bind is reachable on loopback; the URL must be connectable.
    if local_addr.ip().is_unspecified() {
        local_addr.set_ip(Ipv4Addr::LOCALHOST.into());
    }
    let (stop, stopped) = oneshot::channel::<()>();
    let server = emulator.clone();
    let task = tokio::spawn(async move {
        let shutdown = async {
            // A dropped sender also means stop.
            let _ = stopped.await;
        };
        if let Err(e) = serve_with_shutdown(listener, server, shutdown).await {
            tracing::error!("local-aws server failed: {e}");
        }
    });
    Ok(RunningLocalAws {
        url: format!("http://{local_addr}"),
        addr: local_addr,
        emulator,
        stop: Some(stop),
        task: Some(task),
    })
}

/// An emulator serving on a background task; stops when dropped.
#[derive(Debug)]
pub struct RunningLocalAws {
    /// Base URL, e.g. `http://127.0.0.1:41234`, for `endpoint_url`.
    pub url: String,
    /// The bound address.
    pub addr: SocketAddr,
    /// The emulator being served, for direct access to its state.
    pub emulator: LocalAws,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl RunningLocalAws {
    /// Stops accepting connections and waits for requests in flight.
    pub async fn shutdown(mut self) {
        self.stop.take();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for RunningLocalAws {
    fn drop(&mut self) {
        // Signal connections to close, and abort the accept loop so the port
        // is released now rather than when idle keep-alive clients hang up.
        self.stop.take();
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
