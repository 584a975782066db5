/* ndjson_write.c: write compact NDJSON lines with a sticky error and Unix EPIPE semantics. */
/*
 * A filter whose reader went away should die of SIGPIPE, status 141, so
 * that the supervisor can tell "downstream closed" from a real failure.
 * Something in the process (libcurl does, for instance) may have set
 * SIGPIPE to SIG_IGN, turning it into EPIPE; on EPIPE we put the default
 * action back and raise the signal ourselves.
 *
 * Lines are buffered here and written with write(2), not stdio: the stop
 * signals are installed without SA_RESTART (so blocking reads return), and
 * a stdio write interrupted by one fails and drops what it held, leaving a
 * half line on the pipe. This loop resumes after EINTR and partial writes,
 * so a line is always written whole.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "buf.h"
#include "fdio.h"
#include "log.h"
#include "ndjson_write.h"
#include "signals.h"
#include "xalloc.h"

#define WRITE_FLAGS	(JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

#define WRITE_BUFSIZE	(64 * 1024)	/* flush threshold: few syscalls, bounded memory */

struct ndjson_writer {
	FILE		*fp;	/* not owned unless closed with close_file */
	int		 fd;	/* fileno(fp): the lines bypass its stdio buffer */
	char		*name;	/* "stdout" or a path, for messages */
	int		 error;	/* errno of the first failed write, 0 if none */
	struct buf	 out;	/* whole lines not yet written */
};

struct ndjson_writer *
ndjson_writer_new(FILE *fp, const char *name)
{
	struct ndjson_writer	*w;

	w = xcalloc(1, sizeof(*w));
	w->fp = fp;
	/* whatever stdio already holds for fp goes first */
	fflush(fp);
	w->fd = fileno(fp);
	w->name = xstrdup(name != NULL ? name : "stdout");
	return w;
}

static int
write_failed(struct ndjson_writer *w)
{
	int	 e = errno != 0 ? errno : EIO;

	if (e == EPIPE)
		die_of_signal(SIGPIPE);
	if (w->error == 0) {
		w->error = e;
		log_error("%s: write error: %s", w->name, strerror(e));
	}
	errno = e;
	return -1;
}

/* Writes the buffer out, resuming after EINTR and short writes. */
static int
drain(struct ndjson_writer *w)
{
	int	 rc;

	rc = write_full(w->fd, w->out.data, w->out.len);
	buf_reset(&w->out);
	return rc == -1 ? write_failed(w) : 0;
}

int
ndjson_write_raw(struct ndjson_writer *w, const char *s, size_t len)
{
	if (w->error != 0) {
		errno = w->error;
		return -1;
	}
	buf_append(&w->out, s, len);
	buf_append(&w->out, "\n", 1);
	if (w->out.len >= WRITE_BUFSIZE)
		return drain(w);
	return 0;
}

int
ndjson_write_part(struct ndjson_writer *w, const char *s, size_t len)
{
	if (w->error != 0) {
		errno = w->error;
		return -1;
	}
	if (len < WRITE_BUFSIZE) {
		buf_append(&w->out, s, len);
		return w->out.len >= WRITE_BUFSIZE ? drain(w) : 0;
	}
	/* a big part goes straight out: the buffer stays small */
	if (w->out.len > 0 && drain(w) == -1)
		return -1;
	return write_full(w->fd, s, len) == -1 ? write_failed(w) : 0;
}

const char *
ndjson_to_string(struct json_object *o, size_t *len)
{
	const char	*s;
	size_t		 n;

	s = json_object_to_json_string_length(o, WRITE_FLAGS, &n);
	if (s == NULL) {
		/* json-c only fails when it cannot allocate. */
		errno = ENOMEM;
		xalloc_failed();
	}
	if (len != NULL)
		*len = n;
	return s;
}

int
ndjson_write(struct ndjson_writer *w, struct json_object *o)
{
	const char	*s;
	size_t		 len;

	s = ndjson_to_string(o, &len);
	return ndjson_write_raw(w, s, len);
}

int
ndjson_flush(struct ndjson_writer *w)
{
	if (w->error != 0) {
		errno = w->error;
		return -1;
	}
	return drain(w);
}

int
ndjson_writer_close(struct ndjson_writer *w, int close_file)
{
	int	 rc = 0, e = 0;

	if (ndjson_flush(w) != 0) {
		rc = -1;
		e = w->error != 0 ? w->error : EIO;
	}
	if (close_file) {
		errno = 0;
		if (fclose(w->fp) != 0 && rc == 0) {
			if (errno == EPIPE)
				die_of_signal(SIGPIPE);
			rc = -1;
			e = errno != 0 ? errno : EIO;
			log_error("%s: close: %s", w->name, strerror(e));
		}
	}
	buf_free(&w->out);
	free(w->name);
	free(w);
	if (rc != 0)
		errno = e;
	return rc;
}

void
ndjson_check_stdout(void)
{
	errno = 0;
	if (fflush(stdout) != 0 || ferror(stdout)) {
		if (errno == EPIPE)
			die_of_signal(SIGPIPE);
		log_error("stdout: %s", errno != 0 ? strerror(errno) :
		    "write error");
		exit(1);
	}
}
