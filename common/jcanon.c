/* jcanon.c: canonical JSON text (keys sorted, numbers by value), the input of content hashes. */
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "buf.h"
#include "jcanon.h"
#include "strutil.h"
#include "xalloc.h"

/*
 * Our own escaper, not json-c's, so the hash input does not change with
 * the json-c version: only '"', '\\' and control characters are escaped,
 * the short forms where JSON has them, everything else is copied.
 */
static void
canon_string(struct buf *b, const char *s, size_t len)
{
	size_t		 i, run;
	unsigned char	 c;

	buf_append(b, "\"", 1);
	for (i = 0; i < len; i++) {
		/* plain bytes go in runs: this is most of a point's text */
		for (run = i; run < len; run++) {
			c = (unsigned char)s[run];
			if (c < 0x20 || c == '"' || c == '\\')
				break;
		}
		if (run > i) {
			buf_append(b, s + i, run - i);
			if ((i = run) == len)
				break;
		}
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
			buf_printf(b, "\\u%04x", c);
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
		qsort(keys, n, sizeof(*keys), strp_cmp);
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
