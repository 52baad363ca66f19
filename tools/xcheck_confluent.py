"""Cross-implementation vectors for pipe-avro-enricher, made by Confluent's own
Python serializer against a Confluent Schema Registry (the project's emulator).

Usage: python tools/xcheck_confluent.py <registry-url> <out.json>

Writes {"batch": [Pipes Kafka records], "expected": [{"key", "value",
"valueSchemaId"?}]}. The expected JSON is computed independently of the
function under test: fastavro decodes the bytes the serializer produced and
`contract()` below applies the project's JSON contract (README, "JSON
contract") to fastavro's Python objects.
"""
import base64
import datetime
import decimal
import io
import json
import math
import struct
import sys
import uuid

import fastavro
from confluent_kafka.schema_registry import (
    Schema,
    SchemaReference,
    SchemaRegistryClient,
    header_schema_id_serializer,
)
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

ADDRESS = {
    "type": "record",
    "name": "Address",
    "namespace": "com.example",
    "fields": [
        {"name": "street", "type": "string"},
        {"name": "zip", "type": ["null", "string"], "default": None},
    ],
}

EVERYTHING = {
    "type": "record",
    "name": "Everything",
    "namespace": "com.example",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "small", "type": "int"},
        {"name": "flag", "type": "boolean"},
        {"name": "ratio", "type": "float"},
        {"name": "score", "type": "double"},
        {"name": "name", "type": "string"},
        {"name": "blob", "type": "bytes"},
        {"name": "digest", "type": {"type": "fixed", "name": "Digest", "size": 4}},
        {"name": "colour", "type": {"type": "enum", "name": "Colour", "symbols": ["RED", "GREEN", "BLUE"]}},
        {"name": "tags", "type": {"type": "array", "items": "string"}},
        {"name": "counts", "type": {"type": "map", "values": "long"}},
        {"name": "maybe", "type": ["null", "string", "long"], "default": None},
        {"name": "home", "type": "com.example.Address"},
        {"name": "others", "type": {"type": "array", "items": "com.example.Address"}},
        {"name": "price", "type": {"type": "bytes", "logicalType": "decimal", "precision": 12, "scale": 2}},
        {"name": "big", "type": {"type": "fixed", "name": "Big", "size": 16, "logicalType": "decimal", "precision": 38, "scale": 0}},
        {"name": "uid", "type": {"type": "string", "logicalType": "uuid"}},
        {"name": "day", "type": {"type": "int", "logicalType": "date"}},
        {"name": "at_ms", "type": {"type": "int", "logicalType": "time-millis"}},
        {"name": "at_us", "type": {"type": "long", "logicalType": "time-micros"}},
        {"name": "ts_ms", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "ts_us", "type": {"type": "long", "logicalType": "timestamp-micros"}},
        {"name": "local_ms", "type": {"type": "long", "logicalType": "local-timestamp-millis"}},
    ],
}

KEY = {"type": "record", "name": "Key", "namespace": "com.example", "fields": [{"name": "k", "type": "long"}]}

UTC = datetime.timezone.utc


def everything(i, **overrides):
    base = {
        "id": 2**53 + i,
        "small": -i,
        "flag": i % 2 == 0,
        "ratio": 0.1,
        "score": 1.5 + i,
        "name": f"näme {i} ✓ 𝄞",
        "blob": bytes(range(i, i + 5)),
        "digest": b"\x00\xff\x10" + bytes([i]),
        "colour": ["RED", "GREEN", "BLUE"][i % 3],
        "tags": [f"t{j}" for j in range(i % 3)],
        "counts": {"a": i, "b": -(2**62)},
        "maybe": [None, "text", 2**60][i % 3],
        "home": {"street": "Main St 1", "zip": None if i % 2 else "12345"},
        "others": [{"street": f"S{j}", "zip": str(j)} for j in range(i % 2 + 1)],
        "price": decimal.Decimal("-12.30") if i % 2 else decimal.Decimal("0.05"),
        "big": decimal.Decimal(10**30 + i),
        "uid": uuid.UUID(int=0x1234567890ABCDEF1234567890ABCDEF + i),
        "day": datetime.date(1969, 12, 31) + datetime.timedelta(days=i * 400),
        "at_ms": datetime.time(23, 59, 58, 123000),
        "at_us": datetime.time(1, 2, 3, 456789),
        "ts_ms": datetime.datetime(2026, 11, 22, 1, 2, 3, 4000 * (i + 1), tzinfo=UTC),
        "ts_us": datetime.datetime(1960, 1, 1, 0, 0, 0, 1 + i, tzinfo=UTC),
        "local_ms": datetime.datetime(2000, 2, 29, 12, 0, 0, 999000),
    }
    base.update(overrides)
    return base


def shortest_f32(x):
    """The shortest decimal that reads back as the same 32-bit float."""
    if math.isnan(x) or math.isinf(x):
        return x
    target = struct.unpack("<f", struct.pack("<f", x))[0]
    for digits in range(1, 10):
        candidate = float(f"{target:.{digits}g}")
        if struct.unpack("<f", struct.pack("<f", candidate))[0] == target:
            return candidate
    return target


