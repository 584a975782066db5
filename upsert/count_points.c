/*
 * count_points.c: qdrant-upsert --count-points: how many points of each
 * type (movie, episode, show) the collection holds, as one line
 * {"kind":"count","collection":C,"exists":B,"points":{"movie":N,...}}.
 * plex-load trusts its listing state only while the collection holds at
 * least the points the state lists: a dropped, recreated or emptied
 * collection must bring a full reload, not an incremental one that would
 * write nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "buf.h"
#include "exitcode.h"
#include "http.h"
#include "jparse.h"
#include "jsonutil.h"
#include "log.h"
#include "ndjson_write.h"
#include "xalloc.h"
#include "upsert.h"

static const char *const types[] = { "movie", "episode", "show" };

/* The exact count of one type's points: >= 0, -1 no collection, -2 failure. */
static long long
count_type(struct upsert_qdrant *q, const char *path, const char *type,
    int *rc)
{
	struct http_response	 resp = { 0 };
	struct json_object	*doc = NULL, *s;
	struct buf		 b = BUF_INIT;
	int64_t			 n = -2;
	long			 st;

	s = json_object_new_string(type);
	buf_printf(&b, "{\"filter\":{\"must\":[{\"key\":\"type\",\"match\":"
	    "{\"value\":%s}}]},\"exact\":true}", json_object_to_json_string(s));
	json_object_put(s);
	st = upsert_qdrant_call(q, "POST", path, b.data, &resp);
	if (st == 404)
		n = -1;
	else if (http_ok(st)) {
		doc = jparse(resp.body.data, resp.body.len, "qdrant answer",
		    NULL);
		if (!jget_int(jget_obj(doc, "result"), "count", &n) || n < 0) {
			log_error("count points: the answer has no result.count");
			n = -2;
			*rc = EXIT_FATAL;
		}
		json_object_put(doc);
	} else {
		log_error("count points: %s%s", resp.error, st == 401 ||
		    st == 403 ? " (check QDRANT_API_KEY / --qdrant-api-key-file)" :
		    "");
		*rc = st == 401 || st == 403 ? EXIT_USAGE : EXIT_FATAL;
	}
	http_response_free(&resp);
	buf_free(&b);
	return n;
}

/* Is type t in the comma list only (NULL: every type)? */
static int
wanted(const char *only, const char *t)
{
	const char *p;
	size_t n = strlen(t);

	if (only == NULL)
		return 1;
	for (p = only; (p = strstr(p, t)) != NULL; p += n)
		if ((p == only || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
			return 1;
	return 0;
}

int
upsert_count_points(struct upsert_qdrant *q, const char *only,
    struct ndjson_writer *out)
{
	struct json_object	*o, *pts;
	char			*esc, *path;
	long long		 n;
	size_t			 i;
	int			 rc = 0, exists = 1;

	esc = http_escape(q->cfg->collection);
	xasprintf(&path, "/collections/%s/points/count", esc);
	free(esc);
	pts = json_object_new_object();
	for (i = 0; i < sizeof(types) / sizeof(types[0]) && rc == 0; i++) {
		if (!wanted(only, types[i]))
			continue;
		n = count_type(q, path, types[i], &rc);
		if (n == -1) {
			exists = 0;	/* no collection: no points at all */
			n = 0;
		}
		json_object_object_add(pts, types[i], json_object_new_int64(
		    n < 0 ? 0 : n));
	}
	free(path);
	if (rc != 0) {
		json_object_put(pts);
		return rc;
	}
	o = json_object_new_object();
	json_object_object_add(o, "kind", json_object_new_string("count"));
	json_object_object_add(o, "collection",
	    json_object_new_string(q->cfg->collection));
	json_object_object_add(o, "exists", json_object_new_boolean(exists));
	json_object_object_add(o, "points", pts);
	if (ndjson_write(out, o) != 0)
		rc = EXIT_FATAL;
	json_object_put(o);
	return rc;
}
