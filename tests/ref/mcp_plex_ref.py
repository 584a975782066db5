#!/usr/bin/env python3
"""mcp_plex_ref.py: reference BM25 vectors (fastembed Qdrant/bm25) and mcp-plex slugs, for tests.

Written for plexpipe from the algorithm described in the project's notes
(qdrant-api.md section 9 and mcp-plex's slug rules); it shares no code with
fastembed or mcp-plex. Python's own re, str.lower() and unicodedata are the
point: they are what the reference runs. Snowball English comes from Debian's
python3-snowballstemmer (Snowball 2.2, the same stemmer as libstemmer 2.2).

The 179 stopwords are read from the project's own copy, the table in
upsert/bm25.c, so the reference and the C code use one list (a unit test
checks that list against the published one).

Usage (each input line is one JSON string; one output line per input line):
    mcp_plex_ref.py bm25 [FILE]     {"indices":[...],"values":[...]} in first-occurrence order
    mcp_plex_ref.py query [FILE]    the query vector: distinct ids, values 1
    mcp_plex_ref.py tokens [FILE]   the tokens before stopwords and stemming, as a JSON array
    mcp_plex_ref.py slug [FILE]     the title slug as a JSON string, or null when there is none
    mcp_plex_ref.py point-text [FILE]
        input lines are data objects (payload.data, mcp-plex's AggregatedItem);
        output the text mcp-plex's _build_point_text embeds, as a JSON string
"""

import json
import os
import re
import struct
import sys
import unicodedata

K = 1.2
B = 0.75
AVG_LEN = 256.0
MAX_TOKEN = 40

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def load_stopwords(path=os.path.join(TOP, "upsert", "bm25.c")):
    """The string literals of the upsert_bm25_stopwords[] table in bm25.c."""
    with open(path, encoding="utf-8") as f:
        src = f.read()
    m = re.search(r"upsert_bm25_stopwords\[\]\s*=\s*\{(.*?)\};", src, re.S)
    if m is None:
        sys.exit("mcp_plex_ref.py: no upsert_bm25_stopwords table in " + path)
    return set(re.findall(r'"([^"]*)"', m.group(1)))


def murmur3_32(data, seed=0):
    """MurmurHash3 x86 32-bit of bytes, as an unsigned int."""
    c1, c2, mask = 0xCC9E2D51, 0x1B873593, 0xFFFFFFFF
    h = seed & mask
    n = len(data)
    nblocks = n // 4
    for i in range(nblocks):
        k = struct.unpack_from("<I", data, i * 4)[0]
        k = (k * c1) & mask
        k = ((k << 15) | (k >> 17)) & mask
        k = (k * c2) & mask
        h ^= k
        h = ((h << 13) | (h >> 19)) & mask
        h = (h * 5 + 0xE6546B64) & mask
    tail = data[nblocks * 4:]
    k = 0
    if len(tail) >= 3:
        k ^= tail[2] << 16
    if len(tail) >= 2:
        k ^= tail[1] << 8
    if len(tail) >= 1:
        k ^= tail[0]
        k = (k * c1) & mask
        k = ((k << 15) | (k >> 17)) & mask
        k = (k * c2) & mask
        h ^= k
    h ^= n
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & mask
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & mask
    h ^= h >> 16
    return h


def token_id(stem):
    """abs() of the hash read as a signed int32."""
    h = murmur3_32(stem.encode("utf-8"))
    if h >= 0x80000000:
        h -= 0x100000000
    return abs(h)


def tokens(text):
    """Runs of word characters after fastembed's two substitutions and str.lower()."""
    text = re.sub(r"[^\w\s]", " ", text, flags=re.UNICODE)
    t = text.lower()
    t = re.sub(r"[^\w]", " ", t)
    t = re.sub(r"\s+", " ", t).strip()
    return t.split()


class Bm25:
    def __init__(self):
        import snowballstemmer

        self.stemmer = snowballstemmer.stemmer("english")
        self.stopwords = load_stopwords()

    def stems(self, text):
        out = []
        for tok in tokens(text):
            low = tok.lower()
            if len(tok) == 1 and unicodedata.category(tok).startswith("P"):
                continue
            if low in self.stopwords:
                continue
            if len(tok) > MAX_TOKEN:
                continue
            stem = self.stemmer.stemWord(low)
            if stem:
                out.append(stem)
        return out

    def doc(self, text):
        stems = self.stems(text)
        doc_len = len(stems)
        counts = {}
        for s in stems:
            counts[s] = counts.get(s, 0) + 1
        indices, values = [], []
        for s, tf in counts.items():
            indices.append(token_id(s))
            values.append(tf * (K + 1) / (tf + K * (1 - B + B * doc_len / AVG_LEN)))
        return indices, values

    def query(self, text):
        ids = []
        for s in self.stems(text):
            i = token_id(s)
            if i not in ids:
                ids.append(i)
        return ids, [1.0] * len(ids)


