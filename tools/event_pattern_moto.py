"""Oracle for tests/tests/event_pattern_moto.rs: moto's EventBridge pattern matcher.

Reads JSON lines {"pattern": {...}, "event": {...}} on stdin and writes one JSON
line per case: {"matches": true|false} or {"error": "..."} when moto rejects
the pattern. Uses moto.events.models.EventPattern, the matcher behind moto's
PutRule/PutEvents/TestEventPattern, in-process (no server needed).
"""

import json
import sys

from moto.events.models import EventPattern


def main() -> None:
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
