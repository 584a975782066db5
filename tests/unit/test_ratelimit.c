/* test_ratelimit.c: the shared token bucket: burst, waits, pause, and four forked processes held to 20 req/s. */
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
	ok(n >= RATE * RUN_S - 2 && n <= RATE * RUN_S + 2,
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
	test_forked();
	test_forked_http();
	return done_testing();
}
