/* upsert_batch.c: the batch pipeline: fetch stored hashes, embed, upsert several at once, dead-letter what fails. */
/*
 * Points are grouped into batches of --batch-size. Each batch carries its
 * state, and moves through it one step at a time, each step a set of
 * requests on a curl multi handle, so that several batches are in flight
 * at once:
 *
 *   READING     filling from the input
 *   CHECKING    POST /collections/C/points {"ids":[...]}: stored content
 *               hashes; points whose hash is unchanged are skipped from
 *               here on, degraded ones over stored points are held back
 *   EMBEDDING   POST /v1/embeddings per --embed-batch-size texts
 *               (--dense endpoint)
 *   UPSERTING   PUT /collections/C/points, split so no body exceeds
 *               --max-request-bytes
 *   DONE        every point written, skipped, held or dead-lettered
 *   DEAD        spooled: what was not written went to the dead-letter file
 *
 * A request's answer is handled by the handler of its step (on_fetch,
 * on_embed, on_upsert); when the last request of a step is answered,
 * advance() runs the one transition out of the batch's state. Answers
 * arrive in one way only, through on_done(): from http_multi_run() for
 * the network, and from dry_complete() for --dry-run, whose transport
 * writes each request to stdout and answers it, empty, on the next turn.
 *
 * A batch is kept as what it must become, not as json-c trees: each point
 * as its PointStruct text with holes for its vectors (point.c), its input
 * text for the dead-letter file, its embedding as text, and small facts
 * (id, hash, degraded). These bytes and the bodies in flight are counted
 * (upsert_run_bytes(), for --max-read-ahead).
 *
 * A request that fails after the HTTP layer's retries dead-letters its
 * points as a `points` record (replayable input); an upsert whose content
 * Qdrant refuses (400, 413, 422) is first retried in halves, so one bad
 * point does not take its neighbours along; so is a refused embeddings
 * request (a text too long for the model, say). After SPOOL_AFTER
 * consecutive failed requests Qdrant is taken to be down: every point not
 * yet written goes straight to the dead-letter file, without more
 * attempts.
 */
#include <sys/queue.h>

#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "buf.h"
#include "dead_letter.h"
#include "exitcode.h"
#include "http.h"
#include "jparse.h"
#include "jsonutil.h"
#include "log.h"
#include "ndjson_write.h"
#include "xalloc.h"
#include "upsert.h"

#define SPOOL_AFTER	3	/* consecutive failed requests: Qdrant is down */

enum batch_state {
	BATCH_READING,
	BATCH_CHECKING,
	BATCH_EMBEDDING,
	BATCH_UPSERTING,
	BATCH_DONE,
	BATCH_DEAD
};

enum step { STEP_FETCH, STEP_EMBED, STEP_UPSERT };

/* One point of a batch: texts and facts, no tree. */
struct bpoint {
	char			*raw;		/* as read, "degraded" included: for the dead letters */
	size_t			 rawlen;
	struct upsert_pstruct	 ps;		/* its PointStruct, until in an upsert body */
	char			*bad;		/* why no PointStruct could be made */
	char			*idtext;	/* its id as JSON, for the fetch */
	char			*etext, *emodel; /* the dense Document to embed */
	size_t			 elen;
	char			*vec;		/* its embedding as JSON text */
	size_t			 veclen;
	char			*degraded;	/* its "degraded" as JSON, taken off */
	char			*rating_key;	/* of a degraded point: live if held */
	size_t			 bytes;		/* what the above hold */
	char			 key[80];	/* upsert_id_key() */
	char			 hash[65];
	int			 stored;	/* Qdrant has a point with this id */
	int			 skip;		/* unchanged, or held: not written */
	int			 held;		/* degraded over a stored point */
	int			 done;		/* upserted or dead-lettered */
};

struct batch {
	struct upsert_run	*run;
	enum batch_state	 state;
	int64_t			 seq;
	struct bpoint		*pts;
	size_t			 n, cap;
	int			 outstanding;	/* requests of this step not yet answered */
	int			 failed;	/* a fetch/embed step failed */
	char			 error[512];
	size_t			 upserted, skipped, dead, held;
	int			 attempts;
	TAILQ_ENTRY(batch)	 entry;
};

struct req {
	struct batch	*b;
	enum step	 step;
	size_t		*idx;		/* points this request carries */
	size_t		 n;
	size_t		 bytes;		/* its body, copied by the HTTP layer */
	TAILQ_ENTRY(req) entry;		/* in run->reqs until answered */
	TAILQ_ENTRY(req) dry;		/* in run->dryq: written, to be answered */
};

/* A request's final answer, as on_done() hands it to a step's handler. */
struct answer {
	struct req	*r;
	long		 status;
	const char	*body;
	size_t		 len;
	int		 attempts;
	const char	*error;
};

