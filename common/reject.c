/* reject.c: the reject file: bad input lines kept, replayable, with line and reason. */
/*
 * Each reject is one write(2) of one whole line on an O_APPEND fd, so
 * several processes appending to the same file never tear each other's
 * lines, and a crash loses at most the line being written.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "buf.h"
#include "fdio.h"
#include "jsonutil.h"
#include "log.h"
#include "reject.h"
#include "statedir.h"
#include "utf8.h"
#include "xalloc.h"

#define REPLACEMENT	"\xef\xbf\xbd"	/* U+FFFD in UTF-8 */

struct reject_file {
	char	*path;		/* NULL: count and log only */
	char	*name;		/* input name for log lines, "stdin" by default */
	int	 fd;		/* -1 until the first reject */
	int	 failed;	/* a write or open failed */
	size_t	 count;
};

struct reject_file *
reject_open(const char *path)
{
	struct reject_file	*rf;

	rf = xcalloc(1, sizeof(*rf));
	rf->path = path != NULL && *path != '\0' ? xstrdup(path) : NULL;
	rf->name = xstrdup("stdin");
	rf->fd = -1;
	return rf;
}

void
reject_set_name(struct reject_file *rf, const char *name)
{
	free(rf->name);
	rf->name = xstrdup(name != NULL ? name : "stdin");
}

static const char b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void
base64(struct buf *b, const unsigned char *p, size_t len)
{
	char	 q[4];
	size_t	 i;
	unsigned v;

	for (i = 0; i + 2 < len; i += 3) {
		v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
		q[0] = b64chars[v >> 18 & 63];
		q[1] = b64chars[v >> 12 & 63];
		q[2] = b64chars[v >> 6 & 63];
		q[3] = b64chars[v & 63];
		buf_append(b, q, 4);
	}
	if (i < len) {
		v = (unsigned)p[i] << 16;
		if (i + 1 < len)
			v |= (unsigned)p[i + 1] << 8;
		q[0] = b64chars[v >> 18 & 63];
		q[1] = b64chars[v >> 12 & 63];
		q[2] = i + 1 < len ? b64chars[v >> 6 & 63] : '=';
		q[3] = '=';
		buf_append(b, q, 4);
	}
}

/* raw with every invalid UTF-8 byte replaced by U+FFFD. */
static void
utf8_repair(struct buf *b, const char *raw, size_t len)
{
	size_t	 i, n;

	for (i = 0; i < len; i += n) {
		if ((n = jutf8_seqlen((const unsigned char *)raw + i,
		    len - i)) == 0) {
			buf_appends(b, REPLACEMENT);
			n = 1;
		} else
			buf_append(b, raw + i, n);
	}
}

static int
write_line(struct reject_file *rf, const char *s, size_t len)
{
	char	 err[512];

	/* rejected lines are library data: private, like the state dir */
	if (rf->fd == -1 &&
	    (rf->fd = statedir_open_append(rf->path, err, sizeof(err))) == -1) {
		log_error("%s", err);
		return -1;
	}
	if (write_full(rf->fd, s, len) == -1) {
		log_error("%s: write: %s", rf->path, strerror(errno));
		return -1;
	}
	return 0;
}

int
reject_add(struct reject_file *rf, size_t line, const char *error,
    const char *raw, size_t raw_len)
{
	struct json_object	*o;
	struct buf		 fixed = BUF_INIT, b64 = BUF_INIT, out = BUF_INIT;
	const char		*s;
	size_t			 nl, len;
	int			 rc = 0;

	if (error == NULL)
		error = "bad record";
	if (raw == NULL) {
		raw = "";
		raw_len = 0;
	}
	rf->count++;
	/* The reader's messages already say "NAME:LINE:COL:". */
	nl = strlen(rf->name);
	if (strncmp(error, rf->name, nl) == 0 && error[nl] == ':')
		log_warn("rejected: %s", error);
	else
		log_warn("rejected: %s:%zu: %s", rf->name, line, error);
	if (rf->path == NULL)
		return 0;
	if (rf->failed)
		return -1;

	o = json_object_new_object();
	/* a record like any other: its stage replays it (DESIGN.md 2) */
	json_object_object_add(o, "kind", json_object_new_string("reject"));
	json_object_object_add(o, "stage", json_object_new_string(log_prog()));
	json_object_object_add(o, "line", json_object_new_int64((int64_t)line));
	json_object_object_add(o, "error", json_object_new_string(error));
	if (jutf8_valid(raw, raw_len, NULL)) {
		json_object_object_add(o, "record",
		    json_object_new_string_len(raw, (int)raw_len));
	} else {
		utf8_repair(&fixed, raw, raw_len);
		base64(&b64, (const unsigned char *)raw, raw_len);
		json_object_object_add(o, "record",
		    json_object_new_string_len(fixed.data, (int)fixed.len));
		json_object_object_add(o, "record_base64",
		    json_object_new_string_len(b64.data, (int)b64.len));
	}
	s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	buf_append(&out, s, len);
	buf_append(&out, "\n", 1);
	if (write_line(rf, out.data, out.len) != 0) {
		rf->failed = 1;
		rc = -1;
	}
	json_object_put(o);
	buf_free(&fixed);
	buf_free(&b64);
	buf_free(&out);
	return rc;
}

size_t
reject_count(const struct reject_file *rf)
{
	return rf != NULL ? rf->count : 0;
}

const char *
reject_path(const struct reject_file *rf)
{
	return rf != NULL ? rf->path : NULL;
}

int
reject_close(struct reject_file *rf)
{
	int	 rc;

	if (rf == NULL)
		return 0;
	rc = rf->failed ? -1 : 0;
	if (rf->fd != -1 && close(rf->fd) != 0)
		rc = -1;
	free(rf->path);
	free(rf->name);
	free(rf);
	return rc;
}
