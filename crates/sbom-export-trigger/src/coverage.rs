//! Whether Inspector has scanned an image, from its `ListCoverage` entry:
//! Inspector exports SBOMs only for resources it has scanned, so exporting
//! on push before the scan would export nothing.

use std::time::{Duration, SystemTime};

/// The image's coverage entry (`scanStatus`), if Inspector lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coverage {
    pub status_code: String,
    pub reason: String,
}

/// What to do with an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    Scanned,
    /// Not scanned yet; may be later.
    Pending(String),
    /// Inspector will not scan it (unsupported OS, too large, excluded, ...).
    Never(String),
}

/// Reasons after which a scan still comes by itself.
const PENDING_REASONS: &[&str] = &[
    "PENDING_INITIAL_SCAN",
    "INTERNAL_ERROR",
    "PENDING_REVIVAL_SCAN",
];

pub fn readiness(coverage: Option<&Coverage>) -> Readiness {
    match coverage {
        None => Readiness::Pending("Inspector does not list the image in its coverage yet".into()),
        Some(c) if c.status_code == "ACTIVE" && c.reason == "SUCCESSFUL" => Readiness::Scanned,
        Some(c) if PENDING_REASONS.contains(&c.reason.as_str()) => {
            Readiness::Pending(format!("scan status {} ({})", c.status_code, c.reason))
        }
        Some(c) => Readiness::Never(format!("scan status {} ({})", c.status_code, c.reason)),
    }
}

/// Whether an image still pending after `age` of the event is worth
/// another retry: within `limit` yes, after it the wait is over.
pub fn keep_waiting(event_time: Option<SystemTime>, now: SystemTime, limit: Duration) -> bool {
    match event_time {
        Some(t) => now.duration_since(t).unwrap_or_default() < limit,
        // No time in the event: the async retries themselves bound it.
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(code: &str, reason: &str) -> Coverage {
        Coverage {
            status_code: code.into(),
            reason: reason.into(),
        }
    }

    #[test]
    fn decisions() {
        assert_eq!(
            readiness(Some(&c("ACTIVE", "SUCCESSFUL"))),
            Readiness::Scanned
        );
        assert!(matches!(readiness(None), Readiness::Pending(_)));
        assert!(matches!(
            readiness(Some(&c("ACTIVE", "PENDING_INITIAL_SCAN"))),
            Readiness::Pending(_)
        ));
        let Readiness::Never(why) = readiness(Some(&c("INACTIVE", "UNSUPPORTED_OS"))) else {
            panic!()
        };
        assert_eq!(why, "scan status INACTIVE (UNSUPPORTED_OS)");
        assert!(matches!(
            readiness(Some(&c("INACTIVE", "IMAGE_SIZE_EXCEEDED"))),
            Readiness::Never(_)
        ));
    }

    #[test]
    fn waiting_is_bounded_by_the_event_age() {
        let now = SystemTime::now();
        let limit = Duration::from_secs(1800);
        assert!(keep_waiting(
            Some(now - Duration::from_secs(60)),
            now,
            limit
        ));
        assert!(!keep_waiting(
            Some(now - Duration::from_secs(1801)),
            now,
            limit
        ));
        assert!(keep_waiting(Some(now + Duration::from_secs(5)), now, limit));
        assert!(keep_waiting(None, now, limit));
    }
}
