/* http.c: the HTTP client every stage uses: libcurl, retries with backoff, rate limits, redaction. */
/*
 * One logical request is a `struct xfer`: the URL, headers and body, and
 * the caller's response, carried across attempts.  An attempt is one
 * libcurl transfer; after it, retry_verdict() decides (the same policy
 * for the synchronous and the multi path):
 *
 *   transport errors that can pass (connect, timeout, reset, empty
 *   reply), 408, 429 and 5xx but 501  ->  retry, if attempts remain;
 *   everything else (2xx, 3xx, other 4xx, 501, local errors, an answer
 *   over the client's cap)  ->  final.
 *
 * A client made with retry_unsent_only (requests that must not run
 * twice) retries only what cannot have reached the server (resolve and
 * connect errors) and 429/503, which say the request was not served.
 *
 * The wait before retry n (n = 1, 2, ...) is backoff * 2^(n-1) scaled by
 * a random factor in [0.75, 1.25] (so forked workers that failed
 * together do not retry together), raised to the server's Retry-After,
 * and capped at max_backoff.  A 429 with Retry-After also pauses the
 * shared rate limiter, so every worker drawing from the bucket backs off,
 * not only the one that was told.
 *
 * No CURLOPT_FAILONERROR: the body of a 4xx is how Qdrant and TMDb say
 * what was wrong, so it is kept and quoted (redacted, at most 200 bytes)
 * in the error message.  Redirects are not followed: custom headers
 * carrying tokens (X-Plex-Token, api-key) would travel to the new host.
 *
 * Synchronous calls reuse one easy handle per client, so the connection
 * stays alive between calls.  Multi mode runs many transfers on one
 * curl multi handle, whose connection cache is shared by its transfers;
 * the in-flight cap is ours (curl's MAXCONNECTS is not a cap).
 */
#include <sys/queue.h>
#include <sys/select.h>

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "buf.h"
#include "http.h"
#include "log.h"
#include "ratelimit.h"
#include "redact.h"
#include "signals.h"
#include "timeutil.h"
#include "version.h"
#include "xalloc.h"

#define ERROR_BODY_MAX	200	/* bytes of an error body quoted in error[] */
#define NAP_SLICE	0.05	/* longest sleep between cancel-flag checks */

struct http_client {
	char			*name;		/* "tmdb": message prefix */
	char			*base_url;	/* no trailing '/' */
	char			**headers;	/* NULL-terminated copies */
	char			*cacert;	/* or NULL */
	long			 connect_ms;
	long			 timeout_ms;
	int			 retries;	/* attempts after the first */
	double			 backoff;	/* first wait, seconds */
	double			 max_backoff;	/* cap on any one wait */
	int			 insecure;
	int			 unsent_only;	/* retry only what was not served */
	size_t			 max_body;	/* answer cap, decoded bytes */
	struct ratelimit	*rl;		/* borrowed; may be NULL */
	CURL			*easy;		/* sync calls: kept for keep-alive */
	struct http_stats	 st;
};

/* One logical request across its attempts. */
struct xfer {
	TAILQ_ENTRY(xfer)	 entry;		/* multi: waiting or running list */
	struct http_client	*c;
	CURL			*easy;		/* during an attempt */
	struct curl_slist	*hdrs;
	char			*method;
	char			*path;		/* as given, for messages */
	char			*url;
	const char		*body;		/* NULL: none */
	char			*body_copy;	/* multi: owned copy of body */
	size_t			 body_len;
	struct http_response	*resp;		/* sync: the caller's */
	struct http_response	 own;		/* multi: resp points here */
	char			 reason[64];	/* from the status line */
	char			 errbuf[CURL_ERROR_SIZE];
	CURLcode		 cres;		/* last attempt's curl result */
	int			 over_cap;	/* the answer outgrew max_body */
	double			 not_before;	/* multi: retry timer (monotonic) */
	double			 sent_at;	/* this attempt's start (monotonic) */
	http_done_fn		 fn;		/* multi: completion callback */
	void			*arg;
};

TAILQ_HEAD(xfer_list, xfer);

struct http_multi {
	struct http_client	*c;
	CURLM			*m;
	int			 max;		/* in-flight cap */
	int			 in_flight;
	size_t			 pending;	/* waiting + running */
	struct xfer_list	 waiting;	/* new or waiting to retry, FIFO */
	struct xfer_list	 running;
	CURL			**pool;		/* idle easy handles */
	int			 npool;
};