struct upsert_run {
	const struct upsert_config *cfg;
	struct upsert_qdrant	*q;
	struct http_client	*embed;
	const char		*embed_path;
	struct upsert_bm25	*bm;
	struct ndjson_writer	*out;
	long			 dense_size;
	char			*settings;
	char			*upsert_path;
	char			*fetch_path;
	struct http_multi	*qm, *em;
	struct batch		*cur;		/* READING */
	TAILQ_HEAD(, batch)	 batches;	/* started, not finished */
	TAILQ_HEAD(, req)	 reqs;		/* sent, not yet answered */
	TAILQ_HEAD(, req)	 dryq;		/* --dry-run: written, to answer */
	size_t			 active;
	size_t			 bytes;		/* points' texts and bodies in flight */
	int64_t			 seq;
	int			 consec_fail;
	int			 fatal;
	struct dead_letter	*dl;		/* NULL for --dry-run */
	char			**held_keys;	/* rating keys of held points */
	size_t			 nheld, heldcap;
	struct upsert_stats	 st;
};

struct upsert_run *
upsert_run_new(const struct upsert_config *cfg, struct upsert_qdrant *q,
    struct http_client *embed, const char *embed_path, struct upsert_bm25 *bm,
    struct ndjson_writer *out, long dense_size, const char *settings)
{
	struct upsert_run	*run;
	char			*esc;

	run = xcalloc(1, sizeof(*run));
	run->cfg = cfg;
	run->q = q;
	run->embed = embed;
	run->embed_path = embed_path;
	run->bm = bm;
	run->out = out;
	run->dense_size = dense_size;
	run->settings = xstrdup(settings);
	esc = http_escape(cfg->collection);
	xasprintf(&run->upsert_path, "/collections/%s/points?wait=%s", esc,
	    cfg->wait ? "true" : "false");
	xasprintf(&run->fetch_path, "/collections/%s/points", esc);
	free(esc);
	if (q->client != NULL)
		run->qm = http_multi_new(q->client, cfg->concurrency);
	if (embed != NULL && !cfg->dry_run)
		run->em = http_multi_new(embed, cfg->concurrency);
	if (!cfg->dry_run)
		run->dl = dead_letter_new(cfg->dead_letter);
	TAILQ_INIT(&run->batches);
	TAILQ_INIT(&run->reqs);
	TAILQ_INIT(&run->dryq);
	return run;
}

/* --- points: texts and facts --- */

static size_t
point_bytes(const struct bpoint *p)
{
	return p->rawlen + p->ps.len + p->ps.sparse_len + p->veclen +
	    (p->etext ? p->elen : 0);
}

/* Re-counts p's bytes after its texts changed. */
static void
point_recount(struct upsert_run *run, struct bpoint *p)
{
	run->bytes -= p->bytes;
	p->bytes = point_bytes(p);
	run->bytes += p->bytes;
}

/* Drops the PointStruct: it is in an upsert body now. */
static void
point_sent(struct upsert_run *run, struct bpoint *p)
{
	upsert_pstruct_free(&p->ps);
	point_recount(run, p);
}

/*
 * A point needs nothing more once written, skipped, held or dead-lettered:
 * its texts go. The Document to embed stays until the batch's embedding
 * step is over (a point dead-lettered before it is still in its request).
 */
static void
point_release(struct upsert_run *run, struct bpoint *p)
{
	free(p->raw);
	p->raw = NULL;
	p->rawlen = 0;
	upsert_pstruct_free(&p->ps);
	free(p->vec);
	p->vec = NULL;
	p->veclen = 0;
	point_recount(run, p);
}

static void
point_free(struct upsert_run *run, struct bpoint *p)
{
	point_release(run, p);
	free(p->etext);
	free(p->emodel);
	p->etext = p->emodel = NULL;
	point_recount(run, p);
	free(p->bad);
	free(p->idtext);
	free(p->degraded);
	free(p->rating_key);
}

/* Makes p's PointStruct from point (without "degraded"); else p->bad says why. */
static void
point_prepare(struct upsert_run *run, struct bpoint *p, struct json_object *point)
{
	char	 why[256];

	if (upsert_pstruct_make(run->cfg, point, p->hash, &p->ps, why,
	    sizeof(why)) != 0) {
		free(p->bad);
		p->bad = xstrdup(why);
	}
}

/* The PointStruct again, from the input text (a retry in halves). */
static void
point_rebuild(struct upsert_run *run, struct bpoint *p)
{
	struct json_object	*o;
	struct jerr		 err;

	if ((o = jparse(p->raw, p->rawlen, "point", &err)) == NULL) {
		p->bad = xstrdup(err.reason);	/* our own copy: not expected */
		return;
	}
	json_object_object_del(o, "degraded");
	point_prepare(run, p, o);
	json_object_put(o);
	point_recount(run, p);
}

static void
batch_free(struct batch *b)
{
	size_t	 i;

	for (i = 0; i < b->n; i++)
		point_free(b->run, &b->pts[i]);
	free(b->pts);
	free(b);
}

