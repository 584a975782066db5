/* fuzz_imdb.c: libFuzzer target: IMDb (imdbapi.dev) title answers through meta-enrich's batch code to a point. */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "../../enrich/enrich.h"
#include "fuzz.h"
#include "ndjson_read.h"

/*
 * Input: one scenario byte, then the title answer, put in the cache under
 * the item's key (imdb/<id>, where meta-enrich stores each title of a
 * batchGet answer); a fixed Plex batch is then enriched offline, so the
 * answer goes through the same parsing, IMDb model and point building as
 * one fresh from the API. An empty answer is a miss; "null" is a cached
 * "not found".
 */
static const char *const jobs[] = {
	"{\"items\":[{\"type\":\"movie\",\"ratingKey\":\"1\",\"title\":\"M\","
	"\"Guid\":[{\"id\":\"imdb://tt0000101\"}]}]}",
	"{\"items\":[{\"type\":\"episode\",\"ratingKey\":\"31\",\"title\":\"E\","
	"\"grandparentRatingKey\":\"30\",\"grandparentTitle\":\"S\",\"parentIndex\":1,"
	"\"index\":2,\"guid\":\"com.plexapp.agents.imdb://tt0000101?lang=en\"}],"
	"\"shows\":{\"30\":{\"type\":\"show\",\"ratingKey\":\"30\"}}}",
	"{\"items\":[{\"type\":\"show\",\"ratingKey\":\"2\",\"title\":\"S\","
	"\"Guid\":[{\"id\":\"imdb://tt0000101\"}]}]}",
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct buf out = BUF_INIT;
	struct enrich_ctx *ctx;
	struct ndjson_error err;
	struct json_object *rec;

	if (size < 1)
		return 0;
	ctx = fuzz_enrich_ctx(0, 1);
	fuzz_cache_put(ctx, "imdb/tt0000101", (const char *)data + 1, size - 1);
	fuzz_enrich_job(ctx, jobs[data[0] % (sizeof(jobs) / sizeof(jobs[0]))],
	    &out);
	/* whatever the answer, the output is one valid points record */
	if ((rec = ndjson_parse_string(out.data, out.len, &err)) == NULL)
		abort();
	json_object_put(rec);
	return 0;
}
