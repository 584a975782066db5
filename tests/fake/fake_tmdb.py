"""Fake TMDb v3: movie, tv (with appended seasons), season, episode and find, consistent with the fake Plex library."""

import re

from library import (COUNTRIES, IMDB_EPISODE_BASE, IMDB_MOVIE_BASE,
                     IMDB_SHOW_BASE, STUDIOS, TMDB_MISSING_MIN, TMDB_MOVIE_BASE, TMDB_SHOW_BASE,
                     TVDB_EPISODE_BASE, TVDB_SHOW_BASE, hexid, person, rng_for, sentence)
from svc_core import App, jresp

MESSAGES = {7: "Invalid API key: You must be granted a valid key.",
            34: "The resource you requested could not be found.",
            25: "Your request count (#) is over the allowed limit of (40).",
            27: "Too many append to response objects: The maximum number of remote calls is 20.",
            5: "Invalid parameters: Your request parameters are incorrect.",
            11: "Internal error: Something went wrong, contact TMDb.",
            9: "Service offline: This service is temporarily offline, try again later."}
CODE_FOR_STATUS = {401: 7, 404: 34, 429: 25, 400: 5, 500: 11, 502: 43, 503: 9, 504: 24}
SYNTH_SEASONS = 12
SYNTH_EPISODES = 26
REVIEW_BITS = ["I didn’t expect much going in.", "The “quiet” middle act is the best part.",
               "It’s uneven, but the ending lands.", "Two words: the score.",
               "Would watch again 😀 — with friends.", "Not for everyone; that’s fine."]


def tmdb_error(code, status):
    return jresp({"success": False, "status_code": code, "status_message": MESSAGES.get(code, "Error")}, status)


def img(*parts):
    return "/" + hexid(27, *parts) + ".jpg"


