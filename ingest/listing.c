/*
 * listing.c: reads one section listing page by page and turns each page
 * into one plex batch: the listing gives the rating keys (its tags are
 * truncated), one metadata request per page gives the full items and, for
 * an episode page, the parent shows not seen yet. Only one page is in
 * memory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "jsonutil.h"
#include "log.h"
#include "signals.h"
#include "xalloc.h"
#include "ingest.h"

/* Adds key to v[0..*n) unless it is there already. */
static void
add_unique(const char **v, size_t *n, const char *key)
{
	size_t j;

	for (j = 0; j < *n && strcmp(v[j], key) != 0; j++)
		;
	if (j == *n)
		v[(*n)++] = key;
}

/*
 * The parent shows of a page's listed episodes that are not cached: they
 * ride along in the page's metadata request, so shows cost no requests
 * of their own. Returns how many keys were appended to keys.
 */
static size_t
page_show_keys(struct ingest_run *run, struct json_object *rows,
    const char **keys, size_t n)
{
	const char *gp;
	size_t i, len, m = n;

	len = rows == NULL ? 0 : json_object_array_length(rows);
	for (i = 0; i < len; i++) {
		gp = jget_str(json_object_array_get_idx(rows, i),
		    "grandparentRatingKey");
		if (gp != NULL && ingest_show_cache_get(run->shows, gp) == NULL)
			add_unique(keys, &m, gp);
	}
	return m - n;
}

/*
 * The "shows" of an episode batch: from the cache or the page's answer;
 * a show still unknown (its episode's details name another parent than
 * the listing did) is fetched here.
 */
static int
page_shows(struct ingest_run *run, struct json_object *items,
    struct json_object *found, struct json_object **shows_out)
{
	struct json_object *shows, *more = NULL, *it, *show;
	const char **need, *gp;
	size_t i, n, nneed = 0;
	int rc = PLEX_OK;

	shows = json_object_new_object();
	n = json_object_array_length(items);
	need = xreallocarray(NULL, n > 0 ? n : 1, sizeof(*need));
	for (i = 0; i < n; i++) {
		gp = jget_str(json_object_array_get_idx(items, i),
		    "grandparentRatingKey");
		if (gp != NULL && ingest_show_cache_get(run->shows, gp) == NULL &&
		    !json_object_object_get_ex(found, gp, NULL))
			add_unique(need, &nneed, gp);
	}
	if (nneed > 0)
		rc = ingest_fetch_metadata(run->src, need, nneed,
		    (size_t)run->chunk, &more);
	for (i = 0; rc == PLEX_OK && i < n; i++) {
		it = json_object_array_get_idx(items, i);
		gp = jget_str(it, "grandparentRatingKey");
		if (gp == NULL || json_object_object_get_ex(shows, gp, NULL))
			continue;
		if ((show = ingest_show_cache_get(run->shows, gp)) == NULL &&
		    !json_object_object_get_ex(found, gp, &show) &&
		    (more == NULL || !json_object_object_get_ex(more, gp, &show)))
			show = NULL;
		if (show != NULL) {
			json_object_object_add(shows, gp, json_object_get(show));
			ingest_show_cache_put(run->shows, gp, show);
		} else
			log_warn("plex: show %s of episode %s not found", gp,
			    jget_str(it, "ratingKey"));
	}
	json_object_put(more);
	free(need);
	if (rc != PLEX_OK) {
		json_object_put(shows);
		shows = NULL;
	}
	*shows_out = shows;
	return rc;
}

/*
 * The keys of a listing page worth fetching: rows of the listed type
 * (collections and anything else dropped), not emitted before, not twice
 * on the page, and within --limit.
 */
static size_t
page_keys(struct ingest_run *run, struct json_object *rows, int type,
    const char **keys)
{
	struct json_object *row;
	const char *rk, *t, *want = ingest_type_name(type);
	size_t i, j, len, n = 0;

	len = rows == NULL ? 0 : json_object_array_length(rows);
	for (i = 0; i < len; i++) {
		row = json_object_array_get_idx(rows, i);
		rk = jget_str(row, "ratingKey");
		t = jget_str(row, "type");
		if (rk == NULL || t == NULL || strcmp(t, want) != 0) {
			run->skipped++;
			continue;
		}
		for (j = 0; j < n && strcmp(keys[j], rk) != 0; j++)
			;
		if (j < n || ingest_keyset_has(run->seen, rk)) {
			run->duplicates++;
			continue;
		}
		if (run->limit > 0 &&
		    ingest_keyset_count(run->seen) + n >= run->limit) {
			run->limit_hit = 1;
			break;
		}
		keys[n++] = rk;
	}
	return n;
}

