"""Decodes audit-forwarder's Avro record values with Confluent's own Python
deserializer (confluent-kafka AvroDeserializer: magic byte, schema id, schema
fetched from the registry, fastavro decoding) - an implementation independent
of the Rust encoder.

usage: xcheck_audit_avro.py <registry url> <topic>   (stdin: JSON list of base64 values)
stdout: JSON list of the decoded records, each with "_schema_id".
"""

import base64
import json
import struct
import sys

from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext


def main() -> None:
    url, topic = sys.argv[1], sys.argv[2]
    values = [base64.b64decode(v) for v in json.load(sys.stdin)]
    deserializer = AvroDeserializer(SchemaRegistryClient({"url": url}))
    out = []
    for raw in values:
        magic, schema_id = struct.unpack(">bI", raw[:5])
        if magic != 0:
            raise SystemExit(f"magic byte {magic}, expected 0")
        record = deserializer(raw, SerializationContext(topic, MessageField.VALUE))
        record["_schema_id"] = schema_id
        out.append(record)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
