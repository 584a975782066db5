#!/usr/bin/env python3
"""bench/scenarios.py: the issue 11 load scenarios (cold under rate limits, memory, -jN, warm, CPU) as a table and as JSON."""
#
# Usage: bench/scenarios.py [--quick] [--json FILE] [--only NAME,...]
#   scenarios: cold (client throttles set to the limits), limits (no limit set:
#   the client finds them from 429s), jobs, memory, warm
#   (PLEXPIPE_BIN: programs, default bin/; BENCH_QUICK=1 is --quick)
#
# Every scenario runs the real programs against the fake services
# (tests/fake) serving real-size metadata (TMDb reviews lengthened with the
# review_words knob, so that movie points are ~32 KB with full cast and
# reviews). It prints figures and writes them as JSON; it checks no target:
# the targets of issue 11 are read off these figures, and a machine's load
# changes wall times, so the load average is recorded next to them.
#
# Peak RSS: each stage runs under /usr/bin/time (%M: exact, but for
# meta-enrich the maximum over the parent and its reaped workers), and a
# sampler reads VmHWM from /proc/PID/status of every process of the pipeline
# every 20 ms until it exits, which tells meta-enrich's parent from its
# workers (forked, same name, parent is meta-enrich).

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TMDB_KEY = "0123456789abcdef0123456789abcdef"
REVIEW_WORDS = 420          # words added per review: points of ~32 KB on average (episodes have none)
STAGES = ("plex-ingest", "meta-enrich", "qdrant-upsert")
LOOKAHEAD = "meta-enrich-la"    # meta-enrich's IMDb look-ahead child (enrich/lookahead.c)

# Library shapes: (label, movies, shows, seasons per show, episodes per season).
# About 80% movies, like a typical library; items = movies + shows*seasons*episodes.
FULL = {
    "cold": (1100, 3, 4, 25),           # 1,400 items, as measured in issue 11
    "jobs": (320, 2, 2, 20),            # 400 items
    "mem_small": (1600, 4, 4, 25),      # 2,000 items
    "mem_large": (16000, 40, 4, 25),    # 20,000 items
}
QUICK = {
    "cold": (50, 1, 2, 5),
    "jobs": (40, 1, 2, 5),
    "mem_small": (50, 1, 2, 5),
    "mem_large": (150, 1, 5, 10),
}
SCENARIOS = ("cold", "limits", "jobs", "memory", "warm")


def where_time_goes(events, t0, wall, limit):
    """From a service's timeline (tests/fake GET /timeline): when its first and last requests came
    (s after the pipeline started), the tail after the last, its answered rate in between, and the
    1-s slots of that span answered under 90% of the limit (and the answers they lacked)."""
    if not events:
        return {}
    ts = sorted(t for t, _ in events)
    ok = sorted(t for t, st in events if st is not None and st != 429)
    first, last = ts[0] - t0, ts[-1] - t0
    span = max(last - first, 1e-9)
    slots = [0] * (int(span) + 1)
    for t in ok:
        slots[min(int(t - t0 - first), len(slots) - 1)] += 1
    full = slots[:-1]                   # the last slot is partial
    low = [n for n in full if n < 0.9 * limit]
    return {"first_s": round(first, 2), "last_s": round(last, 2), "tail_s": round(wall - last, 2),
            "answered_per_s": round(len(ok) / span, 2), "slots_under_90pct": len(low),
            "answers_short_in_them": int(sum(limit - n for n in low))}


def items_of(shape):
    m, s, k, e = shape
    return m + s * k * e


def loadavg():
    return [round(x, 2) for x in os.getloadavg()]


