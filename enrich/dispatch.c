/* dispatch.c: the parent: reads stdin, hands batches to the workers, writes their results in input order. */
/*
 * Every input record that produces output becomes a "unit" with an
 * ordinal (its place in the input). Units live in a ring of 2N+1 slots:
 * the parent reads stdin only while two slots are free, which bounds
 * memory and pushes back on the upstream stage. A batch unit goes to an
 * idle worker (one batch per worker at a time, so a write to a worker
 * can never deadlock against its result); a pass-through or end unit is
 * done at once. Output is written strictly from the ring's head, so it
 * is in input order whatever N is and whichever worker finishes first.
 * A worker that dies is replaced and its batch retried once; a batch
 * that kills two workers is written to the reject file.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "buf.h"
#include "enrich.h"
#include "exitcode.h"
#include "jsonutil.h"
#include "log.h"
#include "ndjson_read.h"
#include "ndjson_write.h"
#include "record.h"
#include "reject.h"
#include "signals.h"
#include "timeutil.h"
#include "xalloc.h"

#define READ_CHUNK	(256 * 1024)	/* bytes per read(2) of stdin */
#define STOP_GRACE	10.0		/* s a stop signal leaves workers to finish */

enum unit_kind { U_BATCH = 1, U_PASS, U_END };

struct unit {
	enum unit_kind	 kind;
	int		 done;
	int		 attempts;	/* workers that died holding it */
	int		 worker;	/* index of the worker holding it, -1 */
	int64_t		 seq;		/* points seq (batches) */
	char		*job;		/* the job text sent to a worker */
	size_t		 job_len;
	struct buf	 out;		/* the line to write, without newline */
	size_t		*lines;		/* input line of each item / record */
	size_t		 nlines;
	int		 bare;		/* made of bare items */
	struct json_object *end;	/* the end record to forward */
};

struct disp {
	const struct enrich_opts *o;
	struct enrich_stats *st;
	struct dispatch_result *res;
	struct unit	*ring;
	size_t		 cap;		/* window: read only with 2 slots free */
	size_t		 alloc;		/* ring slots */
	size_t		 head, count;	/* head: ordinal of the oldest unit */
	int64_t		 next_seq;
	struct enrich_worker *ws;
	int		 nw;
	int		 deaths;	/* worker deaths since the last result */
	struct ndjson_reader *rd;	/* push reader: splits stdin into records */
	size_t		 lineno;	/* line of the record being handled */
	int		 need_input;	/* the reader holds no whole line */
	int		 eof;		/* read(2) returned 0 */
	int		 input_done;	/* every line handled, bare batch flushed */
	struct json_object *bare;	/* pending bare items */
	size_t		*bare_lines;
	struct reject_file *rej;
	struct ndjson_writer *w;
	char		***queue;
	size_t		*nqueue;
	double		 started;
};

static struct unit *
unit_at(struct disp *d, size_t ord)
{
	return &d->ring[ord % d->alloc];
}

/*
 * The window (cap) bounds reading; one record can still make more units
 * than that (a big plex batch cut into chunks), so the ring grows.
 */
static struct unit *
unit_add(struct disp *d, enum unit_kind kind)
{
	struct unit *u, *nr;
	size_t k, na;

	if (d->count == d->alloc) {
		na = d->alloc * 2;
		nr = xcalloc(na, sizeof(*nr));
		for (k = 0; k < d->count; k++)
			nr[(d->head + k) % na] = d->ring[(d->head + k) % d->alloc];
		free(d->ring);
		d->ring = nr;
		d->alloc = na;
	}
	u = unit_at(d, d->head + d->count);

	memset(u, 0, sizeof(*u));
	u->kind = kind;
	u->worker = -1;
	d->count++;
	return u;
}

static void
unit_clear(struct unit *u)
{
	free(u->job);
	free(u->lines);
	buf_free(&u->out);
	json_object_put(u->end);
	memset(u, 0, sizeof(*u));
}

static void
bad_record(struct disp *d, size_t line, const char *why, const char *raw,
    size_t len)
{
	reject_add(d->rej, line, why, raw, len);
	if (d->o->strict && d->res->fatal == 0) {
		log_error("stdin:%zu: %s (--strict)", line, why);
		d->res->fatal = EXIT_BADINPUT;
	}
}

