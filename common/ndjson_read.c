/* ndjson_read.c: read NDJSON one bounded line at a time, strictly, with positioned errors. */
/*
 * A line is read byte by byte from the stdio buffer (getc_unlocked is a
 * pointer bump) into a buffer that never grows past max_line: once a line
 * is longer than that, only its first RAW_KEEP bytes are kept for the
 * reject file and the rest is skipped up to the next newline.  Reading is
 * resumable: when a signal interrupts a read (no SA_RESTART), the partial
 * line stays in the reader and the next call goes on where it stopped.
 *
 * Parsing is json-c's tokener with STRICT | VALIDATE_UTF8 and a depth
 * limit, plus a lexical pass of our own, because json-c 0.16's strict mode
 * still accepts single-quoted strings, NaN/Infinity, "1.", raw control
 * characters in strings and overlong or surrogate UTF-8 sequences.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "buf.h"
#include "jsonutil.h"
#include "ndjson_read.h"
#include "signals.h"
#include "xalloc.h"

#define RAW_KEEP	4096	/* bytes of an over-long line kept for the reject file */
#define NDJSON_MAX_DEPTH_TEXT	"512"	/* keep equal to NDJSON_MAX_DEPTH */
_Static_assert(NDJSON_MAX_DEPTH == 512, "update NDJSON_MAX_DEPTH_TEXT");
#define SHRINK_ABOVE	(1024 * 1024)	/* line buffer kept between lines */

struct ndjson_reader {
	FILE		*fp;		/* not owned */
	char		*name;		/* "stdin" or a path, for messages */
	size_t		 max_line;	/* bytes, without the newline */
	struct buf	 line;		/* the current line (bounded, see above) */
	size_t		 line_len;	/* bytes seen on the current line */
	int		 in_line;	/* a line is partly read (resume after EINTR) */
	size_t		 lineno;	/* number of the current / last line */
	size_t		 rec_line;	/* line of the record last returned */
	json_tokener	*tok;
};

struct ndjson_reader *
ndjson_reader_new(FILE *fp, const char *name, size_t max_line)
{
	struct ndjson_reader	*r;

	r = xcalloc(1, sizeof(*r));
	r->fp = fp;
	r->name = xstrdup(name != NULL ? name : "stdin");
	r->max_line = max_line != 0 ? max_line : NDJSON_DEFAULT_MAX_LINE;
	if ((r->tok = json_tokener_new_ex(NDJSON_MAX_DEPTH)) == NULL)
		abort();	/* only fails on allocation */
	json_tokener_set_flags(r->tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8 | JSON_TOKENER_ALLOW_TRAILING_CHARS);
	return r;
}

void
ndjson_reader_free(struct ndjson_reader *r)
{
	if (r == NULL)
		return;
	json_tokener_free(r->tok);
	buf_free(&r->line);
	free(r->name);
	free(r);
}

size_t
ndjson_reader_line(const struct ndjson_reader *r)
{
	return r->rec_line;
}

const char *
ndjson_reader_raw(const struct ndjson_reader *r, size_t *len)
{
	if (len != NULL)
		*len = r->line.len;
	return r->line.data != NULL ? r->line.data : "";
}

static void
set_error(struct ndjson_error *err, const char *name, size_t line, size_t col,
    const char *fmt, ...) __attribute__((__format__(__printf__, 5, 6)));

static void
set_error(struct ndjson_error *err, const char *name, size_t line, size_t col,
    const char *fmt, ...)
{
	va_list	 ap;

	if (err == NULL)
		return;
	err->line = line;
	err->col = col;
	va_start(ap, fmt);
	vsnprintf(err->reason, sizeof(err->reason), fmt, ap);
	va_end(ap);
	snprintf(err->message, sizeof(err->message), "%s:%zu:%zu: %s",
	    name, line, col, err->reason);
}

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
/* Parsing one line */

