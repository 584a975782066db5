/*
 * listing.c: reads one section listing page by page and turns each page
 * into one plex batch: the listing gives the rating keys (its tags are
 * truncated), one metadata request per page gives the full items and, for
 * an episode page, the parent shows not seen yet. Only one page is in
 * memory.
 *
 * Paging by offset is not a snapshot: an item deleted or added while the
 * listing is read shifts every later row, and one live item would be
 * skipped (then taken for stale by the cleanup). So a listing counts as
 * read only when it was provably steady; otherwise it is read again,
 * which costs listing requests only (emitted keys are not fetched twice).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "jsonutil.h"
#include "log.h"
#include "signals.h"
#include "xalloc.h"
#include "ingest.h"

#define PAGE_MAX	1000	/* PMS is said to reject larger pages */

/* Adds key to v[0..*n) unless it is there already. */
static void
add_unique(const char **v, size_t *n, const char *key)
{
	size_t	 j;

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
	const char	*gp;
	size_t		 i, len, m = n;

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
	struct json_object	*shows, *more = NULL, *it, *show;
	const char		**need, *gp;
	size_t			 i, n, nneed = 0;
	int			 rc = PLEX_OK;

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
 * on the page, within --limit, and not unchanged since the listing state
 * (those are only noted: listed in the end record and the next state).
 * krows[i] is keys[i]'s listing row.
 */
static size_t
page_keys(struct ingest_run *run, struct json_object *rows, int type,
    const char **keys, struct json_object **krows)
{
	struct json_object	*row;
	const char		*rk, *t, *want = ingest_type_name(type);
	size_t			 i, j, len, n = 0;

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
			if (!run->rereading)
				run->duplicates++;
			continue;
		}
		if (run->limit > 0 &&
		    ingest_keyset_count(run->seen) + n >= run->limit) {
			run->limit_hit = 1;
			break;
		}
		if (ingest_row_unchanged(run, row, rk)) {
			ingest_keyset_add(run->seen, rk);
			ingest_row_note(run, row, rk);
			run->unchanged++;
			continue;
		}
		krows[n] = row;
		keys[n++] = rk;
	}
	return n;
}

/* Full items in listing order; keys that vanished meanwhile are left out. */
static struct json_object *
page_items(struct ingest_run *run, int type, const char **keys,
    struct json_object **krows, size_t n, struct json_object *found)
{
	struct json_object	*items, *it;
	size_t			 i;

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
		if (type == PLEX_TYPE_EPISODE)
			ingest_note_show(run, krows[i], found);
		ingest_row_note(run, krows[i], keys[i]);
		/* listed shows are full metadata: their episodes need no fetch */
		if (type == PLEX_TYPE_SHOW)
			ingest_show_cache_put(run->shows, keys[i], it);
	}
	return items;
}


/* Turns rows[skip..] of a listing page into one batch. */
static int
one_page(struct ingest_run *run, const struct ingest_listing *l,
    struct json_object *rows, size_t skip)
{
	struct json_object	*found = NULL, *items, *shows = NULL;
	struct json_object	*page = rows;
	struct json_object	**krows;
	const char		**keys;
	size_t			 i, n, nshows = 0, len;
	int			 rc;

