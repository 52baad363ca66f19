#!/usr/bin/env python3
"""Cross-checks local-aws's Confluent Schema Registry against Confluent's own
Python client (confluent-kafka[schemaregistry,avro]): registration, lookups,
references, both wire framings (v0 id prefix and the v1 GUID header) and
error parsing. Exits non-zero on the first mismatch.

usage: sr_python_client_check.py URL [--basic-auth USER:PASSWORD]

With --basic-auth the registry must have that auth enabled; the script also
checks that a client without credentials is refused with 401.
"""

import argparse
import json
import struct
import sys
import uuid

try:
    from confluent_kafka.schema_registry import (
        Schema,
        SchemaReference,
        SchemaRegistryClient,
        SchemaRegistryError,
        header_schema_id_serializer,
    )
    from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
    from confluent_kafka.serialization import MessageField, SerializationContext
except ImportError as e:
    sys.exit(f"confluent-kafka[schemaregistry,avro] is not installed ({e}): run `make venv`")

TOPIC = "orders"
ADDRESS_SUBJECT = "com.acme.Address"
ADDRESS = json.dumps({
    "type": "record", "name": "Address", "namespace": "com.acme",
    "fields": [{"name": "street", "type": "string"}, {"name": "zip", "type": ["null", "string"]}],
})
ORDER = json.dumps({
    "type": "record", "name": "Order", "namespace": "com.acme",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "amount", "type": "double"},
        {"name": "ship_to", "type": "com.acme.Address"},
        {"name": "tags", "type": {"type": "array", "items": "string"}},
    ],
})
RECORD = {"id": 42, "amount": 9.5, "ship_to": {"street": "1 Main St", "zip": None}, "tags": ["a", "b"]}


