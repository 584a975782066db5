/* point.c: turn one incoming point into the PointStruct text sent to Qdrant (vectors resolved, hash added). */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "buf.h"
#include "jsonutil.h"
#include "xalloc.h"
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

/*
 * Appends "name":value for one named vector, or nothing when it is
 * dropped. A dense Document to be replaced by its embedding is written as
 * is and its span noted (the hole); a sparse one computed here leaves a
 * hole of its own, its text kept for BM25 when the point is sent.
 */
static int
one_vector(const struct upsert_config *cfg, struct upsert_pstruct *ps,
    const char *name, struct json_object *v, struct buf *b, int *first,
    char *why, size_t whylen)
{
	int			 isdoc;
	const char		*model = NULL;

	isdoc = json_object_is_type(v, json_type_object) &&
	    jget_str(v, "text") != NULL && (model = jget_str(v, "model")) != NULL;
	if (isdoc && strcmp(name, "dense") == 0) {
		if (cfg->dense == DENSE_NONE)
			return 0;
		if (cfg->dense == DENSE_ENDPOINT) {
			put_name(b, *first, name);
			ps->dense_at = b->len;
			buf_appends(b, serial(v));
			ps->dense_end = b->len;
			*first = 0;
			return 0;
		}
		/* server mode: the Document as is */
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
			ps->sparse_at = b->len;
			free(ps->sparse_text);
			ps->sparse_text = xstrdup(jget_str(v, "text"));
			ps->sparse_len = strlen(ps->sparse_text);
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
upsert_pstruct_make(const struct upsert_config *cfg, struct json_object *point,
    const char *hash, struct upsert_pstruct *ps, char *why, size_t whylen)
{
	struct json_object	*id, *vec, *payload = NULL;
	struct buf		 tb = BUF_INIT, *b = &tb;
	const char		*ptext;
	size_t			 plen;
	int			 first = 1;

	memset(ps, 0, sizeof(*ps));
	if (!json_object_object_get_ex(point, "id", &id)) {
		snprintf(why, whylen, "point has no id");
		return -1;
	}
	buf_printf(b, "{\"id\":%s,\"vector\":", serial(id));
	vec = vectors_of(point);
	if (vec != NULL && !json_object_is_type(vec, json_type_object))
		buf_appends(b, serial(vec));	/* an unnamed dense array */
	else {
		buf_append(b, "{", 1);
		if (vec != NULL) {
			json_object_object_foreach(vec, name, v) {
				if (one_vector(cfg, ps, name, v, b, &first,
				    why, whylen) != 0) {
					buf_free(b);
					upsert_pstruct_free(ps);
					return -1;
				}
			}
		}
		buf_append(b, "}", 1);
	}
	json_object_object_get_ex(point, "payload", &payload);
	buf_appends(b, ",\"payload\":");
	if (payload == NULL || !json_object_is_type(payload, json_type_object)) {
		if (hash != NULL)
			buf_printf(b, "{\"content_hash\":\"%s\"}", hash);
		else
			buf_appends(b, "{}");
	} else {
		/* the payload's own text, with the hash as its last member */
		ptext = serial(payload);
		plen = strlen(ptext);
		if (hash == NULL)
			buf_append(b, ptext, plen);
		else {
			buf_append(b, ptext, plen - 1);
			buf_printf(b, "%s\"content_hash\":\"%s\"}",
			    json_object_object_length(payload) ? "," : "", hash);
		}
	}
	buf_append(b, "}", 1);
	ps->text = buf_release(b, &ps->len);
	return 0;
}

size_t
upsert_pstruct_write(const struct upsert_pstruct *ps, struct upsert_bm25 *bm,
    const char *vec, size_t veclen, struct buf *b)
{
	struct upsert_sparse	 sv = { 0 };
	size_t			 at = 0, start = b->len;
	int			 dense_first;

	/* the holes in the order they stand in the text */
	dense_first = ps->dense_end == 0 || ps->sparse_text == NULL ||
	    ps->dense_at < ps->sparse_at;
	if (ps->sparse_text != NULL && !dense_first) {
		buf_append(b, ps->text, ps->sparse_at);
		at = ps->sparse_at;
		upsert_bm25_doc(bm, ps->sparse_text, &sv);
		upsert_sparse_json(&sv, b);
	}
	if (ps->dense_end != 0 && vec != NULL) {
		buf_append(b, ps->text + at, ps->dense_at - at);
		buf_append(b, vec, veclen);
		at = ps->dense_end;
	}
	if (ps->sparse_text != NULL && dense_first) {
		buf_append(b, ps->text + at, ps->sparse_at - at);
		at = ps->sparse_at;
		upsert_bm25_doc(bm, ps->sparse_text, &sv);
		upsert_sparse_json(&sv, b);
	}
	buf_append(b, ps->text + at, ps->len - at);
	upsert_sparse_free(&sv);
	return b->len - start;
}

void
upsert_pstruct_free(struct upsert_pstruct *ps)
{
	free(ps->text);
	free(ps->sparse_text);
	memset(ps, 0, sizeof(*ps));
}

int
upsert_point_text(const struct upsert_config *cfg, struct upsert_bm25 *bm,
    const struct upsert_point_in *in, struct buf *b, char *why, size_t whylen)
{
	struct upsert_pstruct	 ps;
	const char		*vec = NULL;

	if (upsert_pstruct_make(cfg, in->point, in->hash, &ps, why, whylen) != 0)
		return -1;
	if (in->dense != NULL)
		vec = serial(in->dense);
	upsert_pstruct_write(&ps, bm, vec, vec ? strlen(vec) : 0, b);
	upsert_pstruct_free(&ps);
	return 0;
}
