"""Cross-implementation vectors for pipe-avro-enricher, made by the AWS Glue
Schema Registry Python library (PyPI aws-glue-schema-registry) against Glue
on a moto server.

Usage: python tools/xcheck_glue.py <moto-url> <out.json>

Writes {"batch": [Pipes MSK records], "expected": [{"key", "value",
"valueSchemaId", "keySchemaId"?, "compression"}], "zlib": n, "versions":
[...]}. The library registers the schemas through Glue (GetSchemaByDefinition,
CreateSchema, RegisterSchemaVersion) and frames the records; the expected JSON
is computed independently of the function under test: fastavro decodes the
library's bytes (18-byte header stripped, zlib-inflated when byte 1 is 0x05)
with the definition Glue returns, and `contract()` from xcheck_confluent.py
applies the project's JSON contract.

The library's KafkaSerializer (1.1.3) never compresses; the ZLIB records come
from its `codec.encode(..., compression=True)` with the version id the same
client resolves. Only CreateRegistry is done with boto3 directly: the library
expects its registry to exist, as it would in a real account.
"""
import base64
import copy
import datetime
import decimal
import io
import json
import logging
import os
import sys
import uuid
import zlib

import boto3
import fastavro
from aws_schema_registry import DataAndSchema, KafkaDeserializer, KafkaSerializer, SchemaRegistryClient
from aws_schema_registry.avro import AvroSchema
from aws_schema_registry.codec import decode, encode

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import xcheck_confluent  # noqa: E402
from xcheck_confluent import ADDRESS, EVERYTHING, contract, everything  # noqa: E402

# contract() picks a union branch with matches(), which knows the primitive
# branches only; fastavro gives logical values their Python types, so a
# logical branch (["null", timestamp-micros], ["null", decimal]) matches by
# that type. The contract itself is unchanged.
LOGICAL_PYTHON_TYPES = {
    "decimal": decimal.Decimal,
    "uuid": uuid.UUID,
    "date": datetime.date,
    "time-millis": datetime.time,
    "time-micros": datetime.time,
    "timestamp-millis": datetime.datetime,
    "timestamp-micros": datetime.datetime,
    "local-timestamp-millis": datetime.datetime,
    "local-timestamp-micros": datetime.datetime,
}
_primitive_matches = xcheck_confluent.matches


def _matches(value, branch, named):
    if isinstance(branch, dict) and branch.get("logicalType") in LOGICAL_PYTHON_TYPES:
        return isinstance(value, LOGICAL_PYTHON_TYPES[branch["logicalType"]])
    return _primitive_matches(value, branch, named)


xcheck_confluent.matches = _matches

REGISTRY = "xcheck-glue"
TOPIC = "glue-every-thing"  # dashes: the function takes the topic from eventSourceKey's last '-'
ARN = "arn:aws:kafka:us-east-1:123456789012:cluster/xcheck/0b7d6f44-1e2f-4a55-9c1d-2f7e1a0c3b11-2"
UTC = datetime.timezone.utc
GLUE_HEADER = 18


INNER = {
    "type": "record",
    "name": "Inner",
    "fields": [
        {"name": "depth", "type": "int"},
        {"name": "when", "type": ["null", {"type": "long", "logicalType": "timestamp-micros"}]},
        {"name": "amount", "type": ["null", {"type": "bytes", "logicalType": "decimal", "precision": 20, "scale": 4}]},
        {"name": "ref", "type": ["null", {"type": "string", "logicalType": "uuid"}], "default": None},
    ],
}


