"""Fake imdbapi.dev: GET /titles/{id} and /titles:batchGet (max 5 repeated titleIds), proto3-style JSON."""

import re

from library import (IMDB_EPISODE_BASE, IMDB_MISSING_MAX, IMDB_MISSING_MIN, IMDB_MOVIE_BASE,
                     IMDB_SHOW_BASE, hexid, person, rng_for)
from svc_core import App, jresp

GRPC = {400: 3, 404: 5, 429: 8, 500: 13, 503: 14, 401: 16, 403: 7}
ID_RE = re.compile(r"^tt\d{7,9}$")


def rpc_error(status, msg):
    return jresp({"code": GRPC.get(status, 2), "message": msg, "details": []}, status)


def name_obj(p, full):
    pp = person(p)
    d = {"id": pp["nm"], "displayName": pp["tag"]}
    if full and p % 4:
        d["primaryImage"] = {"url": "https://img.example.invalid/name/%s@._V1_.jpg" % hexid(20, "n", p),
                             "width": 300 + p % 700, "height": 400 + p % 900}
    if full and p % 3 == 0:
        d["primaryProfessions"] = ["actor" if p % 2 else "actress", "producer"]
    if full and p % 5 == 0:
        d["alternativeNames"] = [pp["tag"].split()[0][0] + ". " + pp["tag"].split()[-1]]
    return d


class ImdbApp(App):
    EXTRA_KNOBS = ("poison_ids", "missing_ids")

    def __init__(self, lib):
        self.lib = lib

    def route_name(self, req):
        return "/titles/{id}" if req.path.startswith("/titles/") else req.path

    def error(self, req, status, msg):
        if status == 429:
            return rpc_error(429, "resource exhausted")
        return rpc_error(status, msg)

    def handle(self, req):
        if req.method not in ("GET", "HEAD"):
            return rpc_error(404, "Not Found")
        if req.path == "/titles:batchGet":
            ids = req.query.get("titleIds", [])
            if not ids:
                return rpc_error(400, "titleIds: at least 1 id is required")
            if len(ids) > 5:
                return rpc_error(400, "titleIds: maximum 5 IDs")
            poison = set(self.service.extra.get("poison_ids") or ())
            for t in ids:
                if t in poison or not ID_RE.match(t):
                    return rpc_error(400, "invalid title id: %s" % t)
            titles = []
            for t in dict.fromkeys(ids):
                o = self.title(t)
                if o is not None:
                    titles.append(o)
            return jresp({"titles": titles} if titles else {})
        m = re.match(r"^/titles/([^/]+)$", req.path)
        if m:
            t = m.group(1)
            if not ID_RE.match(t) or t in (self.service.extra.get("poison_ids") or ()):
                return rpc_error(400, "invalid title id: %s" % t)
            o = self.title(t)
            return jresp(o) if o is not None else rpc_error(404, "title not found")
        return rpc_error(404, "Not Found")

    def title(self, tid):
        n = int(tid[2:])
        if (len(tid) == 9 and IMDB_MISSING_MIN <= n <= IMDB_MISSING_MAX) or \
                tid in (self.service.extra.get("missing_ids") or ()):
            return None
        lib = self.lib
        total = lib.n_msec * lib.n_movies
        kind = "movie"
        if len(tid) == 9 and IMDB_MOVIE_BASE <= n < IMDB_MOVIE_BASE + total and \
                lib.movie_ids(n - IMDB_MOVIE_BASE)[1] == tid:
            f = lib.movie_facts(n - IMDB_MOVIE_BASE)
            crew = (f["directors"], f["writers"], f["cast"][:6])
            year, runtime = f["year"], f["duration"] // 1000
        elif len(tid) == 9 and IMDB_SHOW_BASE <= n < IMDB_SHOW_BASE + lib.n_shows:
            i = n - IMDB_SHOW_BASE
            f = lib.show_facts(i)
            kind = "tvSeries" if i % 3 else "tvMiniSeries"
            crew = (f["creators"], f["creators"], f["cast"][:6])
            year, runtime = f["year"], 2700
        elif len(tid) == 10 and n >= IMDB_EPISODE_BASE and self.episode(n - IMDB_EPISODE_BASE, tid):
            i, k, e = self.episode(n - IMDB_EPISODE_BASE, tid)
            f = lib.episode_facts(i, k, e)
            kind = "tvEpisode"
            crew = (f["directors"], f["writers"], f["cast"][:6])
            year, runtime = f["year"], f["duration"] // 1000
        else:
            f = lib.movie_facts(20_000_000 + n)
            crew = (f["directors"], f["writers"], f["cast"][:6])
            year, runtime = f["year"], f["duration"] // 1000
        r = rng_for(lib.seed, "imdb", tid)
        o = {"id": tid, "type": kind, "primaryTitle": f["title"]}
        if n % 6 == 1:
            o["originalTitle"] = f["title"] + " (original)"
        o["primaryImage"] = {"url": "https://img.example.invalid/title/%s@._V1_CR0,0,%d_.jpg" % (hexid(20, tid), 1000 + n % 900),
                             "width": 1000 + n % 900, "height": 1500 + n % 700}
        o["startYear"] = year
        if kind == "tvSeries" and n % 2 == 0:
            o["endYear"] = year + lib.n_seasons
        o["runtimeSeconds"] = runtime
        o["genres"] = [g for _, g in f["genres"]] if "genres" in f else ["Drama"]
        if n % 8 != 5:
            o["rating"] = {"aggregateRating": round(1 + r.random() * 9, 1), "voteCount": 5 + r.randrange(900_000)}
        if kind == "movie" and n % 3 == 0:
            o["metacritic"] = {"url": "https://www.metacritic.com/movie/x%d" % n, "score": 20 + n % 80,
                               "reviewCount": 5 + n % 50}
        o["plot"] = f["plot"]
        d, w, s = crew
        if d:
            o["directors"] = [name_obj(p, True) for p in d]
        if w:
            o["writers"] = [name_obj(p, n % 2 == 0) for p in w]
        if s:
            o["stars"] = [name_obj(p, True) for p in s]
        o["originCountries"] = [{"code": c, "name": nm} for c, nm in f.get("countries", [("US", "United States")])]
        o["spokenLanguages"] = [{"code": "eng", "name": "English"}]
        o["interests"] = [{"id": "in%07d" % (gid % 10_000_000), "name": g} for gid, g in f.get("genres", [])]
        if len(o["interests"]) > 1:
            o["interests"][-1]["isSubgenre"] = True
        return o

    def episode(self, n, tid):
        lib = self.lib
        i, rem = divmod(n, lib.block)
        k, e = divmod(rem, lib.n_eps + 1)
        if 0 <= i < lib.n_shows and 1 <= k <= lib.n_seasons and 1 <= e <= lib.n_eps and \
                lib.episode_ids(i, k, e)[1] == tid:
            return i, k, e
        return None
