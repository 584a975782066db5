/* imdb.c: imdbapi.dev titles:batchGet (at most 5 ids), 400 split in halves, failures to the retry queue. */
/*
 * A batch's answers are kept in memory (a memo: id -> title or null) as
 * well as written to the cache, so the points are complete even when the
 * cache cannot be written. An id whose fetch fails falls back to its
 * expired cache entry (ENRICH_STALE), else the item lacks IMDb data
 * because IMDb failed (ENRICH_FAILED); either way the id goes to the
 * retry queue.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "buf.h"
#include "cache.h"
#include "enrich.h"
#include "http.h"
#include "jsonutil.h"
#include "log.h"
#include "ndjson_read.h"
#include "xalloc.h"

#define IMDB_BATCH_MAX	5	/* the API's documented maximum per batchGet */

static void
imdb_key(const char *id, char *key, size_t n)
{
	snprintf(key, n, "imdb/%s", id);
}

/* Stores each requested id: its title when the answer has it, else null. */
static void
store_answer(struct enrich_ctx *ctx, char **ids, size_t n,
    struct json_object *titles, struct json_object *memo)
{
	struct json_object *t, *found;
	const char *tid;
	char key[64];
	size_t i, j, nt;

	nt = titles != NULL ? json_object_array_length(titles) : 0;
	for (i = 0; i < n; i++) {
		found = NULL;
		for (j = 0; j < nt && found == NULL; j++) {
			t = json_object_array_get_idx(titles, j);
			tid = jget_str(t, "id");
			if (tid != NULL && strcmp(tid, ids[i]) == 0)
				found = t;
		}
		imdb_key(ids[i], key, sizeof(key));
		enrich_cache_store(ctx, key, found);
		if (memo != NULL)
			json_object_object_add(memo, ids[i],
			    json_object_get(found));
	}
}

/* One batchGet for n <= 5 ids; a 400 is split. Returns ids that failed. */
static size_t
fetch_group(struct enrich_ctx *ctx, char **ids, size_t n,
    struct json_object *memo)
{
	struct http_response resp;
	struct ndjson_error err;
	struct json_object *j;
	struct buf path = BUF_INIT;
	size_t i, failed = 0;
	long st;

	if (n == 0)
		return 0;
	buf_appends(&path, "/titles:batchGet");
	for (i = 0; i < n; i++)
		buf_printf(&path, "%stitleIds=%s", i == 0 ? "?" : "&", ids[i]);
	memset(&resp, 0, sizeof(resp));
	st = enrich_call(ctx, SVC_IMDB, path.data, &resp);
	buf_free(&path);
	if (http_ok(st)) {
		j = resp.body.data != NULL ?
		    ndjson_parse_string(resp.body.data, resp.body.len, &err) : NULL;
		if (j != NULL) {
			store_answer(ctx, ids, n, jget_arr(j, "titles"), memo);
			json_object_put(j);
			http_response_free(&resp);
			return 0;
		}
		log_warn("imdb: batchGet answer is not a JSON object");
	} else if (st == 400 && n > 1) {
		/* one bad id fails the whole batch: isolate it */
		http_response_free(&resp);
		failed = fetch_group(ctx, ids, n / 2, memo);
		return failed + fetch_group(ctx, ids + n / 2, n - n / 2, memo);
	} else if (st == 404) {
		store_answer(ctx, ids, n, NULL, memo);
		http_response_free(&resp);
		return 0;
	} else if (st == 400) {
		log_warn("imdb: id %s is refused (400); kept in the retry queue",
		    ids[0]);
		/* the id, not the service, is the trouble: no data, not degraded */
		if (memo != NULL)
			json_object_object_add(memo, ids[0], NULL);
	} else if (st != ENRICH_DOWN)
		log_warn("%s", resp.error);
	http_response_free(&resp);
	for (i = 0; i < n; i++)
		enrich_ctx_queue_id(ctx, ids[i]);
	ctx->st.v[ST_IMDB_FAILURES] += n;
	return n;
}

static size_t
imdb_fetch(struct enrich_ctx *ctx, char **in, size_t n, struct json_object *memo)
{
	struct json_object *j;
	char **ids, *group[IMDB_BATCH_MAX], key[64];
	int locks[IMDB_BATCH_MAX];
	size_t i, k, g, failed = 0, m = 0;

	if (n == 0 || ctx->imdb == NULL)
		return 0;
	/* sorted, de-duplicated, so every process takes locks in one order */
	ids = xreallocarray(NULL, n, sizeof(*ids));
	memcpy(ids, in, n * sizeof(*ids));
	qsort(ids, n, sizeof(*ids), strp_cmp);
	for (i = 0; i < n; i++)
		if (m == 0 || strcmp(ids[m - 1], ids[i]) != 0)
			ids[m++] = ids[i];
	for (i = 0; i < m; ) {
		for (k = 0; i < m && k < IMDB_BATCH_MAX; i++) {
			imdb_key(ids[i], key, sizeof(key));
			locks[k] = cache_lock(ctx->cache, key);
			/* someone may have fetched it while we waited */
			if (enrich_cache_lookup(ctx, key, &j) != SRC_MISS) {
				if (memo != NULL)
					json_object_object_add(memo, ids[i], j);
				else
					json_object_put(j);
				cache_unlock(locks[k]);
				continue;
			}
			group[k++] = ids[i];
		}
		failed += fetch_group(ctx, group, k, memo);
		for (g = 0; g < k; g++)
			cache_unlock(locks[g]);
	}
	free(ids);
	return failed;
}

size_t
enrich_imdb_fetch(struct enrich_ctx *ctx, char **in, size_t n)
{
	return imdb_fetch(ctx, in, n, NULL);
}

void
enrich_imdb_batch(struct enrich_ctx *ctx, struct enrich_item *items, size_t n)
{
	struct json_object *j, *memo;
	char **missing, key[64];
	unsigned char *miss;
	size_t i, nm = 0;

	if (!ctx->use_imdb)
		return;
	missing = xreallocarray(NULL, n + 1, sizeof(*missing));
	miss = xcalloc(n + 1, 1);
	for (i = 0; i < n; i++) {
		if (items[i].ids.imdb[0] == '\0')
			continue;
		imdb_key(items[i].ids.imdb, key, sizeof(key));
		if (enrich_cache_lookup(ctx, key, &j) == SRC_MISS) {
			missing[nm++] = items[i].ids.imdb;
			miss[i] = 1;
		} else
			items[i].imdb = j;	/* NULL for a cached "not found" */
	}
	memo = json_object_new_object();
	if (nm > 0 && ctx->imdb != NULL)
		imdb_fetch(ctx, missing, nm, memo);
	free(missing);
	for (i = 0; i < n; i++) {
		if (!miss[i])
			continue;
		if (json_object_object_get_ex(memo, items[i].ids.imdb, &j)) {
			items[i].imdb = json_object_get(j);
			continue;
		}
		if (ctx->imdb == NULL) {
			ctx->st.v[ST_OFFLINE_MISSES]++;
			continue;
		}
		imdb_key(items[i].ids.imdb, key, sizeof(key));
		if (enrich_cache_stale(ctx, SVC_IMDB, key, &j,
		    &items[i].imdb_flags) == SRC_OK)
			items[i].imdb = j;
	}
	json_object_put(memo);
	free(miss);
}
