/* fetch.c: cache lookups and stores for API answers (a cached "null" means known not found), expired ones when a refresh fails. */
#include <errno.h>
#include <string.h>

#include <json-c/json.h>

#include "cache.h"
#include "enrich.h"
#include "log.h"
#include "ndjson_read.h"
#include "ndjson_write.h"

static enum src_result
lookup(struct enrich_ctx *ctx, const char *key, struct json_object **out,
    int any_age)
{
	struct buf		 b = BUF_INIT;
	struct ndjson_error	 err;
	struct json_object	*j;
	int			 r;

	*out = NULL;
	r = cache_get(ctx->cache, key, &b, any_age);
	if (r != 1) {
		buf_free(&b);
		return SRC_MISS;
	}
	if (b.len >= 4 && strncmp(b.data, "null", 4) == 0 &&
	    strspn(b.data + 4, " \t\r\n") == b.len - 4) {
		buf_free(&b);
		return SRC_NOTFOUND;
	}
	/* ndjson_parse_string wants an object, which every answer is */
	j = ndjson_parse_string(b.data, b.len, &err);
	buf_free(&b);
	if (j == NULL)
		return SRC_MISS;
	*out = j;
	return SRC_OK;
}

enum src_result
enrich_cache_lookup(struct enrich_ctx *ctx, const char *key,
    struct json_object **out)
{
	return lookup(ctx, key, out, ctx->o->offline);
}

enum src_result
enrich_cache_stale(struct enrich_ctx *ctx, enum enrich_svc svc,
    const char *key, struct json_object **out, unsigned *flags)
{
	struct breaker	*br = svc == SVC_TMDB ? ctx->o->tmdb_br :
	    ctx->o->imdb_br;
	enum src_result	 r;

	if ((r = lookup(ctx, key, out, 1)) == SRC_MISS) {
		*flags |= ENRICH_FAILED;
		return SRC_MISS;
	}
	*flags |= ENRICH_STALE;
	/* one warning per service and run, whichever worker meets it first */
	if (breaker_once(br, BREAKER_ONCE_STALE))
		log_warn("%s: answers that cannot be refreshed are taken from "
		    "expired cache entries (counted as %s_stale_served)",
		    svc == SVC_TMDB ? "tmdb" : "imdb",
		    svc == SVC_TMDB ? "tmdb" : "imdb");
	return r;
}

void
enrich_cache_store(struct enrich_ctx *ctx, const char *key,
    struct json_object *j)
{
	const char	*s = "null";
	size_t		 len = 4;

	if (breaker_is_down(ctx->o->cache_br))
		return;		/* writes failed: the run goes on without caching */
	if (j != NULL)
		s = ndjson_to_string(j, &len);
	if (cache_put(ctx->cache, key, s, len) == -1 && errno != EINVAL &&
	    breaker_trip(ctx->o->cache_br))
		log_warn("cache: cannot write under \"%s\" (%s): going on "
		    "without caching; the points are complete, the answers "
		    "are not kept for the next run", cache_dir(ctx->cache),
		    strerror(errno));
}
