/* record.c: the wire-format record kinds (plex, points, end), their envelopes and checks. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "buf.h"
#include "jparse.h"
#include "jsonutil.h"
#include "record.h"

static int
has(struct json_object *o, const char *key)
{
	return o != NULL && json_object_is_type(o, json_type_object) &&
	    json_object_object_get_ex(o, key, NULL);
}

enum record_kind
record_kind_of(struct json_object *o)
{
	struct json_object	*k;
	const char		*s;

	if (o == NULL || !json_object_is_type(o, json_type_object))
		return REC_INVALID;
	if (has(o, "kind")) {
		k = jmember(o, "kind");
		if (k == NULL || !json_object_is_type(k, json_type_string))
			return REC_INVALID;
		s = json_object_get_string(k);
		if (strcmp(s, "plex") == 0)
			return REC_PLEX;
		if (strcmp(s, "points") == 0)
			return REC_POINTS;
		if (strcmp(s, "end") == 0)
			return REC_END;
		return REC_OTHER;
	}
	if (has(o, "ratingKey"))
		return REC_BARE_ITEM;
	if (has(o, "id"))
		return REC_BARE_POINT;
	return REC_INVALID;
}

const char *
record_kind_name(enum record_kind k)
{
	switch (k) {
	case REC_PLEX:
		return "plex";
	case REC_POINTS:
		return "points";
	case REC_END:
		return "end";
	case REC_BARE_ITEM:
		return "bare item";
	case REC_BARE_POINT:
		return "bare point";
	case REC_OTHER:
		return "other";
	case REC_INVALID:
	default:
		return "invalid";
	}
}

/* ------------------------------------------------------------------ */
/* Shape checks */

static int
is_type(struct json_object *v, enum json_type t)
{
	return v != NULL && json_object_is_type(v, t);
}

/* "v" absent or the integer 1; "seq" absent or a non-negative integer. */
static const char *
check_head(struct json_object *o, const char *bad_v, const char *bad_seq)
{
	struct json_object	*v;

	if (has(o, "v")) {
		v = jmember(o, "v");
		if (!is_type(v, json_type_int) ||
		    json_object_get_int64(v) != WIRE_VERSION)
			return bad_v;
	}
	if (has(o, "seq")) {
		v = jmember(o, "seq");
		if (!is_type(v, json_type_int) || json_object_get_int64(v) < 0)
			return bad_seq;
	}
	return NULL;
}

static int
all_objects(struct json_object *arr)
{
	size_t	 i, n;

	n = json_object_array_length(arr);
	for (i = 0; i < n; i++)
		if (!is_type(json_object_array_get_idx(arr, i),
		    json_type_object))
			return 0;
	return 1;
}

/* objects: 1 or 0 when the caller knows whether every item is an object, -1 to look. */
static const char *
check_plex(struct json_object *o, int objects)
{
	struct json_object	*v;
	const char		*why;

	if ((why = check_head(o, "plex record: v is not 1",
	    "plex record: seq is not a non-negative integer")) != NULL)
		return why;
	if (has(o, "section") && !is_type(jmember(o, "section"),
	    json_type_object))
		return "plex record: section is not an object";
	if (!is_type(v = jmember(o, "items"), json_type_array))
		return "plex record: items is not an array";
	if (objects == -1)
		objects = all_objects(v);
	if (!objects)
		return "plex record: an item is not an object";
	if (has(o, "shows") && !is_type(jmember(o, "shows"), json_type_object))
		return "plex record: shows is not an object";
	return NULL;
}

const char *
record_check_plex(struct json_object *o)
{
	return check_plex(o, -1);
}

const char *
record_check_plex_split(struct json_object *o, int all_objects)
{
	return check_plex(o, all_objects);
}

static const char not_object[] = "points record: a point is not an object";

const char *
record_check_points(struct json_object *o)
{
	struct json_object	*v;
	const char		*why;

	if ((why = check_head(o, "points record: v is not 1",
	    "points record: seq is not a non-negative integer")) != NULL)
		return why;
	if (!is_type(v = jmember(o, "points"), json_type_array))
		return "points record: points is not an array";
	if (!all_objects(v))
		return not_object;
	return NULL;
}

const char *
record_check_points_split(struct json_object *o, int all_objects)
{
	const char	*why;

	if ((why = record_check_points(o)) != NULL)
		return why;
	return all_objects ? NULL : not_object;
}

int
record_split(const char *text, size_t len, enum record_kind kind,
    struct json_object **env, struct jspan **el, size_t *nel,
    const char **why)
{
	const char	*name = kind == REC_PLEX ? "items" : "points";
	struct jspan	 arr;
	struct buf	 b = BUF_INIT;
	size_t		 i;
	int		 objects = 1;

	*env = NULL;
	*el = NULL;
	*nel = 0;
	*why = NULL;
	if ((kind != REC_PLEX && kind != REC_POINTS) ||
	    !jparse_split(text, len, name, &arr, el, nel))
		return 0;
	buf_append(&b, text, arr.off);
	buf_appends(&b, "[]");
	buf_append(&b, text + arr.off + arr.len, len - arr.off - arr.len);
	*env = jparse(b.data, b.len, "record", NULL);
	buf_free(&b);
	if (record_kind_of(*env) != kind) {
		json_object_put(*env);
		free(*el);
		*env = NULL;
		*el = NULL;
		*nel = 0;
		return 0;
	}
	for (i = 0; i < *nel; i++)
		if (text[(*el)[i].off] != '{')
			objects = 0;
	*why = kind == REC_PLEX ? record_check_plex_split(*env, objects) :
	    record_check_points_split(*env, objects);
	return 1;
}