void
upsert_run_free(struct upsert_run *run)
{
	struct batch	*b;
	struct req	*r;

	if (run == NULL)
		return;
	/* after a fatal error requests may still be pending: aborted here */
	if (run->qm != NULL)
		http_multi_free(run->qm);
	if (run->em != NULL)
		http_multi_free(run->em);
	while ((r = TAILQ_FIRST(&run->reqs)) != NULL) {
		TAILQ_REMOVE(&run->reqs, r, entry);
		free(r->idx);
		free(r);
	}
	while ((b = TAILQ_FIRST(&run->batches)) != NULL) {
		TAILQ_REMOVE(&run->batches, b, entry);
		batch_free(b);
	}
	if (run->cur != NULL)
		batch_free(run->cur);
	upsert_run_close_dead_letter(run);
	while (run->nheld > 0)
		free(run->held_keys[--run->nheld]);
	free(run->held_keys);
	free(run->settings);
	free(run->upsert_path);
	free(run->fetch_path);
	free(run);
}

/* --- dead letters (dead_letter.c) --- */

/*
 * Appends the listed points of b as one points record, each as it was
 * read, its "degraded" last (a replay must know it is degraded as much
 * as this run did). --dry-run writes nothing: the points are counted.
 */
static void
dl_write(struct upsert_run *run, struct batch *b, const size_t *idx, size_t n)
{
	struct json_object	*arr = NULL, *o, *deg;
	struct jerr		 err;
	struct bpoint		*p;
	size_t			 i;

	if (n == 0)
		return;
	if (run->dl != NULL) {
		if (dead_letter_open(run->dl) != 0) {
			run->fatal = EXIT_FATAL;
			return;
		}
		arr = json_object_new_array_ext((int)n);
	}
	for (i = 0; i < n; i++) {
		p = &b->pts[idx ? idx[i] : i];
		if (arr != NULL) {
			if ((o = jparse(p->raw, p->rawlen, "point", &err)) == NULL)
				o = json_object_new_object();	/* our own copy: not expected */
			if (json_object_object_get_ex(o, "degraded", &deg)) {
				json_object_get(deg);
				json_object_object_del(o, "degraded");
				json_object_object_add(o, "degraded", deg);
			}
			json_object_array_add(arr, o);
		}
		p->done = 1;
		point_release(run, p);
	}
	if (arr != NULL && dead_letter_add(run->dl, b->seq, arr) != 0)
		run->fatal = EXIT_FATAL;
	b->dead += n;
	run->st.dead_lettered += n;
}

/* Dead-letters every point of b not yet written or skipped. */
static void
dl_rest(struct upsert_run *run, struct batch *b)
{
	size_t	*idx, i, n = 0;

	idx = xreallocarray(NULL, b->n + 1, sizeof(*idx));
	for (i = 0; i < b->n; i++)
		if (!b->pts[i].skip && !b->pts[i].done)
			idx[n++] = i;
	dl_write(run, b, idx, n);
	free(idx);
}

int
upsert_run_close_dead_letter(struct upsert_run *run)
{
	int	 rc;

	rc = dead_letter_close(run->dl, run->st.dead_lettered);
	run->dl = NULL;
	return rc;
}

/* --- transport: the multi handles, or the dry run's request log --- */

static void	answer(struct upsert_run *, struct answer *);

/*
 * A request's final outcome, the one way answers come in: inside
 * http_multi_run() for the network (so the next step of a batch starts
 * without waiting for the run to return: http.h allows http_multi_add
 * here), and from dry_complete() for --dry-run.
 */
static void
on_done(void *arg, long status, struct http_response *resp)
{
	struct req	*r = arg;
	struct answer	 a;

	memset(&a, 0, sizeof(a));
	a.r = r;
	a.status = status;
	a.body = resp->body.data;
	a.len = resp->body.len;
	a.attempts = resp->attempts;
	a.error = resp->error;
	answer(r->b->run, &a);
}

/*
 * --dry-run's transport: each request was written to stdout when sent;
 * here each is answered, in the order sent, with 200 and no body. Answers
 * may send more requests (the next step): they are answered in turn.
 */
static void
dry_complete(struct upsert_run *run)
{
	struct http_response	 resp;
	struct req		*r;

	while ((r = TAILQ_FIRST(&run->dryq)) != NULL) {
		TAILQ_REMOVE(&run->dryq, r, dry);
		memset(&resp, 0, sizeof(resp));
		resp.status = 200;
		resp.attempts = 1;
		on_done(r, 200, &resp);
	}
}

static void
req_send(struct upsert_run *run, struct req *r, const char *method, const char *path,
    const char *body, size_t len)
{
	struct http_multi	*m = r->step == STEP_EMBED ? run->em : run->qm;

	r->b->outstanding++;
	if (run->cfg->dry_run) {
		upsert_dry_request(run->out, r->step == STEP_EMBED ? "embed" :
		    "qdrant", method, path, body, len);
		TAILQ_INSERT_TAIL(&run->dryq, r, dry);
		return;
	}
	/* the copy in flight counts against the read-ahead too */
	r->bytes = len;
	run->bytes += len;
	http_multi_add(m, method, path, NULL, body, len, on_done, r);
}

