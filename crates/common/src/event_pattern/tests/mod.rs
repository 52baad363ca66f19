//! Examples from the EventBridge user guide and event-ruler's README, the
//! edge cases they document, validation errors, and properties over
//! generated inputs.

mod examples;
mod properties;
mod validation;

use serde_json::Value;

use super::EventPattern;

pub(super) fn pattern(p: Value) -> EventPattern {
    EventPattern::new(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

pub(super) fn matches(p: Value, event: Value) -> bool {
    pattern(p).matches(&event)
}

pub(super) fn error(p: Value) -> String {
    match EventPattern::new(&p) {
        Ok(_) => panic!("{p} should be rejected"),
        Err(e) => e.to_string(),
    }
}