const char *
record_check_end(struct json_object *o)
{
	struct json_object	*v;
	const char		*why;

	if ((why = check_head(o, "end record: v is not 1",
	    "end record: seq is not a non-negative integer")) != NULL)
		return why;
	if (!is_type(jmember(o, "complete"), json_type_boolean))
		return "end record: complete is not a boolean";
	if (has(o, "items") && (!is_type(v = jmember(o, "items"),
	    json_type_int) || json_object_get_int64(v) < 0))
		return "end record: items is not a non-negative integer";
	if (has(o, "sections") && !is_type(jmember(o, "sections"),
	    json_type_array))
		return "end record: sections is not an array";
	if (has(o, "rating_keys") && !is_type(jmember(o, "rating_keys"),
	    json_type_array))
		return "end record: rating_keys is not an array";
	if (has(o, "stats") && !is_type(jmember(o, "stats"), json_type_object))
		return "end record: stats is not an object";
	return NULL;
}

const char *
record_check_item(struct json_object *o)
{
	struct json_object	*v;

	if (!is_type(o, json_type_object))
		return "item is not an object";
	if ((v = jmember(o, "ratingKey")) == NULL)
		return "item has no ratingKey";
	if (!is_type(v, json_type_string) ||
	    json_object_get_string_len(v) == 0)
		return "item ratingKey is not a non-empty string";
	return NULL;
}

static int
is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

/* Qdrant takes a UUID hyphenated (8-4-4-4-12) or as 32 bare hex digits. */
static int
is_uuid(const char *s)
{
	size_t	 i, len = strlen(s);

	if (len == 32) {
		for (i = 0; i < 32; i++)
			if (!is_hex(s[i]))
				return 0;
		return 1;
	}
	if (len != 36)
		return 0;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!is_hex(s[i]))
			return 0;
	}
	return 1;
}

const char *
record_check_point(struct json_object *o)
{
	struct json_object	*v;

	if (!is_type(o, json_type_object))
		return "point is not an object";
	if ((v = jmember(o, "id")) == NULL)
		return "point has no id";
	if (is_type(v, json_type_int)) {
		/* json-c keeps 2^63..2^64-1 as uint64; get_int64 saturates. */
		if (json_object_get_int64(v) < 0)
			return "point id is a negative integer";
	} else if (is_type(v, json_type_string)) {
		if (!is_uuid(json_object_get_string(v)))
			return "point id is a string but not a UUID";
	} else
		return "point id is neither an unsigned integer nor a UUID";
	v = jmember(o, "vector");
	if (!is_type(v, json_type_object) && !is_type(v, json_type_array))
		return "point vector is missing or not an object or array";
	if (has(o, "payload") && (v = jmember(o, "payload")) != NULL &&
	    !is_type(v, json_type_object))
		return "point payload is not an object";
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Envelopes */

static struct json_object *
envelope(const char *kind)
{
	struct json_object	*o;

	o = json_object_new_object();
	json_object_object_add(o, "kind", json_object_new_string(kind));
	json_object_object_add(o, "v", json_object_new_int(WIRE_VERSION));
	return o;
}

struct json_object *
record_plex_new(int64_t seq, struct json_object *section,
    struct json_object *items, struct json_object *shows)
{
	struct json_object	*o;

	o = envelope("plex");
	json_object_object_add(o, "seq", json_object_new_int64(seq));
	json_object_object_add(o, "section", section != NULL ? section :
	    json_object_new_object());
	json_object_object_add(o, "items", items != NULL ? items :
	    json_object_new_array());
	json_object_object_add(o, "shows", shows != NULL ? shows :
	    json_object_new_object());
	return o;
}

struct json_object *
record_points_new(int64_t seq, struct json_object *points)
{
	struct json_object	*o;

	o = envelope("points");
	json_object_object_add(o, "seq", json_object_new_int64(seq));
	json_object_object_add(o, "points", points != NULL ? points :
	    json_object_new_array());
	return o;
}

struct json_object *
record_end_new(int complete)
{
	struct json_object	*o;

	o = envelope("end");
	json_object_object_add(o, "complete",
	    json_object_new_boolean(complete != 0));
	json_object_object_add(o, "items", json_object_new_int64(0));
	json_object_object_add(o, "sections", json_object_new_array());
	json_object_object_add(o, "rating_keys", json_object_new_array());
	json_object_object_add(o, "stats", json_object_new_object());
	return o;
}

/*
 * Adding to an existing key replaces its value in place (json-c keeps the
 * key's position), so a stage run twice over a stream does not reorder.
 */
void
record_end_add_stats(struct json_object *end, const char *stage,
    struct json_object *stats)
{
	struct json_object	*s;

	if (stats == NULL)
		stats = json_object_new_object();
	if ((s = jmember(end, "stats")) == NULL ||
	    !json_object_is_type(s, json_type_object)) {
		s = json_object_new_object();
		json_object_object_add(end, "stats", s);
	}
	json_object_object_add(s, stage, stats);
}

int
record_end_complete(struct json_object *end)
{
	return jget_true(end, "complete");
}
