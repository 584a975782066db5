/* jsonutil.c: null-safe json-c getters and builders shared by the stages. */
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <unistr.h>

#include "buf.h"
#include "jsonutil.h"
#include "xalloc.h"

/* The member, or NULL when obj is not an object or has no such key. */
static struct json_object *
member(struct json_object *obj, const char *key)
{
	struct json_object	*v;

	if (obj == NULL || !json_object_is_type(obj, json_type_object))
		return NULL;
	if (!json_object_object_get_ex(obj, key, &v))
		return NULL;
	return v;
}

const char *
jget_str(struct json_object *obj, const char *key)
{
	struct json_object	*v;

	if ((v = member(obj, key)) == NULL ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

struct json_object *
jget_obj(struct json_object *obj, const char *key)
{
	struct json_object	*v;

	if ((v = member(obj, key)) == NULL ||
	    !json_object_is_type(v, json_type_object))
		return NULL;
	return v;
}

struct json_object *
jget_arr(struct json_object *obj, const char *key)
{
	struct json_object	*v;

	if ((v = member(obj, key)) == NULL ||
	    !json_object_is_type(v, json_type_array))
		return NULL;
	return v;
}

int
jget_int(struct json_object *obj, const char *key, int64_t *out)
{
	struct json_object	*v;
	double			 d;

	if ((v = member(obj, key)) == NULL)
		return 0;
	if (json_object_is_type(v, json_type_int)) {
		*out = json_object_get_int64(v);
		return 1;
	}
	if (json_object_is_type(v, json_type_double)) {
		d = json_object_get_double(v);
		/* 2^63 is exactly representable; anything at or above it is not an int64. */
		if (isfinite(d) && d == trunc(d) && d >= -9223372036854775808.0 &&
		    d < 9223372036854775808.0) {
			*out = (int64_t)d;
			return 1;
		}
	}
	return 0;
}

int
jget_num(struct json_object *obj, const char *key, double *out)
{
	struct json_object	*v;

	if ((v = member(obj, key)) == NULL)
		return 0;
	if (json_object_is_type(v, json_type_int) ||
	    json_object_is_type(v, json_type_double)) {
		*out = json_object_get_double(v);
		return 1;
	}
	return 0;
}

int
jget_true(struct json_object *obj, const char *key)
{
	struct json_object	*v;

	if ((v = member(obj, key)) == NULL ||
	    !json_object_is_type(v, json_type_boolean))
		return 0;
	return json_object_get_boolean(v) ? 1 : 0;
}

struct json_object *
jstr_or_null(const char *s)
{
	return s != NULL ? json_object_new_string(s) : NULL;
}

void
jadd_ref(struct json_object *obj, const char *key, struct json_object *val)
{
	json_object_object_add(obj, key, val != NULL ? json_object_get(val) :
	    NULL);
}

/* ------------------------------------------------------------------ */
/* Canonical text */

/*
 * Our own escaper, not json-c's, so the hash input does not change with
 * the json-c version: only '"', '\\' and control characters are escaped,
 * the short forms where JSON has them, everything else is copied.
 */
static void
canon_string(struct buf *b, const char *s, size_t len)
{
	size_t	 i;
	unsigned char c;

	buf_append(b, "\"", 1);
	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		switch (c) {
		case '"':
			buf_append(b, "\\\"", 2);
			break;
		case '\\':
			buf_append(b, "\\\\", 2);
			break;
		case '\b':
			buf_append(b, "\\b", 2);
			break;
		case '\f':
			buf_append(b, "\\f", 2);
			break;
		case '\n':
			buf_append(b, "\\n", 2);
			break;
		case '\r':
			buf_append(b, "\\r", 2);
			break;
		case '\t':
			buf_append(b, "\\t", 2);
			break;
		default:
			if (c < 0x20)
				buf_printf(b, "\\u%04x", c);
			else
				buf_append(b, &s[i], 1);
		}
	}
	buf_append(b, "\"", 1);
}

/*
 * Numbers by value, not by their text: jq and other tools rewrite 7.0 as
 * 7 and 1e2 as 100, and such a round trip must not change a hash. An
 * integer value (of either json-c type) within 64 bits prints as that
 * integer, -0 as 0; any other double as the shortest %g text that reads
 * back as the same double, its exponent without '+' or leading zeros.
 */
static void
canon_number(struct buf *b, struct json_object *o)
{
	char	 t[40], *e, *w;
	double	 d;
	int	 prec;

	if (json_object_is_type(o, json_type_int)) {
		if (json_object_get_int64(o) < 0)
			buf_printf(b, "%" PRId64, json_object_get_int64(o));
		else
			buf_printf(b, "%" PRIu64, json_object_get_uint64(o));
		return;
	}
	d = json_object_get_double(o);
	if (!isfinite(d)) {
		buf_appends(b, "null");	/* JSON has no NaN or infinity */
		return;
	}
	if (d == trunc(d) && d >= -9223372036854775808.0 &&
	    d < 9223372036854775808.0) {
		buf_printf(b, "%" PRId64, (int64_t)d);
		return;
	}
	if (d == trunc(d) && d > 0 && d < 18446744073709551616.0) {
		buf_printf(b, "%" PRIu64, (uint64_t)d);
		return;
	}
	for (prec = 1; prec <= 17; prec++) {
		snprintf(t, sizeof(t), "%.*g", prec, d);
		if (strtod(t, NULL) == d)
			break;
	}
	if ((e = strchr(t, 'e')) != NULL) {
		/* "1.5e-07" -> "1.5e-7", "1e+21" -> "1e21" */
		w = e + 1;
		if (e[1] == '-')
			w = e + 2;
		e = w + (*w == '+');
		while (*e == '0' && e[1] != '\0')
			e++;
		memmove(w, e, strlen(e) + 1);
	}
	buf_appends(b, t);
}

static int
cmp_keys(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void
canon(struct buf *b, struct json_object *o)
{
	struct json_object_iterator	 it, end;
	const char			**keys;
	size_t				 i, n;

	switch (json_object_get_type(o)) {
	case json_type_null:
		buf_appends(b, "null");
		break;
	case json_type_boolean:
		buf_appends(b, json_object_get_boolean(o) ? "true" : "false");
		break;
	case json_type_int:
	case json_type_double:
		canon_number(b, o);
		break;
	case json_type_string:
		canon_string(b, json_object_get_string(o),
		    (size_t)json_object_get_string_len(o));
		break;
	case json_type_array:
		buf_append(b, "[", 1);
		n = json_object_array_length(o);
		for (i = 0; i < n; i++) {
			if (i > 0)
				buf_append(b, ",", 1);
			canon(b, json_object_array_get_idx(o, i));
		}
		buf_append(b, "]", 1);
		break;
	case json_type_object:
		n = (size_t)json_object_object_length(o);
		keys = xreallocarray(NULL, n, sizeof(*keys));
		i = 0;
		it = json_object_iter_begin(o);
		end = json_object_iter_end(o);
		for (; !json_object_iter_equal(&it, &end);
		    json_object_iter_next(&it))
			keys[i++] = json_object_iter_peek_name(&it);
		qsort(keys, n, sizeof(*keys), cmp_keys);
		buf_append(b, "{", 1);
		for (i = 0; i < n; i++) {
			if (i > 0)
				buf_append(b, ",", 1);
			canon_string(b, keys[i], strlen(keys[i]));
			buf_append(b, ":", 1);
			canon(b, json_object_object_get(o, keys[i]));
		}
		buf_append(b, "}", 1);
		free(keys);
		break;
	}
}

char *
jcanonical(struct json_object *o)
{
	struct buf	 b = BUF_INIT;

	canon(&b, o);
	return buf_release(&b, NULL);
}

/* ------------------------------------------------------------------ */
/* UTF-8 */

/* libunistring's u8_mbtoucr and u8_check are strict in the same way. */
size_t
jutf8_seqlen(const unsigned char *s, size_t avail)
{
	ucs4_t	c;
	int	n;

	if (avail == 0)
		return 0;
	if (s[0] < 0x80)
		return 1;
	return (n = u8_mbtoucr(&c, s, avail)) > 0 ? (size_t)n : 0;
}

int
jutf8_valid(const char *s, size_t len, size_t *bad)
{
	const uint8_t	*u = (const uint8_t *)s, *e;

	if ((e = u8_check(u, len)) == NULL)
		return 1;
	if (bad != NULL)
		*bad = (size_t)(e - u);
	return 0;
}
