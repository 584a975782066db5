/* enrich.h: meta-enrich's internal API, grouped by module (one banner per file). */
#ifndef PLEXPIPE_ENRICH_H
#define PLEXPIPE_ENRICH_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "strutil.h"	/* strp_cmp, for the lookup files */

struct json_object;
struct cache;
struct breaker;
struct http_client;
struct http_response;
struct ratelimit;
struct enrich_ctx;
struct enrich_engine;
struct enrich_worker;
struct pollfd;

/* --- options (meta-enrich.c) ------------------------------------------ */

struct enrich_opts {
	int			 workers;		/* -j */
	int			 batch_size;		/* bare items per
							   batch */
	const char		*tmdb_key;		/* NULL: no TMDb key */
	const char		*tmdb_url;
	const char		*imdb_url;
	double			 tmdb_rps;
	long long		 imdb_per_window;	/* 0: no IMDb
							   throttle */
	double			 imdb_window;
	int			 imdb_max_retries;
	int			 max_in_flight;		/* per worker and
							   service */
	double			 imdb_backoff;
	const char		*imdb_queue;
	const char		*imdb_cache;		/* legacy
							   imdb_cache.json to
							   import */
	const char		*cache_dir;
	long long		 cache_ttl;
	int			 offline;
	int			 no_tmdb;
	int			 no_imdb;
	const char		*dense_model;
	const char		*sparse_model;
	const char		*reject_file;
	int			 strict;
	int			 insecure;		/* --insecure: TLS
							   unverified */
	const char		*cacert;		/* --cacert FILE */
	struct ratelimit	*tmdb_rl;		/* shared by every
							   worker */
	struct ratelimit	*imdb_rl;
	struct breaker		*tmdb_br;		/* shared by every
							   worker */
	struct breaker		*imdb_br;
	struct breaker		*cache_br;		/* down: cache writes
							   failed, none more */
};

/* --- circuit breaker per service (breaker.c) -------------------------- */

#define ENRICH_BREAKER_THRESHOLD	5	/* failed attempts in a row */

/* Made before fork (shared memory). threshold <= 0: never opens. NULL on failure. */
struct breaker *breaker_new(const char *name, int threshold);
void	 breaker_free(struct breaker *);	/* accepts NULL */
/* 1 once the service is down for the rest of the run (NULL: 0). */
int	 breaker_is_down(const struct breaker *);
/* Counts a failed attempt; 1 when this call opened the breaker. */
int	 breaker_fail(struct breaker *);
/* Opens it at once (a cache that cannot be written); 1 for the call that did. */
int	 breaker_trip(struct breaker *);
/* An answer came: the count of failures in a row starts again. */
void	 breaker_ok(struct breaker *);
/* 1 for the first caller of the run, across processes, per bit. */
int	 breaker_once(struct breaker *, int bit);
const char *breaker_name(const struct breaker *);

#define BREAKER_ONCE_STALE	0x1	/* the stale-answer warning */

/* --- statistics (stats.c) --------------------------------------------- */

enum enrich_stat {
	ST_ITEMS,		/* Plex items turned into points */
	ST_SKIPPED,		/* items of a type we do not index */
	ST_WITH_TMDB,		/* points with TMDb data */
	ST_WITH_IMDB,		/* points with IMDb data */
	ST_TMDB_REQUESTS,
	ST_TMDB_FAILURES,	/* items left without TMDb after retries */
	ST_TMDB_NOT_FOUND,
	ST_IMDB_REQUESTS,
	ST_IMDB_FAILURES,
	ST_IMDB_QUEUED,
	ST_CACHE_HITS,
	ST_CACHE_MISSES,
	ST_CACHE_WRITES,
	ST_OFFLINE_MISSES,
	ST_STALE_SERVED,	/* items given an expired answer */
	ST_TMDB_STALE,
	ST_IMDB_STALE,
	ST_DEGRADED,		/* items a failed lookup left without data */
	ST_TMDB_DEGRADED,
	ST_IMDB_DEGRADED,
	ST_NSTATS
};

