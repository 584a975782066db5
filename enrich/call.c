/* call.c: TMDb and IMDb requests of a worker run concurrently, each with its retries counted on the service's circuit breaker. */
/*
 * A worker's lookups share one curl multi handle per service (http.c's
 * multi mode): at most o->max_in_flight requests of a service are on the
 * wire at once, each attempt takes a token from the bucket every worker
 * shares, and a request's answer runs its caller's continuation, which
 * may start the lookup that depends on it (find -> details, show ->
 * seasons) at once. enrich_run() sleeps on both multis together.
 *
 * The TMDb and IMDb clients are made with no retries of their own: the
 * retries are made here, on http.c's verdict (resp->retryable: a
 * transport error, 408, 429, 5xx but 501; never an answer over the cap),
 * so that every failed attempt counts on the service's shared breaker at
 * once, and the wait before the next attempt ends the moment any worker
 * opens it.  A 429 counts only when it is still the answer after the
 * last retry: a burst of workers meeting the rate limit together is not
 * an outage.  Once the breaker is open no request is made; the caller
 * falls back to the cache of any age, or goes without.
 *
 * The waits are those of common/http.c: backoff * 2^(n-1), jittered by
 * +-25% so workers that failed together do not retry together, raised to
 * the server's Retry-After, at most MAX_WAIT seconds.  A 429 with
 * Retry-After has already paused the shared rate limiter (http.c).
 *
 * Cache locks are taken without blocking (cache_trylock) and retried on
 * a short timer: a worker holding locks for requests in flight must not
 * sleep in flock() on a key another request of its own holds.
 */
#include <sys/queue.h>

#include <poll.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "enrich.h"
#include "http.h"
#include "log.h"
#include "signals.h"
#include "timeutil.h"
#include "xalloc.h"

#define MAX_WAIT	30.0	/* s, cap on one wait (http.c's max_backoff) */
#define BREAKER_POLL	50	/* ms between breaker checks while a retry waits */
#define LOCK_POLL	10	/* ms between tries of a busy cache lock */

/* One logical request across its attempts. */
struct req {
	TAILQ_ENTRY(req)	 entry;		/* flying or napping */
	struct enrich_ctx	*ctx;
	enum enrich_svc		 svc;
	char			*path;
	int			 n;		/* retries made */
	int			 busy;		/* in the engine's busy[svc] */
	double			 not_before;	/* napping: the next attempt */
	long			 last_st;	/* napping: the failed status */
	char			 last_err[512];
	enrich_done_fn		 fn;
	void			*arg;
};

struct lockwait {
	TAILQ_ENTRY(lockwait)	 entry;
	char			*key;
	enrich_locked_fn	 fn;
	void			*arg;
};

TAILQ_HEAD(req_list, req);
TAILQ_HEAD(lock_list, lockwait);

struct enrich_engine {
	struct http_multi	*hm[2];		/* by svc; NULL until used */
	struct req_list		 flying;	/* handed to a multi */
	struct req_list		 napping;	/* waiting to retry */
	struct req_list		 held;		/* held back by the gate */
	int			 busy[2];	/* flying or napping */
	int			 failing[2];	/* last attempt unanswered */
	struct lock_list	 locks;		/* waiting for a cache lock */
	int			 key_ok;	/* TMDb took the key */
};

static struct enrich_engine *
engine(struct enrich_ctx *ctx)
{
	struct enrich_engine	*e = ctx->eng;

	if (e == NULL) {
		e = ctx->eng = xcalloc(1, sizeof(*e));
		TAILQ_INIT(&e->flying);
		TAILQ_INIT(&e->napping);
		TAILQ_INIT(&e->held);
		TAILQ_INIT(&e->locks);
	}
	return e;
}

static struct breaker *
svc_breaker(const struct enrich_ctx *ctx, enum enrich_svc svc)
{
	return svc == SVC_TMDB ? ctx->o->tmdb_br : ctx->o->imdb_br;
}

/* last: the failing attempt's (redacted) error, so the line says why */
static void
went_down(struct breaker *br, const char *last)
{
	log_warn("%s: every attempt failed for a while: counted as down for "
	    "the rest of the run (answers come from the cache of any age, or "
	    "are left out); last error: %s", breaker_name(br), last);
}

static void
finish(struct req *r, long st, const struct http_response *resp)
{
	if (r->busy)
		r->ctx->eng->busy[r->svc]--;
	r->fn(r->ctx, r->arg, st, resp);
	free(r->path);
	free(r);
}