class Fake:
    """The fake services (tests/fake/fakesvc.py) for one scenario, with the control API."""

    def __init__(self, work, shape, config):
        m, s, k, e = shape
        self.port_file = os.path.join(work, "ports.json")
        if os.path.exists(self.port_file):
            os.unlink(self.port_file)
        self.log = open(os.path.join(work, "fake.log"), "ab")
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(TOP, "tests/fake/fakesvc.py"), "--port-file", self.port_file,
             "--max-seconds", "7200", "--movies", str(m), "--collections", "0", "--shows", str(s),
             "--seasons", str(k), "--episodes", str(e), "--config", json.dumps(config)],
            stdout=self.log, stderr=self.log, start_new_session=True)
        deadline = time.monotonic() + 30
        while not os.path.exists(self.port_file):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                sys.exit("bench: the fake services did not start (see %s)" % self.log.name)
            time.sleep(0.1)
        with open(self.port_file) as f:
            self.urls = json.load(f)

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.urls["control"] + path, data=data, method=method)
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.load(r)

    def config(self, conf):
        return self.call("POST", "/config", conf)

    def reset(self, body=None):
        return self.call("POST", "/reset", body or {})

    def timeline(self):
        return self.call("GET", "/timeline")

    def stats(self):
        return self.call("GET", "/stats")

    def rss_kb(self):
        """The fake's own peak RSS (its Qdrant keeps every point in memory)."""
        hwm = RssSampler.read(self.proc.pid)
        return hwm[2] if hwm else None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


class RssSampler(threading.Thread):
    """Every 20 ms, VmHWM of every descendant of the given pids, kept per pid with its role."""

    def __init__(self, roots):
        super().__init__(daemon=True)
        self.roots = list(roots)
        self.peak = {}          # pid -> [role, kb]
        self.stop_ev = threading.Event()

    @staticmethod
    def read(pid):
        try:
            with open("/proc/%d/status" % pid) as f:
                st = f.read()
        except OSError:
            return None
        name, ppid, hwm = None, None, None
        for line in st.splitlines():
            if line.startswith("Name:"):
                name = line.split(None, 1)[1].strip()
            elif line.startswith("PPid:"):
                ppid = int(line.split()[1])
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
        return name, ppid, hwm

    @staticmethod
    def children(pid):
        out = []
        try:
            for tid in os.listdir("/proc/%d/task" % pid):
                with open("/proc/%d/task/%s/children" % (pid, tid)) as f:
                    out += [int(x) for x in f.read().split()]
        except OSError:
            pass
        return out

    def tick(self):
        todo, seen = list(self.roots), set()
        names = {}
        while todo:
            pid = todo.pop()
            if pid in seen:
                continue
            seen.add(pid)
            r = self.read(pid)
            if r is None:
                continue
            name, ppid, hwm = r
            names[pid] = name
            todo += self.children(pid)
            if (name in STAGES or name == LOOKAHEAD) and hwm is not None:
                role = name
                if name == LOOKAHEAD or (name == "meta-enrich" and names.get(ppid) == "meta-enrich"):
                    role = "meta-enrich worker"     # the IMDb look-ahead child counts with them
                old = self.peak.get(pid)
                if old is None or hwm > old[1]:
                    self.peak[pid] = [role, hwm]

    def run(self):
        while not self.stop_ev.is_set():
            self.tick()
            self.stop_ev.wait(0.02)

    def finish(self):
        self.stop_ev.set()
        self.join()
        by = {}
        for role, kb in self.peak.values():
            by.setdefault(role, []).append(kb)
        return by


def timed(tfile, argv):
    """Under time(1), which stays in the program's process group (timeout(1) would leave it)."""
    return ["/usr/bin/time", "-f", "%e %U %S %M", "-o", tfile] + argv


def read_time(tfile):
    """(wall, cpu seconds, max RSS KB) from a /usr/bin/time -f '%e %U %S %M' file."""
    try:
        with open(tfile) as f:
            last = f.read().strip().splitlines()[-1].split()
        return float(last[0]), round(float(last[1]) + float(last[2]), 3), int(last[3])
    except (OSError, IndexError, ValueError):
        return None, None, None


