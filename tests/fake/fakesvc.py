#!/usr/bin/env python3
"""fakesvc: fake Plex, TMDb, IMDb, Qdrant and embeddings servers on 127.0.0.1 for plexpipe's tests."""

import argparse
import json
import os
import signal
import sys
import threading
import time

sys.dont_write_bytecode = True   # leave no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fake_embed import EmbedApp, embed, model_dim  # noqa: E402
from fake_imdb import ImdbApp  # noqa: E402
from fake_plex import PlexApp  # noqa: E402
from fake_qdrant import QdrantApp  # noqa: E402
from fake_tmdb import TmdbApp  # noqa: E402
from library import DirLibrary, Library  # noqa: E402
from svc_core import App, Server, Service, jresp, tls_context  # noqa: E402

NAMES = ("plex", "tmdb", "imdb", "qdrant", "embed")


class ControlApp(App):
    """POST /config, GET /stats, GET /timeline, POST /reset, GET /library, GET /health."""

    def __init__(self, services, summary, qdrant_app):
        self.services = services
        self.summary = summary
        self.qdrant_app = qdrant_app

    def handle(self, req):
        p = req.path.rstrip("/")
        if p == "/health":
            return jresp({"ok": True})
        if p == "/stats" and req.method == "GET":
            return jresp({n: s.stats.snapshot() for n, s in self.services.items()})
        if p == "/timeline" and req.method == "GET":
            return jresp({n: s.stats.timeline_snapshot() for n, s in self.services.items()})
        if p == "/config" and req.method == "GET":
            return jresp({n: dict(s.knobs, **s.extra) for n, s in self.services.items()})
        if p == "/library" and req.method == "GET":
            return jresp(self.summary())
        try:
            body = req.json() or {}
        except ValueError as e:
            return jresp({"error": "bad JSON: %s" % e}, 400)
        if not isinstance(body, dict):
            return jresp({"error": "expected a JSON object"}, 400)
        if p == "/config" and req.method == "POST":
            for n in body:
                if n not in self.services or not isinstance(body[n], dict):
                    return jresp({"error": "unknown service or bad value: %s" % n}, 400)
            try:
                for n, conf in body.items():
                    self.services[n].configure(conf)
            except ValueError as e:
                return jresp({"error": str(e)}, 400)
            return jresp({n: dict(s.knobs, **s.extra) for n, s in self.services.items()})
        if p == "/reset" and req.method == "POST":
            for s in self.services.values():
                s.reset()
                if body.get("knobs"):
                    s.knobs.clear()
                    s.extra.clear()
            if body.get("data"):
                self.qdrant_app.clear()
            return jresp({"ok": True})
        return jresp({"error": "not found"}, 404)


def parse_args(argv):
    ap = argparse.ArgumentParser(prog="fakesvc.py", description=__doc__)
    ap.add_argument("--port-file", required=True, help="write the service URLs here (JSON) when ready")
    ap.add_argument("--max-seconds", type=float, default=900, help="exit after this long (default 900)")
    ap.add_argument("--seed", default="1", help="seed of the generated library and failure RNG")
    ap.add_argument("--movie-sections", type=int, default=1)
    ap.add_argument("--movies", type=int, default=20, help="movies per movie section")
    ap.add_argument("--collections", type=int, default=2, help="collections per movie section")
    ap.add_argument("--shows", type=int, default=2)
    ap.add_argument("--seasons", type=int, default=2, help="seasons per show")
    ap.add_argument("--episodes", type=int, default=3, help="episodes per season")
    ap.add_argument("--music-section", action="store_true")
    ap.add_argument("--odd-keys", type=int, default=0, help="the first N movies get non-numeric rating keys")
    ap.add_argument("--library-dir", help="serve a sample library directory instead of generating")
    ap.add_argument("--plex-token", default="plex-test-token")
    ap.add_argument("--tmdb-key", default="0123456789abcdef0123456789abcdef")
    ap.add_argument("--qdrant-key", default=None)
    ap.add_argument("--embed-key", default=None)
    ap.add_argument("--qdrant-dense-inference", action="store_true",
                    help="accept Document objects for dense vectors (embedded like the fake /v1/embeddings)")
    ap.add_argument("--config", help="initial control config (JSON text, same as POST /config)")
    ap.add_argument("--tls-cert", help="serve every service but control over HTTPS with this PEM certificate (chain)")
    ap.add_argument("--tls-key", help="the PEM private key of --tls-cert (default: in the --tls-cert file)")
    ap.add_argument("-v", "--verbose", action="store_true", help="log every request to stderr")
    a = ap.parse_args(argv)
    for n in ("movie_sections", "movies", "collections", "shows", "seasons", "episodes", "odd_keys"):
        if getattr(a, n) < 0:
            ap.error("--%s must be >= 0" % n.replace("_", "-"))
    if a.collections >= 10_000:
        ap.error("--collections must be < 10000")
    if a.tls_key and not a.tls_cert:
        ap.error("--tls-key needs --tls-cert")
    return a


def main(argv):
    a = parse_args(argv)
    lib = Library(a)
    dirlib = DirLibrary(a.library_dir) if a.library_dir else None

    def dense_infer(text, model, size):
        return embed(text, size if size else model_dim(model))

    qapp = QdrantApp(a.qdrant_key, dense_infer if a.qdrant_dense_inference else None)
    apps = {"plex": PlexApp(lib, a.plex_token, dirlib), "tmdb": TmdbApp(lib, a.tmdb_key),
            "imdb": ImdbApp(lib), "qdrant": qapp, "embed": EmbedApp(a.embed_key)}
    services = {n: Service(n, apps[n], a.seed, a.verbose) for n in NAMES}
    if a.config:
        try:
            conf = json.loads(a.config)
            for n, c in conf.items():
                services[n].configure(c)
        except (ValueError, KeyError, AttributeError) as e:
            print("fakesvc: bad --config: %s" % e, file=sys.stderr)
            return 2
    summary = dirlib.summary if dirlib else lib.summary
    control = Service("control", ControlApp(services, summary, qapp), a.seed, a.verbose)
    try:
        tls = tls_context(a.tls_cert, a.tls_key)
    except (OSError, ValueError) as e:
        print("fakesvc: --tls-cert/--tls-key: %s" % e, file=sys.stderr)
        return 2
    servers = {n: Server(services[n], tls) for n in NAMES}
    # control stays plain HTTP: the tests' curl drives it without the test CA
    servers["control"] = Server(control)
    threads = []
    for srv in servers.values():
        t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
        t.start()
        threads.append(t)
    urls = {n: s.url() for n, s in servers.items()}
    tmp = "%s.tmp.%d" % (a.port_file, os.getpid())
    with open(tmp, "w") as f:
        json.dump(dict(urls, pid=os.getpid()), f)
        f.write("\n")
    os.rename(tmp, a.port_file)

    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    deadline = time.monotonic() + a.max_seconds
    while not done.is_set():
        left = deadline - time.monotonic()
        if left <= 0:
            print("fakesvc: --max-seconds reached, exiting", file=sys.stderr)
            break
        done.wait(min(left, 1.0))
    for srv in servers.values():
        srv.shutdown()
        srv.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
