"""Oracle for tests/tests/event_pattern_moto.rs: moto's EventBridge pattern matcher.

Reads JSON lines {"pattern": {...}, "event": {...}} on stdin and writes one JSON
line per case: {"matches": true|false} or {"error": "..."} when moto rejects
the pattern. Uses moto.events.models.EventPattern, the matcher behind moto's
PutRule/PutEvents/TestEventPattern, in-process (no server needed).

`--bench SECONDS` (for `make bench`) instead reads one JSON document
{"patterns": [...], "events": [...]} and prints {"events_per_sec": x}: how many
events per second moto matches against all the patterns, patterns loaded once.
"""

import json
import sys
import time

from moto.events.models import EventPattern


def bench(seconds: float) -> None:
    doc = json.load(sys.stdin)
    patterns = [EventPattern.load(json.dumps(p)) for p in doc["patterns"]]
    events = doc["events"]
    done = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        for event in events:
            for pattern in patterns:
                pattern.matches_event(event)
        done += len(events)
    rate = done / (time.perf_counter() - start)
    print(json.dumps({"events_per_sec": rate}))


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--bench":
        bench(float(sys.argv[2]))
        return
    out = sys.stdout
    for line in sys.stdin:
        if not line.strip():
            continue
        case = json.loads(line)
        try:
            pattern = EventPattern.load(json.dumps(case["pattern"]))
            result = {"matches": bool(pattern.matches_event(case["event"]))}
        except Exception as e:  # moto's InvalidEventPatternException and friends
            result = {"error": f"{type(e).__name__}: {e}"}
        out.write(json.dumps(result) + "\n")
    out.flush()


if __name__ == "__main__":
    main()
