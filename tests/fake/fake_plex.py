"""Fake Plex Media Server: sections, paged listings with truncated tags, multi-key metadata details."""

import html
import re
import threading
from xml.sax.saxutils import quoteattr

from library import (ADJ, COLL_BASE, NOUN, hexid, person, slugify)
from svc_core import App, Response

MEDIA_TAG_VERSION = 1754000000
LISTING_LIMITS = {"Genre": 2, "Country": 2, "Director": 3, "Writer": 2, "Role": 3}
TYPE_NUM = {"movie": 1, "show": 2, "season": 3, "episode": 4, "artist": 8, "collection": 18}


def html_error(status, title):
    body = "<html><head><title>%s</title></head><body><h1>%d %s</h1></body></html>" % (
        html.escape(title), status, html.escape(title))
    return Response(status, body, "text/html")


def to_xml(name, obj):
    """Plex-style XML: scalars become attributes, arrays of objects child elements."""
    attrs, kids = [], []
    for k, v in obj.items():
        if isinstance(v, list):
            for e in v:
                if isinstance(e, dict):
                    # PMS XML names items by kind: <Video> for movies/episodes, <Directory> otherwise
                    kn = k if k != "Metadata" else ("Video" if e.get("type") in ("movie", "episode") else "Directory")
                    kids.append(to_xml(kn, e))
        elif isinstance(v, dict):
            kids.append(to_xml(k, v))
        elif isinstance(v, bool):
            attrs.append("%s=%s" % (k, quoteattr("1" if v else "0")))
        elif v is not None:
            attrs.append("%s=%s" % (k, quoteattr(str(v))))
    head = "<%s%s" % (name, "".join(" " + a for a in attrs))
    if not kids:
        return head + " />"
    return head + ">" + "".join(kids) + "</%s>" % name


def tag(kind, p, role=None, thumb=True):
    pp = person(p)
    d = {"id": pp["id"], "filter": "%s=%d" % (kind, pp["id"]), "tag": pp["tag"], "tagKey": pp["tagKey"]}
    if role is not None:
        d["role"] = role
    if thumb and p % 7 != 3:
        d["thumb"] = pp["thumb"]
    return d


def media(rk, duration, size, r4k, stream):
    mid = 100_000 + (abs(hash(rk)) % 900_000) if not rk.isdigit() else int(rk) % 10_000_000 + 1
    part = {"id": mid, "key": "/library/parts/%d/%d/file.mkv" % (mid, 1_600_000_000 + mid),
            "duration": duration, "file": "/media/%s.mkv" % rk, "size": size, "container": "mkv",
            "indexes": "sd", "videoProfile": "main 10"}
    if stream:
        part["Stream"] = [
            {"id": mid * 3, "streamType": 1, "default": True, "codec": "hevc", "index": 0,
             "bitrate": 15000, "height": 2160 if r4k else 1080, "width": 3840 if r4k else 1920,
             "displayTitle": "4K" if r4k else "1080p"},
            {"id": mid * 3 + 1, "streamType": 2, "selected": True, "default": True, "codec": "eac3",
             "index": 1, "channels": 6, "language": "English", "languageCode": "eng",
             "displayTitle": "English (EAC3 5.1)"},
            {"id": mid * 3 + 2, "streamType": 3, "codec": "srt", "index": 2, "language": "English",
             "languageCode": "eng", "displayTitle": "English (SRT)"}]
    return [{"id": mid, "duration": duration, "bitrate": 8000 + mid % 9000,
             "width": 3840 if r4k else 1920, "height": 2160 if r4k else 1080, "aspectRatio": 1.78,
             "audioChannels": 6, "audioCodec": "eac3", "videoCodec": "hevc",
             "videoResolution": "4k" if r4k else "1080", "container": "mkv", "videoFrameRate": "24p",
             "videoProfile": "main 10", "hasVoiceActivity": False, "Part": [part]}]


def blur(rk):
    h = hexid(24, "blur", rk)
    return {"topLeft": h[0:6], "topRight": h[6:12], "bottomRight": h[12:18], "bottomLeft": h[18:24]}


