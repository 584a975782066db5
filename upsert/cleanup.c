/* cleanup.c: stale cleanup: delete the points of the loaded types whose rating key the end record did not list. */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "buf.h"
#include "exitcode.h"
#include "http.h"
#include "jparse.h"
#include "jsonutil.h"
#include "log.h"
#include "strutil.h"
#include "xalloc.h"
#include "upsert.h"

#define SCROLL_PAGE	1000	/* points per scroll page */
#define DELETE_BATCH	256	/* ids per delete request */

struct upsert_keyset {
	char	**keys;		/* sorted */
	size_t	  n, cap;
};

struct upsert_keyset *
upsert_keyset_new(struct json_object *arr)
{
	struct upsert_keyset	*ks;
	struct json_object	*e;
	size_t			 i, n;

	ks = xcalloc(1, sizeof(*ks));
	n = json_object_is_type(arr, json_type_array) ?
	    json_object_array_length(arr) : 0;
	ks->cap = n + 1;
	ks->keys = xreallocarray(NULL, ks->cap, sizeof(*ks->keys));
	for (i = 0; i < n; i++) {
		e = json_object_array_get_idx(arr, i);
		/* rating keys are strings; tolerate numbers from other tools */
		if (json_object_is_type(e, json_type_string) ||
		    json_object_is_type(e, json_type_int))
			ks->keys[ks->n++] = xstrdup(json_object_get_string(e));
	}
	qsort(ks->keys, ks->n, sizeof(*ks->keys), strp_cmp);
	return ks;
}

int
upsert_keyset_has(const struct upsert_keyset *ks, const char *k)
{
	return bsearch(&k, ks->keys, ks->n, sizeof(*ks->keys), strp_cmp) != NULL;
}

void
upsert_keyset_add(struct upsert_keyset *ks, const char *k)
{
	size_t	 i;

	if (upsert_keyset_has(ks, k))
		return;
	if (ks->n == ks->cap) {
		ks->cap *= 2;
		ks->keys = xreallocarray(ks->keys, ks->cap, sizeof(*ks->keys));
	}
	/* insertion keeps the order: held-back keys are few */
	for (i = ks->n; i > 0 && strcmp(ks->keys[i - 1], k) > 0; i--)
		ks->keys[i] = ks->keys[i - 1];
	ks->keys[i] = xstrdup(k);
	ks->n++;
}

void
upsert_keyset_free(struct upsert_keyset *ks)
{
	size_t	 i;

	if (ks == NULL)
		return;
	for (i = 0; i < ks->n; i++)
		free(ks->keys[i]);
	free(ks->keys);
	free(ks);
}

static struct json_object *
parse_result(const struct http_response *resp)
{
	return jparse(resp->body.data, resp->body.len, "qdrant answer", NULL);
}

/*
 * The stale filter: a point of a loaded type with a rating key that the
 * end record does not list. Qdrant does the comparison, so only the ids
 * of stale points travel back; a point without a rating key is not ours
 * to judge and never matches.
 */
static void
stale_filter(struct buf *b, const struct upsert_keyset *ks,
    const char *const *types, size_t ntypes)
{
	struct json_object	*s;
	size_t			 i;

	buf_appends(b, "{\"must\":[{\"key\":\"type\",\"match\":{\"any\":[");
	for (i = 0; i < ntypes; i++) {
		s = json_object_new_string(types[i]);
		buf_printf(b, "%s%s", i ? "," : "", json_object_to_json_string(s));
		json_object_put(s);
	}
	buf_appends(b, "]}},{\"key\":\"data.plex.rating_key\",\"match\":{\"except\":[");
	for (i = 0; i < ks->n; i++) {
		s = json_object_new_string(ks->keys[i]);
		buf_printf(b, "%s%s", i ? "," : "", json_object_to_json_string(s));
		json_object_put(s);
	}
	buf_appends(b, "]}}],\"must_not\":[{\"is_empty\":{\"key\":"
	    "\"data.plex.rating_key\"}}]}");
}

static long long
count_points(struct upsert_qdrant *q, const char *cpath, const char *filter)
{
	struct http_response	 resp = { 0 };
	struct json_object	*doc;
	struct buf		 b = BUF_INIT;
	char			*path;
	int64_t			 n = -1;

	xasprintf(&path, "%s/points/count", cpath);
	if (filter != NULL)
		buf_printf(&b, "{\"filter\":%s,\"exact\":true}", filter);
	else
		buf_appends(&b, "{\"exact\":true}");
	if (http_ok(upsert_qdrant_call(q, "POST", path, b.data, &resp))) {
		doc = parse_result(&resp);
		if (!jget_int(jget_obj(doc, "result"), "count", &n))
			n = q->client == NULL ? 0 : -1;
		json_object_put(doc);
	} else
		log_error("stale cleanup: count: %s", resp.error);
	http_response_free(&resp);
	buf_free(&b);
	free(path);
	return n;
}

/* Scrolls the ids of the stale points into `stale`. */
static int
scan(struct upsert_qdrant *q, const char *cpath, const char *filter,
    struct json_object *stale)
{
	struct http_response	 resp = { 0 };
	struct json_object	*doc = NULL, *res, *pts, *offset = NULL, *id;
	struct buf		 b = BUF_INIT;
	char			*path;
	size_t			 i, n;
	long			 st;
	int			 rc = 0;

