/* jparse.c: the one strict JSON parser, for NDJSON lines, files and HTTP bodies, with positioned errors. */
/*
 * json-c's tokener with STRICT | VALIDATE_UTF8 and a depth limit, plus a
 * lexical pass of our own, because json-c 0.16's strict mode still
 * accepts single-quoted strings, NaN/Infinity, "1.", raw control
 * characters in strings and overlong or surrogate UTF-8 sequences.  Every
 * JSON text the programs read (their input lines, state files, service
 * answers) goes through here, so one input is judged the same everywhere.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "buf.h"
#include "jparse.h"
#include "utf8.h"
#include "xalloc.h"

#define JPARSE_MAX_DEPTH_TEXT	"512"	/* keep equal to JPARSE_MAX_DEPTH */
_Static_assert(JPARSE_MAX_DEPTH == 512, "update JPARSE_MAX_DEPTH_TEXT");

/* ------------------------------------------------------------------ */
/* The strict lexical pass */

static int
is_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static int
is_hex(unsigned char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Scans a string starting after its opening quote; returns the index after the closing one. */
static size_t
lex_string(const unsigned char *s, size_t len, size_t i, size_t *bad,
    const char **why)
{
	size_t	 n, k;

	while (i < len) {
		if (s[i] == '"')
			return i + 1;
		if (s[i] == '\\') {
			if (i + 1 >= len)
				break;
			if (s[i + 1] == 'u') {
				for (k = 2; k < 6; k++)
					if (i + k >= len || !is_hex(s[i + k])) {
						*bad = i;
						*why = "invalid \\u escape";
						return 0;
					}
				i += 6;
			} else if (strchr("\"\\/bfnrt", s[i + 1]) != NULL &&
			    s[i + 1] != '\0') {
				i += 2;
			} else {
				*bad = i;
				*why = "invalid escape in string";
				return 0;
			}
		} else if (s[i] < 0x20) {
			*bad = i;
			*why = "control character in string";
			return 0;
		} else if (s[i] < 0x80) {
			i++;
		} else if ((n = jutf8_seqlen(s + i, len - i)) == 0) {
			*bad = i;
			*why = "invalid UTF-8";
			return 0;
		} else
			i += n;
	}
	*bad = len;
	*why = "unterminated string";
	return 0;
}

/* A number per RFC 8259; returns the index after it, 0 when malformed. */
static size_t
lex_number(const unsigned char *s, size_t len, size_t i)
{
	if (i < len && s[i] == '-')
		i++;
	if (i < len && s[i] == '0')
		i++;
	else if (i < len && s[i] >= '1' && s[i] <= '9')
		while (i < len && is_digit(s[i]))
			i++;
	else
		return 0;
	if (i < len && s[i] == '.') {
		if (++i >= len || !is_digit(s[i]))
			return 0;
		while (i < len && is_digit(s[i]))
			i++;
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i >= len || !is_digit(s[i]))
			return 0;
		while (i < len && is_digit(s[i]))
			i++;
	}
	return i;
}

/*
 * Checks what json-c's strict mode lets through. Structure (brackets,
 * commas, colons) is json-c's job and already checked; this checks the
 * tokens. Returns 1 when fine, else 0 with the offset and the reason.
 */
static int
lex_strict(const unsigned char *s, size_t len, size_t *bad, const char **why)
{
	static const char *const words[] = { "true", "false", "null" };
	size_t	 i, j, n, w;

	for (i = 0; i < len;) {
		if (is_ws(s[i]) || strchr("{}[]:,", s[i]) != NULL) {
			if (s[i] == '\0')
				goto unexpected;
			i++;
		} else if (s[i] == '"') {
			if ((j = lex_string(s, len, i + 1, bad, why)) == 0)
				return 0;
			i = j;
		} else if (s[i] == '-' || is_digit(s[i])) {
			j = lex_number(s, len, i);
			if (j == 0 || (j < len && (is_digit(s[j]) ||
			    s[j] == '.' || s[j] == 'e' || s[j] == 'E'))) {
				*bad = i;
				*why = "malformed number";
				return 0;
			}
			i = j;
		} else {
			for (w = 0; w < 3; w++) {
				n = strlen(words[w]);
				if (len - i >= n && memcmp(s + i, words[w], n) == 0)
					break;
			}
			if (w == 3)
				goto unexpected;
			i += n;
		}
	}
	return 1;
 unexpected:
	*bad = i;
	*why = s[i] >= 0x80 && jutf8_seqlen(s + i, len - i) == 0 ?
	    "invalid UTF-8" : "unexpected character";
	return 0;
}

