/* fetch.c: cache lookups and stores for API answers (a cached "null" means known not found). */
#include <string.h>

#include <json-c/json.h>

#include "cache.h"
#include "enrich.h"
#include "ndjson_read.h"
#include "ndjson_write.h"

enum src_result
enrich_cache_lookup(struct enrich_ctx *ctx, const char *key,
    struct json_object **out)
{
	struct buf b = BUF_INIT;
	struct ndjson_error err;
	struct json_object *j;
	int r;

	*out = NULL;
	r = cache_get(ctx->cache, key, &b, ctx->o->offline);
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

void
enrich_cache_store(struct enrich_ctx *ctx, const char *key,
    struct json_object *j)
{
	const char *s = "null";
	size_t len = 4;

	if (j != NULL)
		s = ndjson_to_string(j, &len);
	(void)cache_put(ctx->cache, key, s, len);
}