def contract(value, schema, named):
    """The project's JSON contract applied to fastavro's decoded objects."""
    if isinstance(schema, str):
        if schema in named:
            return contract(value, named[schema], named)
        schema = {"type": schema}
    if isinstance(schema, list):
        for branch in schema:
            if matches(value, branch, named):
                return contract(value, branch, named)
        raise ValueError(f"no branch for {value!r}")
    t = schema["type"]
    logical = schema.get("logicalType")
    if isinstance(t, (dict, list)) or (isinstance(t, str) and t in named):
        return contract(value, t, named)
    if value is None:
        return None
    if logical == "decimal":
        scale = schema.get("scale", 0)
        q = value.quantize(decimal.Decimal(1).scaleb(-scale)) if scale else value.to_integral_value()
        return format(q, "f")
    if logical == "uuid":
        return str(value).lower()
    if logical == "date":
        return value.isoformat()
    if logical == "time-millis":
        return value.strftime("%H:%M:%S.") + f"{value.microsecond // 1000:03d}"
    if logical == "time-micros":
        return value.strftime("%H:%M:%S.%f")
    if logical in ("timestamp-millis", "local-timestamp-millis"):
        z = "Z" if logical == "timestamp-millis" else ""
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}" + z
    if logical in ("timestamp-micros", "local-timestamp-micros"):
        z = "Z" if logical == "timestamp-micros" else ""
        return value.strftime("%Y-%m-%dT%H:%M:%S.%f") + z
    if t == "record":
        return {f["name"]: contract(value[f["name"]], f["type"], named) for f in schema["fields"]}
    if t == "array":
        return [contract(v, schema["items"], named) for v in value]
    if t == "map":
        return {k: contract(v, schema["values"], named) for k, v in value.items()}
    if t in ("bytes", "fixed"):
        return base64.b64encode(value).decode()
    if t in ("float", "double"):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return shortest_f32(value) if t == "float" else value
    return value


def matches(value, branch, named):
    if isinstance(branch, str) and branch in named:
        branch = named[branch]
    t = branch if isinstance(branch, str) else branch["type"]
    if t == "null":
        return value is None
    if t == "string":
        return isinstance(value, str)
    if t in ("long", "int"):
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, dict)


def pipes_record(topic, offset, key, value, headers):
    return {
        "topic": topic,
        "partition": 0,
        "offset": offset,
        "timestamp": 1763773323000 + offset,
        "timestampType": "CREATE_TIME",
        "key": None if key is None else base64.b64encode(key).decode(),
        "value": base64.b64encode(value).decode(),
        "headers": [{k: [b - 256 if b > 127 else b for b in v]} for k, v in headers],
        "bootstrapServers": "smk://broker.local:9092",
        "eventSource": "SelfManagedKafka",
        "eventSourceKey": f"{topic}-0",
    }


def main():
    url, out_path = sys.argv[1], sys.argv[2]
    client = SchemaRegistryClient({"url": url})
    topic = "everything"
    address_id = client.register_schema("address-value", Schema(json.dumps(ADDRESS), "AVRO"))
    address_version = client.lookup_schema("address-value", Schema(json.dumps(ADDRESS), "AVRO")).version
    main_schema = Schema(
        json.dumps(EVERYTHING),
        "AVRO",
        references=[SchemaReference("com.example.Address", "address-value", address_version)],
    )
    prefix = AvroSerializer(client, main_schema, conf={"auto.register.schemas": True})
    header = AvroSerializer(
        client, main_schema, conf={"auto.register.schemas": True, "schema.id.serializer": header_schema_id_serializer}
    )
    keys = AvroSerializer(client, json.dumps(KEY), conf={"auto.register.schemas": True})

    # fastavro reads with one self-contained schema: define Address inline at
    # its first use, as the reference resolution in the registry amounts to.
    expanded = json.loads(json.dumps(EVERYTHING))
    expanded["fields"][[f["name"] for f in expanded["fields"]].index("home")]["type"] = ADDRESS
    parsed = fastavro.parse_schema(expanded)
    raw_named = {"com.example.Address": ADDRESS}

    cases = [everything(i) for i in range(6)]
    cases.append(everything(6, score=float("nan"), ratio=float("inf")))
    cases.append(everything(7, score=float("-inf"), id=-(2**63), small=2**31 - 1))
    batch, expected = [], []
    for offset, record in enumerate(cases):
        headers = [("trace", b"abc"), ("bin", b"\xff\x00")]
        use_header = offset % 3 == 2
        ctx = SerializationContext(topic, MessageField.VALUE, headers)
        value = (header if use_header else prefix)(record, ctx)
        key_bytes = None
        key_json = None
        if offset % 4 == 1:
            kctx = SerializationContext(topic, MessageField.KEY, headers)
            key_bytes = keys({"k": offset}, kctx)
            key_json = {"k": offset}
        elif offset % 4 == 2:
            key_bytes = f"key-{offset}".encode()
            key_json = f"key-{offset}"
        payload = value if use_header else value[5:]
        decoded = fastavro.schemaless_reader(io.BytesIO(payload), parsed)
        batch.append(pipes_record(topic, offset, key_bytes, value, headers))
        expected.append({"key": key_json, "value": contract(decoded, EVERYTHING, raw_named), "header": use_header})
    with open(out_path, "w") as f:
        json.dump({"batch": batch, "expected": expected, "addressId": address_id}, f, allow_nan=False)


if __name__ == "__main__":
    main()
