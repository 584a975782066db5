/* http.h: the HTTP client every stage uses: libcurl, retries with backoff, rate limits, redaction. */
#ifndef PLEXPIPE_HTTP_H
#define PLEXPIPE_HTTP_H

#include <poll.h>
#include <signal.h>
#include <stddef.h>

#include "buf.h"

struct ratelimit;
struct http_client;
struct http_multi;

struct http_config {
	const char		 *name;		/* "plex", "tmdb", ...: prefixes messages */
	const char		 *base_url;	/* scheme://host[:port][/prefix], no trailing '/' needed */
	const char *const	 *headers;	/* NULL-terminated "Name: value" list sent on every request */
	long			  connect_timeout_ms;	/* 0: 10000 */
	long			  timeout_ms;	/* whole attempt; 0: 60000 */
	int			  retries;	/* attempts after the first; -1: 3 */
	double			  backoff;	/* first wait in s, doubling, +-25% jitter; 0: 0.5 */
	double			  max_backoff;	/* cap on one wait, also on Retry-After; 0: 30 */
	int			  insecure;	/* TLS verification off (explicit --insecure only) */
	const char		 *cacert;	/* CA bundle file, or NULL */
	struct ratelimit	 *rl;		/* taken before every attempt, or NULL */
	size_t			  max_body;	/* answer cap in bytes, after decoding; 0: HTTP_MAX_BODY_BULK */
	int			  retry_unsent_only;	/* see HTTP_RETRY_UNSENT below */
};

/*
 * Answer caps. A runaway or hostile answer, or a small gzip that decodes
 * to gigabytes, must not grow memory until the process dies: the cap
 * counts decoded bytes, and an answer over it fails at once (not
 * retried) with "answer over the N MiB cap". API answers (TMDb, IMDb,
 * embeddings) take HTTP_MAX_BODY_API; bulk ones (Plex metadata, Qdrant
 * scrolls) the default HTTP_MAX_BODY_BULK.
 */
#define HTTP_MAX_BODY_API	((size_t)16 << 20)
#define HTTP_MAX_BODY_BULK	((size_t)256 << 20)

/*
 * retry_unsent_only: for requests that must not run twice (an embeddings
 * POST is billed per call): retried only when they cannot have reached
 * the server (could not resolve or connect) or the server said so itself
 * (429, 503). A timeout, a dropped connection or another 5xx is final.
 */

/*
 * The outcome of one logical request (all its attempts). status is the
 * HTTP status of the last answer, 0 when the last attempt got no answer.
 * error is empty on 2xx, else a redacted one-line message naming the API,
 * method, path, status or curl error, attempts and up to 200 bytes of
 * the error body, e.g. "tmdb: GET /3/movie/9: 404 Not Found: {...}".
 */
struct http_response {
	long		 status;
	struct buf	 body;
	char		 content_type[128];
	double		 retry_after;	/* seconds from the last Retry-After, -1 when absent */
	int		 attempts;
	int		 retryable;	/* another attempt may mend the last (for callers that retry themselves) */
	char		 error[512];
};

/* The client copies the config strings. Returns NULL (and logs) on failure. */
struct http_client *http_client_new(const struct http_config *);
/* Changes the answer cap of a client (bytes after decoding; 0: the default). */
void	 http_client_set_max_body(struct http_client *, size_t);
void	 http_client_free(struct http_client *);

/*
 * One request, synchronously, with retries: transport errors (connect,
 * timeout, reset), 408, 429 and 5xx except 501 are retried up to
 * `retries` times, waiting max(backoff*2^n with jitter, Retry-After in
 * seconds or HTTP-date), capped at max_backoff. Other statuses are final.
 * path starts with '/' and may carry a query string; it is appended to
 * base_url as is (caller escapes). extra_headers: NULL-terminated or NULL.
 * body NULL for none. The response is reset first, then filled.
 * Returns the final status (>0), or -1 when no answer came (resp->error
 * says why). Stops early, returning -1, when the cancel flag is set.
 */
long	 http_request(struct http_client *, const char *method, const char *path,
	    const char *const *extra_headers, const char *body, size_t body_len,
	    struct http_response *);
void	 http_response_free(struct http_response *);	/* frees body; struct reusable */
int	 http_ok(long status);		/* 200..299 */

/*
 * Counters since the client was made: attempts sent, retries, and
 * logical requests that failed for good.
 */
struct http_stats {
	unsigned long	 requests;	/* attempts put on the wire */
	unsigned long	 retries;
	unsigned long	 failures;
	unsigned long	 status_429;
};
void	 http_client_stats(const struct http_client *, struct http_stats *);

/*
 * Cancellation: when *flag becomes non-zero (a signal handler sets it),
 * waits are cut short and no new attempt starts. The flag is signals.h's
 * signal_received unless set here (NULL: never cancelled).
 */
void	 http_set_cancel_flag(volatile sig_atomic_t *flag);

/*
 * Multi mode: many requests on one client, at most max_in_flight at once
 * (curl multi interface, keep-alive reuse), each retried as above on its
 * own timer. The callback runs inside http_multi_run() once per request
 * with its final outcome; resp is valid only during the callback.
 */
typedef void (*http_done_fn)(void *arg, long status, struct http_response *resp);

struct http_multi *http_multi_new(struct http_client *, int max_in_flight);
/* Queues a request; the body is copied. Never blocks. */
void	 http_multi_add(struct http_multi *, const char *method, const char *path,
	    const char *const *extra_headers, const char *body, size_t body_len,
	    http_done_fn, void *arg);
/*
 * Drives transfers for at most timeout_ms (-1: until nothing is pending).
 * Returns how many requests are still pending (queued, in flight or
 * waiting to retry).
 */
size_t	 http_multi_run(struct http_multi *, int timeout_ms);
size_t	 http_multi_pending(const struct http_multi *);
/*
 * For a caller that waits on other descriptors too (a pipe it reads):
 * sleeps until one of the n multis (NULL entries and idle ones are
 * ignored) has work -- a socket ready, a curl timer or a retry due --,
 * one of the nfds descriptors has an event (its revents is set, as by
 * poll(2)), a signal arrives, or timeout_ms passes (-1: no limit). It
 * moves no data: http_multi_run(hm, 0) on each multi then does the work
 * without blocking. One sleep per event, no polling in slices.
 */
void	 http_multi_wait(struct http_multi *const *, size_t n,
	    struct pollfd *fds, unsigned int nfds, int timeout_ms);
void	 http_multi_free(struct http_multi *);	/* aborts what is pending, no callbacks */

/* Escapes a string for a URL path segment or query value (caller frees). */
char	*http_escape(const char *);

/*
 * curl_global_init once per process; call from main() before forking
 * workers. 0, or -1 when libcurl cannot start (http_client_new then
 * fails too, with a message).
 */
int	 http_global_init(void);

#endif