struct enrich_stats {
	uint64_t	 v[ST_NSTATS];
};

const char *enrich_stat_name(enum enrich_stat);

/* --- per-process enrichment context (context.c) ----------------------- */

struct enrich_ctx {
	const struct enrich_opts	*o;
	struct cache			*cache;
	struct http_client		*tmdb;		/* NULL: TMDb answers
							   from the cache
							   only */
	struct http_client		*imdb;		/* NULL: IMDb answers
							   from the cache
							   only */
	int				 use_tmdb;	/* TMDb data wanted
							   (cache or network) */
	int				 use_imdb;
	char				 tmdb_auth_query[64];	/* "api_key=..."
								   for a v3 key,
								   else "" */
	struct enrich_stats		 st;
	char				**queue;	/* IMDb ids that still
							   fail: for the retry
							   queue */
	size_t				 nqueue;
	struct enrich_engine		*eng;		/* requests in flight
							   (call.c) */
	int				 hints_only;	/* the look-ahead: its
							   failures are the
							   workers' to report */
	int				 fatal;		/* a TMDb 401: stop the
							   run, exit 2 */
	char				 fatal_msg[256];
	struct {			/* counters already added to st, so */
		unsigned long	 tmdb_requests;	/* sync adds only what is new */
		unsigned long	 imdb_requests;
		unsigned long	 cache_hits, cache_misses, cache_writes;
	} seen;
};

/* Builds HTTP clients (unless offline / disabled) and opens the cache. */
int	 enrich_ctx_init(struct enrich_ctx *, const struct enrich_opts *);
void	 enrich_ctx_free(struct enrich_ctx *);
/* Adds the HTTP and cache counters since the last call into ctx->st. */
void	 enrich_ctx_sync_stats(struct enrich_ctx *);
void	 enrich_ctx_queue_id(struct enrich_ctx *, const char *id);

/* --- API requests with retries and the breaker, concurrently (call.c) - */

enum enrich_svc { SVC_TMDB, SVC_IMDB };

#define ENRICH_TMDB_RETRIES	3
#define ENRICH_TMDB_BACKOFF	0.5	/* s, doubling */
#define ENRICH_DOWN		(-2L)	/* the breaker is open, or stopping */
#define ENRICH_MAX_IN_FLIGHT	8	/* default per worker and service */
#define ENRICH_RL_START		16.0	/* tokens/s: slow start, no rate set */

/*
 * st is the final status (>0), -1 when no answer came, or ENRICH_DOWN
 * when the service is down for the rest of the run or the run is
 * stopping (no request made). resp->error says why whenever st is not
 * 2xx; resp is valid only during the call.
 */
typedef void (*enrich_done_fn)(struct enrich_ctx *, void *arg, long st,
	    const struct http_response *resp);
/* Runs with the cache lock on a key held (token for cache_unlock, or -1). */
typedef void (*enrich_locked_fn)(struct enrich_ctx *, void *arg, int token);

/*
 * GET path on the service's client with its retries, at most
 * o->max_in_flight at once per service, sharing the token buckets; fn
 * runs from enrich_run() (at once when no request is made). fn may start
 * more requests and lock waits.
 */
void	 enrich_get(struct enrich_ctx *, enum enrich_svc, const char *path,
	    enrich_done_fn fn, void *arg);
/* Takes the cache lock on key without blocking the others in flight. */
void	 enrich_lock(struct enrich_ctx *, const char *key, enrich_locked_fn,
	    void *arg);
/* Drives requests, retries and lock waits until none is left. */
void	 enrich_run(struct enrich_ctx *);
/*
 * One turn of enrich_run that also sleeps on fds (poll(2) events, their
 * revents set), at most max_ms (-1: no limit): for a process that reads
 * a pipe while its requests run. 1 while requests or lock waits pend.
 */