	xasprintf(&path, "%s/points/scroll", cpath);
	for (;;) {
		buf_reset(&b);
		buf_printf(&b, "{\"filter\":%s,\"limit\":%d,", filter, SCROLL_PAGE);
		if (offset != NULL)
			buf_printf(&b, "\"offset\":%s,", json_object_to_json_string_ext(
			    offset, JSON_C_TO_STRING_PLAIN));
		buf_appends(&b, "\"with_payload\":false,\"with_vector\":false}");
		json_object_put(offset);
		offset = NULL;
		st = upsert_qdrant_call(q, "POST", path, b.data, &resp);
		if (!http_ok(st)) {
			log_error("stale cleanup: scroll: %s", resp.error);
			rc = st == 401 || st == 403 ? EXIT_USAGE : EXIT_FATAL;
			break;
		}
		if (q->client == NULL)
			break;	/* dry-run: the request is shown, nothing is known */
		json_object_put(doc);
		doc = parse_result(&resp);
		res = jget_obj(doc, "result");
		if ((pts = jget_arr(res, "points")) == NULL) {
			log_error("stale cleanup: scroll answer has no points");
			rc = EXIT_FATAL;
			break;
		}
		n = json_object_array_length(pts);
		for (i = 0; i < n; i++)
			if (json_object_object_get_ex(json_object_array_get_idx(pts, i),
			    "id", &id))
				json_object_array_add(stale, json_object_get(id));
		if (!json_object_object_get_ex(res, "next_page_offset", &offset) ||
		    offset == NULL)
			break;
		json_object_get(offset);
	}
	json_object_put(offset);
	json_object_put(doc);
	http_response_free(&resp);
	buf_free(&b);
	free(path);
	return rc;
}

static int
delete_ids(struct upsert_qdrant *q, const char *cpath, struct json_object *stale,
    size_t *deleted)
{
	struct http_response	 resp = { 0 };
	struct buf		 b = BUF_INIT;
	char			*path;
	size_t			 i, j, n = json_object_array_length(stale);
	long			 st;
	int			 rc = 0;

	xasprintf(&path, "%s/points/delete?wait=true", cpath);
	for (i = 0; i < n && rc == 0; i += DELETE_BATCH) {
		buf_reset(&b);
		buf_appends(&b, "{\"points\":[");
		for (j = i; j < n && j < i + DELETE_BATCH; j++)
			buf_printf(&b, "%s%s", j > i ? "," : "",
			    json_object_to_json_string_ext(
			    json_object_array_get_idx(stale, j), JSON_C_TO_STRING_PLAIN));
		buf_appends(&b, "]}");
		st = upsert_qdrant_call(q, "POST", path, b.data, &resp);
		if (!http_ok(st)) {
			log_error("stale cleanup: delete: %s", resp.error);
			rc = st == 401 || st == 403 ? EXIT_USAGE : EXIT_FATAL;
		} else
			*deleted += j - i;
	}
	http_response_free(&resp);
	buf_free(&b);
	free(path);
	return rc;
}

/*
 * The delete fraction is checked per loaded type, not against the whole
 * collection: a movie section that comes back empty (an unmounted disk)
 * would otherwise go unnoticed in a collection that is mostly episodes.
 * Per-type limits also bound the whole: if every type stays under F, so
 * does their sum.
 */
static int
too_many(struct upsert_qdrant *q, const char *cpath,
    const struct upsert_keyset *ks, const char *const *types, size_t ntypes)
{
	struct buf	 f = BUF_INIT, t = BUF_INIT;
	struct json_object *s;
	long long	 stale, total;
	size_t		 i;
	int		 rc = 0;

	for (i = 0; i < ntypes && rc == 0; i++) {
		buf_reset(&f);
		buf_reset(&t);
		stale_filter(&f, ks, &types[i], 1);
		s = json_object_new_string(types[i]);
		buf_printf(&t, "{\"must\":[{\"key\":\"type\",\"match\":"
		    "{\"value\":%s}}]}", json_object_to_json_string(s));
		json_object_put(s);
		if ((stale = count_points(q, cpath, f.data)) < 0 ||
		    (total = count_points(q, cpath, t.data)) < 0) {
			rc = EXIT_FATAL;
			break;
		}
		if (total > 0 && (double)stale > q->cfg->max_delete_fraction *
		    (double)total && !q->cfg->force_cleanup) {
			log_warn("stale cleanup refused: %lld of %lld %s points "
			    "(%.1f%%) would be deleted, more than "
			    "--max-delete-fraction %.2f; check the input, then "
			    "re-run with --force-cleanup to delete them", stale,
			    total, types[i], 100.0 * (double)stale / (double)total,
			    q->cfg->max_delete_fraction);
			rc = EXIT_PARTIAL;
		}
	}
	buf_free(&f);
	buf_free(&t);
	return rc;
}

int
upsert_cleanup(struct upsert_qdrant *q, const struct upsert_keyset *ks,
    const char *const *types, size_t ntypes, size_t *deleted)
{
	struct json_object	*stale = NULL;
	struct buf		 filter = BUF_INIT;
	char			*esc, *cpath;
	long long		 nstale;
	int			 rc = 0;

	*deleted = 0;
	if (ntypes == 0)
		return 0;
	esc = http_escape(q->cfg->collection);
	xasprintf(&cpath, "/collections/%s", esc);
	free(esc);
	stale_filter(&filter, ks, types, ntypes);
	if ((nstale = count_points(q, cpath, filter.data)) < 0) {
		rc = EXIT_FATAL;
		goto out;
	}
	if (nstale == 0 && q->client != NULL) {
		log_info("stale cleanup: nothing to delete");
		goto out;
	}
	if ((rc = too_many(q, cpath, ks, types, ntypes)) != 0)
		goto out;
	stale = json_object_new_array();
	if ((rc = scan(q, cpath, filter.data, stale)) != 0)
		goto out;
	rc = delete_ids(q, cpath, stale, deleted);
	if (q->client != NULL)
		log_notice("stale cleanup: deleted %zu of %lld stale points", *deleted,
		    nstale);
out:
	json_object_put(stale);
	buf_free(&filter);
	free(cpath);
	return rc;
}
