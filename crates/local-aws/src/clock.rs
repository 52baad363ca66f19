//! The current UTC time as RFC 3339 text, for the timestamps emulated services put in their
//! answers and files.

use std::time::{SystemTime, UNIX_EPOCH};

/// Now, to the second: `2026-11-22T07:16:05Z`.
pub fn rfc3339_now_seconds() -> String {
    rfc3339_now(false)
}

/// Now, to the millisecond: `2026-11-22T07:16:05.123Z`.
pub fn rfc3339_now_millis() -> String {
    rfc3339_now(true)
}

fn rfc3339_now(millis: bool) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let fraction = if millis {
        format!(".{:03}", now.subsec_millis())
    } else {
        String::new()
    };
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}{fraction}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}
