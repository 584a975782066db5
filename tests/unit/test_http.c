/* test_http.c: the HTTP client against a scripted loopback server: retries, Retry-After, timeouts, redaction, multi mode. */
#include <sys/time.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "log.h"
#include "ratelimit.h"
#include "redact.h"
#include "tap.h"
#include "httpstub.h"

static struct stub	 srv;

static struct http_client *
client(const char *base, int retries, double backoff, double max_backoff,
    long timeout_ms, struct ratelimit *rl)
{
	static const char *const hdrs[] = { "X-Default: d1", NULL };
	struct http_config	 cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.name = "stubapi";
	cfg.base_url = base;
	cfg.headers = hdrs;
	cfg.connect_timeout_ms = 1000;
	cfg.timeout_ms = timeout_ms;
	cfg.retries = retries;
	cfg.backoff = backoff;
	cfg.max_backoff = max_backoff;
	cfg.rl = rl;
	return http_client_new(&cfg);
}

/* Requests the server logged for exactly this path. */
static int
hits(const char *path)
{
	int	 i, n = 0;

	for (i = 0; i < srv.shm->nreq && i < STUB_LOG_MAX; i++)
		if (strcmp(srv.shm->req[i].path, path) == 0)
			n++;
	return n;
}

static const struct stub_req *
last_req(const char *path)
{
	int	 i;

	for (i = srv.shm->nreq - 1; i >= 0; i--)
		if (strcmp(srv.shm->req[i].path, path) == 0)
			return &srv.shm->req[i];
	return NULL;
}

static void
test_basics(void)
{
	static const char *const extra[] = { "X-Extra: e1", NULL };
	struct http_client	*c;
	struct http_response	 r = { 0 };
	const struct stub_req	*q;
	struct http_stats	 st;
	char			*big;
	double			 t0;
	long			 rc;
	int			 i, conn, same = 1;

	c = client(srv.url, 3, 0.05, 1, 5000, NULL);
	rc = http_request(c, "GET", "/a/b?x=1", extra, NULL, 0, &r);
	is_int(rc, 200, "GET answers 200");
	is_int(r.status, 200, "status kept");
	is_int(r.attempts, 1, "one attempt");
	is_str(r.error, "", "no error on 2xx");
	ok(r.body.data != NULL && strstr(r.body.data, "\"path\":\"/a/b?x=1\""),
	    "body kept");
	is_str(r.content_type, "application/json", "content type kept");
	q = last_req("/a/b?x=1");
	ok(q != NULL && strcmp(q->method, "GET") == 0, "server saw GET");
	ok(q != NULL && strstr(q->head, "\r\nX-Default: d1\r\n") != NULL,
	    "default header sent");
	ok(q != NULL && strstr(q->head, "\r\nX-Extra: e1\r\n") != NULL,
	    "extra header sent");
	ok(q != NULL && strcasestr(q->head, "\r\nAccept-Encoding: ") != NULL &&
	    strstr(q->head, "gzip") != NULL, "gzip accepted");
	ok(q != NULL && strstr(q->head, "User-Agent: plexpipe/") != NULL,
	    "user agent");

	/* keep-alive: the same connection for sequential calls */
	conn = q != NULL ? q->conn : -1;
	for (i = 0; i < 5; i++) {
		http_request(c, "GET", "/ka", NULL, NULL, 0, &r);
		q = last_req("/ka");
		if (q == NULL || q->conn != conn)
			same = 0;
	}
	ok(same, "keep-alive: 6 sequential requests on one connection");

	/* a big POST body goes without an Expect: 100-continue stall */
	big = malloc(300000);
	memset(big, 'x', 300000);
	t0 = stub_now();
	rc = http_request(c, "POST", "/post", NULL, big, 300000, &r);
	is_int(rc, 200, "POST 300 kB");
	ok(stub_now() - t0 < 0.9, "no 100-continue wait (%.3f s)",
	    stub_now() - t0);
	q = last_req("/post");
	ok(q != NULL && q->body_len == 300000 && strcmp(q->method, "POST") == 0,
	    "server got the whole POST body");
	ok(q != NULL && strstr(q->head, "Expect:") == NULL, "no Expect header");
	rc = http_request(c, "PUT", "/put", NULL, "{}", 2, &r);
	q = last_req("/put");
	ok(rc == 200 && q != NULL && strcmp(q->method, "PUT") == 0 &&
	    q->body_len == 2, "PUT with a body");
	rc = http_request(c, "DELETE", "/del", NULL, NULL, 0, &r);
	q = last_req("/del");
	ok(rc == 200 && q != NULL && strcmp(q->method, "DELETE") == 0,
	    "DELETE");
	free(big);

	http_client_stats(c, &st);
	is_int((long long)st.requests, 9, "stats: 9 attempts");
	is_int((long long)st.retries, 0, "stats: no retries");
	http_response_free(&r);
	http_client_free(c);
}

