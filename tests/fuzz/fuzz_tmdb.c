/* fuzz_tmdb.c: libFuzzer target: TMDb answers (movie, show, season, episode, find) through meta-enrich's batch code to a point. */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "../../enrich/enrich.h"
#include "fuzz.h"
#include "ndjson_read.h"

/*
 * Input: one scenario byte, then NUL-separated TMDb answers. Each answer
 * is put in the cache under the key meta-enrich would store the HTTP
 * answer under, and a fixed Plex batch is enriched offline: the answers
 * go through the same parsing, season resolution, episode lookup, TMDb
 * model and point building as answers fresh from the API. An empty part
 * is a miss; "null" is a cached "not found".
 */
struct scenario {
	const char	*job;		/* the Plex batch */
	const char	*keys[4];	/* cache key of part 0, 1, ... */
};

static const struct scenario scenarios[] = {
	/* 0: a movie with a TMDb id */
	{ "{\"items\":[{\"type\":\"movie\",\"ratingKey\":\"1\",\"title\":\"M\","
	  "\"Guid\":[{\"id\":\"tmdb://101\"}]}]}",
	  { "tmdb/movie/101" } },
	/* 1: a show with a TMDb id */
	{ "{\"items\":[{\"type\":\"show\",\"ratingKey\":\"2\",\"title\":\"S\","
	  "\"Guid\":[{\"id\":\"tmdb://202\"}]}]}",
	  { "tmdb/tv/202" } },
	/* 2: two episodes of a show with a TMDb id: show, season 1, episode 1x9 */
	{ "{\"items\":[{\"type\":\"episode\",\"ratingKey\":\"31\",\"title\":\"E\","
	  "\"grandparentRatingKey\":\"30\",\"parentIndex\":1,\"index\":2,"
	  "\"parentTitle\":\"Season 1\"},{\"type\":\"episode\",\"ratingKey\":\"32\","
	  "\"title\":\"F\",\"grandparentRatingKey\":\"30\",\"parentIndex\":1,"
	  "\"index\":9,\"parentTitle\":\"Season 1\"}],\"shows\":{\"30\":{\"type\":"
	  "\"show\",\"ratingKey\":\"30\",\"Guid\":[{\"id\":\"tmdb://303\"}]}}}",
	  { "tmdb/tv/303", "tmdb/tv/303/season/1",
	    "tmdb/tv/303/season/1/episode/9" } },
	/* 3: a movie known by its IMDb id only: /find, then the movie */
	{ "{\"items\":[{\"type\":\"movie\",\"ratingKey\":\"4\",\"title\":\"N\","
	  "\"Guid\":[{\"id\":\"imdb://tt0000404\"}]}]}",
	  { "tmdb/find/imdb_id/tt0000404", "tmdb/movie/404" } },
	/* 4: an episode whose show has no ids: /find by the episode's IMDb id */
	{ "{\"items\":[{\"type\":\"episode\",\"ratingKey\":\"51\",\"title\":\"G\","
	  "\"grandparentRatingKey\":\"50\",\"parentIndex\":2005,\"index\":1,"
	  "\"parentTitle\":\"2005\",\"Guid\":[{\"id\":\"imdb://tt0000505\"}]}]}",
	  { "tmdb/find/imdb_id/tt0000505", "tmdb/tv/505",
	    "tmdb/tv/505/season/1" } },
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct buf out = BUF_INIT;
	const struct scenario *sc;
	struct enrich_ctx *ctx;
	struct ndjson_error err;
	struct json_object *rec;
	const char *part;
	size_t i, len;

	if (size < 1)
		return 0;
	sc = &scenarios[data[0] % (sizeof(scenarios) / sizeof(scenarios[0]))];
	ctx = fuzz_enrich_ctx(1, 0);
	for (i = 0; i < 4 && sc->keys[i] != NULL; i++) {
		part = fuzz_part(data + 1, size - 1, i, &len);
		fuzz_cache_put(ctx, sc->keys[i], part, len);
	}
	fuzz_enrich_job(ctx, sc->job, &out);
	/* whatever the answers, the output is one valid points record */
	if ((rec = ndjson_parse_string(out.data, out.len, &err)) == NULL)
		abort();
	json_object_put(rec);
	return 0;
}
