/* test_ingest_fake.h: an in-memory Plex source for the plex-ingest unit tests, with failure knobs. */
#ifndef TEST_INGEST_FAKE_H
#define TEST_INGEST_FAKE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "jsonutil.h"
#include "../../ingest/ingest.h"

struct fake_lib {
	struct json_object *sections;	/* a /library/sections root */
	struct json_object *listings;	/* "key/type" -> rows */
	struct json_object *meta;	/* ratingKey -> full item */
	size_t	 max_keys;		/* metadata: > this many keys: TOOBIG (0 off) */
	size_t	 short_cap;		/* metadata: answer at most this many (0 off) */
	int	 fail_listing_after;	/* listing calls after this many fail (-1 off) */
	int	 meta_fail;		/* every metadata call fails */
	int	 listing_calls;
	int	 meta_calls;
	size_t	 max_page_keys;		/* the largest metadata request seen */
	/* called after each listing page is served: the library may change */
	void	(*after_page)(struct fake_lib *, const char *section, int type);
};

static int
fake_sections(void *ctx, struct json_object **root, char *err, size_t errlen)
{
	struct fake_lib *f = ctx;

	(void)err;
	(void)errlen;
	*root = json_object_get(f->sections);
	return PLEX_OK;
}

static struct json_object *
fake_container(struct json_object *rows, long offset, long total)
{
	struct json_object *root = json_object_new_object(), *mc;

	mc = json_object_new_object();
	json_object_object_add(mc, "size",
	    json_object_new_int((int)json_object_array_length(rows)));
	if (offset >= 0) {
		json_object_object_add(mc, "totalSize", json_object_new_int((int)total));
		json_object_object_add(mc, "offset", json_object_new_int((int)offset));
	}
	json_object_object_add(mc, "Metadata", rows);
	json_object_object_add(root, "MediaContainer", mc);
	return root;
}

static int
fake_listing(void *ctx, const char *section, int type, long start, long size,
    int64_t since, struct json_object **root, char *err, size_t errlen)
{
	struct fake_lib *f = ctx;
	struct json_object *all, *page;
	char name[64];
	long i, len;

	(void)since;
	if (f->fail_listing_after >= 0 && f->listing_calls >= f->fail_listing_after) {
		f->listing_calls++;
		snprintf(err, errlen, "plex: GET listing: 500 Internal Server Error");
		return PLEX_ERR_FAIL;
	}
	f->listing_calls++;
	snprintf(name, sizeof(name), "%s/%d", section, type);
	if (!json_object_object_get_ex(f->listings, name, &all)) {
		snprintf(err, errlen, "no listing %s", name);
		return PLEX_ERR_NOTFOUND;
	}
	len = (long)json_object_array_length(all);
	page = json_object_new_array();
	for (i = start; i < len && i < start + size; i++)
		json_object_array_add(page,
		    json_object_get(json_object_array_get_idx(all, (size_t)i)));
	*root = fake_container(page, start, len);
	if (f->after_page != NULL)
		f->after_page(f, section, type);
	return PLEX_OK;
}

static int
fake_metadata(void *ctx, const char *const *keys, size_t n,
    struct json_object **root, char *err, size_t errlen)
{
	struct fake_lib *f = ctx;
	struct json_object *rows, *it;
	size_t i;

	f->meta_calls++;
	if (n > f->max_page_keys)
		f->max_page_keys = n;
	if (f->meta_fail) {
		snprintf(err, errlen, "plex: metadata: 503");
		return PLEX_ERR_FAIL;
	}
	if (f->max_keys > 0 && n > f->max_keys) {
		snprintf(err, errlen, "plex: metadata: 414");
		return PLEX_ERR_TOOBIG;
	}
	rows = json_object_new_array();
	for (i = 0; i < n; i++) {
		if (f->short_cap > 0 && json_object_array_length(rows) >= f->short_cap)
			break;
		if (json_object_object_get_ex(f->meta, keys[i], &it))
			json_object_array_add(rows, json_object_get(it));
	}
	*root = fake_container(rows, -1, 0);
	return PLEX_OK;
}

static void
fake_free(void *ctx)
{
	(void)ctx;
}

static const struct plex_source_ops fake_ops = {
	fake_sections, fake_listing, fake_metadata, fake_free
};

