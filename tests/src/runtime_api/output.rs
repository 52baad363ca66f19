//! Capture of a function process's stdout and stderr, line by line.
//!
//! A function logs before it posts its response, so by the time the response arrives those bytes
//! are already in the pipe; but a background reader may not have read them yet. [`Output::sync`]
//! closes that gap deterministically: each reader reads its pipe with non-blocking syscalls until
//! it is empty, so `logs()` right after `invoke` sees every line written before the response.

use super::lock;
use std::{
    fs::File,
    io::{ErrorKind, Read},
    os::fd::AsFd,
    sync::{Arc, Mutex},
    time::Duration,
};
use tokio::{
    io::{AsyncRead, AsyncReadExt},
    sync::{mpsc, oneshot, watch},
    task::JoinHandle,
};

/// A reader that must not take longer than this to empty a pipe it is told to sync.
const SYNC_LIMIT: Duration = Duration::from_secs(2);

type SyncRequest = oneshot::Sender<()>;

/// The captured lines of both streams, in arrival order.
pub(super) struct Output {
    lines: Mutex<Vec<String>>,
    grew: watch::Sender<usize>,
    syncs: Mutex<Vec<mpsc::UnboundedSender<SyncRequest>>>,
}

impl Output {
    pub(super) fn new() -> Arc<Self> {
        Arc::new(Self {
            lines: Mutex::default(),
            grew: watch::Sender::new(0),
            syncs: Mutex::default(),
        })
    }

    /// Starts reading `stream` into this log; the task ends at EOF.
    pub(super) fn capture<S>(self: &Arc<Self>, stream: S) -> JoinHandle<()>
    where
        S: AsyncRead + AsFd + Unpin + Send + 'static,
    {
        let (sync_tx, sync_rx) = mpsc::unbounded_channel();
        lock(&self.syncs).push(sync_tx);
        tokio::spawn(read_lines(stream, self.clone(), sync_rx))
    }

    /// Returns once every byte already written to the pipes has been captured.
    pub(super) async fn sync(&self) {
        let requests: Vec<_> = lock(&self.syncs).clone();
        for request in requests {
            let (done_tx, done_rx) = oneshot::channel();
            // A reader that is gone has hit EOF and captured everything.
            if request.send(done_tx).is_ok() {
                let _ = tokio::time::timeout(SYNC_LIMIT, done_rx).await;
            }
        }
    }

    pub(super) fn lines(&self) -> Vec<String> {
        lock(&self.lines).clone()
    }

    /// The last `n` lines.
    pub(super) fn tail(&self, n: usize) -> Vec<String> {
        let lines = lock(&self.lines);
        lines[lines.len().saturating_sub(n)..].to_vec()
    }

    pub(super) fn find(&self, matches: impl Fn(&str) -> bool) -> Option<String> {
        lock(&self.lines).iter().find(|l| matches(l)).cloned()
    }

    /// Changes whenever a line is added.
    pub(super) fn subscribe(&self) -> watch::Receiver<usize> {
        self.grew.subscribe()
    }

    fn push(&self, bytes: &[u8]) {
        let line = String::from_utf8_lossy(bytes);
        let mut lines = lock(&self.lines);
        lines.push(line.trim_end_matches('\r').to_owned());
        self.grew.send_replace(lines.len());
    }
}

/// The line, if it is a JSON object (what `AWS_LAMBDA_LOG_FORMAT=JSON` produces).
pub(super) fn json_object(line: &str) -> Option<serde_json::Value> {
    serde_json::from_str::<serde_json::Value>(line)
        .ok()
        .filter(serde_json::Value::is_object)
}

async fn read_lines<S>(
    mut stream: S,
    output: Arc<Output>,
    mut syncs: mpsc::UnboundedReceiver<SyncRequest>,
) where
    S: AsyncRead + AsFd + Unpin,
{
    // A second handle on the same pipe, for reads that bypass the reactor. tokio made the pipe
    // non-blocking, and the flag is shared by the duplicate, so these reads never block.
    let direct = stream.as_fd().try_clone_to_owned().map(File::from).ok();
    let mut partial = Vec::new();
    let mut buf = vec![0; 16 * 1024];
    loop {
        tokio::select! {
            // Cancel safe: if the other branch wins, no data was read.
            read = stream.read(&mut buf) => match read {
                Ok(0) | Err(_) => break,
                Ok(n) => split_lines(&output, &mut partial, &buf[..n]),
            },
            Some(done) = syncs.recv() => {
                let eof = direct
                    .as_ref()
                    .is_some_and(|pipe| read_until_empty(pipe, &output, &mut partial, &mut buf));
                let _ = done.send(());
                if eof {
                    break;
                }
            }
        }
    }
    if !partial.is_empty() {
        output.push(&partial);
    }
}

/// Reads `pipe` until it would block; `true` at EOF.
fn read_until_empty(
    mut pipe: &File,
    output: &Output,
    partial: &mut Vec<u8>,
    buf: &mut [u8],
) -> bool {
    loop {
        match pipe.read(buf) {
            Ok(0) => return true,
            Ok(n) => split_lines(output, partial, &buf[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
}

fn split_lines(output: &Output, partial: &mut Vec<u8>, mut bytes: &[u8]) {
    while let Some(end) = bytes.iter().position(|&b| b == b'\n') {
        partial.extend_from_slice(&bytes[..end]);
        output.push(partial);
        partial.clear();
        bytes = &bytes[end + 1..];
    }
    partial.extend_from_slice(bytes);
}
