#!/usr/bin/env python3
"""upsert-gen-points.py: synthetic `points` records in the DESIGN.md 3 point format, for qdrant-upsert tests and the benchmark."""

import argparse
import json
import random

WORDS = ("harbor lantern orchard glacier meadow falcon quarry ember tundra canyon "
         "violin comet saffron beacon thimble prairie marble willow cobalt nectar "
         "raven summit lagoon cinder fable ivory jasper kettle larch mosaic").split()
FIRST = "Ada Bram Cora Dov Elsa Finn Gita Hugo Iris Jon Kaia Lev Mira Nils Oona Per".split()
LAST = "Arden Brook Calder Dunmore Ellery Fenwick Garrow Hale Iverson Jessop".split()
GENRES = "Drama Comedy Thriller Mystery Western Animation Documentary Romance".split()


def slug(s):
    out, dash = [], False
    for ch in s.lower():
        if ch.isalnum() and ch.isascii():
            out.append(ch)
            dash = False
        elif not dash:
            out.append("-")
            dash = True
    return "".join(out).strip("-")


def person(rng, i):
    return {"id": 1000 + i, "tag": "%s %s" % (rng.choice(FIRST), rng.choice(LAST)), "thumb": None, "role": None}


def point(rng, n, kind, dense_model, sparse_model, first_key, ratings=False):
    rk = str(first_key + n)
    title = " ".join(w.capitalize() for w in rng.sample(WORDS, 3)) + " %d" % n
    summary = "A story of %s and %s near the %s, number %d." % tuple(rng.sample(WORDS, 3) + [n])
    actors = [person(rng, n * 3 + j) for j in range(3)]
    directors = [person(rng, 90000 + n)]
    genres = rng.sample(GENRES, 2)
    year = 1950 + n % 70
    added = 1700000000 + n * 60
    plex = {"rating_key": rk, "guid": "plex://%s/%s" % (kind, rk), "type": kind, "title": title,
            "show_title": "Show %d" % (n // 10) if kind == "episode" else None,
            "season_title": "Season 1" if kind == "episode" else None,
            "season_number": 1 if kind == "episode" else None,
            "episode_number": n % 10 + 1 if kind == "episode" else None,
            "summary": summary, "year": year, "added_at": "2023-11-14T22:13:20Z",
            "guids": [{"id": "imdb://tt%07d" % (100000 + n)}], "thumb": "/library/metadata/%s/thumb" % rk,
            "art": None, "tagline": None, "content_rating": "PG", "directors": directors, "writers": [],
            "actors": actors, "genres": genres, "collections": []}
    tmdb = None
    if ratings:
        # floats as Python writes them: 7.0 (jq writes 7), 1e+22, 1.5e-07
        tmdb = {"id": 500 + n, "vote_average": float(n % 10), "vote_count": n,
                "popularity": 1e22 if n % 3 == 0 else 1.5e-07 * (n + 1), "runtime": 90.0 + n % 7 * 0.5}
    payload = {"data": {"plex": plex, "imdb": None, "tmdb": tmdb}, "title": title, "type": kind,
               "title_slug": slug(title)}
    if kind == "episode":
        payload.update({"show_title": plex["show_title"], "show_title_slug": slug(plex["show_title"]),
                        "season_number": 1, "episode_number": plex["episode_number"]})
    payload.update({"actors": [a["tag"] for a in actors], "directors": [d["tag"] for d in directors],
                    "genres": genres, "summary": summary, "year": year, "added_at": added})
    text = "\n".join([title, summary, "Directed by " + directors[0]["tag"],
                      "Starring " + ", ".join(a["tag"] for a in actors)])
    vec = {}
    if dense_model:
        vec["dense"] = {"text": text, "model": dense_model}
    if sparse_model:
        vec["sparse"] = {"text": text, "model": sparse_model}
    return {"id": int(rk), "vector": vec, "payload": payload}


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--movies", type=int, default=50)
    ap.add_argument("--episodes", type=int, default=0)
    ap.add_argument("--batch", type=int, default=64, help="points per points record")
    ap.add_argument("--seed", default="1")
    ap.add_argument("--first-key", type=int, default=10000)
    ap.add_argument("--dense-model", default="BAAI/bge-small-en-v1.5")
    ap.add_argument("--sparse-model", default="Qdrant/bm25")
    ap.add_argument("--no-end", action="store_true", help="truncated stream: no end record")
    ap.add_argument("--incomplete", action="store_true", help="end record with complete false")
    ap.add_argument("--end-keys", help="rating keys for the end record: 'all' (default) or a count N (the first N)")
    ap.add_argument("--bare", action="store_true", help="bare points, one per line, no envelopes")
    ap.add_argument("--ratings", action="store_true", help="TMDb data with floats such as 7.0 and 1e+22")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    pts = [point(rng, i, "movie", a.dense_model, a.sparse_model, a.first_key, a.ratings) for i in range(a.movies)]
    pts += [point(rng, a.movies + i, "episode", a.dense_model, a.sparse_model, a.first_key, a.ratings)
            for i in range(a.episodes)]
    w = lambda o: print(json.dumps(o, separators=(",", ":")))
    if a.bare:
        for p in pts:
            w(p)
    else:
        for seq, i in enumerate(range(0, len(pts), a.batch)):
            w({"kind": "points", "v": 1, "seq": seq, "points": pts[i:i + a.batch]})
    if a.no_end:
        return
    keys = [p["payload"]["data"]["plex"]["rating_key"] for p in pts]
    if a.end_keys and a.end_keys != "all":
        keys = keys[:int(a.end_keys)]
    sections = [{"key": "1", "type": "movie", "total": a.movies}]
    if a.episodes:
        sections.append({"key": "2", "type": "show", "total": a.episodes})
    w({"kind": "end", "v": 1, "complete": not a.incomplete, "items": len(pts), "sections": sections,
       "rating_keys": keys, "stats": {}})


if __name__ == "__main__":
    main()
