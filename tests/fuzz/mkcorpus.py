#!/usr/bin/env python3
"""mkcorpus.py: writes the fuzz targets' seed corpora (OUT/<target>/) from tests/data, sample/ and, when present, ../shared.

Usage: tests/fuzz/mkcorpus.py OUT
The seeds are made at build time into build/, never committed: each is a
real input in the shape its target reads (see the comment at the top of
each tests/fuzz/fuzz_<target>.c), so the fuzzers start from deep inside
the parsers instead of from random bytes. ../shared (PLEXPIPE_SHARED) adds
real recorded answers when it is there; without it, the project's own
sample library is enough.
"""

import glob
import hashlib
import json
import os
import sys

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MAX_SEED = 64 * 1024          # make fuzz runs with -max_len of this


def load(path):
    with open(path, "rb") as f:
        return json.loads(f.read().decode("utf-8"))


def compact(obj):
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class Corpus:
    def __init__(self, out):
        self.out = out
        self.counts = {}

    def add(self, target, data):
        if isinstance(data, str):
            data = data.encode("utf-8")
        if not data or len(data) > MAX_SEED:
            return
        d = os.path.join(self.out, target)
        os.makedirs(d, exist_ok=True)
        name = hashlib.sha1(data).hexdigest()
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
        self.counts[target] = self.counts.get(target, 0) + 1


def metadata_items(doc):
    """The Metadata entries of a Plex MediaContainer answer."""
    mc = doc.get("MediaContainer", {}) if isinstance(doc, dict) else {}
    return [m for m in mc.get("Metadata", []) if isinstance(m, dict)]


