//! S3 object keys as S3 event notifications carry them: form-encoded, so a
//! space arrives as `+` and a real `+` as `%2B`. Decoding `%2B` before `+`
//! would turn real pluses into spaces; the order below is the only right one.

use std::fmt;

/// A key that does not decode to UTF-8.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3KeyError {
    pub key: String,
}

impl fmt::Display for S3KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "S3 key {:?} does not percent-decode to UTF-8", self.key)
    }
}

impl std::error::Error for S3KeyError {}

/// Decodes an event's object key: `+` → space, then percent-decoding.
pub fn decode_s3_key(raw: &str) -> Result<String, S3KeyError> {
    let spaced = raw.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| S3KeyError {
            key: raw.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
    use proptest::prelude::*;

    #[test]
    fn decodes_like_s3_notifications() {
        assert_eq!(
            decode_s3_key("eu-west-1-config.yaml").unwrap(),
            "eu-west-1-config.yaml"
        );
        assert_eq!(decode_s3_key("my+file%2B1.json").unwrap(), "my file+1.json");
        assert_eq!(
            decode_s3_key("resource%3DAWS_ECR_CONTAINER_IMAGE/a%C3%A9.json").unwrap(),
            "resource=AWS_ECR_CONTAINER_IMAGE/aé.json"
        );
        assert_eq!(decode_s3_key("bad%FF").unwrap_err().key, "bad%FF");
    }

    /// How S3 encodes keys in notifications: form encoding, space as `+`.
    fn s3_encode(key: &str) -> String {
        key.split(' ')
            .map(|part| utf8_percent_encode(part, NON_ALPHANUMERIC).to_string())
            .collect::<Vec<_>>()
            .join("+")
    }

    proptest! {
        #[test]
        fn round_trips_any_key(key in "\\PC{0,64}") {
            prop_assert_eq!(decode_s3_key(&s3_encode(&key)).unwrap(), key);
        }
    }
}