def float32_text(v):
    """The shortest %g text that reads back as the same float32."""
    f = struct.unpack("<f", struct.pack("<f", v))[0]
    for p in range(1, 10):
        s = "%.*g" % (p, f)
        if struct.unpack("<f", struct.pack("<f", float(s)))[0] == f:
            return s
    return "%.9g" % f


def sparse_json(indices, values):
    return '{"indices":[%s],"values":[%s]}' % (
        ",".join(str(i) for i in indices),
        ",".join(float32_text(v) for v in values),
    )


_LEADING_ARTICLE = re.compile(r"^(the|a|an)\s+", re.IGNORECASE)
_NON_SLUG = re.compile(r"[^a-z0-9]+")


def strip_leading_article(text):
    if not text:
        return text
    stripped = _LEADING_ARTICLE.sub("", text).strip()
    return stripped or text


def slugify(value):
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    text = unicodedata.normalize("NFKD", text)
    text = text.encode("ascii", "ignore").decode("ascii").lower()
    return _NON_SLUG.sub("-", text).strip("-") or None


def title_slug(title):
    return slugify(strip_leading_article(title))


def tmdb_kind(tmdb):
    """Which of mcp-plex's TMDb models a data.tmdb object is."""
    if tmdb is None:
        return None
    if "title" in tmdb:
        return "movie"
    if "seasons" in tmdb or "first_air_date" in tmdb:
        return "show"
    return "episode"


def primary_title(plex):
    title = plex.get("title")
    if plex.get("type") == "episode":
        bits = []
        if plex.get("show_title"):
            bits.append(plex["show_title"])
        se = ""
        if plex.get("season_number") is not None:
            se += "S%02d" % plex["season_number"]
        if plex.get("episode_number") is not None:
            se += "E%02d" % plex["episode_number"]
        if se:
            bits.append(se)
        if plex.get("title"):
            bits.append(plex["title"])
        if bits:
            title = " - ".join(bits)
    return title


def point_text(data):
    """_build_point_text: the parts, empty ones dropped, joined by newlines."""
    plex, imdb, tmdb = data["plex"], data.get("imdb"), data.get("tmdb")
    kind = tmdb_kind(tmdb)
    parts = [
        primary_title(plex),
        plex.get("summary") or "",
        tmdb.get("overview") if tmdb else "",
        imdb.get("plot") if imdb else "",
    ]
    for key, prefix in (("directors", "Directed by "), ("writers", "Written by "),
                        ("actors", "Starring ")):
        names = ", ".join(p["tag"] for p in plex.get(key, []) if p.get("tag"))
        if names:
            parts.append(prefix + names)
    if plex.get("tagline"):
        parts.append(plex["tagline"])
    if kind in ("movie", "show") and tmdb.get("tagline"):
        parts.append(tmdb["tagline"])
    if kind in ("movie", "show"):
        parts.extend(r.get("content", "") for r in tmdb.get("reviews", []))
    return "\n".join(p for p in parts if p)


def main(argv):
    if len(argv) not in (2, 3) or argv[1] not in ("bm25", "query", "tokens", "slug",
                                                  "point-text"):
        sys.stderr.write(__doc__)
        return 2
    src = open(argv[2], encoding="utf-8") if len(argv) == 3 else sys.stdin
    bm = Bm25() if argv[1] in ("bm25", "query") else None
    out = sys.stdout
    for n, line in enumerate(src, 1):
        if not line.strip():
            continue
        try:
            text = json.loads(line)
        except ValueError as e:
            sys.exit("mcp_plex_ref.py: line %d: not a JSON string: %s" % (n, e))
        if argv[1] == "point-text":
            out.write(json.dumps(point_text(text), ensure_ascii=False) + "\n")
            continue
        if not isinstance(text, str):
            sys.exit("mcp_plex_ref.py: line %d: not a JSON string" % n)
        if argv[1] == "bm25":
            out.write(sparse_json(*bm.doc(text)) + "\n")
        elif argv[1] == "query":
            out.write(sparse_json(*bm.query(text)) + "\n")
        elif argv[1] == "tokens":
            out.write(json.dumps(tokens(text), ensure_ascii=False) + "\n")
        else:
            out.write(json.dumps(title_slug(text), ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
