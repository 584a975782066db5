/* context.c: one process's enrichment context: cache, TMDb and IMDb clients, counters, retry ids. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "enrich.h"
#include "http.h"
#include "log.h"
#include "xalloc.h"

/* A 32-hex v3 key goes as api_key=; anything else is a v4 Bearer token. */
static int
is_v3_key(const char *k)
{
	size_t	 i;

	for (i = 0; k[i] != '\0'; i++)
		if (!isxdigit((unsigned char)k[i]))
			return 0;
	return i == 32;
}

static struct http_client *
tmdb_client(struct enrich_ctx *ctx, const struct enrich_opts *o)
{
	struct http_config	 c;
	const char		*hdr[3];
	char			*bearer = NULL;
	struct http_client	*hc;

	memset(&c, 0, sizeof(c));
	hdr[0] = "Accept: application/json";
	hdr[1] = NULL;
	hdr[2] = NULL;
	if (is_v3_key(o->tmdb_key))
		snprintf(ctx->tmdb_auth_query, sizeof(ctx->tmdb_auth_query),
		    "api_key=%s", o->tmdb_key);
	else {
		xasprintf(&bearer, "Authorization: Bearer %s", o->tmdb_key);
		hdr[1] = bearer;
	}
	c.name = "tmdb";
	c.base_url = o->tmdb_url;
	c.headers = hdr;
	c.retries = 0;		/* call.c retries, counting on the breaker */
	c.max_body = HTTP_MAX_BODY_API;
	c.insecure = o->insecure;
	c.cacert = o->cacert;
	c.rl = o->tmdb_rl;
	hc = http_client_new(&c);
	free(bearer);
	return hc;
}

static struct http_client *
imdb_client(const struct enrich_opts *o)
{
	static const char	*const hdr[] = {
	    "Accept: application/json", NULL
	};
	struct http_config	 c;

	memset(&c, 0, sizeof(c));
	c.name = "imdb";
	c.base_url = o->imdb_url;
	c.headers = hdr;
	c.retries = 0;		/* call.c retries, counting on the breaker */
	c.max_body = HTTP_MAX_BODY_API;
	c.insecure = o->insecure;
	c.cacert = o->cacert;
	c.rl = o->imdb_rl;
	return http_client_new(&c);
}

int
enrich_ctx_init(struct enrich_ctx *ctx, const struct enrich_opts *o)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->o = o;
	if ((ctx->cache = cache_open(o->cache_dir, o->cache_ttl)) == NULL) {
		log_error("cannot open the cache directory \"%s\"", o->cache_dir);
		return -1;
	}
	ctx->use_tmdb = !o->no_tmdb;
	ctx->use_imdb = !o->no_imdb;
	if (ctx->use_tmdb && !o->offline && o->tmdb_key != NULL &&
	    (ctx->tmdb = tmdb_client(ctx, o)) == NULL)
		return -1;
	if (ctx->use_imdb && !o->offline && (ctx->imdb = imdb_client(o)) == NULL)
		return -1;
	return 0;
}

void
enrich_ctx_sync_stats(struct enrich_ctx *ctx)
{
	struct http_stats	 hs;
	struct cache_stats	 cs;

	if (ctx->tmdb != NULL) {
		http_client_stats(ctx->tmdb, &hs);
		ctx->st.v[ST_TMDB_REQUESTS] += hs.requests -
		    ctx->seen.tmdb_requests;
		ctx->seen.tmdb_requests = hs.requests;
	}
	if (ctx->imdb != NULL) {
		http_client_stats(ctx->imdb, &hs);
		ctx->st.v[ST_IMDB_REQUESTS] += hs.requests -
		    ctx->seen.imdb_requests;
		ctx->seen.imdb_requests = hs.requests;
	}
	if (ctx->cache != NULL) {
		cache_get_stats(ctx->cache, &cs);
		ctx->st.v[ST_CACHE_HITS] += cs.hits - ctx->seen.cache_hits;
		ctx->st.v[ST_CACHE_MISSES] += cs.misses - ctx->seen.cache_misses;
		ctx->st.v[ST_CACHE_WRITES] += cs.writes - ctx->seen.cache_writes;
		ctx->seen.cache_hits = cs.hits;
		ctx->seen.cache_misses = cs.misses;
		ctx->seen.cache_writes = cs.writes;
	}
}

void
enrich_ctx_queue_id(struct enrich_ctx *ctx, const char *id)
{
	size_t	 i;

	for (i = 0; i < ctx->nqueue; i++)
		if (strcmp(ctx->queue[i], id) == 0)
			return;
	ctx->queue = xreallocarray(ctx->queue, ctx->nqueue + 1,
	    sizeof(*ctx->queue));
	ctx->queue[ctx->nqueue++] = xstrdup(id);
	ctx->st.v[ST_IMDB_QUEUED]++;
}

void
enrich_ctx_free(struct enrich_ctx *ctx)
{
	enrich_engine_free(ctx);
	http_client_free(ctx->tmdb);
	http_client_free(ctx->imdb);
	cache_close(ctx->cache);
	enrich_ids_free(ctx->queue, ctx->nqueue);
	ctx->tmdb = ctx->imdb = NULL;
	ctx->cache = NULL;
	ctx->queue = NULL;
	ctx->nqueue = 0;
}
