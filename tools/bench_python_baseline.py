"""Benchmark inputs and the Python baseline for pipe-avro-enricher.

Usage: python tools/bench_python_baseline.py <registry-url> <out.json> [seconds]

Registers two schemas in the Confluent registry at <registry-url> (the AWS
sample's Product schema and a 30-field schema with logical types), writes
Pipes batches of Confluent-framed records for both to <out.json>, and times
what the AWS Confluent sample's Lambda does per record (base64 decode,
confluent-kafka AvroDeserializer with the schema cached, json.dumps of the
record) on the same records. Prints one JSON line per schema:
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


def baseline(batch, client, seconds):
    """What the AWS Confluent sample does per record, schema cached."""
    deserializer = AvroDeserializer(client)
    topic = batch[0]["topic"]
    ctx = SerializationContext(topic, MessageField.VALUE)
    done = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        for message in batch:
            decoded = dict(message)
            decoded["key"] = base64.b64decode(message["key"]).decode()
            decoded["value"] = deserializer(base64.b64decode(message["value"]), ctx)
            json.dumps(decoded, default=str)
            done += 1
    return done / (time.perf_counter() - start)


def main():
    url, out_path = sys.argv[1], sys.argv[2]
    seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 3.0
    client = SchemaRegistryClient({"url": url})
    product = {"id": 13119, "name": "13119", "description": "13119", "price": 13119.0}
    batches = {
        "aws-sample-product": records(PRODUCT, "products", lambda n: dict(product, id=n), 10, client),
        "wide-30-fields": records(wide_schema(), "wide", wide_value, 10, client),
    }
    with open(out_path, "w") as f:
        json.dump(batches, f)
    for name, batch in batches.items():
        rate = baseline(batch, client, seconds)
        print(json.dumps({"schema": name, "records": len(batch), "records_per_sec": rate}), flush=True)


if __name__ == "__main__":
    main()
