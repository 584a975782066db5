/* fuzz_plex_item.c: libFuzzer target: the Plex item mapping of meta-enrich (guids.c, plex_item.c, slug.c, point_id.c). */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "../../enrich/enrich.h"
#include "fuzz.h"
#include "jsonutil.h"
#include "ndjson_read.h"
#include "ndjson_write.h"

/*
 * The input is one Plex Metadata object (as plex-ingest passes it on);
 * it is parsed as the programs parse, then mapped to data.plex, its
 * external ids, title slug and point id, as a point is built.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ndjson_error err;
	struct json_object *plex, *item, *id;
	struct ext_ids ids;
	const char *s, *title, *rk;
	char *slug;
	size_t len;

	plex = ndjson_parse_string((const char *)data, size, &err);
	if (plex == NULL)
		return 0;
	memset(&ids, 0, sizeof(ids));
	enrich_ext_ids(plex, &ids);
	if (ids.imdb[0] != '\0' && !enrich_valid_imdb_id(ids.imdb))
		abort();	/* only well-formed ids may leave the parser */
	item = enrich_plex_item(plex, &ids);
	s = ndjson_to_string(item, &len);
	if (s == NULL || len == 0 || s[len - 1] != '}')
		abort();
	title = jget_str(plex, "title");
	slug = enrich_slug(title);
	if (slug == NULL)
		abort();
	free(slug);
	rk = jget_str(plex, "ratingKey");
	if (rk != NULL) {
		id = enrich_point_id(rk);
		json_object_put(id);
	}
	json_object_put(item);
	json_object_put(plex);
	return 0;
}
