"""HTTP plumbing shared by the fake services: request/response, failure knobs, per-service stats."""

import collections
import gzip
import json
import random
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit, unquote

KNOBS = {"latency_ms": (int, float), "rps_limit": (int, float), "fail_rate": (int, float),
         "fail_status": (int,), "fail_after": (int,), "fail_path": (str,), "stall_ms": (int, float),
         "drop_rate": (int, float), "down": (bool,), "retry_after": (int,), "gzip": (str,)}
# gzip: "auto" (the default: when the request accepts it and the body is over 512 bytes),
# "always" (whatever the request says, as a misconfigured proxy does), "never".
GZIP_MODES = ("auto", "always", "never")


class Request:
    def __init__(self, method, target, headers, body):
        self.method = method
        self.target = target
        parts = urlsplit(target)
        self.raw_path = parts.path
        self.path = unquote(parts.path)
        self.query = parse_qs(parts.query, keep_blank_values=True)
        self.headers = headers
        self.body = body
        self._json = None

    def q(self, name, default=None):
        v = self.query.get(name)
        return v[0] if v else default

    def header(self, name, default=None):
        return self.headers.get(name, default)

    def json(self):
        """Parsed JSON body; raises ValueError on bad JSON."""
        if self._json is None:
            self._json = json.loads(self.body.decode("utf-8")) if self.body else None
        return self._json


class Response:
    def __init__(self, status, body=b"", ctype="application/json", headers=None):
        self.status = status
        if isinstance(body, str):
            body = body.encode("utf-8")
        elif not isinstance(body, (bytes, bytearray)):
            body = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        self.body = body
        self.ctype = ctype
        self.headers = headers or []

TIMELINE_MAX = 200000   # requests remembered per service for GET /timeline


def jresp(obj, status=200, headers=None):
    return Response(status, obj, "application/json", headers)


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.requests = 0
        self.by_endpoint = collections.Counter()
        self.status_counts = collections.Counter()
        self.status_429 = 0
        self.concurrency = 0
        self.peak_concurrency = 0
        self.window = collections.deque()
        self.peak_rps = 0
        self.token_in_url = 0
        self.dropped = 0
        self.fail_counter = 0
        self.gzipped = 0
        self.tls_failures = 0
        # (arrival, status) of each request since the reset, at most TIMELINE_MAX,
        # arrival on CLOCK_MONOTONIC (the clients' clock too): GET /timeline, for
        # the benchmarks' where-did-the-time-go
        self.timeline = []

    def timeline_snapshot(self):
        with self.lock:
            return [[t, s] for t, s in self.timeline]

    def snapshot(self):
        with self.lock:
            return {"requests": self.requests, "by_endpoint": dict(self.by_endpoint),
                    "status_counts": {str(k): v for k, v in self.status_counts.items()},
                    "status_429": self.status_429, "peak_concurrency": self.peak_concurrency,
                    "peak_rps": self.peak_rps, "token_in_url": self.token_in_url,
                    "dropped": self.dropped, "in_flight": self.concurrency,
                    "gzipped": self.gzipped, "tls_failures": self.tls_failures}


