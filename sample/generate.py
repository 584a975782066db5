#!/usr/bin/env python3
# Generates plexpipe's made-up sample library (sample/) in the shapes of the real APIs.
import json, os, sys, hashlib

OUT = sys.argv[1]
MOVIE_UUID = "3c1f9e52-7d0a-4b8e-9a61-5e2f0b7c4d10"
SHOW_UUID = "b8e4d2a7-1f63-4c95-8e0d-27a9c6f31e58"
MTV = 1754902275


def dump(path, obj, pretty=True):
    full = os.path.join(OUT, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w", encoding="utf-8") as f:
        if pretty:
            json.dump(obj, f, ensure_ascii=False, indent=2)
        else:
            json.dump(obj, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")


def hexid(s, n=24):
    return hashlib.sha1(s.encode()).hexdigest()[:n]


def person(kind, pid, name, role=None, thumb=True):
    d = {"id": pid, "filter": "%s=%d" % (kind, pid), "tag": name,
         "tagKey": hexid("person:" + name)}
    if role is not None:
        d["role"] = role
    if thumb:
        d["thumb"] = "https://metadata-static.plex.tv/%s/people/%s.jpg" % (
            hexid(name, 1), hexid("img:" + name, 32))
    return d


def tag(kind, tid, name):
    return {"id": tid, "filter": "%s=%d" % (kind, tid), "tag": name}


GENRE_IDS = {"Drama": 3, "Mystery": 11, "Adventure": 14, "Comedy": 8, "Thriller": 17,
             "Science Fiction": 21, "Romance": 24, "Crime": 7, "History": 29,
             "Family": 31, "Animation": 33, "Documentary": 36}
COUNTRY_IDS = {"United States of America": 140, "Norway": 611, "Denmark": 622,
               "United Kingdom": 503, "Japan": 377, "Portugal": 689, "Canada": 148}


def media(mid, dur, fname, size, res="1080", w=1920, h=1040, streams=True):
    part = {"accessible": True, "exists": True, "id": mid,
            "key": "/library/parts/%d/%d/file.mkv" % (mid, 1700000000 + mid),
            "duration": dur, "file": fname, "size": size, "container": "mkv",
            "indexes": "sd", "videoProfile": "main 10"}
    if streams:
        part["Stream"] = [
            {"id": mid * 10 + 1, "streamType": 1, "default": True, "codec": "hevc", "index": 0,
             "bitrate": 9012, "bitDepth": 10, "chromaSubsampling": "4:2:0", "codedHeight": h,
             "codedWidth": w, "frameRate": 23.976, "height": h, "width": w, "level": 120,
             "profile": "main 10", "refFrames": 1,
             "displayTitle": "4K" if res == "4k" else res + "p",
             "extendedDisplayTitle": ("4K" if res == "4k" else res + "p") + " (HEVC Main 10)"},
            {"id": mid * 10 + 2, "streamType": 2, "selected": True, "default": True,
             "codec": "eac3", "index": 1, "channels": 6, "bitrate": 640, "language": "English",
             "languageTag": "en", "languageCode": "eng", "audioChannelLayout": "5.1(side)",
             "samplingRate": 48000, "displayTitle": "English (EAC3 5.1)",
             "extendedDisplayTitle": "English (EAC3 5.1)"},
            {"id": mid * 10 + 3, "streamType": 3, "canAutoSync": False, "codec": "srt",
             "index": 2, "bitrate": 0, "language": "English", "languageTag": "en",
             "languageCode": "eng", "displayTitle": "English", "extendedDisplayTitle": "English (SRT)"}]
    return [{"id": mid, "duration": dur, "bitrate": 9800, "width": w, "height": h,
             "aspectRatio": 1.85, "audioChannels": 6, "audioCodec": "eac3", "videoCodec": "hevc",
             "videoResolution": res, "container": "mkv", "videoFrameRate": "24p",
             "videoProfile": "main 10", "hasVoiceActivity": False, "Part": [part]}]


# ---------------------------------------------------------------- movies
MOVIES = [
    dict(rk="1001", title="The Lantern Keeper", titleSort="Lantern Keeper", year=2014,
         studio="Halvard Pictures", cr="PG-13", rating=7.8, arating=8.1, dur=6843000,
         oaa="2014-09-19", added=1701234567, updated=1754800001,
         summary="On a storm-battered island off the Norwegian coast, a widowed lighthouse keeper takes in a shipwrecked cartographer whose maps show a coastline that does not exist.",
         tagline="Some lights are meant to be followed.",
         imdb="tt9100001", tmdb=810001, tvdb=5100001,
         genres=["Drama", "Mystery"], countries=["Norway", "United Kingdom"],
         directors=[(900101, "Ingrid Solvang")], writers=[(900102, "Ingrid Solvang"), (900103, "Tomas Brekke")],
         roles=[(900111, "Hedda Marsh", "Ellinor Vik"), (900112, "Callum Wren", "Jonah Pryce"),
                (900113, "Bjørn Aasheim", "Harbourmaster Lund"), (900114, "Saoirse Delaney", "Mrs. Pryce"),
                (900115, "Odd Rønning", "Fisherman"), (900116, "Liv Tangen", "Young Ellinor"),
                (900117, "Per-Arne Holm", "Priest"), (900118, "Maya Okonkwo", "Radio Operator")],
         collections=[(95001, "Lighthouse Tales")], res="4k"),
    dict(rk="1002", title="Brass Orchard", year=1998, studio="Copperline Films", cr="R",
         rating=6.9, arating=7.4, dur=7021000, oaa="1998-04-03", added=1689000000, updated=1750000002,
         summary="A disgraced clockmaker returns to his family's failing apple orchard in Ohio and builds a mechanical scarecrow that starts keeping better time than anyone in town.",
         tagline=None,
         imdb="tt9100002", tmdb=810002, tvdb=5100002,
         genres=["Comedy", "Drama"], countries=["United States of America"],
         directors=[(900201, "Walt Kessinger")], writers=[(900202, "June Abernathy")],
         roles=[(900211, "Dale Whitcomb", "Amos Reed"), (900212, "Rosa Treviño", "Clara Reed"),
                (900213, "Hank Bellamy", "Sheriff Pike"), (900214, "Ada Lindqvist", "Nora"),
                (900215, "Elijah Grant", "Young Amos")],
         collections=[], res="1080"),
    dict(rk="1003", title="Sørensen's Winter", originalTitle="Sørensens vinter", year=2009,
         studio="Nordlys Film", cr="PG", rating=7.2, arating=7.0, dur=5710000, oaa="2009-11-13",
         added=1695000000, updated=1752000003,
         summary="In a Copenhagen tenement, eighty-year-old Aksel Sørensen decides the winter will be his last and sets about returning every item he ever borrowed — to people who have long forgotten lending them.",
         tagline="Everything borrowed must go home.",
         imdb="tt9100003", tmdb=810003, tvdb=5100003,
         genres=["Drama", "Comedy"], countries=["Denmark"],
         directors=[(900301, "Åsa Lindqvist-Øberg")], writers=[(900302, "Åsa Lindqvist-Øberg"), (900303, "Mikkel Frøslev")],
         roles=[(900311, "Jens Ørum", "Aksel Sørensen"), (900312, "Karen Høj", "Birte"),
                (900313, "Noor El-Amin", "Yasmin"), (900314, "Frederik Lund", "The Postman"),
                (900315, "Ditte Skov", "Ms. Holm"), (900316, "Ulrik Bæk", "Caretaker")],
         collections=[(95002, "Director Spotlight: Åsa Lindqvist-Øberg")], res="1080"),
    dict(rk="1004", title="1977", year=2021, studio="Paper Kite", cr="R", rating=6.4, arating=6.8,
         dur=6210000, oaa="2021-06-25", added=1712000000, updated=1753000004,
         summary="Three teenagers in a Lisbon suburb find a reel of undeveloped film from the summer of the revolution and try to identify the faces on it before the building they live in is torn down.",
         tagline="The summer nobody photographed.",
         imdb="tt9100004", tmdb=810004, tvdb=5100004,
         genres=["Drama", "History"], countries=["Portugal"],
         directors=[(900401, "João Vasconcelos")], writers=[(900402, "João Vasconcelos"), (900403, "Inês Tavares")],
         roles=[(900411, "Tiago Moura", "Rui"), (900412, "Beatriz Leal", "Marta"),
                (900413, "Duarte Sá", "Nuno"), (900414, "Amália Cruz", "Dona Graça")],
         collections=[], res="1080"),
    dict(rk="1005", title="Harbor of Glass", year=1987, studio="Meridian", cr="PG", rating=7.5,
         arating=7.9, dur=6480000, oaa="1987-08-14", added=1640000000, updated=1749000005,
         summary="A glassblower's apprentice in 1920s Maine discovers that her master's famous harbour windows each hide a message from a sailor lost at sea.",
         tagline="Look through it, not at it.",
         legacy="com.plexapp.agents.imdb://tt9100005?lang=en", imdb="tt9100005", tmdb=810005,
         genres=["Romance", "Drama"], countries=["United States of America"],
         directors=[(900501, "Martin Eckhardt")], writers=[(900502, "Lorraine Pike")],
         roles=[(900511, "Sarah Halloway", "Abigail Crane"), (900512, "Victor Maddox", "Elias Thorn"),
                (900513, "Grace Min", "Lottie")],
         collections=[(95001, "Lighthouse Tales")], res="sd"),
    dict(rk="m-quiet-cartographer", title="The Quiet Cartographer", titleSort="Quiet Cartographer",
         year=2023, studio="Lumen Arc", cr="PG-13", rating=6.1, arating=6.5, dur=5940000,
         oaa="2023-02-10", added=1720000000, updated=1755000006,
         summary="A mapmaker who has not spoken in ten years is hired to survey a valley that is about to be flooded by a dam — and keeps finding villages that were never on any map.",
         tagline="Every map leaves something out.",
         imdb="tt9100006", tmdb=810006, tvdb=None,
         genres=["Mystery", "Science Fiction"], countries=["Canada", "Japan"],
         directors=[(900601, "Keiko Arakawa")], writers=[(900602, "Keiko Arakawa"), (900603, "Dominic Ferreira")],
         roles=[(900611, "Ren Takahashi", "Ishii"), (900612, "Claire Beaumont", "Dr. Ouellet"),
                (900613, "Mateo Ruiz", "Surveyor")],
         collections=[], res="1080"),
]

COLLECTIONS = [
    dict(rk="2001", title="Lighthouse Tales", n=2, miny="1987", maxy="2014",
         summary="Films about the people who keep the lights burning on the edge of the sea."),
    dict(rk="2002", title="Director Spotlight: Åsa Lindqvist-Øberg", n=1, miny="2009", maxy="2009",
         summary="Every feature by the Danish-Swedish director, from her debut onward."),
]


def movie_common(m):
    d = {"ratingKey": m["rk"], "key": "/library/metadata/" + m["rk"],
         "guid": m.get("legacy") or ("plex://movie/" + hexid("movie:" + m["rk"])),
         "slug": m["title"].lower().replace("'", "").replace(" ", "-"),
         "studio": m["studio"], "type": "movie", "title": m["title"]}
    if "titleSort" in m:
        d["titleSort"] = m["titleSort"]
    if "originalTitle" in m:
        d["originalTitle"] = m["originalTitle"]
    return d


def movie_scalars(m, d):
    d.update({"contentRating": m["cr"], "summary": m["summary"], "rating": m["rating"],
              "audienceRating": m["arating"], "year": m["year"]})
    if m["tagline"]:
        d["tagline"] = m["tagline"]
    ts = m["updated"]
    d.update({"thumb": "/library/metadata/%s/thumb/%d" % (m["rk"], ts),
              "art": "/library/metadata/%s/art/%d" % (m["rk"], ts),
              "duration": m["dur"], "originallyAvailableAt": m["oaa"],
              "addedAt": m["added"], "updatedAt": ts,
              "audienceRatingImage": "rottentomatoes://image.rating.upright",
              "ratingImage": "rottentomatoes://image.rating.ripe"})


def guids(m):
    g = [{"id": "imdb://" + m["imdb"]}, {"id": "tmdb://%d" % m["tmdb"]}]
    if m.get("tvdb"):
        g.append({"id": "tvdb://%d" % m["tvdb"]})
    return g


def movie_file(m):
    base = "%s (%d)" % (m["title"], m["year"])
    return "/movies/%s/%s.mkv" % (base, base)


def movie_listing(m, i):
    d = movie_common(m)
    movie_scalars(m, d)
    d["Media"] = media(130000 + i, m["dur"], movie_file(m), 4000000000 + i * 1234567891,
                       m["res"], streams=False)
    d["Image"] = [{"alt": m["title"], "type": "coverPoster", "url": d["thumb"]},
                  {"alt": m["title"], "type": "background", "url": d["art"]}]
    if "legacy" not in m:
        d["Guid"] = guids(m)
    d["Genre"] = [{"tag": g} for g in m["genres"][:2]]
    d["Country"] = [{"tag": c} for c in m["countries"][:2]]
    d["Director"] = [{"tag": n} for _, n in m["directors"][:3]]
    d["Writer"] = [{"tag": n} for _, n in m["writers"][:2]]
    d["Role"] = [{"tag": n} for _, n, _ in m["roles"][:3]]
    if m["collections"]:
        d["Collection"] = [{"tag": n} for _, n in m["collections"]]
    return d


def movie_details(m, i):
    d = movie_common(m)
    d.update({"librarySectionTitle": "Movies", "librarySectionID": 1,
              "librarySectionKey": "/library/sections/1"})
    movie_scalars(m, d)
    d["chapterSource"] = "media"
    d["Media"] = media(130000 + i, m["dur"], movie_file(m), 4000000000 + i * 1234567891, m["res"],
                       3840 if m["res"] == "4k" else 1920, 2160 if m["res"] == "4k" else 1040)
    d["Image"] = [{"alt": m["title"], "type": "coverPoster", "url": d["thumb"]},
                  {"alt": m["title"], "type": "background", "url": d["art"]},
                  {"alt": m["title"], "type": "clearLogo",
                   "url": "/library/metadata/%s/clearLogo/%d" % (m["rk"], m["updated"])}]
    d["UltraBlurColors"] = {"topLeft": hexid("a" + m["rk"], 6), "topRight": hexid("b" + m["rk"], 6),
                            "bottomRight": hexid("c" + m["rk"], 6), "bottomLeft": hexid("d" + m["rk"], 6)}
    if "legacy" not in m:
        d["Guid"] = guids(m)
    d["Rating"] = [{"image": "imdb://image.rating", "value": m["arating"], "type": "audience"},
                   {"image": "rottentomatoes://image.rating.ripe", "value": m["rating"], "type": "critic"}]
    d["Genre"] = [tag("genre", GENRE_IDS[g], g) for g in m["genres"]]
    d["Country"] = [tag("country", COUNTRY_IDS[c], c) for c in m["countries"]]
    d["Director"] = [person("director", pid, n) for pid, n in m["directors"]]
    d["Writer"] = [person("writer", pid, n, thumb=(k == 0)) for k, (pid, n) in enumerate(m["writers"])]
    d["Producer"] = [person("producer", 910000 + i * 10, "Hollis Varga", thumb=False)]
    d["Role"] = [person("actor", pid, n, role=r, thumb=(k % 4 != 3))
                 for k, (pid, n, r) in enumerate(m["roles"])]
    if m["collections"]:
        d["Collection"] = [tag("collection", cid, n) for cid, n in m["collections"]]
    d["Chapter"] = [{"id": 40 + k, "filter": "thumb=%d" % (40 + k), "index": k + 1,
                     "startTimeOffset": k * 600000, "endTimeOffset": (k + 1) * 600000,
                     "thumb": "/library/media/%d/chapterImages/%d" % (130000 + i, k + 1)}
                    for k in range(3)]
    d["Marker"] = [{"final": True, "id": 92000 + i, "type": "credits",
                    "startTimeOffset": m["dur"] - 300000, "endTimeOffset": m["dur"],
                    "Attributes": {"id": 92000 + i, "version": 4}}]
    d["Extras"] = {"size": 0}
    return d


def collection_row(c):
    ts = 1750178000 + int(c["rk"])
    return {"ratingKey": c["rk"], "key": "/library/collections/%s/children" % c["rk"],
            "guid": "plex://collection/" + hexid("coll:" + c["rk"]), "type": "collection",
            "title": c["title"], "subtype": "movie", "summary": c["summary"],
            "index": 176000 + int(c["rk"]), "ratingCount": 1,
            "thumb": "/library/metadata/%s/thumb/%d" % (c["rk"], ts),
            "art": "/library/metadata/%s/art/%d" % (c["rk"], ts),
            "addedAt": 1688625024, "updatedAt": ts, "childCount": c["n"],
            "maxYear": c["maxy"], "minYear": c["miny"],
            "Image": [{"alt": c["title"], "type": "coverPoster",
                       "url": "/library/metadata/%s/thumb/%d" % (c["rk"], ts)}],
            "UltraBlurColors": {"topLeft": "4c1c1e", "topRight": "a22f2c",
                                "bottomRight": "66191b", "bottomLeft": "8b2a29"}}


def container(section, title, uuid, items, **extra):
    mc = {"size": len(items), "allowSync": True}
    mc.update(extra)
    mc.update({"identifier": "com.plexapp.plugins.library", "librarySectionID": section,
               "librarySectionTitle": title, "librarySectionUUID": uuid,
               "mediaTagPrefix": "/system/bundle/media/flags/", "mediaTagVersion": MTV})
    if items:
        mc["Metadata"] = items
    return {"MediaContainer": mc}


# ---------------------------------------------------------------- shows
SHOWS = [
    dict(rk="3001", title="The Salt Roads", slug="the-salt-roads", year=2019, cr="TV-14",
         studio="Tidewater Television", arating=8.2, added=1690000000, updated=1754000100,
         oaa="2019-10-06",
         summary="Merchants, smugglers and one stubborn customs inspector cross paths along the salt caravan routes of a fictional North African kingdom in the 1890s.",
         tagline="Every grain is counted.",
         imdb="tt9200001", tmdb=920001, tvdb=400001, genres=["Drama", "Adventure"],
         roles=[(901011, "Yasmine Haddad", "Inspector Leïla Benali"), (901012, "Tobias Greer", "Edmund Vance"),
                (901013, "Karim Ouazzani", "Old Faris"), (901014, "Nell Ashdown", "Harriet Vance")],
         seasons=[dict(rk="3011", index=1, title="Season 1"), dict(rk="3012", index=2, title="Season 2")],
         episodes=[
             dict(rk="3101", season=0, index=1, title="The Weighing House", oaa="2019-10-06", tmdb=7300101, imdb="tt9200101",
                  summary="Leïla arrives in Taoudal to find the customs ledgers burned and the weighing house locked from the inside.",
                  director=(901101, "Samir Belkacem"), writer=(901102, "Rhiannon Cole")),
             dict(rk="3102", season=0, index=2, title="Caravan at Dusk", oaa="2019-10-13", tmdb=7300102, imdb="tt9200102",
                  summary="A caravan arrives a day early, and its manifest lists one more camel than it has.",
                  director=(901101, "Samir Belkacem"), writer=(901103, "Adebayo Lawal")),
             dict(rk="3103", season=1, index=1, title="Brine", oaa="2021-01-17", tmdb=7300201, imdb="tt9200201",
                  summary="Two years later, the salt pans flood and Edmund Vance offers the town a loan it cannot refuse.",
                  director=(901104, "Hélène Marchetti"), writer=(901102, "Rhiannon Cole")),
             dict(rk="3104", season=1, index=2, title="The Tax on Tears", oaa="2021-01-24", tmdb=7300202, imdb="tt9200202",
                  summary="Leïla audits the Vance accounts and finds a debt that predates her own birth.",
                  director=(901104, "Hélène Marchetti"), writer=(901103, "Adebayo Lawal")),
         ]),
    dict(rk="3002", title="Kettle & Crown", slug="kettle-and-crown", year=2022, cr="TV-PG",
         studio="Greyfriars Media", arating=7.6, added=1700000000, updated=1755000200,
         oaa="2022-03-02",
         summary="A family-run tea room in a Yorkshire market town is unexpectedly granted a royal warrant — and the bookkeeping nightmare that comes with it.",
         tagline=None,
         imdb="tt9200002", tmdb=920002, tvdb=400002, genres=["Comedy", "Family"],
         roles=[(902011, "Maggie Thornbury", "Dot Pemberton"), (902012, "Ravi Chaudhry", "Sunil"),
                (902013, "Eloise Fanshawe", "Philippa"), (902014, "Gareth Pugh", "Mr. Eckersley")],
         seasons=[dict(rk="3021", index=2022, title="2022"), dict(rk="3022", index=2023, title="2023")],
         episodes=[
             dict(rk="3201", season=0, index=1, title="By Appointment", oaa="2022-03-02", tmdb=7400101, imdb="tt9200301",
                  summary="The letter from the palace arrives on the same morning the scone oven breaks.",
                  director=(902101, "Fiona McAllister"), writer=(902102, "Declan O'Shea")),
             dict(rk="3202", season=0, index=2, title="Café Müller's Revenge", oaa="2022-03-09", tmdb=7400102, imdb="tt9200302",
                  summary="The rival café across the square hires a pastry chef from Vienna — and a lawyer.",
                  director=(902101, "Fiona McAllister"), writer=(902103, "Priya Nandakumar")),
             dict(rk="3203", season=1, index=1, title="Second Warrant", oaa="2023-04-05", tmdb=7400201, imdb="tt9200303",
                  summary="A second royal warrant arrives, addressed to the tea room's cat.",
                  director=(902104, "Tomasz Wójcik"), writer=(902102, "Declan O'Shea")),
         ]),
]


def show_guids(s):
    return [{"id": "imdb://" + s["imdb"]}, {"id": "tmdb://%d" % s["tmdb"]}, {"id": "tvdb://%d" % s["tvdb"]}]


def show_obj(s, details):
    ts = s["updated"]
    d = {"ratingKey": s["rk"], "key": "/library/metadata/%s/children" % s["rk"],
         "guid": "plex://show/" + hexid("show:" + s["rk"]), "slug": s["slug"],
         "studio": s["studio"], "type": "show", "title": s["title"]}
    if details:
        d.update({"librarySectionTitle": "TV Shows", "librarySectionID": 2,
                  "librarySectionKey": "/library/sections/2"})
    d.update({"contentRating": s["cr"], "summary": s["summary"], "index": 1,
              "audienceRating": s["arating"], "year": s["year"]})
    if s["tagline"]:
        d["tagline"] = s["tagline"]
    d.update({"thumb": "/library/metadata/%s/thumb/%d" % (s["rk"], ts),
              "art": "/library/metadata/%s/art/%d" % (s["rk"], ts),
              "theme": "/library/metadata/%s/theme/%d" % (s["rk"], ts),
              "duration": 2880000, "originallyAvailableAt": s["oaa"],
              "leafCount": len(s["episodes"]), "viewedLeafCount": 1,
              "childCount": len(s["seasons"]), "addedAt": s["added"], "updatedAt": ts,
              "audienceRatingImage": "themoviedb://image.rating"})
    d["Image"] = [{"alt": s["title"], "type": "coverPoster", "url": d["thumb"]},
                  {"alt": s["title"], "type": "background", "url": d["art"]}]
    d["Guid"] = show_guids(s)
    if details:
        d["Genre"] = [tag("genre", GENRE_IDS[g], g) for g in s["genres"]]
        d["Country"] = [tag("country", 503, "United Kingdom")]
        d["Role"] = [person("actor", pid, n, role=r) for pid, n, r in s["roles"]]
        d["Location"] = [{"path": "/tvshows/" + s["title"]}]
    else:
        d["Genre"] = [{"tag": g} for g in s["genres"][:2]]
        d["Country"] = [{"tag": "United Kingdom"}]
        d["Role"] = [{"tag": n} for _, n, _ in s["roles"][:3]]
    return d


def episode_obj(s, e, k, details):
    sea = s["seasons"][e["season"]]
    ts = s["updated"] - 50 + k
    d = {"ratingKey": e["rk"], "key": "/library/metadata/" + e["rk"],
         "parentRatingKey": sea["rk"], "grandparentRatingKey": s["rk"],
         "guid": "plex://episode/" + hexid("ep:" + e["rk"]),
         "parentGuid": "plex://season/" + hexid("season:" + sea["rk"]),
         "grandparentGuid": "plex://show/" + hexid("show:" + s["rk"]),
         "grandparentSlug": s["slug"], "type": "episode", "title": e["title"],
         "grandparentKey": "/library/metadata/" + s["rk"],
         "parentKey": "/library/metadata/" + sea["rk"]}
    if details:
        d.update({"librarySectionTitle": "TV Shows", "librarySectionID": 2,
                  "librarySectionKey": "/library/sections/2"})
    d.update({"grandparentTitle": s["title"], "parentTitle": sea["title"], "contentRating": s["cr"],
              "summary": e["summary"], "index": e["index"], "parentIndex": sea["index"],
              "audienceRating": round(7.0 + (k % 5) * 0.3, 1), "year": int(e["oaa"][:4]),
              "thumb": "/library/metadata/%s/thumb/%d" % (e["rk"], ts),
              "art": "/library/metadata/%s/art/%d" % (s["rk"], s["updated"]),
              "parentThumb": "/library/metadata/%s/thumb/%d" % (sea["rk"], s["updated"]),
              "grandparentThumb": "/library/metadata/%s/thumb/%d" % (s["rk"], s["updated"]),
              "grandparentArt": "/library/metadata/%s/art/%d" % (s["rk"], s["updated"]),
              "grandparentTheme": "/library/metadata/%s/theme/%d" % (s["rk"], s["updated"]),
              "duration": 2880000 + k * 61000, "originallyAvailableAt": e["oaa"],
              "addedAt": s["added"] + k * 86400, "updatedAt": ts,
              "audienceRatingImage": "themoviedb://image.rating"})
    fname = "/tvshows/%s/Season %s/%s - S%02dE%02d - %s.mkv" % (
        s["title"], sea["title"].replace("Season ", ""), s["title"],
        sea["index"] if sea["index"] < 100 else e["season"] + 1, e["index"], e["title"])
    d["Media"] = media(140000 + int(e["rk"]), d["duration"], fname, 1500000000 + k * 98765431,
                       "1080", streams=details)
    d["Image"] = [{"alt": e["title"], "type": "coverPoster", "url": d["grandparentThumb"]},
                  {"alt": e["title"], "type": "snapshot", "url": d["thumb"]}]
    d["Guid"] = [{"id": "imdb://" + e["imdb"]}, {"id": "tmdb://%d" % e["tmdb"]}]
    if details:
        d["Rating"] = [{"image": "themoviedb://image.rating", "value": d["audienceRating"], "type": "audience"}]
        d["Director"] = [person("director", *e["director"])]
        d["Writer"] = [person("writer", *e["writer"])]
        d["Role"] = [person("actor", pid, n, role=r, thumb=(j != 2)) for j, (pid, n, r) in enumerate(s["roles"])]
        d["Marker"] = [{"final": True, "id": 93000 + int(e["rk"]), "type": "credits",
                        "startTimeOffset": d["duration"] - 90000, "endTimeOffset": d["duration"],
                        "Attributes": {"id": 93000 + int(e["rk"]), "version": 4}}]
        d["Extras"] = {"size": 0}
        d["Related"] = {}
    else:
        d["Director"] = [{"tag": e["director"][1]}]
        d["Writer"] = [{"tag": e["writer"][1]}]
        d["Role"] = [{"tag": n} for _, n, _ in s["roles"][:3]]
    return d


# ---------------------------------------------------------------- write plex
dump("plex/sections.json", {"MediaContainer": {"size": 2, "allowSync": False, "title1": "Plex Library", "Directory": [
    {"allowSync": True, "art": "/:/resources/movie-fanart.jpg", "composite": "/library/sections/1/composite/1755000006",
     "filters": True, "refreshing": False, "thumb": "/:/resources/movie.png", "key": "1", "type": "movie",
     "title": "Movies", "agent": "tv.plex.agents.movie", "scanner": "Plex Movie", "language": "en-US",
     "uuid": MOVIE_UUID, "updatedAt": 1755000006, "createdAt": 1633828000, "scannedAt": 1756906053,
     "content": True, "directory": True, "contentChangedAt": 4811, "hidden": 0,
     "Location": [{"id": 1, "path": "/movies"}]},
    {"allowSync": True, "art": "/:/resources/show-fanart.jpg", "composite": "/library/sections/2/composite/1755000200",
     "filters": True, "refreshing": False, "thumb": "/:/resources/show.png", "key": "2", "type": "show",
     "title": "TV Shows", "agent": "tv.plex.agents.series", "scanner": "Plex TV Series", "language": "en-US",
     "uuid": SHOW_UUID, "updatedAt": 1755000200, "createdAt": 1633828100, "scannedAt": 1756906060,
     "content": True, "directory": True, "contentChangedAt": 4820, "hidden": 0,
     "Location": [{"id": 2, "path": "/tvshows"}]}]}})

# listing sorted by titleSort like Plex; collections interleaved
rows = [(m.get("titleSort", m["title"]), movie_listing(m, i)) for i, m in enumerate(MOVIES)]
rows += [(c["title"], collection_row(c)) for c in COLLECTIONS]
rows.sort(key=lambda r: r[0].lower())
dump("plex/section-1-type1.json", container(1, "Movies", MOVIE_UUID, [r for _, r in rows],
     art="/:/resources/movie-fanart.jpg", content="secondary", thumb="/:/resources/movie.png",
     title1="Movies", title2="All Movies", viewGroup="movie"))
for i, m in enumerate(MOVIES):
    dump("plex/metadata/%s.json" % m["rk"], container(1, "Movies", MOVIE_UUID, [movie_details(m, i)]))

dump("plex/section-2-type2.json", container(2, "TV Shows", SHOW_UUID, [show_obj(s, False) for s in SHOWS],
     art="/:/resources/show-fanart.jpg", content="secondary", thumb="/:/resources/show.png",
     title1="TV Shows", title2="All Shows", viewGroup="show"))
eps = []
k = 0
for s in SHOWS:
    dump("plex/metadata/%s.json" % s["rk"], container(2, "TV Shows", SHOW_UUID, [show_obj(s, True)]))
    for e in s["episodes"]:
        eps.append(episode_obj(s, e, k, False))
        dump("plex/metadata/%s.json" % e["rk"], container(2, "TV Shows", SHOW_UUID, [episode_obj(s, e, k, True)]))
        k += 1
dump("plex/section-2-type4.json", container(2, "TV Shows", SHOW_UUID, eps,
     art="/:/resources/show-fanart.jpg", content="secondary", nocache=True, thumb="/:/resources/show.png",
     title1="TV Shows", title2="All Shows", viewGroup="show"))

# ---------------------------------------------------------------- TMDb
REVIEWERS = [("Marguerite Okafor", "m_okafor", 8), ("filmfog", "filmfog", None),
             ("Desmond Pereira", "dpereira", 6), ("", "slowcinema_77", None)]


def review(rid, author, user, rating, content, created):
    return {"author": author or user, "author_details": {"name": author, "username": user,
            "avatar_path": ("/%s.jpg" % hexid("av" + user, 27)) if rating else None, "rating": rating},
            "content": content, "created_at": created, "id": rid, "updated_at": created.replace("T0", "T1"),
            "url": "https://www.themoviedb.org/review/" + rid}


def reviews(key, texts):
    res = []
    for j, t in enumerate(texts):
        a, u, r = REVIEWERS[j % len(REVIEWERS)]
        rid = hexid("rev:%s:%d" % (key, j))
        res.append(review(rid, a, u, r, t, "20%02d-0%d-1%dT0%d:11:12.345Z" % (15 + j * 2, 3 + j, j, 4 + j)))
    return {"page": 1, "results": res, "total_pages": 1 if res else 0, "total_results": len(res)}


MOVIE_REVIEWS = {
    810001: ["Solvang’s second feature is a slow burn in the best sense.\r\n\r\nThe island is a character in itself, and Hedda Marsh gives the kind of performance that is all in the eyes. The “maps” subplot could have been silly; it isn’t.\r\n\r\n**8/10**",
             "Beautiful to look at, but the third act leans on a twist you will see coming from the first lighthouse shot. Still worth it for the sound design alone."],
    810002: ["A gentle oddball comedy that outstays its welcome by about twenty minutes. The scarecrow steals every scene it’s in."],
    810003: ["Quietly devastating. I laughed, then I didn’t.\r\n\r\nJens Ørum’s Aksel is the best performance of the year 🙂"],
    810004: [],
    810005: ["An old-fashioned melodrama that earns its tears. Sarah Halloway is luminous.", "",
             "Saw it again on a restored print: the harbour windows sequence holds up."],
}


def tmdb_movie(m, tm_id, extra):
    g = {"Drama": 18, "Mystery": 9648, "Comedy": 35, "History": 36, "Romance": 10749,
         "Science Fiction": 878}
    coll = None
    if m["rk"] == "1001":
        coll = {"id": 990001, "name": "The Lantern Keeper Collection",
                "poster_path": "/" + hexid("cp1", 27) + ".jpg", "backdrop_path": None}
    d = {"adult": False, "backdrop_path": "/%s.jpg" % hexid("bd%d" % tm_id, 27),
         "belongs_to_collection": coll, "budget": extra.get("budget", 0),
         "genres": [{"id": g[x], "name": x} for x in m["genres"]],
         "homepage": extra.get("homepage", ""), "id": tm_id,
         "imdb_id": m["imdb"], "origin_country": extra["oc"], "original_language": extra["lang"],
         "original_title": m.get("originalTitle", m["title"]), "overview": extra["overview"],
         "popularity": extra["pop"], "poster_path": "/%s.jpg" % hexid("po%d" % tm_id, 27) if extra.get("poster", True) else None,
         "production_companies": [{"id": 40000 + tm_id % 1000, "logo_path": None, "name": m["studio"],
                                   "origin_country": extra["oc"][0]}],
         "production_countries": [{"iso_3166_1": c, "name": n} for c, n in extra["pc"]],
         "release_date": m["oaa"], "revenue": extra.get("revenue", 0), "runtime": m["dur"] // 60000,
         "spoken_languages": [{"english_name": "English", "iso_639_1": "en", "name": "English"}],
         "status": "Released", "tagline": extra.get("tagline", ""), "title": m["title"],
         "video": False, "vote_average": extra["va"], "vote_count": extra["vc"],
         "reviews": reviews(tm_id, MOVIE_REVIEWS.get(tm_id, []))}
    return d


MOVIE_TMDB = {
    "1001": dict(oc=["NO"], lang="no", pc=[("NO", "Norway"), ("GB", "United Kingdom")], pop=23.418, va=7.612, vc=1841,
                 budget=14500000, revenue=2300000000, homepage="https://example.org/lantern-keeper",
                 overview="A widowed lighthouse keeper shelters a shipwrecked mapmaker whose charts describe a coast that should not exist.",
                 tagline="Some lights are meant to be followed."),
    "1002": dict(oc=["US"], lang="en", pc=[("US", "United States of America")], pop=4.2, va=6.8, vc=212,
                 overview="A clockmaker, an orchard and a scarecrow that keeps perfect time.", tagline=""),
    "1003": dict(oc=["DK"], lang="da", pc=[("DK", "Denmark")], pop=8.95, va=7.3, vc=530, budget=3100000,
                 overview="An old man spends his last winter returning everything he ever borrowed.",
                 tagline="Alt lånt skal hjem."),
    "1004": dict(oc=["PT"], lang="pt", pc=[("PT", "Portugal")], pop=2.113, va=0, vc=0, poster=False,
                 overview="Three teenagers and a reel of film from the summer of 1977."),
    "1005": dict(oc=["US"], lang="en", pc=[("US", "United States of America")], pop=11.07, va=7.4, vc=988,
                 budget=9000000, revenue=41200000,
                 overview="A glassblower's apprentice finds messages hidden in her master's harbour windows.",
                 tagline="Look through it, not at it."),
}
for m in MOVIES:
    if m["rk"] in MOVIE_TMDB:
        dump("cache/tmdb/movie/%d.json" % m["tmdb"], tmdb_movie(m, m["tmdb"], MOVIE_TMDB[m["rk"]]), pretty=False)
# the cartographer's TMDb id is known to Plex but TMDb has no such movie: cached "not found"
dump("cache/tmdb/movie/810006.json", None, pretty=False)
# the legacy-agent movie has only an IMDb id: found through /3/find
m5 = MOVIES[4]
dump("cache/tmdb/find/imdb_id/tt9100005.json", {"movie_results": [{
    "adult": False, "backdrop_path": "/%s.jpg" % hexid("bd810005", 27), "id": 810005, "title": m5["title"],
    "original_title": m5["title"], "overview": MOVIE_TMDB["1005"]["overview"],
    "poster_path": "/%s.jpg" % hexid("po810005", 27), "media_type": "movie", "original_language": "en",
    "genre_ids": [10749, 18], "popularity": 11.07, "release_date": m5["oaa"], "video": False,
    "vote_average": 7.4, "vote_count": 988}], "person_results": [], "tv_results": [],
    "tv_episode_results": [], "tv_season_results": []}, pretty=False)

TV_SEASONS = {
    920001: [dict(n=1, name="Season 1", air="2019-10-06"), dict(n=2, name="Season 2", air="2021-01-17")],
    920002: [dict(n=1, name="Series 1", air="2022-03-02"), dict(n=2, name="Series 2", air="2023-04-05")],
}
SHOW_EXTRA = {
    920001: dict(overview="In the 1890s, a customs inspector follows the salt caravans through a kingdom where every grain is taxed.",
                 tagline="Every grain is counted.", status="Ended", last="2021-01-24", pop=41.5532, va=8.1, vc=377,
                 networks=[{"id": 5501, "logo_path": None, "name": "Tidewater One", "origin_country": "GB"}],
                 reviews=["Sweeping, patient television.\r\n\r\nSeason 2 loses the thread a little, but Yasmine Haddad’s “Inspector Benali” is one of the great TV detectives."]),
    920002: dict(overview="A Yorkshire tea room receives a royal warrant and the paperwork that comes with it.",
                 tagline="", status="Returning Series", last="2023-04-05", pop=12.04, va=7.45, vc=96,
                 networks=[{"id": 5502, "logo_path": "/%s.png" % hexid("netlogo", 27), "name": "Greyfriars", "origin_country": "GB"}],
                 reviews=[]),
}
for s in SHOWS:
    x = SHOW_EXTRA[s["tmdb"]]
    seas = TV_SEASONS[s["tmdb"]]
    counts = {}
    for e in s["episodes"]:
        counts[e["season"]] = counts.get(e["season"], 0) + 1
    last_ep = s["episodes"][-1]
    tv = {"adult": False, "backdrop_path": "/%s.jpg" % hexid("tvbd%d" % s["tmdb"], 27),
          "created_by": [{"id": 880000 + s["tmdb"] % 100, "credit_id": hexid("cb%d" % s["tmdb"]),
                          "name": s["episodes"][0]["writer"][1], "original_name": s["episodes"][0]["writer"][1],
                          "gender": 1, "profile_path": None}],
          "episode_run_time": [], "first_air_date": seas[0]["air"],
          "genres": [{"id": 18, "name": "Drama"}, {"id": 10759, "name": "Action & Adventure"}] if s["tmdb"] == 920001
          else [{"id": 35, "name": "Comedy"}, {"id": 10751, "name": "Family"}],
          "homepage": "", "id": s["tmdb"], "in_production": x["status"] != "Ended", "languages": ["en"],
          "last_air_date": x["last"],
          "last_episode_to_air": {"id": last_ep["tmdb"], "name": last_ep["title"], "overview": last_ep["summary"],
                                  "vote_average": 7.1, "vote_count": 12, "air_date": last_ep["oaa"],
                                  "episode_number": last_ep["index"], "episode_type": "finale" if x["status"] == "Ended" else "standard",
                                  "production_code": "", "runtime": 48, "season_number": len(seas), "show_id": s["tmdb"],
                                  "still_path": None},
          "name": s["title"], "next_episode_to_air": None, "networks": x["networks"],
          "number_of_episodes": len(s["episodes"]), "number_of_seasons": len(seas),
          "origin_country": ["GB"], "original_language": "en", "original_name": s["title"],
          "overview": x["overview"], "popularity": x["pop"],
          "poster_path": "/%s.jpg" % hexid("tvpo%d" % s["tmdb"], 27),
          "production_companies": [{"id": 60000 + s["tmdb"] % 100, "logo_path": None, "name": s["studio"], "origin_country": "GB"}],
          "production_countries": [{"iso_3166_1": "GB", "name": "United Kingdom"}],
          "seasons": [{"air_date": se["air"], "episode_count": counts.get(j, 0), "id": 500000 + s["tmdb"] % 100 * 10 + se["n"],
                       "name": se["name"], "overview": "", "poster_path": "/%s.jpg" % hexid("sp%d%d" % (s["tmdb"], se["n"]), 27),
                       "season_number": se["n"], "vote_average": 7.5} for j, se in enumerate(seas)],
          "spoken_languages": [{"english_name": "English", "iso_639_1": "en", "name": "English"}],
          "status": x["status"], "tagline": x["tagline"], "type": "Scripted",
          "vote_average": x["va"], "vote_count": x["vc"], "reviews": reviews(s["tmdb"], x["reviews"])}
    dump("cache/tmdb/tv/%d.json" % s["tmdb"], tv, pretty=False)
    for j, se in enumerate(seas):
        epl = []
        for e in s["episodes"]:
            if e["season"] != j:
                continue
            epl.append({"air_date": e["oaa"], "episode_number": e["index"], "episode_type": "standard",
                        "id": e["tmdb"], "name": e["title"], "overview": e["summary"],
                        "production_code": "%s%d%02d" % ("SR" if s["tmdb"] == 920001 else "KC", se["n"], e["index"]),
                        "runtime": 48, "season_number": se["n"], "show_id": s["tmdb"],
                        "still_path": "/%s.jpg" % hexid("st%d" % e["tmdb"], 27) if e["index"] != 2 else None,
                        "vote_average": 7.2 + e["index"] / 10, "vote_count": 10 + e["index"],
                        "crew": [{"job": "Director", "department": "Directing", "credit_id": hexid("cd%d" % e["tmdb"]),
                                  "adult": False, "gender": 1, "id": 870000 + e["director"][0] % 1000,
                                  "known_for_department": "Directing", "name": e["director"][1],
                                  "original_name": e["director"][1], "popularity": 1.2, "profile_path": None},
                                 {"job": "Writer", "department": "Writing", "credit_id": hexid("cw%d" % e["tmdb"]),
                                  "adult": False, "gender": 2, "id": 870000 + e["writer"][0] % 1000,
                                  "known_for_department": "Writing", "name": e["writer"][1],
                                  "original_name": e["writer"][1], "popularity": 0.84,
                                  "profile_path": "/%s.jpg" % hexid("pw%d" % e["writer"][0], 27)}],
                        "guest_stars": [{"character": "Customs Clerk" if s["tmdb"] == 920001 else "Health Inspector",
                                         "credit_id": hexid("gs%d" % e["tmdb"]), "order": 500, "adult": False,
                                         "gender": 2, "id": 860000 + e["tmdb"] % 1000,
                                         "known_for_department": "Acting",
                                         "name": "Oskar Lindahl" if j == 0 else "Zainab Idowu",
                                         "original_name": "Oskar Lindahl" if j == 0 else "Zainab Idowu",
                                         "popularity": 3.3, "profile_path": None}]})
        season = {"_id": hexid("season%d%d" % (s["tmdb"], se["n"])), "air_date": se["air"], "episodes": epl,
                  "name": se["name"], "overview": "", "id": 500000 + s["tmdb"] % 100 * 10 + se["n"],
                  "poster_path": "/%s.jpg" % hexid("sp%d%d" % (s["tmdb"], se["n"]), 27),
                  "season_number": se["n"], "vote_average": 7.5}
        dump("cache/tmdb/tv/%d/season/%d.json" % (s["tmdb"], se["n"]), season, pretty=False)

# ---------------------------------------------------------------- IMDb (imdbapi.dev)


def img(seed, w=1000, h=1500):
    return {"url": "https://m.media-amazon.com/images/M/MV5B%s@._V1_.jpg" % hexid("imdb" + seed, 40), "width": w, "height": h}


def nm(pid, name, profs=None, image=True):
    d = {"id": "nm%07d" % (pid % 10000000), "displayName": name}
    if image:
        d["primaryImage"] = img(name, 400, 600)
    if profs:
        d["primaryProfessions"] = profs
    return d


IMDB_RATING = {"tt9100001": (7.9, 48211, 71), "tt9100002": (6.7, 8120, None), "tt9100003": (7.4, 15003, 80),
               "tt9100004": None, "tt9100005": (7.6, 22410, 64), "tt9100006": (6.2, 3011, None)}
COUNTRY = {"Norway": "NO", "United Kingdom": "GB", "United States of America": "US", "Denmark": "DK",
           "Portugal": "PT", "Canada": "CA", "Japan": "JP"}
for m in MOVIES:
    r = IMDB_RATING[m["imdb"]]
    t = {"id": m["imdb"], "type": "movie", "primaryTitle": m["title"]}
    if "originalTitle" in m:
        t["originalTitle"] = m["originalTitle"]
    t["primaryImage"] = img(m["imdb"])
    t.update({"startYear": m["year"], "runtimeSeconds": m["dur"] // 1000 // 60 * 60, "genres": m["genres"]})
    if r:
        t["rating"] = {"aggregateRating": r[0], "voteCount": r[1]}
        if r[2]:
            t["metacritic"] = {"score": r[2], "reviewCount": 11 + r[2] % 20}
    t["plot"] = m["summary"].split(" — ")[0].rstrip(".") + "."
    t["directors"] = [nm(pid, n, ["director", "writer"]) for pid, n in m["directors"]]
    t["writers"] = [nm(pid, n, image=(k == 0)) for k, (pid, n) in enumerate(m["writers"])]
    t["stars"] = [nm(pid, n, ["actor"] if k % 2 == 0 else ["actress"]) for k, (pid, n, _) in enumerate(m["roles"][:3])]
    t["originCountries"] = [{"code": COUNTRY[c], "name": c.replace(" of America", "")} for c in m["countries"]]
    t["spokenLanguages"] = [{"code": "eng", "name": "English"}]
    t["interests"] = [{"id": "in%07d" % (GENRE_IDS[g] + 1), "name": g} for g in m["genres"]]
    dump("cache/imdb/%s.json" % m["imdb"], t, pretty=False)
for s in SHOWS:
    t = {"id": s["imdb"], "type": "tvSeries", "primaryTitle": s["title"], "primaryImage": img(s["imdb"]),
         "startYear": s["year"]}
    if s["tmdb"] == 920001:
        t["endYear"] = 2021
    t.update({"runtimeSeconds": 2880, "genres": s["genres"],
              "rating": {"aggregateRating": s["arating"], "voteCount": 5400 + s["tmdb"] % 100},
              "plot": s["summary"],
              "stars": [nm(pid, n, ["actress"]) for pid, n, _ in s["roles"][:3]],
              "originCountries": [{"code": "GB", "name": "United Kingdom"}],
              "spokenLanguages": [{"code": "eng", "name": "English"}]})
    dump("cache/imdb/%s.json" % s["imdb"], t, pretty=False)
    for k, e in enumerate(s["episodes"]):
        if e["imdb"] == "tt9200303":
            # not on imdbapi.dev: the cache remembers "not found"
            dump("cache/imdb/%s.json" % e["imdb"], None, pretty=False)
            continue
        t = {"id": e["imdb"], "type": "tvEpisode", "primaryTitle": e["title"], "primaryImage": img(e["imdb"], 1920, 1080),
             "startYear": int(e["oaa"][:4]), "runtimeSeconds": 2880 + k * 60, "genres": s["genres"]}
        if k % 3 != 2:
            t["rating"] = {"aggregateRating": 7.0 + k / 10, "voteCount": 300 + k * 17}
        t["plot"] = e["summary"]
        t["directors"] = [nm(*e["director"])]
        t["writers"] = [nm(*e["writer"], image=False)]
        t["stars"] = [nm(pid, n) for pid, n, _ in s["roles"][:2]]
        dump("cache/imdb/%s.json" % e["imdb"], t, pretty=False)
