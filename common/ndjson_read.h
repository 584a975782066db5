/* ndjson_read.h: read NDJSON one bounded line at a time, strictly, with positioned errors. */
#ifndef PLEXPIPE_NDJSON_READ_H
#define PLEXPIPE_NDJSON_READ_H

#include <stdio.h>
#include <stddef.h>

#include "jparse.h"

struct json_object;
struct ndjson_reader;

#define NDJSON_DEFAULT_MAX_LINE	(64u * 1024 * 1024)	/* DESIGN.md 2: 64 MiB */
#define NDJSON_RAW_KEEP		4096	/* bytes of an over-long line kept for the reject file */

/*
 * What ndjson_read() found on a bad line. `raw` points into the reader and
 * is valid until the next ndjson_read() call; for an over-long line it
 * holds the first bytes only (raw_truncated is set). `message` is the
 * ready-made "NAME:LINE:COL: reason" text. For a push reader, `raw` is
 * valid until the next ndjson_reader_feed() or ndjson_reader_take().
 */
struct ndjson_error {
	size_t		 line;		/* 1-based line number */
	size_t		 col;		/* 1-based byte column of the problem */
	char		 reason[160];	/* e.g. "invalid UTF-8", "trailing bytes after JSON value" */
	char		 message[512];	/* "stdin:12:7: unexpected character" */
	const char	*raw;		/* the line as read, without the newline */
	size_t		 raw_len;
	int		 raw_truncated;
};

enum ndjson_status {
	NDJSON_OK = 1,		/* *out holds a new reference to a JSON object */
	NDJSON_EOF = 0,		/* no more lines */
	NDJSON_BAD = -1,	/* bad line, err filled, reading may go on */
	NDJSON_IOERR = -2,	/* read error, errno set; stop. EINTR only when
				   signal_received (signals.h) is set: other
				   interruptions are retried, and a partly read
				   line is kept for the next call. On a
				   non-blocking descriptor EAGAIN means no
				   more input for now; the partly read line
				   is kept likewise */
	NDJSON_AGAIN = -3	/* push reader: no whole line buffered; feed
				   more bytes (or the end of input) */
};

/*
 * `name` labels messages ("stdin", a path). max_line 0 means the default.
 * The reader does not own fp. Blank lines (only spaces, tabs, CR) are
 * skipped; a CR before the LF is dropped; a last line without LF is read.
 * Every value must be a JSON object: anything else is a bad line.
 * Nesting deeper than NDJSON_MAX_DEPTH is a bad line, not a crash.
 * A line longer than max_line (CR included, LF not) is a bad line "line
 * longer than N bytes" at column N+1, with its first NDJSON_RAW_KEEP
 * bytes as raw text; the rest is skipped, never held.
 */
struct ndjson_reader *ndjson_reader_new(FILE *, const char *name, size_t max_line);
void	 ndjson_reader_free(struct ndjson_reader *);
enum ndjson_status ndjson_read(struct ndjson_reader *, struct json_object **out,
	    struct ndjson_error *err);
/* Line number of the record last returned (1-based). */
size_t	 ndjson_reader_line(const struct ndjson_reader *);
/*
 * The raw text of the record last returned, without newline and CR, NUL-
 * terminated (valid until the next read, feed or take).
 */
const char *ndjson_reader_raw(const struct ndjson_reader *, size_t *len);

/*
 * The push interface, for a caller that reads the input itself (meta-
 * enrich's parent polls a non-blocking stdin among its workers' pipes):
 * it feeds bytes as they arrive, in pieces cut anywhere, and takes whole
 * records with the same rules, line numbers, raw text and errors as
 * ndjson_read(). ndjson_reader_take() returns NDJSON_OK, NDJSON_BAD,
 * NDJSON_AGAIN when no whole line is buffered, or NDJSON_EOF once
 * ndjson_reader_feed_eof() was called and everything was taken (a last
 * line without LF is taken then). Feeding only after NDJSON_AGAIN keeps
 * the buffer within one line plus one feed; an over-long line is cut to
 * its head as it arrives.
 */
struct ndjson_reader *ndjson_reader_new_push(const char *name, size_t max_line);
void	 ndjson_reader_feed(struct ndjson_reader *, const void *, size_t);
void	 ndjson_reader_feed_eof(struct ndjson_reader *);
enum ndjson_status ndjson_reader_take(struct ndjson_reader *,
	    struct json_object **out, struct ndjson_error *err);
/* Bytes fed and not yet taken (an over-long line's skipped bytes not counted). */
size_t	 ndjson_reader_buffered(const struct ndjson_reader *);

/*
 * For a reader that parses some lines its own way (qdrant-upsert splits
 * big `points` lines and meta-enrich big `plex` lines, jparse.h's
 * jparse_split()): ndjson_read_text() is ndjson_read() without the parse
 * -- the same line numbers, length limit, CR and blank-line rules -- and
 * hands back the line's text (NDJSON_OK; valid until the next read).
 * ndjson_reader_parse() then parses that line exactly as ndjson_read()
 * would have, errors included.
 */
enum ndjson_status ndjson_read_text(struct ndjson_reader *, const char **text,
	    size_t *len, struct ndjson_error *err);
/* The same for a push reader: ndjson_reader_take() without the parse. */
enum ndjson_status ndjson_reader_take_text(struct ndjson_reader *,
	    const char **text, size_t *len, struct ndjson_error *err);
enum ndjson_status ndjson_reader_parse(struct ndjson_reader *,
	    struct json_object **out, struct ndjson_error *err);
/*
 * Parses an object element jparse_split() found in the line last taken as
 * text, at line[off..off+len) (JPARSE_OBJECT | JPARSE_CHECKED); errors
 * name the reader and the line. NULL on error.
 */
struct json_object *ndjson_reader_parse_span(struct ndjson_reader *,
	    size_t off, size_t len, struct ndjson_error *err);

/* Parses one complete JSON text that must be an object (jparse.h's rules, JPARSE_OBJECT). */
struct json_object *ndjson_parse_string(const char *s, size_t len,
	    struct ndjson_error *err);

#define NDJSON_MAX_DEPTH	JPARSE_MAX_DEPTH	/* jparse.h */

#endif