/* ------------------------------------------------------------------ */
/* Parsing one text */

static void
set_error(struct jerr *err, const char *what, size_t line, const char *s,
    size_t off, const char *fmt, ...)
    __attribute__((__format__(__printf__, 6, 7)));

/*
 * Fills err for the byte at s[off]: its line counts the newlines before
 * it from `line`, its column the bytes since the last of them.
 */
static void
set_error(struct jerr *err, const char *what, size_t line, const char *s,
    size_t off, const char *fmt, ...)
{
	va_list	 ap;
	size_t	 i, bol = 0;

	if (err == NULL)
		return;
	for (i = 0; i < off && s != NULL; i++)
		if (s[i] == '\n') {
			line++;
			bol = i + 1;
		}
	err->line = line;
	err->col = off - bol + 1;
	va_start(ap, fmt);
	vsnprintf(err->reason, sizeof(err->reason), fmt, ap);
	va_end(ap);
	snprintf(err->message, sizeof(err->message), "%s:%zu:%zu: %s",
	    what, err->line, err->col, err->reason);
}

static const char *
tokener_reason(enum json_tokener_error e)
{
	switch (e) {
	case json_tokener_error_depth:
		return "nesting deeper than the limit of "
		    JPARSE_MAX_DEPTH_TEXT " levels";
	case json_tokener_error_parse_utf8_string:
		return "invalid UTF-8";
	case json_tokener_error_parse_eof:
		return "unexpected end of data";
	default:
		return json_tokener_error_desc(e);
	}
}

static const char *
type_article(struct json_object *o)
{
	switch (json_object_get_type(o)) {
	case json_type_object:
		return "an object";
	case json_type_array:
		return "an array";
	case json_type_string:
		return "a string";
	case json_type_int:
	case json_type_double:
		return "a number";
	case json_type_boolean:
		return "a boolean";
	case json_type_null:
	default:
		return "null";
	}
}

json_tokener *
jparse_tokener_new(void)
{
	json_tokener	*tok;

	/* json_tokener_new_ex fails only on allocation: xalloc's rule. */
	tok = xnonnull(json_tokener_new_ex(JPARSE_MAX_DEPTH));
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8 | JSON_TOKENER_ALLOW_TRAILING_CHARS);
	return tok;
}

struct json_object *
jparse_text(json_tokener *tok, const char *what, size_t line, const char *s,
    size_t len, int flags, struct jerr *err)
{
	struct json_object	*o;
	enum json_tokener_error	 e;
	const char		*why = "invalid JSON";	/* lex_strict sets it; gcc -O1 cannot tell */
	size_t			 end, bad;

	if (err != NULL)
		memset(err, 0, sizeof(*err));
	if (len > 0x7fffffff) {
		set_error(err, what, line, s, 0, "line too long to parse");
		return NULL;
	}
	json_tokener_reset(tok);
	o = json_tokener_parse_ex(tok, s, (int)len);
	e = json_tokener_get_error(tok);
	if (e == json_tokener_continue) {
		/* A bare scalar (123, true) needs a delimiter to end. */
		o = json_tokener_parse_ex(tok, " ", 1);
		e = json_tokener_get_error(tok);
		if (e == json_tokener_continue) {
			set_error(err, what, line, s, len, "%s",
			    (flags & JPARSE_LINE) ?
			    "JSON value not finished at end of line" :
			    "truncated JSON value at end of input");
			return NULL;
		}
		end = len;
	} else
		end = json_tokener_get_parse_end(tok);
	/* A JSON null parses to a NULL object with success. */
	if (e != json_tokener_success) {
		json_object_put(o);
		/* json-c stops at the offending byte, or at the end. */
		set_error(err, what, line, s, end, "%s", tokener_reason(e));
		return NULL;
	}
	bad = end;
	while (bad < len && is_ws((unsigned char)s[bad]))
		bad++;
	if (bad < len) {
		set_error(err, what, line, s, bad,
		    "trailing bytes after JSON value");
		json_object_put(o);
		return NULL;
	}
	if (!(flags & JPARSE_CHECKED) &&
	    !lex_strict((const unsigned char *)s, end, &bad, &why)) {
		set_error(err, what, line, s, bad, "%s", why);
		json_object_put(o);
		return NULL;
	}
	if (o == NULL || ((flags & JPARSE_OBJECT) &&
	    !json_object_is_type(o, json_type_object))) {
		set_error(err, what, line, s, 0, "top-level value is %s%s",
		    type_article(o), (flags & JPARSE_OBJECT) ?
		    ", not an object" : "");
		json_object_put(o);
		return NULL;
	}
	return o;
}