/* The pending bare items become one batch unit. */
static void
flush_bare(struct disp *d)
{
	struct json_object *job;
	struct unit *u;
	const char *s;
	size_t len, n;

	if (d->bare == NULL)
		return;
	n = json_object_array_length(d->bare);
	job = json_object_new_object();
	json_object_object_add(job, "items", d->bare);
	s = ndjson_to_string(job, &len);
	u = unit_add(d, U_BATCH);
	u->job = xstrndup(s, len);
	u->job_len = len;
	u->seq = d->next_seq++;
	u->bare = 1;
	u->lines = d->bare_lines;
	u->nlines = n;
	json_object_put(job);
	d->bare = NULL;
	d->bare_lines = NULL;
}

static void
add_plex_unit(struct disp *d, char *job, size_t len)
{
	struct unit *u = unit_add(d, U_BATCH);

	u->job = job;
	u->job_len = len;
	u->seq = d->next_seq++;
	u->lines = xmalloc(sizeof(*u->lines));
	u->lines[0] = d->lineno;
	u->nlines = 1;
}

/*
 * A chunk of a plex batch: items [from, to) and the shows they need, in
 * a plex record with the batch's other members (kind, seq, section ...),
 * so that a chunk sent to the reject file replays as it is.
 */
static void
add_plex_chunk(struct disp *d, struct json_object *rec,
    struct json_object *items, struct json_object *shows, size_t from,
    size_t to)
{
	struct json_object *job, *arr, *sub, *it, *sh;
	const char *rk, *s;
	size_t i, len;

	job = json_object_new_object();
	json_object_object_foreach(rec, k, v)
		if (strcmp(k, "items") != 0 && strcmp(k, "shows") != 0)
			jadd_ref(job, k, v);
	arr = json_object_new_array();
	sub = json_object_new_object();
	for (i = from; i < to; i++) {
		it = json_object_array_get_idx(items, i);
		json_object_array_add(arr, json_object_get(it));
		rk = jget_str(it, "grandparentRatingKey");
		if (rk != NULL && (sh = jget_obj(shows, rk)) != NULL &&
		    jget_obj(sub, rk) == NULL)
			jadd_ref(sub, rk, sh);
	}
	json_object_object_add(job, "items", arr);
	json_object_object_add(job, "shows", sub);
	s = ndjson_to_string(job, &len);
	add_plex_unit(d, xstrndup(s, len), len);
	json_object_put(job);
}

/*
 * A plex batch larger than --enrichment-batch-size is cut into chunks so
 * that all workers get work, but never between two episodes of the same
 * show: a show's seasons are then fetched in one call, not one per chunk.
 * The chunks are decided by the input alone, so output is the same for
 * every -j.
 */
static void
split_plex(struct disp *d, struct json_object *j, const char *raw, size_t len)
{
	struct json_object *items = jget_arr(j, "items"), *shows;
	const char *prev = NULL, *rk;
	size_t i, n, start = 0;

	n = items != NULL ? json_object_array_length(items) : 0;
	if (n <= (size_t)d->o->batch_size) {
		add_plex_unit(d, xstrndup(raw, len), len);
		return;
	}
	shows = jget_obj(j, "shows");
	for (i = 0; i < n; i++) {
		rk = jget_str(json_object_array_get_idx(items, i),
		    "grandparentRatingKey");
		if (i - start >= (size_t)d->o->batch_size &&
		    (rk == NULL || prev == NULL || strcmp(rk, prev) != 0)) {
			add_plex_chunk(d, j, items, shows, start, i);
			start = i;
		}
		prev = rk;
	}
	add_plex_chunk(d, j, items, shows, start, n);
}

static void	handle_record(struct disp *, struct json_object *, const char *,
		    size_t);

/*
 * A reject line of ours ({"kind":"reject","stage":"meta-enrich",
 * "record":"<raw text>"}), say after fixing it with jq: the record is
 * read again as if it stood on this line. Exact bytes that were not UTF-8
 * (record_base64) cannot be replayed; the reject is rejected again, so
 * nothing is lost.
 */
static void
replay_reject(struct disp *d, struct json_object *j, const char *raw,
    size_t len)
{
	struct ndjson_error err;
	struct json_object *rec;
	const char *text;
	size_t tlen;

	if (jget_str(j, "record_base64") != NULL) {
		bad_record(d, d->lineno, "a rejected line that was not valid "
		    "UTF-8 cannot be replayed (its bytes are in record_base64)",
		    raw, len);
		return;
	}
	if ((text = jget_str(j, "record")) == NULL) {
		bad_record(d, d->lineno, "reject record without a record", raw,
		    len);
		return;
	}
	tlen = strlen(text);
	memset(&err, 0, sizeof(err));
	if ((rec = ndjson_parse_string(text, tlen, &err)) == NULL) {
		bad_record(d, d->lineno, err.reason[0] ? err.reason :
		    "invalid JSON", text, tlen);
		return;
	}
	handle_record(d, rec, text, tlen);
	json_object_put(rec);
}