/* signals.h's stop flag unless a caller (a test) points elsewhere */
static volatile sig_atomic_t	*cancel_flag = &signal_received;
static int			 global_done;

/* ---------------------------------------------------------------- time */

static int
cancelled(void)
{
	return cancel_flag != NULL && *cancel_flag != 0;
}

static int
stop_requested(const void *unused)
{
	(void)unused;
	return cancelled();
}

/* Sleeps s seconds; -1 as soon as the cancel flag is set. */
static int
nap(double s)
{
	if (sleep_unless(s, stop_requested, NULL) != 0)
		return -1;
	return cancelled() ? -1 : 0;
}

/* Waits for a rate-limit token; -1 when cancelled meanwhile. */
static int
take_token(struct ratelimit *rl)
{
	double	 w;

	if (rl == NULL)
		return cancelled() ? -1 : 0;
	while (!ratelimit_try(rl, &w)) {
		if (nap(w > 0.25 ? 0.25 : w) == -1)
			return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------- setup */

int
http_global_init(void)
{
	if (global_done)
		return 0;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -1;
	global_done = 1;
	return 0;
}

void
http_set_cancel_flag(volatile sig_atomic_t *flag)
{
	cancel_flag = flag;
}

int
http_ok(long status)
{
	return status >= 200 && status <= 299;
}

struct http_client *
http_client_new(const struct http_config *cfg)
{
	struct http_client	*c;
	size_t			 n, len;

	if (cfg == NULL || cfg->base_url == NULL || *cfg->base_url == '\0') {
		log_error("http: no base URL");
		return NULL;
	}
	if (http_global_init() != 0) {
		log_error("%s: libcurl failed to initialise",
		    cfg->name ? cfg->name : "http");
		return NULL;
	}
	c = xcalloc(1, sizeof(*c));
	if ((c->easy = curl_easy_init()) == NULL) {
		log_error("%s: curl_easy_init failed",
		    cfg->name ? cfg->name : "http");
		free(c);
		return NULL;
	}
	c->name = xstrdup(cfg->name != NULL ? cfg->name : "http");
	c->base_url = xstrdup(cfg->base_url);
	len = strlen(c->base_url);
	while (len > 0 && c->base_url[len - 1] == '/')
		c->base_url[--len] = '\0';
	for (n = 0; cfg->headers != NULL && cfg->headers[n] != NULL; n++)
		;
	c->headers = xcalloc(n + 1, sizeof(*c->headers));
	for (n = 0; cfg->headers != NULL && cfg->headers[n] != NULL; n++)
		c->headers[n] = xstrdup(cfg->headers[n]);
	c->cacert = cfg->cacert != NULL ? xstrdup(cfg->cacert) : NULL;
	c->connect_ms = cfg->connect_timeout_ms > 0 ?
	    cfg->connect_timeout_ms : 10000;
	c->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 60000;
	c->retries = cfg->retries >= 0 ? cfg->retries : 3;
	c->backoff = cfg->backoff > 0 ? cfg->backoff : 0.5;
	c->max_backoff = cfg->max_backoff > 0 ? cfg->max_backoff : 30;
	c->insecure = cfg->insecure;
	c->unsent_only = cfg->retry_unsent_only;
	c->max_body = cfg->max_body > 0 ? cfg->max_body : HTTP_MAX_BODY_BULK;
	c->rl = cfg->rl;
	return c;
}

void
http_client_set_max_body(struct http_client *c, size_t max)
{
	c->max_body = max > 0 ? max : HTTP_MAX_BODY_BULK;
}

void
http_client_free(struct http_client *c)
{
	size_t	 i;

	if (c == NULL)
		return;
	curl_easy_cleanup(c->easy);
	for (i = 0; c->headers[i] != NULL; i++)
		free(c->headers[i]);
	free(c->headers);
	free(c->name);
	free(c->base_url);
	free(c->cacert);
	free(c);
}

void
http_client_stats(const struct http_client *c, struct http_stats *st)
{
	*st = c->st;
}

static void
response_reset(struct http_response *r)
{
	r->status = 0;
	buf_reset(&r->body);
	r->content_type[0] = '\0';
	r->retry_after = -1;
	r->attempts = 0;
	r->retryable = 0;
	r->error[0] = '\0';
}

void
http_response_free(struct http_response *r)
{
	if (r == NULL)
		return;
	buf_free(&r->body);
}

/* Out of memory inside libcurl is as fatal as in xmalloc. */
static struct curl_slist *
slist_add(struct curl_slist *l, const char *s)
{
	struct curl_slist	*n;

	n = xnonnull(curl_slist_append(l, s));
	return n;
}

static void
xfer_init(struct xfer *x, struct http_client *c, const char *method,
    const char *path, const char *const *extra, const char *body,
    size_t body_len, struct http_response *resp)
{
	size_t	 i;

	memset(x, 0, sizeof(*x));
	x->c = c;
	x->method = xstrdup(method != NULL ? method : "GET");
	x->path = xstrdup(path != NULL ? path : "/");
	xasprintf(&x->url, "%s%s%s", c->base_url,
	    x->path[0] == '/' ? "" : "/", x->path);
	for (i = 0; c->headers[i] != NULL; i++)
		x->hdrs = slist_add(x->hdrs, c->headers[i]);
	for (i = 0; extra != NULL && extra[i] != NULL; i++)
		x->hdrs = slist_add(x->hdrs, extra[i]);
	/* no "Expect: 100-continue" round trip before big bodies */
	x->hdrs = slist_add(x->hdrs, "Expect:");
	x->body = body;
	x->body_len = body_len;
	x->resp = resp;
	response_reset(resp);
}

static void
xfer_free(struct xfer *x)
{
	curl_slist_free_all(x->hdrs);
	free(x->method);
	free(x->path);
	free(x->url);
	free(x->body_copy);
	http_response_free(&x->own);
}

/* ------------------------------------------------------ curl callbacks */

/*
 * curl hands over decoded bytes (CURLOPT_ACCEPT_ENCODING), so the cap
 * holds for what a compressed answer expands to. Returning short makes
 * curl stop the transfer with CURLE_WRITE_ERROR.
 */
static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct xfer	*x = arg;

	if (size * n > x->c->max_body - x->resp->body.len) {
		x->over_cap = 1;
		return 0;
	}
	buf_append(&x->resp->body, p, size * n);
	return size * n;
}

/* "Retry-After: 120" or "Retry-After: Wed, 21 Oct 2026 07:28:00 GMT". */
static double
parse_retry_after(const char *v)
{
	char	*end;
	double	 s;
	time_t	 t;

	s = strtod(v, &end);
	if (end != v && *end == '\0')
		return s < 0 ? 0 : s;
	if ((t = curl_getdate(v, NULL)) == -1)
		return -1;
	s = difftime(t, time(NULL));
	return s < 0 ? 0 : s;
}

static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct xfer	*x = arg;
	char		 line[512], *v, *e;
	size_t		 len = size * n;

	if (len >= sizeof(line))
		return len;		/* nothing we want is that long */
	memcpy(line, p, len);
	line[len] = '\0';
	while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == '\n' ||
	    line[len - 1] == ' ' || line[len - 1] == '\t'))
		line[--len] = '\0';
	if (strncmp(line, "HTTP/", 5) == 0) {
		/* a new answer (after a 100 Continue, say): forget the last */
		x->resp->content_type[0] = '\0';
		x->resp->retry_after = -1;
		x->reason[0] = '\0';
		if ((v = strchr(line, ' ')) != NULL &&
		    (v = strchr(v + 1, ' ')) != NULL)
			strlcpy(x->reason, v + 1, sizeof(x->reason));
		return size * n;
	}
	if ((e = strchr(line, ':')) == NULL)
		return size * n;
	*e = '\0';
	v = e + 1 + strspn(e + 1, " \t");
	if (strcasecmp(line, "Content-Type") == 0)
		strlcpy(x->resp->content_type, v,
		    sizeof(x->resp->content_type));
	else if (strcasecmp(line, "Retry-After") == 0)
		x->resp->retry_after = parse_retry_after(v);
	return size * n;
}