class TmdbApp(App):
    EXTRA_KNOBS = ("missing_ids", "review_words")

    def __init__(self, lib, key):
        self.lib = lib
        self.key = key

    def route_name(self, req):
        p = re.sub(r"^/3/find/[^/]+", "/3/find/{id}", req.path)
        return "/3" + re.sub(r"/\d+", "/{n}", p[2:]) if p.startswith("/3/") else p

    def error(self, req, status, msg):
        return tmdb_error(CODE_FOR_STATUS.get(status, 11), status)

    def missing(self, i):
        return i >= TMDB_MISSING_MIN or i in (self.service.extra.get("missing_ids") or ())

    def handle(self, req):
        qkey = req.q("api_key")
        auth = req.header("Authorization") or ""
        if qkey is not None:
            self.service.count_token_in_url()
        ok = (qkey is not None and qkey == self.key) or (auth.startswith("Bearer ") and auth[7:].strip() == self.key)
        if not ok:
            return tmdb_error(7, 401)
        if req.method not in ("GET", "HEAD"):
            return tmdb_error(34, 404)
        appends = [a for a in (req.q("append_to_response") or "").split(",") if a]
        if len(appends) > 20:
            return tmdb_error(27, 400)
        p = req.path.rstrip("/")
        m = re.match(r"^/3/movie/(\d+)(/reviews)?$", p)
        if m:
            mid = int(m.group(1))
            if self.missing(mid):
                return tmdb_error(34, 404)
            mv = self.movie(mid)
            if m.group(2):
                return jresp(dict(mv["reviews"], id=mid))
            return jresp(self.with_appends(mv, appends, mid, tv=False))
        m = re.match(r"^/3/tv/(\d+)$", p)
        if m:
            sid = int(m.group(1))
            if self.missing(sid):
                return tmdb_error(34, 404)
            return jresp(self.with_appends(self.show(sid), appends, sid, tv=True))
        m = re.match(r"^/3/tv/(\d+)/season/(\d+)$", p)
        if m:
            s = self.season(int(m.group(1)), int(m.group(2)))
            return jresp(s) if s is not None else tmdb_error(34, 404)
        m = re.match(r"^/3/tv/(\d+)/season/(\d+)/episode/(\d+)$", p)
        if m:
            e = self.episode(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            return jresp(e) if e is not None else tmdb_error(34, 404)
        m = re.match(r"^/3/find/([^/]+)$", p)
        if m:
            src = req.q("external_source")
            if src not in ("imdb_id", "tvdb_id", "wikidata_id", "facebook_id", "instagram_id",
                           "tiktok_id", "twitter_id", "youtube_id"):
                return tmdb_error(5, 400)
            return jresp(self.find(m.group(1), src))
        return tmdb_error(34, 404)

    def with_appends(self, obj, appends, oid, tv):
        obj = dict(obj)
        if "reviews" not in appends:
            obj.pop("reviews", None)
        for a in appends:
            if a == "external_ids":
                obj[a] = {"id": oid, "imdb_id": obj.get("imdb_id") or obj.get("_imdb"),
                          "tvdb_id": obj.get("_tvdb"), "wikidata_id": None, "facebook_id": None}
            elif tv:
                m = re.match(r"^season/(\d+)(?:/episode/(\d+))?$", a)
                if m:
                    x = (self.season(oid, int(m.group(1))) if m.group(2) is None else
                         self.episode(oid, int(m.group(1)), int(m.group(2))))
                    if x is not None:
                        obj[a] = x
            # other append names are ignored, like the real API
        obj.pop("_imdb", None)
        obj.pop("_tvdb", None)
        return obj

    # ---- facts -------------------------------------------------------------------
    def lib_movie(self, mid):
        lib = self.lib
        d = mid - TMDB_MOVIE_BASE - 1
        if d < 0 or d % 3:
            return None
        g = d // 3
        if g >= lib.n_msec * lib.n_movies:
            return None
        return lib.movie_facts(g)

    def lib_show(self, sid):
        i = sid - TMDB_SHOW_BASE
        return i if 0 <= i < self.lib.n_shows else None

    def reviews(self, n, *seed):
        r = rng_for(self.lib.seed, "reviews", *seed)
        res = []
        for k in range(n):
            pp = person(r.randrange(4000))
            rid = hexid(24, "review", k, *seed)
            body = "\r\n\r\n".join(" ".join(r.sample(REVIEW_BITS, 3)) for _ in range(1 + r.randrange(3)))
            body = self.longer(body, k, *seed)
            res.append({"author": pp["tag"],
                        "author_details": {"name": pp["tag"] if k % 2 else "",
                                           "username": pp["tag"].split()[0].lower() + str(k),
                                           "avatar_path": img("av", k, *seed) if k % 3 else None,
                                           "rating": None if k % 4 == 3 else float(1 + r.randrange(10))},
                        "content": body if k % 5 != 4 else "",
                        "created_at": "2021-0%d-1%dT10:11:12.345Z" % (1 + k % 9, k % 10),
                        "id": rid, "updated_at": "2022-06-23T15:58:30.651Z",
                        "url": "https://www.themoviedb.org/review/%s" % rid})
        return {"page": 1, "results": res, "total_pages": 1 if n else 0, "total_results": n}

    def longer(self, body, k, *seed):
        """Knob review_words=N: real reviews run to hundreds of words; N more, in paragraphs of 80."""
        n = self.service.extra.get("review_words") or 0
        if not isinstance(n, int) or n <= 0:
            return body
        r = rng_for(self.lib.seed, "reviewwords", k, *seed)   # own RNG: other fields unchanged
        paras = [sentence(r, min(80, n - w)) for w in range(0, n, 80)]
        return "\r\n\r\n".join([body] + paras)

    def movie(self, mid):
        f = self.lib_movie(mid)
        if f is None:
            f = dict(self.lib.movie_facts(10_000_000 + mid))
            f["imdb"] = "tt%07d" % (6_000_000 + mid % 900_000) if mid % 7 else None
        r = rng_for(self.lib.seed, "tmdbmovie", mid)
        return {"adult": False, "backdrop_path": img("bd", mid) if mid % 11 else None,
                "belongs_to_collection": None, "budget": r.randrange(0, 300) * 1_000_000,
                "genres": [{"id": gid, "name": name} for gid, name in f["genres"]],
                "homepage": "" if mid % 2 else "https://example.org/film/%d" % mid, "id": mid,
                "imdb_id": f["imdb"], "origin_country": [f["countries"][0][0]],
                "original_language": "en", "original_title": f["title"], "overview": f["overview"],
                "popularity": round(r.random() * 100, 3),
                "poster_path": img("poster", mid) if mid % 13 else None,
                "production_companies": [{"id": 10 + n, "logo_path": img("logo", n) if n % 2 else None,
                                          "name": s, "origin_country": "US"}
                                         for n, s in enumerate(STUDIOS[:1 + mid % 3])],
                "production_countries": [{"iso_3166_1": c, "name": name} for c, name in f["countries"]],
                "release_date": f["date"], "revenue": r.randrange(0, 3_000_000_000),
                "runtime": f["duration"] // 60_000,
                "spoken_languages": [{"english_name": "English", "iso_639_1": "en", "name": "English"}],
                "status": "Released", "tagline": f["tagline"] or "", "title": f["title"],
                "video": False, "vote_average": round(f["rating"], 3) if mid % 10 else 0,
                "vote_count": f["votes"] if mid % 10 else 0,
                "reviews": self.reviews(f["reviews"], "movie", mid)}

    def show_shape(self, sid):
        """(title facts, number of seasons, episodes per season, first year, season naming)."""
        i = self.lib_show(sid)
        if i is not None:
            lib = self.lib
            naming = "year" if i % 8 == 3 else "number"
            return lib.show_facts(i), lib.n_seasons, lib.n_eps, lib.show_first_year(i), naming, i
        f = dict(self.lib.show_facts(100_000 + sid))
        f["imdb"] = "tt%07d" % (5_000_000 + sid % 900_000)
        f["tvdb"] = 600_000 + sid % 100_000
        return f, SYNTH_SEASONS, SYNTH_EPISODES, 1990 + sid % 30, "number", None

    def show(self, sid):
        f, ns, ne, y0, naming, i = self.show_shape(sid)
        r = rng_for(self.lib.seed, "tmdbshow", sid)
        seasons = []
        if sid % 5 == 2:
            seasons.append({"air_date": None, "episode_count": 1, "id": sid * 100, "name": "Specials",
                            "overview": "", "poster_path": None, "season_number": 0, "vote_average": 0})
        for k in range(1, ns + 1):
            seasons.append({"air_date": "%d-03-01" % (y0 + k - 1), "episode_count": ne,
                            "id": sid * 100 + k, "name": self.season_name(naming, k, y0),
                            "overview": "" if k % 2 else sentence(r, 8),
                            "poster_path": img("sp", sid, k), "season_number": k,
                            "vote_average": round(5 + r.random() * 4, 1)})
        last = self.episode(sid, ns, ne, crew=False)
        ended = sid % 2 == 0
        return {"adult": False, "backdrop_path": img("sbd", sid),
                "created_by": [{"id": person(p)["id"], "credit_id": hexid(24, "cb", sid, p),
                                "name": person(p)["tag"], "original_name": person(p)["tag"], "gender": 1 + p % 2,
                                "profile_path": img("pp", p) if p % 3 else None} for p in f["creators"]],
                "episode_run_time": [] if sid % 3 else [45], "first_air_date": "%d-03-01" % y0,
                "genres": [{"id": gid, "name": name} for gid, name in f["genres"]],
                "homepage": "", "id": sid, "in_production": not ended, "languages": ["en"],
                "last_air_date": last["air_date"], "last_episode_to_air": last, "name": f["title"],
                "next_episode_to_air": None if ended else dict(last, episode_number=ne + 1, id=last["id"] + 1,
                                                                 still_path=None, vote_average=0, vote_count=0,
                                                                 production_code=""),
                "networks": [{"id": 88, "logo_path": img("net", 88), "name": "Channel Nine",
                              "origin_country": "US"}],
                "number_of_episodes": ns * ne, "number_of_seasons": ns, "origin_country": ["US"],
                "original_language": "en", "original_name": f["title"], "overview": f["overview"],
                "popularity": round(r.random() * 600, 4), "poster_path": img("spp", sid),
                "production_companies": [{"id": 15990, "logo_path": None, "name": STUDIOS[sid % 4],
                                          "origin_country": "US"}],
                "production_countries": [{"iso_3166_1": c, "name": n} for c, n in COUNTRIES[:1]],
                "seasons": seasons,
                "spoken_languages": [{"english_name": "English", "iso_639_1": "en", "name": "English"}],
                "status": "Ended" if ended else "Returning Series", "tagline": f["tagline"] or "",
                "type": "Scripted", "vote_average": round(f["rating"], 3), "vote_count": 100 + sid % 900,
                "reviews": self.reviews(f["reviews"], "tv", sid), "_imdb": f["imdb"], "_tvdb": f["tvdb"]}

    @staticmethod
    def season_name(naming, k, y0):
        return str(y0 + k - 1) if naming == "year" else "Season %d" % k

    def season(self, sid, n):
        if self.missing(sid):
            return None
        f, ns, ne, y0, naming, i = self.show_shape(sid)
        if n == 0 and sid % 5 == 2:
            eps = [self.episode(sid, 0, 1)]
            return {"_id": hexid(24, "season", sid, 0), "air_date": None, "episodes": eps,
                    "name": "Specials", "overview": "", "id": sid * 100, "poster_path": None,
                    "season_number": 0, "vote_average": 0}
        if not 1 <= n <= ns:
            return None
        eps = [self.episode(sid, n, e) for e in range(1, ne + 1)]
        return {"_id": hexid(24, "season", sid, n), "air_date": "%d-03-01" % (y0 + n - 1),
                "episodes": eps, "name": self.season_name(naming, n, y0), "overview": "",
                "id": sid * 100 + n, "poster_path": img("sp", sid, n), "season_number": n,
                "vote_average": 7.1}

    def episode(self, sid, k, e, crew=True):
        if self.missing(sid):
            return None
        f, ns, ne, y0, naming, i = self.show_shape(sid)
        if k == 0 and sid % 5 == 2 and e == 1:
            ef = {"title": "Behind the Scenes", "overview": "A look behind the camera.", "directors": [],
                  "guests": [], "duration": 1_800_000, "rating": 0}
            eid, date = 9_000_000 + sid, None
        elif 1 <= k <= ns and 1 <= e <= ne:
            if i is not None:
                ef = self.lib.episode_facts(i, k, e)
                eid = self.lib.episode_ids(i, k, e)[0]
            else:
                ef = self.lib.episode_facts(1_000_000 + sid % 1_000_000, k, e)
                eid = 50_000_000 + sid * 1000 + k * 40 + e
            date = "%04d-%02d-%02d" % (y0 + k - 1, 1 + (e * 7 // 28) % 12, 1 + (e * 7) % 28)
        else:
            return None
        ep = {"air_date": date, "episode_number": e, "episode_type": "finale" if e == ne else "standard",
              "id": eid, "name": ef["title"], "overview": ef["overview"],
              "production_code": "" if e % 4 == 0 else "PC%d%02d%02d" % (sid % 100, k, e),
              "runtime": ef["duration"] // 60_000 if e % 9 else None, "season_number": k, "show_id": sid,
              "still_path": img("still", sid, k, e) if e % 6 else None,
              "vote_average": ef["rating"] if e % 5 else 0, "vote_count": 10 + e if e % 5 else 0}
        if crew:
            ep["crew"] = [{"job": "Director", "department": "Directing", "credit_id": hexid(24, "cr", sid, k, e, p),
                           "adult": False, "gender": 1 + p % 2, "id": person(p)["id"],
                           "known_for_department": "Directing", "name": person(p)["tag"],
                           "original_name": person(p)["tag"], "popularity": 1.5,
                           "profile_path": img("pp", p) if p % 3 else None} for p in ef["directors"]]
            ep["guest_stars"] = [{"character": "Guest %d" % n, "credit_id": hexid(24, "gs", sid, k, e, p),
                                  "order": 500 + n, "adult": False, "gender": 1 + p % 2, "id": person(p)["id"],
                                  "known_for_department": "Acting", "name": person(p)["tag"],
                                  "original_name": person(p)["tag"], "popularity": 2.25,
                                  "profile_path": img("pp", p) if p % 3 else None}
                                 for n, p in enumerate(ef["guests"])]
        return ep

    def find(self, ext, src):
        out = {"movie_results": [], "person_results": [], "tv_results": [], "tv_episode_results": [],
               "tv_season_results": []}
        lib = self.lib
        total = lib.n_msec * lib.n_movies
        if src == "imdb_id" and re.match(r"^tt\d{7,9}$", ext):
            n = int(ext[2:])
            if IMDB_MOVIE_BASE <= n < IMDB_MOVIE_BASE + total and lib.movie_ids(n - IMDB_MOVIE_BASE)[1] == ext:
                self.add_movie(out, TMDB_MOVIE_BASE + (n - IMDB_MOVIE_BASE) * 3 + 1)
            elif IMDB_SHOW_BASE <= n < IMDB_SHOW_BASE + lib.n_shows:
                self.add_show(out, TMDB_SHOW_BASE + n - IMDB_SHOW_BASE)
            elif n >= IMDB_EPISODE_BASE and len(ext) == 10:
                self.add_episode(out, n - IMDB_EPISODE_BASE, imdb=ext)
        elif src == "tvdb_id" and ext.isdigit():
            n = int(ext)
            if TVDB_SHOW_BASE <= n < TVDB_SHOW_BASE + lib.n_shows:
                self.add_show(out, TMDB_SHOW_BASE + n - TVDB_SHOW_BASE)
            elif n >= TVDB_EPISODE_BASE:
                self.add_episode(out, n - TVDB_EPISODE_BASE)
            elif 400_000 <= n < 400_000 + total and lib.movie_ids(n - 400_000)[2] == n:
                self.add_movie(out, TMDB_MOVIE_BASE + (n - 400_000) * 3 + 1)
        return out

    def add_movie(self, out, mid):
        if self.missing(mid):
            return
        m = self.movie(mid)
        out["movie_results"].append({k: m[k] for k in ("adult", "backdrop_path", "id", "title", "original_title",
                                                        "overview", "poster_path", "original_language",
                                                        "popularity", "release_date", "video",
                                                        "vote_average", "vote_count")}
                                    | {"media_type": "movie", "genre_ids": [g["id"] for g in m["genres"]]})

    def add_show(self, out, sid):
        s = self.show(sid)
        out["tv_results"].append({k: s[k] for k in ("adult", "backdrop_path", "id", "name", "original_name",
                                                     "overview", "poster_path", "original_language",
                                                     "popularity", "first_air_date", "vote_average",
                                                     "vote_count", "origin_country")}
                                 | {"media_type": "tv", "genre_ids": [g["id"] for g in s["genres"]]})

    def add_episode(self, out, n, imdb=None):
        lib = self.lib
        i, rem = divmod(n, lib.block)
        k, e = divmod(rem, lib.n_eps + 1)
        if not (0 <= i < lib.n_shows and 1 <= k <= lib.n_seasons and 1 <= e <= lib.n_eps):
            return
        if imdb is not None and lib.episode_ids(i, k, e)[1] != imdb:
            return
        ep = self.episode(TMDB_SHOW_BASE + i, k, e, crew=False)
        out["tv_episode_results"].append(dict(ep, media_type="tv_episode"))


