//! Typed access to members of a JSON request body.
//!
//! A member of the wrong JSON type is a `SerializationException`, as real
//! awsJson/REST-JSON services answer; a member that is missing or `null`
//! reads as `None` and each service decides which error "required" means.

use serde_json::{Map, Value};

use crate::AwsError;

fn member<'a>(input: &'a Value, key: &str) -> Option<&'a Value> {
    input.get(key).filter(|v| !v.is_null())
}

fn wrong_type(key: &str, expected: &str, found: &Value) -> AwsError {
    let found = match found {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    AwsError::serialization(format!("member {key}: expected {expected}, found {found}"))
}

/// The body as a JSON object.
pub fn object(input: &Value) -> Result<&Map<String, Value>, AwsError> {
    input
        .as_object()
        .ok_or_else(|| wrong_type("<body>", "object", input))
}

/// An optional string member.
pub fn opt_str<'a>(input: &'a Value, key: &str) -> Result<Option<&'a str>, AwsError> {
    member(input, key)
        .map(|v| v.as_str().ok_or_else(|| wrong_type(key, "string", v)))
        .transpose()
}

/// An optional integer member.
pub fn opt_i64(input: &Value, key: &str) -> Result<Option<i64>, AwsError> {
    member(input, key)
        .map(|v| v.as_i64().ok_or_else(|| wrong_type(key, "integer", v)))
        .transpose()
}

/// An optional boolean member.
pub fn opt_bool(input: &Value, key: &str) -> Result<Option<bool>, AwsError> {
    member(input, key)
        .map(|v| v.as_bool().ok_or_else(|| wrong_type(key, "boolean", v)))
        .transpose()
}

/// An optional structure member, returned as the JSON value itself.
pub fn opt_object<'a>(input: &'a Value, key: &str) -> Result<Option<&'a Value>, AwsError> {
    member(input, key)
        .map(|v| {
            if v.is_object() {
                Ok(v)
            } else {
                Err(wrong_type(key, "object", v))
            }
        })
        .transpose()
}

/// An optional list member.
pub fn opt_array<'a>(input: &'a Value, key: &str) -> Result<Option<&'a Vec<Value>>, AwsError> {
    member(input, key)
        .map(|v| v.as_array().ok_or_else(|| wrong_type(key, "array", v)))
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn missing_and_null_read_as_none() {
        let v = json!({"A": null});
        assert_eq!(opt_str(&v, "A").unwrap(), None);
        assert_eq!(opt_i64(&v, "B").unwrap(), None);
    }

    #[test]
    fn wrong_type_is_serialization_exception_naming_member() {
        let v = json!({"Capacity": "ten"});
        let err = opt_i64(&v, "Capacity").unwrap_err();
        assert_eq!(err.code, "SerializationException");
        assert!(err.message.contains("Capacity"), "{}", err.message);
        assert!(err.message.contains("string"), "{}", err.message);
        assert_eq!(opt_i64(&json!({"C": 1.5}), "C").unwrap_err().status, 400);
    }

    #[test]
    fn typed_values_are_returned() {
        let v = json!({"S": "x", "N": 3, "B": true, "O": {}, "L": [1]});
        assert_eq!(opt_str(&v, "S").unwrap(), Some("x"));
        assert_eq!(opt_i64(&v, "N").unwrap(), Some(3));
        assert_eq!(opt_bool(&v, "B").unwrap(), Some(true));
        assert!(opt_object(&v, "O").unwrap().is_some());
        assert_eq!(opt_array(&v, "L").unwrap().map(Vec::len), Some(1));
        assert!(opt_object(&v, "L").is_err());
    }
}