/* Resets `easy` and sets it up for one attempt of x. */
static void
xfer_prepare(struct xfer *x, CURL *easy)
{
	struct http_client	*c = x->c;
	const char		*m = x->method;
	int			 has_body;

	x->easy = easy;
	x->sent_at = now_monotonic();	/* just after its token */
	x->errbuf[0] = '\0';
	x->reason[0] = '\0';
	x->cres = CURLE_OK;
	x->over_cap = 0;
	x->resp->status = 0;
	buf_reset(&x->resp->body);
	x->resp->content_type[0] = '\0';
	x->resp->retry_after = -1;

	curl_easy_reset(easy);		/* keeps the connection cache */
	curl_easy_setopt(easy, CURLOPT_URL, x->url);
	curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(easy, CURLOPT_HTTPHEADER, x->hdrs);
	curl_easy_setopt(easy, CURLOPT_USERAGENT, "plexpipe/" PLEXPIPE_VERSION);
	curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "");
	/* refuses early an answer whose Content-Length is already too big */
	curl_easy_setopt(easy, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)c->max_body);
	curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, c->connect_ms);
	curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, c->timeout_ms);
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, c->insecure ? 0L : 1L);
	curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, c->insecure ? 0L : 2L);
	if (c->cacert != NULL)
		curl_easy_setopt(easy, CURLOPT_CAINFO, c->cacert);
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(easy, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(easy, CURLOPT_PRIVATE, x);

	has_body = x->body != NULL || strcmp(m, "POST") == 0 ||
	    strcmp(m, "PUT") == 0 || strcmp(m, "PATCH") == 0;
	if (strcmp(m, "HEAD") == 0)
		curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
	else if (has_body) {
		/* POSTFIELDS does not copy: the body outlives the transfer */
		curl_easy_setopt(easy, CURLOPT_POSTFIELDS,
		    x->body != NULL ? x->body : "");
		curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)(x->body != NULL ? x->body_len : 0));
		if (strcmp(m, "POST") != 0)
			curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, m);
	} else if (strcmp(m, "GET") != 0)
		curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, m);
	x->resp->attempts++;
	c->st.requests++;
}

