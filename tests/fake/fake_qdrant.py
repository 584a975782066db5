"""Fake Qdrant (in memory): collections, payload indexes, upsert validation, scroll/count/delete, query with RRF."""

import math
import re
import threading
import time
import uuid

from svc_core import App, Response, jresp

MAX_BODY = 32 * 1024 * 1024
DISTANCES = ("Cosine", "Dot", "Euclid", "Manhattan")
FIELD_TYPES = ("keyword", "integer", "float", "geo", "text", "bool", "datetime", "uuid")
U64 = 2 ** 64
WORD = re.compile(r"\w+", re.UNICODE)
# a few very common English words; the fake's BM25 is a simplification (no stemming)
STOP = set("a an and are as at be but by for if in into is it no not of on or such that the their then "
           "there these they this to was will with".split())


class QErr(Exception):
    def __init__(self, status, msg):
        super().__init__(msg)
        self.status = status
        self.msg = msg


def murmur3_32(data, seed=0):
    c1, c2 = 0xcc9e2d51, 0x1b873593
    h = seed
    n = len(data) & ~3
    for i in range(0, n, 4):
        k = int.from_bytes(data[i:i + 4], "little")
        k = (k * c1) & 0xffffffff
        k = ((k << 15) | (k >> 17)) & 0xffffffff
        k = (k * c2) & 0xffffffff
        h ^= k
        h = ((h << 13) | (h >> 19)) & 0xffffffff
        h = (h * 5 + 0xe6546b64) & 0xffffffff
    k = 0
    tail = data[n:]
    if len(tail) >= 3:
        k ^= tail[2] << 16
    if len(tail) >= 2:
        k ^= tail[1] << 8
    if tail:
        k ^= tail[0]
        k = (k * c1) & 0xffffffff
        k = ((k << 15) | (k >> 17)) & 0xffffffff
        k = (k * c2) & 0xffffffff
        h ^= k
    h ^= len(data)
    h ^= h >> 16
    h = (h * 0x85ebca6b) & 0xffffffff
    h ^= h >> 13
    h = (h * 0xc2b2ae35) & 0xffffffff
    h ^= h >> 16
    return h


def bm25_tokens(text):
    out = []
    for t in WORD.findall(text.lower()):
        if t in STOP or t == "_" or len(t) > 40:
            continue
        h = murmur3_32(t.encode("utf-8"))
        v = h - 2 ** 32 if h >= 2 ** 31 else h
        out.append(abs(v))
    return out


def bm25_doc(text, k=1.2, b=0.75, avg_len=256.0):
    toks = bm25_tokens(text)
    tf = {}
    for t in toks:
        tf[t] = tf.get(t, 0) + 1
    n = len(toks)
    idx = list(tf)
    return {"indices": idx, "values": [tf[t] * (k + 1) / (tf[t] + k * (1 - b + b * n / avg_len)) for t in idx]}


def bm25_query(text):
    idx = list(dict.fromkeys(bm25_tokens(text)))
    return {"indices": idx, "values": [1.0] * len(idx)}


def norm_id(v):
    if isinstance(v, int) and not isinstance(v, bool):
        if 0 <= v < U64:
            return v
    elif isinstance(v, str):
        try:
            return str(uuid.UUID(v))
        except ValueError:
            pass
    raise QErr(400, "Format error in JSON body: value %s is not a valid point ID, "
                    "valid values are either an unsigned integer or a UUID" % _short(v))


def _short(v):
    import json
    s = json.dumps(v)
    return s if len(s) < 60 else s[:57] + "..."


def id_key(i):
    return (0, i, "") if isinstance(i, int) else (1, 0, i)


def get_values(obj, key):
    """All values at a dotted payload path, arrays flattened (like Qdrant's JsonPath)."""
    cur = [obj]
    for part in key.replace("[]", "").split("."):
        nxt = []
        for c in cur:
            if isinstance(c, dict) and part in c:
                v = c[part]
                if isinstance(v, list):
                    nxt.extend(v)
                else:
                    nxt.append(v)
        cur = nxt
    return cur


def same(a, b):
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    return a == b and type(a) is type(b) or (isinstance(a, (int, float)) and isinstance(b, (int, float)) and a == b)


def norm(v):
    """A hashable key that is equal exactly when same() is true."""
    if isinstance(v, bool):
        return ("bool", v)
    if isinstance(v, (int, float)):
        return ("num", v)
    return (type(v).__name__, v)