static const char *
tokener_reason(enum json_tokener_error e)
{
	switch (e) {
	case json_tokener_error_depth:
		return "nesting deeper than the limit of "
		    NDJSON_MAX_DEPTH_TEXT " levels";
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

/*
 * Parses s[0..len) as one JSON object. at_eof says the text ended without
 * a newline, so an unfinished value is a truncation.
 */
static struct json_object *
parse_text(json_tokener *tok, const char *name, size_t line, const char *s,
    size_t len, int at_eof, struct ndjson_error *err)
{
	struct json_object	*o;
	enum json_tokener_error	 e;
	const char		*why = "invalid JSON";	/* lex_strict sets it; gcc -O1 cannot tell */
	size_t			 end, bad;

	if (len > 0x7fffffff) {
		set_error(err, name, line, 1, "line too long to parse");
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
			set_error(err, name, line, len + 1, "%s",
			    at_eof ? "truncated JSON value at end of input" :
			    "JSON value not finished at end of line");
			return NULL;
		}
		end = len;
	} else
		end = json_tokener_get_parse_end(tok);
	/* A JSON null parses to a NULL object with success. */
	if (e != json_tokener_success) {
		json_object_put(o);
		/* json-c stops at the offending byte, or at the end. */
		set_error(err, name, line, end + 1, "%s", tokener_reason(e));
		return NULL;
	}
	bad = end;
	while (bad < len && is_ws((unsigned char)s[bad]))
		bad++;
	if (bad < len) {
		set_error(err, name, line, bad + 1,
		    "trailing bytes after JSON value");
		json_object_put(o);
		return NULL;
	}
	if (!lex_strict((const unsigned char *)s, end, &bad, &why)) {
		set_error(err, name, line, bad + 1, "%s", why);
		json_object_put(o);
		return NULL;
	}
	if (o == NULL || !json_object_is_type(o, json_type_object)) {
		set_error(err, name, line, 1, "top-level value is %s, "
		    "not an object", type_article(o));
		json_object_put(o);
		return NULL;
	}
	return o;
}

struct json_object *
ndjson_parse_string(const char *s, size_t len, struct ndjson_error *err)
{
	struct json_object	*o;
	json_tokener		*tok;

	if (err != NULL) {
		memset(err, 0, sizeof(*err));
		err->raw = s;
		err->raw_len = len;
	}
	if ((tok = json_tokener_new_ex(NDJSON_MAX_DEPTH)) == NULL)
		abort();
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8 | JSON_TOKENER_ALLOW_TRAILING_CHARS);
	o = parse_text(tok, "input", 1, s, len, 1, err);
	json_tokener_free(tok);
	return o;
}

/* ------------------------------------------------------------------ */
/* Reading lines */

/*
 * Reads the rest of the current line. Returns 1 with *nl set when the
 * line ended with a newline (0 at EOF after some bytes), 0 at EOF with no
 * line, -1 on a read error (errno set; the partial line is kept).
 */
static int
read_line(struct ndjson_reader *r, int *nl)
{
	struct buf	 head = BUF_INIT;
	char		 chunk[4096];
	size_t		 n = 0, keep;
	int		 c, rc;

	if (!r->in_line) {
		/* Give back the memory of an earlier huge line. */
		if (r->line.cap > SHRINK_ABOVE)
			buf_free(&r->line);
		buf_reset(&r->line);
		r->line_len = 0;
	}
 again:
	for (;;) {
		c = getc_unlocked(r->fp);
		if (c == '\n' || c == EOF)
			break;
		r->in_line = 1;
		r->line_len++;
		if (r->line_len <= r->max_line) {
			chunk[n++] = (char)c;
			if (n == sizeof(chunk)) {
				buf_append(&r->line, chunk, n);
				n = 0;
			}
		} else if (r->line_len == r->max_line + 1) {
			/* Over the limit: keep only the head, drop the rest. */
			buf_append(&r->line, chunk, n);
			n = 0;
			keep = r->line.len < RAW_KEEP ? r->line.len : RAW_KEEP;
			buf_append(&head, r->line.data, keep);
			buf_free(&r->line);
			r->line = head;
			head = (struct buf)BUF_INIT;
		}
	}
	if (n > 0)
		buf_append(&r->line, chunk, n);
	if (c == '\n') {
		*nl = 1;
		r->in_line = 0;
		return 1;
	}
	if (ferror(r->fp)) {
		rc = errno;
		clearerr(r->fp);
		/*
		 * Only a stop request (signals.h) ends the read early; any
		 * other handled signal (SIGCHLD, a timer) is just retried.
		 */
		if (rc == EINTR && signal_received == 0) {
			n = 0;
			goto again;
		}
		errno = rc != 0 ? rc : EIO;
		return -1;
	}
	*nl = 0;
	if (!r->in_line)
		return 0;
	r->in_line = 0;
	return 1;
}

static int
is_blank(const char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return 0;
	return 1;
}

enum ndjson_status
ndjson_read(struct ndjson_reader *r, struct json_object **out,
    struct ndjson_error *err)
{
	struct json_object	*o;
	int			 nl, rc;

	*out = NULL;
	for (;;) {
		if ((rc = read_line(r, &nl)) <= 0)
			return rc == 0 ? NDJSON_EOF : NDJSON_IOERR;
		r->lineno++;
		r->rec_line = r->lineno;
		if (err != NULL) {
			memset(err, 0, sizeof(*err));
			err->raw = r->line.data;
			err->raw_len = r->line.len;
		}
		if (r->line_len > r->max_line) {
			if (err != NULL)
				err->raw_truncated = 1;
			set_error(err, r->name, r->lineno, r->max_line + 1,
			    "line longer than %zu bytes", r->max_line);
			return NDJSON_BAD;
		}
		/* CRLF: the CR belongs to the line ending, not the record. */
		if (r->line.len > 0 && r->line.data[r->line.len - 1] == '\r') {
			r->line.data[--r->line.len] = '\0';
			if (err != NULL)
				err->raw_len = r->line.len;
		}
		if (is_blank(r->line.data, r->line.len))
			continue;
		o = parse_text(r->tok, r->name, r->lineno, r->line.data,
		    r->line.len, !nl, err);
		if (o == NULL)
			return NDJSON_BAD;
		*out = o;
		return NDJSON_OK;
	}
}