/* ------------------------------------------------------- retry policy */

static int
transport_retryable(CURLcode e)
{
	switch (e) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return 1;
	default:
		return 0;
	}
}

static int
status_retryable(long s)
{
	return s == 408 || s == 429 || (s >= 500 && s <= 599 && s != 501);
}

/* Nothing reached the server, or it said it served nothing. */
static int
unsent(CURLcode e, long s)
{
	if (e != CURLE_OK)
		return e == CURLE_COULDNT_RESOLVE_HOST || e == CURLE_COULDNT_CONNECT;
	return s == 429 || s == 503;
}

/* Whether another attempt may mend this one's outcome, the count aside. */
static int
retry_may_help(const struct xfer *x)
{
	if (x->over_cap)
		return 0;
	if (x->cres != CURLE_OK ? !transport_retryable(x->cres) :
	    !status_retryable(x->resp->status))
		return 0;
	return !x->c->unsent_only || unsent(x->cres, x->resp->status);
}

/* Called once after every attempt: records what came back. */
static void
attempt_done(struct xfer *x, CURLcode cres)
{
	struct http_client	*c = x->c;
	long			 code = 0;
	double			 ra;

	x->cres = cres;
	if (cres == CURLE_FILESIZE_EXCEEDED)
		x->over_cap = 1;
	if (x->over_cap) {
		/* a partial answer is no answer: give its memory back now */
		buf_free(&x->resp->body);
		x->resp->status = 0;
		x->resp->retryable = 0;
		return;
	}
	if (cres == CURLE_OK) {
		curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
		x->resp->status = code;
	} else
		x->resp->status = 0;
	x->resp->retryable = retry_may_help(x);
	if (x->resp->status == 429) {
		c->st.status_429++;
		/* pauses for Retry-After, lowers the shared rate (once a burst) */
		ra = x->resp->retry_after;
		ratelimit_throttle_sent(c->rl,
		    ra > c->max_backoff ? c->max_backoff : ra, x->sent_at);
	}
}

/* Seconds to wait before the next attempt, or -1 when this one is final. */
static double
retry_verdict(struct xfer *x)
{
	struct http_client	*c = x->c;
	double			 w, u;
	int			 n = x->resp->attempts;	/* retry number */

	if (n > c->retries || !x->resp->retryable)
		return -1;
	u = (double)arc4random() / 4294967296.0;	/* fork-safe */
	w = c->backoff * ldexp(1.0, n - 1) * (0.75 + 0.5 * u);
	if (x->resp->retry_after > w)
		w = x->resp->retry_after;
	if (w > c->max_backoff)
		w = c->max_backoff;
	return w;
}