/* Ends r with no answer: resp->error is msg. */
static void
finish_msg(struct req *r, long st, const char *msg)
{
	struct http_response	 resp;

	memset(&resp, 0, sizeof(resp));
	resp.retry_after = -1;
	snprintf(resp.error, sizeof(resp.error), "%s: %s",
	    breaker_name(svc_breaker(r->ctx, r->svc)), msg);
	finish(r, st, &resp);
}

static void on_answer(void *, long, struct http_response *);

/*
 * The gate: a service that is not known to be well gets one request at a
 * time from this worker (its retries included), as before concurrency:
 * TMDb until it has taken the key once (a refused key, 401, then stops
 * the run after one request per worker), and a service whose last
 * attempt got no answer or a 5xx (the breaker then opens after the
 * failures of a few requests, not of a slot's worth). A 429 does not
 * close it: the service is up, the token bucket paces it.
 */
static int
gated(const struct enrich_engine *e, enum enrich_svc svc)
{
	return (svc == SVC_TMDB && !e->key_ok) || e->failing[svc];
}

static int
may_go(const struct enrich_engine *e, enum enrich_svc svc)
{
	return !gated(e, svc) || e->busy[svc] == 0;
}

static void
health(struct enrich_engine *e, enum enrich_svc svc, long st,
    const struct http_response *resp)
{
	if (svc == SVC_TMDB && (http_ok(st) || st == 404))
		e->key_ok = 1;
	if (st <= 0 || (resp->retryable && st != 429))
		e->failing[svc] = 1;
	else if (!resp->retryable)
		e->failing[svc] = 0;
}

/* Puts r's next attempt on the wire, unless the run stops or the service is down. */
static void
attempt(struct req *r)
{
	struct enrich_ctx	*ctx = r->ctx;
	struct enrich_engine	*e = engine(ctx);
	struct http_client	*hc = r->svc == SVC_TMDB ?
	    ctx->tmdb : ctx->imdb;
	int			 max = ctx->o->max_in_flight > 0 ?
	    ctx->o->max_in_flight : ENRICH_MAX_IN_FLIGHT;

	/*
	 * Stopping (a signal, or the parent's word to a worker): no new
	 * request. The caller takes the answer from the cache of any age, or
	 * marks the point degraded (IMDb ids go to the retry queue), so the
	 * batch is done in moments, not after a lookup per item; a degraded
	 * point replaces no stored one.
	 */
	if (signal_received) {
		finish_msg(r, ENRICH_DOWN, "not asked: stopping");
		return;
	}
	if (breaker_is_down(svc_breaker(ctx, r->svc))) {
		finish_msg(r, ENRICH_DOWN, "down for the rest of the run");
		return;
	}
	if (r->svc == SVC_TMDB && ctx->fatal) {
		finish_msg(r, ENRICH_DOWN, "not asked: the key was refused");
		return;
	}
	if (!r->busy && !may_go(e, r->svc)) {
		TAILQ_INSERT_TAIL(&e->held, r, entry);
		return;
	}
	if (!r->busy) {
		r->busy = 1;
		e->busy[r->svc]++;
	}
	if (e->hm[r->svc] == NULL &&
	    (e->hm[r->svc] = http_multi_new(hc, max)) == NULL) {
		finish_msg(r, -1, "cannot start a request");
		return;
	}
	TAILQ_INSERT_TAIL(&e->flying, r, entry);
	http_multi_add(e->hm[r->svc], "GET", r->path, NULL, NULL, 0, on_answer,
	    r);
}

