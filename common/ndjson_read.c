/* ndjson_read.c: read NDJSON one bounded line at a time, strictly, with positioned errors. */
/*
 * Two ways in, one set of rules. The pull reader (ndjson_read) reads a
 * line byte by byte from the stdio buffer (getc_unlocked is a pointer
 * bump) into a buffer that never grows past max_line: once a line is
 * longer than that, only its first NDJSON_RAW_KEEP bytes are kept for the
 * reject file and the rest is skipped up to the next newline. Reading is
 * resumable: when a signal interrupts a read (no SA_RESTART), the partial
 * line stays in the reader and the next call goes on where it stopped.
 * The push reader (ndjson_reader_feed/take) is given bytes by a caller
 * that polls its own descriptors, splits them at newlines, and cuts an
 * over-long line to its head the same way. Either way each line goes
 * through take_line(): line numbers, CR, blank lines, the length limit,
 * and jparse.c, the one strict JSON parser.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "buf.h"
#include "jparse.h"
#include "ndjson_read.h"
#include "signals.h"
#include "xalloc.h"

#define RAW_KEEP	NDJSON_RAW_KEEP
#define SHRINK_ABOVE	(1024 * 1024)	/* line buffer kept between lines */

/* Push reader: where an over-long line stands (see ndjson_reader_feed). */
enum skip_state {
	SKIP_NONE = 0,
	SKIP_DROPPING,		/* its head is in `line`, its rest is dropped */
	SKIP_ENDED		/* its newline came: report it before what follows */
};

struct ndjson_reader {
	FILE		*fp;		/* not owned; NULL for a push reader */
	char		*name;		/* "stdin" or a path, for messages */
	size_t		 max_line;	/* bytes, without the newline */
	struct buf	 line;		/* the current line (bounded, see above) */
	size_t		 line_len;	/* bytes seen on the current line */
	int		 in_line;	/* a line is partly read (resume after EINTR) */
	size_t		 lineno;	/* number of the current / last line */
	size_t		 rec_line;	/* line of the record last returned */
	const char	*raw;		/* raw text of that record */
	size_t		 raw_len;
	json_tokener	*tok;
	int		 text_nl;	/* the line last taken ended with LF */
	/* push reader */
	struct buf	 in;		/* bytes fed, not yet taken */
	size_t		 off;		/* start of the first line not taken */
	size_t		 scan;		/* bytes after off known to hold no LF */
	enum skip_state	 skip;
	int		 eof;		/* ndjson_reader_feed_eof() was called */
};

struct ndjson_reader *
ndjson_reader_new(FILE *fp, const char *name, size_t max_line)
{
	struct ndjson_reader	*r;

	r = xcalloc(1, sizeof(*r));
	r->fp = fp;
	r->name = xstrdup(name != NULL ? name : "stdin");
	r->max_line = max_line != 0 ? max_line : NDJSON_DEFAULT_MAX_LINE;
	r->tok = jparse_tokener_new();
	r->raw = "";
	return r;
}

struct ndjson_reader *
ndjson_reader_new_push(const char *name, size_t max_line)
{
	return ndjson_reader_new(NULL, name, max_line);
}