static const char *
reason_phrase(long s)
{
	static const struct { long s; const char *r; } tab[] = {
		{ 301, "Moved Permanently" }, { 302, "Found" },
		{ 304, "Not Modified" }, { 400, "Bad Request" },
		{ 401, "Unauthorized" }, { 403, "Forbidden" },
		{ 404, "Not Found" }, { 405, "Method Not Allowed" },
		{ 408, "Request Timeout" }, { 409, "Conflict" },
		{ 413, "Content Too Large" }, { 422, "Unprocessable Entity" },
		{ 429, "Too Many Requests" }, { 500, "Internal Server Error" },
		{ 501, "Not Implemented" }, { 502, "Bad Gateway" },
		{ 503, "Service Unavailable" }, { 504, "Gateway Timeout" },
	};
	size_t	 i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (tab[i].s == s)
			return tab[i].r;
	return "";
}

/*
 * The start of an error body as one short line: tags dropped (and the
 * text of <script>/<style>), control bytes and runs of blanks made one
 * space, cut at ERROR_BODY_MAX bytes on a UTF-8 boundary.  The body is
 * redacted whole first, so the cut cannot leave half a secret.
 */
static void
body_snippet(const struct http_response *r, struct buf *out)
{
	char		*red, *p;
	int		 html, space = 0;
	size_t		 start = out->len;

	red = redact(r->body.data != NULL ? r->body.data : "");
	p = red + strspn(red, " \t\r\n");
	html = strcasestr(r->content_type, "html") != NULL || *p == '<';
	for (; *p != '\0' && out->len - start <= ERROR_BODY_MAX; p++) {
		if (html && *p == '<') {
			int skip = strncasecmp(p, "<script", 7) == 0 ?
			    1 : strncasecmp(p, "<style", 6) == 0 ? 2 : 0;
			char *e;

			if (skip == 1 && (e = strcasestr(p, "</script")) != NULL)
				p = e;
			else if (skip == 2 &&
			    (e = strcasestr(p, "</style")) != NULL)
				p = e;
			if ((e = strchr(p, '>')) == NULL)
				break;
			p = e;
			space = 1;
			continue;
		}
		if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == ' ') {
			space = 1;
			continue;
		}
		if (space && out->len > start)
			buf_append(out, " ", 1);
		space = 0;
		buf_append(out, p, 1);
	}
	if (out->len - start > ERROR_BODY_MAX) {
		size_t cut = start + ERROR_BODY_MAX;

		while (cut > start && (out->data[cut] & 0xc0) == 0x80)
			cut--;		/* not inside a UTF-8 sequence */
		out->len = cut;
		out->data[cut] = '\0';
		buf_appends(out, "...");
	}
	free(red);
}

/* A TLS failure: the message names the server and the way out (--cacert). */
static int
tls_failure(CURLcode e)
{
	return e == CURLE_PEER_FAILED_VERIFICATION ||
	    e == CURLE_SSL_CONNECT_ERROR || e == CURLE_SSL_CACERT_BADFILE ||
	    e == CURLE_SSL_CERTPROBLEM || e == CURLE_SSL_ISSUER_ERROR;
}

/* Appends host[:port] of url, without scheme, user info or path. */
static void
url_host(struct buf *b, const char *url)
{
	const char	*p = strstr(url, "://"), *end, *at;

	p = p != NULL ? p + 3 : url;
	end = p + strcspn(p, "/?#");
	for (at = p; at < end; at++)
		if (*at == '@')
			p = at + 1;
	buf_append(b, p, (size_t)(end - p));
}

/* Fills resp->error for a final outcome that is not 2xx. */
static void
set_error(struct xfer *x, const char *why)
{
	struct http_response	*r = x->resp;
	struct buf		 b = BUF_INIT;
	int			 n = r->attempts;

	buf_printf(&b, "%s: %s %s: ", x->c->name, x->method, x->path);
	if (why != NULL)
		buf_appends(&b, why);
	else if (x->over_cap)
		buf_printf(&b, "answer over the %zu %s cap for %s answers",
		    x->c->max_body >= (1 << 20) ? x->c->max_body >> 20 :
		    x->c->max_body, x->c->max_body >= (1 << 20) ? "MiB" : "byte",
		    x->c->name);
	else if (r->status > 0)
		buf_printf(&b, "%ld %s", r->status,
		    x->reason[0] != '\0' ? x->reason : reason_phrase(r->status));
	else {
		buf_appends(&b, x->errbuf[0] != '\0' ? x->errbuf :
		    curl_easy_strerror(x->cres));
		if (tls_failure(x->cres)) {
			buf_appends(&b, " (TLS with ");
			url_host(&b, x->c->base_url);
			buf_appends(&b, "; --cacert FILE trusts a private CA)");
		}
	}
	while (b.len > 0 && b.data[b.len - 1] == ' ')
		b.data[--b.len] = '\0';
	buf_printf(&b, " after %d attempt%s", n, n == 1 ? "" : "s");
	if (why == NULL && r->status > 0 && r->body.len > 0) {
		buf_appends(&b, ": ");
		body_snippet(r, &b);
	}
	redact_into(r->error, sizeof(r->error), b.data);
	buf_free(&b);
}