int	 enrich_step(struct enrich_ctx *, struct pollfd *fds,
	    unsigned int nfds, int max_ms);
void	 enrich_engine_free(struct enrich_ctx *);

/* --- cache lookups with per-key locks (fetch.c) ----------------------- */

enum src_result {
	SRC_OK,		/* *out holds the answer (a new reference) */
	SRC_NOTFOUND,	/* known not found (cached null or a 404) */
	SRC_MISS,	/* not cached and not allowed to fetch */
	SRC_FAIL,	/* fetch failed after retries */
	SRC_FATAL	/* fetch hit a condition that stops the run (ctx->fatal) */
};

/* Cache only: SRC_OK, SRC_NOTFOUND or SRC_MISS. */
enum src_result enrich_cache_lookup(struct enrich_ctx *, const char *key,
	    struct json_object **out);
/*
 * After a failed refresh (or with the service down): the cached answer of
 * any age. Adds ENRICH_STALE to *flags when there is one (SRC_OK or
 * SRC_NOTFOUND), else ENRICH_FAILED (SRC_MISS). Warns once per service.
 */
#define ENRICH_STALE	0x1	/* an expired answer was used */
#define ENRICH_FAILED	0x2	/* a lookup failed with nothing cached */
enum src_result enrich_cache_stale(struct enrich_ctx *, enum enrich_svc,
	    const char *key, struct json_object **out, unsigned *flags);
/* Stores text (or "null" when json is NULL) under key. */
void	 enrich_cache_store(struct enrich_ctx *, const char *key,
	    struct json_object *json);

/* --- external ids (guids.c) ------------------------------------------- */

struct ext_ids {
	char		 imdb[24];	/* "tt0113277" or "" */
	int64_t		 tmdb;		/* 0: none */
	int64_t		 tvdb;		/* 0: none */
	int64_t		 show_tvdb;	/* a legacy thetvdb://SHOW/S/E episode guid */
};

/* Reads Guid[] and, for legacy agents, guid. Returns how many ids were found. */
int	 enrich_ext_ids(struct json_object *plex, struct ext_ids *);
/* Parses one "imdb://tt1"/"tmdb://2"/legacy guid string into ids. 1 if one was found. */
int	 enrich_parse_guid(const char *, struct ext_ids *);
int	 enrich_valid_imdb_id(const char *);

/* --- Plex item to data.plex (plex_item.c) ----------------------------- */

/* The aggregated PlexItem of DESIGN.md 3, every field present. */
struct json_object *enrich_plex_item(struct json_object *plex,
	    const struct ext_ids *);

/* --- season resolution (season.c) ------------------------------------- */

/*
 * DESIGN.md 3: the TMDb season number for a Plex season: same
 * season_number; else a name match; else a year; else parentIndex.
 * tmdb_show may be NULL (then parentIndex). Returns -1 when nothing is known.
 */
int64_t	 enrich_resolve_season(struct json_object *tmdb_show, int has_index,
	    int64_t parent_index, const char *parent_title);

/* --- one item through enrichment (item.c) ----------------------------- */

enum tmdb_kind { TK_NONE, TK_MOVIE, TK_SHOW, TK_EPISODE };

struct enrich_item {
	struct json_object	*plex;		/* borrowed Plex metadata */
	struct json_object	*show;		/* borrowed show metadata, or
						   NULL */
	const char		*type;		/* "movie", "episode", "show" */
	struct ext_ids		 ids;
	struct ext_ids		 show_ids;
	int			 has_season, has_episode;
	int64_t			 season, episode;	/* parentIndex, index */
	int64_t			 show_tmdb;	/* series id, 0 unknown */
	int64_t			 tmdb_season;	/* resolved TMDb season, -1
						   unknown */
	struct json_object	*imdb;		/* owned: imdbapi title */
	struct json_object	*tmdb;		/* owned: TMDb
						   movie/show/episode */
	enum tmdb_kind		 tmdb_kind;
	unsigned		 tmdb_flags;	/* ENRICH_STALE,
						   ENRICH_FAILED */
	unsigned		 imdb_flags;
};