struct json_object *
jparse(const char *buf, size_t len, const char *what, struct jerr *err)
{
	struct json_object	*o;
	json_tokener		*tok;

	tok = jparse_tokener_new();
	o = jparse_text(tok, what != NULL ? what : "input", 1,
	    buf != NULL ? buf : "", buf != NULL ? len : 0, 0, err);
	json_tokener_free(tok);
	return o;
}

struct json_object *
jparse_file(const char *path, struct jerr *err)
{
	struct json_object	*o;
	struct buf		 b = BUF_INIT;
	char			 chunk[8192];
	size_t			 n;
	FILE			*fp;
	int			 saved;

	if ((fp = fopen(path, "re")) == NULL)
		goto ioerr;
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		buf_append(&b, chunk, n);
	if (ferror(fp)) {
		saved = errno;
		fclose(fp);
		errno = saved;
		goto ioerr;
	}
	fclose(fp);
	o = jparse(b.data, b.len, path, err);
	buf_free(&b);
	return o;
 ioerr:
	if (err != NULL) {
		memset(err, 0, sizeof(*err));
		snprintf(err->reason, sizeof(err->reason), "%s",
		    strerror(errno != 0 ? errno : EIO));
		snprintf(err->message, sizeof(err->message), "%s: %s", path,
		    err->reason);
	}
	buf_free(&b);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Splitting without a tree */

/*
 * The scanner is a recognizer at least as strict as jparse_text(): what
 * it accepts, json-c's strict tokener and lex_strict() accept too. When
 * in doubt it gives up (returns 0) and the caller's jparse() decides, so
 * a bad text is always judged, and named, by the one parser.
 */
#define SPLIT_MAX_DEPTH	(JPARSE_MAX_DEPTH - 16)	/* doubtful near json-c's limit */

static size_t
split_ws(const unsigned char *s, size_t len, size_t i)
{
	while (i < len && is_ws(s[i]))
		i++;
	return i;
}

/*
 * A string at s[i] (its quote); the index after it, 0 when bad or
 * doubtful. lex_string()'s rules, in one pass that skips plain ASCII by
 * table (the scanner reads every byte of a 2 MB line once more than
 * json-c does, so this loop is most of its cost).
 */
static size_t
split_string(const unsigned char *s, size_t len, size_t i)
{
	static unsigned char	 plain[256];
	size_t			 n, k;
	int			 c;

	if (!plain['a'])
		for (c = 0x20; c < 0x80; c++)
			plain[c] = c != '"' && c != '\\';
	for (i++; i < len;) {
		while (i < len && plain[s[i]])
			i++;
		if (i >= len)
			return 0;
		if (s[i] == '"')
			return i + 1;
		if (s[i] == '\\') {
			if (i + 1 >= len)
				return 0;
			if (s[i + 1] != 'u') {
				if (s[i + 1] == '\0' ||
				    strchr("\"\\/bfnrt", s[i + 1]) == NULL)
					return 0;
				i += 2;
				continue;
			}
			for (k = 2; k < 6; k++)
				if (i + k >= len || !is_hex(s[i + k]))
					return 0;
			/* json-c's handling of lone or paired surrogates is its own */
			if ((s[i + 2] == 'd' || s[i + 2] == 'D') &&
			    strchr("89abcdefABCDEF", s[i + 3]) != NULL)
				return 0;
			i += 6;
		} else if (s[i] < 0x20)
			return 0;
		else if ((n = jutf8_seqlen(s + i, len - i)) == 0)
			return 0;
		else
			i += n;
	}
	return 0;
}

static size_t	split_value(const unsigned char *, size_t, size_t, int);

/* The members of an object from its '{' on; the index after its '}'. */
static size_t
split_object(const unsigned char *s, size_t len, size_t i, int depth)
{
	i = split_ws(s, len, i + 1);
	if (i < len && s[i] == '}')
		return i + 1;
	for (;;) {
		if (i >= len || s[i] != '"' || (i = split_string(s, len, i)) == 0)
			return 0;
		i = split_ws(s, len, i);
		if (i >= len || s[i] != ':')
			return 0;
		i = split_ws(s, len, i + 1);
		if ((i = split_value(s, len, i, depth)) == 0)
			return 0;
		i = split_ws(s, len, i);
		if (i < len && s[i] == '}')
			return i + 1;
		if (i >= len || s[i] != ',')
			return 0;
		i = split_ws(s, len, i + 1);
	}
}

/* The elements of an array from its '[' on; the index after its ']'. */
static size_t
split_array(const unsigned char *s, size_t len, size_t i, int depth)
{
	i = split_ws(s, len, i + 1);
	if (i < len && s[i] == ']')
		return i + 1;
	for (;;) {
		if ((i = split_value(s, len, i, depth)) == 0)
			return 0;
		i = split_ws(s, len, i);
		if (i < len && s[i] == ']')
			return i + 1;
		if (i >= len || s[i] != ',')
			return 0;
		i = split_ws(s, len, i + 1);
	}
}

/* One value at s[i] (no whitespace before it); the index after it, 0 when bad. */
static size_t
split_value(const unsigned char *s, size_t len, size_t i, int depth)
{
	static const char *const words[] = { "true", "false", "null" };
	size_t	 j, n, w;

	if (i >= len)
		return 0;
	switch (s[i]) {
	case '{':
		return depth >= SPLIT_MAX_DEPTH ? 0 :
		    split_object(s, len, i, depth + 1);
	case '[':
		return depth >= SPLIT_MAX_DEPTH ? 0 :
		    split_array(s, len, i, depth + 1);
	case '"':
		return split_string(s, len, i);
	case 't':
	case 'f':
	case 'n':
		for (w = 0; w < 3; w++) {
			n = strlen(words[w]);
			if (len - i >= n && memcmp(s + i, words[w], n) == 0)
				return i + n;
		}
		return 0;
	default:
		/* what follows a number must end it: a delimiter, checked by the caller */
		j = lex_number(s, len, i);
		if (j == 0 || (j < len && (is_digit(s[j]) || s[j] == '.' ||
		    s[j] == 'e' || s[j] == 'E')))
			return 0;
		return j;
	}
}

int
jparse_split(const char *text, size_t len, const char *name, struct jspan *arr,
    struct jspan **elems, size_t *nelems)
{
	const unsigned char	*s = (const unsigned char *)text;
	struct jspan		*e = NULL;
	size_t			 i, k, v, n = 0, cap = 0, nlen = strlen(name);
	int			 found = 0, isarr = 0;

	*elems = NULL;
	*nelems = 0;
	if (len > 0x7fffffff)	/* jparse_text's limit */
		return 0;
	i = split_ws(s, len, 0);
	if (i >= len || s[i] != '{')
		return 0;
	i = split_ws(s, len, i + 1);
	if (i < len && s[i] == '}')
		return 0;
	for (;;) {
		if (i >= len || s[i] != '"' || (k = split_string(s, len, i)) == 0)
			goto doubt;
		/* a key with an escape may name the member all the same */
		if (memchr(s + i, '\\', k - i) != NULL)
			goto doubt;
		v = split_ws(s, len, k);
		if (v >= len || s[v] != ':')
			goto doubt;
		v = split_ws(s, len, v + 1);
		if (k - i - 2 == nlen && memcmp(s + i + 1, name, nlen) == 0) {
			if (found++)
				goto doubt;
			if (v < len && s[v] == '[') {
				/* the member's array, element by element */
				isarr = 1;
				arr->off = v;
				i = split_ws(s, len, v + 1);
				if (i < len && s[i] == ']')
					i++;
				else
					for (;;) {
						if ((k = split_value(s, len, i, 2)) == 0)
							goto doubt;
						if (n == cap) {
							cap = cap ? cap * 2 : 64;
							e = xreallocarray(e, cap,
							    sizeof(*e));
						}
						e[n].off = i;
						e[n++].len = k - i;
						i = split_ws(s, len, k);
						if (i < len && s[i] == ']') {
							i++;
							break;
						}
						if (i >= len || s[i] != ',')
							goto doubt;
						i = split_ws(s, len, i + 1);
					}
				arr->len = i - arr->off;
			} else if ((i = split_value(s, len, v, 1)) == 0)
				goto doubt;
		} else if ((i = split_value(s, len, v, 1)) == 0)
			goto doubt;
		i = split_ws(s, len, i);
		if (i < len && s[i] == '}')
			break;
		if (i >= len || s[i] != ',')
			goto doubt;
		i = split_ws(s, len, i + 1);
	}
	if (split_ws(s, len, i + 1) != len || !found || !isarr)
		goto doubt;
	*elems = e;
	*nelems = n;
	return 1;
 doubt:
	free(e);
	return 0;
}