static void
test_retry_policy(void)
{
	struct http_client	*c, *c2;
	struct http_response	 r = { 0 };
	struct http_stats	 st;
	long			 rc;

	c = client(srv.url, 3, 0.05, 1, 5000, NULL);
	rc = http_request(c, "GET", "/r503?fail=2", NULL, NULL, 0, &r);
	is_int(rc, 200, "503 twice, then 200");
	is_int(r.attempts, 3, "503: 3 attempts");
	is_int(hits("/r503?fail=2"), 3, "server saw 3 requests");

	rc = http_request(c, "GET", "/r404?status=404", NULL, NULL, 0, &r);
	is_int(rc, 404, "404 is final");
	is_int(r.attempts, 1, "404: exactly 1 attempt");
	is_int(hits("/r404?status=404"), 1, "server saw exactly 1 request");
	ok(strstr(r.error, "stubapi: GET /r404?status=404: 404 Not Found "
	    "after 1 attempt: {\"error\":\"scripted failure\"") == r.error,
	    "404 message: %s", r.error);
	ok(r.body.data != NULL && strstr(r.body.data, "scripted failure"),
	    "error body kept in resp.body");

	rc = http_request(c, "GET", "/r501?status=501", NULL, NULL, 0, &r);
	ok(rc == 501 && r.attempts == 1, "501 is not retried");
	rc = http_request(c, "GET", "/r408?fail=1&fstatus=408", NULL, NULL, 0,
	    &r);
	ok(rc == 200 && r.attempts == 2, "408 is retried");
	rc = http_request(c, "GET", "/r500?fail=1&fstatus=500", NULL, NULL, 0,
	    &r);
	ok(rc == 200 && r.attempts == 2, "500 is retried");
	rc = http_request(c, "GET", "/r400?status=400", NULL, NULL, 0, &r);
	ok(rc == 400 && r.attempts == 1, "400 is not retried");

	rc = http_request(c, "GET", "/always?fail=99", NULL, NULL, 0, &r);
	is_int(rc, 503, "503 every time: final 503");
	is_int(r.attempts, 4, "retries=3: 4 attempts");
	ok(strstr(r.error, "503 Service Unavailable after 4 attempts") != NULL,
	    "message counts attempts: %s", r.error);

	/* a fresh client: on a reused connection curl itself retries once */
	c2 = client(srv.url, 3, 0.05, 1, 5000, NULL);
	rc = http_request(c2, "GET", "/drop?fail=1&fclose=1", NULL, NULL, 0,
	    &r);
	ok(rc == 200 && r.attempts == 2, "dropped connection retried (%ld, "
	    "%d attempts)", rc, r.attempts);
	http_client_free(c2);

	http_client_stats(c, &st);
	is_int((long long)st.retries, 2 + 1 + 1 + 3, "stats: retries");
	is_int((long long)st.failures, 4, "stats: 4 failed for good");
	http_response_free(&r);
	http_client_free(c);
}

