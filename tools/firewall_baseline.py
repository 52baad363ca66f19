"""Python baseline for the firewall-rule-collector benchmark: what
anfw-automate's RuleCollect does per config file with its stack (PyYAML
safe_load, jsonschema with its schema.json, regex checks, md5 rule names,
string templates), timed in-process.

usage: firewall_baseline.py <config.yaml> <account> <iterations>
prints: <median milliseconds> <rules generated>
"""
import hashlib
import re
import statistics
import sys
import time

import jsonschema
import yaml

DOMAIN = r"((^\.?)(((?!-)[a-zA-Z0-9-]{0,62}[a-zA-Z0-9]\.)+[a-zA-Z]{2,63})(:\d{1,5})?$)"
TLS_DOMAIN = r"((^\.?)(((?!-)[a-zA-Z0-9-]{0,62}[a-zA-Z0-9]\.)+[a-zA-Z]{2,63})(:\d{1,5})$)"
SCHEMA = {
    "$schema": "http://json-schema.org/draft-06/schema#",
    "type": "object",
    "additionalProperties": False,
    "required": ["Version", "Description", "Config"],
    "properties": {
        "Version": {"type": "string"},
        "Description": {"type": "string"},
        "Config": {"type": "array", "items": {
            "type": "object", "required": ["VPC", "Type", "Properties"],
            "properties": {
                "VPC": {"type": "string", "pattern": "^vpc-[0-9a-zA-Z]{8,17}$"},
                "Type": {"type": "string"},
                "Properties": {"type": "array", "items": {
                    "type": "object", "additionalProperties": False, "required": [],
                    "properties": {
                        "HTTPS": {"type": "array", "items": {"type": "string", "pattern": DOMAIN}},
                        "HTTP": {"type": "array", "items": {"type": "string", "pattern": DOMAIN}},
                        "TLS": {"type": "array", "items": {"type": "string", "pattern": TLS_DOMAIN}},
                        "CUSTOM": {"type": "array", "items": {"type": "string"}},
                    }}}}}},
    },
}
PROTOS = {"http": "http.host", "https": "tls.sni", "tls": "tls.sni"}
CUSTOM_PROTOS = ["http", "https", "tls", "ftp", "smb", "dns", "dcerpc", "ssh", "smtp", "imap", "modbus", "dnp3", "nfs",
                 "ikev2", "krb5", "ntp", "dhcp", "rfb", "rdp", "snmp", "tftp", "sip", "tcp", "udp", "icmp", "ip"]
# The intended (correctly grouped) base-format check.
BASE = re.compile(r"^(pass)\s(" + "|".join(CUSTOM_PROTOS) + r")\s\$a(\w*)\s(any|\d{1,5})\s(->)\s\$EXTERNAL_NET\s(any|(\d{1,5}))\s(\(.*\)$)", re.IGNORECASE)
TLD = re.compile(r"^\.[a-zA-Z]{2,}$")
RESERVED = ["msg", "sid", "rev", "gid", "classtype", "reference", "priority", "metadata", "target"]


def process(text, account):
    config = yaml.safe_load(text)
    jsonschema.validate(config, SCHEMA)
    rules = {}
    for entry in config["Config"]:
        vpc = entry["VPC"].replace("vpc-", "")
        for prop in entry["Properties"]:
            for key, values in prop.items():
                key = key.lower()
                for value in values:
                    if key in PROTOS:
                        value = value.lower().replace(" ", "")
                        if TLD.match(value):
                            raise ValueError("TLD")
                        m = re.match(r"^.+:\d+$", value)
                        domain, port = (value.rsplit(":", 1) if m else (value, "any"))
                        name = f"{account}-{vpc}-{hashlib.md5(value.join(key).encode()).hexdigest()[:10]}"
                        s_rule = PROTOS[key]
                        proto = s_rule.split(".")[0]
                        if domain.startswith("."):
                            rules[name] = f'pass {proto} $a{account}{vpc} any -> $EXTERNAL_NET {port} ({s_rule}; dotprefix; content:"{domain}"; endswith; flow:to_server, established; sid:10; rev:1; metadata: rule_name {name};)'
                        else:
                            rules[name] = f'pass {proto} $a{account}{vpc} any -> $EXTERNAL_NET {port} ({s_rule}; content:"{domain}"; startswith; endswith; flow:to_server, established; sid:10; rev:1; metadata: rule_name {name};)'
                    else:
                        options = re.search(r"\((.*)\)$", value).group(1)
                        if not BASE.search(value):
                            raise ValueError("base")
                        if not re.search(r"content:(.*?);", options.replace(" ", "")):
                            raise ValueError("content")
                        if value.split()[2] != f"$a{account}{vpc}":
                            raise ValueError("variable")
                        if any(k + ":" in options.replace(" ", "") for k in RESERVED):
                            raise ValueError("reserved")
                        name = f"{account}-{vpc}-{hashlib.md5(value.encode()).hexdigest()[:10]}"
                        rules[name] = re.sub(r"\((.*)\)$", "(" + options + f"sid:10;rev:1;metadata: rule_name {name};)", value)
    return rules


def main():
    path, account, iterations = sys.argv[1], sys.argv[2], int(sys.argv[3])
    text = open(path, encoding="utf-8").read()
    times = []
    count = 0
    for _ in range(iterations):
        start = time.perf_counter()
        count = len(process(text, account))
        times.append(time.perf_counter() - start)
    print(f"{statistics.median(times) * 1e3:.3f} {count}")


if __name__ == "__main__":
    main()