	len = rows == NULL ? 0 : json_object_array_length(rows);
	if (skip > 0) {
		/* the overlap row was read with the page before */
		page = json_object_new_array_ext((int)(len - skip));
		for (i = skip; i < len; i++)
			json_object_array_add(page,
			    json_object_get(json_object_array_get_idx(rows, i)));
		len -= skip;
	}
	/* room for the page's keys and as many parent shows */
	keys = xreallocarray(NULL, len > 0 ? 2 * len : 1, sizeof(*keys));
	krows = xreallocarray(NULL, len > 0 ? len : 1, sizeof(*krows));
	n = page_keys(run, page, l->type, keys, krows);
	if (n == 0) {
		rc = PLEX_OK;
		goto out;
	}
	if (l->type == PLEX_TYPE_EPISODE)
		nshows = page_show_keys(run, page, keys, n);
	rc = ingest_fetch_metadata(run->src, keys, n + nshows,
	    (size_t)run->chunk + nshows, &found);
	if (rc != PLEX_OK)
		goto out;
	items = page_items(run, l->type, keys, krows, n, found);
	if (l->type == PLEX_TYPE_EPISODE &&
	    (rc = page_shows(run, items, found, &shows)) != PLEX_OK) {
		json_object_put(items);
		goto out;
	}
	if (json_object_array_length(items) == 0) {
		json_object_put(items);
		json_object_put(shows);
		goto out;
	}
	if (ingest_emit_batch(run->out, json_object_get(l->section), items,
	    shows) != 0) {
		/* the writer said why; don't leave an older, recovered error */
		snprintf(run->src->error, sizeof(run->src->error),
		    "stdout: cannot write batch %lld",
		    (long long)run->out->seq);
		rc = PLEX_ERR_FAIL;
		goto out;
	}
	log_progress(run->out->items);
out:
	json_object_put(found);
	free(keys);
	free(krows);
	if (page != rows)
		json_object_put(page);
	return rc;
}

/* What one pass over a listing saw. */
struct pass {
	long	 total;		/* the last totalSize, -1 unknown */
	long	 first_total;	/* the first page's totalSize */
	size_t	 distinct;	/* distinct rows (keyless rows each count) */
	int	 to_end;
	char	 moved[160];	/* why the listing is not consistent, "" if it is */
};