static void
test_retry_after(void)
{
	struct http_client	*c;
	struct http_response	 r = { 0 };
	struct http_stats	 st;
	const struct stub_req	*a, *b;
	double			 t0, dt;
	long			 rc;

	c = client(srv.url, 3, 0.05, 30, 5000, NULL);
	t0 = stub_now();
	rc = http_request(c, "GET", "/ra?fail=1&fstatus=429&ra=2", NULL, NULL,
	    0, &r);
	dt = stub_now() - t0;
	is_int(rc, 200, "429 then 200");
	is_int(r.attempts, 2, "429: 2 attempts");
	ok(dt >= 1.8 && dt <= 3.5, "Retry-After: 2 waited %.3f s", dt);
	tap_diag("measured Retry-After: 2 wait: %.3f s", dt);
	a = &srv.shm->req[srv.shm->nreq - 2];
	b = &srv.shm->req[srv.shm->nreq - 1];
	ok(b->t - a->t >= 1.8, "server-side gap %.3f s", b->t - a->t);
	http_client_stats(c, &st);
	is_int((long long)st.status_429, 1, "stats: one 429");

	t0 = stub_now();
	rc = http_request(c, "GET", "/rad?fail=1&fstatus=503&ra=date+2", NULL,
	    NULL, 0, &r);
	dt = stub_now() - t0;
	/* an HTTP-date has 1 s resolution: 1 to 2 s ahead */
	ok(rc == 200 && dt >= 0.9 && dt <= 3.5,
	    "Retry-After as HTTP-date waited %.3f s", dt);
	http_client_free(c);

	c = client(srv.url, 3, 0.05, 0.5, 5000, NULL);
	t0 = stub_now();
	rc = http_request(c, "GET", "/racap?fail=1&fstatus=429&ra=20", NULL,
	    NULL, 0, &r);
	dt = stub_now() - t0;
	ok(rc == 200 && dt < 1.5, "Retry-After capped by max_backoff (%.3f s)",
	    dt);
	http_response_free(&r);
	http_client_free(c);
}

static void
test_transport(void)
{
	struct http_client	*c;
	struct http_response	 r = { 0 };
	char			 url[64];
	double			 t0, dt;
	long			 rc;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d", stub_dead_port());
	c = client(url, 2, 0.05, 1, 2000, NULL);
	rc = http_request(c, "GET", "/x", NULL, NULL, 0, &r);
	is_int(rc, -1, "connection refused: -1");
	is_int(r.status, 0, "no status");
	is_int(r.attempts, 3, "refused: retried (3 attempts)");
	ok(strncmp(r.error, "stubapi: GET /x: ", 17) == 0 &&
	    strstr(r.error, "after 3 attempts") != NULL &&
	    strcasestr(r.error, "connect") != NULL,
	    "clear message: %s", r.error);
	http_client_free(c);

	c = client(srv.url, 1, 0.05, 1, 300, NULL);
	t0 = stub_now();
	rc = http_request(c, "GET", "/stall?fail=9&fdelay=1500", NULL, NULL, 0,
	    &r);
	dt = stub_now() - t0;
	is_int(rc, -1, "stall beyond the timeout: -1");
	is_int(r.attempts, 2, "stall: retried (2 attempts)");
	ok(dt < 1.5, "each attempt cut at the timeout (%.3f s)", dt);
	ok(strcasestr(r.error, "timed out") != NULL &&
	    strstr(r.error, "after 2 attempts") != NULL,
	    "timeout message: %s", r.error);
	rc = http_request(c, "GET", "/stall1?fail=1&fdelay=1500", NULL, NULL, 0,
	    &r);
	ok(rc == 200 && r.attempts == 2, "one stall, then success");
	http_response_free(&r);
	http_client_free(c);
}

/* Answer caps (issue 9 #8): counted in decoded bytes, final, memory freed. */
static void
test_body_cap(void)
{
	struct http_client	*c;
	struct http_response	 r = { 0 };
	long			 rc;

	c = client(srv.url, 3, 0.05, 1, 5000, NULL);
	http_client_set_max_body(c, 100000);
	rc = http_request(c, "GET", "/cap?big=60000", NULL, NULL, 0, &r);
	ok(rc == 200 && r.body.len == 60000, "an answer under the cap is kept");
	stub_reset(&srv);
	rc = http_request(c, "GET", "/cap?big=300000", NULL, NULL, 0, &r);
	is_int(rc, -1, "an answer over the cap (Content-Length known): -1");
	is_int(r.attempts, 1, "  not retried");
	ok(r.body.len == 0, "  no partial body kept");
	ok(strstr(r.error, "stubapi: GET /cap?big=300000: answer over the "
	    "100000 byte cap for stubapi answers after 1 attempt") != NULL,
	    "  clear message: %s", r.error);
	rc = http_request(c, "GET", "/cap?big=300000&nolen=1", NULL, NULL, 0, &r);
	ok(rc == -1 && r.attempts == 1 && r.body.len == 0 &&
	    strstr(r.error, "answer over the 100000 byte cap") != NULL,
	    "no Content-Length: the write callback stops it: %s", r.error);
	is_int(hits("/cap?big=300000&nolen=1"), 1, "  one request on the wire");
	http_client_set_max_body(c, 32 << 20);
	rc = http_request(c, "GET", "/cap?big=300000&nolen=1", NULL, NULL, 0, &r);
	ok(rc == 200 && r.body.len == 300000, "a raised cap takes it");
	http_response_free(&r);
	http_client_free(c);
}

