/* log.c: stderr logging with levels, text or JSON lines, progress and summary lines. */
/*
 * Each line goes out in one write(2) on an unbuffered fd, so the lines of
 * forked workers sharing stderr never interleave mid-line.  The whole
 * line, JSON framing included, passes through redact() last, so a secret
 * that slipped into any member is masked.
 *
 * The summary line is a notice: -q (LOG_WARN) leaves warnings and errors
 * only, as it says.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "buf.h"
#include "fdio.h"
#include "log.h"
#include "redact.h"
#include "timeutil.h"
#include "xalloc.h"

#define PROGRESS_INTERVAL	0.5	/* s between progress redraws */
#define STATUS_INTERVAL		0.25	/* s between status lines to a supervisor */
#define STATUS_MARK		"\001"	/* starts every status line */

static char		 prog[64] = "plexpipe";
static enum log_level	 level = LOG_NOTICE;
static enum log_format	 format = LOG_TEXT;
static int		 tty = -1;	/* stderr is a terminal; -1 unknown */
static double		 t_start, t_last;
static int		 progress_shown;
static int		 status_fd = -2;	/* PLEXPIPE_STATUS; -1 none, -2 unknown */
static double		 t_status;
static size_t		 status_items, status_total;

/* a notice is an info line that shows by default: JSON readers see "info" */
static const char *const level_names[] = { "error", "warning", "info", "info",
    "debug" };

/*
 * A supervisor (scripts/plex-load) that draws one status line for the
 * whole pipeline names a FIFO in PLEXPIPE_STATUS. Progress and the
 * summary go there as short lines, "\001status PROG items=N total=N" and
 * "\001summary PROG k=v ...", each in one write(2) (atomic under
 * PIPE_BUF). The writes never block: a full FIFO drops a progress line,
 * it never stalls the stage.
 */
