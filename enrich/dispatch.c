/* dispatch.c: the parent: reads stdin, hands jobs to the workers, writes their results in input order. */
/*
 * Every input record that produces output becomes a "unit" with an
 * ordinal (its place in the input): a points batch of at most
 * --enrichment-batch-size items, a pass-through record or the end
 * record. Units live in a ring of 2N+1 slots: the parent reads stdin only
 * while two slots are free and the job text it holds is under QUEUE_MAX,
 * which bounds memory and pushes back on the upstream stage.
 *
 * A batch unit is cut into jobs of at most JOB_ITEMS items, so that a
 * worker holds the trees of a few items, not of a whole batch. A job goes
 * to an idle worker (one job per worker at a time, so a write to a worker
 * can never deadlock against its result); its points come back as text.
 * Output is written strictly in input order, a batch's points record as
 * its jobs finish in order: the record's head with the first job, each
 * job's points as they come, its tail with the last. So what waits for
 * order is only the text of jobs finished ahead of a slower one, bounded
 * by JOB_AHEAD jobs and WAIT_MAX bytes; the points record, its seq and
 * its bytes are the same as if one worker had done the whole batch, for
 * every N. A worker that dies is replaced and its job retried once; a job
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
#define JOB_ITEMS	20		/* items per job, at least (see piece_end) */
#define IMDB_GROUP	5		/* ids per IMDb batchGet (imdb.c) */
#define JOB_AHEAD(nw)	(2 * (size_t)(nw) + 2)	/* jobs handed out past the oldest */
#define WAIT_MAX	(4u * 1024 * 1024)	/* bytes of points waiting for order */
#define QUEUE_MAX	(4u * 1024 * 1024)	/* bytes of job text read ahead */

enum unit_kind { U_BATCH = 1, U_PASS, U_END };

enum job_state {
	J_WAIT = 0,	/* not at a worker */
	J_BUSY,		/* at a worker */
	J_DONE,		/* its points are in out */
	J_FAILED	/* it killed two workers: rejected */
};

struct job {
	enum job_state	 state;
	int		 attempts;	/* workers that died holding it */
	char		*text;		/* the job text sent to a worker */
	size_t		 len;
	size_t		*lines;		/* input line of each item / of the record */
	size_t		 nlines;
	size_t		 nitems;
	struct buf	 out;		/* its points, comma-separated, no brackets */
};

struct unit {
	enum unit_kind	 kind;
	int		 done;		/* pass / end: ready to write */
	int64_t		 seq;		/* points seq (batches) */
	int		 bare;		/* made of bare items */
	struct job	*jobs;
	size_t		 njobs;
	size_t		 emitted;	/* jobs whose points are written */
	int		 started;	/* a job of it went to a worker */
	int		 opened;	/* the points record's head is written */
	int		 any;		/* points written: the next needs a comma */
	struct buf	 out;		/* a pass-through line, without newline */
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
	size_t		*wjob;		/* per worker: index of its job in its unit */
	int		 nw;
	int		 deaths;	/* worker deaths since the last result */
	size_t		 queued;	/* bytes of job text held */
	size_t		 waiting;	/* bytes of points held for order */
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
	d->count++;
	return u;
}

/* Frees what a job holds (its text once written or rejected). */
static void
job_clear(struct disp *d, struct job *jb)
{
	d->queued -= jb->text != NULL ? jb->len : 0;
	d->waiting -= jb->out.len;
	free(jb->text);
	free(jb->lines);
	buf_free(&jb->out);
	jb->text = NULL;
	jb->lines = NULL;
}

static void
unit_clear(struct disp *d, struct unit *u)
{
	size_t i;

	for (i = 0; i < u->njobs; i++)
		job_clear(d, &u->jobs[i]);
	free(u->jobs);
	buf_free(&u->out);
	json_object_put(u->end);
	memset(u, 0, sizeof(*u));
}

