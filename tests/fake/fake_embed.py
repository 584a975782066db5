"""Fake OpenAI-compatible embeddings endpoint: deterministic hashed bag-of-words, L2-normalised."""

import hashlib
import math
import re
import struct

from svc_core import App, jresp

DIMS = {"bge-small-en-v1.5": 384, "bge-base-en-v1.5": 768, "bge-large-en-v1.5": 1024,
        "bge-small": 384, "bge-base": 768, "bge-large": 1024,
        "text-embedding-3-small": 1536, "text-embedding-3-large": 3072,
        "text-embedding-ada-002": 1536, "all-minilm-l6-v2": 384, "nomic-embed-text": 768}
TOKEN = re.compile(r"\w+", re.UNICODE)


def model_dim(model):
    base = (model or "").split("/")[-1].lower()
    return DIMS.get(base, 384)


def embed(text, dim):
    """Each token adds +-1 at two hashed positions; a text is nearest to itself (cosine 1)."""
    v = [0.0] * dim
    toks = TOKEN.findall(text.lower()) or ["<empty>"]
    for t in toks:
        h = hashlib.blake2b(t.encode("utf-8"), digest_size=8).digest()
        a, b = struct.unpack("<II", h)
        v[a % dim] += 1.0 if b & 1 else -1.0
        v[b % dim] += 0.5 if a & 1 else -0.5
    n = math.sqrt(sum(x * x for x in v)) or 1.0
    return [round(x / n, 6) for x in v]


class EmbedApp(App):
    # pad_bytes: answers carry a "pad" member of N bytes (a runaway answer; gzip makes it small on the wire)
    EXTRA_KNOBS = ("pad_bytes",)

    def __init__(self, key):
        self.key = key

    def error(self, req, status, msg):
        typ = {401: "invalid_request_error", 429: "rate_limit_exceeded"}.get(status, "server_error")
        return jresp({"error": {"message": msg, "type": typ, "param": None, "code": None}}, status)

    def handle(self, req):
        if self.key:
            auth = req.header("Authorization") or ""
            if auth != "Bearer " + self.key:
                return self.error(req, 401, "Incorrect API key provided")
        if req.path == "/v1/models" and req.method == "GET":
            return jresp({"object": "list", "data": [{"id": m, "object": "model", "owned_by": "fake"} for m in DIMS]})
        if req.path != "/v1/embeddings" or req.method != "POST":
            return self.error(req, 404, "Not found")
        try:
            body = req.json()
        except ValueError:
            return self.error(req, 400, "invalid JSON body")
        if not isinstance(body, dict) or "input" not in body:
            return self.error(req, 400, "'input' is a required property")
        inp = body["input"]
        if isinstance(inp, str):
            inp = [inp]
        if not isinstance(inp, list) or not inp or not all(isinstance(x, str) for x in inp):
            return self.error(req, 400, "'input' must be a string or a non-empty array of strings")
        model = body.get("model") or "BAAI/bge-small-en-v1.5"
        dim = model_dim(model)
        if isinstance(body.get("dimensions"), int) and 0 < body["dimensions"] <= dim:
            dim = body["dimensions"]
        data = [{"object": "embedding", "index": i, "embedding": embed(t, dim)} for i, t in enumerate(inp)]
        ntok = sum(len(TOKEN.findall(t)) for t in inp)
        out = {"object": "list", "data": data, "model": model,
               "usage": {"prompt_tokens": ntok, "total_tokens": ntok}}
        pad = int((self.service.extra if self.service else {}).get("pad_bytes", 0))
        if pad > 0:
            out["pad"] = "0" * pad
        return jresp(out)
