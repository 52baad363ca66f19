//! Bounded exponential backoff with full jitter (the AWS Architecture Blog's
//! "Exponential Backoff And Jitter": sleep a uniform random time in
//! `[0, min(cap, base * 2^attempt)]`), so many sandboxes retrying one
//! throttled API spread out instead of retrying in lockstep.

use std::future::Future;
use std::time::Duration;

/// Retry policy: at most `max_attempts` calls in all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    pub cap: Duration,
    pub max_attempts: u32,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base: Duration::from_millis(100),
            cap: Duration::from_secs(5),
            max_attempts: 5,
        }
    }
}

impl Backoff {
    /// The upper bound of the sleep after failed attempt `attempt` (0-based).
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let factor = 1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.cap)
    }

    /// A full-jitter delay after failed attempt `attempt`.
    pub fn delay(&self, attempt: u32, rng: &mut fastrand::Rng) -> Duration {
        let ceiling = self.ceiling(attempt).as_nanos().min(u64::MAX as u128) as u64;
        Duration::from_nanos(rng.u64(0..=ceiling))
    }

    /// Calls `op` until it succeeds, fails with an error `retryable` rejects,
    /// or `max_attempts` calls have failed; returns the last error then.
    pub async fn retry<T, E, F, Fut>(
        &self,
        mut op: F,
        retryable: impl Fn(&E) -> bool,
    ) -> Result<T, E>
    where
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let mut rng = fastrand::Rng::new();
        let mut attempt = 0;
        loop {
            match op(attempt).await {
                Ok(v) => return Ok(v),
                Err(e) if attempt + 1 >= self.max_attempts.max(1) || !retryable(&e) => {
                    return Err(e)
                }
                Err(e) => {
                    let delay = self.delay(attempt, &mut rng);
                    tracing::debug!(
                        attempt,
                        delay_ms = delay.as_millis() as u64,
                        "retrying after a retryable failure"
                    );
                    drop(e);
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[test]
    fn ceiling_doubles_then_caps() {
        let b = Backoff {
            base: Duration::from_millis(100),
            cap: Duration::from_millis(1000),
            max_attempts: 10,
        };
        let c: Vec<u128> = (0..6).map(|a| b.ceiling(a).as_millis()).collect();
        assert_eq!(c, [100, 200, 400, 800, 1000, 1000]);
        assert_eq!(b.ceiling(200), Duration::from_millis(1000));
    }

    #[test]
    fn delays_stay_within_the_ceiling_and_vary() {
        let b = Backoff::default();
        let mut rng = fastrand::Rng::with_seed(7);
        let delays: Vec<Duration> = (0..200).map(|_| b.delay(3, &mut rng)).collect();
        assert!(delays.iter().all(|d| *d <= b.ceiling(3)));
        let distinct: std::collections::HashSet<_> = delays.iter().collect();
        assert!(
            distinct.len() > 150,
            "full jitter must spread delays, got {} distinct",
            distinct.len()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn retries_only_retryable_errors_and_stops_at_the_bound() {
        let b = Backoff {
            max_attempts: 4,
            ..Backoff::default()
        };
        let calls = Cell::new(0);
        let r: Result<(), &str> = b
            .retry(
                |_| {
                    calls.set(calls.get() + 1);
                    async { Err("throttled") }
                },
                |_| true,
            )
            .await;
        assert_eq!(r, Err("throttled"));
        assert_eq!(calls.get(), 4);

        calls.set(0);
        let r: Result<(), &str> = b
            .retry(
                |_| {
                    calls.set(calls.get() + 1);
                    async { Err("access denied") }
                },
                |e| *e != "access denied",
            )
            .await;
        assert_eq!(r, Err("access denied"));
        assert_eq!(calls.get(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn succeeds_after_transient_failures() {
        let r: Result<u32, &str> = Backoff::default()
            .retry(
                |attempt| async move {
                    if attempt < 2 {
                        Err("busy")
                    } else {
                        Ok(attempt)
                    }
                },
                |_| true,
            )
            .await;
        assert_eq!(r, Ok(2));
    }
}