/* A new job of u: text (taken), its items, the input lines of its items. */
static void
job_add(struct disp *d, struct unit *u, char *text, size_t len,
    size_t nitems, const size_t *lines, size_t nlines)
{
	struct job *jb;

	u->jobs = xreallocarray(u->jobs, u->njobs + 1, sizeof(*u->jobs));
	jb = &u->jobs[u->njobs++];
	memset(jb, 0, sizeof(*jb));
	jb->text = text;
	jb->len = len;
	jb->lines = xreallocarray(NULL, nlines, sizeof(*jb->lines));
	memcpy(jb->lines, lines, nlines * sizeof(*lines));
	jb->nlines = nlines;
	jb->nitems = nitems;
	d->queued += len;
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

/*
 * The IMDb id a worker looks up for this item (batch.c looks up movies,
 * episodes and shows with a rating key), or NULL.
 */
static const char *
item_imdb(struct json_object *it, struct ext_ids *ids)
{
	const char *t = jget_str(it, "type");

	if (t == NULL || jget_str(it, "ratingKey") == NULL ||
	    (strcmp(t, "movie") != 0 && strcmp(t, "episode") != 0 &&
	    strcmp(t, "show") != 0))
		return NULL;
	enrich_ext_ids(it, ids);
	return ids->imdb[0] != '\0' ? ids->imdb : NULL;
}

/*
 * Where the piece of items that starts at `start` ends: after `max`
 * items, but never between two episodes of the same show, so that a
 * show's seasons are fetched in one call, not one per piece. For a job
 * (imdb set), also only after a multiple of IMDB_GROUP distinct IMDb
 * ids: a worker asks for a job's ids in groups of that many, so jobs
 * cut there make as few IMDb requests as one whole batch would. Decided
 * by the input alone, so output is the same for every -j.
 */
static size_t
piece_end(struct json_object *items, size_t start, size_t n, size_t max,
    int imdb)
{
	struct json_object *it, *seen = NULL;
	struct ext_ids ids;
	const char *prev = NULL, *rk, *id;
	size_t i, nid = 0;

	if (imdb)
		seen = json_object_new_object();
	for (i = start; i < n; i++) {
		it = json_object_array_get_idx(items, i);
		rk = jget_str(it, "grandparentRatingKey");
		if (i - start >= max && nid % IMDB_GROUP == 0 &&
		    (rk == NULL || prev == NULL || strcmp(rk, prev) != 0))
			break;
		prev = rk;
		if (imdb && (id = item_imdb(it, &ids)) != NULL &&
		    !json_object_object_get_ex(seen, id, NULL)) {
			json_object_object_add(seen, id, NULL);
			nid++;
		}
	}
	json_object_put(seen);
	return i;
}

/* The pending bare items become one batch unit, in jobs of JOB_ITEMS. */
static void
flush_bare(struct disp *d)
{
	struct json_object *job, *arr;
	struct unit *u;
	const char *s;
	size_t len, n, i, from, to;

	if (d->bare == NULL)
		return;
	n = json_object_array_length(d->bare);
	u = unit_add(d, U_BATCH);
	u->seq = d->next_seq++;
	u->bare = 1;
	for (from = 0; from < n; from = to) {
		to = piece_end(d->bare, from, n, JOB_ITEMS, 1);
		arr = json_object_new_array();
		for (i = from; i < to; i++)
			json_object_array_add(arr, json_object_get(
			    json_object_array_get_idx(d->bare, i)));
		job = json_object_new_object();
		json_object_object_add(job, "items", arr);
		s = ndjson_to_string(job, &len);
		job_add(d, u, xstrndup(s, len), len, to - from,
		    d->bare_lines + from, to - from);
		json_object_put(job);
	}
	json_object_put(d->bare);
	free(d->bare_lines);
	d->bare = NULL;
	d->bare_lines = NULL;
}

/*
 * Items [from, to) of a plex batch and the shows they need, as a plex
 * record with the batch's other members (kind, seq, section ...), so
 * that a job sent to the reject file replays as it is.
 */
static char *
plex_piece(struct json_object *rec, struct json_object *items,
    struct json_object *shows, size_t from, size_t to, size_t *len)
{
	struct json_object *job, *arr, *sub, *it, *sh;
	const char *rk, *s;
	char *text;
	size_t i;

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
	s = ndjson_to_string(job, len);
	text = xstrndup(s, *len);
	json_object_put(job);
	return text;
}

/*
 * A plex batch larger than --enrichment-batch-size is cut into units
 * (points records) so that all workers get work, and each unit into
 * jobs; neither cut falls between two episodes of one show. A job that
 * is the whole batch keeps the batch's own text.
 */
static void
split_plex(struct disp *d, struct json_object *j, const char *raw, size_t len)
{
	struct json_object *items = jget_arr(j, "items"), *shows;
	struct unit *u;
	size_t n, from, to, jfrom, jto, tlen;
	char *text;

	n = items != NULL ? json_object_array_length(items) : 0;
	shows = jget_obj(j, "shows");
	from = 0;
	do {
		to = n <= (size_t)d->o->batch_size ? n :
		    piece_end(items, from, n, (size_t)d->o->batch_size, 0);
		u = unit_add(d, U_BATCH);
		u->seq = d->next_seq++;
		jfrom = from;
		do {
			jto = piece_end(items, jfrom, to, JOB_ITEMS, 1);
			if (jfrom == 0 && jto == n) {
				text = xstrndup(raw, len);
				tlen = len;
			} else
				text = plex_piece(j, items, shows, jfrom, jto,
				    &tlen);
			job_add(d, u, text, tlen, jto - jfrom, &d->lineno, 1);
			jfrom = jto;
		} while (jfrom < to);
		from = to;
	} while (from < n);
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

	while (!d->input_done && d->count + 2 <= d->cap &&
	    d->queued < QUEUE_MAX && d->res->fatal == 0) {
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

/*
 * The head of unit u's points record, "{...,"points":[" (points is the
 * record's last member): built by record.c like any record, so the
 * record written in parts has the bytes of one written whole.
 */
static void
points_head(int64_t seq, struct buf *head)
{
	struct json_object *rec = record_points_new(seq, NULL);
	const char *s;
	size_t len;

	s = ndjson_to_string(rec, &len);
	buf_reset(head);
	if (len >= 3 && strcmp(s + len - 3, "[]}") == 0)
		buf_append(head, s, len - 2);
	json_object_put(rec);
}

/*
 * Writes what the head unit has ready, in order: a batch's finished jobs
 * (the record's head before the first), its tail once every job is
 * written or rejected. Returns 1 when the unit is finished.
 */
static int
emit_batch(struct disp *d, struct unit *u)
{
	struct buf head = BUF_INIT;
	struct job *jb;

	while (u->emitted < u->njobs) {
		jb = &u->jobs[u->emitted];
		if (jb->state == J_DONE) {
			if (!u->opened) {
				points_head(u->seq, &head);
				ndjson_write_part(d->w, head.data, head.len);
				buf_free(&head);
				u->opened = 1;
			}
			if (jb->out.len > 0) {
				if (u->any)
					ndjson_write_part(d->w, ",", 1);
				ndjson_write_part(d->w, jb->out.data,
				    jb->out.len);
				u->any = 1;
			}
		} else if (jb->state != J_FAILED)
			return 0;
		job_clear(d, jb);
		u->emitted++;
	}
	/* a batch all of whose jobs were rejected writes nothing */
	if (u->opened) {
		ndjson_write_raw(d->w, "]}", 2);
		d->res->batches++;
	}
	return 1;
}

static void
emit(struct disp *d)
{
	struct unit *u;

	while (d->count > 0) {
		u = unit_at(d, d->head);
		if (u->kind == U_BATCH) {
			if (!emit_batch(d, u))
				break;
		} else if (!u->done)
			break;
		else if (u->kind == U_END) {
			record_end_add_stats(u->end, "meta-enrich",
			    stats_object(d));
			ndjson_write(d->w, u->end);
		} else
			ndjson_write_raw(d->w, u->out.data, u->out.len);
		unit_clear(d, u);
		d->head++;
		d->count--;
	}
	log_progress((size_t)d->st->v[ST_ITEMS]);	/* items enriched so far */
}

/*
 * Stopping with a points record half written: its tail goes out, so
 * that the output ends with whole lines (the points it has are good).
 */
static void
emit_close(struct disp *d)
{
	struct unit *u;

	if (d->count == 0)
		return;
	u = unit_at(d, d->head);
	if (u->kind == U_BATCH && u->opened && u->emitted < u->njobs) {
		ndjson_write_raw(d->w, "]}", 2);
		d->res->batches++;
		u->opened = 0;
	}
}

/* A job that killed two workers: its records go to the reject file. */
static void
reject_job(struct disp *d, struct unit *u, struct job *jb)
{
	static const char why[] = "batch killed two workers";
	struct ndjson_error err;
	struct json_object *j, *items;
	const char *s;
	size_t i, len;

	jb->state = J_FAILED;
	if (!u->bare) {
		bad_record(d, jb->lines[0], why, jb->text, jb->len);
		return;
	}
	j = ndjson_parse_string(jb->text, jb->len, &err);
	items = jget_arr(j, "items");
	for (i = 0; i < jb->nlines && items != NULL; i++) {
		s = ndjson_to_string(json_object_array_get_idx(items, i), &len);
		bad_record(d, jb->lines[i], why, s, len);
	}
	json_object_put(j);
}

static void
worker_died(struct disp *d, int w)
{
	struct enrich_worker *wk = &d->ws[w];
	struct unit *u;
	struct job *jb;
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
		jb = &u->jobs[d->wjob[w]];
		jb->state = J_WAIT;
		if (++jb->attempts >= 2)
			reject_job(d, u, jb);
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

/*
 * A job's result is a points record of its unit's seq (worker.c makes
 * the same record for a job as for a whole batch); its points, without
 * the record around them, wait in the job for their turn.
 */
static void
take_points(struct disp *d, int w, struct unit *u, struct job *jb,
    const char *p, size_t len)
{
	struct buf head = BUF_INIT;

	points_head(u->seq, &head);
	if (head.len == 0 || len < head.len + 2 ||
	    memcmp(p, head.data, head.len) != 0 ||
	    memcmp(p + len - 2, "]}", 2) != 0) {
		log_error("worker %d: its answer is not the points record of "
		    "batch %lld", w, (long long)u->seq);
		d->res->fatal = EXIT_FATAL;
		buf_free(&head);
		return;
	}
	buf_append(&jb->out, p + head.len, len - head.len - 2);
	d->waiting += jb->out.len;
	jb->state = J_DONE;
	free(jb->text);		/* done: its text is needed no more */
	d->queued -= jb->len;
	jb->text = NULL;
	buf_free(&head);
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
			take_points(d, w, u, &u->jobs[d->wjob[w]], p, h.len1);
			if (h.len2 > 0)
				add_queue_ids(d, p + h.len1, h.len2);
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

/*
 * The oldest job not at a worker, if it may be handed out: the oldest
 * unwritten job always may (a retry after a death included); a later
 * one only within JOB_AHEAD jobs of it and while WAIT_MAX bytes of
 * points are not already waiting for it. When stopping, only jobs of
 * batches already started, so that those are written whole.
 */
static struct job *
next_job(struct disp *d, int stopping, size_t *ord, size_t *idx)
{
	struct unit *u;
	struct job *jb;
	size_t k, i, ahead = 0;

	for (k = 0; k < d->count; k++) {
		u = unit_at(d, d->head + k);
		if (u->kind != U_BATCH)
			continue;
		if (stopping && !u->started)
			return NULL;
		for (i = u->emitted; i < u->njobs; i++, ahead++) {
			jb = &u->jobs[i];
			if (jb->state != J_WAIT)
				continue;
			if (ahead > 0 && (ahead >= JOB_AHEAD(d->nw) ||
			    d->waiting >= WAIT_MAX))
				return NULL;
			*ord = d->head + k;
			*idx = i;
			return jb;
		}
	}
	return NULL;
}

/* Gives the oldest jobs to idle workers. */
static void
dispatch(struct disp *d, int stopping)
{
	struct msg_hdr h;
	struct unit *u;
	struct job *jb;
	size_t ord, idx;
	int w;

	for (w = 0; w < d->nw && d->res->fatal == 0; w++) {
		if (d->ws[w].pid <= 0 || d->ws[w].unit >= 0)
			continue;
		if ((jb = next_job(d, stopping, &ord, &idx)) == NULL)
			return;
		u = unit_at(d, ord);
		u->started = 1;
		log_debug("batch %lld: job %zu of %zu, %zu items, to worker %d",
		    (long long)u->seq, idx + 1, u->njobs, jb->nitems, w);
		memset(&h, 0, sizeof(h));
		h.type = MSG_JOB;
		h.seq = u->seq;
		h.len1 = jb->len;
		jb->state = J_BUSY;
		d->ws[w].unit = (long)ord;
		d->wjob[w] = idx;
		/* an idle worker reads the whole job before it writes */
		if (enrich_msg_send(d->ws[w].to_fd, &h, NULL, jb->text,
		    NULL) == -1)
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
		 * A stop signal: read nothing more and start no new batch,
		 * but let the batches already started finish (for a while;
		 * workers answer their last jobs from the cache) and write
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
			/* the rest of a started batch: workers answer from the cache */
			dispatch(d, 1);
			if (busy(d) == 0 || now_monotonic() > stop_at)
				break;
		} else {
			take_lines(d);
			dispatch(d, 0);
			emit(d);
			if (d->input_done && d->count == 0)
				break;
		}
		n = 0;
		stdin_at = -1;
		if (!signal_received && !d->eof && d->count + 2 <= d->cap &&
		    d->queued < QUEUE_MAX && d->need_input) {
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
	d.wjob = xcalloc((size_t)d.nw, sizeof(*d.wjob));
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
	emit_close(&d);
	shutdown_workers(&d);
	res->rejects = reject_count(d.rej);
	if (reject_close(d.rej) == -1 && res->fatal == 0)
		res->fatal = EXIT_FATAL;
	if (ndjson_writer_close(d.w, 0) == -1 && res->fatal == 0) {
		log_error("stdout: %s", strerror(errno));
		res->fatal = EXIT_FATAL;
	}
	for (k = 0; k < d.count; k++)
		unit_clear(&d, unit_at(&d, d.head + k));
	free(d.ring);
	free(d.ws);
	free(d.wjob);
	ndjson_reader_free(d.rd);
	json_object_put(d.bare);
	free(d.bare_lines);
	return res->fatal;
}
