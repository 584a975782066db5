#!/usr/bin/env python3
"""upsert-openapi-validate.py: check qdrant-upsert --dry-run request lines against the Qdrant OpenAPI spec.

Reads {"kind":"request","service":"qdrant","method","path","body"} lines on stdin,
finds each path's operation in the spec and validates the body against its
requestBody schema. Only the subset of OpenAPI 3.0 the Qdrant spec uses:
$ref, oneOf/anyOf/allOf, nullable, enum, object properties/required/
additionalProperties, arrays, types, minimum/maximum. Unknown object members
are errors too (--lenient allows them), which catches misspelt keys that
serde would silently ignore. Exit 0 when every body validates, 1 otherwise.
"""

import json
import re
import sys


class Invalid(Exception):
    pass


def short(v):
    t = json.dumps(v)
    return t if len(t) <= 60 else t[:57] + "..."


class Validator:
    def __init__(self, spec, strict=True):
        self.spec = spec
        self.strict = strict

    def resolve(self, s):
        while "$ref" in s:
            ref = s["$ref"]
            if not ref.startswith("#/"):
                raise Invalid("external $ref %s" % ref)
            node = self.spec
            for part in ref[2:].split("/"):
                node = node[part]
            s = node
        return s

    def check(self, v, s, where):
        s = self.resolve(s)
        shape = ("type", "oneOf", "anyOf", "allOf", "properties", "enum", "items")
        if s.get("nullable") and not any(k in s for k in shape):
            # the spec's {"nullable": true} branch of Option<T>: null only
            if v is not None:
                raise Invalid("%s: %s is not null" % (where, short(v)))
            return
        if v is None:
            if s.get("nullable") or not s or s.get("type") is None and not any(
                    k in s for k in ("oneOf", "anyOf", "allOf", "properties", "enum")):
                return
            if any(k in s for k in ("oneOf", "anyOf", "allOf")):
                pass  # a branch may be nullable
            else:
                raise Invalid("%s: null not allowed" % where)
        for k in ("oneOf", "anyOf"):
            if k in s:
                errs, n = [], 0
                for i, sub in enumerate(s[k]):
                    try:
                        self.check(v, sub, where)
                        n += 1
                    except Invalid as e:
                        errs.append(str(e))
                if n == 0:
                    raise Invalid("%s: matches no %s branch (%s)" % (where, k, "; ".join(e[:200] for e in errs[:4])))
                if k == "oneOf" and n > 1:
                    raise Invalid("%s: matches %d oneOf branches" % (where, n))
        for sub in s.get("allOf", []):
            self.check(v, sub, where)
        if "enum" in s and v not in s["enum"]:
            raise Invalid("%s: %s not in %r" % (where, short(v), s["enum"]))
        t = s.get("type")
        if t is None:
            return
        if v is None:
            raise Invalid("%s: null not allowed" % where)
        ok = {"object": isinstance(v, dict), "array": isinstance(v, list),
              "string": isinstance(v, str), "boolean": isinstance(v, bool),
              "integer": isinstance(v, int) and not isinstance(v, bool),
              "number": isinstance(v, (int, float)) and not isinstance(v, bool)}.get(t)
        if ok is None:
            raise Invalid("%s: unknown type %s in spec" % (where, t))
        if not ok:
            raise Invalid("%s: %s is not %s" % (where, short(v), t))
        if t in ("integer", "number"):
            if "minimum" in s and v < s["minimum"]:
                raise Invalid("%s: %r < minimum %r" % (where, v, s["minimum"]))
            if "maximum" in s and v > s["maximum"]:
                raise Invalid("%s: %r > maximum %r" % (where, v, s["maximum"]))
            if s.get("format", "").startswith("uint") and v < 0:
                raise Invalid("%s: %r is negative" % (where, v))
        if t == "array":
            for i, x in enumerate(v):
                self.check(x, s.get("items", {}), "%s[%d]" % (where, i))
        if t == "object":
            props = s.get("properties", {})
            for r in s.get("required", []):
                if r not in v:
                    raise Invalid("%s: missing required %s" % (where, r))
            ap = s.get("additionalProperties")
            for k2, x in v.items():
                if k2 in props:
                    self.check(x, props[k2], "%s.%s" % (where, k2))
                elif isinstance(ap, dict):
                    self.check(x, ap, "%s.%s" % (where, k2))
                elif ap is False or (self.strict and props and ap is None):
                    raise Invalid("%s: unknown member %s" % (where, k2))


def operation(spec, method, path):
    path = path.split("?", 1)[0]
    for tmpl, ops in spec["paths"].items():
        rx = "^" + re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(tmpl)) + "$"
        if re.match(rx, path) and method.lower() in ops:
            return tmpl, ops[method.lower()]
    return None, None


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if not args:
        sys.exit("usage: upsert-openapi-validate.py [--lenient] SPEC < requests.ndjson")
    spec = json.load(open(args[0]))
    val = Validator(spec, strict="--lenient" not in sys.argv)
    n = bad = 0
    for line in sys.stdin:
        try:
            r = json.loads(line)
        except ValueError:
            continue
        if r.get("kind") != "request" or r.get("service") != "qdrant":
            continue
        n += 1
        tmpl, op = operation(spec, r["method"], r["path"])
        if op is None:
            print("not in spec: %s %s" % (r["method"], r["path"]))
            bad += 1
            continue
        schema = (op.get("requestBody", {}).get("content", {})
                  .get("application/json", {}).get("schema"))
        if "body" not in r:
            continue
        if schema is None:
            print("%s %s: spec takes no body" % (r["method"], tmpl))
            bad += 1
            continue
        try:
            val.check(r["body"], schema, "body")
        except Invalid as e:
            print("%s %s: %s" % (r["method"], tmpl, e))
            bad += 1
    print("%d qdrant requests, %d invalid" % (n, bad))
    sys.exit(1 if bad or n == 0 else 0)


if __name__ == "__main__":
    main()
