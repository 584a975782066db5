/* stats.c: the names of meta-enrich's counters, as they appear in the end record and summary. */
#include "enrich.h"

static const char *const names[ST_NSTATS] = {
	[ST_ITEMS] = "items",
	[ST_SKIPPED] = "skipped_items",
	[ST_WITH_TMDB] = "with_tmdb",
	[ST_WITH_IMDB] = "with_imdb",
	[ST_TMDB_REQUESTS] = "tmdb_requests",
	[ST_TMDB_FAILURES] = "tmdb_failures",
	[ST_TMDB_NOT_FOUND] = "tmdb_not_found",
	[ST_IMDB_REQUESTS] = "imdb_requests",
	[ST_IMDB_FAILURES] = "imdb_failures",
	[ST_IMDB_QUEUED] = "imdb_queued",
	[ST_CACHE_HITS] = "cache_hits",
	[ST_CACHE_MISSES] = "cache_misses",
	[ST_CACHE_WRITES] = "cache_writes",
	[ST_OFFLINE_MISSES] = "offline_misses",
	[ST_STALE_SERVED] = "stale_served",
	[ST_TMDB_STALE] = "tmdb_stale_served",
	[ST_IMDB_STALE] = "imdb_stale_served",
	[ST_DEGRADED] = "degraded",
	[ST_TMDB_DEGRADED] = "tmdb_degraded",
	[ST_IMDB_DEGRADED] = "imdb_degraded",
};

const char *
enrich_stat_name(enum enrich_stat s)
{
	return (s < ST_NSTATS && names[s] != NULL) ? names[s] : "?";
}
