/* fuzz_point.c: libFuzzer target: the point builders: meta-enrich's enrich_point and qdrant-upsert's PointStruct text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "../../enrich/enrich.h"
#include "../../upsert/upsert.h"
#include "fuzz.h"
#include "jsonutil.h"
#include "ndjson_read.h"
#include "record.h"

/*
 * Input: one mode byte, then NUL-separated JSON objects.
 * Mode bit 2 clear: the parts are a Plex item, its TMDb answer, its IMDb
 * answer and its show (each may be absent or bad, then NULL); bits 0-1
 * pick the TMDb kind. The item is built into a point as meta-enrich does,
 * and the point is taken through qdrant-upsert's side.
 * Mode bit 2 set: part 0 is a point as qdrant-upsert reads it on stdin.
 * qdrant-upsert's side: the content hash and the PointStruct text, which
 * it writes by hand and which must always be one valid JSON object.
 */
static struct json_object *
part_json(const uint8_t *data, size_t size, size_t n)
{
	struct ndjson_error err;
	const char *p;
	size_t len;

	p = fuzz_part(data, size, n, &len);
	return len > 0 ? ndjson_parse_string(p, len, &err) : NULL;
}

static void
upsert_side(struct json_object *point, int mode)
{
	struct upsert_config cfg;
	struct upsert_point_in in;
	struct ndjson_error err;
	struct json_object *back;
	struct buf b = BUF_INIT;
	char hash[65], why[256];

	if (record_check_point(point) != NULL)
		return;		/* qdrant-upsert rejects it before this */
	memset(&cfg, 0, sizeof(cfg));
	cfg.dense = (mode & 1) ? DENSE_NONE : DENSE_SERVER;
	cfg.sparse = (mode & 2) ? SPARSE_SERVER : SPARSE_LOCAL;
	upsert_content_hash(point, "fuzz", hash);
	memset(&in, 0, sizeof(in));
	in.point = point;
	in.hash = hash;
	if (upsert_point_text(&cfg, fuzz_bm25(), &in, &b, why, sizeof(why)) == 0) {
		back = ndjson_parse_string(b.data, b.len, &err);
		if (back == NULL) {
			fprintf(stderr, "fuzz: PointStruct text is not JSON (%s): %.*s\n",
			    err.reason, (int)(b.len > 2000 ? 2000 : b.len), b.data);
			abort();
		}
		json_object_put(back);
	} else if (why[0] == '\0')
		abort();	/* a refusal always says why */
	buf_free(&b);
}

static int
indexed(const char *t)
{
	return t != NULL && (strcmp(t, "movie") == 0 ||
	    strcmp(t, "episode") == 0 || strcmp(t, "show") == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum tmdb_kind kinds[] = { TK_NONE, TK_MOVIE, TK_SHOW, TK_EPISODE };
	struct enrich_item it;
	struct json_object *plex, *show, *point;
	char *text;
	int mode;

	if (size < 1)
		return 0;
	mode = data[0];
	data++, size--;
	if (mode & 4) {
		if ((point = part_json(data, size, 0)) != NULL)
			upsert_side(point, mode >> 3);
		json_object_put(point);
		return 0;
	}
	/* enrich_batch only builds points of these types with a ratingKey */
	plex = part_json(data, size, 0);
	if (plex == NULL || !indexed(jget_str(plex, "type")) ||
	    jget_str(plex, "ratingKey") == NULL) {
		json_object_put(plex);
		return 0;
	}
	memset(&it, 0, sizeof(it));
	it.plex = plex;
	it.type = jget_str(plex, "type");
	it.tmdb_season = -1;
	enrich_ext_ids(plex, &it.ids);
	it.has_season = jget_int(plex, "parentIndex", &it.season);
	it.has_episode = jget_int(plex, "index", &it.episode);
	it.tmdb = part_json(data, size, 1);
	it.tmdb_kind = it.tmdb != NULL ? kinds[mode & 3] : TK_NONE;
	it.imdb = part_json(data, size, 2);
	show = part_json(data, size, 3);
	if (strcmp(it.type, "episode") == 0 && show != NULL) {
		it.show = show;
		enrich_ext_ids(show, &it.show_ids);
	}
	text = enrich_embed_text(&it);
	if (text == NULL)
		abort();
	free(text);
	point = enrich_point(&it, "BAAI/bge-small-en-v1.5", "Qdrant/bm25");
	/* what meta-enrich writes, qdrant-upsert must accept */
	if (record_check_point(point) != NULL)
		abort();
	upsert_side(point, mode >> 3);
	json_object_put(point);
	json_object_put(show);
	json_object_put(it.tmdb);
	json_object_put(it.imdb);
	json_object_put(plex);
	return 0;
}