class Collection:
    def __init__(self, name, body):
        self.name = name
        self.lock = threading.RLock()
        self.points = {}
        self.payload_schema = {}
        self.version = 0
        vec = body.get("vectors", {})
        self.unnamed = isinstance(vec, dict) and "size" in vec
        self.vectors = {"": vec} if self.unnamed else dict(vec or {})
        for n, p in self.vectors.items():
            if not isinstance(p, dict) or not isinstance(p.get("size"), int) or isinstance(p.get("size"), bool):
                raise QErr(400, "Format error in JSON body: vectors.%s: missing or bad field `size`" % n)
            if p["size"] < 1:
                raise QErr(422, "Validation error in JSON body: [vectors.size: value 0 invalid, must be 1 or larger]")
            if p.get("distance") not in DISTANCES:
                raise QErr(400, "Format error in JSON body: unknown variant `%s`, expected one of "
                                "`Cosine`, `Euclid`, `Dot`, `Manhattan`" % p.get("distance"))
        for k in ("shard_number", "replication_factor", "write_consistency_factor"):
            v = body.get(k)
            if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < 1):
                raise QErr(422, "Validation error in JSON body: [%s: value %s invalid, must be 1 or larger]" % (k, v))
        self.sparse = dict(body.get("sparse_vectors") or {})
        for n, p in self.sparse.items():
            if not isinstance(p, dict) or p.get("modifier", "none") not in ("none", "idf"):
                raise QErr(400, "Format error in JSON body: sparse_vectors.%s: bad params" % n)
        self.body = body

    def info(self):
        extra = self.body.get("params") or {}
        params = {"vectors": self.vectors[""] if self.unnamed else self.vectors,
                  "shard_number": self.body.get("shard_number", 1),
                  "replication_factor": extra.get("replication_factor", self.body.get("replication_factor", 1)),
                  "write_consistency_factor": extra.get("write_consistency_factor",
                                                        self.body.get("write_consistency_factor", 1)),
                  "on_disk_payload": True}
        if self.sparse:
            params["sparse_vectors"] = self.sparse
        with self.lock:
            schema = {}
            for f, s in self.payload_schema.items():
                d = dict(s)
                d["points"] = sum(1 for p in self.points.values() if get_values(p["payload"] or {}, f))
                schema[f] = d
            n = len(self.points)
        return {"status": "green", "optimizer_status": "ok", "indexed_vectors_count": 0,
                "points_count": n, "segments_count": 2,
                "config": {"params": params,
                           "hnsw_config": dict({"m": 16, "ef_construct": 100, "full_scan_threshold": 10000,
                                                "max_indexing_threads": 0, "on_disk": False},
                                               **(self.body.get("hnsw_config") or {})),
                           "optimizer_config": dict({"deleted_threshold": 0.2, "vacuum_min_vector_number": 1000,
                                                     "default_segment_number": 0, "max_segment_size": None,
                                                     "memmap_threshold": None, "indexing_threshold": 10000,
                                                     "flush_interval_sec": 5, "max_optimization_threads": None},
                                                    **(self.body.get("optimizers_config") or {})),
                           "wal_config": {"wal_capacity_mb": 32, "wal_segments_ahead": 0},
                           "quantization_config": None, "strict_mode_config": {"enabled": False}},
                "payload_schema": schema, "update_queue": {"length": 0}}

    # ---- vectors ----------------------------------------------------------------
    def check_vector(self, where, name, v, dense_infer):
        if name in self.vectors:
            size = self.vectors[name]["size"]
            if isinstance(v, dict) and "text" in v and "model" in v:
                if dense_infer is None:
                    raise QErr(500, "Service internal error: InferenceService URL not configured - "
                                    "please provide valid address in config")
                v = dense_infer(v["text"], v["model"], size)
            if isinstance(v, dict):
                raise QErr(400, "Wrong input: Conversion between sparse and regular vectors failed")
            if not isinstance(v, list) or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v):
                raise QErr(400, "Format error in JSON body: %s: data did not match any variant of untagged enum VectorStruct" % where)
            if v and isinstance(v[0], list):
                raise QErr(400, "Wrong input: multivectors are not configured for vector `%s`" % name)
            if len(v) != size:
                raise QErr(400, "Wrong input: Vector dimension error: expected dim: %d, got %d" % (size, len(v)))
            return [float(x) for x in v]
        if name in self.sparse:
            if isinstance(v, dict) and "text" in v and "model" in v:
                if not isinstance(v["text"], str) or not isinstance(v["model"], str):
                    raise QErr(400, "Format error in JSON body: %s: bad Document" % where)
                if v["model"].lower() not in ("qdrant/bm25", "bm25"):
                    raise QErr(500, "Service internal error: InferenceService URL not configured - "
                                    "please provide valid address in config")
                return bm25_doc(v["text"])
            if isinstance(v, list):
                raise QErr(400, "Wrong input: Conversion between sparse and regular vectors failed")
            if not isinstance(v, dict) or not isinstance(v.get("indices"), list) or not isinstance(v.get("values"), list):
                raise QErr(400, "Format error in JSON body: %s: data did not match any variant of untagged enum Vector" % where)
            idx, vals = v["indices"], v["values"]
            if not all(isinstance(i, int) and not isinstance(i, bool) and 0 <= i < 2 ** 32 for i in idx):
                raise QErr(400, "Format error in JSON body: %s.indices: invalid value, expected u32" % where)
            if not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in vals):
                raise QErr(400, "Format error in JSON body: %s.values: invalid type, expected f32" % where)
            if len(idx) != len(vals):
                raise QErr(422, "Validation error in JSON body: [%s: must be the same length as indices]" % where)
            if len(set(idx)) != len(idx):
                raise QErr(422, "Validation error in JSON body: [%s.indices: must be unique]" % where)
            order = sorted(range(len(idx)), key=lambda i: idx[i])
            return {"indices": [idx[i] for i in order], "values": [float(vals[i]) for i in order]}
        raise QErr(400, "Wrong input: Not existing vector name error: %s" % name)

    def make_point(self, where, pid, vec, payload, dense_infer):
        pid = norm_id(pid)
        if self.unnamed and isinstance(vec, list):
            vec = {"": vec}
        if vec is None:
            vec = {}
        if not isinstance(vec, dict) or ("indices" in vec and "values" in vec):
            raise QErr(400, "Format error in JSON body: %s.vector: expected named vectors" % where)
        out = {}
        for n, v in vec.items():
            out[n] = self.check_vector("%s.vector.%s" % (where, n), n, v, dense_infer)
        if payload is not None and not isinstance(payload, dict):
            raise QErr(400, "Format error in JSON body: %s.payload: invalid type, expected a map" % where)
        return {"id": pid, "vector": out, "payload": payload or {}}

    # ---- filters ----------------------------------------------------------------
    def match_filter(self, p, flt):
        if flt is None:
            return True
        if not isinstance(flt, dict):
            raise QErr(400, "Format error in JSON body: filter: expected a map")
        must = flt.get("must") or []
        should = flt.get("should") or []
        must_not = flt.get("must_not") or []
        must = [must] if isinstance(must, dict) else must
        should = [should] if isinstance(should, dict) else should
        must_not = [must_not] if isinstance(must_not, dict) else must_not
        if not all(self.cond(p, c) for c in must):
            return False
        if should and not any(self.cond(p, c) for c in should):
            return False
        if any(self.cond(p, c) for c in must_not):
            return False
        ms = flt.get("min_should")
        if ms:
            if sum(1 for c in ms.get("conditions", []) if self.cond(p, c)) < ms.get("min_count", 1):
                return False
        return True

    def cond(self, p, c):
        if not isinstance(c, dict):
            raise QErr(400, "Format error in JSON body: bad condition")
        if "has_id" in c:
            ids = set(norm_id(x) for x in c["has_id"])
            return p["id"] in ids
        if "has_vector" in c:
            return c["has_vector"] in p["vector"]
        if any(k in c for k in ("must", "should", "must_not", "min_should")):
            return self.match_filter(p, c)
        if "is_empty" in c:
            vals = get_values(p["payload"], c["is_empty"]["key"])
            return not [v for v in vals if v is not None]
        if "is_null" in c:
            vals = get_values(p["payload"], c["is_null"]["key"])
            return any(v is None for v in vals)
        if "nested" in c:
            n = c["nested"]
            subs = get_values(p["payload"], n["key"])
            return any(self.match_filter({"id": p["id"], "vector": {}, "payload": s}, n["filter"])
                       for s in subs if isinstance(s, dict))
        key = c.get("key")
        if not isinstance(key, str):
            raise QErr(400, "Format error in JSON body: condition without key")
        vals = get_values(p["payload"], key)
        if "match" in c:
            m = c["match"]
            if "value" in m:
                return any(same(v, m["value"]) for v in vals)
            if "any" in m:
                return any(same(v, x) for v in vals for x in m["any"])
            if "except" in m:
                # a set makes cleanup filters with tens of thousands of keys linear
                exc = m["except"]
                try:
                    excset = m.get("_excset")   # built once per request, not per point
                    if excset is None:
                        excset = m["_excset"] = {norm(x) for x in exc}
                    return bool(vals) and not any(norm(v) in excset for v in vals)
                except TypeError:  # unhashable values: the slow way
                    return bool(vals) and not any(same(v, x) for v in vals for x in exc)
            if "text" in m or "phrase" in m:
                t = (m.get("text") or m.get("phrase")).lower()
                return any(isinstance(v, str) and t in v.lower() for v in vals)
            raise QErr(400, "Format error in JSON body: unknown match")
        if "range" in c:
            r = c["range"]
            nums = [v for v in vals if isinstance(v, (int, float)) and not isinstance(v, bool)]
            return any(("gt" not in r or r["gt"] is None or v > r["gt"]) and
                       ("gte" not in r or r["gte"] is None or v >= r["gte"]) and
                       ("lt" not in r or r["lt"] is None or v < r["lt"]) and
                       ("lte" not in r or r["lte"] is None or v <= r["lte"]) for v in nums)
        if "values_count" in c:
            r = c["values_count"]
            n = len(vals)
            return all(op not in r or f(n, r[op]) for op, f in (("gt", lambda a, b: a > b), ("gte", lambda a, b: a >= b),
                                                                  ("lt", lambda a, b: a < b), ("lte", lambda a, b: a <= b)))
        raise QErr(400, "Format error in JSON body: unsupported condition %s" % _short(c))

    def select(self, flt):
        with self.lock:
            pts = list(self.points.values())
        return [p for p in pts if self.match_filter(p, flt)]