static void
handle_record(struct disp *d, struct json_object *j, const char *raw,
    size_t len)
{
	const char *why, *kind, *stage;
	struct unit *u;
	size_t n;

	switch (record_kind_of(j)) {
	case REC_BARE_ITEM:
		if ((why = record_check_item(j)) != NULL) {
			bad_record(d, d->lineno, why, raw, len);
			break;
		}
		if (d->bare == NULL)
			d->bare = json_object_new_array();
		n = json_object_array_length(d->bare);
		d->bare_lines = xreallocarray(d->bare_lines, n + 1,
		    sizeof(*d->bare_lines));
		d->bare_lines[n] = d->lineno;
		json_object_array_add(d->bare, json_object_get(j));
		if ((int)n + 1 >= d->o->batch_size)
			flush_bare(d);
		break;
	case REC_PLEX:
		if ((why = record_check_plex(j)) != NULL) {
			bad_record(d, d->lineno, why, raw, len);
			break;
		}
		flush_bare(d);
		split_plex(d, j, raw, len);
		break;
	case REC_END:
		if ((why = record_check_end(j)) != NULL) {
			bad_record(d, d->lineno, why, raw, len);
			break;
		}
		flush_bare(d);
		u = unit_add(d, U_END);
		u->end = json_object_get(j);
		u->done = 1;
		d->res->saw_end = 1;
		break;
	case REC_INVALID:
		bad_record(d, d->lineno,
		    "neither a Plex item (ratingKey) nor a record kind", raw, len);
		break;
	default:
		kind = jget_str(j, "kind");
		stage = jget_str(j, "stage");
		if (kind != NULL && strcmp(kind, "reject") == 0 &&
		    stage != NULL && strcmp(stage, log_prog()) == 0) {
			replay_reject(d, j, raw, len);
			break;
		}
		/* kinds this stage does not consume pass through unchanged */
		flush_bare(d);
		u = unit_add(d, U_PASS);
		buf_append(&u->out, raw, len);
		u->done = 1;
		break;
	}
}

/*
 * Takes the records the reader holds while the ring has room; the reader
 * (ndjson_read.c) splits lines, counts them and judges each line.
 */
static void
take_lines(struct disp *d)
{
	struct ndjson_error err;
	struct json_object *j;
	enum ndjson_status st;
	const char *raw;
	size_t len;

	while (!d->input_done && d->count + 2 <= d->cap && d->res->fatal == 0) {
		st = ndjson_reader_take(d->rd, &j, &err);
		if (st == NDJSON_AGAIN) {
			d->need_input = 1;
			break;
		}
		if (st == NDJSON_EOF) {
			flush_bare(d);
			d->input_done = 1;
			break;
		}
		d->lineno = ndjson_reader_line(d->rd);
		if (st == NDJSON_BAD) {
			bad_record(d, err.line, err.reason, err.raw, err.raw_len);
			continue;
		}
		raw = ndjson_reader_raw(d->rd, &len);
		handle_record(d, j, raw, len);
		json_object_put(j);
	}
}

static void
read_stdin(struct disp *d)
{
	char chunk[READ_CHUNK];
	ssize_t r;

	r = read(STDIN_FILENO, chunk, sizeof(chunk));
	if (r == -1) {
		if (errno == EINTR || errno == EAGAIN)
			return;
		log_error("stdin: %s", strerror(errno));
		d->res->fatal = EXIT_FATAL;
		return;
	}
	if (r == 0) {
		d->eof = 1;
		ndjson_reader_feed_eof(d->rd);
	} else
		ndjson_reader_feed(d->rd, chunk, (size_t)r);
	d->need_input = 0;
}