static inline void
fake_init(struct fake_lib *f, struct plex_source *src)
{
	memset(f, 0, sizeof(*f));
	f->sections = json_tokener_parse("{\"MediaContainer\":{\"size\":3,"
	    "\"Directory\":["
	    "{\"key\":\"1\",\"type\":\"movie\",\"title\":\"Films\",\"uuid\":\"u-1\"},"
	    "{\"key\":\"7\",\"type\":\"artist\",\"title\":\"Music\",\"uuid\":\"u-7\"},"
	    "{\"key\":\"2\",\"type\":\"show\",\"title\":\"Series\",\"uuid\":\"u-2\"},"
	    "{\"key\":\"3\",\"type\":\"movie\",\"title\":\"Documentaries\",\"uuid\":\"u-3\"}]}}");
	f->listings = json_object_new_object();
	f->meta = json_object_new_object();
	f->fail_listing_after = -1;
	memset(src, 0, sizeof(*src));
	src->ops = &fake_ops;
	src->ctx = f;
}

static inline void
fake_done(struct fake_lib *f)
{
	json_object_put(f->sections);
	json_object_put(f->listings);
	json_object_put(f->meta);
}

static inline struct json_object *
fake_rows(struct fake_lib *f, const char *section, int type)
{
	struct json_object *rows;
	char name[64];

	snprintf(name, sizeof(name), "%s/%d", section, type);
	if (!json_object_object_get_ex(f->listings, name, &rows)) {
		rows = json_object_new_array();
		json_object_object_add(f->listings, name, rows);
	}
	return rows;
}

/* A listed row (truncated: one Role) and its full metadata (three Roles, a Guid). */
static inline void
fake_item(struct fake_lib *f, const char *section, int listtype,
    const char *type, const char *rk, const char *gp)
{
	struct json_object *row, *full;
	char buf[512];

	snprintf(buf, sizeof(buf), "{\"ratingKey\":\"%s\",\"type\":\"%s\","
	    "\"title\":\"T%s\"%s%s%s,\"Role\":[{\"tag\":\"A\"}]}", rk, type, rk,
	    gp ? ",\"grandparentRatingKey\":\"" : "", gp ? gp : "", gp ? "\"" : "");
	row = json_tokener_parse(buf);
	json_object_array_add(fake_rows(f, section, listtype), row);
	if (strcmp(type, "collection") == 0)
		return;
	snprintf(buf, sizeof(buf), "{\"ratingKey\":\"%s\",\"type\":\"%s\","
	    "\"title\":\"T%s\"%s%s%s,\"Guid\":[{\"id\":\"tmdb://%s\"}],"
	    "\"Role\":[{\"id\":1,\"tag\":\"A\"},{\"id\":2,\"tag\":\"B\"},"
	    "{\"id\":3,\"tag\":\"C\"}]}", rk, type, rk,
	    gp ? ",\"grandparentRatingKey\":\"" : "", gp ? gp : "", gp ? "\"" : "",
	    rk);
	full = json_tokener_parse(buf);
	json_object_object_add(f->meta, rk, full);
}

/* Deletes row pos of a listing, and its metadata. */
static inline void
fake_delete_row(struct fake_lib *f, const char *section, int type, size_t pos)
{
	struct json_object *rows = fake_rows(f, section, type);
	const char *rk;

	rk = jget_str(json_object_array_get_idx(rows, pos), "ratingKey");
	json_object_object_del(f->meta, rk);
	json_object_array_del_idx(rows, pos, 1);
}

/* Moves the last row of a listing to position pos (an item added there). */
static inline void
fake_move_last(struct fake_lib *f, const char *section, int type, size_t pos)
{
	struct json_object *rows = fake_rows(f, section, type), *nrows;
	size_t i, len = json_object_array_length(rows);
	char name[64];

	nrows = json_object_new_array();
	for (i = 0; i < len - 1; i++) {
		if (i == pos)
			json_object_array_add(nrows, json_object_get(
			    json_object_array_get_idx(rows, len - 1)));
		json_object_array_add(nrows,
		    json_object_get(json_object_array_get_idx(rows, i)));
	}
	snprintf(name, sizeof(name), "%s/%d", section, type);
	json_object_object_add(f->listings, name, nrows);
}

/* A show known to the metadata endpoint only (not listed). */
static inline void
fake_show(struct fake_lib *f, const char *rk)
{
	char buf[256];

	snprintf(buf, sizeof(buf), "{\"ratingKey\":\"%s\",\"type\":\"show\","
	    "\"title\":\"S%s\",\"Guid\":[{\"id\":\"tmdb://9%s\"}]}", rk, rk, rk);
	json_object_object_add(f->meta, rk, json_tokener_parse(buf));
}

#endif
