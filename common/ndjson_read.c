/* ndjson_read.c: read NDJSON one bounded line at a time, strictly, with positioned errors. */
/*
 * A line is read byte by byte from the stdio buffer (getc_unlocked is a
 * pointer bump) into a buffer that never grows past max_line: once a line
 * is longer than that, only its first RAW_KEEP bytes are kept for the
 * reject file and the rest is skipped up to the next newline.  Reading is
 * resumable: when a signal interrupts a read (no SA_RESTART), the partial
 * line stays in the reader and the next call goes on where it stopped.
 * Each line is parsed by jparse.c, the one strict JSON parser.
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

#define RAW_KEEP	4096	/* bytes of an over-long line kept for the reject file */
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
	int		 text_nl;	/* ndjson_read_text's line ended with LF */
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
	struct jerr		 je;
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
		if ((o = jparse_text(r->tok, r->name, r->lineno, r->line.data,
		    r->line.len, JPARSE_OBJECT | (nl ? JPARSE_LINE : 0),
		    &je)) == NULL) {
			copy_jerr(err, &je);
			return NDJSON_BAD;
		}
		*out = o;
		return NDJSON_OK;
	}
}

enum ndjson_status
ndjson_read_text(struct ndjson_reader *r, const char **text, size_t *len,
    struct ndjson_error *err)
{
	int	 nl, rc;

	*text = NULL;
	*len = 0;
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
		if (r->line.len > 0 && r->line.data[r->line.len - 1] == '\r') {
			r->line.data[--r->line.len] = '\0';
			if (err != NULL)
				err->raw_len = r->line.len;
		}
		if (is_blank(r->line.data, r->line.len))
			continue;
		r->text_nl = nl;
		*text = r->line.data;
		*len = r->line.len;
		return NDJSON_OK;
	}
}

enum ndjson_status
ndjson_reader_parse(struct ndjson_reader *r, struct json_object **out,
    struct ndjson_error *err)
{
	struct jerr	 je;

	if (err != NULL) {
		memset(err, 0, sizeof(*err));
		err->raw = r->line.data;
		err->raw_len = r->line.len;
	}
	if ((*out = jparse_text(r->tok, r->name, r->rec_line, r->line.data,
	    r->line.len, JPARSE_OBJECT | (r->text_nl ? JPARSE_LINE : 0),
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
		err->raw = r->line.data;
		err->raw_len = r->line.len;
	}
	if (off > r->line.len || len > r->line.len - off) {
		set_error(err, r->name, r->rec_line, 1, "no such part of the line");
		return NULL;
	}
	if ((o = jparse_text(r->tok, r->name, r->rec_line, r->line.data + off,
	    len, JPARSE_OBJECT | JPARSE_CHECKED, &je)) == NULL)
		copy_jerr(err, &je);
	return o;
}