static void
moved(struct pass *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
moved(struct pass *p, const char *fmt, ...)
{
	va_list	 ap;

	if (p->moved[0] != '\0')
		return;		/* the first sign is the one worth telling */
	va_start(ap, fmt);
	vsnprintf(p->moved, sizeof(p->moved), fmt, ap);
	va_end(ap);
}

/* Adds the page's rows to the pass's distinct keys. */
static void
count_rows(struct pass *p, struct ingest_keyset *keys, struct json_object *rows)
{
	const char	*rk;
	size_t		 i, len;

	len = rows == NULL ? 0 : json_object_array_length(rows);
	for (i = 0; i < len; i++) {
		rk = jget_str(json_object_array_get_idx(rows, i), "ratingKey");
		if (rk == NULL || ingest_keyset_add(keys, rk))
			p->distinct++;
	}
}

/*
 * One pass over a listing. Every page after the first starts one row
 * early: that row must be the last one of the page before, else rows
 * shifted under the paging (an item deleted or added before it) and one
 * may have been skipped. totalSize must stay put, and at the end the
 * distinct rows seen must number totalSize.
 */
static int
list_pass(struct ingest_run *run, const struct ingest_listing *l,
    struct pass *p)
{
	struct json_object	*root, *rows, *mc;
	struct ingest_keyset	*keys;
	const char		*rk;
	char			*last = NULL;
	int64_t			 v;
	long			 start = 0, ask, size, got;
	size_t			 skip;
	int			 rc = PLEX_OK;

	memset(p, 0, sizeof(*p));
	p->total = p->first_total = -1;
	keys = ingest_keyset_new();
	for (;;) {
		ask = last != NULL ? start - 1 : start;
		size = run->chunk + (ask < start);
		if (size > PAGE_MAX)
			size = PAGE_MAX;
		rc = plex_src_listing(run->src, l->key, l->type, ask, size,
		    run->since, &root);
		if (rc != PLEX_OK)
			break;
		mc = plex_container(root);
		rows = plex_rows(root, "Metadata");
		got = rows == NULL ? 0 : (long)json_object_array_length(rows);
		skip = 0;
		if (ask < start) {
			rk = got > 0 ? jget_str(json_object_array_get_idx(rows,
			    0), "ratingKey") : NULL;
			if (rk != NULL && strcmp(rk, last) == 0)
				skip = 1;
			else
				moved(p, "row %ld was %s, is now %s", ask, last,
				    rk != NULL ? rk : "gone");
		}
		/* totalSize bounds the loop; a page may hold fewer rows than asked */
		if (jget_int(mc, "totalSize", &v)) {
			if (p->first_total < 0) {
				p->first_total = (long)v;
				/* plex-load's ETA; a re-read adds nothing */
				if (!run->rereading && v > 0)
					log_progress_total((size_t)v);
			} else if ((long)v != p->total)
				moved(p, "totalSize went from %ld to %ld",
				    p->total, (long)v);
			p->total = (long)v;
		} else if (p->total < 0 && got < size)
			p->total = ask + got;
		count_rows(p, keys, rows);
		free(last);
		last = NULL;
		if (got > 0 && (rk = jget_str(json_object_array_get_idx(rows,
		    (size_t)got - 1), "ratingKey")) != NULL)
			last = xstrdup(rk);
		rc = one_page(run, l, rows, skip);
		json_object_put(root);
		if (rc != PLEX_OK)
			break;
		start = ask + got;
		if (run->limit_hit)
			break;
		if (signal_received != 0) {
			snprintf(run->src->error, sizeof(run->src->error),
			    "interrupted by signal %d", (int)signal_received);
			rc = PLEX_ERR_FAIL;
			break;
		}
		if (got - (long)skip <= 0 || (p->total >= 0 && start >= p->total)) {
			if (p->total >= 0 && start < p->total)
				log_warn("plex: listing of section %s ended at "
				    "%ld of %ld items", l->key, start, p->total);
			p->to_end = p->total < 0 || start >= p->total;
			if (p->total < 0)
				p->total = start;
			/* a page without totalSize proves nothing about the rest */
			if (p->first_total >= 0 && p->distinct != (size_t)p->total)
				moved(p, "%zu distinct rows for a totalSize of %ld",
				    p->distinct, p->total);
			break;
		}
		/* a row without a key cannot anchor the next page */
		if (last == NULL)
			moved(p, "row %ld has no ratingKey", start - 1);
	}
	free(last);
	ingest_keyset_free(keys);
	return rc;
}

int
ingest_list(struct ingest_run *run, const struct ingest_listing *l,
    long *total, int *to_end)
{
	struct pass	 p;
	const char	*title = jget_str(l->section, "title");
	int		 pass, rc;

	*total = -1;
	*to_end = 0;
	/* an episode is unchanged only if its show is too */
	if (l->type == PLEX_TYPE_EPISODE &&
	    (rc = ingest_list_show_times(run, l)) != PLEX_OK)
		return rc;
	for (pass = 1; ; pass++) {
		/* keys emitted by an earlier pass are expected, not duplicates */
		run->rereading = pass > 1;
		rc = list_pass(run, l, &p);
		run->rereading = 0;
		*total = p.total;
		*to_end = p.to_end;
		if (rc != PLEX_OK || !p.to_end || run->limit_hit ||
		    p.moved[0] == '\0')
			return rc;
		/* a recorded excerpt cannot change; it is not complete anyway */
		if (run->src->excerpt)
			return rc;
		if (pass == INGEST_LIST_PASSES)
			break;
		log_notice("plex: the %s listing of section %s (\"%s\") changed "
		    "while it was read (%s); reading it again",
		    ingest_type_name(l->type), l->key, title ? title : "", p.moved);
	}
	log_warn("plex: section %s (\"%s\") kept changing while its %s listing "
	    "was read %d times (%s): the run is not complete, so no stale "
	    "point is removed", l->key, title ? title : "",
	    ingest_type_name(l->type), INGEST_LIST_PASSES, p.moved);
	*to_end = 0;
	run->unsettled++;
	return PLEX_OK;
}
