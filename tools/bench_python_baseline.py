"""Benchmark inputs and the Python baseline for pipe-avro-enricher.

Usage: python tools/bench_python_baseline.py <registry-url> <out.json> [seconds]

Registers two schemas in the Confluent registry at <registry-url> (the AWS
sample's Product schema and a 30-field schema with logical types), writes the
event body of a 10-record Pipes batch of Confluent-framed records for each to
<out.json> (`{"<schema>": "<body text>"}`, the bytes the Rust side times too),
and times what a Python Lambda running the AWS Confluent sample pays for that
body: the runtime's json.loads of the event; per record, base64 decode of key
and value and confluent-kafka's AvroDeserializer with the schema cached; the
runtime's json.dumps of the returned list. Prints one JSON line per schema:
{"schema", "records", "records_per_sec"}.
"""
import base64
import datetime
import decimal
import json
import sys
import time
import uuid

from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

PRODUCT = {
    "type": "record",
    "name": "Product",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "name", "type": "string"},
        {"name": "description", "type": "string"},
        {"name": "price", "type": "double"},
    ],
}


def wide_schema():
    fields = []
    kinds = [
        "long", "string", "double", "boolean", "int",
        {"type": "int", "logicalType": "date"},
        {"type": "long", "logicalType": "timestamp-millis"},
        {"type": "long", "logicalType": "timestamp-micros"},
        {"type": "bytes", "logicalType": "decimal", "precision": 12, "scale": 2},
        {"type": "string", "logicalType": "uuid"},
    ]
    for i in range(30):
        kind = kinds[i % len(kinds)]
        t = kind if i < 25 else ["null", kind]
        fields.append({"name": f"f{i:02d}", "type": t})
    return {"type": "record", "name": "Wide", "namespace": "bench", "fields": fields}


def wide_value(n):
    values = [
        lambda: n * 1_000_003,
        lambda: f"value-{n}-ünïcödé",
        lambda: n / 7,
        lambda: n % 2 == 0,
        lambda: n % 100_000,
        lambda: datetime.date(2026, 1, 1) + datetime.timedelta(days=n % 365),
        lambda: datetime.datetime(2026, 11, 22, 1, 2, 3, 4000, tzinfo=datetime.timezone.utc),
        lambda: datetime.datetime(2026, 11, 22, 1, 2, 3, 456789, tzinfo=datetime.timezone.utc),
        lambda: decimal.Decimal(n) / 100,
        lambda: uuid.UUID(int=n),
    ]
    return {f"f{i:02d}": values[i % len(values)]() for i in range(30)}


def records(schema, topic, make, count, client):
    serializer = AvroSerializer(client, json.dumps(schema), conf={"auto.register.schemas": True})
    out = []
    for n in range(count):
        value = serializer(make(n), SerializationContext(topic, MessageField.VALUE))
        out.append({
            "topic": topic, "partition": n % 6, "offset": 1000 + n, "timestamp": 1763773323000 + n,
            "timestampType": "CREATE_TIME", "key": base64.b64encode(str(n).encode()).decode(),
            "value": base64.b64encode(value).decode(),
            "headers": [{"task.id": [48]}],
            "bootstrapServers": "smk://broker:9092", "eventSource": "SelfManagedKafka",
            "eventSourceKey": f"{topic}-{n % 6}",
        })
    return out


def baseline(body, client, seconds):
    """What the AWS Confluent sample's Lambda does with one event body, schema cached.

    The sample mutates each record in place (key decoded as UTF-8, value
    replaced by the decoded Avro) and returns the list; the context is built
    once rather than per record, which only helps the baseline.
    """
    deserializer = AvroDeserializer(client)
    ctx = SerializationContext(json.loads(body)[0]["topic"], MessageField.VALUE)
    done = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        batch = json.loads(body)
        for message in batch:
            message["key"] = base64.b64decode(message["key"]).decode()
            message["value"] = deserializer(base64.b64decode(message["value"]), ctx)
        json.dumps(batch, default=str)
        done += len(batch)
    return done / (time.perf_counter() - start)


def main():
    url, out_path = sys.argv[1], sys.argv[2]
    seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 3.0
    client = SchemaRegistryClient({"url": url})
    product = {"id": 13119, "name": "13119", "description": "13119", "price": 13119.0}
    bodies = {
        "aws-sample-product": json.dumps(records(PRODUCT, "products", lambda n: dict(product, id=n), 10, client)),
        "wide-30-fields": json.dumps(records(wide_schema(), "wide", wide_value, 10, client)),
    }
    with open(out_path, "w") as f:
        json.dump(bodies, f)
    for name, body in bodies.items():
        rate = baseline(body, client, seconds)
        records_per_batch = len(json.loads(body))
        print(json.dumps({"schema": name, "records": records_per_batch, "records_per_sec": rate}), flush=True)


if __name__ == "__main__":
    main()