static struct req *
req_new(struct batch *b, enum step step, size_t cap)
{
	struct req	*r = xcalloc(1, sizeof(*r));

	r->b = b;
	r->step = step;
	r->idx = xreallocarray(NULL, cap + 1, sizeof(*r->idx));
	TAILQ_INSERT_TAIL(&b->run->reqs, r, entry);
	return r;
}

static void
req_free(struct upsert_run *run, struct req *r)
{
	run->bytes -= r->bytes;
	TAILQ_REMOVE(&run->reqs, r, entry);
	free(r->idx);
	free(r);
}

/* --- ending a batch --- */

static void
result_line(struct upsert_run *run, struct batch *b)
{
	struct json_object	*o;
	const char		*status;

	if (b->dead > 0)
		status = "dead-letter";
	else if (run->cfg->dry_run)
		status = "dry-run";
	else if (b->skipped + b->held == b->n)
		status = "skipped";
	else
		status = "ok";
	o = json_object_new_object();
	json_object_object_add(o, "kind", json_object_new_string("result"));
	json_object_object_add(o, "seq", json_object_new_int64(b->seq));
	json_object_object_add(o, "points", json_object_new_int64((int64_t)b->n));
	json_object_object_add(o, "status", json_object_new_string(status));
	json_object_object_add(o, "attempts", json_object_new_int(b->attempts));
	json_object_object_add(o, "upserted", json_object_new_int64((int64_t)b->upserted));
	json_object_object_add(o, "skipped", json_object_new_int64((int64_t)b->skipped));
	json_object_object_add(o, "dead_lettered", json_object_new_int64((int64_t)b->dead));
	if (b->held > 0)
		json_object_object_add(o, "held_degraded",
		    json_object_new_int64((int64_t)b->held));
	if (b->dead > 0 && b->error[0] != '\0')
		json_object_object_add(o, "error", json_object_new_string(b->error));
	ndjson_write(run->out, o);
	/* one line per batch: flushed, so a watcher sees progress as it happens */
	ndjson_flush(run->out);
	json_object_put(o);
}

static void
finish(struct upsert_run *run, struct batch *b)
{
	result_line(run, b);
	run->st.upserted += b->upserted;
	run->st.skipped += b->skipped;
	run->st.held_degraded += b->held;
	run->st.batches++;
	TAILQ_REMOVE(&run->batches, b, entry);
	run->active--;
	batch_free(b);
}

/* -> DONE: every point is written, skipped, held or dead-lettered. */
static void
to_done(struct upsert_run *run, struct batch *b)
{
	b->state = BATCH_DONE;
	finish(run, b);
}

/* -> DEAD: a step failed, Qdrant is down, or a signal came. */
static void
to_dead(struct upsert_run *run, struct batch *b)
{
	b->state = BATCH_DEAD;
	dl_rest(run, b);
	finish(run, b);
}

/* --- sending a step's requests --- */

/* Sends the body of r. */
static void
send_body(struct upsert_run *run, struct req *r, struct buf *body)
{
	buf_appends(body, "]}");
	req_send(run, r, "PUT", run->upsert_path, body->data, body->len);
}

/*
 * Sends the points idx[0..n) as upserts, split so no body exceeds the
 * limit. Each PointStruct is written into the body in place and dropped
 * (a retry in halves makes it again); one that would overflow the body
 * is moved to the next.
 */
static void
send_points(struct upsert_run *run, struct batch *b, const size_t *idx, size_t n)
{
	struct buf		 body = BUF_INIT, pt = BUF_INIT;
	struct bpoint		*p;
	struct req		*r = NULL;
	char			 why[256];
	size_t			 i, k, mark, plen, max = run->cfg->max_request_bytes;

	for (k = 0; k < n; k++) {
		i = idx[k];
		p = &b->pts[i];
		if (p->ps.text == NULL && p->bad == NULL)
			point_rebuild(run, p);
		if (r == NULL) {
			r = req_new(b, STEP_UPSERT, n);
			buf_reset(&body);
			buf_appends(&body, "{\"points\":[");
		}
		mark = body.len;
		if (r->n > 0)
			buf_append(&body, ",", 1);
		plen = 0;
		if (p->bad == NULL)
			plen = upsert_pstruct_write(&p->ps, run->bm, p->vec,
			    p->veclen, &body);
		/* it lives in the body now: not held twice while bodies are made */
		point_sent(run, p);
		if (p->bad != NULL || plen + 16 > max) {
			if (p->bad != NULL)
				strlcpy(why, p->bad, sizeof(why));
			else
				snprintf(why, sizeof(why), "point is %zu bytes, over "
				    "--max-request-bytes %zu", plen, max);
			body.len = mark;
			body.data[mark] = '\0';
			log_warn("point %s: %s: dead-lettered", p->key, why);
			snprintf(b->error, sizeof(b->error), "%s", why);
			dl_write(run, b, &i, 1);
			continue;
		}
		/* "," + point + "]}" must still fit */
		if (r->n > 0 && mark + plen + 3 > max) {
			buf_reset(&pt);
			buf_append(&pt, body.data + mark + 1, plen);
			body.len = mark;
			body.data[mark] = '\0';
			send_body(run, r, &body);
			r = req_new(b, STEP_UPSERT, n);
			buf_reset(&body);
			buf_appends(&body, "{\"points\":[");
			buf_append(&body, pt.data, pt.len);
		}
		r->idx[r->n++] = i;
	}
	if (r != NULL && r->n > 0)
		send_body(run, r, &body);
	else if (r != NULL)
		req_free(run, r);	/* every point was dead-lettered */
	buf_free(&body);
	buf_free(&pt);
}

