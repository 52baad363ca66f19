-- Confluent Cloud for Apache Flink: the audit path's anomaly detection.
--
-- Input: the topic the CloudTrail capture rule produces to (template parameter
-- AuditConfluentTopic, default `cloudtrail`). The API destination's input
-- transformer sends {"value":{"type":"JSON","data":<detail>}} to the REST v3
-- produce endpoint, so each record value is the CloudTrail `detail` object as
-- schemaless JSON bytes (no Schema Registry framing): the table reads it raw.
--
-- Output: `flagged_topic` (template parameter AuditFlaggedTopic), Avro with the
-- schema registered in the Confluent Schema Registry, one record per principal
-- that called an S3 API more than 10 times in a 1-minute tumbling window. Its
-- `userIdentity` is masked except its last two characters. The audit pipe
-- reads it, pipe-avro-enricher decodes the Avro (and masks `userIdentity`
-- again, MASK_FIELDS=userIdentity, in case a statement forgets to) and puts the
-- JSON on the kafka-json event bus.
--
-- Run the statements in order in a Flink SQL workspace whose catalog is the
-- environment and whose database is the cluster of both topics.

-- 1. The CloudTrail topic. Event time is CloudTrail's own eventTime, not the
--    Kafka timestamp: EventBridge delivers management events within minutes,
--    and retries (up to 24 h, see the rule's RetryPolicy) must not shift a call
--    into a later window. Events later than the watermark's 5 minutes are
--    dropped by the window (they stay in the topic for replay).
CREATE TABLE `cloudtrail` (
  `val` STRING,
  `event_time` AS TO_TIMESTAMP_LTZ(
      UNIX_TIMESTAMP(JSON_VALUE(`val`, '$.eventTime'), 'yyyy-MM-dd''T''HH:mm:ss''Z''') * 1000, 3),
  WATERMARK FOR `event_time` AS `event_time` - INTERVAL '5' MINUTE
) WITH (
  'value.format' = 'raw'
);

-- 2. The fields the detection needs, typed. The principal is the caller's ARN
--    (IAM users, assumed roles, federated users); root and AWS services have
--    no ARN of interest here, and the capture rule already drops AWSService.
CREATE VIEW `cloudtrail_calls` AS
SELECT
  `event_time`,
  JSON_VALUE(`val`, '$.eventSource')       AS `event_source`,
  JSON_VALUE(`val`, '$.eventName')         AS `event_name`,
  JSON_VALUE(`val`, '$.userIdentity.arn')  AS `principal`,
  JSON_VALUE(`val`, '$.userIdentity.type') AS `identity_type`,
  JSON_VALUE(`val`, '$.sourceIPAddress')   AS `source_ip`
FROM `cloudtrail`
WHERE JSON_VALUE(`val`, '$.userIdentity.arn') IS NOT NULL;

-- 3. The flagged topic (Avro, schema registered by Flink on creation).
CREATE TABLE `flagged_topic` (
  `window_start` TIMESTAMP(3) NOT NULL,
  `window_end`   TIMESTAMP(3) NOT NULL,
  `userIdentity` STRING NOT NULL,  -- masked: '*' for all but the last two characters
  `eventSource`  STRING NOT NULL,
  `apiCalls`     BIGINT NOT NULL,
  `eventNames`   STRING NOT NULL,  -- distinct API names in the window, comma-separated
  `sourceIps`    STRING NOT NULL
) WITH (
  'value.format' = 'avro-registry'
);

-- 4. The anomaly: a principal calling an S3 API more than 10 times in a
--    1-minute tumbling window.
INSERT INTO `flagged_topic`
SELECT
  `window_start`,
  `window_end`,
  CASE
    WHEN CHAR_LENGTH(`principal`) <= 2 THEN REPEAT('*', CHAR_LENGTH(`principal`))
    ELSE CONCAT(REPEAT('*', CHAR_LENGTH(`principal`) - 2),
                SUBSTRING(`principal` FROM CHAR_LENGTH(`principal`) - 1))
  END                                  AS `userIdentity`,
  's3.amazonaws.com'                   AS `eventSource`,
  COUNT(*)                             AS `apiCalls`,
  LISTAGG(DISTINCT `event_name`)       AS `eventNames`,
  LISTAGG(DISTINCT `source_ip`)        AS `sourceIps`
FROM TABLE(
  TUMBLE(TABLE `cloudtrail_calls`, DESCRIPTOR(`event_time`), INTERVAL '1' MINUTE))
WHERE `event_source` = 's3.amazonaws.com'
GROUP BY `window_start`, `window_end`, `principal`
HAVING COUNT(*) > 10;
