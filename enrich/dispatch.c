/* dispatch.c: the parent: reads stdin, hands jobs to the workers, writes their results in input order. */
/*
 * Every input record that produces output becomes a "unit" with an
 * ordinal (its place in the input): a points batch of at most
 * --enrichment-batch-size items, a pass-through record or the end
 * record. Units live in a ring of 2N+1 slots: the parent reads stdin only
 * while two slots are free and the job text it holds is under QUEUE_MAX,
 * which bounds memory and pushes back on the upstream stage.
 *
 * A batch unit is cut into jobs of about JOB_ITEMS items (units.c), so
 * that a worker holds the trees of a few items, not of a whole batch. A
 * job goes to an idle worker (one job per worker at a time, so a write to
 * a worker can never deadlock against its result); its points come back
 * as text.
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
#include "dispatch.h"
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
	struct ndjson_error	 err;
	struct json_object	*rec;
	const char		*text;
	size_t			 tlen;

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
	const char	*why, *kind, *stage;
	struct unit	*u;
	size_t		 n;

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
			disp_flush_bare(d);
		break;
	case REC_PLEX:
		/* only text jparse_split() doubts (or a replayed reject) comes here */
		log_debug("stdin:%zu: plex record parsed whole", d->lineno);
		if ((why = record_check_plex(j)) != NULL) {
			bad_record(d, d->lineno, why, raw, len);
			break;
		}
		disp_flush_bare(d);
		disp_split_plex_tree(d, j, raw, len);
		break;
	case REC_END:
		if ((why = record_check_end(j)) != NULL) {
			bad_record(d, d->lineno, why, raw, len);
			break;
		}
		disp_flush_bare(d);
		u = disp_unit_add(d, U_END);
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
		disp_flush_bare(d);
		u = disp_unit_add(d, U_PASS);
		buf_append(&u->out, raw, len);
		u->done = 1;
		break;
	}
}

/*
 * A plex line split, not parsed whole (record_split(), as qdrant-upsert
 * splits points lines): a batch of 1,000 items is ~8 MB of text, and its
 * tree would take ten times that. Each item is parsed alone, for the
 * facts that cutting needs; the jobs are made of the items' own texts.
 * Returns -1 when the line is not a plex record to split (the caller
 * parses it whole, which also names any error), else 0.
 */
static int
split_plex_text(struct disp *d, const char *text, size_t len)
{
	struct ndjson_error	 err;
	struct json_object	*env, *it;
	struct plex_items	 pi;
	struct item_fact	*f;
	struct jspan		*el;
	const char		*why;
	size_t			 i, n;

	if (!record_split(text, len, REC_PLEX, &env, &el, &n, &why))
		return -1;
	if (why != NULL) {
		bad_record(d, d->lineno, why, text, len);
		json_object_put(env);
		free(el);
		return 0;
	}
	f = xreallocarray(NULL, n + 1, sizeof(*f));
	for (i = 0; i < n; i++) {
		if ((it = ndjson_reader_parse_span(d->rd, el[i].off,
		    el[i].len, &err)) == NULL) {
			/* jparse_split vouched for it: not expected */
			bad_record(d, d->lineno, err.reason, text, len);
			disp_item_facts_free(f, i);
			free(el);
			json_object_put(env);
			return 0;
		}
		disp_item_fact(it, &f[i]);
		json_object_put(it);
	}
	pi.text = text;
	pi.el = el;
	pi.facts = f;
	pi.n = n;
	/* as handle_record(): a bad plex record does not cut a run of bare items */
	disp_flush_bare(d);
	disp_split_plex(d, env, &pi, text, len);
	disp_item_facts_free(f, n);
	free(el);
	json_object_put(env);
	return 0;
}

/*
 * Takes the records the reader holds while the ring has room; the reader
 * (ndjson_read.c) splits lines, counts them and judges each line.
 */
static void
take_lines(struct disp *d)
{
	struct ndjson_error	 err;
	struct json_object	*j;
	enum ndjson_status	 st;
	const char		*raw;
	size_t			 len;

	while (!d->input_done && d->count + 2 <= d->cap &&
	    d->queued < QUEUE_MAX && d->res->fatal == 0) {
		j = NULL;
		st = ndjson_reader_take_text(d->rd, &raw, &len, &err);
		if (st == NDJSON_AGAIN) {
			d->need_input = 1;
			break;
		}
		if (st == NDJSON_EOF) {
			disp_flush_bare(d);
			d->input_done = 1;
			/* the last hints; it finishes them, then waits */
			lookahead_input_done(d->la);
			break;
		}
		d->lineno = ndjson_reader_line(d->rd);
		if (st == NDJSON_OK && split_plex_text(d, raw, len) == 0)
			continue;
		if (st == NDJSON_OK)
			st = ndjson_reader_parse(d->rd, &j, &err);
		if (st == NDJSON_BAD) {
			bad_record(d, err.line, err.reason, err.raw, err.raw_len);
			continue;
		}
		handle_record(d, j, raw, len);
		json_object_put(j);
	}
}