static struct json_object *
stats_object(struct disp *d)
{
	struct json_object *o = json_object_new_object();

	/* only counters that the input and cache decide, so -jN output is identical */
	json_object_object_add(o, "items",
	    json_object_new_int64((int64_t)d->st->v[ST_ITEMS]));
	json_object_object_add(o, "batches",
	    json_object_new_int64((int64_t)d->res->batches));
	json_object_object_add(o, "skipped_items",
	    json_object_new_int64((int64_t)d->st->v[ST_SKIPPED]));
	json_object_object_add(o, "with_tmdb",
	    json_object_new_int64((int64_t)d->st->v[ST_WITH_TMDB]));
	json_object_object_add(o, "with_imdb",
	    json_object_new_int64((int64_t)d->st->v[ST_WITH_IMDB]));
	json_object_object_add(o, "stale_served",
	    json_object_new_int64((int64_t)d->st->v[ST_STALE_SERVED]));
	json_object_object_add(o, "degraded",
	    json_object_new_int64((int64_t)d->st->v[ST_DEGRADED]));
	json_object_object_add(o, "rejected",
	    json_object_new_int64((int64_t)reject_count(d->rej)));
	return o;
}

static void
emit(struct disp *d)
{
	struct unit *u;

	while (d->count > 0 && (u = unit_at(d, d->head))->done) {
		if (u->kind == U_END) {
			record_end_add_stats(u->end, "meta-enrich",
			    stats_object(d));
			ndjson_write(d->w, u->end);
		} else if (u->out.len > 0)
			ndjson_write_raw(d->w, u->out.data, u->out.len);
		if (u->kind == U_BATCH && u->out.len > 0)
			d->res->batches++;
		unit_clear(u);
		d->head++;
		d->count--;
	}
	log_progress((size_t)d->st->v[ST_ITEMS]);	/* items enriched so far */
}

/* A batch that killed two workers: its records go to the reject file. */
static void
reject_batch(struct disp *d, struct unit *u)
{
	static const char why[] = "batch killed two workers";
	struct ndjson_error err;
	struct json_object *j, *items;
	const char *s;
	size_t i, len;

	if (!u->bare) {
		bad_record(d, u->lines[0], why, u->job, u->job_len);
		return;
	}
	j = ndjson_parse_string(u->job, u->job_len, &err);
	items = jget_arr(j, "items");
	for (i = 0; i < u->nlines && items != NULL; i++) {
		s = ndjson_to_string(json_object_array_get_idx(items, i), &len);
		bad_record(d, u->lines[i], why, s, len);
	}
	json_object_put(j);
}

static void
worker_died(struct disp *d, int w)
{
	struct enrich_worker *wk = &d->ws[w];
	struct unit *u;
	int status = 0;

	close(wk->to_fd);
	close(wk->from_fd);
	buf_free(&wk->rbuf);	/* its messages are handled; a new worker starts afresh */
	while (waitpid(wk->pid, &status, 0) == -1 && errno == EINTR)
		;
	if (WIFSIGNALED(status))
		log_warn("worker %d (pid %ld) killed by signal %d", w,
		    (long)wk->pid, WTERMSIG(status));
	else
		log_warn("worker %d (pid %ld) exited with status %d", w,
		    (long)wk->pid, WEXITSTATUS(status));
	wk->pid = -1;
	if (wk->unit >= 0) {
		u = unit_at(d, (size_t)wk->unit);
		u->worker = -1;
		if (++u->attempts >= 2) {
			reject_batch(d, u);
			u->done = 1;
		}
		wk->unit = -1;
	}
	if (signal_received || d->res->fatal)
		return;
	d->res->restarts++;
	if (++d->deaths > 2 * d->nw + 4) {
		log_error("workers keep dying; giving up");
		d->res->fatal = EXIT_FATAL;
		return;
	}
	if (enrich_worker_start(d->ws, d->nw, w, d->o) == -1) {
		log_error("cannot start a worker: %s", strerror(errno));
		d->res->fatal = EXIT_FATAL;
	}
}

static void
add_queue_ids(struct disp *d, const char *text, size_t len)
{
	struct ndjson_error err;
	struct json_object *root, *a;
	char *wrapped;
	const char *id;
	size_t i, n;

	/* ndjson_parse_string takes objects only: wrap the array */
	xasprintf(&wrapped, "{\"ids\":%.*s}", (int)len, text);
	root = ndjson_parse_string(wrapped, strlen(wrapped), &err);
	a = jget_arr(root, "ids");
	n = a != NULL ? json_object_array_length(a) : 0;
	for (i = 0; i < n; i++) {
		id = json_object_get_string(json_object_array_get_idx(a, i));
		*d->queue = xreallocarray(*d->queue, *d->nqueue + 1,
		    sizeof(**d->queue));
		(*d->queue)[(*d->nqueue)++] = xstrdup(id);
	}
	json_object_put(root);
	free(wrapped);
}