class Mismatch(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Mismatch(message)


def expect_error(call, status, code, what):
    try:
        call()
    except SchemaRegistryError as e:
        check((e.http_status_code, e.error_code) == (status, code),
              f"{what}: expected HTTP {status} / {code}, got {e!r}")
        return
    raise Mismatch(f"{what}: expected HTTP {status} / {code}, got success")


def client(url, auth):
    conf = {"url": url, "max.retries": 0}
    if auth:
        conf["basic.auth.user.info"] = auth
    return SchemaRegistryClient(conf)


def run(url, auth):
    sr = client(url, auth)
    if auth:
        expect_error(lambda: client(url, None).get_subjects(), 401, 401, "no credentials")
        expect_error(lambda: client(url, "wrong:secret").get_subjects(), 401, 401, "bad credentials")

    # Registration: ids, idempotency, GUIDs, lookup.
    address = sr.register_schema_full_response(ADDRESS_SUBJECT, Schema(ADDRESS, "AVRO"))
    check(address.schema_id >= 1 and address.guid, f"register returned {address}")
    check(str(uuid.UUID(address.guid)) == address.guid, f"guid {address.guid} is not a UUID")
    again = client(url, auth).register_schema(ADDRESS_SUBJECT, Schema(ADDRESS, "AVRO"))
    check(again == address.schema_id, f"re-registering gave id {again}, not {address.schema_id}")
    copy = client(url, auth).register_schema("address-copy", Schema(ADDRESS, "AVRO"))
    check(copy == address.schema_id, f"same schema, other subject: id {copy}, not {address.schema_id}")
    found = client(url, auth).lookup_schema(ADDRESS_SUBJECT, Schema(ADDRESS, "AVRO"))
    check((found.schema_id, found.version, found.subject) == (address.schema_id, 1, ADDRESS_SUBJECT),
          f"lookup returned {found}")
    fetched = client(url, auth).get_schema(address.schema_id)
    check(json.loads(fetched.schema_str) == json.loads(ADDRESS) and fetched.schema_type == "AVRO",
          f"get_schema returned {fetched}")
    latest = client(url, auth).get_latest_version(ADDRESS_SUBJECT)
    check((latest.schema_id, latest.version) == (address.schema_id, 1), f"latest is {latest}")
    check(client(url, auth).get_versions(ADDRESS_SUBJECT) == [1], "versions of the address subject")
    check({ADDRESS_SUBJECT, "address-copy"} <= set(sr.get_subjects()), "subjects listed")

    # Errors as the client parses them.
    expect_error(lambda: client(url, auth).get_schema(99999), 404, 40403, "unknown id")
    expect_error(lambda: client(url, auth).get_latest_version("no-such-subject"), 404, 40401,
                 "unknown subject")
    expect_error(lambda: client(url, auth).get_version(ADDRESS_SUBJECT, 7), 404, 40402, "unknown version")
    expect_error(lambda: client(url, auth).register_schema("bad", Schema('{"type": "record"}', "AVRO")),
                 422, 42201, "invalid schema")
    expect_error(lambda: client(url, auth).lookup_schema(ADDRESS_SUBJECT, Schema('"int"', "AVRO")),
                 404, 40403, "lookup of an unregistered schema")

    # An Avro serializer auto-registering a schema with a reference, v0 framing.
    order_schema = Schema(ORDER, "AVRO", [SchemaReference("com.acme.Address", ADDRESS_SUBJECT, 1)])
    ctx = SerializationContext(TOPIC, MessageField.VALUE)
    serializer = AvroSerializer(client(url, auth), order_schema, conf={"auto.register.schemas": True})
    framed = serializer(RECORD, ctx)
    order = client(url, auth).get_latest_version(f"{TOPIC}-value")
    check(order.schema.references and order.schema.references[0].subject == ADDRESS_SUBJECT,
          f"references not stored: {order}")
    check(framed[0] == 0 and struct.unpack(">I", framed[1:5])[0] == order.schema_id,
          f"v0 frame {framed[:5].hex()} does not carry id {order.schema_id}")
    decoded = AvroDeserializer(client(url, auth))(framed, ctx)
    check(decoded == RECORD, f"v0 round trip gave {decoded}")

    # The same schema, looked up rather than registered.
    lookup_serializer = AvroSerializer(client(url, auth), order_schema,
                                       conf={"auto.register.schemas": False})
    check(lookup_serializer(RECORD, ctx) == framed, "lookup serializer framed differently")

    # v1: GUID in the __value_schema_id header, payload unprefixed.
    headers = []
    header_ctx = SerializationContext(TOPIC, MessageField.VALUE, headers)
    header_serializer = AvroSerializer(client(url, auth), order_schema,
                                       conf={"schema.id.serializer": header_schema_id_serializer})
    payload = header_serializer(RECORD, header_ctx)
    check(payload == framed[5:], "header framing changed the Avro payload")
    check(len(headers) == 1 and headers[0][0] == "__value_schema_id", f"headers {headers}")
    value = headers[0][1]
    check(value[0] == 1 and str(uuid.UUID(bytes=value[1:17])) == order.guid,
          f"header {value.hex()} does not carry guid {order.guid}")
    decoded = AvroDeserializer(client(url, auth))(payload, header_ctx)
    check(decoded == RECORD, f"GUID round trip gave {decoded}")
    by_guid = client(url, auth).get_schema_by_guid(order.guid)
    check(json.loads(by_guid.schema_str) == json.loads(ORDER), f"get_schema_by_guid gave {by_guid}")

    # Soft delete keeps ids resolvable.
    deleted = client(url, auth).delete_subject("address-copy")
    check(deleted == [1], f"delete_subject returned {deleted}")
    check("address-copy" not in client(url, auth).get_subjects(), "soft-deleted subject still listed")
    check(json.loads(client(url, auth).get_schema(address.schema_id).schema_str) == json.loads(ADDRESS),
          "soft delete broke get_schema")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--basic-auth", metavar="USER:PASSWORD")
    args = parser.parse_args()
    try:
        run(args.url, args.basic_auth)
    except (Mismatch, SchemaRegistryError) as e:
        sys.exit(f"MISMATCH: {e!r}")
    print("confluent-kafka client agrees with the registry")


if __name__ == "__main__":
    main()