class Service:
    """One fake service: an app (routes + protocol-specific errors) plus knobs and stats."""

    def __init__(self, name, app, seed, verbose=False):
        self.name = name
        self.app = app
        self.seed = seed
        self.verbose = verbose
        self.knobs = {}
        self.extra = {}          # service-specific control settings (poison_ids, ...)
        self.stats = Stats()
        self.rng = random.Random("%s:%s" % (seed, name))
        self.rng_lock = threading.Lock()
        app.service = self

    def configure(self, conf):
        """Merge knobs; all are checked before any is applied (a refused config changes nothing)."""
        for k, v in conf.items():
            if k in KNOBS:
                if v is not None and (isinstance(v, bool) and bool not in KNOBS[k] or not isinstance(v, KNOBS[k])):
                    raise ValueError("%s.%s: bad value %r" % (self.name, k, v))
                if k == "gzip" and v is not None and v not in GZIP_MODES:
                    raise ValueError("%s.gzip: %r is not one of %s" % (self.name, v, ", ".join(GZIP_MODES)))
            elif k not in getattr(self.app, "EXTRA_KNOBS", ()):
                raise ValueError("%s: unknown knob %r" % (self.name, k))
        for k, v in conf.items():
            if k in KNOBS:
                if v is None:
                    self.knobs.pop(k, None)
                    continue
                if isinstance(v, bool) and bool not in KNOBS[k] or not isinstance(v, KNOBS[k]):
                    raise ValueError("%s.%s: bad value %r" % (self.name, k, v))
                self.knobs[k] = v
                if k == "fail_after":
                    with self.stats.lock:
                        self.stats.fail_counter = 0
            elif k in getattr(self.app, "EXTRA_KNOBS", ()):
                if v is None:
                    self.extra.pop(k, None)
                else:
                    self.extra[k] = v
            else:
                raise ValueError("%s: unknown knob %r" % (self.name, k))

    def reset(self):
        self.stats.reset()
        with self.rng_lock:
            self.rng = random.Random("%s:%s" % (self.seed, self.name))

    def draw(self):
        with self.rng_lock:
            return self.rng.random()

    def begin(self):
        """Counts a request's arrival: (requests in the last second, its arrival time)."""
        now = time.monotonic()
        st = self.stats
        with st.lock:
            st.requests += 1
            st.concurrency += 1
            st.peak_concurrency = max(st.peak_concurrency, st.concurrency)
            st.window.append(now)
            while st.window and st.window[0] <= now - 1.0:
                st.window.popleft()
            n = len(st.window)
            st.peak_rps = max(st.peak_rps, n)
            return n, now

    def done(self):
        with self.stats.lock:
            self.stats.concurrency -= 1

    def record(self, route, status, arrived=None):
        """Count an answer before it is sent, so a client that has it always sees it in the stats."""
        st = self.stats
        with st.lock:
            if arrived is not None and len(st.timeline) < TIMELINE_MAX:
                st.timeline.append((round(arrived, 4), status))
            st.by_endpoint[route] += 1
            if status is None:
                st.dropped += 1
                st.status_counts["dropped"] += 1
            else:
                st.status_counts[status] += 1
                if status == 429:
                    st.status_429 += 1

    def count_token_in_url(self):
        with self.stats.lock:
            self.stats.token_in_url += 1

    def fail_due(self, req, route):
        """Injected failure status for this request, or None."""
        k = self.knobs
        fp = k.get("fail_path")
        if fp is not None:
            applies = fp in req.target
        else:
            applies = self.app.failable(req, route)
        if not applies:
            return None
        status = k.get("fail_status", 500)
        if "fail_after" in k:
            with self.stats.lock:
                self.stats.fail_counter += 1
                n = self.stats.fail_counter
            if n > k["fail_after"]:
                return status
        if k.get("fail_rate", 0) > 0 and self.draw() < k["fail_rate"]:
            return status
        return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fakesvc/1"

    def setup(self):
        super().setup()
        # Headers and body go out in separate writes; without TCP_NODELAY,
        # Nagle plus the client's delayed ACK adds ~40 ms to every request
        # on a kept-alive connection, which would swamp every benchmark.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, fmt, *args):
        if self.server.service.verbose:
            sys.stderr.write("[%s] %s\n" % (self.server.service.name, fmt % args))

    def do_GET(self):
        self.dispatch()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_GET

    def send(self, resp, req, stall_ms=0):
        body = resp.body
        enc = None
        mode = self.server.service.knobs.get("gzip", "auto")
        asked = req is not None and "gzip" in (req.header("Accept-Encoding") or "")
        if body and (mode == "always" or mode == "auto" and asked and len(body) > 512):
            body = gzip.compress(body, 1)
            enc = "gzip"
            with self.server.service.stats.lock:
                self.server.service.stats.gzipped += 1
        self.send_response(resp.status)
        self.send_header("Content-Type", resp.ctype)
        self.send_header("Content-Length", str(len(body)))
        if enc:
            self.send_header("Content-Encoding", enc)
        for h, v in resp.headers:
            self.send_header(h, v)
        self.end_headers()
        if stall_ms:
            self.wfile.flush()
            time.sleep(stall_ms / 1000.0)
        if self.command != "HEAD":
            self.wfile.write(body)

    def drop(self):
        self.close_connection = True
        try:
            self.connection.shutdown(2)
        except OSError:
            pass

    def dispatch(self):
        svc = self.server.service
        app = svc.app
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n > 0 else b""
        req = Request(self.command, self.path, self.headers, body)
        in_window, arrived = svc.begin()
        route = "%s %s" % (self.command, app.route_name(req))
        try:
            k = dict(svc.knobs)
            if k.get("down"):
                svc.record(route, None, arrived)
                self.drop()
                return
            if k.get("latency_ms"):
                time.sleep(k["latency_ms"] / 1000.0)
            fp = k.get("fail_path")
            if k.get("drop_rate", 0) > 0 and (fp is None or fp in req.target) and svc.draw() < k["drop_rate"]:
                svc.record(route, None, arrived)
                self.drop()
                return
            lim = k.get("rps_limit")
            if lim is not None and in_window > lim:
                resp = app.error(req, 429, "rate limited")
                resp.headers.append(("Retry-After", str(k.get("retry_after", 1))))
            else:
                fs = svc.fail_due(req, route)
                if fs is not None:
                    resp = app.error(req, fs, "injected failure")
                    if fs == 429 or fs == 503:
                        resp.headers.append(("Retry-After", str(k.get("retry_after", 1))))
                else:
                    try:
                        resp = app.handle(req)
                    except Exception as e:  # a fake bug must still answer, and say so
                        import traceback
                        traceback.print_exc()
                        resp = app.error(req, 500, "fake internal error: %s" % e)
            if getattr(resp, "lost", False):
                # the handler did its work, but the answer never arrives
                svc.record(route, None, arrived)
                self.drop()
                return
            svc.record(route, resp.status, arrived)
            self.send(resp, req, k.get("stall_ms", 0))
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        finally:
            svc.done()


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, service, tls=None):
        """tls: an ssl.SSLContext (server side) to serve HTTPS, or None for HTTP."""
        self.service = service
        self.tls = tls
        super().__init__(("127.0.0.1", 0), Handler)

    def url(self):
        return "%s://127.0.0.1:%d" % ("https" if self.tls else "http", self.server_address[1])

    def finish_request(self, request, client_address):
        # The TLS handshake runs here, in the connection's own thread, so a
        # client that never completes one cannot stall the accept loop.
        if self.tls is not None:
            try:
                request.settimeout(10)
                request = self.tls.wrap_socket(request, server_side=True)
                request.settimeout(None)
            except (ssl.SSLError, OSError) as e:
                # e.g. the client refused our certificate (tlsv1 alert unknown ca)
                with self.service.stats.lock:
                    self.service.stats.tls_failures += 1
                if self.service.verbose:
                    sys.stderr.write("[%s] TLS handshake failed: %s\n" % (self.service.name, e))
                return
            # the plain socket was detached into the TLS one: close that one here
            try:
                super().finish_request(request, client_address)
            finally:
                self.shutdown_request(request)
            return
        super().finish_request(request, client_address)


def tls_context(cert, key):
    """A server-side TLS context for the PEM certificate chain and key, or None when cert is None."""
    if cert is None:
        return None
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    return ctx


class App:
    """Base of a service app: route naming, auth, protocol-shaped errors."""
    EXTRA_KNOBS = ()
    service = None

    def route_name(self, req):
        return req.path

    def failable(self, req, route):
        return True

    def error(self, req, status, msg):
        return jresp({"error": msg}, status)

    def handle(self, req):
        return self.error(req, 404, "not found")