/* Full items in listing order; keys that vanished meanwhile are left out. */
static struct json_object *
page_items(struct ingest_run *run, int type, const char **keys, size_t n,
    struct json_object *found)
{
	struct json_object *items, *it;
	size_t i;

	items = json_object_new_array_ext((int)n);
	for (i = 0; i < n; i++) {
		if (!json_object_object_get_ex(found, keys[i], &it)) {
			log_warn("plex: item %s was listed but has no metadata "
			    "(deleted meanwhile?); left out", keys[i]);
			run->vanished++;
			continue;
		}
		json_object_array_add(items, json_object_get(it));
		ingest_keyset_add(run->seen, keys[i]);
		/* listed shows are full metadata: their episodes need no fetch */
		if (type == PLEX_TYPE_SHOW)
			ingest_show_cache_put(run->shows, keys[i], it);
	}
	return items;
}

static int
one_page(struct ingest_run *run, const struct ingest_listing *l,
    struct json_object *rows)
{
	struct json_object *found = NULL, *items, *shows = NULL;
	const char **keys;
	size_t n, nshows = 0, len;
	int rc;

	len = rows == NULL ? 0 : json_object_array_length(rows);
	/* room for the page's keys and as many parent shows */
	keys = xreallocarray(NULL, len > 0 ? 2 * len : 1, sizeof(*keys));
	n = page_keys(run, rows, l->type, keys);
	if (n == 0) {
		free(keys);
		return PLEX_OK;
	}
	if (l->type == PLEX_TYPE_EPISODE)
		nshows = page_show_keys(run, rows, keys, n);
	rc = ingest_fetch_metadata(run->src, keys, n + nshows,
	    (size_t)run->chunk + nshows, &found);
	if (rc != PLEX_OK) {
		free(keys);
		return rc;
	}
	items = page_items(run, l->type, keys, n, found);
	free(keys);
	if (l->type == PLEX_TYPE_EPISODE &&
	    (rc = page_shows(run, items, found, &shows)) != PLEX_OK) {
		json_object_put(found);
		json_object_put(items);
		return rc;
	}
	json_object_put(found);
	if (json_object_array_length(items) == 0) {
		json_object_put(items);
		json_object_put(shows);
		return PLEX_OK;
	}
	if (ingest_emit_batch(run->out, json_object_get(l->section), items,
	    shows) != 0) {
		/* the writer said why; don't leave an older, recovered error */
		snprintf(run->src->error, sizeof(run->src->error),
		    "stdout: cannot write batch %lld",
		    (long long)run->out->seq);
		return PLEX_ERR_FAIL;
	}
	log_progress(run->out->items);
	return PLEX_OK;
}

int
ingest_list(struct ingest_run *run, const struct ingest_listing *l,
    long *total, int *to_end)
{
	struct json_object *root, *rows, *mc;
	int64_t v;
	long start = 0, got;
	int rc;

	*total = -1;
	*to_end = 0;
	for (;;) {
		rc = plex_src_listing(run->src, l->key, l->type, start,
		    run->chunk, run->since, &root);
		if (rc != PLEX_OK)
			return rc;
		mc = plex_container(root);
		rows = plex_rows(root, "Metadata");
		got = rows == NULL ? 0 : (long)json_object_array_length(rows);
		/* totalSize bounds the loop; a page may hold fewer rows than asked */
		if (jget_int(mc, "totalSize", &v))
			*total = (long)v;
		else if (*total < 0 && got < run->chunk)
			*total = start + got;
		if (start == 0 && *total > 0)	/* for plex-load's ETA */
			log_progress_total((size_t)*total);
		rc = one_page(run, l, rows);
		json_object_put(root);
		if (rc != PLEX_OK)
			return rc;
		start += got;
		if (run->limit_hit)
			return PLEX_OK;
		if (signal_received != 0) {
			snprintf(run->src->error, sizeof(run->src->error),
			    "interrupted by signal %d", (int)signal_received);
			return PLEX_ERR_FAIL;
		}
		if (got == 0 || (*total >= 0 && start >= *total)) {
			if (*total >= 0 && start < *total)
				log_warn("plex: listing of section %s ended at "
				    "%ld of %ld items", l->key, start, *total);
			*to_end = *total < 0 || start >= *total;
			if (*total < 0)
				*total = start;
			return PLEX_OK;
		}
	}
}