/* An attempt's outcome (http.c's callback): the answer, or a retry timer. */
static void
on_answer(void *arg, long st, struct http_response *resp)
{
	struct req		*r = arg;
	struct enrich_ctx	*ctx = r->ctx;
	struct breaker		*br = svc_breaker(ctx, r->svc);
	int			 retries = r->svc == SVC_TMDB ?
	    ENRICH_TMDB_RETRIES : ctx->o->imdb_max_retries;
	double			 backoff = r->svc == SVC_TMDB ?
	    ENRICH_TMDB_BACKOFF : ctx->o->imdb_backoff > 0 ?
	    ctx->o->imdb_backoff : 0.001;
	double			 w, u;

	TAILQ_REMOVE(&ctx->eng->flying, r, entry);
	health(ctx->eng, r->svc, st, resp);
	if (!resp->retryable) {
		/* an answer, or a failure no retry mends (TLS, over the cap) */
		if (st > 0)
			breaker_ok(br);
		else if (breaker_fail(br))
			went_down(br, resp->error);
		finish(r, st, resp);
		return;
	}
	if (signal_received) {
		finish(r, st, resp);
		return;
	}
	if (st != 429 || r->n >= retries) {
		if (breaker_fail(br))
			went_down(br, resp->error);
	}
	if (r->n >= retries) {
		finish(r, st, resp);
		return;
	}
	u = (double)arc4random() / 4294967296.0;	/* fork-safe */
	w = backoff * ldexp(1.0, r->n) * (0.75 + 0.5 * u);
	if (resp->retry_after > w)
		w = resp->retry_after;
	if (w > MAX_WAIT)
		w = MAX_WAIT;
	log_debug("%s: retry %d in %.2fs: %s", breaker_name(br), r->n + 1, w,
	    resp->error);
	r->n++;
	r->not_before = now_monotonic() + w;
	r->last_st = st;
	strlcpy(r->last_err, resp->error, sizeof(r->last_err));
	TAILQ_INSERT_TAIL(&ctx->eng->napping, r, entry);
}

void
enrich_get(struct enrich_ctx *ctx, enum enrich_svc svc, const char *path,
    enrich_done_fn fn, void *arg)
{
	struct req	*r;

	r = xcalloc(1, sizeof(*r));
	r->ctx = ctx;
	r->svc = svc;
	r->path = xstrdup(path);
	r->fn = fn;
	r->arg = arg;
	attempt(r);
}

void
enrich_lock(struct enrich_ctx *ctx, const char *key, enrich_locked_fn fn,
    void *arg)
{
	struct enrich_engine	*e = engine(ctx);
	struct lockwait		*lw;
	int			 tok, busy;

	tok = cache_trylock(ctx->cache, key, &busy);
	/* a stop goes on unlocked, as flock(2) interrupted by the signal did */
	if (!busy || signal_received) {
		fn(ctx, arg, tok);
		return;
	}
	lw = xcalloc(1, sizeof(*lw));
	lw->key = xstrdup(key);
	lw->fn = fn;
	lw->arg = arg;
	TAILQ_INSERT_TAIL(&e->locks, lw, entry);
}

/* A retry whose wait is over (or cut short) makes its attempt, or ends. */
static void
wake_napping(struct enrich_ctx *ctx, struct req_list *l)
{
	struct req	*r;
	double		 now = now_monotonic();

	while ((r = TAILQ_FIRST(l)) != NULL) {
		TAILQ_REMOVE(l, r, entry);
		if (signal_received) {
			struct http_response resp;

			memset(&resp, 0, sizeof(resp));
			resp.retry_after = -1;
			strlcpy(resp.error, r->last_err, sizeof(resp.error));
			finish(r, r->last_st, &resp);
		} else if (r->not_before <= now ||
		    breaker_is_down(svc_breaker(ctx, r->svc)))
			attempt(r);
		else
			TAILQ_INSERT_TAIL(&ctx->eng->napping, r, entry);
	}
}

static void
wake_locks(struct enrich_ctx *ctx, struct lock_list *l)
{
	struct lockwait	*lw;
	int		 tok, busy;

	while ((lw = TAILQ_FIRST(l)) != NULL) {
		TAILQ_REMOVE(l, lw, entry);
		tok = cache_trylock(ctx->cache, lw->key, &busy);
		if (busy && !signal_received) {
			TAILQ_INSERT_TAIL(&ctx->eng->locks, lw, entry);
			continue;
		}
		lw->fn(ctx, lw->arg, tok);
		free(lw->key);
		free(lw);
	}
}

/*
 * A stop: what is on the wire is dropped (http.c drives nothing once the
 * flag is up) and ends as not answered, so every caller finishes its
 * items from the cache of any age at once.
 */
static void
abort_flying(struct enrich_ctx *ctx)
{
	struct enrich_engine	*e = ctx->eng;
	struct req_list		 l;
	struct req		*r;
	int			 k;

	for (k = 0; k < 2; k++) {
		http_multi_free(e->hm[k]);
		e->hm[k] = NULL;
	}
	TAILQ_INIT(&l);
	TAILQ_CONCAT(&l, &e->flying, entry);
	while ((r = TAILQ_FIRST(&l)) != NULL) {
		TAILQ_REMOVE(&l, r, entry);
		finish_msg(r, ENRICH_DOWN, "cancelled: stopping");
	}
}

