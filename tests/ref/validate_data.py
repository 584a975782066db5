#!/usr/bin/env python3
"""validate_data.py: checks the payload.data of meta-enrich's points against mcp-plex's AggregatedItem JSON Schema.

Usage: validate_data.py SCHEMA [FILE]
Reads NDJSON (points records, bare points, or other records, which are
ignored) from FILE or stdin. Prints "N of M data objects fail the schema",
and for the first failures the rating key, the path and the message.
Exits 0 when every data object validates, 1 when one does not (or there
was none), 2 on bad usage or input.
"""

import json
import sys

try:
    import jsonschema
except ImportError:
    sys.exit("validate_data.py: python3-jsonschema is needed (scripts/install-deps)")


def points(lines):
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except ValueError as e:
            sys.stderr.write("validate_data.py: line %d: %s\n" % (n, e))
            sys.exit(2)
        if rec.get("kind") == "points":
            yield from rec.get("points", [])
        elif "kind" not in rec and "payload" in rec:
            yield rec


def main(argv):
    if len(argv) not in (2, 3):
        sys.stderr.write(__doc__)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        schema = json.load(f)
    validator = jsonschema.Draft202012Validator(schema)
    src = open(argv[2], encoding="utf-8") if len(argv) == 3 else sys.stdin
    total = bad = 0
    for p in points(src):
        total += 1
        data = p.get("payload", {}).get("data")
        errors = list(validator.iter_errors(data))
        if not errors:
            continue
        bad += 1
        if bad <= 10:
            key = (data or {}).get("plex", {}).get("rating_key") if isinstance(data, dict) else None
            for e in errors[:3]:
                path = ".".join(str(x) for x in e.absolute_path)
                print("rating key %s: data.%s: %s" % (key, path, e.message[:200]))
    print("%d of %d data objects fail the schema" % (bad, total))
    return 1 if bad or not total else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
