/* meta-enrich.c: main: options, shared rate limits, retry queue, then the ordered -jN worker pipeline. */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cache.h"
#include "enrich.h"
#include "exitcode.h"
#include "http.h"
#include "log.h"
#include "optable.h"
#include "opts.h"
#include "ratelimit.h"
#include "signals.h"
#include "statedir.h"
#include "timeutil.h"
#include "version.h"
#include "xalloc.h"

#define F(field)	offsetof(struct enrich_opts, field)

/*
 * Every option once: { long name, short, variable, parser, field, bounds,
 * default }, then its help lines (a later row for the same field wins in
 * the environment: a key file over a key).
 */
static const struct optdef options[] = {
	{ NULL, 0, NULL, OT_TEXT, 0, 0, 0, NULL, .help =
"Workers and batches:\n" },
	{ "enrichment-workers", 'j', "ENRICHMENT_WORKERS", OT_INT, F(workers), 1, 64, "4", .help =
"  -j, --enrichment-workers N   worker processes (1..64; env ENRICHMENT_WORKERS,\n"
"                               default 4)\n" },
	{ "enrichment-batch-size", 0, "ENRICHMENT_BATCH_SIZE", OT_INT, F(batch_size), 1, 10000, "100", .help =
"      --enrichment-batch-size N  bare items per batch (1..10000; env\n"
"                               ENRICHMENT_BATCH_SIZE, default 100)\n" },
	{ "max-in-flight", 0, "ENRICH_MAX_IN_FLIGHT", OT_INT, F(max_in_flight), 1, 256, "8", .help =
"      --max-in-flight N        requests a worker (or the IMDb look-ahead) has on\n"
"                               the wire at once, per service (1..256; env\n"
"                               ENRICH_MAX_IN_FLIGHT, default 8)\n"
"TMDb:\n" },
	{ "tmdb-api-key", 0, "TMDB_API_KEY", OT_SECRET, F(tmdb_key), 0, 0, NULL, .help =
"      --tmdb-api-key KEY       a 32-hex v3 key (sent as api_key=) or a v4 read\n"
"                               token (sent as a Bearer header); env TMDB_API_KEY.\n"
"                               Without one, TMDb data comes from the cache only\n" },
	{ "tmdb-api-key-file", 0, "TMDB_API_KEY_FILE", OT_SECRET_FILE, F(tmdb_key), 0, 0, NULL, .help =
"      --tmdb-api-key-file F    read the key from the first line of F\n"
"                               (env TMDB_API_KEY_FILE)\n" },
	{ "tmdb-url", 0, "TMDB_URL", OT_STRING, F(tmdb_url), 0, 0, "https://api.themoviedb.org", .help =
"      --tmdb-url URL           API root (env TMDB_URL, default\n"
"                               https://api.themoviedb.org)\n" },
	{ "tmdb-rps", 0, "TMDB_RPS", OT_DOUBLE, F(tmdb_rps), 0, 10000, "35", .help =
"      --tmdb-rps N             requests per second shared by all workers\n"
"                               (env TMDB_RPS, default 35; 0 = unlimited)\n" },
	{ "no-tmdb", 0, "META_ENRICH_NO_TMDB", OT_FLAG, F(no_tmdb), 1, 0, NULL, .help =
"      --no-tmdb                no TMDb data at all (env META_ENRICH_NO_TMDB)\n"
"IMDb (imdbapi.dev):\n" },
	{ "imdb-url", 0, "IMDB_URL", OT_STRING, F(imdb_url), 0, 0, "https://api.imdbapi.dev", .help =
"      --imdb-url URL           API root (env IMDB_URL, default\n"
"                               https://api.imdbapi.dev)\n" },
	{ "imdb-requests-per-window", 0, "IMDB_REQUESTS_PER_WINDOW", OT_LLONG, F(imdb_per_window), 0, 100000, NULL, .help =
"      --imdb-requests-per-window N  throttle: N requests per window, shared by\n"
"                               all workers (env IMDB_REQUESTS_PER_WINDOW, 0 = off,\n"
"                               the default)\n" },
	{ "imdb-window-seconds", 0, "IMDB_WINDOW_SECONDS", OT_DOUBLE, F(imdb_window), 0.001, 86400, "1", .help =
"      --imdb-window-seconds S  the window (env IMDB_WINDOW_SECONDS, default 1)\n" },
	{ "imdb-max-retries", 0, "IMDB_MAX_RETRIES", OT_INT, F(imdb_max_retries), 0, 20, "3", .help =
"      --imdb-max-retries N     retries after a 429 or 5xx (env IMDB_MAX_RETRIES,\n"
"                               default 3)\n" },
	{ "imdb-backoff", 0, "IMDB_BACKOFF", OT_DOUBLE, F(imdb_backoff), 0, 600, "1.0", .help =
"      --imdb-backoff S         first retry wait, doubling; Retry-After wins\n"
"                               (env IMDB_BACKOFF, default 1.0)\n" },
	{ "imdb-queue", 0, "IMDB_QUEUE", OT_STRING, F(imdb_queue), 0, 0, "imdb_queue.json", .flags = OTF_STATE, .help =
"      --imdb-queue FILE        ids that still fail are kept in FILE (a JSON array)\n"
"                               and retried first on the next run (env IMDB_QUEUE,\n"
"                               default STATE/imdb_queue.json)\n" },
	{ "imdb-cache", 0, "IMDB_CACHE", OT_STRING, F(imdb_cache), 0, 0, NULL, .help =
"      --imdb-cache FILE        import a legacy imdb_cache.json ({\"tt..\":title|null})\n"
"                               into the cache (env IMDB_CACHE)\n" },
	{ "no-imdb", 0, "META_ENRICH_NO_IMDB", OT_FLAG, F(no_imdb), 1, 0, NULL, .help =
"      --no-imdb                no IMDb data at all (env META_ENRICH_NO_IMDB)\n"
"Cache:\n" },
	/* the default, from XDG_CACHE_HOME or HOME, is set by main() */
	{ "cache-dir", 0, "META_ENRICH_CACHE_DIR", OT_STRING, F(cache_dir), 0, 0, NULL, .help =
"      --cache-dir DIR          one file per answer, \"not found\" included\n"
"                               (env META_ENRICH_CACHE_DIR, default\n"
"                               $XDG_CACHE_HOME/plexpipe or ~/.cache/plexpipe)\n" },
	{ "cache-ttl", 0, "META_ENRICH_CACHE_TTL", OT_DURATION, F(cache_ttl), 0, 0, "30d", .help =
"      --cache-ttl DURATION     refetch answers older than this (90s, 15m, 12h,\n"
"                               30d; 0 = never; env META_ENRICH_CACHE_TTL,\n"
"                               default 30d)\n" },
	{ "offline", 0, "META_ENRICH_OFFLINE", OT_FLAG, F(offline), 1, 0, NULL, .help =
"      --offline                the cache only, whatever its age; no request\n"
"                               (env META_ENRICH_OFFLINE)\n"
"Points:\n" },
	{ "dense-model", 0, "DENSE_MODEL", OT_STRING, F(dense_model), 0, 0, "BAAI/bge-small-en-v1.5", .help =
"      --dense-model NAME       env DENSE_MODEL, default BAAI/bge-small-en-v1.5\n" },
	{ "sparse-model", 0, "SPARSE_MODEL", OT_STRING, F(sparse_model), 0, 0, "Qdrant/bm25", .help =
"      --sparse-model NAME      env SPARSE_MODEL, default Qdrant/bm25\n"
"Input errors:\n" },
	{ "reject-file", 0, "META_ENRICH_REJECT_FILE", OT_STRING, F(reject_file), 0, 0, "meta-enrich-rejects.ndjson", .flags = OTF_STATE, .help =
"      --reject-file FILE       append bad records there as\n"
"                               {\"line\":N,\"error\":..,\"record\":..}\n"
"                               (env META_ENRICH_REJECT_FILE, default\n"
"                               STATE/meta-enrich-rejects.ndjson; '' keeps none)\n" },
	{ "strict", 0, "META_ENRICH_STRICT", OT_FLAG, F(strict), 1, 0, NULL, .help =
"      --strict                 stop at the first bad record, exit 3\n"
"                               (env META_ENRICH_STRICT)\n" },
	{ "list-options", 0, NULL, OT_CALLBACK, 0, 0, 0, NULL, .flags = OTF_NOARG | OTF_HIDDEN, .cb = optable_list },
};