def pick(payload, keys):
    """Qdrant's payload selector: top-level keys or dotted paths into objects
    ("data.plex.rating_key" gives {"data":{"plex":{"rating_key":...}}})."""
    out = {}
    for k in keys:
        src, dst, parts = payload, out, k.split(".")
        for i, part in enumerate(parts):
            if not isinstance(src, dict) or part not in src:
                break
            if i == len(parts) - 1:
                dst[part] = src[part]
            else:
                src = src[part]
                dst = dst.setdefault(part, {})
    return out


def project(p, with_payload, with_vector, score=None):
    out = {"id": p["id"], "version": p.get("version", 0)}
    if score is not None:
        out["score"] = score
    if with_payload is True:
        out["payload"] = p["payload"]
    elif isinstance(with_payload, list):
        out["payload"] = pick(p["payload"], with_payload)
    elif isinstance(with_payload, dict):
        if "include" in with_payload:
            inc = with_payload["include"]
            inc = [inc] if isinstance(inc, str) else inc
            out["payload"] = pick(p["payload"], inc)
        elif "exclude" in with_payload:
            exc = with_payload["exclude"]
            exc = [exc] if isinstance(exc, str) else exc
            out["payload"] = {k: v for k, v in p["payload"].items() if k not in exc}
    if with_vector is True:
        out["vector"] = p["vector"].get("") if "" in p["vector"] else p["vector"]
    elif isinstance(with_vector, list):
        out["vector"] = {k: p["vector"][k] for k in with_vector if k in p["vector"]}
    if score is None:
        out.pop("version")
    return out


