/* cleanup.c: stale cleanup: delete the points of the loaded types whose rating key the end record did not list. */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "buf.h"
#include "exitcode.h"
#include "http.h"
#include "jsonutil.h"
#include "log.h"
#include "xalloc.h"
#include "upsert.h"

#define SCROLL_PAGE	1000	/* points per scroll page */
#define DELETE_BATCH	256	/* ids per delete request */

struct upsert_keyset {
	char	**keys;		/* sorted */
	size_t	  n;
};

static int
cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

struct upsert_keyset *
upsert_keyset_new(struct json_object *arr)
{
	struct upsert_keyset	*ks;
	struct json_object	*e;
	size_t			 i, n;

	ks = xcalloc(1, sizeof(*ks));
	n = json_object_is_type(arr, json_type_array) ?
	    json_object_array_length(arr) : 0;
	ks->keys = xreallocarray(NULL, n + 1, sizeof(*ks->keys));
	for (i = 0; i < n; i++) {
		e = json_object_array_get_idx(arr, i);
		/* rating keys are strings; tolerate numbers from other tools */
		if (json_object_is_type(e, json_type_string) ||
		    json_object_is_type(e, json_type_int))
			ks->keys[ks->n++] = xstrdup(json_object_get_string(e));
	}
	qsort(ks->keys, ks->n, sizeof(*ks->keys), cmpstr);
	return ks;
}

int
upsert_keyset_has(const struct upsert_keyset *ks, const char *k)
{
	return bsearch(&k, ks->keys, ks->n, sizeof(*ks->keys), cmpstr) != NULL;
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

/* Qdrant nests a selected "data.plex.rating_key"; accept a flat key too. */
static const char *
rating_key_of(struct json_object *payload, char *tmp, size_t len)
{
	struct json_object	*v = NULL, *plex;

	plex = jget_obj(jget_obj(payload, "data"), "plex");
	if (plex == NULL || !json_object_object_get_ex(plex, "rating_key", &v))
		json_object_object_get_ex(payload, "data.plex.rating_key", &v);
	if (json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	if (json_object_is_type(v, json_type_int)) {
		snprintf(tmp, len, "%s", json_object_get_string(v));
		return tmp;
	}
	return NULL;
}

static int
type_loaded(const char *t, const char *const *types, size_t ntypes)
{
	size_t	 i;

	for (i = 0; t != NULL && i < ntypes; i++)
		if (strcmp(t, types[i]) == 0)
			return 1;
	return 0;
}

static struct json_object *
parse_result(const struct http_response *resp)
{
	return resp->body.data ? json_tokener_parse(resp->body.data) : NULL;
}

/* Scrolls every point of the loaded types; stale ids go into `stale`. */
static int
scan(struct upsert_qdrant *q, const char *cpath, const struct upsert_keyset *ks,
    const char *const *types, size_t ntypes, struct json_object *stale)
{
	struct http_response	 resp = { 0 };
	struct json_object	*doc = NULL, *res, *pts, *p, *offset = NULL, *id;
	struct buf		 b = BUF_INIT;
	char			*path, tmp[64];
	const char		*rk;
	size_t			 i, n;
	long			 st;
	int			 rc = 0;

	xasprintf(&path, "%s/points/scroll", cpath);
	for (;;) {
		buf_reset(&b);
		buf_appends(&b, "{\"filter\":{\"must\":[{\"key\":\"type\",\"match\":{\"any\":[");
		for (i = 0; i < ntypes; i++)
			buf_printf(&b, "%s\"%s\"", i ? "," : "", types[i]);
		buf_printf(&b, "]}}]},\"limit\":%d,", SCROLL_PAGE);
		if (offset != NULL)
			buf_printf(&b, "\"offset\":%s,", json_object_to_json_string_ext(
			    offset, JSON_C_TO_STRING_PLAIN));
		buf_appends(&b, "\"with_payload\":[\"data.plex.rating_key\",\"type\"],"
		    "\"with_vector\":false}");
		json_object_put(offset);
		offset = NULL;
		st = upsert_qdrant_call(q, "POST", path, b.data, &resp);
		if (!http_ok(st)) {
			log_error("stale cleanup: scroll: %s", resp.error);
			rc = st == 401 || st == 403 ? EXIT_USAGE : EXIT_FATAL;
			break;
		}
		json_object_put(doc);
		doc = parse_result(&resp);
		res = jget_obj(doc, "result");
		if (q->client == NULL)
			break;	/* dry-run: one page shown, nothing known */
		if ((pts = jget_arr(res, "points")) == NULL) {
			log_error("stale cleanup: scroll answer has no points");
			rc = EXIT_FATAL;
			break;
		}
		n = json_object_array_length(pts);
		for (i = 0; i < n; i++) {
			p = json_object_array_get_idx(pts, i);
			if (!type_loaded(jget_str(jget_obj(p, "payload"), "type"),
			    types, ntypes))
				continue;
			rk = rating_key_of(jget_obj(p, "payload"), tmp, sizeof(tmp));
			/* a point without a rating key is not ours to judge */
			if (rk == NULL || upsert_keyset_has(ks, rk))
				continue;
			if (json_object_object_get_ex(p, "id", &id))
				json_object_array_add(stale, json_object_get(id));
		}
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

static long long
count_points(struct upsert_qdrant *q, const char *cpath)
{
	struct http_response	 resp = { 0 };
	struct json_object	*doc;
	char			*path;
	int64_t			 n = -1;

	xasprintf(&path, "%s/points/count", cpath);
	if (http_ok(upsert_qdrant_call(q, "POST", path, "{\"exact\":true}", &resp))) {
		doc = parse_result(&resp);
		if (!jget_int(jget_obj(doc, "result"), "count", &n))
			n = -1;
		json_object_put(doc);
	} else
		log_error("stale cleanup: count: %s", resp.error);
	http_response_free(&resp);
	free(path);
	return n;
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

int
upsert_cleanup(struct upsert_qdrant *q, const struct upsert_keyset *ks,
    const char *const *types, size_t ntypes, size_t *deleted)
{
	struct json_object	*stale;
	char			*esc, *cpath;
	long long		 total;
	size_t			 nstale;
	int			 rc;

	*deleted = 0;
	if (ntypes == 0)
		return 0;
	esc = http_escape(q->cfg->collection);
	xasprintf(&cpath, "/collections/%s", esc);
	free(esc);
	stale = json_object_new_array();
	if ((rc = scan(q, cpath, ks, types, ntypes, stale)) != 0)
		goto out;
	nstale = json_object_array_length(stale);
	if (nstale == 0) {
		log_info("stale cleanup: nothing to delete");
		goto out;
	}
	if ((total = count_points(q, cpath)) < 0) {
		rc = EXIT_FATAL;
		goto out;
	}
	if (total > 0 && (double)nstale > q->cfg->max_delete_fraction * (double)total &&
	    !q->cfg->force_cleanup) {
		log_warn("stale cleanup refused: %zu of %lld points (%.1f%%) would be "
		    "deleted, more than --max-delete-fraction %.2f; check the input, "
		    "then re-run with --force-cleanup to delete them",
		    nstale, total, 100.0 * (double)nstale / (double)total,
		    q->cfg->max_delete_fraction);
		rc = EXIT_PARTIAL;
		goto out;
	}
	rc = delete_ids(q, cpath, stale, deleted);
	log_info("stale cleanup: deleted %zu of %zu stale points", *deleted, nstale);
out:
	json_object_put(stale);
	free(cpath);
	return rc;
}