static void
log_retry(const struct xfer *x, double w)
{
	char	 what[CURL_ERROR_SIZE + 16];

	if (log_get_level() < LOG_DEBUG)
		return;
	if (x->resp->status > 0)
		snprintf(what, sizeof(what), "%ld", x->resp->status);
	else
		snprintf(what, sizeof(what), "%s", x->errbuf[0] != '\0' ?
		    x->errbuf : curl_easy_strerror(x->cres));
	log_debug("%s: %s %s: %s, retry %d/%d in %.2f s", x->c->name,
	    x->method, x->path, what, x->resp->attempts, x->c->retries, w);
}

/* Final bookkeeping shared by both paths; returns the status to report. */
static long
xfer_final(struct xfer *x, int was_cancelled)
{
	if (was_cancelled) {
		set_error(x, "cancelled");
		x->c->st.failures++;
		return -1;
	}
	if (http_ok(x->resp->status))
		return x->resp->status;
	set_error(x, NULL);
	x->c->st.failures++;
	return x->resp->status > 0 ? x->resp->status : -1;
}

/* ------------------------------------------------------ synchronous */

long
http_request(struct http_client *c, const char *method, const char *path,
    const char *const *extra_headers, const char *body, size_t body_len,
    struct http_response *resp)
{
	struct xfer	 x;
	double		 w;
	long		 rc;
	int		 stop = 0;

	xfer_init(&x, c, method, path, extra_headers, body, body_len, resp);
	for (;;) {
		if (take_token(c->rl) == -1) {
			stop = 1;
			break;
		}
		xfer_prepare(&x, c->easy);
		attempt_done(&x, curl_easy_perform(c->easy));
		if ((w = retry_verdict(&x)) < 0)
			break;
		c->st.retries++;
		log_retry(&x, w);
		if (nap(w) == -1) {
			stop = 1;
			break;
		}
	}
	rc = xfer_final(&x, stop);
	xfer_free(&x);
	return rc;
}

/* ---------------------------------------------------------- multi */

struct http_multi *
http_multi_new(struct http_client *c, int max_in_flight)
{
	struct http_multi	*hm;

	hm = xcalloc(1, sizeof(*hm));
	if ((hm->m = curl_multi_init()) == NULL) {
		log_error("%s: curl_multi_init failed", c->name);
		free(hm);
		return NULL;
	}
	hm->c = c;
	hm->max = max_in_flight > 0 ? max_in_flight : 1;
	hm->pool = xcalloc((size_t)hm->max, sizeof(*hm->pool));
	TAILQ_INIT(&hm->waiting);
	TAILQ_INIT(&hm->running);
	/* politeness towards one host, and room to keep every connection */
	curl_multi_setopt(hm->m, CURLMOPT_MAX_HOST_CONNECTIONS, (long)hm->max);
	curl_multi_setopt(hm->m, CURLMOPT_MAXCONNECTS, (long)hm->max);
	return hm;
}

void
http_multi_add(struct http_multi *hm, const char *method, const char *path,
    const char *const *extra_headers, const char *body, size_t body_len,
    http_done_fn fn, void *arg)
{
	struct xfer	*x;

	x = xmalloc(sizeof(*x));
	xfer_init(x, hm->c, method, path, extra_headers, NULL, 0, &x->own);
	x->resp = &x->own;
	if (body != NULL) {
		x->body_copy = xmalloc(body_len + 1);
		memcpy(x->body_copy, body, body_len);
		x->body_copy[body_len] = '\0';
		x->body = x->body_copy;
		x->body_len = body_len;
	}
	x->fn = fn;
	x->arg = arg;
	TAILQ_INSERT_TAIL(&hm->waiting, x, entry);
	hm->pending++;
}

size_t
http_multi_pending(const struct http_multi *hm)
{
	return hm->pending;
}