class QdrantApp(App):
    # exists_status: the status of PUT on an existing collection (409; 400 before Qdrant 1.8)
    # lose_create_answers: N collection creations are done, but their answers are lost
    EXTRA_KNOBS = ("exists_status", "lose_create_answers")

    def __init__(self, api_key, dense_infer=None):
        self.api_key = api_key
        self.cols = {}
        self.lock = threading.Lock()
        self.opid = 0
        self.dense_infer = dense_infer

    def clear(self):
        with self.lock:
            self.cols = {}

    def route_name(self, req):
        p = re.sub(r"^/collections/[^/]+", "/collections/{c}", req.path)
        p = re.sub(r"^/collections/\{c\}/index/.+$", "/collections/{c}/index/{field}", p)
        p = re.sub(r"^/collections/\{c\}/points/(?!scroll$|count$|delete$|query$|payload)[^/]+$",
                   "/collections/{c}/points/{id}", p)
        return p

    def failable(self, req, route):
        return route == "PUT /collections/{c}/points"

    def error(self, req, status, msg):
        if status == 401:
            return Response(401, msg, "text/plain")
        if status == 429:
            msg = "Rate limiting exceeded: Write rate limit exceeded, retry later"
        elif status == 503 and not msg.startswith("Service"):
            msg = "Shard temporarily unavailable: " + msg
        elif status >= 500 and not msg.startswith("Service"):
            msg = "Service internal error: " + msg
        return jresp({"status": {"error": msg}, "time": 0.0001}, status)

    def ok(self, result, t0):
        return jresp({"result": result, "status": "ok", "time": round(time.monotonic() - t0, 6)})

    def handle(self, req):
        t0 = time.monotonic()
        p = req.path.rstrip("/") or "/"
        if p in ("/healthz", "/livez", "/readyz"):
            return Response(200, "healthz check passed", "text/plain")
        if self.api_key:
            k = req.header("api-key")
            auth = req.header("Authorization") or ""
            if k is None and auth.startswith("Bearer "):
                k = auth[7:]
            if k is None:
                return Response(401, "Must provide an API key or an Authorization bearer token", "text/plain")
            if k != self.api_key:
                return Response(401, "Invalid API key or JWT", "text/plain")
        if p == "/":
            return jresp({"title": "qdrant - vector search engine", "version": "1.19.0", "commit": "fake"})
        if len(req.body) > MAX_BODY:
            return self.error(req, 400, "JSON payload (%d bytes) is larger than allowed (limit: %d bytes)." % (len(req.body), MAX_BODY))
        try:
            body = req.json() if req.body else None
        except ValueError as e:
            return self.error(req, 400, "Format error in JSON body: %s" % e)
        try:
            return self.route(req, p, body, t0)
        except QErr as e:
            return self.error(req, e.status, e.msg)

    def col(self, name):
        with self.lock:
            c = self.cols.get(name)
        if c is None:
            raise QErr(404, "Not found: Collection `%s` doesn't exist!" % name)
        return c

    def next_op(self, req):
        with self.lock:
            self.opid += 1
            n = self.opid
        return {"operation_id": n, "status": "completed" if req.q("wait") == "true" else "acknowledged"}

    def route(self, req, p, body, t0):
        m = req.method
        if p == "/collections" and m == "GET":
            with self.lock:
                return self.ok({"collections": [{"name": n} for n in self.cols]}, t0)
        mm = re.match(r"^/collections/([^/]+)(/.*)?$", p)
        if not mm:
            return self.error(req, 404, "Not found")
        name, rest = mm.group(1), mm.group(2) or ""
        if not re.match(r"^[A-Za-z0-9_.\-]{1,255}$", name):
            raise QErr(422, "Validation error in path parameters: [name: collection name contains invalid characters]")
        if rest == "":
            if m == "GET":
                return self.ok(self.col(name).info(), t0)
            if m == "PUT":
                if body is not None and not isinstance(body, dict):
                    raise QErr(400, "Format error in JSON body: expected a map")
                c = Collection(name, body or {})
                extra = self.service.extra if self.service else {}
                with self.lock:
                    if name in self.cols:
                        raise QErr(int(extra.get("exists_status", 409)),
                                   "Wrong input: Collection `%s` already exists!" % name)
                    self.cols[name] = c
                    lose = int(extra.get("lose_create_answers", 0))
                    if lose > 0:
                        extra["lose_create_answers"] = lose - 1
                resp = self.ok(True, t0)
                resp.lost = lose > 0
                return resp
            if m == "DELETE":
                with self.lock:
                    existed = self.cols.pop(name, None) is not None
                return self.ok(existed, t0)
            if m == "PATCH":
                return self.patch(self.col(name), body, t0)
        if rest == "/exists" and m == "GET":
            with self.lock:
                return self.ok({"exists": name in self.cols}, t0)
        c = self.col(name)
        if rest == "/index" and m == "PUT":
            return self.create_index(req, c, body, t0)
        mi = re.match(r"^/index/(.+)$", rest)
        if mi and m == "DELETE":
            with c.lock:
                c.payload_schema.pop(mi.group(1), None)
            return self.ok(self.next_op(req), t0)
        if rest == "/points" and m == "PUT":
            return self.upsert(req, c, body, t0)
        if rest == "/points" and m == "POST":
            b = body or {}
            if not isinstance(b.get("ids"), list):
                raise QErr(400, "Format error in JSON body: missing field `ids`")
            ids = [norm_id(i) for i in b["ids"]]
            with c.lock:
                pts = [c.points[i] for i in ids if i in c.points]
            return self.ok([project(x, b.get("with_payload", True), b.get("with_vector", b.get("with_vectors", False)))
                            for x in pts], t0)
        mp = re.match(r"^/points/([^/]+)$", rest)
        if mp and m == "GET" and mp.group(1) not in ("scroll", "count", "delete", "query", "payload"):
            pid = mp.group(1)
            pid = norm_id(int(pid) if pid.isdigit() else pid)
            with c.lock:
                x = c.points.get(pid)
            if x is None:
                raise QErr(404, "Not found: No point with id %s found" % pid)
            return self.ok(project(x, True, True), t0)
        if m != "POST" and not (rest == "/points/payload" and m == "PUT"):
            return self.error(req, 404, "Not found")
        b = body if isinstance(body, dict) else {}
        if rest == "/points/scroll":
            return self.scroll(c, b, t0)
        if rest == "/points/count":
            return self.ok({"count": len(c.select(b.get("filter")))}, t0)
        if rest == "/points/delete":
            if "points" in b:
                ids = [norm_id(i) for i in b["points"]]
            elif "filter" in b:
                ids = [x["id"] for x in c.select(b["filter"])]
            else:
                raise QErr(400, "Format error in JSON body: expected `points` or `filter`")
            with c.lock:
                for i in ids:
                    c.points.pop(i, None)
            return self.ok(self.next_op(req), t0)
        if rest == "/points/payload":
            if not isinstance(b.get("payload"), dict):
                raise QErr(400, "Format error in JSON body: missing field `payload`")
            ids = [norm_id(i) for i in b["points"]] if "points" in b else [x["id"] for x in c.select(b.get("filter"))]
            with c.lock:
                for i in ids:
                    if i in c.points:
                        if m == "PUT":
                            c.points[i]["payload"] = dict(b["payload"])
                        else:
                            c.points[i]["payload"].update(b["payload"])
            return self.ok(self.next_op(req), t0)
        if rest == "/points/query":
            return self.query(c, b, t0)
        return self.error(req, 404, "Not found")

    def patch(self, c, body, t0):
        """UpdateCollection as Qdrant does it: named vectors and sparse vectors must exist;
        their params, and optimizer/HNSW/collection params, are merged; nothing else changes."""
        if body is not None and not isinstance(body, dict):
            raise QErr(400, "Format error in JSON body: expected a map")
        b = body or {}
        for n in (b.get("vectors") or {}):
            if n not in c.vectors:
                raise QErr(400, "Wrong input: Not existing vector name error: %s" % n)
        sv = b.get("sparse_vectors") or {}
        if not isinstance(sv, dict):
            raise QErr(400, "Format error in JSON body: sparse_vectors: expected a map")
        for n, p in sv.items():
            if n not in c.sparse:
                raise QErr(400, "Wrong input: Not existing vector name error: %s" % n)
            if not isinstance(p, dict) or p.get("modifier", "none") not in ("none", "idf", None):
                raise QErr(400, "Format error in JSON body: sparse_vectors.%s: unknown variant `%s`, "
                                "expected `none` or `idf`" % (n, p.get("modifier") if isinstance(p, dict) else p))
        pr = b.get("params") or {}
        for k in ("replication_factor", "write_consistency_factor"):
            v = pr.get(k)
            if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < 1):
                raise QErr(422, "Validation error in JSON body: [params.%s: value %s invalid, "
                                "must be 1 or larger]" % (k, v))
        with c.lock:
            for n, p in sv.items():
                cur = c.sparse.setdefault(n, {})
                for k, v in p.items():
                    if v is None:
                        cur.pop(k, None)
                    elif k == "modifier" and v == "none":
                        cur.pop(k, None)
                    else:
                        cur[k] = v
            for n, p in (b.get("vectors") or {}).items():
                if isinstance(p, dict):
                    c.vectors[n].update({k: v for k, v in p.items() if v is not None})
            for k in ("optimizers_config", "hnsw_config", "params"):
                if isinstance(b.get(k), dict):
                    c.body.setdefault(k, {}).update({x: v for x, v in b[k].items() if v is not None})
        return self.ok(True, t0)

    def create_index(self, req, c, body, t0):
        b = body if isinstance(body, dict) else {}
        f = b.get("field_name")
        fs = b.get("field_schema")
        if not isinstance(f, str) or not f:
            raise QErr(400, "Format error in JSON body: missing field `field_name`")
        if isinstance(fs, str):
            t, params = fs, None
        elif isinstance(fs, dict):
            t, params = fs.get("type"), fs
        else:
            raise QErr(400, "Wrong input: field_schema is required")
        if t not in FIELD_TYPES:
            raise QErr(400, "Format error in JSON body: unknown variant `%s`" % t)
        d = {"data_type": t}
        if params is not None:
            d["params"] = params
        with c.lock:
            c.payload_schema[f] = d
        return self.ok(self.next_op(req), t0)

    def upsert(self, req, c, body, t0):
        if not isinstance(body, dict):
            raise QErr(400, "Format error in JSON body: expected PointsList or PointsBatch")
        pts = []
        if "batch" in body:
            bt = body["batch"]
            ids = bt.get("ids")
            if not isinstance(ids, list):
                raise QErr(400, "Format error in JSON body: batch: missing field `ids`")
            vecs = bt.get("vectors") or {}
            pls = bt.get("payloads")
            for n, arr in (vecs.items() if isinstance(vecs, dict) else [("", vecs)]):
                if len(arr) != len(ids):
                    raise QErr(422, "Validation error in JSON body: [batch: number of vectors must match the number of ids]")
            if pls is not None and len(pls) != len(ids):
                raise QErr(422, "Validation error in JSON body: [batch: number of payloads must match the number of ids]")
            for k, pid in enumerate(ids):
                vec = ({n: arr[k] for n, arr in vecs.items()} if isinstance(vecs, dict) else vecs[k])
                pts.append(c.make_point("batch[%d]" % k, pid, vec, pls[k] if pls else None, self.dense_infer))
        elif isinstance(body.get("points"), list):
            for k, x in enumerate(body["points"]):
                if not isinstance(x, dict) or "id" not in x:
                    raise QErr(400, "Format error in JSON body: points[%d]: missing field `id`" % k)
                vec = x.get("vector", x.get("vectors"))
                if vec is None and "vector" not in x and "vectors" not in x:
                    raise QErr(400, "Format error in JSON body: points[%d]: missing field `vector`" % k)
                pts.append(c.make_point("points[%d]" % k, x["id"], vec, x.get("payload"), self.dense_infer))
        else:
            raise QErr(400, "Format error in JSON body: data did not match any variant of untagged enum PointInsertOperations")
        op = self.next_op(req)
        with c.lock:
            for x in pts:
                x["version"] = op["operation_id"]
                c.points[x["id"]] = x
        return self.ok(op, t0)

    def scroll(self, c, b, t0):
        limit = b.get("limit", 10)
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
            raise QErr(422, "Validation error in JSON body: [limit: value 0 invalid, must be 1 or larger]")
        pts = sorted(c.select(b.get("filter")), key=lambda x: id_key(x["id"]))
        off = b.get("offset")
        if off is not None:
            ok = id_key(norm_id(off))
            pts = [x for x in pts if id_key(x["id"]) >= ok]
        page = pts[:limit]
        nxt = pts[limit]["id"] if len(pts) > limit else None
        wp = b.get("with_payload", True)
        wv = b.get("with_vector", b.get("with_vectors", False))
        return self.ok({"points": [project(x, wp, wv) for x in page], "next_page_offset": nxt}, t0)

    # ---- query ------------------------------------------------------------------
    def query(self, c, b, t0):
        limit = b.get("limit", 10)
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
            raise QErr(422, "Validation error in JSON body: [limit: value 0 invalid, must be 1 or larger]")
        scored = self.run_query(c, b, limit + int(b.get("offset") or 0))
        thr = b.get("score_threshold")
        if thr is not None:
            scored = [s for s in scored if s[1] >= thr]
        off = int(b.get("offset") or 0)
        scored = scored[off:off + limit]
        wp = b.get("with_payload", False)
        wv = b.get("with_vector", b.get("with_vectors", False))
        return self.ok({"points": [project(p, wp, wv, score) for p, score in scored]}, t0)

    def run_query(self, c, q, limit):
        """Ranked [(point, score)] for one query/prefetch level."""
        flt = q.get("filter")
        pre = q.get("prefetch")
        if isinstance(pre, dict):
            pre = [pre]
        query = q.get("query")
        if isinstance(query, dict) and ("fusion" in query or "rrf" in query):
            if query.get("fusion", "rrf") not in ("rrf", "dbsf") and "rrf" not in query:
                raise QErr(400, "Format error in JSON body: unknown fusion")
            k = 2
            if isinstance(query.get("rrf"), dict) and isinstance(query["rrf"].get("k"), int):
                k = query["rrf"]["k"]
            if not pre:
                raise QErr(400, "Bad request: Fusion queries require prefetches")
            total = {}
            pts = {}
            for sub in pre:
                res = self.run_query(c, sub, sub.get("limit", 10))
                for pos, (p, _) in enumerate(res):
                    key = id_key(p["id"])
                    total[key] = total.get(key, 0.0) + 1.0 / (pos + k)
                    pts[key] = p
            ranked = sorted(total.items(), key=lambda kv: (-kv[1], kv[0]))
            out = [(pts[key], s) for key, s in ranked]
            if flt is not None:
                out = [(p, s) for p, s in out if c.match_filter(p, flt)]
            return out[:limit]
        if pre:
            cand = {}
            for sub in pre:
                for p, _ in self.run_query(c, sub, sub.get("limit", 10)):
                    cand[id_key(p["id"])] = p
            pool = list(cand.values())
        else:
            pool = c.select(None)
        if flt is not None:
            pool = [p for p in pool if c.match_filter(p, flt)]
        if query is None:
            pool.sort(key=lambda x: id_key(x["id"]))
            return [(p, 0.0) for p in pool[:limit]]
        if isinstance(query, dict) and "nearest" in query:
            query = query["nearest"]
        using = q.get("using", "")
        if using is None:
            using = ""
        if isinstance(query, (int, str)) and not isinstance(query, bool):
            pid = norm_id(query)
            with c.lock:
                src = c.points.get(pid)
            if src is None or using not in src["vector"]:
                raise QErr(404, "Not found: No point with id %s found" % pid)
            query = src["vector"][using]
            pool = [p for p in pool if p["id"] != pid]
        if using in c.sparse:
            if isinstance(query, dict) and "text" in query and "model" in query:
                if str(query["model"]).lower() not in ("qdrant/bm25", "bm25"):
                    raise QErr(500, "Service internal error: InferenceService URL not configured - "
                                    "please provide valid address in config")
                query = bm25_query(query["text"])
            qv = c.check_vector("query", using, query, None)
            return self.sparse_search(c, using, qv, pool, limit)
        if using in c.vectors:
            qv = c.check_vector("query", using, query, self.dense_infer)
            return self.dense_search(c, using, qv, pool, limit)
        raise QErr(400, "Wrong input: Not existing vector name error: %s" % (using or "(default)"))

    def dense_search(self, c, using, qv, pool, limit):
        dist = c.vectors[using]["distance"]
        qn = math.sqrt(sum(x * x for x in qv)) or 1.0
        res = []
        for p in pool:
            v = p["vector"].get(using)
            if v is None:
                continue
            if dist == "Cosine":
                vn = math.sqrt(sum(x * x for x in v)) or 1.0
                s = sum(a * b for a, b in zip(qv, v)) / (qn * vn)
            elif dist == "Dot":
                s = sum(a * b for a, b in zip(qv, v))
            elif dist == "Euclid":
                s = -math.sqrt(sum((a - b) ** 2 for a, b in zip(qv, v)))
            else:
                s = -sum(abs(a - b) for a, b in zip(qv, v))
            res.append((p, s))
        res.sort(key=lambda t: (-t[1], id_key(t[0]["id"])))
        if dist in ("Euclid", "Manhattan"):
            res = [(p, -s) for p, s in res]
        return res[:limit]

    def sparse_search(self, c, using, qv, pool, limit):
        q = dict(zip(qv["indices"], qv["values"]))
        if c.sparse[using].get("modifier") == "idf":
            with c.lock:
                allp = list(c.points.values())
            n = len(allp)
            for i in list(q):
                df = sum(1 for p in allp if using in p["vector"] and i in p["vector"][using]["indices"])
                q[i] *= math.log(1 + (n - df + 0.5) / (df + 0.5))
        res = []
        for p in pool:
            v = p["vector"].get(using)
            if v is None:
                continue
            s, hit = 0.0, False
            for i, x in zip(v["indices"], v["values"]):
                if i in q:
                    s += q[i] * x
                    hit = True
            if hit:
                res.append((p, s))
        res.sort(key=lambda t: (-t[1], id_key(t[0]["id"])))
        return res[:limit]