static const char intro[] =
"Usage: meta-enrich [-j N] [options] < plex.ndjson > points.ndjson\n"
"\n"
"Reads plex batches (or bare Plex items, one per line) from stdin, adds TMDb\n"
"and IMDb metadata, and writes Qdrant points batches in input order, whatever\n"
"the number of workers. Other records pass through; the end record is\n"
"forwarded with this stage's counters.\n"
"\n";

static const char exit_text[] =
"\n"
"Exit status: 0 done; 1 fatal error, or items degraded (a TMDb or IMDb lookup\n"
"failed with nothing cached; every point is still written, marked \"degraded\");\n"
"2 usage error or TMDb key refused (401); 3 bad input with --strict; 4 done,\n"
"some records rejected; 5 the input had no end record (truncated upstream);\n"
"128+N killed by signal N.\n"
"Point ids: the rating key as an integer when it is all digits, else the UUIDv5\n"
"of \"plex://rating-key/KEY\" in the RFC 4122 URL namespace.\n";

static const struct optable optable = OPTABLE(options, intro, exit_text);

static char *
default_cache_dir(void)
{
	const char	*x = opt_env("XDG_CACHE_HOME"), *h = opt_env("HOME");
	char		*d;

	if (x != NULL)
		xasprintf(&d, "%s/plexpipe", x);
	else if (h != NULL)
		xasprintf(&d, "%s/.cache/plexpipe", h);
	else
		d = xstrdup(".plexpipe-cache");
	return d;
}

