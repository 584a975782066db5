/* batch.c: one batch of Plex items (and their shows) enriched into one points record. */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "buf.h"
#include "enrich.h"
#include "jsonutil.h"
#include "log.h"
#include "ndjson_read.h"
#include "ndjson_write.h"
#include "record.h"
#include "xalloc.h"

/* Item types that become points; collections, tracks and the like do not. */
static int
indexed_type(const char *t)
{
	return t != NULL && (strcmp(t, "movie") == 0 ||
	    strcmp(t, "episode") == 0 || strcmp(t, "show") == 0);
}

static void
item_init(struct enrich_item *it, struct json_object *plex,
    struct json_object *shows)
{
	const char	*rk;

	memset(it, 0, sizeof(*it));
	it->plex = plex;
	it->type = jget_str(plex, "type");
	it->tmdb_season = -1;
	enrich_ext_ids(plex, &it->ids);
	if (strcmp(it->type, "episode") == 0) {
		it->has_season = jget_int(plex, "parentIndex", &it->season);
		it->has_episode = jget_int(plex, "index", &it->episode);
		rk = jget_str(plex, "grandparentRatingKey");
		if (rk != NULL && shows != NULL)
			it->show = jget_obj(shows, rk);
		if (it->show != NULL)
			enrich_ext_ids(it->show, &it->show_ids);
	}
}

/*
 * A point that lacks data because a lookup failed with nothing cached
 * (not because the title is unknown) says so in a top-level member,
 * "degraded":["imdb","tmdb"] (sorted, only the services that failed):
 * qdrant-upsert takes it off and does not let such a point replace a
 * stored one, which may have that data.
 */
static void
mark_degraded(struct enrich_ctx *ctx, const struct enrich_item *it,
    struct json_object *p)
{
	struct json_object	*a;

	if (!((it->imdb_flags | it->tmdb_flags) & ENRICH_FAILED))
		return;
	a = json_object_new_array();
	if (it->imdb_flags & ENRICH_FAILED) {
		json_object_array_add(a, json_object_new_string("imdb"));
		ctx->st.v[ST_IMDB_DEGRADED]++;
	}
	if (it->tmdb_flags & ENRICH_FAILED) {
		json_object_array_add(a, json_object_new_string("tmdb"));
		ctx->st.v[ST_TMDB_DEGRADED]++;
	}
	json_object_object_add(p, "degraded", a);
	ctx->st.v[ST_DEGRADED]++;
}

int
enrich_batch(struct enrich_ctx *ctx, int64_t seq, const char *job, size_t len,
    struct buf *out)
{
	struct ndjson_error	 err;
	struct json_object	*j, *arr, *shows, *points, *rec, *p;
	struct enrich_item	*items;
	struct imdb_batch	*ib;
	struct tmdb_batch	*tb;
	const char		*line;
	size_t			 i, n, m = 0, ll;

	if ((j = ndjson_parse_string(job, len, &err)) == NULL) {
		log_error("worker: bad job: %s", err.reason);
		return -1;
	}
	arr = jget_arr(j, "items");
	shows = jget_obj(j, "shows");
	n = arr != NULL ? json_object_array_length(arr) : 0;
	items = xcalloc(n + 1, sizeof(*items));
	for (i = 0; i < n; i++) {
		p = json_object_array_get_idx(arr, i);
		if (!indexed_type(jget_str(p, "type")) ||
		    jget_str(p, "ratingKey") == NULL) {
			ctx->st.v[ST_SKIPPED]++;
			continue;
		}
		item_init(&items[m++], p, shows);
	}
	/* IMDb and TMDb lookups run together, each chained as answers come */
	ib = enrich_imdb_start(ctx, items, m);
	tb = enrich_tmdb_start(ctx, items, m);
	enrich_run(ctx);
	enrich_imdb_finish(ib);
	enrich_tmdb_finish(tb);
	points = json_object_new_array();
	for (i = 0; i < m; i++) {
		p = enrich_point(&items[i], ctx->o->dense_model,
		    ctx->o->sparse_model);
		mark_degraded(ctx, &items[i], p);
		json_object_array_add(points, p);
		ctx->st.v[ST_ITEMS]++;
		if (items[i].tmdb != NULL)
			ctx->st.v[ST_WITH_TMDB]++;
		if (items[i].imdb != NULL)
			ctx->st.v[ST_WITH_IMDB]++;
		if (items[i].tmdb_flags & ENRICH_STALE)
			ctx->st.v[ST_TMDB_STALE]++;
		if (items[i].imdb_flags & ENRICH_STALE)
			ctx->st.v[ST_IMDB_STALE]++;
		if ((items[i].tmdb_flags | items[i].imdb_flags) & ENRICH_STALE)
			ctx->st.v[ST_STALE_SERVED]++;
		json_object_put(items[i].imdb);
		json_object_put(items[i].tmdb);
	}
	rec = record_points_new(seq, points);
	line = ndjson_to_string(rec, &ll);
	buf_append(out, line, ll);
	json_object_put(rec);
	free(items);
	json_object_put(j);
	return 0;
}