/* Handles the complete messages in a worker's buffer. */
static void
take_messages(struct disp *d, int w)
{
	struct enrich_worker *wk = &d->ws[w];
	struct msg_hdr h;
	struct unit *u;
	uint64_t stats[ST_NSTATS];
	size_t need, i, ns;
	const char *p;

	for (;;) {
		if (wk->rbuf.len < sizeof(h))
			return;
		memcpy(&h, wk->rbuf.data, sizeof(h));
		ns = h.nstats < ST_NSTATS ? h.nstats : ST_NSTATS;
		need = sizeof(h) + h.nstats * sizeof(uint64_t) + h.len1 + h.len2;
		if (wk->rbuf.len < need)
			return;
		p = wk->rbuf.data + sizeof(h);
		if (h.type == MSG_FATAL) {
			log_error("%.*s", (int)h.len1, p + h.nstats * 8);
			d->res->fatal = EXIT_USAGE;
		} else if (h.type == MSG_RESULT && wk->unit >= 0) {
			memcpy(stats, p, ns * sizeof(uint64_t));
			for (i = 0; i < ns; i++)
				d->st->v[i] += stats[i];
			p += h.nstats * sizeof(uint64_t);
			u = unit_at(d, (size_t)wk->unit);
			buf_append(&u->out, p, h.len1);
			if (h.len2 > 0)
				add_queue_ids(d, p + h.len1, h.len2);
			u->done = 1;
			u->worker = -1;
			wk->unit = -1;
			d->deaths = 0;
		}
		memmove(wk->rbuf.data, wk->rbuf.data + need, wk->rbuf.len - need);
		wk->rbuf.len -= need;
	}
}

/* Reads what a worker sent; EOF means it died. */
static void
read_worker(struct disp *d, int w)
{
	char chunk[65536];
	ssize_t r;

	for (;;) {
		r = read(d->ws[w].from_fd, chunk, sizeof(chunk));
		if (r > 0) {
			buf_append(&d->ws[w].rbuf, chunk, (size_t)r);
			continue;
		}
		if (r == -1 && errno == EINTR)
			continue;
		break;
	}
	take_messages(d, w);
	if (r == 0 || (r == -1 && errno != EAGAIN))
		worker_died(d, w);
}

/* Gives the oldest undispatched batches to idle workers. */
static void
dispatch(struct disp *d)
{
	struct msg_hdr h;
	struct unit *u;
	size_t k;
	int w;

	for (w = 0; w < d->nw && d->res->fatal == 0; w++) {
		if (d->ws[w].pid <= 0 || d->ws[w].unit >= 0)
			continue;
		u = NULL;
		for (k = 0; k < d->count; k++) {
			u = unit_at(d, d->head + k);
			if (u->kind == U_BATCH && !u->done && u->worker == -1)
				break;
		}
		if (k == d->count || u == NULL)
			return;
		memset(&h, 0, sizeof(h));
		h.type = MSG_JOB;
		h.seq = u->seq;
		h.len1 = u->job_len;
		u->worker = w;
		d->ws[w].unit = (long)(d->head + k);
		/* an idle worker reads the whole job before it writes */
		if (enrich_msg_send(d->ws[w].to_fd, &h, NULL, u->job, NULL) == -1)
			worker_died(d, w);
	}
}

static void
shutdown_workers(struct disp *d)
{
	int w, status;

	for (w = 0; w < d->nw; w++) {
		if (d->ws[w].pid <= 0)
			continue;
		close(d->ws[w].to_fd);
		/* workers ignore the stop signals (worker.c): KILL the busy ones */
		if (d->res->fatal || signal_received)
			kill(d->ws[w].pid, SIGKILL);
	}
	for (w = 0; w < d->nw; w++) {
		if (d->ws[w].pid <= 0)
			continue;
		while (waitpid(d->ws[w].pid, &status, 0) == -1 && errno == EINTR)
			;
		close(d->ws[w].from_fd);
		if (!d->res->fatal && !signal_received &&
		    (!WIFEXITED(status) || WEXITSTATUS(status) != 0))
			log_warn("worker %d ended badly (status %d)", w, status);
		buf_free(&d->ws[w].rbuf);
	}
}

/* Workers holding a batch now. */
static int
busy(const struct disp *d)
{
	int w, n = 0;

	for (w = 0; w < d->nw; w++)
		if (d->ws[w].pid > 0 && d->ws[w].unit >= 0)
			n++;
	return n;
}

