/* jparse.h: the one strict JSON parser, for NDJSON lines, files and HTTP bodies, with positioned errors. */
#ifndef PLEXPIPE_JPARSE_H
#define PLEXPIPE_JPARSE_H

#include <stddef.h>

#include <json-c/json.h>

#define JPARSE_MAX_DEPTH	512	/* far above Plex's ~12; bounds parser recursion */

/*
 * Where and why a text was refused. `message` is the ready-made
 * "WHAT:LINE:COL: reason" text; line and col are 1-based (col in bytes).
 */
struct jerr {
	size_t	 line;
	size_t	 col;
	char	 reason[160];	/* e.g. "invalid UTF-8", "trailing bytes after JSON value" */
	char	 message[512];	/* "plex answer:3:17: unexpected character" */
};

/*
 * The rules (RFC 8259, stricter than json-c's own strict mode): one JSON
 * value, whitespace around it only; no single quotes, NaN, Infinity, "1.",
 * raw control characters in strings or invalid, overlong or surrogate
 * UTF-8; nesting at most JPARSE_MAX_DEPTH deep. A top-level null is
 * refused too: every caller wants an object or an array.
 *
 * jparse() parses buf[0..len) and labels messages with `what` (a path,
 * "qdrant answer"). Returns a new reference, or NULL with *err filled
 * (err may be NULL).
 */
struct json_object *jparse(const char *buf, size_t len, const char *what,
	    struct jerr *err);
/* The same for a whole file; an unreadable file is an error naming errno's text. */
struct json_object *jparse_file(const char *path, struct jerr *err);

/*
 * For readers that parse many texts (ndjson_read.c): a tokener set up
 * for jparse_text(), and one text parsed with it. line is the number of
 * the text's first line. JPARSE_OBJECT refuses any top-level value but an
 * object; JPARSE_LINE says the text is one NDJSON line that ended with a
 * newline, so an unfinished value is "not finished at end of line"
 * rather than a truncation.
 */
#define JPARSE_OBJECT	0x1
#define JPARSE_LINE	0x2
#define JPARSE_CHECKED	0x4	/* an element jparse_split() yielded: its lexical pass is done */
json_tokener *jparse_tokener_new(void);
struct json_object *jparse_text(json_tokener *, const char *what, size_t line,
	    const char *s, size_t len, int flags, struct jerr *err);

/*
 * Splitting a big object without building its tree (qdrant-upsert reads
 * `points` lines of 2 MB whose json-c tree would take ten times that).
 * jparse_split() checks that s[0..len) is one JSON object as jparse()
 * would accept it, with a validating scanner that builds nothing, and
 * finds its top-level member `name`. It returns 1 when the text is sure
 * to parse and the member appears once, as an array: *arr is the array's
 * span and *elems (the caller frees it) holds the span of each element,
 * *nelems of them. Else it returns 0 -- the member is absent, not an
 * array, given twice, or the text is bad or doubtful (nesting near the
 * limit, a \u surrogate escape, a top-level key with an escape) -- and
 * the caller parses the whole text with jparse, which decides and names
 * any error. Each element then parses alone with jparse_text() (an
 * element "null" excepted: json-c's NULL), with JPARSE_CHECKED: the
 * scanner did the lexical pass for the whole text.
 */
struct jspan {
	size_t	 off;
	size_t	 len;
};
int	 jparse_split(const char *s, size_t len, const char *name,
	    struct jspan *arr, struct jspan **elems, size_t *nelems);

#endif
