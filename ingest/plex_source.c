/* plex_source.c: the calls every Plex source answers, counted, with their errors kept. */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "jsonutil.h"
#include "ingest.h"

int
plex_src_sections(struct plex_source *src, struct json_object **root)
{
	*root = NULL;
	src->sections_requests++;
	return src->ops->sections(src->ctx, root, src->error,
	    sizeof(src->error));
}

int
plex_src_listing(struct plex_source *src, const char *section, int type,
    long start, long size, int64_t since, struct json_object **root)
{
	*root = NULL;
	src->listing_requests++;
	return src->ops->listing(src->ctx, section, type, start, size, since,
	    root, src->error, sizeof(src->error));
}

int
plex_src_metadata(struct plex_source *src, const char *const *keys, size_t n,
    struct json_object **root)
{
	*root = NULL;
	src->metadata_requests++;
	return src->ops->metadata(src->ctx, keys, n, root, src->error,
	    sizeof(src->error));
}

void
plex_src_free(struct plex_source *src)
{
	if (src == NULL)
		return;
	if (src->ops->free != NULL)
		src->ops->free(src->ctx);
	free(src);
}

struct json_object *
plex_container(struct json_object *root)
{
	return jget_obj(root, "MediaContainer");
}

/* Plex omits empty arrays, so a missing member is an empty page. */
struct json_object *
plex_rows(struct json_object *root, const char *member)
{
	return jget_arr(plex_container(root), member);
}