/*
 * Starts waiting transfers whose timer is due while slots and tokens
 * last.  Returns seconds until something more could start, or -1 when
 * only a finished transfer can change that.
 */
static double
multi_start(struct http_multi *hm)
{
	struct xfer	*x, *next;
	CURL		*easy;
	double		 now, w, soonest = -1;

	now = now_monotonic();
	for (x = TAILQ_FIRST(&hm->waiting); x != NULL; x = next) {
		next = TAILQ_NEXT(x, entry);
		if (hm->in_flight >= hm->max)
			return -1;
		if (x->not_before > now) {
			w = x->not_before - now;
			if (soonest < 0 || w < soonest)
				soonest = w;
			continue;
		}
		if (!ratelimit_try(hm->c->rl, &w))
			return w;
		if (hm->npool > 0)
			easy = hm->pool[--hm->npool];
		else
			easy = xnonnull(curl_easy_init());	/* fails only on OOM */
		TAILQ_REMOVE(&hm->waiting, x, entry);
		xfer_prepare(x, easy);
		curl_multi_add_handle(hm->m, easy);
		TAILQ_INSERT_TAIL(&hm->running, x, entry);
		hm->in_flight++;
	}
	return soonest;
}

static void
multi_release(struct http_multi *hm, struct xfer *x)
{
	curl_multi_remove_handle(hm->m, x->easy);
	if (hm->npool < hm->max)
		hm->pool[hm->npool++] = x->easy;
	else
		curl_easy_cleanup(x->easy);
	x->easy = NULL;
	TAILQ_REMOVE(&hm->running, x, entry);
	hm->in_flight--;
}

/*
 * Handles finished transfers; returns how many finished.  A callback may
 * queue more requests with http_multi_add (they join the waiting list);
 * it must not call http_multi_run or http_multi_free.
 */
