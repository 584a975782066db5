/* point.c: turn one incoming point into the PointStruct text sent to Qdrant (vectors resolved, hash added). */
#include <string.h>

#include <json-c/json.h>

#include "buf.h"
#include "jsonutil.h"
#include "upsert.h"

static struct json_object *
vectors_of(struct json_object *point)
{
	struct json_object	*v;

	if (json_object_object_get_ex(point, "vector", &v) ||
	    json_object_object_get_ex(point, "vectors", &v))
		return v;
	return NULL;
}

struct json_object *
upsert_point_document(struct json_object *point, const char *name)
{
	struct json_object	*d = jget_obj(vectors_of(point), name);

	if (d == NULL || jget_str(d, "text") == NULL || jget_str(d, "model") == NULL)
		return NULL;
	return d;
}

static const char *
serial(struct json_object *o)
{
	return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
}

/* Appends ,"name": with the name escaped as JSON (a name is input, not trusted text). */
static void
put_name(struct buf *b, int first, const char *name)
{
	struct json_object	*s = json_object_new_string(name);

	buf_printf(b, "%s%s:", first ? "" : ",", serial(s));
	json_object_put(s);
}

/* Appends "name":value for one named vector, or nothing when it is dropped. */
static int
one_vector(const struct upsert_config *cfg, struct upsert_bm25 *bm,
    const struct upsert_point_in *in, const char *name, struct json_object *v,
    struct buf *b, int *first, char *why, size_t whylen)
{
	struct upsert_sparse	 sv = { 0 };
	int			 isdoc;
	const char		*model = NULL;

	isdoc = json_object_is_type(v, json_type_object) &&
	    jget_str(v, "text") != NULL && (model = jget_str(v, "model")) != NULL;
	if (isdoc && strcmp(name, "dense") == 0) {
		if (cfg->dense == DENSE_NONE)
			return 0;
		if (cfg->dense == DENSE_ENDPOINT && in->dense != NULL)
			v = in->dense;
		/* server mode, or dry-run without vectors: the Document as is */
	} else if (isdoc && strcmp(name, "sparse") == 0) {
		if (cfg->sparse == SPARSE_NONE)
			return 0;
		if (cfg->sparse == SPARSE_LOCAL) {
			if (!upsert_bm25_model(model)) {
				snprintf(why, whylen, "sparse model \"%s\" cannot be "
				    "computed locally (use --sparse server)", model);
				return -1;
			}
			put_name(b, *first, name);
			upsert_bm25_doc(bm, jget_str(v, "text"), &sv);
			upsert_sparse_json(&sv, b);
			upsert_sparse_free(&sv);
			*first = 0;
			return 0;
		}
	}
	put_name(b, *first, name);
	buf_appends(b, serial(v));
	*first = 0;
	return 0;
}

int
upsert_point_text(const struct upsert_config *cfg, struct upsert_bm25 *bm,
    const struct upsert_point_in *in, struct buf *b, char *why, size_t whylen)
{
	struct json_object	*id, *vec, *payload = NULL;
	const char		*ptext;
	size_t			 plen;
	int			 first = 1;

	if (!json_object_object_get_ex(in->point, "id", &id)) {
		snprintf(why, whylen, "point has no id");
		return -1;
	}
	buf_printf(b, "{\"id\":%s,\"vector\":", serial(id));
	vec = vectors_of(in->point);
	if (vec != NULL && !json_object_is_type(vec, json_type_object))
		buf_appends(b, serial(vec));	/* an unnamed dense array */
	else {
		buf_append(b, "{", 1);
		if (vec != NULL) {
			json_object_object_foreach(vec, name, v) {
				if (one_vector(cfg, bm, in, name, v, b, &first,
				    why, whylen) != 0)
					return -1;
			}
		}
		buf_append(b, "}", 1);
	}
	json_object_object_get_ex(in->point, "payload", &payload);
	buf_appends(b, ",\"payload\":");
	if (payload == NULL || !json_object_is_type(payload, json_type_object)) {
		if (in->hash != NULL)
			buf_printf(b, "{\"content_hash\":\"%s\"}", in->hash);
		else
			buf_appends(b, "{}");
	} else {
		/* the payload's own text, with the hash as its last member */
		ptext = serial(payload);
		plen = strlen(ptext);
		if (in->hash == NULL)
			buf_append(b, ptext, plen);
		else {
			buf_append(b, ptext, plen - 1);
			buf_printf(b, "%s\"content_hash\":\"%s\"}",
			    json_object_object_length(payload) ? "," : "", in->hash);
		}
	}
	buf_append(b, "}", 1);
	return 0;
}
