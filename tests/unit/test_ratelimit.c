/* test_ratelimit.c: the shared token bucket: burst, waits, pause, four forked processes held to 20 req/s, and its rate control after 429s. */
#include <sys/wait.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http.h"
#include "log.h"
#include "ratelimit.h"
#include "tap.h"
#include "timeutil.h"
#include "httpstub.h"

#define WORKERS		4
#define RATE		20
#define RUN_S		3.0

static int
cmp_double(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int
count_in(const double *ts, int n, double from, double to)
{
	int	 i, c = 0;

	for (i = 0; i < n; i++)
		if (ts[i] >= from && ts[i] < to)
			c++;
	return c;
}

/*
 * Slides a one-second window over sorted timestamps of a run that went
 * from t0 to t1.  The count is a step function of the window start, so
 * its maximum is at a window starting on an event, and its minimum (over
 * windows inside the run) at t0 or just after an event.
 */
static void
windows(const double *ts, int n, double t0, double t1, int *maxc, int *minc)
{
	int	 i, c;

	*maxc = 0;
	*minc = count_in(ts, n, t0, t0 + 1);
	for (i = 0; i < n; i++) {
		c = count_in(ts, n, ts[i], ts[i] + 1);
		if (c > *maxc)
			*maxc = c;
		if (ts[i] + 1 <= t1) {
			c = count_in(ts, n, ts[i] + 1e-9, ts[i] + 1 + 1e-9);
			if (c < *minc)
				*minc = c;
		}
	}
}

static void
test_single(void)
{
	struct ratelimit	*rl;
	double			 w = -1, t0, dt;
	int			 i, got;

	rl = ratelimit_new(0, 1);
	for (i = 0, got = 0; i < 1000; i++)
		got += ratelimit_try(rl, NULL);
	is_int(got, 1000, "rate 0: unlimited");
	ratelimit_free(rl);

	rl = ratelimit_new(10, 1);
	ok(rl != NULL, "ratelimit_new");
	ok(ratelimit_try(rl, &w), "a fresh bucket has a token");
	got = ratelimit_try(rl, &w);
	ok(!got && w > 0.05 && w <= 0.1, "then empty; wait %.3f s ~ 1/rate", w);
	t0 = stub_now();
	ratelimit_acquire(rl);
	dt = stub_now() - t0;
	ok(dt > 0.05 && dt < 0.3, "acquire blocked %.3f s", dt);
	ratelimit_free(rl);

	rl = ratelimit_new(1, 5);
	for (i = 0, got = 0; i < 10; i++)
		got += ratelimit_try(rl, NULL);
	is_int(got, 5, "burst 5: five at once, no more");
	ratelimit_free(rl);

	rl = ratelimit_new(1000, 1);
	ratelimit_pause(rl, 0.3);
	got = ratelimit_try(rl, &w);
	ok(!got && w > 0.25 && w <= 0.3, "paused: wait %.3f s", w);
	t0 = stub_now();
	ratelimit_acquire(rl);
	dt = stub_now() - t0;
	ok(dt >= 0.28 && dt < 0.6, "acquire waits out the pause (%.3f s)", dt);
	ratelimit_pause(rl, 0.05);
	ratelimit_pause(rl, 0.01);	/* a shorter pause does not shorten it */
	got = ratelimit_try(rl, &w);
	ok(!got && w > 0.03, "the longer pause wins (%.3f s)", w);
	ratelimit_free(rl);
	ratelimit_free(NULL);
}

/* Takes n tokens from rl evenly over `span` seconds from t; returns the last send time. */
static double
feed(struct ratelimit *rl, double t, int n, double span)
{
	int	 i, got = 0;

	for (i = 0; i < n; i++)
		got += ratelimit_try_at(rl, t + span * i / n, NULL);
	if (got != n)
		tap_diag("feed: %d of %d tokens", got, n);
	return t + span * (n - 1) / n;
}

/* A 429 lowers the rate from what was sent; the others of its burst do not. */
static void
test_throttle_cut(void)
{
	struct ratelimit	*rl;
	double			 t, sent, r, w;
	int			 got;

	/* unlimited: 30 sent in the second before the 429 (the 30th refused) */
	rl = ratelimit_new(0, 1);
	t = now_monotonic() + 1;
	sent = feed(rl, t, 30, 1.0);
	ok(ratelimit_rate_at(rl, sent) == 0, "unlimited before any 429");
	ratelimit_throttle_at(rl, -1, sent, sent + 0.03);
	r = ratelimit_rate_at(rl, sent + 0.03);
	/* 29 sent in the second before it: 29/s fits; x0.8 = 23.2 */
	ok(r > 21 && r < 24, "unlimited bucket cut to 0.8 x what passed: %.2f/s", r);
	is_int(ratelimit_decreases(rl), 1, "one decrease");
	/* the rest of the burst: sent before the decrease, or no send time within a second */
	ratelimit_throttle_at(rl, -1, sent - 0.01, sent + 0.05);
	ratelimit_throttle_at(rl, -1, sent, sent + 0.2);
	ratelimit_throttle_at(rl, -1, -1, sent + 0.5);
	is_int(ratelimit_decreases(rl), 1, "429s of the same burst: still one decrease");
	ok(ratelimit_rate_at(rl, sent + 0.03) == r, "rate unchanged by them");
	/* one sent after the quiet second is a new signal */
	t = sent + 1.2;
	ok(ratelimit_try_at(rl, t, NULL), "a token after the quiet second");
	ratelimit_throttle_at(rl, -1, t, t + 0.03);
	is_int(ratelimit_decreases(rl), 2, "a 429 of a later request: second decrease");
	ok(ratelimit_rate_at(rl, t + 0.03) < r, "lower again: %.2f/s",
	    ratelimit_rate_at(rl, t + 0.03));
	ratelimit_free(rl);

	/*
	 * A configured rate: the first 429 at it, no more sent than it lets
	 * go, is jitter (the window guard widens, the rate stays); another
	 * within 30 s is a lower limit: cut to 0.8 x the lower of the rate
	 * and what passed.
	 */
	rl = ratelimit_new(40, 1);
	t = now_monotonic() + 1;
	sent = feed(rl, t, 38, 1.0);
	ratelimit_throttle_at(rl, -1, sent, sent + 0.03);
	r = ratelimit_rate_at(rl, sent + 0.03);
	ok(r == 40 && ratelimit_decreases(rl) == 0 &&
	    ratelimit_widenings(rl) == 1, "40/s bucket refused once at 38/s: "
	    "jitter, rate kept (%.2f/s), window widened", r);
	t = sent + 2;
	sent = feed(rl, t, 38, 1.0);
	ratelimit_throttle_at(rl, -1, sent, sent + 0.03);
	r = ratelimit_rate_at(rl, sent + 0.03);
	ok(r > 27 && r < 31 && ratelimit_decreases(rl) == 1, "refused again "
	    "2 s later: cut to %.2f/s", r);
	ratelimit_free(rl);
	/* jitter once in a while; sooner, or once lowered, a cut */
	rl = ratelimit_new(20, 1);
	t = now_monotonic() + 1;
	sent = feed(rl, t, 18, 1.0);
	ratelimit_throttle_at(rl, -1, sent, sent + 0.03);
	ok(ratelimit_widenings(rl) == 1, "20/s bucket: first 429 is jitter");
	sent = feed(rl, sent + 40, 18, 1.0);
	ratelimit_throttle_at(rl, -1, sent, sent + 0.03);
	ok(ratelimit_widenings(rl) == 2 && ratelimit_decreases(rl) == 0,
	    "and one 40 s later too (the last was long ago)");
	sent = feed(rl, sent + 40, 18, 1.0);
	ratelimit_throttle_at(rl, -1, sent, sent + 0.03);
	sent = feed(rl, sent + 2, 16, 1.0);
	ratelimit_throttle_at(rl, -1, sent, sent + 0.03);
	is_int(ratelimit_decreases(rl), 1, "one sooner after it: a cut");
	sent = feed(rl, sent + 40, 16, 1.0);
	ratelimit_throttle_at(rl, -1, sent, sent + 0.03);
	is_int(ratelimit_decreases(rl), 2, "lowered, a 429 is a cut however "
	    "long after");
	ratelimit_free(rl);

	/* Retry-After still pauses everyone */
	rl = ratelimit_new(0, 1);
	t = now_monotonic() + 1;
	sent = feed(rl, t, 20, 1.0);
	ratelimit_throttle_at(rl, 0.5, sent, sent + 0.01);
	got = ratelimit_try_at(rl, sent + 0.3, &w);
	ok(!got && w > 0.15 && w < 0.25,
	    "Retry-After 0.5: no token 0.3 s later (wait %.3f s)", w);
	ratelimit_free(rl);
	/* and a cut pauses until the window the server saw has drained */
	rl = ratelimit_new(0, 1);
	t = now_monotonic() + 1;
	sent = feed(rl, t, 20, 0.2);	/* 20 in 0.2 s, the 20th refused */
	ratelimit_throttle_at(rl, -1, sent, sent + 0.01);
	got = ratelimit_try_at(rl, sent + 0.3, &w);
	ok(!got && w > 0.4 && w < 0.75, "no Retry-After, 20 sent in 0.2 s: "
	    "no token until they leave the server's window (wait %.3f s)", w);
	ok(ratelimit_try_at(rl, t + 1.2, NULL),
	    "a token once they have (%.1f s after the burst)", 1.2);
	ratelimit_free(rl);

	/* throttle on a NULL bucket (a client without one) is a no-op */
	ratelimit_throttle(NULL, 1);
	ok(ratelimit_rate(NULL) == 0 && ratelimit_decreases(NULL) == 0, "NULL bucket");
}

/* After a decrease the rate climbs back additively, never above the ceiling. */
static void
test_recovery(void)
{
	struct ratelimit	*rl;
	double			 t, sent, r0, r1, r2, r5, rmax;
	int			 i;

	rl = ratelimit_new(40, 1);
	t = now_monotonic() + 1;
	sent = feed(rl, t, 38, 1.0);
	ratelimit_throttle_at(rl, -1, sent, sent);	/* jitter */
	sent = feed(rl, sent + 2, 38, 1.0);
	ratelimit_throttle_at(rl, -1, sent, sent);	/* the cut */
	/* the climb starts when the short drain pause ends */
	t = sent + 0.5;
	r0 = ratelimit_rate_at(rl, t);
	r1 = ratelimit_rate_at(rl, t + 0.5);
	r2 = ratelimit_rate_at(rl, t + 1);
	tap_diag("after the cut: %.2f, +0.5 s %.2f, +1 s %.2f tokens/s", r0, r1, r2);
	ok(r1 > r0 && r2 > r1, "the rate climbs back");
	ok(fabs((r2 - r1) - (r1 - r0)) < 1e-6 && r1 - r0 <= 1.0 + 1e-9,
	    "additively: +%.2f then +%.2f tokens/s per half second", r1 - r0,
	    r2 - r1);
	r5 = ratelimit_rate_at(rl, t + 5);
	ok(r5 < 40, "not back at the ceiling within 5 s (%.2f)", r5);
	for (i = 1, rmax = 0; i <= 600; i++) {
		r1 = ratelimit_rate_at(rl, t + i);
		if (r1 > rmax)
			rmax = r1;
	}
	ok(rmax == 40, "back at the configured rate within 10 minutes, never above "
	    "(max %.2f)", rmax);
	/* and takes tokens at that rate: no 41st in a second */
	t += 700;
	for (i = 0, r2 = 0; i < 1000; i++)
		r2 += ratelimit_try_at(rl, t + i / 1000.0, NULL);
	ok(r2 >= 39 && r2 <= 41, "%.0f tokens in a second at the ceiling", r2);
	ratelimit_free(rl);

	/* unlimited: climbs without bound, slowly past the limit it met */
	rl = ratelimit_new(0, 1);
	t = now_monotonic() + 1;
	sent = feed(rl, t, 21, 1.0);
	ratelimit_throttle_at(rl, -1, sent, sent + 0.01);
	r0 = ratelimit_rate_at(rl, sent + 1.01);
	r1 = ratelimit_rate_at(rl, sent + 21.01);
	r2 = ratelimit_rate_at(rl, sent + 3600);
	tap_diag("unlimited after a 429 at 20/s: %.2f, +20 s %.2f, +1 h %.2f", r0, r1, r2);
	ok(r1 < 20.5, "near the limit it met, the climb is slow (%.2f after 20 s)", r1);
	ok(r2 > 100, "with no ceiling it keeps climbing (%.0f after an hour)", r2);
	ratelimit_free(rl);
}

/*
 * The window guard: a bucket at 40/s taken from as fast as it gives
 * puts at most 40 into any window of a second and some jitter (without
 * it the first token and the 40 of the next second fit in 1.0 s, and a
 * server counting arrivals a few ms late saw 41: a 429 at the limit).
 */
static void
test_window_guard(void)
{
	struct ratelimit	*rl;
	double			 t, ts[4096];
	int			 i, j, n, c, maxc = 0;

	rl = ratelimit_new(40, 1);
	t = now_monotonic();
	for (n = 0, i = 0; i < 3000 && n < 4096; i++)
		if (ratelimit_try_at(rl, t + i / 1000.0, NULL))
			ts[n++] = t + i / 1000.0;
	for (i = 0; i < n; i++) {
		for (j = i, c = 0; j < n && ts[j] < ts[i] + 1.04; j++)
			c++;
		if (c > maxc)
			maxc = c;
	}
	tap_diag("40/s bucket: %d tokens in 3 s, at most %d in 1.04 s", n, maxc);
	ok(maxc <= 40, "no 1.04 s window over the rate (max %d)", maxc);
	ok(n >= 3 * 40 / 1.05 - 2, "and the rate kept, less ~5%% (%d in 3 s)", n);
	/* a jitter 429 widens the window by 0.03 s */
	ratelimit_throttle_at(rl, -1, ts[n - 1], ts[n - 1] + 0.01);
	t = ts[n - 1] + 2;
	for (n = 0, i = 0; i < 3000 && n < 4096; i++)
		if (ratelimit_try_at(rl, t + i / 1000.0, NULL))
			ts[n++] = t + i / 1000.0;
	for (i = 0, maxc = 0; i < n; i++) {
		for (j = i, c = 0; j < n && ts[j] < ts[i] + 1.07; j++)
			c++;
		if (c > maxc)
			maxc = c;
	}
	ok(ratelimit_widenings(rl) == 1 && maxc <= 40, "after a jitter 429 no "
	    "1.07 s window over the rate (max %d)", maxc);
	ratelimit_free(rl);
}

/* No rate set, slow start: paced from a modest rate, growing while it holds requests back, until the first 429. */
static void
test_slow_start(void)
{
	struct ratelimit	*rl;
	const double		 G = RATELIMIT_SS_GROWTH;
	double			 t, w = 0, r1, r2, r, ts[4096];
	int			 i, n, got, maxc, minc;

	rl = ratelimit_new(0, 1);
	ratelimit_slow_start(rl, 4);
	t = now_monotonic();
	ok(ratelimit_try_at(rl, t, &w), "slow start: a first token at once");
	got = ratelimit_try_at(rl, t, &w);
	ok(!got && w > 0.2 && w <= 0.25, "then none for 1/4 s (wait %.3f s)", w);
	/* the refused try waits its 1/4 s: that time counts, no more */
	r1 = ratelimit_rate_at(rl, t + 5);
	ok(fabs(r1 - 4 * pow(G, w)) < 0.01, "grown only while a request "
	    "waited: %.2f/s 5 s later (4 x %.0f^%.3f)", r1, G, w);
	ratelimit_free(rl);

	/* nobody waits, nothing grows: the rate was never tested */
	rl = ratelimit_new(0, 1);
	ratelimit_slow_start(rl, 4);
	t = now_monotonic();
	for (i = 0; i < 20; i++)
		(void)ratelimit_try_at(rl, t + i * 0.5, NULL);
	r1 = ratelimit_rate_at(rl, t + 10);
	ok(fabs(r1 - 4) < 0.01, "a token every 1/2 s for 10 s: still %.2f/s",
	    r1);
	ratelimit_free(rl);

	/* taken as fast as it gives for 1.5 s: paced, no burst over its rate */
	rl = ratelimit_new(0, 1);
	ratelimit_slow_start(rl, 4);
	t = now_monotonic();
	for (n = 0, i = 0; i < 1500 && n < 4096; i++)
		if (ratelimit_try_at(rl, t + i / 1000.0, NULL))
			ts[n++] = t + i / 1000.0;
	windows(ts, n, t, t + 1.5, &maxc, &minc);
	tap_diag("slow start from 4/s x%.0f: %d tokens in 1.5 s, 1 s windows "
	    "max %d", G, n, maxc);
	ok(count_in(ts, n, t, t + 0.1) <= 2, "at most two tokens in the first "
	    "0.1 s, not a burst (%d)", count_in(ts, n, t, t + 0.1));
	ok(count_in(ts, n, t, t + 1) <= 4 * (G - 1) / log(G) + 2,
	    "first second: %d tokens (4/s growing x%.0f)",
	    count_in(ts, n, t, t + 1), G);
	/* the most in a second is the rate's integral over the last one */
	ok(maxc <= 4 * (pow(G, 1.5) - pow(G, 0.5)) / log(G) + 2,
	    "no window over what the rate gives (max %d)", maxc);
	/* the first 429: the slow start ends, cut from what was sent */
	r = ratelimit_rate_at(rl, ts[n - 1]);
	ratelimit_throttle_at(rl, -1, ts[n - 1], ts[n - 1] + 0.005);
	r1 = ratelimit_rate_at(rl, ts[n - 1] + 0.005);
	ok(fabs(r1 - 0.8 * count_in(ts, n, ts[n - 1] - 1, ts[n - 1])) < 0.01,
	    "a 429 at %.0f/s: cut to 0.8 x the %d sent in the second "
	    "before it = %.2f/s", r,
	    count_in(ts, n, ts[n - 1] - 1, ts[n - 1]), r1);
	r2 = ratelimit_rate_at(rl, ts[n - 1] + 20);
	ok(r2 < r, "then AIMD, no more growth x%.0f: %.2f/s 20 s later", G,
	    r2);
	ratelimit_free(rl);

	/* never refused, always wanted: unlimited within seconds */
	rl = ratelimit_new(0, 1);
	ratelimit_slow_start(rl, 4);
	t = now_monotonic();
	/* tried every 2 us: a sender that wants more than any rate */
	for (i = 0; i < 2500000 && ratelimit_rate_at(rl, t + i * 2e-6) > 0;
	    i++)
		(void)ratelimit_try_at(rl, t + i * 2e-6, NULL);
	ok(i < 2500000 && i * 2e-6 <= log(100000 / 4.0) / log(G) + 0.5,
	    "unlimited after %.2f s drawn from with no 429", i * 2e-6);
	for (i = 0, got = 0; i < 1000; i++)
		got += ratelimit_try_at(rl, t + 30, NULL);
	is_int(got, 1000, "1000 tokens at once then");
	ratelimit_free(rl);

	/* a configured rate is not touched */
	rl = ratelimit_new(40, 1);
	ratelimit_slow_start(rl, 4);
	ok(ratelimit_rate(rl) == 40, "a bucket with a rate keeps it");
	ratelimit_free(rl);
	ratelimit_slow_start(NULL, 4);
}

/*
 * A simulated server refusing more than `limit` arrivals in any sliding
 * second (refused ones count, as in tests/fake), `workers` clients with a
 * fixed round trip sending as fast as the bucket lets them and retrying
 * a 429 after its Retry-After, on a bucket with no rate set: over
 * `secs` simulated seconds, few 429s and most of the limit used.
 */
#define SIM_MAX	40000
#define SIM_WORKERS 64
static void
simulate(int limit, int workers, double rtt, double ra, double secs,
    double start)
{
	static double	 arr[SIM_MAX];
	struct ratelimit *rl;
	double		 busy[SIM_WORKERS], sent[SIM_WORKERS];
	double		 ready[SIM_WORKERS], t0, t, a, use;
	int		 refused[SIM_WORKERS], pending[SIM_WORKERS];
	int		 i, n = 0, lo = 0, n429 = 0, ok200 = 0, ok_late = 0;
	int		 early429 = 0;

	rl = ratelimit_new(0, 1);
	if (start > 0)
		ratelimit_slow_start(rl, start);
	t0 = now_monotonic();
	for (i = 0; i < workers; i++) {
		pending[i] = 0;
		ready[i] = t0;
	}
	for (t = t0; t < t0 + secs && n < SIM_MAX; t += 0.0005) {
		for (i = 0; i < workers; i++) {
			if (pending[i] && t >= busy[i]) {
				pending[i] = 0;
				ready[i] = t;
				if (refused[i]) {
					n429++;
					if (sent[i] < t0 + 5)
						early429++;
					ratelimit_throttle_at(rl, ra, sent[i], t);
					ready[i] = t + (ra > 0.25 ? ra : 0.25);
				}
			}
			if (pending[i] || t < ready[i] ||
			    !ratelimit_try_at(rl, t, NULL))
				continue;
			a = t + rtt / 2;	/* arrivals keep send order */
			arr[n++] = a;
			while (arr[lo] <= a - 1)
				lo++;
			refused[i] = n - lo > limit;
			if (!refused[i]) {
				ok200++;
				if (t >= t0 + 10)
					ok_late++;
			}
			pending[i] = 1;
			sent[i] = t;
			busy[i] = t + rtt;
		}
	}
	tap_diag("limit %d/s, %d workers, %.0f ms, Retry-After %.1f s, slow "
	    "start %.0f/s: %d requests in %.0f s, %d 429s (%.2f%%; %d sent in "
	    "the first 5 s), %.1f answered/s after the first 10 s, %ld "
	    "decreases, rate now %.2f", limit, workers, rtt * 1000, ra, start,
	    n, secs, n429, 100.0 * n429 / n, early429, ok_late / (secs - 10),
	    ratelimit_decreases(rl), ratelimit_rate_at(rl, t));
	ok(n429 * 100 < n, "limit %d, Retry-After %.1f: 429s under 1%% (%d of %d)",
	    limit, ra, n429, n);
	/* at a small limit, the fit's margin of one token/s is much of it */
	use = 0.85 * limit < limit - 1.5 ? 0.85 * limit : limit - 1.5;
	ok(ok_late >= use * (secs - 10),
	    "limit %d, Retry-After %.1f: at least %.1f/s of the limit used "
	    "(%.1f/s)", limit, ra, use, ok_late / (secs - 10));
	/* what one round trip at the rate slow start overshot to sends */
	if (start > 0)
		ok(early429 <= 3 + 4 * limit * rtt, "limit %d, %d workers, slow "
		    "start: %d 429s for requests of the first 5 s", limit,
		    workers, early429);
	ratelimit_free(rl);
}

/* A 429 met by one forked worker slows every process sharing the bucket. */
static void
test_throttle_forked(void)
{
	struct ratelimit	*rl;
	pid_t			 pid;
	int			 status, i, got;
	double			 r;

	rl = ratelimit_new(0, 1);
	for (i = 0; i < 20; i++)
		ratelimit_try(rl, NULL);
	fflush(stdout);
	if ((pid = fork()) == 0) {
		ratelimit_throttle(rl, -1);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child throttled");
	is_int(ratelimit_decreases(rl), 1, "the parent sees the child's decrease");
	r = ratelimit_rate(rl);
	ok(r > 0 && r < 20, "and takes tokens at its rate (%.2f/s)", r);
	for (i = 0, got = 0; i < 100; i++)
		got += ratelimit_try(rl, NULL);
	ok(got <= 1, "no longer unlimited: %d of 100 at once", got);
	ratelimit_free(rl);
}

/* Four children take tokens for RUN_S seconds and send their times. */
static void
test_forked(void)
{
	struct ratelimit	*rl;
	double			 ts[4096], t0, t1, t;
	pid_t			 pid[WORKERS];
	int			 p[2], i, n = 0, maxc, minc, status, good = 1;
	ssize_t			 r;

	rl = ratelimit_new(RATE, 1);
	if (pipe(p) == -1) {
		tap_skip("pipe");
		return;
	}
	t0 = stub_now();
	t1 = t0 + RUN_S;
	fflush(stdout);
	for (i = 0; i < WORKERS; i++) {
		if ((pid[i] = fork()) == 0) {
			close(p[0]);
			for (;;) {
				ratelimit_acquire(rl);
				if ((t = stub_now()) >= t1)
					break;
				if (write(p[1], &t, sizeof(t)) != sizeof(t))
					_exit(1);
			}
			_exit(0);
		}
	}
	close(p[1]);
	while (n < 4096 && (r = read(p[0], &ts[n], sizeof(ts[0]))) ==
	    sizeof(ts[0]))
		n++;
	close(p[0]);
	for (i = 0; i < WORKERS; i++) {
		waitpid(pid[i], &status, 0);
		good &= WIFEXITED(status) && WEXITSTATUS(status) == 0;
	}
	ok(good, "4 workers exited cleanly");
	qsort(ts, (size_t)n, sizeof(ts[0]), cmp_double);
	windows(ts, n, t0, t1, &maxc, &minc);
	tap_diag("4 processes, %d req/s bucket: %d tokens in %.1f s, "
	    "1 s windows: max %d, min %d", RATE, n, RUN_S, maxc, minc);
	ok(maxc <= RATE + 2, "no 1 s window over %d (max %d)", RATE + 2, maxc);
	ok(minc >= RATE - 2, "no 1 s window under %d (min %d)", RATE - 2, minc);
	/*
	 * The window guard (ratelimit.c's RL_WINDOW, 1.05 s) gives at most
	 * RATE tokens in any 1.05 s: RATE / 1.05 a second, 57 in 3 s, not 60
	 */
	ok(n >= (int)(RATE * RUN_S / 1.05) - 3 && n <= RATE * RUN_S + 2,
	    "%d tokens in %.0f s", n, RUN_S);
	ratelimit_free(rl);
}

/* The same through the HTTP client, counted where it matters: at the server. */
static void
test_forked_http(void)
{
	struct stub		 srv;
	struct ratelimit	*rl;
	struct http_config	 cfg;
	struct http_client	*c;
	struct http_response	 resp = { 0 };
	double			 ts[4096], t0, t1;
	pid_t			 pid[WORKERS];
	int			 i, n, maxc, minc, status, good = 1, bad;

	if (stub_start(&srv) == -1) {
		tap_skip("cannot start the loopback stub server");
		return;
	}
	rl = ratelimit_new(RATE, 1);
	t0 = stub_now();
	t1 = t0 + RUN_S;
	fflush(stdout);
	for (i = 0; i < WORKERS; i++) {
		if ((pid[i] = fork()) != 0)
			continue;
		memset(&cfg, 0, sizeof(cfg));
		cfg.name = "stub";
		cfg.base_url = srv.url;
		cfg.rl = rl;
		cfg.timeout_ms = 5000;
		c = http_client_new(&cfg);
		bad = 0;
		while (stub_now() < t1)
			if (http_request(c, "GET", "/rl", NULL, NULL, 0,
			    &resp) != 200)
				bad++;
		http_response_free(&resp);
		http_client_free(c);
		_exit(bad ? 1 : 0);
	}
	for (i = 0; i < WORKERS; i++) {
		waitpid(pid[i], &status, 0);
		good &= WIFEXITED(status) && WEXITSTATUS(status) == 0;
	}
	ok(good, "4 HTTP workers: every request answered 200");
	for (i = 0, n = 0; i < srv.shm->nreq && n < 4096; i++)
		if (srv.shm->req[i].t < t1)	/* the last acquire may pass t1 */
			ts[n++] = srv.shm->req[i].t;
	qsort(ts, (size_t)n, sizeof(ts[0]), cmp_double);
	windows(ts, n, t0, t1, &maxc, &minc);
	tap_diag("HTTP: 4 processes sharing %d req/s: %d requests at the "
	    "server in %.1f s, 1 s windows: max %d, min %d", RATE, n, RUN_S,
	    maxc, minc);
	ok(maxc <= RATE + 2, "server: no 1 s window over %d (max %d)",
	    RATE + 2, maxc);
	ok(minc >= RATE - 2, "server: no 1 s window under %d (min %d)",
	    RATE - 2, minc);
	ratelimit_free(rl);
	stub_stop(&srv);
}

int
main(void)
{
	log_init("test_ratelimit");
	http_global_init();
	test_single();
	test_throttle_cut();
	test_recovery();
	test_throttle_forked();
	test_window_guard();
	test_slow_start();
	/* meta-enrich's buckets with no rate set slow-start from 16/s (ENRICH_RL_START) */
	simulate(20, 8, 0.03, 1, 300, 16);
	simulate(10, 8, 0.15, 1, 300, 16);
	simulate(40, 16, 0.15, 0, 300, 16);
	simulate(10, 4, 0.03, 0, 300, 16);
	/* 4 workers x 8 in flight on a fast link (ratelimit.bats) */
	simulate(20, 32, 0.005, 1, 120, 16);
	simulate(4, 32, 0.005, 1, 120, 16);
	/* without slow start the rate control still converges */
	simulate(20, 8, 0.03, 1, 300, 0);
	test_forked();
	test_forked_http();
	return done_testing();
}