/* --- TMDb (tmdb.c) ---------------------------------------------------- */

/*
 * Fills items[i].tmdb for a batch with the fewest calls (DESIGN.md 4):
 * start, enrich_run() (which may run IMDb's lookups too), finish. The
 * items stay in place until finish.
 */
struct tmdb_batch;
struct tmdb_batch *enrich_tmdb_start(struct enrich_ctx *, struct enrich_item *,
	    size_t);
void	 enrich_tmdb_finish(struct tmdb_batch *);	/* accepts NULL */

/* --- IMDb (imdb.c) ---------------------------------------------------- */

/*
 * Makes sure every id has a cache entry (title or null) when possible:
 * titles:batchGet with at most 5 ids, 400 split in halves, 429 backed
 * off; ids still failing go to ctx->queue. Returns how many failed.
 */
size_t	 enrich_imdb_fetch(struct enrich_ctx *, char **ids, size_t n);
/*
 * The same started and left to enrich_step: the ids (borrowed until
 * _end) are fetched into the cache only. _done: nothing left to do.
 */
struct imdb_job;
struct imdb_job *enrich_imdb_fetch_start(struct enrich_ctx *, char **ids,
	    size_t n);
int	 enrich_imdb_fetch_done(const struct imdb_job *);
size_t	 enrich_imdb_fetch_end(struct imdb_job *);
/* Fills items[i].imdb for a batch (fetching what is missing): as TMDb's. */
struct imdb_batch;
struct imdb_batch *enrich_imdb_start(struct enrich_ctx *, struct enrich_item *,
	    size_t);
void	 enrich_imdb_finish(struct imdb_batch *);	/* accepts NULL */

/* --- the IMDb look-ahead child (lookahead.c) -------------------------- */

/*
 * Forked by the parent after its workers (ws): fetches the IMDb ids it is
 * given into the cache ahead of the workers. NULL when there is nothing
 * to look ahead for (--no-imdb, --offline) or it cannot start; every
 * call accepts NULL.
 */
#define LOOKAHEAD_NAME	"meta-enrich-la"	/* its process name (comm) */

struct lookahead;
struct lookahead *lookahead_start(const struct enrich_opts *,
	    const struct enrich_worker *ws, int nw);
/* Queues an id (held in memory, bounded; dropped when full). */
void	 lookahead_hint(struct lookahead *, const char *id);
/* Fills *pfd (POLLOUT on the pipe) when hints wait: 1, else 0. */
int	 lookahead_pollfd(const struct lookahead *, struct pollfd *);
/* Writes what the pipe takes now, never blocking. */
void	 lookahead_write(struct lookahead *);
/* No more hints: the child finishes those it has. */
void	 lookahead_input_done(struct lookahead *);
/* Stops the child (bounded wait), adds its counters to st, frees. */
void	 lookahead_stop(struct lookahead *, struct enrich_stats *st);

/* --- retry queue and legacy cache (imdb_queue.c) ---------------------- */

/*
 * Reads a JSON array of ids; a missing file is an empty queue. A file that
 * cannot be read is moved aside to PATH.bad with a warning (an empty
 * queue); -1 when it cannot be moved either: then it must not be written.
 */
int	 enrich_queue_load(const char *path, char ***ids, size_t *n);
/* Writes the de-duplicated ids (sorted) atomically. -1 on error. */
int	 enrich_queue_save(const char *path, char **ids, size_t n);
void	 enrich_ids_free(char **, size_t);
/* Imports {"tt1":{title}|null,...} into the cache; returns entries added or -1. */
long	 enrich_import_legacy_cache(struct enrich_ctx *, const char *path);

