"""Puts events on moto's default EventBridge bus through a rule targeting an
SQS queue, the way the template wires audit-forwarder's capture rule.

usage: put_audit_events.py   (stdin: {"endpoint", "queue_arn", "pattern", "events": [{"source", "detail-type", "detail"}]})
stdout: {"failed": <FailedEntryCount>}
"""

import json
import sys

import boto3


def main() -> None:
    spec = json.load(sys.stdin)
    events = boto3.client(
        "events",
        endpoint_url=spec["endpoint"],
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    events.put_rule(Name="audit-capture", EventPattern=json.dumps(spec["pattern"]), State="ENABLED")
    events.put_targets(Rule="audit-capture", Targets=[{"Id": "queue", "Arn": spec["queue_arn"]}])
    failed = 0
    for e in spec["events"]:
        out = events.put_events(
            Entries=[{"Source": e["source"], "DetailType": e["detail-type"], "Detail": json.dumps(e["detail"])}]
        )
        failed += out["FailedEntryCount"]
    json.dump({"failed": failed}, sys.stdout)


if __name__ == "__main__":
    main()