static int
multi_collect(struct http_multi *hm)
{
	CURLMsg		*msg;
	struct xfer	*x;
	double		 w;
	long		 rc;
	int		 left, n = 0;

	while ((msg = curl_multi_info_read(hm->m, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &x);
		attempt_done(x, msg->data.result);
		multi_release(hm, x);
		n++;
		if ((w = retry_verdict(x)) >= 0) {
			hm->c->st.retries++;
			log_retry(x, w);
			x->not_before = now_monotonic() + w;
			TAILQ_INSERT_TAIL(&hm->waiting, x, entry);
			continue;
		}
		hm->pending--;
		rc = xfer_final(x, 0);
		if (x->fn != NULL)
			x->fn(x->arg, rc, x->resp);
		xfer_free(x);
		free(x);
	}
	return n;
}

size_t
http_multi_run(struct http_multi *hm, int timeout_ms)
{
	double	 deadline, next, left;
	int	 running, wait_ms;

	deadline = timeout_ms < 0 ? -1 : now_monotonic() + timeout_ms / 1000.0;
	while (hm->pending > 0 && !cancelled()) {
		next = multi_start(hm);
		curl_multi_perform(hm->m, &running);
		if (multi_collect(hm) > 0)
			continue;	/* slots freed: refill before waiting */
		if (hm->pending == 0)
			break;
		wait_ms = (int)(NAP_SLICE * 1000);	/* cancel checks */
		if (next >= 0 && next * 1000 < wait_ms)
			wait_ms = (int)(next * 1000) + 1;
		if (deadline >= 0) {
			if ((left = deadline - now_monotonic()) <= 0)
				break;
			if (left * 1000 < wait_ms)
				wait_ms = (int)(left * 1000) + 1;
		}
		curl_multi_poll(hm->m, NULL, 0, wait_ms, NULL);
		if (deadline >= 0 && now_monotonic() >= deadline) {
			curl_multi_perform(hm->m, &running);
			multi_collect(hm);
			break;
		}
	}
	return hm->pending;
}

/* Lowers *ms (-1: none yet) to w (-1: no limit). */
static void
min_wait(int *ms, long w)
{
	if (w >= 0 && (*ms < 0 || w < *ms))
		*ms = w > INT_MAX ? INT_MAX : (int)w;
}

/*
 * curl_multi_poll() waits on one multi handle's sockets plus extra
 * descriptors: the first busy multi is polled, the sockets of the others
 * (curl_multi_fdset: curl 7.88 has no curl_multi_waitfds) and the
 * caller's descriptors ride along as extras. The sleep is capped at
 * WAIT_CAP so a signal landing just before it still stops us soon.
 */
#define WAIT_CAP	1000	/* ms */
#define WAIT_FDS	256

void
http_multi_wait(struct http_multi *const *hms, size_t n, struct pollfd *pfd,
    unsigned int npfd, int timeout_ms)
{
	struct curl_waitfd	 fds[WAIT_FDS];
	struct http_multi	*first = NULL, *hm;
	fd_set			 r, w, e;
	double			 next;
	long			 ct;
	unsigned int		 nfds = 0, i;
	size_t			 k;
	int			 maxfd, fd, ms = WAIT_CAP;

	min_wait(&ms, timeout_ms);
	for (i = 0; i < npfd; i++)
		pfd[i].revents = 0;
	if (cancelled())
		return;
	for (i = 0; i < npfd && nfds < WAIT_FDS; i++) {
		fds[nfds].fd = pfd[i].fd;
		fds[nfds].events = (short)((pfd[i].events & POLLIN ?
		    CURL_WAIT_POLLIN : 0) | (pfd[i].events & POLLOUT ?
		    CURL_WAIT_POLLOUT : 0));
		fds[nfds++].revents = 0;
	}
	for (k = 0; k < n; k++) {
		if ((hm = hms[k]) == NULL || hm->pending == 0)
			continue;
		/* due requests go on the wire; else when the next one may */
		if ((next = multi_start(hm)) >= 0)
			min_wait(&ms, (long)(next * 1000) + 1);
		if (curl_multi_timeout(hm->m, &ct) == CURLM_OK)
			min_wait(&ms, ct);
		if (first == NULL) {
			first = hm;
			continue;
		}
		FD_ZERO(&r);
		FD_ZERO(&w);
		FD_ZERO(&e);
		maxfd = -1;
		curl_multi_fdset(hm->m, &r, &w, &e, &maxfd);
		for (fd = 0; fd <= maxfd && nfds < WAIT_FDS; fd++) {
			fds[nfds].fd = fd;
			fds[nfds].events = (short)((FD_ISSET(fd, &r) ?
			    CURL_WAIT_POLLIN : 0) | (FD_ISSET(fd, &w) ?
			    CURL_WAIT_POLLOUT : 0) | (FD_ISSET(fd, &e) ?
			    CURL_WAIT_POLLPRI : 0));
			fds[nfds].revents = 0;
			if (fds[nfds].events != 0)
				nfds++;
		}
	}
	if (first != NULL)
		curl_multi_poll(first->m, fds, nfds, ms, NULL);
	else if (npfd > 0)
		poll(pfd, npfd, ms);
	else if (ms > 0)
		nap(ms / 1000.0);
	if (first == NULL)
		return;
	for (i = 0; i < npfd && i < nfds; i++)
		pfd[i].revents = (short)((fds[i].revents & CURL_WAIT_POLLIN ?
		    POLLIN : 0) | (fds[i].revents & CURL_WAIT_POLLOUT ?
		    POLLOUT : 0));
}

void
http_multi_free(struct http_multi *hm)
{
	struct xfer	*x;
	int		 i;

	if (hm == NULL)
		return;
	while ((x = TAILQ_FIRST(&hm->running)) != NULL) {
		curl_multi_remove_handle(hm->m, x->easy);
		curl_easy_cleanup(x->easy);
		TAILQ_REMOVE(&hm->running, x, entry);
		xfer_free(x);
		free(x);
	}
	while ((x = TAILQ_FIRST(&hm->waiting)) != NULL) {
		TAILQ_REMOVE(&hm->waiting, x, entry);
		xfer_free(x);
		free(x);
	}
	for (i = 0; i < hm->npool; i++)
		curl_easy_cleanup(hm->pool[i]);
	free(hm->pool);
	curl_multi_cleanup(hm->m);
	free(hm);
}

/* ---------------------------------------------------------- escaping */

char *
http_escape(const char *s)
{
	static const char	 hex[] = "0123456789ABCDEF";
	struct buf		 b = BUF_INIT;
	const unsigned char	*p;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' ||
		    *p == '_' || *p == '~')
			buf_append(&b, p, 1);
		else {
			char e[3] = { '%', hex[*p >> 4], hex[*p & 15] };

			buf_append(&b, e, 3);
		}
	}
	if (b.data == NULL)
		return xstrdup("");
	return buf_release(&b, NULL);
}