/* --- slugs and ids (slug.c, point_id.c) ------------------------------- */

/* Slug of a title (caller frees); "" when nothing alphanumeric is left. */
char	*enrich_slug(const char *);
/* UUIDv5 of the rating key in the plexpipe namespace, 37 bytes with NUL. */
void	 enrich_uuid5(const char *name, char out[37]);
/* The point id: an unsigned integer for an all-digit key, else a UUID string. */
struct json_object *enrich_point_id(const char *rating_key);

#define ENRICH_UUID_NAMESPACE	"6ba7b811-9dad-11d1-80b4-00c04fd430c8"	/* RFC 4122 URL */
#define ENRICH_UUID_PREFIX	"plex://rating-key/"

/* --- points (point_build.c, tmdb_model.c) ----------------------------- */

/* The TMDb part of data: the listed fields of DESIGN.md 3 only. */
struct json_object *enrich_tmdb_model(struct json_object *tmdb, enum tmdb_kind);
struct json_object *enrich_imdb_model(struct json_object *imdb);
/* Embedding text (caller frees). */
char	*enrich_embed_text(const struct enrich_item *);
/* One Qdrant PointStruct for an enriched item. */
struct json_object *enrich_point(const struct enrich_item *,
	    const char *dense_model, const char *sparse_model);

/* --- a batch (batch.c) ------------------------------------------------ */

/*
 * Turns a job ({"items":[...],"shows":{...}}) into the points record line
 * with the given seq; appends it to out. Returns 0, or -1 when the job is
 * not valid JSON (a bug: the parent checked it).
 */
int	 enrich_batch(struct enrich_ctx *, int64_t seq, const char *job,
	    size_t len, struct buf *out);

/* --- worker processes (worker.c, msg.c) ------------------------------- */

enum msg_type { MSG_JOB = 1, MSG_RESULT, MSG_FATAL };

struct msg_hdr {
	uint32_t	 type;
	uint32_t	 nstats;	/* uint64 counters after the header */
	int64_t		 seq;
	uint64_t	 len1;		/* job text / points line / message */
	uint64_t	 len2;		/* result: retry-queue ids, a JSON array */
};

int	 enrich_msg_send(int fd, const struct msg_hdr *, const uint64_t *stats,
	    const void *p1, const void *p2);

struct enrich_worker {
	pid_t		 pid;
	int		 to_fd;		/* parent writes jobs */
	int		 from_fd;	/* parent reads results */
	long		 unit;		/* ord of the batch it holds, -1 idle */
	struct buf	 rbuf;		/* partial result message */
};

/*
 * Forks worker `idx`. Pipes are O_CLOEXEC; the child closes the other
 * workers' ends and stdin/stdout, then runs proc_worker(). 0 or -1.
 */
int	 enrich_worker_start(struct enrich_worker *ws, int n, int idx,
	    const struct enrich_opts *);
__attribute__((__noreturn__))
void	 proc_worker(int in, int out, const struct enrich_opts *);
/*
 * In a child just forked from parent: dies with it, closes the workers'
 * ends but idx's (-1: all) and the one given to enrich_children_close,
 * puts /dev/null on stdin and stdout, ignores the stop signals and takes
 * SIGUSR1 as the parent's word to stop (signal_received).
 */
void	 enrich_child_setup(const struct enrich_worker *ws, int n, int idx,
	    pid_t parent);
void	 enrich_children_close(int fd);		/* -1: none */

/* --- the parent loop (dispatch.c) ------------------------------------- */

struct dispatch_result {
	int		 saw_end;
	int		 fatal;		/* exit status to use at once, 0 none */
	size_t		 rejects;
	uint64_t	 restarts;
	uint64_t	 batches;
	uint64_t	 points;
};

int	 enrich_dispatch(const struct enrich_opts *, struct enrich_stats *,
	    char ***queue, size_t *nqueue, struct dispatch_result *);

#endif