/* Retries the ids an earlier run could not get; returns those still failing. */
static void
retry_queue(const struct enrich_opts *o, struct enrich_stats *st,
    char ***left, size_t *nleft, int *had_file)
{
	struct enrich_ctx	 ctx;
	char			**ids;
	size_t			 n, i;
	long			 added;

	*left = NULL;
	*nleft = 0;
	*had_file = access(o->imdb_queue, F_OK) == 0;
	if (enrich_queue_load(o->imdb_queue, &ids, &n) == -1)
		*had_file = -1;	/* unreadable and still there: never written over */
	if (n == 0 && o->imdb_cache == NULL) {
		free(ids);
		return;
	}
	if (enrich_ctx_init(&ctx, o) == -1)
		exit(EXIT_FATAL);
	if (o->imdb_cache != NULL) {
		if ((added = enrich_import_legacy_cache(&ctx, o->imdb_cache)) < 0)
			exit(EXIT_USAGE);
		log_info("imported %ld IMDb entries from \"%s\"", added,
		    o->imdb_cache);
	}
	if (n > 0 && ctx.imdb != NULL) {
		log_info("retrying %zu IMDb ids from \"%s\"", n, o->imdb_queue);
		enrich_imdb_fetch(&ctx, ids, n);
		enrich_ids_free(ids, n);
		/* what still fails is in ctx.queue */
		*left = ctx.queue;
		*nleft = ctx.nqueue;
		ctx.queue = NULL;
		ctx.nqueue = 0;
	} else {
		*left = ids;
		*nleft = n;
	}
	enrich_ctx_sync_stats(&ctx);
	for (i = 0; i < ST_NSTATS; i++)
		st->v[i] += ctx.st.v[i];
	enrich_ctx_free(&ctx);
}

static void
summary(const struct enrich_stats *st, const struct dispatch_result *res,
    const struct enrich_opts *o, double secs)
{
	struct json_object	*s = json_object_new_object();
	char			 num[32], *where;
	int			 i;

	for (i = 0; i < ST_NSTATS; i++)
		json_object_object_add(s, enrich_stat_name(i),
		    json_object_new_int64((int64_t)st->v[i]));
	json_object_object_add(s, "batches",
	    json_object_new_int64((int64_t)res->batches));
	json_object_object_add(s, "rejected",
	    json_object_new_int64((int64_t)res->rejects));
	json_object_object_add(s, "worker_restarts",
	    json_object_new_int64((int64_t)res->restarts));
	json_object_object_add(s, "workers", json_object_new_int(o->workers));
	snprintf(num, sizeof(num), "%.3f", secs);
	json_object_object_add(s, "seconds", json_object_new_double_s(secs, num));
	snprintf(num, sizeof(num), "%.1f",
	    secs > 0 ? (double)st->v[ST_ITEMS] / secs : 0.0);
	json_object_object_add(s, "items_per_second",
	    json_object_new_double_s(atof(num), num));
	if (res->rejects > 0 && o->reject_file != NULL &&
	    *o->reject_file != '\0') {
		where = statedir_abspath(o->reject_file);
		json_object_object_add(s, "reject_file",
		    json_object_new_string(where));
		free(where);
	}
	log_summary(s);
	json_object_put(s);
}

/*
 * Items a failed lookup left without data: the run is not a success,
 * though every point was written. One line naming the services, which
 * plex-load quotes as the cause of the failure.
 */
static void
degraded_line(const struct enrich_stats *st)
{
	char	 what[128] = "";

	if (st->v[ST_DEGRADED] == 0)
		return;
	if (st->v[ST_TMDB_DEGRADED] > 0)
		snprintf(what, sizeof(what), "tmdb unreachable (%llu)",
		    (unsigned long long)st->v[ST_TMDB_DEGRADED]);
	if (st->v[ST_IMDB_DEGRADED] > 0)
		snprintf(what + strlen(what), sizeof(what) - strlen(what),
		    "%simdb unreachable (%llu)", what[0] ? ", " : "",
		    (unsigned long long)st->v[ST_IMDB_DEGRADED]);
	log_error("%llu items degraded: %s; their points are marked "
	    "\"degraded\" and do not replace stored ones",
	    (unsigned long long)st->v[ST_DEGRADED], what);
}