/* New requests the gate held back go now, as far as it lets them. */
static void
release_held(struct enrich_ctx *ctx)
{
	struct enrich_engine	*e = ctx->eng;
	struct req_list		 l;
	struct req		*r;

	/* none of them could go (nor end, but on a stop): no walk */
	if (TAILQ_EMPTY(&e->held) || (!signal_received &&
	    !may_go(e, SVC_TMDB) && !may_go(e, SVC_IMDB)))
		return;
	TAILQ_INIT(&l);
	TAILQ_CONCAT(&l, &e->held, entry);
	while ((r = TAILQ_FIRST(&l)) != NULL) {
		TAILQ_REMOVE(&l, r, entry);
		attempt(r);
	}
}

/* How long enrich_run may sleep: until a retry is due or a lock may be free. */
static int
nap_ms(const struct enrich_engine *e)
{
	const struct req	*r;
	double			 now = now_monotonic(), soonest = -1;
	int			 ms = -1;

	TAILQ_FOREACH(r, &e->napping, entry)
		if (soonest < 0 || r->not_before < soonest)
			soonest = r->not_before;
	if (soonest >= 0) {
		ms = soonest <= now ? 0 : (int)((soonest - now) * 1000) + 1;
		if (ms > BREAKER_POLL)
			ms = BREAKER_POLL;	/* another worker may open it */
	}
	if (!TAILQ_EMPTY(&e->locks) && (ms < 0 || ms > LOCK_POLL))
		ms = LOCK_POLL;
	return ms;
}

/*
 * One turn of the engine: retries due, lock waits, answers, then one
 * sleep on both multis and the caller's descriptors (at most max_ms,
 * -1: no limit) unless nothing is pending and no descriptor is given.
 * Returns whether requests or lock waits are still pending.
 */
int
enrich_step(struct enrich_ctx *ctx, struct pollfd *fds, unsigned int nfds,
    int max_ms)
{
	struct enrich_engine	*e = engine(ctx);
	struct req_list		 nl;
	struct lock_list	 ll;
	int			 k, pending, ms;

	if (signal_received)
		abort_flying(ctx);
	TAILQ_INIT(&nl);
	TAILQ_CONCAT(&nl, &e->napping, entry);
	wake_napping(ctx, &nl);
	TAILQ_INIT(&ll);
	TAILQ_CONCAT(&ll, &e->locks, entry);
	wake_locks(ctx, &ll);
	release_held(ctx);
	for (k = 0; k < 2; k++)
		if (e->hm[k] != NULL)
			http_multi_run(e->hm[k], 0);
	release_held(ctx);
	pending = !(TAILQ_EMPTY(&e->flying) && TAILQ_EMPTY(&e->napping) &&
	    TAILQ_EMPTY(&e->locks) && TAILQ_EMPTY(&e->held));
	if (!pending && nfds == 0)
		return 0;
	ms = pending ? nap_ms(e) : -1;
	if (max_ms >= 0 && (ms < 0 || ms > max_ms))
		ms = max_ms;
	http_multi_wait(e->hm, 2, fds, nfds, ms);
	return pending;
}

void
enrich_run(struct enrich_ctx *ctx)
{
	if (ctx->eng == NULL)
		return;
	while (enrich_step(ctx, NULL, 0, -1))
		;
}

void
enrich_engine_free(struct enrich_ctx *ctx)
{
	struct enrich_engine	*e = ctx->eng;
	struct lockwait		*lw;
	struct req		*r;
	int			 k;

	if (e == NULL)
		return;
	for (k = 0; k < 2; k++)
		http_multi_free(e->hm[k]);
	/* enrich_run leaves none; a worker exiting mid-batch may */
	while ((r = TAILQ_FIRST(&e->flying)) != NULL) {
		TAILQ_REMOVE(&e->flying, r, entry);
		free(r->path);
		free(r);
	}
	while ((r = TAILQ_FIRST(&e->napping)) != NULL) {
		TAILQ_REMOVE(&e->napping, r, entry);
		free(r->path);
		free(r);
	}
	while ((r = TAILQ_FIRST(&e->held)) != NULL) {
		TAILQ_REMOVE(&e->held, r, entry);
		free(r->path);
		free(r);
	}
	while ((lw = TAILQ_FIRST(&e->locks)) != NULL) {
		TAILQ_REMOVE(&e->locks, lw, entry);
		free(lw->key);
		free(lw);
	}
	free(e);
	ctx->eng = NULL;
}
