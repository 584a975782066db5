"""Deterministic made-up media library for the fake services: rating keys, titles, people, external ids."""

import bisect
import hashlib
import json
import os
import random
import threading
from functools import lru_cache

# Key ranges (rating keys are numeric strings like on a real server); every
# range is arithmetic so an item is rebuilt from its key without a table.
COLL_BASE = 500_000          # + section_index * 10_000 + c
MOVIE_BASE = 1_000_000       # + global movie index
SHOW_BASE = 20_000_000       # + show_index * block + season * (E + 1) + episode
ARTIST_BASE = 90_000_000     # + artist index
ODD_PREFIX = "odd-"          # --odd-keys: "odd-<numeric key>"

# External ids. TMDb ids >= TMDB_MISSING_MIN and IMDb ids tt99xxxxx are
# "not found" in the fake TMDb / IMDb; some library items use them on purpose.
TMDB_MOVIE_BASE = 100_000
TMDB_SHOW_BASE = 300_000
TMDB_EPISODE_BASE = 5_000_000
TMDB_MISSING_MIN = 900_000_000
TVDB_SHOW_BASE = 700_000
TVDB_EPISODE_BASE = 8_000_000
IMDB_MOVIE_BASE = 7_000_000
IMDB_SHOW_BASE = 8_000_000
IMDB_EPISODE_BASE = 30_000_000
IMDB_MISSING_MIN = 9_900_000
IMDB_MISSING_MAX = 9_999_999

ADJ = ["Crimson", "Silent", "Hollow", "Golden", "Broken", "Distant", "Midnight", "Paper",
       "Iron", "Velvet", "Frozen", "Restless", "Electric", "Quiet", "Wandering", "Bitter",
       "Lucky", "Northern", "Painted", "Secret", "Last", "Burning", "Glass", "Wild"]
NOUN = ["Harbor", "Orchard", "Lantern", "Signal", "Meridian", "Compass", "Garden", "Engine",
        "Archive", "Canyon", "Lighthouse", "Carnival", "Frontier", "Mirror", "River", "Empire",
        "Harvest", "Station", "Tide", "Kingdom", "Circuit", "Parade", "Summit", "Voyage"]
EXTRA = ["Nöel's Lantern", "Café Équinoxe", "1947", "42", "Señora Luna", "Zoë & the Tide",
         "A Night in Kraków", "The Ōsaka Line"]
FIRST = ["Ada", "Bruno", "Clara", "Dmitri", "Elena", "Felix", "Greta", "Hugo", "Ines", "Jonas",
         "Kaia", "Lorenzo", "Maren", "Nico", "Odile", "Pavel", "Quinn", "Rosa", "Soren", "Tamsin",
         "Ulrich", "Vera", "Wendell", "Xenia", "Yusuf", "Zora", "Agnès", "Björn", "Chloé", "Dário"]
LAST = ["Ashdown", "Brightwater", "Calloway", "Delacroix", "Everhart", "Fairweather", "Gallant",
        "Hollis", "Ingram", "Jessop", "Kettering", "Lindqvist", "Marlowe", "Northcott", "Oyelaran",
        "Pemberton", "Quarrie", "Rasmussen", "Sandoval", "Thackeray", "Underhill", "Vasquez",
        "Whitcombe", "Yarrow", "Zielińska", "Okonkwo-Hale", "Brandão", "Sørensen"]
CHAR = ["Detective", "Captain", "Doctor", "The Stranger", "Mother", "Agent", "Young", "Old",
        "Professor", "Sister", "Mayor", "Pilot"]
GENRES = [(28, "Action"), (12, "Adventure"), (35, "Comedy"), (80, "Crime"), (18, "Drama"),
          (14, "Fantasy"), (27, "Horror"), (9648, "Mystery"), (10749, "Romance"),
          (878, "Science Fiction"), (53, "Thriller"), (37, "Western")]
COUNTRIES = [("US", "United States of America"), ("GB", "United Kingdom"), ("FR", "France"),
             ("DE", "Germany"), ("JP", "Japan"), ("CA", "Canada")]
STUDIOS = ["Northwind Pictures", "Bluefin Studios", "Orchard Lane Films", "Halcyon Works"]
RATINGS = ["G", "PG", "PG-13", "R", "NR"]
TV_RATINGS = ["TV-PG", "TV-14", "TV-MA"]
WORDS = ("keeper town secret storm letter journey family promise shadow island winter debt "
         "machine choir border song thief harbor signal ghost memory river bargain").split()
PEOPLE = 4000