/*
 * Qdrant refused the request's content (a bad point, a body too large):
 * it is up and answering, and the same body would fail again. Retrying
 * the halves isolates the bad points, so the good ones still land and
 * only the bad ones are dead-lettered.
 */
static int
content_refused(long status)
{
	return status == 400 || status == 413 || status == 422;
}

static int
needs_embedding(struct upsert_run *run, struct bpoint *p)
{
	return !p->skip && run->cfg->dense == DENSE_ENDPOINT && p->etext != NULL;
}

static const char *
embed_model(struct upsert_run *run, struct bpoint *p)
{
	return run->cfg->embed_model ? run->cfg->embed_model : p->emodel;
}

/* One embeddings request for the points idx[0..n) (one model). */
static void
send_embed_idx(struct upsert_run *run, struct batch *b, const size_t *idx, size_t n)
{
	struct buf		 body = BUF_INIT;
	const char		**texts;
	struct req		*r;
	size_t			 k;

	texts = xreallocarray(NULL, n + 1, sizeof(*texts));
	r = req_new(b, STEP_EMBED, n);
	for (k = 0; k < n; k++) {
		texts[k] = b->pts[idx[k]].etext;
		r->idx[r->n++] = idx[k];
	}
	upsert_embed_body(embed_model(run, &b->pts[idx[0]]), texts, n, &body);
	run->st.embed_requests++;
	req_send(run, r, "POST", run->embed_path, body.data, body.len);
	free(texts);
	buf_free(&body);
}

/* A request per --embed-batch-size texts of one model. */
static void
send_embeds(struct upsert_run *run, struct batch *b)
{
	struct buf	 body = BUF_INIT;
	const char	**texts, *model = NULL, *m;
	struct bpoint	*p;
	struct req	*r = NULL;
	size_t		 i;

	texts = xreallocarray(NULL, b->n + 1, sizeof(*texts));
	for (i = 0; i <= b->n; i++) {
		p = NULL;
		if (i < b->n) {
			if (!needs_embedding(run, &b->pts[i]))
				continue;
			p = &b->pts[i];
		}
		m = p == NULL ? NULL : embed_model(run, p);
		if (r != NULL && (p == NULL ||
		    r->n == (size_t)run->cfg->embed_batch_size ||
		    strcmp(m, model) != 0)) {
			buf_reset(&body);
			upsert_embed_body(model, texts, r->n, &body);
			run->st.embed_requests++;
			req_send(run, r, "POST", run->embed_path, body.data, body.len);
			r = NULL;
		}
		if (p == NULL)
			continue;
		if (r == NULL) {
			r = req_new(b, STEP_EMBED, (size_t)run->cfg->embed_batch_size);
			model = m;
		}
		texts[r->n] = p->etext;
		r->idx[r->n++] = i;
	}
	free(texts);
	buf_free(&body);
}

/* --- the transitions: one handler per state --- */

/* READING -> CHECKING: the fetch finds unchanged points, and stored ones under degraded. */
static void
to_checking(struct upsert_run *run, struct batch *b)
{
	struct buf	 body = BUF_INIT;
	const char	**ids;
	struct req	*r;
	size_t		 i;

	b->state = BATCH_CHECKING;
	for (i = 0; i < b->n && !run->cfg->skip_unchanged; i++)
		if (b->pts[i].degraded != NULL)
			break;
	if (i == b->n)
		return;		/* nothing to check */
	ids = xreallocarray(NULL, b->n, sizeof(*ids));
	r = req_new(b, STEP_FETCH, 0);
	for (i = 0; i < b->n; i++)
		ids[i] = b->pts[i].idtext;
	upsert_fetch_body_text(ids, b->n, &body);
	req_send(run, r, "POST", run->fetch_path, body.data, body.len);
	free(ids);
	buf_free(&body);
}

/* CHECKING -> EMBEDDING: the texts of the points to write (--dense endpoint). */
static void
to_embedding(struct upsert_run *run, struct batch *b)
{
	size_t	 i;

	b->state = BATCH_EMBEDDING;
	for (i = 0; i < b->n; i++)
		if (needs_embedding(run, &b->pts[i])) {
			send_embeds(run, b);
			return;
		}
}

