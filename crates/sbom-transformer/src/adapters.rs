//! [`ObjectStore`] on the AWS SDK's S3 client.

use aws_sdk_s3::primitives::ByteStream;
use common::FunctionError;

use crate::handler::ObjectStore;

pub struct S3Store {
    client: aws_sdk_s3::Client,
}

impl S3Store {
    pub fn new(client: aws_sdk_s3::Client) -> Self {
        S3Store { client }
    }
}

impl ObjectStore for S3Store {
    async fn get(&self, bucket: &str, key: &str, max_bytes: u64) -> Result<Vec<u8>, FunctionError> {
        let out = self
            .client
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| FunctionError::from_sdk("s3:GetObject", &e))?;
        let length = out
            .content_length()
            .and_then(|l| u64::try_from(l).ok())
            .unwrap_or(0);
        if length > max_bytes {
            return Err(too_large(length, max_bytes));
        }
        // Filled chunk by chunk into one buffer of the announced size, so
        // the file is held once, not once per chunk plus once joined.
        let mut bytes = Vec::with_capacity(length as usize);
        let mut body = out.body;
        while let Some(chunk) = body.try_next().await.map_err(|e| {
            FunctionError::retryable("S3ReadFailed", format!("s3:GetObject body: {e}"))
        })? {
            if (bytes.len() + chunk.len()) as u64 > max_bytes {
                return Err(too_large((bytes.len() + chunk.len()) as u64, max_bytes));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes)
    }

    async fn put(&self, bucket: &str, key: &str, body: Vec<u8>) -> Result<(), FunctionError> {
        self.client
            .put_object()
            .bucket(bucket)
            .key(key)
            .content_type("application/vnd.apache.parquet")
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(|e| {
                FunctionError::from_sdk("s3:PutObject", &e)
                    .context(format_args!("s3://{bucket}/{key}"))
            })?;
        Ok(())
    }
}

fn too_large(size: u64, max: u64) -> FunctionError {
    FunctionError::permanent(
        "SbomTooLarge",
        format!("the SBOM has {size} bytes, more than MAX_SBOM_BYTES={max}"),
    )
}