/* retry_unsent_only: what may have been served is never sent twice. */
static void
test_unsent_only(void)
{
	struct http_config	 cfg;
	struct http_client	*c;
	struct http_response	 r = { 0 };
	char			 url[64];
	long			 rc;

	memset(&cfg, 0, sizeof(cfg));
	cfg.name = "billed";
	cfg.base_url = srv.url;
	cfg.connect_timeout_ms = 1000;
	cfg.timeout_ms = 300;
	cfg.retries = 3;
	cfg.backoff = 0.01;
	cfg.retry_unsent_only = 1;
	c = http_client_new(&cfg);
	stub_reset(&srv);
	rc = http_request(c, "POST", "/u/500?fail=1&fstatus=500", NULL, "{}", 2, &r);
	ok(rc == 500 && r.attempts == 1, "500: not retried (%ld, %d attempts)",
	    rc, r.attempts);
	rc = http_request(c, "POST", "/u/502?fail=1&fstatus=502", NULL, "{}", 2, &r);
	ok(rc == 502 && r.attempts == 1, "502: not retried");
	rc = http_request(c, "POST", "/u/stall?fail=1&fdelay=1000", NULL, "{}", 2, &r);
	ok(rc == -1 && r.attempts == 1 && strcasestr(r.error, "timed out"),
	    "timeout: not retried (%d attempts)", r.attempts);
	is_int(hits("/u/stall?fail=1&fdelay=1000"), 1, "  sent once");
	rc = http_request(c, "POST", "/u/close?fail=1&fclose=1", NULL, "{}", 2, &r);
	ok(rc == -1 && r.attempts == 1, "dropped connection: not retried");
	rc = http_request(c, "POST", "/u/503?fail=1&fstatus=503", NULL, "{}", 2, &r);
	ok(rc == 200 && r.attempts == 2, "503: retried");
	rc = http_request(c, "POST", "/u/429?fail=1&fstatus=429", NULL, "{}", 2, &r);
	ok(rc == 200 && r.attempts == 2, "429: retried");
	http_client_free(c);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", stub_dead_port());
	cfg.base_url = url;
	c = http_client_new(&cfg);
	rc = http_request(c, "POST", "/u", NULL, "{}", 2, &r);
	ok(rc == -1 && r.attempts == 4, "connection refused: retried (%d attempts)",
	    r.attempts);
	http_response_free(&r);
	http_client_free(c);
}

static void
test_redaction(void)
{
	static const char *const extra[] = { "X-Api-Secret: REGSECRET4242",
	    "Authorization: Bearer BEARERSECRET77", NULL };
	struct http_client	*c;
	struct http_response	 r = { 0 };
	long			 rc;

	redact_add("REGSECRET4242");
	c = client(srv.url, 0, 0.05, 1, 5000, NULL);
	rc = http_request(c, "GET",
	    "/s?api_key=URLSECRET99&echo=1&status=401", extra, NULL, 0, &r);
	is_int(rc, 401, "401 with the request echoed in the body");
	ok(r.body.data != NULL && strstr(r.body.data, "REGSECRET4242") &&
	    strstr(r.body.data, "URLSECRET99"),
	    "the server did echo the secrets (the test can fail)");
	ok(strstr(r.error, "REGSECRET") == NULL, "registered secret masked");
	ok(strstr(r.error, "URLSECRET99") == NULL, "api_key in URL masked");
	ok(strstr(r.error, "BEARERSECRET77") == NULL, "Authorization masked");
	ok(strstr(r.error, "401") != NULL && strstr(r.error, "api_key=***"),
	    "message still useful: %s", r.error);
	http_client_free(c);

	c = client(srv.url, 0, 0.05, 1, 5000, NULL);
	rc = http_request(c, "GET", "/h?status=502&html=1", NULL, NULL, 0, &r);
	ok(rc == 502 && strstr(r.error, "Bad Gateway") != NULL &&
	    strchr(r.error, '<') == NULL && strstr(r.error, "color") == NULL &&
	    strchr(r.error, '\n') == NULL && strchr(r.error, '\t') == NULL,
	    "HTML body stripped to text: %s", r.error);
	ok(strlen(r.error) < sizeof(r.error), "bounded");
	http_response_free(&r);
	http_client_free(c);
}