def texts(obj):
    """Every string value in a JSON document (for the tokenizer)."""
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from texts(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from texts(v)


def main(argv):
    if len(argv) != 2:
        print("usage: mkcorpus.py OUT", file=sys.stderr)
        return 2
    c = Corpus(argv[1])
    shared = os.environ.get("PLEXPIPE_SHARED") or os.path.join(TOP, "..", "shared")
    fx = os.path.join(shared, "fixtures", "mcp-plex-sample-data")
    if not os.path.isdir(fx):
        print("mkcorpus: %s not found (set PLEXPIPE_SHARED): seeds from the project only" % fx,
              file=sys.stderr)
        fx = None

    # Plex items: the sample library's metadata and listings, and the shared recordings
    items, shows = [], {}
    docs = sorted(glob.glob(os.path.join(TOP, "sample/plex/**/*.json"), recursive=True))
    if fx:
        docs += sorted(glob.glob(os.path.join(fx, "**/plex*.json"), recursive=True))
        docs.append(os.path.join(fx, "movies.json"))
    for p in docs:
        for m in metadata_items(load(p)):
            items.append(m)
            if m.get("type") == "show":
                shows[str(m.get("ratingKey"))] = m
    for m in items:
        c.add("plex_item", compact(m))

    # TMDb and IMDb answers, as the cache (sample/cache) and the recordings hold them
    tmdb = {}
    for p in sorted(glob.glob(os.path.join(TOP, "sample/cache/tmdb/**/*.json"), recursive=True)):
        tmdb[os.path.relpath(p, os.path.join(TOP, "sample/cache/tmdb"))[:-5]] = open(p, "rb").read()
    imdb = [open(p, "rb").read() for p in sorted(glob.glob(os.path.join(TOP, "sample/cache/imdb/*.json")))]
    if fx:
        for name in ("movie/tmdb.json", "episode/tmdb.tv.json"):
            p = os.path.join(fx, name)
            if os.path.exists(p):
                tmdb["shared/" + name] = compact(load(p))
        for name in ("movie/imdb.json", "episode/imdb.tv.json"):
            p = os.path.join(fx, name)
            if os.path.exists(p):
                imdb.append(compact(load(p)))

    # fuzz_tmdb: scenario byte, then NUL-separated answers (see fuzz_tmdb.c)
    for key, body in sorted(tmdb.items()):
        if key.startswith("movie/") or key == "shared/movie/tmdb.json":
            c.add("tmdb", b"\x00" + body)
            c.add("tmdb", b"\x03" + compact({"movie_results": [{"id": 404}]}) + b"\x00" + body)
        elif key.startswith("find/"):
            c.add("tmdb", b"\x03" + body)
        elif key.count("/") == 1:         # tv/<id>: a show
            c.add("tmdb", b"\x01" + body)
            seasons = sorted(k for k in tmdb if k.startswith(key + "/season/"))
            for s in seasons:
                c.add("tmdb", b"\x02" + body + b"\x00" + tmdb[s])
                c.add("tmdb", b"\x04" + compact({"tv_episode_results": [{"show_id": 505}]}) +
                      b"\x00" + body + b"\x00" + tmdb[s])
        elif key.startswith("shared/"):
            c.add("tmdb", b"\x01" + body)
            c.add("tmdb", b"\x02" + body)
    c.add("tmdb", b"\x00null")

    # fuzz_imdb: scenario byte, then the title
    for body in imdb:
        for sc in (0, 1, 2):
            c.add("imdb", bytes([sc]) + body)
    c.add("imdb", b"\x00null")

    # fuzz_point: mode byte, then item, TMDb, IMDb, show (NUL-separated)
    movies = [m for m in items if m.get("type") == "movie"]
    episodes = [m for m in items if m.get("type") == "episode"]
    tmdb_movies = [v for k, v in sorted(tmdb.items()) if "movie" in k]
    tmdb_shows = [v for k, v in sorted(tmdb.items()) if k.count("/") == 1 and k.startswith("tv/")]
    for i, m in enumerate(movies[:40]):
        t = tmdb_movies[i % len(tmdb_movies)] if tmdb_movies else b""
        im = imdb[i % len(imdb)] if imdb else b""
        c.add("point", bytes([1 | (i % 4) << 3]) + compact(m) + b"\x00" + t + b"\x00" + im)
    for i, e in enumerate(episodes[:40]):
        t = tmdb_shows[i % len(tmdb_shows)] if tmdb_shows else b""
        show = shows.get(str(e.get("grandparentRatingKey")), {})
        c.add("point", bytes([2 | (i % 4) << 3]) + compact(e) + b"\x00" + t + b"\x00\x00" + compact(show))
    for p in sorted(glob.glob(os.path.join(TOP, "tests/data/**/*.json"), recursive=True)):
        pt = load(p)
        for mode in (4, 4 | 8, 4 | 16):
            c.add("point", bytes([mode]) + compact(pt))

    # fuzz_ndjson: streams as the stages read them
    recs = [{"kind": "plex", "v": 1, "seq": i, "items": items[i:i + 3]} for i in range(0, min(len(items), 30), 3)]
    for r in recs:
        c.add("ndjson", compact(r) + b"\n")
    c.add("ndjson", b"\n".join(compact(r) for r in recs[:4]) + b"\n" +
          compact({"kind": "end", "v": 1, "complete": True}) + b"\n")
    points = [load(p) for p in sorted(glob.glob(os.path.join(TOP, "tests/data/**/*.json"), recursive=True))]
    c.add("ndjson", compact({"kind": "points", "v": 1, "seq": 0, "points": points}) + b"\r\n")
    for pt in points:
        c.add("ndjson", compact(pt) + b"\n\n" + compact(pt))
    for m in items[:20]:
        c.add("ndjson", compact(m) + b"\n")

    # fuzz_jsplit: points lines as qdrant-upsert reads them (big, and a few small)
    c.add("jsplit", compact({"kind": "points", "v": 1, "seq": 0, "points": points}))
    for i, pt in enumerate(points[:12]):
        c.add("jsplit", compact({"kind": "points", "v": 1, "seq": i, "points": [pt, None, pt]}))

    # fuzz_bm25: the texts points are made of
    seen = set()
    for doc in items[:60] + [json.loads(b) for b in list(tmdb.values())[:8] + imdb[:8]] + points:
        for s in texts(doc):
            if len(s) > 12 and s not in seen and len(seen) < 300:
                seen.add(s)
                c.add("bm25", s)
    for t, n in sorted(c.counts.items()):
        print("mkcorpus: %-10s %d seeds" % (t, n))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