int
main(int argc, char *argv[])
{
	struct enrich_opts	 o;
	struct enrich_stats	 st;
	struct common_opts	 co;
	struct dispatch_result	 res;
	char			**queue = NULL, *cdir, *where;
	char			 cerr[PATH_MAX + 128];
	size_t			 nqueue = 0;
	int			 i, had_queue, rc;
	double			 t0 = now_monotonic();

	log_init("meta-enrich");
	memset(&o, 0, sizeof(o));
	memset(&st, 0, sizeof(st));
	o.cache_dir = cdir = default_cache_dir();
	i = optable_parse(&optable, &o, &co, argc, argv);
	if (i < argc)
		opt_usage_error("unexpected argument '%s' (the input is stdin)",
		    argv[i]);
	o.insecure = co.insecure;
	o.cacert = co.cacert;
	/* a cache the run cannot use is a configuration error: say so first */
	if (cache_check(o.cache_dir, !o.offline, cerr, sizeof(cerr)) == -1) {
		log_error("%s", cerr);
		exit(EXIT_USAGE);
	}
	if (!o.no_tmdb && !o.offline && o.tmdb_key == NULL)
		log_warn("no TMDb key (TMDB_API_KEY): TMDb data only from the "
		    "cache, no TMDb request");

	signals_install();
	http_global_init();
	/*
	 * Made before fork, so every worker draws from the same buckets;
	 * an unlimited one (rate 0) still slows down after 429s.
	 */
	if ((o.tmdb_rl = ratelimit_new(o.tmdb_rps, 1)) == NULL ||
	    (o.imdb_rl = ratelimit_new(o.imdb_per_window > 0 ?
	    (double)o.imdb_per_window / o.imdb_window : 0, 1)) == NULL) {
		log_error("rate limiter: %s", strerror(errno));
		exit(EXIT_FATAL);
	}
	/* no rate set: probe for the server's limit from a modest one */
	ratelimit_slow_start(o.tmdb_rl, ENRICH_RL_START);
	ratelimit_slow_start(o.imdb_rl, ENRICH_RL_START);
	if ((o.tmdb_br = breaker_new("tmdb", ENRICH_BREAKER_THRESHOLD)) == NULL ||
	    (o.imdb_br = breaker_new("imdb", ENRICH_BREAKER_THRESHOLD)) == NULL ||
	    (o.cache_br = breaker_new("cache", 0)) == NULL) {
		log_error("circuit breaker: %s", strerror(errno));
		exit(EXIT_FATAL);
	}
	if (!o.no_imdb && !o.offline)
		retry_queue(&o, &st, &queue, &nqueue, &had_queue);
	else
		had_queue = 0;

	rc = enrich_dispatch(&o, &st, &queue, &nqueue, &res);

	if (had_queue == -1 && nqueue > 0)
		log_error("%zu IMDb ids that still fail are not kept: \"%s\" is "
		    "left as it was", nqueue, o.imdb_queue);
	else if (!o.no_imdb && (nqueue > 0 || had_queue)) {
		if (nqueue > 0) {
			where = statedir_abspath(o.imdb_queue);
			log_warn("%zu IMDb ids kept in %s for the next run",
			    nqueue, where);
			free(where);
		}
		enrich_queue_save(o.imdb_queue, queue, nqueue);
	}
	enrich_ids_free(queue, nqueue);
	log_progress_done();
	summary(&st, &res, &o, now_monotonic() - t0);
	ratelimit_free(o.tmdb_rl);
	ratelimit_free(o.imdb_rl);
	breaker_free(o.tmdb_br);
	breaker_free(o.imdb_br);
	breaker_free(o.cache_br);
	free(cdir);
	optable_free();
	signals_reraise();
	if (rc != 0)
		return rc;
	if (res.rejects > 0) {
		if (o.reject_file != NULL && *o.reject_file != '\0') {
			where = statedir_abspath(o.reject_file);
			log_error("%zu bad records rejected; they are in %s "
			    "(jq -r .record gives the lines back)", res.rejects,
			    where);
			free(where);
		} else
			log_error("%zu bad records rejected (--reject-file '' "
			    "kept none)", res.rejects);
	}
	degraded_line(&st);
	if (!res.saw_end) {
		log_error("the input ended without an end record");
		return EXIT_TRUNCATED;
	}
	/* a service failure outranks rejected records */
	if (st.v[ST_DEGRADED] > 0)
		return EXIT_FATAL;
	return res.rejects > 0 ? EXIT_PARTIAL : EXIT_OK;
}