def glue_schema(version):
    """EVERYTHING, self-contained (Glue has no Avro references), plus more:
    named-type references, a record branch in a union, float/double in
    collections, nested records two deep; version 2 adds fields."""
    schema = copy.deepcopy(EVERYTHING)
    schema["name"] = "GlueEverything"
    fields = schema["fields"]
    fields[[f["name"] for f in fields].index("home")]["type"] = copy.deepcopy(ADDRESS)
    fields += [
        {"name": "history", "type": {"type": "array", "items": "com.example.Colour"}},
        {"name": "backup", "type": ["null", "com.example.Address"], "default": None},
        {"name": "choice", "type": ["string", "null", "long"]},
        {"name": "ratios", "type": {"type": "array", "items": "float"}},
        {"name": "gauges", "type": {"type": "map", "values": "double"}},
        {"name": "digests", "type": {"type": "map", "values": "com.example.Digest"}},
        {
            "name": "outer",
            "type": {
                "type": "record",
                "name": "Outer",
                "namespace": "com.example.nested",
                "fields": [
                    {"name": "label", "type": "string"},
                    {"name": "inner", "type": copy.deepcopy(INNER)},
                    {"name": "inners", "type": {"type": "array", "items": "Inner"}},
                ],
            },
        },
        {"name": "small_max", "type": "int"},
        {"name": "long_min", "type": "long"},
        {"name": "neg_ms", "type": {"type": "long", "logicalType": "timestamp-millis"}},
    ]
    if version == 2:
        fields += [
            {"name": "revision", "type": "string", "default": "v2"},
            {"name": "local_us", "type": {"type": "long", "logicalType": "local-timestamp-micros"}, "default": 0},
            {"name": "note", "type": ["null", "string"], "default": None},
        ]
    return schema


# Named types the contract resolves by name (string references in the schema).
NAMED = {
    "com.example.Address": ADDRESS,
    "com.example.Colour": {"type": "enum", "name": "Colour", "symbols": ["RED", "GREEN", "BLUE"]},
    "com.example.Digest": {"type": "fixed", "name": "Digest", "size": 4},
    "Inner": INNER,
}

KEY = {
    "type": "record",
    "name": "GlueKey",
    "namespace": "com.example",
    "fields": [{"name": "k", "type": "long"}, {"name": "region", "type": ["null", "string"], "default": None}],
}


def glue_record(i, version):
    inf, nan = float("inf"), float("nan")
    value = everything(i)
    value.update(
        {
            "history": [["RED", "GREEN", "BLUE"][(i + j) % 3] for j in range(i % 4)],
            "backup": None if i % 2 else {"street": f"Backup ✉ {i}", "zip": None},
            "choice": ["ünïcødé 🚀", None, -(2**63) + i][i % 3],
            "ratios": [0.1, -2.5, -1.2345678e38, 1e-45, 16777217.0] + ([nan, inf, -inf] if i % 2 else []),
            "gauges": {"π": 3.141592653589793, "nan": nan, "inf": inf, "-inf": -inf, "tiny": 5e-324, "big": 1.7976931348623157e308},
            "digests": {f"d{j}": bytes([j, 255 - j, i, 0]) for j in range(i % 3)},
            "outer": {
                "label": "\u0000ctrl\t\"quoted\" \\ ✓",
                "inner": {
                    "depth": i,
                    "when": None if i % 2 else datetime.datetime(1900, 1, 1, 0, 0, 0, 1, tzinfo=UTC),
                    "amount": decimal.Decimal("-0.0001") if i % 3 == 0 else None,
                    "ref": None if i % 3 == 1 else uuid.UUID(int=(2**128 - 1) - i),
                },
                "inners": [{"depth": -j, "when": datetime.datetime(2038, 1, 19, 3, 14, 8, j, tzinfo=UTC), "amount": decimal.Decimal(f"{j}12345678.9012"), "ref": None} for j in range(2)],
            },
            "small_max": 2**31 - 1 if i % 2 else -(2**31),
            "long_min": -(2**63),
            "neg_ms": datetime.datetime(1969, 12, 31, 23, 59, 59, 999000, tzinfo=UTC),
            "id": [2**53 + 1, 2**63 - 1, -(2**53) - 1, -(2**63)][i % 4],
            "big": decimal.Decimal(-(10**37) + i) if i % 2 else decimal.Decimal(10**30 + i),
            "score": [1.5 + i, nan, inf, -inf][i % 4],
            "ratio": [0.1, inf, -inf, nan][(i + 1) % 4],
        }
    )
    if version == 2:
        value.update(
            {
                "revision": f"rév {i}",
                "local_us": datetime.datetime(1999, 12, 31, 23, 59, 59, 999999),
                "note": None if i % 2 else "🎉",
            }
        )
    return value