static volatile sig_atomic_t	 stop_flag;

static void
on_alarm(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void
test_cancel_and_pause(void)
{
	struct http_client	*c;
	struct http_response	 r = { 0 };
	struct itimerval	 it = { { 0, 0 }, { 0, 300000 } };
	struct ratelimit	*rl;
	double			 t0, dt, w = 0;
	long			 rc;
	int			 got;

	http_set_cancel_flag(&stop_flag);
	signal(SIGALRM, on_alarm);
	c = client(srv.url, 3, 0.05, 30, 5000, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	t0 = stub_now();
	rc = http_request(c, "GET", "/c?fail=9&fstatus=429&ra=10", NULL, NULL,
	    0, &r);
	dt = stub_now() - t0;
	ok(rc == -1 && dt < 1.5 && strstr(r.error, "cancelled") != NULL,
	    "cancel flag cuts a 10 s wait (%.3f s): %s", dt, r.error);
	stop_flag = 0;
	http_set_cancel_flag(NULL);
	http_client_free(c);

	/* a 429 with Retry-After pauses the shared bucket for everyone */
	rl = ratelimit_new(100, 1);
	c = client(srv.url, 0, 0.05, 30, 5000, rl);
	rc = http_request(c, "GET", "/p?fail=1&fstatus=429&ra=1", NULL, NULL, 0,
	    &r);
	got = ratelimit_try(rl, &w);
	ok(rc == 429 && !got && w > 0.8 && w <= 1.0,
	    "429 Retry-After: 1 paused the bucket (wait %.3f s)", w);
	http_response_free(&r);
	http_client_free(c);
	ratelimit_free(rl);
}

static void
test_escape(void)
{
	char	*e;

	e = http_escape("a b/c&d=\xc3\xa9~_.-Z9");
	is_str(e, "a%20b%2Fc%26d%3D%C3%A9~_.-Z9", "http_escape");
	free(e);
	e = http_escape("");
	is_str(e, "", "http_escape empty");
	free(e);
}

struct done {
	int	 calls;
	long	 status[64];
	int	 attempts[64];
	int	 errors;
};

static void
on_done(void *arg, long status, struct http_response *resp)
{
	struct done	*d = arg;

	if (d->calls < 64) {
		d->status[d->calls] = status;
		d->attempts[d->calls] = resp->attempts;
	}
	if (resp->error[0] != '\0')
		d->errors++;
	d->calls++;
}

static void
test_multi(void)
{
	struct http_client	*c;
	struct http_multi	*hm;
	struct ratelimit	*rl;
	struct done		 d;
	char			 path[64], *body;
	double			 t0, dt;
	int			 i, good;
	size_t			 left;

	c = client(srv.url, 3, 0.05, 1, 5000, NULL);
	stub_reset(&srv);
	memset(&d, 0, sizeof(d));
	hm = http_multi_new(c, 3);
	for (i = 0; i < 12; i++) {
		snprintf(path, sizeof(path), "/m/%d?delay=150", i);
		http_multi_add(hm, "GET", path, NULL, NULL, 0, on_done, &d);
	}
	is_int((long long)http_multi_pending(hm), 12, "12 queued");
	t0 = stub_now();
	left = http_multi_run(hm, 20000);
	dt = stub_now() - t0;
	is_int((long long)left, 0, "all done");
	is_int(d.calls, 12, "12 callbacks");
	for (i = 0, good = 1; i < 12; i++)
		good &= d.status[i] == 200 && d.attempts[i] == 1;
	ok(good, "all 200 in one attempt");
	ok(srv.shm->max_in_flight <= 3,
	    "cap 3: at most %d in flight at the server", srv.shm->max_in_flight);
	ok(srv.shm->max_in_flight >= 2, "really concurrent (%d)",
	    srv.shm->max_in_flight);
	ok(dt > 0.55 && dt < 3, "12 x 150 ms / 3 took %.3f s", dt);
	tap_diag("multi cap 3: server saw max %d in flight, %d connections",
	    srv.shm->max_in_flight, srv.shm->nconn);
	ok(srv.shm->nconn <= 3, "connections reused (%d)", srv.shm->nconn);

	/* retries per request, each on its own timer; bodies copied */
	stub_reset(&srv);
	memset(&d, 0, sizeof(d));
	for (i = 0; i < 6; i++) {
		snprintf(path, sizeof(path), "/mr/%d?fail=1&delay=20", i);
		body = strdup("{\"k\":1}");
		http_multi_add(hm, "POST", path, NULL, body, strlen(body),
		    on_done, &d);
		free(body);
	}
	http_multi_add(hm, "GET", "/mr/nf?status=404", NULL, NULL, 0, on_done,
	    &d);
	left = http_multi_run(hm, -1);
	is_int((long long)left, 0, "retry batch done");
	is_int(d.calls, 7, "7 callbacks");
	for (i = 0, good = 0; i < 7 && i < d.calls; i++)
		good += d.status[i] == 200 && d.attempts[i] == 2;
	is_int(good, 6, "6 requests: 503 then 200, 2 attempts each");
	for (i = 0, good = 0; i < 7 && i < d.calls; i++)
		good += d.status[i] == 404 && d.attempts[i] == 1;
	is_int(good, 1, "404 once, not retried");
	is_int(d.errors, 1, "only the 404 has an error message");
	is_int(srv.shm->nreq, 13, "server saw 6*2 + 1 requests");
	ok(srv.shm->req[0].body_len == 7 &&
	    strcmp(srv.shm->req[0].method, "POST") == 0, "copied POST body sent");
	ok(srv.shm->max_in_flight <= 3, "cap still holds with retries (%d)",
	    srv.shm->max_in_flight);

	/* a bounded run returns with work pending; free aborts, no callbacks */
	memset(&d, 0, sizeof(d));
	http_multi_add(hm, "GET", "/slow/1?delay=2000", NULL, NULL, 0, on_done,
	    &d);
	http_multi_add(hm, "GET", "/slow/2?delay=2000", NULL, NULL, 0, on_done,
	    &d);
	t0 = stub_now();
	left = http_multi_run(hm, 200);
	dt = stub_now() - t0;
	ok(left == 2 && dt >= 0.15 && dt < 1, "run(200 ms) returns with 2 "
	    "pending after %.3f s", dt);
	http_multi_free(hm);
	is_int(d.calls, 0, "free: no callbacks");
	http_client_free(c);

	/* the shared bucket paces multi mode too: 10 at 20/s with cap 5 */
	rl = ratelimit_new(20, 1);
	c = client(srv.url, 3, 0.05, 1, 5000, rl);
	hm = http_multi_new(c, 5);
	memset(&d, 0, sizeof(d));
	for (i = 0; i < 10; i++) {
		snprintf(path, sizeof(path), "/rl/%d", i);
		http_multi_add(hm, "GET", path, NULL, NULL, 0, on_done, &d);
	}
	t0 = stub_now();
	left = http_multi_run(hm, 10000);
	dt = stub_now() - t0;
	ok(left == 0 && d.calls == 10 && dt >= 0.4 && dt < 1.5,
	    "rate-limited multi: 10 requests at 20/s took %.3f s", dt);

	/* the cancel flag ends a run early, with work still pending */
	http_set_cancel_flag(&stop_flag);
	stop_flag = 1;
	http_multi_add(hm, "GET", "/cancel", NULL, NULL, 0, on_done, &d);
	left = http_multi_run(hm, 5000);
	ok(left == 1 && d.calls == 10, "cancelled run starts nothing");
	stop_flag = 0;
	http_set_cancel_flag(NULL);
	http_multi_free(hm);
	http_client_free(c);
	ratelimit_free(rl);
}

int
main(void)
{
	log_init("test_http");
	http_global_init();
	if (stub_start(&srv) == -1) {
		tap_skip("cannot start the loopback stub server");
		return done_testing();
	}
	test_basics();
	test_retry_policy();
	test_retry_after();
	test_transport();
	test_body_cap();
	test_unsent_only();
	test_redaction();
	test_cancel_and_pause();
	test_escape();
	test_multi();
	stub_stop(&srv);
	return done_testing();
}