/* EMBEDDING -> UPSERTING: every point not skipped, held or dead-lettered. */
static void
to_upserting(struct upsert_run *run, struct batch *b)
{
	size_t	*idx, i, n = 0;

	b->state = BATCH_UPSERTING;
	idx = xreallocarray(NULL, b->n + 1, sizeof(*idx));
	for (i = 0; i < b->n; i++) {
		/* the Documents were only needed for the embeddings */
		free(b->pts[i].etext);
		free(b->pts[i].emodel);
		b->pts[i].etext = b->pts[i].emodel = NULL;
		point_recount(run, &b->pts[i]);
		if (!b->pts[i].skip && !b->pts[i].done)
			idx[n++] = i;
	}
	send_points(run, b, idx, n);
	free(idx);
}

/*
 * Runs the transition out of b's state once nothing of its step is
 * outstanding, and on while a step sends nothing. A batch that ends
 * (DONE, DEAD) is freed: b is gone when this returns.
 */
static void
advance(struct upsert_run *run, struct batch *b)
{
	while (b->outstanding == 0) {
		switch (b->state) {
		case BATCH_READING:
			if (run->st.spooled) {
				to_dead(run, b);
				return;
			}
			to_checking(run, b);
			break;
		case BATCH_CHECKING:
			if (b->failed || run->st.spooled) {
				to_dead(run, b);
				return;
			}
			to_embedding(run, b);
			break;
		case BATCH_EMBEDDING:
			if (b->failed || run->st.spooled) {
				to_dead(run, b);
				return;
			}
			to_upserting(run, b);
			break;
		case BATCH_UPSERTING:
			to_done(run, b);
			return;
		case BATCH_DONE:
		case BATCH_DEAD:
			return;
		}
	}
}

/* --- the answers: one handler per step --- */

/* A stored point, with its content hash or NULL: skip it when unchanged. */
static void
on_stored(void *arg, const char *key, const char *hash)
{
	struct batch	*b = arg;
	struct bpoint	*p;
	size_t		 i;

	for (i = 0; i < b->n; i++) {
		p = &b->pts[i];
		if (p->skip || strcmp(p->key, key) != 0)
			continue;
		p->stored = 1;
		if (b->run->cfg->skip_unchanged && hash != NULL &&
		    strcmp(p->hash, hash) == 0) {
			p->skip = 1;
			b->skipped++;
		}
	}
}

static void
hold_key(struct upsert_run *run, struct bpoint *p)
{
	if (p->rating_key == NULL)
		return;
	if (run->nheld == run->heldcap) {
		run->heldcap = run->heldcap ? run->heldcap * 2 : 16;
		run->held_keys = xreallocarray(run->held_keys, run->heldcap,
		    sizeof(*run->held_keys));
	}
	run->held_keys[run->nheld++] = xstrdup(p->rating_key);
}

/*
 * Degraded points (a TMDb or IMDb lookup failed and nothing was cached)
 * lack data the stored point may have: one is written only where no point
 * with its id exists. Over a stored point it is held back: not written,
 * and live for stale cleanup; the next run with the services back writes
 * it whole. When the fetch answer could not be read, whether a point is
 * stored is unknown, so the degraded ones are dead-lettered instead.
 */
static void
hold_degraded(struct upsert_run *run, struct batch *b, int known)
{
	struct bpoint	*p;
	size_t		 i;

	for (i = 0; i < b->n; i++) {
		p = &b->pts[i];
		if (p->degraded == NULL || p->skip || p->done)
			continue;
		if (!known) {
			snprintf(b->error, sizeof(b->error), "degraded point, and "
			    "the stored points could not be read");
			dl_write(run, b, &i, 1);
		} else if (p->stored) {
			p->skip = p->held = 1;
			b->held++;
			hold_key(run, p);
			log_debug("point %s: degraded (%s): held back, the stored "
			    "point keeps its data", p->key, p->degraded);
		}
	}
}

const char *const *
upsert_run_held_keys(const struct upsert_run *run, size_t *n)
{
	*n = run->nheld;
	return (const char *const *)run->held_keys;
}

static void
failure(struct upsert_run *run, struct batch *b, struct answer *d, int counts)
{
	if (d->r->step == STEP_EMBED && upsert_embed_refused(d->status,
	    d->error, run->cfg->embed_key))
		run->fatal = EXIT_USAGE;
	else if (d->status == 401 || d->status == 403) {
		log_error("%s: Qdrant refused the key: check QDRANT_API_KEY (or "
		    "--qdrant-api-key-file)", d->error);
		run->fatal = EXIT_USAGE;
	}
	if (d->r->step != STEP_EMBED)
		run->st.qdrant_failed = 1;
	if (b->error[0] == '\0')
		snprintf(b->error, sizeof(b->error), "%s", d->error);
	if (counts && ++run->consec_fail >= SPOOL_AFTER && !run->st.spooled) {
		run->st.spooled = 1;
		log_error("qdrant: %d requests in a row failed (%s); writing the rest "
		    "of the input to %s without more attempts", run->consec_fail,
		    d->error, run->cfg->dead_letter);
	}
}

