//! Lines appended to another account's CloudWatch Logs group (the firewall
//! functions report to each spoke's customer log group).

use aws_types::SdkConfig;

use crate::FunctionError;

/// Appends `lines` to `stream` of `group` (the stream is created if needed),
/// all with the current time.
pub async fn append_lines<'a>(
    config: &SdkConfig,
    group: &str,
    stream: &str,
    lines: impl IntoIterator<Item = &'a str>,
) -> Result<(), FunctionError> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default();
    let events: Vec<_> = lines
        .into_iter()
        .map(|line| {
            aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                .timestamp(now)
                .message(line)
                .build()
                .expect("timestamp and message are set")
        })
        .collect();
    if events.is_empty() {
        return Ok(());
    }
    let logs = aws_sdk_cloudwatchlogs::Client::new(config);
    match logs
        .create_log_stream()
        .log_group_name(group)
        .log_stream_name(stream)
        .send()
        .await
    {
        Ok(_) => {}
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_already_exists_exception()) => {}
        Err(e) => return Err(FunctionError::from_sdk("logs:CreateLogStream", &e)),
    }
    logs.put_log_events()
        .log_group_name(group)
        .log_stream_name(stream)
        .set_log_events(Some(events))
        .send()
        .await
        .map_err(|e| FunctionError::from_sdk("logs:PutLogEvents", &e))?;
    Ok(())
}