class Bench:
    def __init__(self, a):
        self.a = a
        self.quick = a.quick
        self.shapes = QUICK if a.quick else FULL
        self.bin = os.environ.get("PLEXPIPE_BIN") or os.path.join(TOP, "bin")
        self.work = tempfile.mkdtemp(prefix="plexpipe-bench.")
        self.fake = None
        self.live = []
        self.env = dict(os.environ, TMDB_API_KEY=TMDB_KEY, PLEX_TOKEN="plex-test-token",
                        XDG_CACHE_HOME=os.path.join(self.work, "xdg-cache"),
                        XDG_STATE_HOME=os.path.join(self.work, "xdg-state"))
        for v in ("LOG_LEVEL", "LOG_FORMAT", "EMBED_URL", "QDRANT_URL", "TMDB_RPS", "ENRICHMENT_WORKERS"):
            self.env.pop(v, None)
        self.res = {"version": 1, "quick": self.quick, "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                    "commit": self.git_commit(), "nproc": os.cpu_count(), "loadavg_start": loadavg(),
                    "review_words": REVIEW_WORDS}

    @staticmethod
    def git_commit():
        try:
            return subprocess.run(["git", "-C", TOP, "rev-parse", "--short", "HEAD"], capture_output=True,
                                  text=True, timeout=10).stdout.strip() or None
        except (OSError, subprocess.SubprocessError):
            return None

    def path(self, name):
        return os.path.join(self.work, name)

    def start_fake(self, shape, config):
        self.stop_fake()
        conf = {"tmdb": {"review_words": REVIEW_WORDS}}
        for svc, knobs in config.items():
            conf.setdefault(svc, {}).update(knobs)
        self.fake = Fake(self.work, shape, conf)

    def wait_all(self, procs, seconds):
        """Exit statuses of procs (each in its own session), all killed after seconds ("timeout")."""
        self.live = list(procs)
        deadline = time.monotonic() + seconds
        out = []
        for p in procs:
            try:
                out.append(p.wait(max(deadline - time.monotonic(), 0.1)))
            except subprocess.TimeoutExpired:
                self.kill_live()
                out.append("timeout")
        self.live = []
        return out

    def kill_live(self):
        for p in self.live:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)    # time(1) and the program it runs
                except OSError:
                    pass
                p.wait()
        self.live = []

    def stop_fake(self):
        self.kill_live()            # interrupted: no stage outlives the bench
        if self.fake is not None:
            self.fake.stop()
            self.fake = None

    def enrich_argv(self, jobs, cache, extra):
        u = self.fake.urls
        return [os.path.join(self.bin, "meta-enrich"), "-j", str(jobs), "--tmdb-url", u["tmdb"],
                "--imdb-url", u["imdb"], "--cache-dir", cache, "--imdb-queue", cache + ".imdb-queue.json"] + extra

    def pipeline(self, tag, cache, enrich_extra, jobs=4):
        """plex-ingest | meta-enrich -jN | qdrant-upsert, each timed; returns figures."""
        u = self.fake.urls
        limit = 3600
        t = {s: self.path("%s.%s.time" % (tag, s)) for s in STAGES}
        err = {s: open(self.path("%s.%s.err" % (tag, s)), "wb") for s in STAGES}
        out = open(self.path("%s.out" % tag), "wb")
        ingest = [os.path.join(self.bin, "plex-ingest"), "--plex-url", u["plex"]]
        upsert = [os.path.join(self.bin, "qdrant-upsert"), "--qdrant-url", u["qdrant"], "--collection", "bench",
                  "--dense", "endpoint", "--embed-url", u["embed"] + "/v1/embeddings",
                  "--dead-letter", self.path(tag + ".dead-letter.ndjson"),
                  "--reject-file", self.path(tag + ".rejects.ndjson")]
        t0 = self.t0 = time.monotonic()
        p1 = subprocess.Popen(timed(t["plex-ingest"], ingest), stdout=subprocess.PIPE,
                              stderr=err["plex-ingest"], env=self.env, start_new_session=True)
        p2 = subprocess.Popen(timed(t["meta-enrich"], self.enrich_argv(jobs, cache, enrich_extra)),
                              stdin=p1.stdout, stdout=subprocess.PIPE, stderr=err["meta-enrich"], env=self.env,
                              start_new_session=True)
        p1.stdout.close()
        p3 = subprocess.Popen(timed(t["qdrant-upsert"], upsert), stdin=p2.stdout, stdout=out,
                              stderr=err["qdrant-upsert"], env=self.env, start_new_session=True)
        p2.stdout.close()
        sampler = RssSampler([p1.pid, p2.pid, p3.pid])
        sampler.start()
        status = dict(zip(STAGES, self.wait_all([p1, p2, p3], limit)))
        wall = time.monotonic() - t0
        sampled = sampler.finish()
        for f in list(err.values()) + [out]:
            f.close()
        r = {"wall_s": round(wall, 2), "exit": status, "stage_wall_s": {}, "cpu_s": {}, "peak_rss_kb": {}}
        for s in STAGES:
            w, cpu, rss = read_time(t[s])
            r["stage_wall_s"][s] = w
            r["cpu_s"][s] = cpu
            r["peak_rss_kb"][s] = rss
        # meta-enrich under time(1) is the max over parent and workers: split it with the samples
        r["peak_rss_kb"]["meta-enrich"] = max(sampled.get("meta-enrich", [0]) or [0]) or None
        r["peak_rss_kb"]["meta-enrich workers"] = max(sampled.get("meta-enrich worker", [0]) or [0]) or None
        r["peak_rss_kb"]["meta-enrich tree"] = read_time(t["meta-enrich"])[2]
        r["worker_rss_kb"] = sorted(sampled.get("meta-enrich worker", []))
        for s in ("plex-ingest", "qdrant-upsert"):      # time(1) is exact; the sample is a floor
            if r["peak_rss_kb"][s] is None and sampled.get(s):
                r["peak_rss_kb"][s] = max(sampled[s])
        r["items"] = self.end_items(tag)
        if r["items"]:
            r["cpu_s_per_1000_items"] = {s: (round(c * 1000.0 / r["items"], 3) if c is not None else None)
                                         for s, c in r["cpu_s"].items()}
        return r

    def end_items(self, tag):
        """Items of the run, from qdrant-upsert's summary (else from the stderr summaries)."""
        try:
            with open(self.path(tag + ".out")) as f:
                for line in f:
                    try:
                        o = json.loads(line)
                    except ValueError:
                        continue
                    if o.get("kind") == "summary" and isinstance(o.get("points"), int):
                        return o["points"]
        except OSError:
            pass
        return None

    def counts(self, st):
        q = st["qdrant"]["by_endpoint"]
        return {"tmdb": st["tmdb"]["requests"], "imdb": st["imdb"]["requests"],
                "tmdb_429": st["tmdb"]["status_429"], "imdb_429": st["imdb"]["status_429"],
                # embeddings made, not the GET /v1/models auth probe qdrant-upsert sends first
                "embed": st["embed"]["by_endpoint"].get("POST /v1/embeddings", 0),
                "embed_requests": st["embed"]["requests"], "upserts": q.get("PUT /collections/{c}/points", 0),
                "qdrant": st["qdrant"]["requests"]}

    # ---- scenarios -------------------------------------------------------------
    def cold_run(self, tag, lat, extra):
        """One cold pipeline run against fakes enforcing TMDb 40/s and IMDb 10/s; figures with floor and 429s."""
        lim = {"tmdb": 40, "imdb": 10}
        self.start_fake(self.shapes["cold"], {"tmdb": {"latency_ms": lat, "rps_limit": lim["tmdb"]},
                                              "imdb": {"latency_ms": lat, "rps_limit": lim["imdb"]}})
        la0 = loadavg()
        r = self.pipeline(tag, self.path("cache-" + tag), extra)
        c = self.counts(self.fake.stats())
        tl = self.fake.timeline()
        with open(self.path(tag + ".timeline.json"), "w") as f:
            json.dump(tl, f)
        r["timeline"] = {a: where_time_goes(tl[a], self.t0, r["wall_s"], lim[a]) for a in lim}
        for a in lim:
            print("  %s %s" % (a, r["timeline"][a]), flush=True)
        floors = {api: (c[api] - c[api + "_429"]) / float(lim[api]) for api in lim}
        api = max(floors, key=floors.get)
        total = c["tmdb"] + c["imdb"]
        r.update({"latency_ms": lat, "limits_rps": lim, "enrich_args": extra, "jobs": 4,
                  "requests": {a: c[a] for a in lim}, "status_429": {a: c[a + "_429"] for a in lim},
                  "floor_s": round(floors[api], 2), "floor_api": api,
                  "ratio": round(r["wall_s"] / floors[api], 3) if floors[api] > 0 else None,
                  "pct_429": round(100.0 * (c["tmdb_429"] + c["imdb_429"]) / total, 2) if total else 0.0,
                  "loadavg": [la0, loadavg()]})
        print("%s %3d ms: items=%s wall=%.1f s floor=%.1f s (%s) ratio=%.2f  429s=%d (%.2f%% of %d)  "
              "rss KB ingest/enrich/workers/upsert=%s/%s/%s/%s  load %s" % (
                  tag.rstrip("0123456789"), lat, r["items"], r["wall_s"], r["floor_s"], api, r["ratio"] or 0,
                  c["tmdb_429"] + c["imdb_429"], r["pct_429"], total, r["peak_rss_kb"]["plex-ingest"],
                  r["peak_rss_kb"]["meta-enrich"], r["peak_rss_kb"]["meta-enrich workers"],
                  r["peak_rss_kb"]["qdrant-upsert"], la0[0]), flush=True)
        return r

    def cold(self):
        # the client throttles configured to the services' limits (TMDb 40/s, IMDb 10 per 1 s window)
        extra = ["--tmdb-rps", "40", "--imdb-requests-per-window", "10", "--imdb-window-seconds", "1"]
        self.res["cold"] = [self.cold_run("cold%d" % lat, lat, extra) for lat in (30, 150)]

    def limits(self):
        """Cold at 30 ms with no limit set by the user: the client must find the services' limits itself."""
        self.res["limits"] = self.cold_run("limits30", 30, ["--tmdb-rps", "0"])

    def jobs(self):
        shape = self.shapes["jobs"]
        bsize = "5" if self.quick else "10"
        self.start_fake(shape, {"tmdb": {"latency_ms": 100}, "imdb": {"latency_ms": 100}})
        inp = self.path("jobs.plex.ndjson")
        with open(inp, "wb") as f:
            subprocess.run(["timeout", "600", os.path.join(self.bin, "plex-ingest"), "--plex-url",
                            self.fake.urls["plex"], "-q"], stdout=f, stderr=subprocess.DEVNULL, env=self.env,
                           check=True)
        runs, outs = [], {}
        for j in (1, 4, 8):
            self.fake.reset()
            tfile, outp = self.path("jobs%d.time" % j), self.path("jobs%d.out" % j)
            la0 = loadavg()
            with open(inp, "rb") as fi, open(outp, "wb") as fo, open(self.path("jobs%d.err" % j), "wb") as fe:
                t0 = time.monotonic()
                argv = self.enrich_argv(j, self.path("cache-j%d" % j),
                                        ["--tmdb-rps", "0", "--enrichment-batch-size", bsize])
                p = subprocess.Popen(timed(tfile, argv), stdin=fi, stdout=fo, stderr=fe, env=self.env,
                                     start_new_session=True)
                rc = self.wait_all([p], 3600)[0]
                wall = time.monotonic() - t0
            c = self.counts(self.fake.stats())
            with open(self.path("jobs%d.timeline.json" % j), "w") as f:
                json.dump(self.fake.timeline(), f)
            _, cpu, rss = read_time(tfile)
            with open(outp, "rb") as f:
                outs[j] = f.read()
            runs.append({"jobs": j, "wall_s": round(wall, 2), "exit": rc, "cpu_s": cpu, "peak_rss_kb_tree": rss,
                         "requests": {"tmdb": c["tmdb"], "imdb": c["imdb"]}, "loadavg": [la0, loadavg()]})
            print("jobs -j%d: wall=%.1f s requests tmdb=%d imdb=%d exit=%s load %s" % (
                j, wall, c["tmdb"], c["imdb"], rc, la0[0]), flush=True)
        w = {r["jobs"]: r["wall_s"] for r in runs}
        sizes = []
        for line in outs[1].splitlines():
            o = json.loads(line)
            if o.get("kind") == "points":
                sizes += [len(json.dumps(p, ensure_ascii=False, separators=(",", ":")).encode()) for p in o["points"]]
        self.res["jobs"] = {"latency_ms": 100, "limits_rps": None, "items": items_of(shape),
                            "enrichment_batch_size": int(bsize), "runs": runs,
                            "speedup_j4": round(w[1] / w[4], 2) if w[4] else None,
                            "speedup_j8": round(w[1] / w[8], 2) if w[8] else None,
                            "identical_output": outs[1] == outs[4] == outs[8],
                            "avg_point_bytes": round(sum(sizes) / len(sizes)) if sizes else None,
                            "max_point_bytes": max(sizes) if sizes else None}
        print("jobs: speed-up -j4/-j1 %.2fx, -j8/-j1 %.2fx; output %s; avg point %s bytes" % (
            self.res["jobs"]["speedup_j4"] or 0, self.res["jobs"]["speedup_j8"] or 0,
            "identical" if self.res["jobs"]["identical_output"] else "DIFFERENT",
            self.res["jobs"]["avg_point_bytes"]), flush=True)

    def memory(self):
        runs = {}
        for key in ("mem_small", "mem_large"):
            shape = self.shapes[key]
            self.start_fake(shape, {"qdrant": {"latency_ms": 150}})
            la0 = loadavg()
            cache = self.path("cache-" + key)
            r = self.pipeline(key, cache, ["--tmdb-rps", "0"])   # no limits: memory, not waiting, is measured
            c = self.counts(self.fake.stats())
            r.update({"qdrant_latency_ms": 150, "requests": c, "loadavg": [la0, loadavg()],
                      "fake_rss_kb": self.fake.rss_kb()})
            runs[key] = r
            self.print_mem(key, r, la0)
            if key == "mem_small" and "warm" in self.only:
                self.warm(cache, shape)
        small, large = runs["mem_small"], runs["mem_large"]
        ratio = {}
        for s in small["peak_rss_kb"]:
            a, b = small["peak_rss_kb"][s], large["peak_rss_kb"][s]
            ratio[s] = round(b / float(a), 3) if a and b else None
        self.res["memory"] = {"small": small, "large": large, "rss_ratio_large_small": ratio}
        self.res["cpu_s_per_1000_items"] = large.get("cpu_s_per_1000_items")
        print("memory: peak RSS ratio %s/%s items: %s" % (
            large["items"], small["items"], " ".join("%s=%s" % (k, v) for k, v in ratio.items())), flush=True)

    @staticmethod
    def print_mem(key, r, la0):
        k = r["peak_rss_kb"]
        cpk = r.get("cpu_s_per_1000_items") or {}
        print("%s: items=%s wall=%.1f s exit=%s peak RSS MB ingest=%.1f enrich=%.1f workers=%.1f (tree %.1f) "
              "upsert=%.1f  cpu s/1000 items ingest=%s enrich=%s upsert=%s  load %s" % (
                  key, r["items"], r["wall_s"], "/".join(str(r["exit"][s]) for s in STAGES),
                  (k["plex-ingest"] or 0) / 1024.0, (k["meta-enrich"] or 0) / 1024.0,
                  (k["meta-enrich workers"] or 0) / 1024.0, (k["meta-enrich tree"] or 0) / 1024.0,
                  (k["qdrant-upsert"] or 0) / 1024.0, cpk.get("plex-ingest"), cpk.get("meta-enrich"),
                  cpk.get("qdrant-upsert"), la0[0]), flush=True)

    def warm(self, cache, shape):
        """The same load again on the same cache and collection: nothing to fetch, embed or write."""
        self.fake.reset()
        la0 = loadavg()
        r = self.pipeline("warm", cache, ["--tmdb-rps", "0"])
        c = self.counts(self.fake.stats())
        r.update({"requests": {k: c[k] for k in ("tmdb", "imdb", "embed", "embed_requests", "upserts", "qdrant")},
                  "loadavg": [la0, loadavg()]})
        self.res["warm"] = r
        print("warm: items=%s wall=%.1f s requests tmdb=%d imdb=%d embeddings=%d (embed service %d) upserts=%d "
              "(qdrant total %d)" % (r["items"], r["wall_s"], c["tmdb"], c["imdb"], c["embed"], c["embed_requests"],
                                     c["upserts"], c["qdrant"]), flush=True)

    def table(self):
        """The summary table against the issue 11 targets."""
        rows = []
        for r in self.res.get("cold", []):
            rows.append(("cold wall / floor at %d ms" % r["latency_ms"],
                         "%.1f s / %.1f s = %.2f" % (r["wall_s"], r["floor_s"], r["ratio"] or 0),
                         "<= %s" % ("1.15" if r["latency_ms"] == 30 else "1.2")))
            rows.append(("429s at %d ms" % r["latency_ms"], "%d (%.2f%%)" % (
                sum(r["status_429"].values()), r["pct_429"]), "< 1%"))
        r = self.res.get("limits")
        if r:
            rows.append(("no limit set: wall / floor at %d ms" % r["latency_ms"],
                         "%.1f s / %.1f s = %.2f" % (r["wall_s"], r["floor_s"], r["ratio"] or 0), "close to 1"))
            rows.append(("no limit set: 429s", "%d (%.2f%%)" % (sum(r["status_429"].values()), r["pct_429"]),
                         "< 1%"))
        m = self.res.get("memory")
        if m:
            for s in ("plex-ingest", "meta-enrich", "meta-enrich workers", "qdrant-upsert"):
                a, b = m["small"]["peak_rss_kb"][s], m["large"]["peak_rss_kb"][s]
                rows.append(("peak RSS %s %s / %s items" % (s, m["small"]["items"], m["large"]["items"]),
                             "%.1f / %.1f MB (x%s)" % ((a or 0) / 1024.0, (b or 0) / 1024.0,
                                                       m["rss_ratio_large_small"][s]), "< 64 MB, x <= 1.2"))
        j = self.res.get("jobs")
        if j:
            w = {r["jobs"]: r["wall_s"] for r in j["runs"]}
            rows.append(("-j1 / -j4 / -j8 at 100 ms", "%.1f / %.1f / %.1f s (-j4 x%s)" % (
                w[1], w[4], w[8], j["speedup_j4"]), "-j4 >= 3.2x"))
        w = self.res.get("warm")
        if w:
            q = w["requests"]
            rows.append(("warm run requests", "tmdb %d imdb %d embed %d upserts %d" % (
                q["tmdb"], q["imdb"], q["embed"], q["upserts"]), "all 0"))
        c = self.res.get("cpu_s_per_1000_items")
        if c:
            rows.append(("CPU s per 1,000 items", " ".join("%s %s" % (s, c[s]) for s in STAGES), "no worse"))
        width = max([len(r[0]) for r in rows] + [6])
        vw = max([len(r[1]) for r in rows] + [6])
        print("\n%-*s  %-*s  %s" % (width, "figure", vw, "value", "target"))
        for r in rows:
            print("%-*s  %-*s  %s" % (width, r[0], vw, r[1], r[2]))
        print("load average %s at start, %s at end, %s CPUs" % (
            self.res["loadavg_start"], self.res.get("loadavg_end"), self.res["nproc"]))

    def run(self):
        self.only = self.a.only.split(",") if self.a.only else list(SCENARIOS)
        bad = [s for s in self.only if s not in SCENARIOS]
        if bad:
            sys.exit("bench: unknown scenario %s (known: %s)" % (",".join(bad), ",".join(SCENARIOS)))
        if "warm" in self.only and "memory" not in self.only:
            self.only.append("memory")      # the warm run repeats the small memory load
        print("plexpipe load scenarios%s (issue 11), %s CPUs, load average %s" % (
            " (quick)" if self.quick else "", self.res["nproc"], self.res["loadavg_start"]), flush=True)
        t0 = time.monotonic()
        try:
            for s in ("cold", "limits", "jobs", "memory"):
                if s in self.only:
                    getattr(self, s)()
        finally:
            self.stop_fake()
        self.res["loadavg_end"] = loadavg()
        self.res["seconds"] = round(time.monotonic() - t0, 1)
        self.table()
        if self.a.json:
            tmp = self.a.json + ".tmp"
            with open(tmp, "w") as f:
                json.dump(self.res, f, indent=1, sort_keys=True)
                f.write("\n")
            os.replace(tmp, self.a.json)
            print("figures written to %s" % self.a.json)
        if not self.a.keep:
            shutil.rmtree(self.work, ignore_errors=True)
        else:
            print("work files kept in %s" % self.work)
        return 0


def main():
    ap = argparse.ArgumentParser(description="plexpipe issue 11 load scenarios")
    ap.add_argument("--quick", action="store_true", default=os.environ.get("BENCH_QUICK") == "1",
                    help="small sizes (seconds, for tests); also BENCH_QUICK=1")
    ap.add_argument("--json", help="write the figures to this file")
    ap.add_argument("--only", help="comma list of scenarios: " + ",".join(SCENARIOS))
    ap.add_argument("--keep", action="store_true", help="keep the scratch directory")
    a = ap.parse_args()
    b = Bench(a)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        return b.run()
    finally:
        b.stop_fake()


if __name__ == "__main__":
    sys.exit(main())