static void
status_open(void)
{
	const char	*p;

	if (status_fd != -2)
		return;
	status_fd = -1;
	if ((p = getenv("PLEXPIPE_STATUS")) != NULL && *p != '\0')
		status_fd = open(p, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
}

static void
status_write(struct buf *b)
{
	int	 saved = errno;

	buf_append(b, "\n", 1);
	if (b->len <= PIPE_BUF)
		(void)!write(status_fd, b->data, b->len);
	errno = saved;
}

static void
status_progress(int done)
{
	struct buf	 b = BUF_INIT;

	buf_printf(&b, STATUS_MARK "status %s items=%zu total=%zu done=%d",
	    prog, status_items, status_total, done);
	status_write(&b);
	buf_free(&b);
}

void
log_init(const char *name)
{
	const char	*p;

	if (name != NULL) {
		if ((p = strrchr(name, '/')) != NULL)
			name = p + 1;
		snprintf(prog, sizeof(prog), "%s", name);
	}
	tty = isatty(STDERR_FILENO);
	t_start = now_monotonic();
	t_last = 0;
	status_open();
}

void
log_set_level(enum log_level l)
{
	level = l;
}

void
log_set_format(enum log_format f)
{
	format = f;
}

enum log_level
log_get_level(void)
{
	return level;
}

const char *
log_prog(void)
{
	return prog;
}

/* Writes all of s to stderr; a failure has nowhere left to be reported. */
static void
write_all(const char *s, size_t len)
{
	(void)write_full(STDERR_FILENO, s, len);
}

static void
clear_progress(void)
{
	if (progress_shown) {
		write_all("\r\033[K", 4);
		progress_shown = 0;
	}
}

/* Redacts and writes one finished line (without its newline). */
static void
emit(struct buf *line)
{
	char	*r;
	int	 saved = errno;

	buf_append(line, "\n", 1);
	r = redact(line->data);
	clear_progress();
	write_all(r, strlen(r));
	free(r);
	errno = saved;
}

/* The common members of a JSON log record, in their fixed order. */
static struct json_object *
json_head(enum log_level l, const char *msg)
{
	struct json_object	*o;
	char			 ts[32];

	if (iso8601_utc((int64_t)now_wall(), ts, sizeof(ts)) != 0)
		ts[0] = '\0';
	o = json_object_new_object();
	json_object_object_add(o, "ts", json_object_new_string(ts));
	json_object_object_add(o, "prog", json_object_new_string(prog));
	json_object_object_add(o, "level",
	    json_object_new_string(level_names[l]));
	json_object_object_add(o, "msg", json_object_new_string(msg));
	return o;
}

static void
json_emit(struct json_object *o)
{
	struct buf	 line = BUF_INIT;

	buf_appends(&line, json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	emit(&line);
	buf_free(&line);
}

static void
vlog(enum log_level l, const char *fmt, va_list ap)
{
	struct json_object	*o;
	struct buf		 msg = BUF_INIT, line = BUF_INIT;
	char			*p, *r;
	int			 saved = errno;

	if (l > level)
		return;
	if (vasprintf(&p, fmt, ap) == -1)
		return;	/* out of memory while logging: drop the line */
	/*
	 * Redact before JSON escaping too: a secret holding '"' or '\\'
	 * would no longer match once escaped.
	 */
	r = redact(p);
	buf_appends(&msg, r);
	free(r);
	free(p);
	/* One record per line: a trailing newline would make an empty one. */
	while (msg.len > 0 && msg.data[msg.len - 1] == '\n')
		msg.data[--msg.len] = '\0';
	if (msg.data == NULL)
		buf_appends(&msg, "");
	if (format == LOG_JSON) {
		o = json_head(l, msg.data);
		json_emit(o);
		json_object_put(o);
	} else {
		buf_printf(&line, "%s: ", prog);
		if (l != LOG_INFO && l != LOG_NOTICE)
			buf_printf(&line, "%s: ", level_names[l]);
		buf_append(&line, msg.data, msg.len);
		emit(&line);
	}
	buf_free(&msg);
	buf_free(&line);
	errno = saved;
}

#define LOG_FN(fn, lvl)					\
void								\
fn(const char *fmt, ...)					\
{								\
	va_list	 ap;						\
								\
	va_start(ap, fmt);					\
	vlog(lvl, fmt, ap);					\
	va_end(ap);						\
}

LOG_FN(log_error, LOG_ERROR)
LOG_FN(log_warn, LOG_WARN)
LOG_FN(log_notice, LOG_NOTICE)
LOG_FN(log_info, LOG_INFO)
LOG_FN(log_debug, LOG_DEBUG)

void
log_progress(size_t items)
{
	struct buf	 line = BUF_INIT;
	double		 now, rate;

	if (tty == -1)
		log_init(NULL);
	now = now_monotonic();
	status_items = items;
	if (status_fd >= 0) {
		/* the supervisor draws the line; the stage only reports */
		if (t_status == 0 || now - t_status >= STATUS_INTERVAL) {
			t_status = now;
			status_progress(0);
		}
		return;
	}
	if (!tty || level < LOG_NOTICE)
		return;
	if (t_last != 0 && now - t_last < PROGRESS_INTERVAL)
		return;
	t_last = now;
	rate = now - t_start > 0 ? (double)items / (now - t_start) : 0;
	buf_printf(&line, "\r\033[K%s: %zu items, %.1f items/s", prog, items,
	    rate);
	write_all(line.data, line.len);
	progress_shown = 1;
	buf_free(&line);
}

void
log_progress_total(size_t more)
{
	status_total += more;
	t_status = 0;	/* tell it at the next log_progress() */
}

void
log_progress_done(void)
{
	if (status_fd >= 0)
		status_progress(1);
	clear_progress();
}

/* "\001summary PROG k=v ...": the numbers of a summary, for the supervisor. */
static void
status_summary(struct json_object *sum)
{
	struct buf	 b = BUF_INIT;

	buf_printf(&b, STATUS_MARK "summary %s", prog);
	json_object_object_foreach(sum, k, v) {
		if (json_object_is_type(v, json_type_int))
			buf_printf(&b, " %s=%lld", k,
			    (long long)json_object_get_int64(v));
		else if (json_object_is_type(v, json_type_double))
			buf_printf(&b, " %s=%.3f", k, json_object_get_double(v));
	}
	status_write(&b);
	buf_free(&b);
}

/* A value for "k=v": strings bare unless they need quoting, the rest as JSON. */
static void
summary_value(struct buf *b, struct json_object *v)
{
	const char	*s;

	if (json_object_is_type(v, json_type_string)) {
		s = json_object_get_string(v);
		if (*s != '\0' && strpbrk(s, " \t\n\"=") == NULL) {
			buf_appends(b, s);
			return;
		}
	}
	buf_appends(b, v == NULL ? "null" : json_object_to_json_string_ext(v,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
}

void
log_summary(struct json_object *sum)
{
	struct json_object	*o;
	struct buf		 line = BUF_INIT;

	if (status_fd >= 0 && sum != NULL &&
	    json_object_is_type(sum, json_type_object)) {
		status_summary(sum);
		/* the supervisor prints one summary for all; -v still shows each */
		if (format == LOG_TEXT && level < LOG_INFO)
			return;
	}
	if (level < LOG_NOTICE)
		return;
	if (format == LOG_JSON) {
		o = json_head(LOG_NOTICE, "summary");
		if (sum != NULL && json_object_is_type(sum, json_type_object)) {
			json_object_object_foreach(sum, k, v)
				json_object_object_add(o, k,
				    v != NULL ? json_object_get(v) : NULL);
		}
		json_emit(o);
		json_object_put(o);
		return;
	}
	buf_printf(&line, "%s: summary:", prog);
	if (sum != NULL && json_object_is_type(sum, json_type_object)) {
		json_object_object_foreach(sum, k, v) {
			buf_printf(&line, " %s=", k);
			summary_value(&line, v);
		}
	}
	emit(&line);
	buf_free(&line);
}