def msk_record(partition, offset, key, value, string_partition):
    return {
        "partition": str(partition) if string_partition else partition,
        "offset": offset,
        "timestamp": 1763773323000 + offset,
        "timestampType": "CREATE_TIME",
        "key": None if key is None else base64.b64encode(key).decode(),
        "value": base64.b64encode(value).decode(),
        "headers": [],
        "eventSourceArn": ARN,
        "bootstrapServers": "b-1.xcheck.abc123.c2.kafka.us-east-1.amazonaws.com:9098",
        "eventSource": "aws:kafka",
        "eventSourceKey": f"{TOPIC}-{partition}",
    }


def independent_decode(framed, definition):
    """fastavro on the library's bytes, with the definition Glue returns."""
    assert framed[0] == 0x03, framed[:2]
    payload = framed[GLUE_HEADER:]
    if framed[1] == 0x05:
        payload = zlib.decompress(payload)
    else:
        assert framed[1] == 0x00, framed[:2]
    return fastavro.schemaless_reader(io.BytesIO(payload), fastavro.parse_schema(json.loads(definition)))


def same(a, b):
    """Equality that treats NaN as equal to itself (for the library round trip)."""
    return json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)


def main():
    url, out_path = sys.argv[1], sys.argv[2]
    # Version 2 makes the library log "Schema is already created ..." on its
    # way from CreateSchema to RegisterSchemaVersion; that path is expected.
    logging.getLogger("aws_schema_registry").setLevel(logging.ERROR)
    glue = boto3.client(
        "glue",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    glue.create_registry(RegistryName=REGISTRY)
    client = SchemaRegistryClient(glue, registry_name=REGISTRY, max_wait_attempts=1, wait_interval_seconds=0.1)
    values = KafkaSerializer(client)
    keys = KafkaSerializer(client, is_key=True)
    deserializer = KafkaDeserializer(client)

    schemas = {v: AvroSchema(glue_schema(v)) for v in (1, 2)}
    key_schema = AvroSchema(KEY)
    versions = {}
    batch, expected = [], []
    for offset in range(10):
        version = 1 if offset < 5 else 2  # the second schema goes through RegisterSchemaVersion
        schema = schemas[version]
        data = glue_record(offset, version)
        zlib_on = offset % 2 == 1
        if zlib_on:
            # GetSchemaByDefinition resolves the version the serializer registered.
            schema_version = client.get_or_register_schema_version(
                definition=str(schema), schema_name=f"{TOPIC}-value", data_format="AVRO"
            )
            value = encode(schema.write(data), schema_version.version_id, compression=True)
        else:
            value = values.serialize(TOPIC, DataAndSchema(data, schema))
        data_bytes, version_id = decode(value)
        versions.setdefault(version, str(version_id))
        assert versions[version] == str(version_id), "one Glue version per definition"

        definition = glue.get_schema_version(SchemaVersionId=str(version_id))["SchemaDefinition"]
        decoded = independent_decode(value, definition)
        assert same(deserializer.deserialize(TOPIC, value).data, decoded), "library round trip"

        key_bytes, key_json, key_id = None, None, None
        if offset % 4 == 1:
            key_bytes = keys.serialize(TOPIC, DataAndSchema({"k": -offset, "region": "eu"}, key_schema))
            key_id = str(decode(key_bytes)[1])
            key_def = glue.get_schema_version(SchemaVersionId=key_id)["SchemaDefinition"]
            key_json = contract(independent_decode(key_bytes, key_def), KEY, {})
        elif offset % 4 == 2:
            key_bytes = f"key-{offset} ✓".encode()
            key_json = f"key-{offset} ✓"

        batch.append(msk_record(offset % 3, 100 + offset, key_bytes, value, string_partition=offset % 2 == 0))
        want = {
            "key": key_json,
            "value": contract(decoded, json.loads(definition), NAMED),
            "valueSchemaId": str(version_id),
            "compression": "zlib" if zlib_on else "none",
        }
        if key_id:
            want["keySchemaId"] = key_id
        expected.append(want)

    assert versions[1] != versions[2]
    with open(out_path, "w") as f:
        json.dump(
            {
                "batch": batch,
                "expected": expected,
                "zlib": sum(e["compression"] == "zlib" for e in expected),
                "versions": [versions[1], versions[2]],
                "topic": TOPIC,
            },
            f,
            allow_nan=False,
            ensure_ascii=False,
        )


if __name__ == "__main__":
    main()