def rng_for(seed, *parts):
    return random.Random("%s:%s" % (seed, ":".join(str(p) for p in parts)))


def hexid(n, *parts):
    return hashlib.sha1(("%s" % (parts,)).encode()).hexdigest()[:n]


@lru_cache(maxsize=None)
def person(p):
    """Person p of a fixed pool: stable name, Plex tag id and tagKey."""
    p %= PEOPLE
    name = "%s %s" % (FIRST[p % len(FIRST)], LAST[(p // len(FIRST)) % len(LAST)])
    if p >= len(FIRST) * len(LAST):
        name += " %s." % "ABCDEFGHJKLMNPRSTVW"[(p // (len(FIRST) * len(LAST))) % 19]
    return {"id": 200_000 + p, "tag": name, "tagKey": hexid(24, "person", p),
            "thumb": "https://metadata-static.plex.tv/people/%s.jpg" % hexid(32, "thumb", p),
            "nm": "nm%07d" % (3_000_000 + p)}


_srng = random.Random(7)
_STREAM = [_srng.choice(WORDS) for _ in range(20_000)]


def sentence(r, n):
    """n pseudo-random words: a slice of a fixed word stream (one RNG draw, cheap)."""
    start = r.randrange(len(_STREAM) - n)
    return " ".join(_STREAM[start:start + n]).capitalize() + "."


def make_title(r, idx):
    if idx % 37 == 11:
        return EXTRA[(idx // 37) % len(EXTRA)]
    t = "%s %s" % (r.choice(ADJ), r.choice(NOUN))
    if idx % 3 == 0:
        t = "The " + t
    return t


def slugify(t):
    s = "".join(c.lower() if c.isalnum() else "-" for c in t)
    while "--" in s:
        s = s.replace("--", "-")
    return s.strip("-")


class Library:
    """The generated library. Everything is computed from (options, key)."""

    def __init__(self, opts):
        self.seed = opts.seed
        self.n_msec = opts.movie_sections
        self.n_movies = opts.movies
        self.n_coll = opts.collections
        self.n_shows = opts.shows
        self.n_seasons = max(opts.seasons, 1)
        self.n_eps = max(opts.episodes, 1)
        self.music = opts.music_section
        self.n_artists = 5 if self.music else 0
        self.odd = opts.odd_keys
        self.block = (self.n_seasons + 1) * (self.n_eps + 1)
        self.machine = hexid(40, "machine", self.seed)
        self.sections = []
        for s in range(self.n_msec):
            self.sections.append({"key": str(s + 1), "type": "movie", "index": s,
                                  "title": "Movies" if s == 0 else "Movies %d" % (s + 1)})
        if self.n_shows > 0:
            self.sections.append({"key": str(self.n_msec + 1), "type": "show", "index": 0,
                                  "title": "TV Shows"})
        if self.music:
            self.sections.append({"key": str(self.n_msec + 2), "type": "artist", "index": 0,
                                  "title": "Music"})
        for sec in self.sections:
            sec["uuid"] = self._uuid("section", sec["key"])
        # rows of a movie listing: collections spread evenly among the movies
        total = self.n_movies + self.n_coll
        self.coll_pos = [((c + 1) * total) // (self.n_coll + 1) - 1 + 0 for c in range(self.n_coll)]
        for i in range(1, len(self.coll_pos)):
            if self.coll_pos[i] <= self.coll_pos[i - 1]:
                self.coll_pos[i] = self.coll_pos[i - 1] + 1
        self.coll_pos = [min(p, total - 1) for p in self.coll_pos]
        self.cache_lock = threading.Lock()

    def _uuid(self, *parts):
        h = hexid(32, self.seed, *parts)
        return "%s-%s-%s-%s-%s" % (h[:8], h[8:12], h[12:16], h[16:20], h[20:])

    # ---- keys ---------------------------------------------------------
    def section(self, key):
        for s in self.sections:
            if s["key"] == key:
                return s
        return None

    def movie_rk(self, s, j):
        g = s * self.n_movies + j
        rk = str(MOVIE_BASE + g)
        if g < self.odd:
            rk = ODD_PREFIX + rk
        return rk

    def show_rk(self, i, k=0, e=0):
        return str(SHOW_BASE + i * self.block + k * (self.n_eps + 1) + e)

    def season_number(self, i, k):
        """Plex parentIndex of season k (1-based) of show i: some shows number seasons by year."""
        return self.show_first_year(i) + k - 1 if self.year_seasons(i) else k

    def year_seasons(self, i):
        return i % 4 == 3

    def show_first_year(self, i):
        return 1995 + (i * 7) % 25

    def decode(self, rk):
        """Rating key -> (kind, indices) or None."""
        odd = rk.startswith(ODD_PREFIX)
        if odd:
            rk = rk[len(ODD_PREFIX):]
        if not rk.isdigit() or (len(rk) > 1 and rk[0] == "0"):
            return None
        n = int(rk)
        if MOVIE_BASE <= n < SHOW_BASE:
            g = n - MOVIE_BASE
            if g >= self.n_msec * self.n_movies or odd != (g < self.odd):
                return None
            return ("movie", divmod(g, self.n_movies))
        if odd:
            return None
        if COLL_BASE <= n < MOVIE_BASE:
            s, c = divmod(n - COLL_BASE, 10_000)
            if s < self.n_msec and c < self.n_coll:
                return ("collection", (s, c))
            return None
        if SHOW_BASE <= n < ARTIST_BASE:
            i, rem = divmod(n - SHOW_BASE, self.block)
            if i >= self.n_shows:
                return None
            k, e = divmod(rem, self.n_eps + 1)
            if k == 0 and e == 0:
                return ("show", (i,))
            if k == 0:
                return None
            if e == 0:
                return ("season", (i, k))
            return ("episode", (i, k, e))
        if ARTIST_BASE <= n < ARTIST_BASE + self.n_artists:
            return ("artist", (n - ARTIST_BASE,))
        return None

    # ---- listings -----------------------------------------------------
    def listing_count(self, sec, mtype, include_collections=True):
        t = sec["type"]
        if t == "movie" and mtype in (None, 1):
            return self.n_movies + (self.n_coll if include_collections else 0)
        if t == "movie" and mtype == 18:
            return self.n_coll
        if t == "show" and mtype in (None, 2):
            return self.n_shows
        if t == "show" and mtype == 3:
            return self.n_shows * self.n_seasons
        if t == "show" and mtype == 4:
            return self.n_shows * self.n_seasons * self.n_eps
        if t == "artist" and mtype in (None, 8):
            return self.n_artists
        return 0

    def listing_key(self, sec, mtype, pos, include_collections=True):
        """Rating key of row pos of a listing (no table: arithmetic)."""
        t = sec["type"]
        s = sec["index"]
        if t == "movie" and mtype in (None, 1):
            if not include_collections:
                return self.movie_rk(s, pos)
            c = bisect.bisect_left(self.coll_pos, pos)
            if c < len(self.coll_pos) and self.coll_pos[c] == pos:
                return str(COLL_BASE + s * 10_000 + c)
            return self.movie_rk(s, pos - c)
        if t == "movie" and mtype == 18:
            return str(COLL_BASE + s * 10_000 + pos)
        if t == "show" and mtype in (None, 2):
            return self.show_rk(pos)
        if t == "show" and mtype == 3:
            i, k = divmod(pos, self.n_seasons)
            return self.show_rk(i, k + 1)
        if t == "show" and mtype == 4:
            i, rem = divmod(pos, self.n_seasons * self.n_eps)
            k, e = divmod(rem, self.n_eps)
            return self.show_rk(i, k + 1, e + 1)
        if t == "artist":
            return str(ARTIST_BASE + pos)
        return None

    # ---- external ids -------------------------------------------------
    def movie_ids(self, g):
        """(tmdb id, imdb id, tvdb id or None, legacy agent?) of global movie g."""
        tmdb = TMDB_MOVIE_BASE + g * 3 + 1
        if g % 17 == 11:
            tmdb = TMDB_MISSING_MIN + g
        imdb = "tt%07d" % (IMDB_MOVIE_BASE + g)
        if g % 19 == 3:
            imdb = "tt%07d" % (IMDB_MISSING_MIN + g % 90_000)
        return tmdb, imdb, 400_000 + g if g % 5 != 4 else None, g % 10 == 7

    def show_ids(self, i):
        return TMDB_SHOW_BASE + i, "tt%07d" % (IMDB_SHOW_BASE + i), TVDB_SHOW_BASE + i

    def episode_ids(self, i, k, e):
        n = i * self.block + k * (self.n_eps + 1) + e
        imdb = "tt%08d" % (IMDB_EPISODE_BASE + n) if n % 11 != 5 else None
        return TMDB_EPISODE_BASE + n, imdb, TVDB_EPISODE_BASE + n

    # ---- item facts shared by Plex, TMDb and IMDb ----------------------
    @lru_cache(maxsize=50_000)
    def movie_facts(self, g):
        r = rng_for(self.seed, "movie", g)
        title = make_title(r, g)
        year = 1950 + r.randrange(75)
        cast = [r.randrange(PEOPLE) for _ in range(4 + r.randrange(40))]
        cast = list(dict.fromkeys(cast))
        tmdb, imdb, tvdb, legacy = self.movie_ids(g)
        return {
            "title": title, "year": year,
            "date": "%04d-%02d-%02d" % (year, 1 + r.randrange(12), 1 + r.randrange(28)),
            "summary": sentence(r, 12 + r.randrange(20)),
            "overview": sentence(r, 10 + r.randrange(20)),
            "plot": sentence(r, 8 + r.randrange(12)),
            "tagline": sentence(r, 4) if r.random() < 0.7 else None,
            "genres": r.sample(GENRES, 1 + r.randrange(3)),
            "countries": r.sample(COUNTRIES, 1 + r.randrange(2)),
            "directors": [r.randrange(PEOPLE) for _ in range(1 + (r.random() < 0.2))],
            "writers": [r.randrange(PEOPLE) for _ in range(1 + r.randrange(3))],
            "producers": [r.randrange(PEOPLE) for _ in range(r.randrange(5))],
            "cast": cast, "studio": r.choice(STUDIOS), "content_rating": r.choice(RATINGS),
            "rating": round(3 + r.random() * 6, 1), "audience": round(3 + r.random() * 6, 1) if g % 6 else 7,
            "duration": (80 + r.randrange(80)) * 60_000 + r.randrange(60_000),
            "added": 1_600_000_000 + g * 3_600 + r.randrange(3_600),
            "updated": 1_700_000_000 + r.randrange(50_000_000),
            "tmdb": tmdb, "imdb": imdb, "tvdb": tvdb, "legacy": legacy,
            "size": r.randrange(700_000_000, 80_000_000_000),
            "reviews": r.randrange(6), "votes": 10 + r.randrange(900_000),
            "collection": None,
        }

    @lru_cache(maxsize=10_000)
    def show_facts(self, i):
        r = rng_for(self.seed, "show", i)
        title = make_title(r, i + 5)
        if i % 9 == 4:
            title = str(1890 + i % 100)  # all-digit show titles exist
        tmdb, imdb, tvdb = self.show_ids(i)
        return {"title": title, "year": self.show_first_year(i),
                "summary": sentence(r, 14), "overview": sentence(r, 14), "plot": sentence(r, 10),
                "tagline": sentence(r, 5) if i % 2 == 0 else None,
                "genres": r.sample(GENRES, 2), "cast": list(dict.fromkeys(r.randrange(PEOPLE) for _ in range(8))),
                "creators": [r.randrange(PEOPLE)], "content_rating": r.choice(TV_RATINGS),
                "studio": r.choice(STUDIOS), "tmdb": tmdb, "imdb": imdb, "tvdb": tvdb,
                "added": 1_650_000_000 + i * 86_400, "reviews": r.randrange(4),
                "rating": round(5 + r.random() * 4, 1)}

    @lru_cache(maxsize=50_000)
    def episode_facts(self, i, k, e):
        r = rng_for(self.seed, "ep", i, k, e)
        show = self.show_facts(i)
        year = self.show_first_year(i) + k - 1
        tmdb, imdb, tvdb = self.episode_ids(i, k, e)
        return {"title": "%s %s" % (r.choice(ADJ), r.choice(NOUN)) if e % 13 != 7 else "Episode %d" % e,
                "year": year,
                "date": "%04d-%02d-%02d" % (year, 1 + (e * 7 // 28) % 12, 1 + (e * 7) % 28),
                "summary": sentence(r, 10 + r.randrange(10)), "overview": sentence(r, 10),
                "plot": sentence(r, 8),
                "directors": [r.randrange(PEOPLE)], "writers": [r.randrange(PEOPLE) for _ in range(1 + r.randrange(2))],
                "guests": [r.randrange(PEOPLE) for _ in range(r.randrange(5))],
                "cast": show["cast"][:4] + [r.randrange(PEOPLE) for _ in range(2 + r.randrange(8))],
                "duration": (20 + r.randrange(45)) * 60_000 + r.randrange(60_000),
                "added": show["added"] + (k * 100 + e) * 3_600,
                "updated": 1_700_000_000 + r.randrange(50_000_000) if e % 31 != 3 else None,
                "tmdb": tmdb, "imdb": imdb, "tvdb": tvdb, "rating": round(5 + r.random() * 4, 1),
                "size": r.randrange(300_000_000, 9_000_000_000)}

    def collection_title(self, s, c):
        return "%s %s Collection" % (ADJ[(c * 5 + s) % len(ADJ)], NOUN[(c * 7 + s) % len(NOUN)])

    def movie_collections(self, s, j):
        """Collections a movie belongs to: collection c holds movies j with j % n_coll == c (a few)."""
        if self.n_coll == 0 or j % 4 != 0:
            return []
        return [(s, (j // 4) % self.n_coll)]

    # ---- summary for tests --------------------------------------------
    def summary(self):
        out = {"generated": True, "seed": self.seed, "sections": []}
        for sec in self.sections:
            d = {"key": sec["key"], "type": sec["type"], "title": sec["title"], "uuid": sec["uuid"]}
            if sec["type"] == "movie":
                s = sec["index"]
                d["movies"] = [self.movie_rk(s, j) for j in range(self.n_movies)]
                d["collections"] = [str(COLL_BASE + s * 10_000 + c) for c in range(self.n_coll)]
                d["totals"] = {"1": self.n_movies + self.n_coll}
            elif sec["type"] == "show":
                d["shows"] = [self.show_rk(i) for i in range(self.n_shows)]
                d["seasons"] = [self.show_rk(i, k) for i in range(self.n_shows)
                                for k in range(1, self.n_seasons + 1)]
                d["episodes"] = [self.show_rk(i, k, e) for i in range(self.n_shows)
                                 for k in range(1, self.n_seasons + 1) for e in range(1, self.n_eps + 1)]
                d["totals"] = {"2": self.n_shows, "3": len(d["seasons"]), "4": len(d["episodes"])}
            else:
                d["artists"] = [str(ARTIST_BASE + a) for a in range(self.n_artists)]
            out["sections"].append(d)
        movies = {}
        legacy = []
        for s in range(self.n_msec):
            for j in range(self.n_movies):
                g = s * self.n_movies + j
                tmdb, imdb, tvdb, leg = self.movie_ids(g)
                rk = self.movie_rk(s, j)
                movies[rk] = {"tmdb": tmdb, "imdb": imdb}
                if leg:
                    legacy.append(rk)
        shows = {}
        for i in range(self.n_shows):
            tmdb, imdb, tvdb = self.show_ids(i)
            shows[self.show_rk(i)] = {"tmdb": tmdb, "imdb": imdb, "tvdb": tvdb,
                                      "year_seasons": self.year_seasons(i),
                                      "season_numbers": [self.season_number(i, k)
                                                         for k in range(1, self.n_seasons + 1)]}
        out["movies"] = movies
        out["legacy_agent"] = legacy
        out["shows"] = shows
        out["tmdb_missing_min"] = TMDB_MISSING_MIN
        out["imdb_missing_range"] = ["tt%07d" % IMDB_MISSING_MIN, "tt%07d" % IMDB_MISSING_MAX]
        return out


class DirLibrary:
    """A recorded sample library: sections.json, section-<key>-type<N>.json, metadata/<rk>.json."""

    def __init__(self, path):
        self.path = path
        with open(os.path.join(path, "sections.json"), encoding="utf-8") as f:
            self.sections_doc = json.load(f)
        self.listings = {}
        self.lock = threading.Lock()

    def listing(self, key, mtype):
        name = "section-%s-type%s.json" % (key, mtype)
        with self.lock:
            if name not in self.listings:
                p = os.path.join(self.path, name)
                doc = None
                if os.path.exists(p):
                    with open(p, encoding="utf-8") as f:
                        doc = json.load(f)
                self.listings[name] = doc
            return self.listings[name]

    def metadata(self, rk):
        if "/" in rk or rk.startswith("."):
            return None
        p = os.path.join(self.path, "metadata", rk + ".json")
        try:
            with open(p, encoding="utf-8") as f:
                doc = json.load(f)
        except (OSError, ValueError):
            return None
        md = doc.get("MediaContainer", {}).get("Metadata") or []
        return md[0] if md else None

    def summary(self):
        secs = []
        for d in self.sections_doc.get("MediaContainer", {}).get("Directory", []):
            secs.append({"key": d.get("key"), "type": d.get("type"), "title": d.get("title"),
                         "uuid": d.get("uuid")})
        md = os.path.join(self.path, "metadata")
        keys = sorted(f[:-5] for f in os.listdir(md) if f.endswith(".json")) if os.path.isdir(md) else []
        return {"generated": False, "dir": self.path, "sections": secs, "metadata_keys": keys}