void
ndjson_reader_free(struct ndjson_reader *r)
{
	if (r == NULL)
		return;
	json_tokener_free(r->tok);
	buf_free(&r->line);
	buf_free(&r->in);
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
		*len = r->raw_len;
	return r->raw;
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

/* Copies jparse's verdict into the reader's error. */
static void
copy_jerr(struct ndjson_error *err, const struct jerr *je)
{
	if (err == NULL)
		return;
	err->line = je->line;
	err->col = je->col;
	memcpy(err->reason, je->reason, sizeof(err->reason));
	memcpy(err->message, je->message, sizeof(err->message));
}

struct json_object *
ndjson_parse_string(const char *s, size_t len, struct ndjson_error *err)
{
	struct json_object	*o;
	json_tokener		*tok;
	struct jerr		 je;

	if (err != NULL) {
		memset(err, 0, sizeof(*err));
		err->raw = s;
		err->raw_len = len;
	}
	tok = jparse_tokener_new();
	if ((o = jparse_text(tok, "input", 1, s, len, JPARSE_OBJECT,
	    &je)) == NULL)
		copy_jerr(err, &je);
	json_tokener_free(tok);
	return o;
}

/* ------------------------------------------------------------------ */
/* Reading lines */

/* Bytes of an over-long line kept for the reject file (no more than it may have). */
static size_t
raw_keep(const struct ndjson_reader *r)
{
	return r->max_line < RAW_KEEP ? r->max_line : RAW_KEEP;
}

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
			keep = r->line.len < raw_keep(r) ? r->line.len :
			    raw_keep(r);
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

/*
 * One line, however it was read: s[0..len) is its text (NUL-terminated,
 * writable; only the head when the line was over-long), full_len the
 * bytes the line really had, nl whether a newline ended it. Returns
 * NDJSON_OK, NDJSON_BAD, or NDJSON_EOF for a blank line (skipped).
 */
static enum ndjson_status
take_line(struct ndjson_reader *r, char *s, size_t len, size_t full_len,
    int nl, struct json_object **out, struct ndjson_error *err)
{
	struct json_object	*o;
	struct jerr		 je;

	r->lineno++;
	r->rec_line = r->lineno;
	if (full_len > r->max_line && len > raw_keep(r))
		s[len = raw_keep(r)] = '\0';
	r->raw = s;
	r->raw_len = len;
	if (err != NULL) {
		memset(err, 0, sizeof(*err));
		err->raw = s;
		err->raw_len = len;
	}
	if (full_len > r->max_line) {
		if (err != NULL)
			err->raw_truncated = 1;
		set_error(err, r->name, r->lineno, r->max_line + 1,
		    "line longer than %zu bytes", r->max_line);
		return NDJSON_BAD;
	}
	/* CRLF: the CR belongs to the line ending, not the record. */
	if (len > 0 && s[len - 1] == '\r') {
		s[--len] = '\0';
		r->raw_len = len;
		if (err != NULL)
			err->raw_len = len;
	}
	if (is_blank(s, len))
		return NDJSON_EOF;
	r->text_nl = nl;
	if (out == NULL)
		return NDJSON_OK;	/* the text only (ndjson_read_text) */
	if ((o = jparse_text(r->tok, r->name, r->lineno, s, len,
	    JPARSE_OBJECT | (nl ? JPARSE_LINE : 0), &je)) == NULL) {
		copy_jerr(err, &je);
		return NDJSON_BAD;
	}
	*out = o;
	return NDJSON_OK;
}

/*
 * The next non-blank line of a FILE reader through take_line(): parsed
 * into *out, or (out NULL) its text only, as ndjson_read_text() wants.
 */
static enum ndjson_status
pull_line(struct ndjson_reader *r, struct json_object **out,
    struct ndjson_error *err)
{
	enum ndjson_status	 st;
	int			 nl, rc;

	for (;;) {
		if ((rc = read_line(r, &nl)) <= 0)
			return rc == 0 ? NDJSON_EOF : NDJSON_IOERR;
		if (r->line.data == NULL)
			buf_append(&r->line, "", 0);	/* a writable "" */
		st = take_line(r, r->line.data, r->line.len, r->line_len, nl,
		    out, err);
		if (st != NDJSON_EOF)
			return st;	/* NDJSON_EOF here: a blank line */
	}
}

enum ndjson_status
ndjson_read(struct ndjson_reader *r, struct json_object **out,
    struct ndjson_error *err)
{
	*out = NULL;
	r->raw = "";
	r->raw_len = 0;
	if (r->fp == NULL) {
		errno = EINVAL;	/* a push reader: ndjson_reader_take() */
		return NDJSON_IOERR;
	}
	return pull_line(r, out, err);
}

/* ------------------------------------------------------------------ */
/* The push interface */

/*
 * Bytes from the caller. An over-long line is cut here as its bytes
 * arrive, so what is held stays within max_line plus one feed: take()
 * moves its head to `line` when it sees max_line bytes without a newline
 * (SKIP_DROPPING), and from then on its bytes are only counted until its
 * newline (SKIP_ENDED), after which bytes are buffered again.
 */
void
ndjson_reader_feed(struct ndjson_reader *r, const void *data, size_t len)
{
	const char	*p = data, *nl;

	if (r->skip == SKIP_DROPPING) {
		if ((nl = memchr(p, '\n', len)) == NULL) {
			r->line_len += len;
			return;
		}
		r->line_len += (size_t)(nl - p);
		r->skip = SKIP_ENDED;
		len -= (size_t)(nl - p) + 1;
		p = nl + 1;
	}
	/* what was taken goes; raw pointers into it were valid until now */
	if (r->off > 0) {
		if (r->off == r->in.len && r->in.cap > SHRINK_ABOVE)
			buf_free(&r->in);
		else {
			memmove(r->in.data, r->in.data + r->off,
			    r->in.len - r->off);
			r->in.len -= r->off;
			r->in.data[r->in.len] = '\0';
		}
		r->off = 0;
	}
	buf_append(&r->in, p, len);
}

void
ndjson_reader_feed_eof(struct ndjson_reader *r)
{
	r->eof = 1;
}

size_t
ndjson_reader_buffered(const struct ndjson_reader *r)
{
	return r->in.len - r->off;
}

/* The over-long line whose head is in `line`: a bad record now. */
static enum ndjson_status
take_overlong(struct ndjson_reader *r, struct json_object **out,
    struct ndjson_error *err)
{
	int	 nl = r->skip == SKIP_ENDED;

	r->skip = SKIP_NONE;
	return take_line(r, r->line.data, r->line.len, r->line_len, nl, out,
	    err);
}

/* The next record of a push reader, parsed into *out or (out NULL) its text only. */
static enum ndjson_status
take_record(struct ndjson_reader *r, struct json_object **out,
    struct ndjson_error *err)
{
	enum ndjson_status	 st;
	char			*start, *nl;
	size_t			 avail, len;

	if (out != NULL)
		*out = NULL;
	r->raw = "";
	r->raw_len = 0;
	if (r->in.data == NULL)
		buf_append(&r->in, "", 0);	/* so that data + off is defined */
	for (;;) {
		if (r->skip == SKIP_ENDED ||
		    (r->skip == SKIP_DROPPING && r->eof))
			return take_overlong(r, out, err);
		if (r->skip == SKIP_DROPPING)
			return NDJSON_AGAIN;
		start = r->in.data + r->off;
		avail = r->in.len - r->off;
		nl = avail > r->scan ? memchr(start + r->scan, '\n',
		    avail - r->scan) : NULL;
		if (nl != NULL) {
			len = (size_t)(nl - start);
			*nl = '\0';
			r->off += len + 1;
			r->scan = 0;
			st = take_line(r, start, len, len, 1, out, err);
		} else if (avail > r->max_line) {
			/* over-long and not ended: keep its head, drop the rest */
			buf_reset(&r->line);
			buf_append(&r->line, start, raw_keep(r));
			r->line_len = avail;
			r->skip = SKIP_DROPPING;
			r->in.len = r->off;
			r->scan = 0;
			continue;
		} else if (!r->eof) {
			r->scan = avail;	/* look only at new bytes next time */
			return NDJSON_AGAIN;
		} else if (avail == 0)
			return NDJSON_EOF;
		else {
			/* a last line without LF (the buf keeps a NUL after it) */
			r->off = r->in.len;
			r->scan = 0;
			st = take_line(r, start, avail, avail, 0, out, err);
		}
		if (st != NDJSON_EOF)
			return st;
	}
}

enum ndjson_status
ndjson_reader_take(struct ndjson_reader *r, struct json_object **out,
    struct ndjson_error *err)
{
	return take_record(r, out, err);
}

enum ndjson_status
ndjson_reader_take_text(struct ndjson_reader *r, const char **text,
    size_t *len, struct ndjson_error *err)
{
	enum ndjson_status	 st;

	*text = NULL;
	*len = 0;
	if ((st = take_record(r, NULL, err)) == NDJSON_OK) {
		*text = r->raw;
		*len = r->raw_len;
	}
	return st;
}

enum ndjson_status
ndjson_read_text(struct ndjson_reader *r, const char **text, size_t *len,
    struct ndjson_error *err)
{
	enum ndjson_status	 st;

	*text = NULL;
	*len = 0;
	if ((st = pull_line(r, NULL, err)) == NDJSON_OK) {
		*text = r->raw;
		*len = r->raw_len;
	}
	return st;
}

enum ndjson_status
ndjson_reader_parse(struct ndjson_reader *r, struct json_object **out,
    struct ndjson_error *err)
{
	struct jerr	 je;

	if (err != NULL) {
		memset(err, 0, sizeof(*err));
		err->raw = r->raw;
		err->raw_len = r->raw_len;
	}
	if ((*out = jparse_text(r->tok, r->name, r->rec_line, r->raw,
	    r->raw_len, JPARSE_OBJECT | (r->text_nl ? JPARSE_LINE : 0),
	    &je)) == NULL) {
		copy_jerr(err, &je);
		return NDJSON_BAD;
	}
	return NDJSON_OK;
}

struct json_object *
ndjson_reader_parse_span(struct ndjson_reader *r, size_t off, size_t len,
    struct ndjson_error *err)
{
	struct json_object	*o;
	struct jerr		 je;

	if (err != NULL) {
		memset(err, 0, sizeof(*err));
		err->raw = r->raw;
		err->raw_len = r->raw_len;
	}
	if (off > r->raw_len || len > r->raw_len - off) {
		set_error(err, r->name, r->rec_line, 1, "no such part of the line");
		return NULL;
	}
	if ((o = jparse_text(r->tok, r->name, r->rec_line, r->raw + off,
	    len, JPARSE_OBJECT | JPARSE_CHECKED, &je)) == NULL)
		copy_jerr(err, &je);
	return o;
}