static void
on_fetch(struct upsert_run *run, struct batch *b, struct answer *d, int ok)
{
	size_t	 i;
	int	 known;

	if (!ok) {
		failure(run, b, d, 1);
		b->failed = 1;
		return;
	}
	/*
	 * A read that works says nothing about writes: only an upsert that
	 * lands resets the count, or failing upserts interleaved with good
	 * fetches would never spool.
	 */
	known = 1;
	if (!run->cfg->dry_run && upsert_fetch_parse(d->body, d->len,
	    on_stored, b) != 0) {
		log_warn("qdrant: unreadable answer to the hash fetch; "
		    "writing batch %lld in full", (long long)b->seq);
		known = 0;
	}
	hold_degraded(run, b, known);
	/* what will not be written needs its texts no more */
	for (i = 0; i < b->n; i++)
		if (b->pts[i].skip)
			point_release(run, &b->pts[i]);
}

/* Keeps each embedding as text: a tree of 384 doubles takes ~30 KB. */
static void
keep_vectors(struct upsert_run *run, struct batch *b, struct req *r,
    struct json_object **vv)
{
	struct bpoint	*p;
	const char	*t;
	size_t		 i;

	for (i = 0; i < r->n; i++) {
		p = &b->pts[r->idx[i]];
		t = json_object_to_json_string_ext(vv[i], JSON_C_TO_STRING_PLAIN |
		    JSON_C_TO_STRING_NOSLASHESCAPE);
		free(p->vec);
		p->veclen = strlen(t);
		p->vec = xstrndup(t, p->veclen);
		json_object_put(vv[i]);
		point_recount(run, p);
	}
}

static void
on_embed(struct upsert_run *run, struct batch *b, struct answer *d, int ok)
{
	struct req		*r = d->r;
	struct json_object	*vecs[1024], **vv;
	char			 why[256];

	if (!ok && content_refused(d->status) && r->n > 1) {
		/* a text the server refuses (too long, say): find it */
		log_info("batch %lld: embeddings for %zu texts refused (%s); "
		    "retrying them in halves", (long long)b->seq, r->n, d->error);
		send_embed_idx(run, b, r->idx, r->n / 2);
		send_embed_idx(run, b, r->idx + r->n / 2, r->n - r->n / 2);
	} else if (!ok && content_refused(d->status)) {
		log_warn("batch %lld: point %s dead-lettered: %s",
		    (long long)b->seq, b->pts[r->idx[0]].key, d->error);
		failure(run, b, d, 0);
		dl_write(run, b, r->idx, 1);
	} else if (!ok) {
		if (d->status != 401 && d->status != 403)
			log_warn("batch %lld: %s; its points go to the "
			    "dead-letter file", (long long)b->seq, d->error);
		failure(run, b, d, 0);
		run->st.embed_failed = 1;
		b->failed = 1;
	} else if (!run->cfg->dry_run) {
		vv = r->n <= 1024 ? vecs : xreallocarray(NULL, r->n, sizeof(*vv));
		if (upsert_embed_parse(d->body, d->len, r->n, run->dense_size,
		    vv, why, sizeof(why)) != 0) {
			log_error("embeddings: %s", why);
			snprintf(b->error, sizeof(b->error), "embeddings: %s", why);
			run->st.embed_failed = 1;
			b->failed = 1;
		} else
			keep_vectors(run, b, r, vv);
		if (vv != vecs)
			free(vv);
	}
}

static void
on_upsert(struct upsert_run *run, struct batch *b, struct answer *d, int ok)
{
	struct req	*r = d->r;
	size_t		 i;

	if (ok) {
		run->consec_fail = 0;
		b->upserted += r->n;
		for (i = 0; i < r->n; i++) {
			b->pts[r->idx[i]].done = 1;
			point_release(run, &b->pts[r->idx[i]]);
		}
	} else if (content_refused(d->status) && r->n > 1 &&
	    !run->st.spooled) {
		log_info("batch %lld: %zu points refused (%s); retrying them "
		    "in halves", (long long)b->seq, r->n, d->error);
		send_points(run, b, r->idx, r->n / 2);
		send_points(run, b, r->idx + r->n / 2, r->n - r->n / 2);
	} else {
		failure(run, b, d, !content_refused(d->status));
		log_warn("batch %lld: %zu points dead-lettered: %s",
		    (long long)b->seq, r->n, d->error);
		dl_write(run, b, r->idx, r->n);
	}
}

/* An answer: its step's handler, then the batch's next transition. */
static void
answer(struct upsert_run *run, struct answer *d)
{
	struct req	*r = d->r;
	struct batch	*b = r->b;
	int		 ok = http_ok(d->status);

	if (run->fatal) {
		/* stopping: the batch is freed with the run */
		req_free(run, r);
		return;
	}
	b->outstanding--;
	if (d->attempts > b->attempts)
		b->attempts = d->attempts;
	if (!run->cfg->dry_run && d->attempts > 1) {
		if (ok)
			run->st.retried_ok++;
		else
			run->st.retried_failed++;
	} else if (!ok)
		run->st.retried_failed++;
	switch (r->step) {
	case STEP_FETCH:
		on_fetch(run, b, d, ok);
		break;
	case STEP_EMBED:
		on_embed(run, b, d, ok);
		break;
	case STEP_UPSERT:
		on_upsert(run, b, d, ok);
		break;
	}
	req_free(run, r);
	advance(run, b);
}