def truncate(item, include_guids):
    """Listing form of a details item: tags cut and reduced to `tag`, detail-only arrays dropped."""
    out = {}
    for k, v in item.items():
        if k in LISTING_LIMITS:
            out[k] = [{"tag": t["tag"]} for t in v[:LISTING_LIMITS[k]]]
        elif k == "Collection":
            out[k] = [{"tag": t["tag"]} for t in v]
        elif k == "Guid":
            if include_guids:
                out[k] = v
        elif k in ("Producer", "Rating", "librarySectionTitle", "librarySectionID",
                   "librarySectionKey", "Extras", "Related", "Marker"):
            continue
        elif k == "Media":
            out[k] = [dict(m, Part=[{pk: pv for pk, pv in p.items() if pk != "Stream"} for p in m["Part"]])
                      for m in v]
        else:
            out[k] = v
    return out


class PlexApp(App):
    # A library that changes (generated library only):
    #   deleted  [rk, ...]            gone from listings and metadata
    #   edits    {rk: {field: value}}  merged into the item (listing rows and details),
    #                                  e.g. {"updatedAt": 1760000000, "summary": "..."}
    #   mutate   {"after_pages": N, "delete": [rk], "add": [rk], "edits": {...}}
    #            one-shot: once N listing pages have been answered, the keys in
    #            "delete" join `deleted`, those in "add" leave it (an item added
    #            at its place in the listing), and "edits" are merged
    EXTRA_KNOBS = ("deleted", "edits", "mutate")

    def __init__(self, lib, token, dirlib=None):
        self.lib = lib
        self.dirlib = dirlib
        self.token = token
        self.tl = threading.local()   # per-request: build full tag lists or listing-sized ones
        self.mutate_lock = threading.Lock()

    def deleted(self):
        return set(self.service.extra.get("deleted") or ())

    def page_served(self):
        """Counts a listing page toward a pending `mutate` and applies it when due."""
        with self.mutate_lock:
            ev = self.service.extra.get("mutate")
            if not ev:
                return
            ev["_served"] = ev.get("_served", 0) + 1
            if ev["_served"] < int(ev.get("after_pages", 1)):
                return
            gone = self.deleted() | set(ev.get("delete") or ())
            gone -= set(ev.get("add") or ())
            self.service.extra["deleted"] = sorted(gone)
            edits = dict(self.service.extra.get("edits") or {})
            for rk, fields in (ev.get("edits") or {}).items():
                edits[rk] = dict(edits.get(rk, {}), **fields)
            self.service.extra["edits"] = edits
            self.service.extra.pop("mutate", None)

    # ---- plumbing --------------------------------------------------------
    def route_name(self, req):
        p = req.path
        p = re.sub(r"^/library/sections/[^/]+/", "/library/sections/{key}/", p)
        p = re.sub(r"^/library/metadata/[^/]+", "/library/metadata/{ids}", p)
        p = re.sub(r"^/library/collections/[^/]+", "/library/collections/{key}", p)
        return p

    def failable(self, req, route):
        # default target of fail_rate/fail_after: listing pages (tests say "500 after the 3rd page")
        return route.endswith("/library/sections/{key}/all")

    def error(self, req, status, msg):
        titles = {400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 406: "Not Acceptable",
                  429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable"}
        return html_error(status, titles.get(status, msg))

    def container(self, req, mc):
        if "application/json" in (req.header("Accept") or ""):
            return Response(200, {"MediaContainer": mc})
        xml = '<?xml version="1.0" encoding="UTF-8"?>\n' + to_xml("MediaContainer", mc)
        return Response(200, xml, "text/xml;charset=utf-8")

    def handle(self, req):
        tok = req.header("X-Plex-Token")
        qtok = req.q("X-Plex-Token")
        if qtok is not None:
            self.service.count_token_in_url()
        if (tok if tok is not None else qtok) != self.token:
            return self.error(req, 401, "Unauthorized")
        if req.method not in ("GET", "HEAD"):
            return self.error(req, 404, "Not Found")
        p = req.path.rstrip("/") or "/"
        if p == "/":
            return self.container(req, {"size": 0, "friendlyName": "fake-plex",
                                        "machineIdentifier": self.lib.machine if self.lib else "dir",
                                        "version": "1.41.0.0000-fake"})
        if p in ("/library/sections", "/library/sections/all"):
            return self.sections(req)
        m = re.match(r"^/library/sections/([^/]+)/all$", p)
        if m:
            return self.listing(req, m.group(1))
        m = re.match(r"^/library/metadata/([^/]+)(/children|/allLeaves)?$", p)
        if m:
            if m.group(2):
                return self.children(req, m.group(1), m.group(2))
            return self.metadata(req, m.group(1).split(","))
        return self.error(req, 404, "Not Found")

    def paging(self, req):
        """(start, size) from headers or query; size None when absent; ValueError when bad."""
        start = req.q("X-Plex-Container-Start", req.header("X-Plex-Container-Start"))
        size = req.q("X-Plex-Container-Size", req.header("X-Plex-Container-Size"))
        st = int(start) if start not in (None, "") else 0
        sz = int(size) if size not in (None, "") else None
        if st < 0 or (sz is not None and sz < 0):
            raise ValueError("negative")
        return st, sz

    # ---- sections ----------------------------------------------------------
    def sections(self, req):
        if self.dirlib is not None:
            return self.container(req, self.dirlib.sections_doc.get("MediaContainer", {}))
        dirs = []
        for s in self.lib.sections:
            t = s["type"]
            agent = {"movie": "tv.plex.agents.movie", "show": "tv.plex.agents.series",
                     "artist": "tv.plex.agents.music"}[t]
            scanner = {"movie": "Plex Movie", "show": "Plex TV Series", "artist": "Plex Music"}[t]
            dirs.append({"allowSync": True, "art": "/:/resources/%s-fanart.jpg" % t,
                         "composite": "/library/sections/%s/composite/1754000000" % s["key"],
                         "filters": True, "refreshing": False, "thumb": "/:/resources/%s.png" % t,
                         "key": s["key"], "type": t, "title": s["title"], "agent": agent,
                         "scanner": scanner, "language": "en-US", "uuid": s["uuid"],
                         "updatedAt": 1754000000, "createdAt": 1633800000, "scannedAt": 1756900000,
                         "content": True, "directory": True, "contentChangedAt": 123456789,
                         "hidden": 0,
                         "Location": [{"id": int(s["key"]), "path": "/data/%s-%s" % (t, s["key"])}]})
        return self.container(req, {"size": len(dirs), "allowSync": False, "title1": "Plex Library",
                                    "Directory": dirs})

    def section_container(self, sec, t):
        view = {"movie": "movie", "show": "show", "artist": "artist"}[t]
        mc = {"size": 0, "allowSync": True, "art": "/:/resources/%s-fanart.jpg" % t,
              "content": "secondary", "identifier": "com.plexapp.plugins.library",
              "librarySectionID": int(sec["key"]) if sec["key"].isdigit() else sec["key"],
              "librarySectionTitle": sec["title"], "librarySectionUUID": sec["uuid"],
              "mediaTagPrefix": "/system/bundle/media/flags/", "mediaTagVersion": MEDIA_TAG_VERSION,
              "thumb": "/:/resources/%s.png" % t, "title1": sec["title"],
              "title2": "All " + ("Movies" if t == "movie" else "Shows" if t == "show" else "Artists"),
              "viewGroup": view}
        if t == "show":
            mc["nocache"] = True
        return mc

    def listing(self, req, key):
        try:
            start, size = self.paging(req)
            mtype = req.q("type")
            mtype = int(mtype) if mtype not in (None, "") else None
        except ValueError:
            return self.error(req, 400, "Bad Request")
        if size is None:
            return self.error(req, 400, "Missing X-Plex-Container-Size header")
        guids = req.q("includeGuids") == "1"
        if self.dirlib is not None:
            return self.dir_listing(req, key, mtype, start, size)
        sec = self.lib.section(key)
        if sec is None:
            return self.error(req, 404, "Not Found")
        incl_coll = req.q("includeCollections") != "0"
        total = self.lib.listing_count(sec, mtype, incl_coll)
        gone = self.deleted()
        if gone:
            # rows shift like on a real server: materialise the listing
            keys = [k for k in (self.lib.listing_key(sec, mtype, p, incl_coll) for p in range(total))
                    if k not in gone]
            total = len(keys)
            page = keys[start:start + size]
        else:
            page = [self.lib.listing_key(sec, mtype, p, incl_coll)
                    for p in range(start, min(total, start + size))]
        # like PMS, a listing honours excludeElements= and excludeFields=
        drop = set((req.q("excludeElements") or "").split(",")) | \
            set((req.q("excludeFields") or "").split(","))
        drop.discard("")
        items = []
        for rk in page:
            it = self.item(rk, False)
            if it is not None:
                it = truncate(it, guids)
                items.append({k: v for k, v in it.items() if k not in drop} if drop else it)
        mc = self.section_container(sec, sec["type"])
        mc["size"] = len(items)
        mc["totalSize"] = total
        mc["offset"] = start
        if items:
            mc["Metadata"] = items
        resp = self.container(req, mc)
        resp.headers += [("X-Plex-Container-Start", str(start)),
                         ("X-Plex-Container-Total-Size", str(total))]
        self.page_served()
        return resp

    def dir_listing(self, req, key, mtype, start, size):
        doc = self.dirlib.listing(key, mtype if mtype is not None else self.dir_default_type(key))
        if doc is None:
            if not any(d.get("key") == key for d in
                       self.dirlib.sections_doc.get("MediaContainer", {}).get("Directory", [])):
                return self.error(req, 404, "Not Found")
            doc = {"MediaContainer": {"size": 0}}
        mc = dict(doc.get("MediaContainer", {}))
        allitems = mc.pop("Metadata", []) or []
        page = allitems[start:start + size]
        mc["size"] = len(page)
        mc["totalSize"] = len(allitems)
        mc["offset"] = start
        if page:
            mc["Metadata"] = page
        resp = self.container(req, mc)
        resp.headers += [("X-Plex-Container-Start", str(start)),
                         ("X-Plex-Container-Total-Size", str(len(allitems)))]
        return resp

    def dir_default_type(self, key):
        for d in self.dirlib.sections_doc.get("MediaContainer", {}).get("Directory", []):
            if d.get("key") == key:
                return {"movie": 1, "show": 2, "artist": 8}.get(d.get("type"), 1)
        return 1

    # ---- metadata ------------------------------------------------------------
    def metadata(self, req, keys):
        items = []
        seen = set()
        for k in keys:
            if k in seen or k == "":
                continue
            seen.add(k)
            it = self.dirlib.metadata(k) if self.dirlib is not None else self.item(k)
            if it is not None:
                items.append(it)
        if not items:
            return self.error(req, 404, "Not Found")
        ex = set((req.q("excludeElements") or "").split(","))
        if ex - {""}:
            items = [{k: v for k, v in it.items() if k not in ex} for it in items]
        total = len(items)
        try:
            start, size = self.paging(req)
        except ValueError:
            return self.error(req, 400, "Bad Request")
        if size is not None:
            items = items[start:start + size]
        first = items[0] if items else {}
        uuid = first.get("librarySectionUUID")
        if uuid is None and self.dirlib is None and first.get("librarySectionID") is not None:
            sec = self.lib.section(str(first["librarySectionID"]))
            uuid = sec["uuid"] if sec else None
        mc = {"size": len(items), "allowSync": True, "identifier": "com.plexapp.plugins.library",
              "librarySectionID": first.get("librarySectionID"),
              "librarySectionTitle": first.get("librarySectionTitle"),
              "librarySectionUUID": uuid,
              "mediaTagPrefix": "/system/bundle/media/flags/", "mediaTagVersion": MEDIA_TAG_VERSION}
        mc = {k: v for k, v in mc.items() if v is not None}
        if size is not None:
            mc["totalSize"] = total
            mc["offset"] = start
        if items:
            mc["Metadata"] = items
        return self.container(req, mc)

    def children(self, req, key, what):
        if self.dirlib is not None:
            return self.error(req, 404, "Not Found")
        d = self.lib.decode(key)
        if d is None or d[0] not in ("show", "season"):
            return self.error(req, 404, "Not Found")
        lib = self.lib
        if d[0] == "show":
            i = d[1][0]
            if what == "/children":
                keys = [lib.show_rk(i, k) for k in range(1, lib.n_seasons + 1)]
            else:
                keys = [lib.show_rk(i, k, e) for k in range(1, lib.n_seasons + 1)
                        for e in range(1, lib.n_eps + 1)]
        else:
            i, k = d[1]
            keys = [lib.show_rk(i, k, e) for e in range(1, lib.n_eps + 1)]
        try:
            start, size = self.paging(req)
        except ValueError:
            return self.error(req, 400, "Bad Request")
        total = len(keys)
        keys = keys[start:start + size] if size is not None else keys
        guids = req.q("includeGuids") == "1"
        items = [truncate(it, guids) for it in (self.item(k, False) for k in keys) if it is not None]
        sec = lib.section(str(lib.n_msec + 1))
        mc = self.section_container(sec, "show")
        mc.update({"size": len(items), "totalSize": total, "offset": start})
        if items:
            mc["Metadata"] = items
        return self.container(req, mc)

    # ---- generated items -------------------------------------------------------
    def item(self, rk, full=True):
        """Details form of rk (or None); full=False builds only the first tags (listings truncate anyway)."""
        d = self.lib.decode(rk)
        if d is None or rk in (self.service.extra.get("deleted") or ()):
            return None
        kind, ix = d
        self.tl.full = full
        it = getattr(self, "gen_" + kind)(rk, *ix)
        edit = (self.service.extra.get("edits") or {}).get(rk)
        if edit:
            it.update(edit)
        return it

    def cut(self, lst, kind):
        return lst if getattr(self.tl, "full", True) else lst[:LISTING_LIMITS.get(kind, len(lst))]

    def sec_fields(self, sec):
        return {"librarySectionTitle": sec["title"], "librarySectionID": int(sec["key"]),
                "librarySectionKey": "/library/sections/%s" % sec["key"]}

    def gen_movie(self, rk, s, j):
        lib = self.lib
        g = s * lib.n_movies + j
        f = lib.movie_facts(g)
        sec = lib.sections[s]
        title = f["title"]
        plexguid = "plex://movie/%s" % hexid(24, "movie", lib.seed, g)
        if f["legacy"]:
            plexguid = "com.plexapp.agents.imdb://%s?lang=en" % f["imdb"]
        it = {"ratingKey": rk, "key": "/library/metadata/%s" % rk, "guid": plexguid,
              "slug": slugify(title), "studio": f["studio"], "type": "movie", "title": title}
        if title.startswith("The "):
            it["titleSort"] = title[4:]
        it.update(self.sec_fields(sec))
        it.update({"contentRating": f["content_rating"], "summary": f["summary"],
                   "rating": f["rating"], "audienceRating": f["audience"], "year": f["year"]})
        if f["tagline"]:
            it["tagline"] = f["tagline"]
        it.update({"thumb": "/library/metadata/%s/thumb/%d" % (rk, f["updated"]),
                   "art": "/library/metadata/%s/art/%d" % (rk, f["updated"]),
                   "duration": f["duration"], "originallyAvailableAt": f["date"],
                   "addedAt": f["added"], "updatedAt": f["updated"],
                   "audienceRatingImage": "rottentomatoes://image.rating.upright",
                   "Media": media(rk, f["duration"], f["size"], g % 3 == 0, True),
                   "Image": [{"alt": title, "type": "coverPoster", "url": "/library/metadata/%s/thumb/%d" % (rk, f["updated"])},
                             {"alt": title, "type": "background", "url": "/library/metadata/%s/art/%d" % (rk, f["updated"])}],
                   "UltraBlurColors": blur(rk)})
        it["Genre"] = [{"id": gid, "filter": "genre=%d" % gid, "tag": name} for gid, name in f["genres"]]
        it["Country"] = [{"id": 500 + n, "filter": "country=%d" % (500 + n), "tag": name}
                         for n, (_, name) in enumerate(f["countries"])]
        if not f["legacy"]:
            gl = []
            if f["imdb"]:
                gl.append({"id": "imdb://%s" % f["imdb"]})
            gl.append({"id": "tmdb://%d" % f["tmdb"]})
            if f["tvdb"]:
                gl.append({"id": "tvdb://%d" % f["tvdb"]})
            it["Guid"] = gl
        it["Rating"] = [{"image": "imdb://image.rating", "value": f["rating"], "type": "audience"},
                        {"image": "themoviedb://image.rating", "value": f["audience"], "type": "audience"}]
        it["Director"] = [tag("director", p) for p in f["directors"]]
        it["Writer"] = [tag("writer", p) for p in f["writers"]]
        it["Role"] = [tag("actor", p, role=self.character(p, n)) for n, p in enumerate(self.cut(f["cast"], "Role"))]
        if f["producers"]:
            it["Producer"] = [tag("producer", p) for p in f["producers"]]
        colls = lib.movie_collections(s, j)
        if colls:
            it["Collection"] = [{"id": 90_000 + c, "filter": "collection=%d" % (90_000 + c),
                                 "tag": lib.collection_title(cs, c)} for cs, c in colls]
        return it

    @staticmethod
    def character(p, n):
        if n % 9 == 8:
            return None
        return "%s %s" % (ADJ[(p + n) % len(ADJ)] if n % 2 else "The", NOUN[(p * 3 + n) % len(NOUN)])

    def gen_collection(self, rk, s, c):
        lib = self.lib
        title = lib.collection_title(s, c)
        members = [j for j in range(0, lib.n_movies, 4) if (j // 4) % max(lib.n_coll, 1) == c]
        years = [lib.movie_facts(s * lib.n_movies + j)["year"] for j in members[:50]] or [2000]
        return {"ratingKey": rk, "key": "/library/collections/%s/children" % rk,
                "guid": "plex://collection/%s" % hexid(24, "coll", lib.seed, s, c),
                "type": "collection", "title": title, "contentRating": "PG-13", "subtype": "movie",
                "summary": "Films gathered under the %s banner." % title, "index": COLL_BASE + c,
                "ratingCount": len(members), "thumb": "/library/metadata/%s/thumb/1700000000" % rk,
                "art": "/library/metadata/%s/art/1700000000" % rk, "addedAt": 1_650_000_000 + c,
                "updatedAt": 1_700_000_000 + c, "childCount": len(members),
                "maxYear": str(max(years)), "minYear": str(min(years)),
                "Image": [{"alt": title, "type": "coverPoster", "url": "/library/metadata/%s/thumb/1700000000" % rk}],
                "UltraBlurColors": blur(rk)}

    def show_sec(self):
        return self.lib.section(str(self.lib.n_msec + 1))

    def gen_show(self, rk, i):
        lib = self.lib
        f = lib.show_facts(i)
        title = f["title"]
        it = {"ratingKey": rk, "key": "/library/metadata/%s/children" % rk,
              "guid": "plex://show/%s" % hexid(24, "show", lib.seed, i), "slug": slugify(title),
              "studio": f["studio"], "type": "show", "title": title}
        it.update(self.sec_fields(self.show_sec()))
        it.update({"contentRating": f["content_rating"], "summary": f["summary"], "index": 1,
                   "audienceRating": f["rating"], "year": f["year"]})
        if f["tagline"]:
            it["tagline"] = f["tagline"]
        it.update({"thumb": "/library/metadata/%s/thumb/1700000000" % rk,
                   "art": "/library/metadata/%s/art/1700000000" % rk,
                   "theme": "/library/metadata/%s/theme/1700000000" % rk,
                   "duration": 3_000_000, "originallyAvailableAt": "%d-03-01" % f["year"],
                   "leafCount": lib.n_seasons * lib.n_eps, "viewedLeafCount": 0,
                   "childCount": lib.n_seasons, "addedAt": f["added"], "updatedAt": f["added"] + 999,
                   "Image": [{"alt": title, "type": "coverPoster", "url": "/library/metadata/%s/thumb/1700000000" % rk}],
                   "UltraBlurColors": blur(rk)})
        it["Genre"] = [{"id": gid, "filter": "genre=%d" % gid, "tag": name} for gid, name in f["genres"]]
        it["Guid"] = [{"id": "imdb://%s" % f["imdb"]}, {"id": "tmdb://%d" % f["tmdb"]},
                      {"id": "tvdb://%d" % f["tvdb"]}]
        it["Role"] = [tag("actor", p, role=self.character(p, n)) for n, p in enumerate(self.cut(f["cast"], "Role"))]
        return it

    def season_title(self, i, k):
        n = self.lib.season_number(i, k)
        return str(n) if self.lib.year_seasons(i) else "Season %d" % n

    def gen_season(self, rk, i, k):
        lib = self.lib
        f = lib.show_facts(i)
        srk = lib.show_rk(i)
        return {"ratingKey": rk, "key": "/library/metadata/%s/children" % rk, "parentRatingKey": srk,
                "guid": "plex://season/%s" % hexid(24, "season", lib.seed, i, k),
                "parentGuid": "plex://show/%s" % hexid(24, "show", lib.seed, i),
                "parentSlug": slugify(f["title"]), "type": "season", "title": self.season_title(i, k),
                "parentKey": "/library/metadata/%s" % srk, "parentTitle": f["title"],
                "summary": "", "index": lib.season_number(i, k), "parentIndex": 1,
                "year": lib.show_first_year(i) + k - 1,
                "thumb": "/library/metadata/%s/thumb/1700000000" % rk,
                "art": "/library/metadata/%s/art/1700000000" % srk,
                "parentThumb": "/library/metadata/%s/thumb/1700000000" % srk,
                "leafCount": lib.n_eps, "viewedLeafCount": 0, "addedAt": f["added"] + k,
                "updatedAt": f["added"] + 1000 + k, **self.sec_fields(self.show_sec())}

    def gen_episode(self, rk, i, k, e):
        lib = self.lib
        f = lib.episode_facts(i, k, e)
        sf = lib.show_facts(i)
        srk, sek = lib.show_rk(i), lib.show_rk(i, k)
        it = {"ratingKey": rk, "key": "/library/metadata/%s" % rk, "parentRatingKey": sek,
              "grandparentRatingKey": srk,
              "guid": "plex://episode/%s" % hexid(24, "ep", lib.seed, i, k, e),
              "parentGuid": "plex://season/%s" % hexid(24, "season", lib.seed, i, k),
              "grandparentGuid": "plex://show/%s" % hexid(24, "show", lib.seed, i),
              "grandparentSlug": slugify(sf["title"]), "type": "episode", "title": f["title"],
              "grandparentKey": "/library/metadata/%s" % srk, "parentKey": "/library/metadata/%s" % sek}
        it.update(self.sec_fields(self.show_sec()))
        it.update({"grandparentTitle": sf["title"], "parentTitle": self.season_title(i, k),
                   "contentRating": sf["content_rating"], "summary": f["summary"], "index": e,
                   "parentIndex": lib.season_number(i, k), "audienceRating": f["rating"],
                   "year": f["year"], "thumb": "/library/metadata/%s/thumb/1700000000" % rk,
                   "art": "/library/metadata/%s/art/1700000000" % srk,
                   "parentThumb": "/library/metadata/%s/thumb/1700000000" % sek,
                   "grandparentThumb": "/library/metadata/%s/thumb/1700000000" % srk,
                   "grandparentArt": "/library/metadata/%s/art/1700000000" % srk,
                   "grandparentTheme": "/library/metadata/%s/theme/1700000000" % srk,
                   "duration": f["duration"], "originallyAvailableAt": f["date"],
                   "addedAt": f["added"]})
        if f["updated"] is not None:
            it["updatedAt"] = f["updated"]
        it.update({"audienceRatingImage": "themoviedb://image.rating",
                   "Media": media(rk, f["duration"], f["size"], e % 2 == 0, True),
                   "Image": [{"alt": f["title"], "type": "coverPoster", "url": "/library/metadata/%s/thumb/1700000000" % srk},
                             {"alt": f["title"], "type": "background", "url": "/library/metadata/%s/art/1700000000" % srk},
                             {"alt": f["title"], "type": "snapshot", "url": "/library/metadata/%s/thumb/1700000000" % rk}],
                   "UltraBlurColors": blur(rk)})
        gl = []
        if f["imdb"]:
            gl.append({"id": "imdb://%s" % f["imdb"]})
        gl.append({"id": "tmdb://%d" % f["tmdb"]})
        gl.append({"id": "tvdb://%d" % f["tvdb"]})
        it["Guid"] = gl
        it["Rating"] = [{"image": "themoviedb://image.rating", "value": f["rating"], "type": "audience"}]
        it["Director"] = [tag("director", p) for p in f["directors"]]
        it["Writer"] = [tag("writer", p) for p in f["writers"]]
        it["Role"] = [tag("actor", p, role=self.character(p, n)) for n, p in enumerate(self.cut(f["cast"], "Role"))]
        return it

    def gen_artist(self, rk, a):
        title = "%s %s" % (ADJ[(a * 3) % len(ADJ)], NOUN[(a * 5) % len(NOUN)])
        sec = self.lib.section(str(self.lib.n_msec + 2))
        return {"ratingKey": rk, "key": "/library/metadata/%s/children" % rk,
                "guid": "plex://artist/%s" % hexid(24, "artist", a), "type": "artist",
                "title": title, "summary": "A band.", "index": 1,
                "thumb": "/library/metadata/%s/thumb/1700000000" % rk, "addedAt": 1_690_000_000 + a,
                "updatedAt": 1_700_000_000 + a, **self.sec_fields(sec),
                "Genre": [{"id": 700, "filter": "genre=700", "tag": "Rock"}]}