static void
read_stdin(struct disp *d)
{
	char	 chunk[READ_CHUNK];
	ssize_t	 r;

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

/* A job that killed two workers: its records go to the reject file. */
static void
reject_job(struct disp *d, struct unit *u, struct job *jb)
{
	static const char	 why[] = "batch killed two workers";
	struct ndjson_error	 err;
	struct json_object	*j, *items;
	const char		*s;
	size_t			 i, len;

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
	struct enrich_worker	*wk = &d->ws[w];
	struct unit		*u;
	struct job		*jb;
	int			 status = 0;

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
		u = disp_unit_at(d, (size_t)wk->unit);
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
	struct ndjson_error	 err;
	struct json_object	*root, *a;
	char			*wrapped;
	const char		*id;
	size_t			 i, n;

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
	struct buf	 head = BUF_INIT;

	disp_points_head(u->seq, &head);
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
	struct enrich_worker	*wk = &d->ws[w];
	struct msg_hdr		 h;
	struct unit		*u;
	uint64_t		 stats[ST_NSTATS];
	size_t			 need, i, ns;
	const char		*p;

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
			u = disp_unit_at(d, (size_t)wk->unit);
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
	char	 chunk[65536];
	ssize_t	 r;

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

/* Gives the oldest jobs to idle workers. */
static void
dispatch(struct disp *d, int stopping)
{
	struct msg_hdr	 h;
	struct unit	*u;
	struct job	*jb;
	size_t		 ord, idx;
	int		 w;

	for (w = 0; w < d->nw && d->res->fatal == 0; w++) {
		if (d->ws[w].pid <= 0 || d->ws[w].unit >= 0)
			continue;
		if ((jb = disp_next_job(d, stopping, &ord, &idx)) == NULL)
			return;
		u = disp_unit_at(d, ord);
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
	int	 w, status;

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
	int	 w, n = 0;

	for (w = 0; w < d->nw; w++)
		if (d->ws[w].pid > 0 && d->ws[w].unit >= 0)
			n++;
	return n;
}

static void
loop(struct disp *d)
{
	struct pollfd	*pfd;
	double		 stop_at = 0;
	int		 w, n, r, stdin_at, la_at;

	pfd = xcalloc((size_t)d->nw + 2, sizeof(*pfd));
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
				/* batches at workers end from the cache */
				lookahead_stop(d->la, d->st);
				d->la = NULL;
				if (busy(d) > 0)
					log_notice("stopping: finishing %d batches at "
					    "workers", busy(d));
			}
			disp_emit(d);
			/* the rest of a started batch: workers answer from the cache */
			dispatch(d, 1);
			if (busy(d) == 0 || now_monotonic() > stop_at)
				break;
		} else {
			take_lines(d);
			lookahead_write(d->la);
			dispatch(d, 0);
			disp_emit(d);
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
		la_at = lookahead_pollfd(d->la, &pfd[n]) ? n++ : -1;
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
		if (la_at >= 0 && pfd[la_at].revents != 0)
			lookahead_write(d->la);
	}
	free(pfd);
}

int
enrich_dispatch(const struct enrich_opts *o, struct enrich_stats *st,
    char ***queue, size_t *nqueue, struct dispatch_result *res)
{
	struct disp	 d;
	sigset_t	 usr1;
	int		 w;
	size_t		 k;

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
	/* after the workers: it must not hold their pipes open */
	if (res->fatal == 0)
		d.la = lookahead_start(o, d.ws, d.nw);
	/*
	 * The parent's job texts and points records (100 KB to a few MB)
	 * come and go all run: mmapped, each is given back when freed, and
	 * its peak stays flat (heap holes made it grow with the run). After
	 * the forks: the workers make a points record per job, and mmapping
	 * those cost them ~10% more CPU for nothing (their peak is flat).
	 */
	xalloc_mmap_big();
	if (res->fatal == 0)
		loop(&d);
	disp_emit_close(&d);
	shutdown_workers(&d);
	lookahead_stop(d.la, st);
	res->rejects = reject_count(d.rej);
	if (reject_close(d.rej) == -1 && res->fatal == 0)
		res->fatal = EXIT_FATAL;
	if (ndjson_writer_close(d.w, 0) == -1 && res->fatal == 0) {
		log_error("stdout: %s", strerror(errno));
		res->fatal = EXIT_FATAL;
	}
	for (k = 0; k < d.count; k++)
		disp_unit_clear(&d, disp_unit_at(&d, d.head + k));
	free(d.ring);
	free(d.ws);
	free(d.wjob);
	ndjson_reader_free(d.rd);
	json_object_put(d.bare);
	free(d.bare_lines);
	return res->fatal;
}