/* --- the run --- */

void
upsert_run_add(struct upsert_run *run, struct json_object *point,
    const char *raw, size_t rawlen)
{
	struct batch		*b = run->cur;
	struct bpoint		*p;
	struct json_object	*id = NULL, *deg, *doc;
	const char		*t, *rk;

	if (b == NULL) {
		b = run->cur = xcalloc(1, sizeof(*b));
		b->run = run;
		b->state = BATCH_READING;
		b->seq = run->seq++;
		b->cap = (size_t)run->cfg->batch_size;
		b->pts = xcalloc(b->cap, sizeof(*b->pts));
	}
	p = &b->pts[b->n++];
	if (raw == NULL)
		raw = ndjson_to_string(point, &rawlen);
	p->raw = xstrndup(raw, rawlen);
	p->rawlen = rawlen;
	/* "degraded" is meta-enrich's note to us: not content, not payload */
	if (json_object_object_get_ex(point, "degraded", &deg)) {
		p->degraded = xstrdup(json_object_to_json_string_ext(deg,
		    JSON_C_TO_STRING_PLAIN));
		rk = jget_str(jget_obj(jget_obj(jget_obj(point, "payload"),
		    "data"), "plex"), "rating_key");
		p->rating_key = rk != NULL ? xstrdup(rk) : NULL;
		json_object_object_del(point, "degraded");
	}
	json_object_object_get_ex(point, "id", &id);
	if (upsert_id_key(id, p->key, sizeof(p->key)) != 0)
		strlcpy(p->key, "?", sizeof(p->key));
	t = json_object_to_json_string_ext(id, JSON_C_TO_STRING_PLAIN);
	p->idtext = xstrdup(t);
	upsert_content_hash(point, run->settings, p->hash);
	if (run->cfg->dense == DENSE_ENDPOINT &&
	    (doc = upsert_point_document(point, "dense")) != NULL) {
		p->etext = xstrdup(jget_str(doc, "text"));
		p->elen = strlen(p->etext);
		p->emodel = xstrdup(jget_str(doc, "model"));
	}
	point_prepare(run, p, point);
	point_recount(run, p);
	run->st.points_in++;
	if (b->n == b->cap)
		upsert_run_flush(run);
}

size_t
upsert_run_bytes(const struct upsert_run *run)
{
	return run->bytes;
}

void
upsert_run_flush(struct upsert_run *run)
{
	struct batch	*b = run->cur;

	if (b == NULL)
		return;
	run->cur = NULL;
	TAILQ_INSERT_TAIL(&run->batches, b, entry);
	run->active++;
	advance(run, b);
	dry_complete(run);
}

/*
 * One turn of the event loop: sleeps until a request of either multi
 * can progress or fd (-1: none) has input, then handles what finished.
 * Returns 1 when fd is readable (or at its end). Dry-run answers waiting
 * are handled first, without sleeping.
 */
int
upsert_run_wait(struct upsert_run *run, int fd, int timeout_ms)
{
	struct http_multi	*hm[2] = { run->qm, run->em };
	struct pollfd		 in;
	int			 i;

	if (!TAILQ_EMPTY(&run->dryq)) {
		dry_complete(run);
		return 0;
	}
	in.fd = fd;
	in.events = POLLIN;
	in.revents = 0;
	http_multi_wait(hm, 2, &in, fd >= 0 ? 1 : 0, timeout_ms);
	for (i = 0; i < 2; i++)
		if (hm[i] != NULL && http_multi_pending(hm[i]) > 0)
			http_multi_run(hm[i], 0);
	return fd >= 0 && in.revents != 0;
}

/*
 * Interrupted: every point not known to be written goes to the dead-letter
 * file (a point whose upsert was in flight may be both; upserts are
 * idempotent), so a signal never loses upstream work.
 */
void
upsert_run_spool_pending(struct upsert_run *run)
{
	struct batch	*b;

	if (run->cur != NULL) {
		b = run->cur;
		run->cur = NULL;
		TAILQ_INSERT_TAIL(&run->batches, b, entry);
		run->active++;
	}
	while ((b = TAILQ_FIRST(&run->batches)) != NULL) {
		if (run->dl != NULL && dead_letter_open(run->dl) != 0) {
			run->fatal = EXIT_FATAL;
			return;
		}
		snprintf(b->error, sizeof(b->error), "interrupted");
		to_dead(run, b);
	}
}

size_t
upsert_run_active(const struct upsert_run *run)
{
	return run->active;
}

int
upsert_run_fatal(const struct upsert_run *run)
{
	return run->fatal;
}

const struct upsert_stats *
upsert_run_stats(const struct upsert_run *run)
{
	return &run->st;
}
