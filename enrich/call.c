/* call.c: one TMDb or IMDb request with its retries, each failed attempt counted on the service's circuit breaker. */
/*
 * The TMDb and IMDb clients are made with no retries of their own: the
 * retries are made here, on http.c's verdict (resp->retryable: a
 * transport error, 408, 429, 5xx but 501; never an answer over the cap),
 * so that every failed attempt counts on the service's shared breaker at
 * once, and the
 * wait before the next attempt ends the moment any worker opens it.  A
 * 429 counts only when it is still the answer after the last retry: a
 * burst of workers meeting the rate limit together is not an outage.
 * Once the breaker is open no request is made; the caller falls back to
 * the cache of any age, or goes without.
 *
 * The waits are those of common/http.c: backoff * 2^(n-1), jittered by
 * +-25% so workers that failed together do not retry together, raised to
 * the server's Retry-After, at most MAX_WAIT seconds.  A 429 with
 * Retry-After has already paused the shared rate limiter (http.c).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "enrich.h"
#include "http.h"
#include "log.h"
#include "signals.h"
#include "timeutil.h"

#define MAX_WAIT	30.0	/* s, cap on one wait (http.c's max_backoff) */

static int
stop_waiting(const void *br)
{
	return breaker_is_down(br) || signal_received;
}

/* Sleeps s seconds; -1 as soon as the breaker opens or a signal stops the run. */
static int
nap(const struct breaker *br, double s)
{
	if (sleep_unless(s, stop_waiting, br) != 0)
		return -1;
	return breaker_is_down(br) ? -1 : 0;
}

/* last: the failing attempt's (redacted) error, so the line says why */
static void
went_down(struct breaker *br, const char *last)
{
	log_warn("%s: every attempt failed for a while: counted as down for "
	    "the rest of the run (answers come from the cache of any age, or "
	    "are left out); last error: %s", breaker_name(br), last);
}

long
enrich_call(struct enrich_ctx *ctx, enum enrich_svc svc, const char *path,
    struct http_response *resp)
{
	struct http_client *hc = svc == SVC_TMDB ? ctx->tmdb : ctx->imdb;
	struct breaker *br = svc == SVC_TMDB ? ctx->o->tmdb_br : ctx->o->imdb_br;
	int retries = svc == SVC_TMDB ? ENRICH_TMDB_RETRIES :
	    ctx->o->imdb_max_retries;
	double backoff = svc == SVC_TMDB ? ENRICH_TMDB_BACKOFF :
	    ctx->o->imdb_backoff > 0 ? ctx->o->imdb_backoff : 0.001;
	double w, u;
	long st;
	int n;

	for (n = 0; ; n++) {
		/*
		 * Stopping (a signal, or the parent's word to a worker): no
		 * new request. The caller takes the answer from the cache of
		 * any age, or marks the point degraded (IMDb ids go to the
		 * retry queue), so the batch is done in moments, not after a
		 * lookup per item; a degraded point replaces no stored one.
		 */
		if (signal_received) {
			http_response_free(resp);
			memset(resp, 0, sizeof(*resp));
			resp->retry_after = -1;
			snprintf(resp->error, sizeof(resp->error),
			    "%s: not asked: stopping", breaker_name(br));
			return ENRICH_DOWN;
		}
		if (breaker_is_down(br)) {
			http_response_free(resp);
			memset(resp, 0, sizeof(*resp));
			resp->retry_after = -1;
			snprintf(resp->error, sizeof(resp->error),
			    "%s: down for the rest of the run", breaker_name(br));
			return ENRICH_DOWN;
		}
		st = http_request(hc, "GET", path, NULL, NULL, 0, resp);
		if (!resp->retryable) {
			/* an answer, or a failure no retry mends (TLS, over the cap) */
			if (st > 0)
				breaker_ok(br);
			else if (breaker_fail(br))
				went_down(br, resp->error);
			return st;
		}
		if (signal_received)
			return st;
		if (st != 429 || n >= retries) {
			if (breaker_fail(br))
				went_down(br, resp->error);
		}
		if (n >= retries)
			return st;
		u = (double)arc4random() / 4294967296.0;	/* fork-safe */
		w = backoff * ldexp(1.0, n) * (0.75 + 0.5 * u);
		if (resp->retry_after > w)
			w = resp->retry_after;
		if (w > MAX_WAIT)
			w = MAX_WAIT;
		log_debug("%s: retry %d in %.2fs: %s", breaker_name(br), n + 1,
		    w, resp->error);
		if (nap(br, w) == -1 && !breaker_is_down(br))
			return st;	/* a stop signal */
	}
}