static void
loop(struct disp *d)
{
	struct pollfd *pfd;
	double stop_at = 0;
	int w, n, r, stdin_at;

	pfd = xcalloc((size_t)d->nw + 1, sizeof(*pfd));
	for (;;) {
		if (d->res->fatal)
			break;
		/*
		 * A stop signal: read and hand out nothing more, but let the
		 * batches already at workers finish (for a while) and write
		 * them in order, so the work they did is not thrown away.
		 */
		if (signal_received) {
			if (stop_at == 0) {
				stop_at = now_monotonic() + STOP_GRACE;
				/* workers ignore the stop signals: tell them */
				for (w = 0; w < d->nw; w++)
					if (d->ws[w].pid > 0)
						kill(d->ws[w].pid, SIGUSR1);
				if (busy(d) > 0)
					log_notice("stopping: finishing %d batches at "
					    "workers", busy(d));
			}
			emit(d);
			if (busy(d) == 0 || now_monotonic() > stop_at)
				break;
		} else {
			take_lines(d);
			dispatch(d);
			emit(d);
			if (d->input_done && d->count == 0)
				break;
		}
		n = 0;
		stdin_at = -1;
		if (!signal_received && !d->eof && d->count + 2 <= d->cap &&
		    d->need_input) {
			stdin_at = n;
			pfd[n].fd = STDIN_FILENO;
			pfd[n++].events = POLLIN;
		}
		for (w = 0; w < d->nw; w++) {
			pfd[n].fd = d->ws[w].pid > 0 ? d->ws[w].from_fd : -1;
			pfd[n++].events = POLLIN;
		}
		r = poll(pfd, (nfds_t)n, signal_received ? 100 : 1000);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			log_error("poll: %s", strerror(errno));
			d->res->fatal = EXIT_FATAL;
			break;
		}
		if (stdin_at >= 0 && pfd[stdin_at].revents != 0)
			read_stdin(d);
		for (w = 0; w < d->nw; w++) {
			short re = pfd[(stdin_at >= 0 ? 1 : 0) + w].revents;

			if (d->ws[w].pid > 0 && re != 0)
				read_worker(d, w);
		}
	}
	free(pfd);
}

int
enrich_dispatch(const struct enrich_opts *o, struct enrich_stats *st,
    char ***queue, size_t *nqueue, struct dispatch_result *res)
{
	struct disp d;
	sigset_t usr1;
	int w;
	size_t k;

	memset(&d, 0, sizeof(d));
	memset(res, 0, sizeof(*res));
	d.o = o;
	d.st = st;
	d.res = res;
	d.queue = queue;
	d.nqueue = nqueue;
	d.nw = o->workers;
	d.cap = 2 * (size_t)o->workers + 1;
	d.alloc = d.cap;
	d.ring = xcalloc(d.alloc, sizeof(*d.ring));
	d.ws = xcalloc((size_t)d.nw, sizeof(*d.ws));
	d.rej = reject_open(o->reject_file);
	d.w = ndjson_writer_new(stdout, "stdout");
	d.rd = ndjson_reader_new_push("stdin", 0);
	d.need_input = 1;
	signal(SIGPIPE, SIG_IGN);	/* a dead worker is EPIPE, not our death */
	/* a worker's stop word (worker.c): blocked here, so forked blocked */
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, NULL);
	for (w = 0; w < d.nw; w++)
		d.ws[w].pid = -1;
	for (w = 0; w < d.nw; w++)
		if (enrich_worker_start(d.ws, d.nw, w, o) == -1) {
			log_error("cannot start a worker: %s", strerror(errno));
			res->fatal = EXIT_FATAL;
			break;
		}
	if (res->fatal == 0)
		loop(&d);
	shutdown_workers(&d);
	res->rejects = reject_count(d.rej);
	if (reject_close(d.rej) == -1 && res->fatal == 0)
		res->fatal = EXIT_FATAL;
	if (ndjson_writer_close(d.w, 0) == -1 && res->fatal == 0) {
		log_error("stdout: %s", strerror(errno));
		res->fatal = EXIT_FATAL;
	}
	for (k = 0; k < d.count; k++)
		unit_clear(unit_at(&d, d.head + k));
	free(d.ring);
	free(d.ws);
	ndjson_reader_free(d.rd);
	json_object_put(d.bare);
	free(d.bare_lines);
	return res->fatal;
}
