//! Inspector's string filters (`{comparison, value}` lists), validated and
//! applied as the API reference describes them.

use serde_json::Value;

use crate::input::{opt_array, opt_str};
use crate::AwsError;

fn validation(message: impl Into<String>) -> AwsError {
    AwsError::validation(message)
}

/// A string filter list: 1–10 `{comparison, value}` with EQUALS/NOT_EQUALS
/// (`PREFIX` too where the model allows it). `Ok(None)` when absent.
pub(super) fn string_filters(
    criteria: Option<&Value>,
    key: &str,
    prefix_ok: bool,
) -> Result<Option<Vec<(String, String)>>, AwsError> {
    let Some(list) = criteria.map(|c| opt_array(c, key)).transpose()?.flatten() else {
        return Ok(None);
    };
    if list.is_empty() || list.len() > 10 {
        return Err(validation(format!("{key} must have 1 to 10 filters")));
    }
    list.iter()
        .map(|f| {
            let comparison = opt_str(f, "comparison")?
                .ok_or_else(|| validation(format!("{key}.comparison is required")))?;
            let value = opt_str(f, "value")?
                .ok_or_else(|| validation(format!("{key}.value is required")))?;
            let allowed = matches!(comparison, "EQUALS" | "NOT_EQUALS")
                || (prefix_ok && comparison == "PREFIX");
            if !allowed {
                return Err(validation(format!(
                    "{key}.comparison {comparison:?} is not a valid comparison"
                )));
            }
            if value.is_empty() || value.len() > 1024 {
                return Err(validation(format!(
                    "{key}.value must have 1 to 1024 characters"
                )));
            }
            Ok((comparison.to_string(), value.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// Whether `value` passes a filter list: any EQUALS/PREFIX matches (when
/// there is one) and no NOT_EQUALS matches.
pub(super) fn passes(filters: &Option<Vec<(String, String)>>, values: &[&str]) -> bool {
    let Some(filters) = filters else { return true };
    let positive: Vec<_> = filters.iter().filter(|(c, _)| c != "NOT_EQUALS").collect();
    let matches = |(c, v): &(String, String)| {
        values.iter().any(|x| {
            if c == "PREFIX" {
                x.starts_with(v.as_str())
            } else {
                x == v
            }
        })
    };
    (positive.is_empty() || positive.iter().any(|f| matches(f)))
        && !filters
            .iter()
            .filter(|(c, _)| c == "NOT_EQUALS")
            .any(matches)
}
