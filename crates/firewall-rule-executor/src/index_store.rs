//! The ownership index in S3: `ownership-index/<region>.json` in the state
//! bucket, written with S3 conditional writes (`If-Match` on the ETag read,
//! `If-None-Match: *` to create), so a lost race is a re-read, never a lost
//! update. Without a bucket configured the index is disabled (full scans).

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;
use common::FunctionError;

use crate::handler::{FirewallError, IndexRead, OwnershipStore, Precondition};
use crate::ownership::OwnershipIndex;

pub struct S3Index {
    s3: aws_sdk_s3::Client,
    bucket: Option<String>,
}

impl S3Index {
    pub fn new(s3: aws_sdk_s3::Client, bucket: Option<String>) -> Self {
        S3Index { s3, bucket }
    }
}

/// The object key of a Region's index.
pub fn index_key(region: &str) -> String {
    format!("ownership-index/{region}.json")
}

impl OwnershipStore for S3Index {
    async fn read(&self, region: &str) -> Result<IndexRead, FirewallError> {
        let Some(bucket) = &self.bucket else {
            return Ok(IndexRead::Disabled);
        };
        let out = match self
            .s3
            .get_object()
            .bucket(bucket)
            .key(index_key(region))
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => {
                return Ok(IndexRead::Missing)
            }
            Err(e) => {
                return Err(FunctionError::from_sdk("s3:GetObject", &e)
                    .context(format_args!(
                        "ownership index s3://{bucket}/{}",
                        index_key(region)
                    ))
                    .into())
            }
        };
        let etag = out.e_tag().unwrap_or_default().to_string();
        let bytes = out.body.collect().await.map_err(|e| {
            FunctionError::retryable(
                "S3ReadFailed",
                format!("ownership index s3://{bucket}/{}: {e}", index_key(region)),
            )
        })?;
        Ok(match serde_json::from_slice(&bytes.to_vec()) {
            Ok(index) => IndexRead::Found { index, etag },
            Err(e) => {
                tracing::warn!(
                    region,
                    "the ownership index s3://{bucket}/{} does not parse ({e}); rebuilding",
                    index_key(region)
                );
                IndexRead::Unreadable { etag }
            }
        })
    }

    async fn write(
        &self,
        region: &str,
        index: &OwnershipIndex,
        condition: &Precondition,
    ) -> Result<String, FirewallError> {
        let Some(bucket) = &self.bucket else {
            return Ok(String::new());
        };
        let body = serde_json::to_vec(index).expect("the index serializes");
        let request = self
            .s3
            .put_object()
            .bucket(bucket)
            .key(index_key(region))
            .content_type("application/json")
            .body(ByteStream::from(body));
        let request = match condition {
            Precondition::Absent => request.if_none_match("*"),
            Precondition::Matches(etag) => request.if_match(etag),
        };
        match request.send().await {
            Ok(out) => Ok(out.e_tag().unwrap_or_default().to_string()),
            // Another writer got there first (or S3 saw concurrent writes).
            Err(e)
                if e.as_service_error().is_some_and(|s| {
                    matches!(
                        s.code(),
                        Some("PreconditionFailed" | "ConditionalRequestConflict")
                    )
                }) || e
                    .raw_response()
                    .is_some_and(|r| matches!(r.status().as_u16(), 409 | 412)) =>
            {
                Err(FirewallError::InvalidToken)
            }
            Err(e) => Err(FunctionError::from_sdk("s3:PutObject", &e)
                .context(format_args!(
                    "ownership index s3://{bucket}/{}",
                    index_key(region)
                ))
                .into()),
        }
    }
}
