/* test_ingest_sample.c: plex-ingest's recorded-directory source (bundled and mcp-plex layouts) and URL helpers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "jsonutil.h"
#include "tap.h"
#include "../../ingest/ingest.h"

static void
helpers(void)
{
	const char *keys[] = { "49915", "m-x", "a b" };
	char *p;

	p = plex_listing_path("1", PLEX_TYPE_EPISODE, -1);
	/* listing rows give keys and timestamps only: everything else is left out */
	is_str(p, "/library/sections/1/all?type=4&"
	    "excludeElements=Media,Genre,Country,Director,Writer,Role,Producer,"
	    "Collection,Label,Guid,Rating,Image,UltraBlurColors"
	    "&excludeFields=summary,tagline,thumb,art,theme", "listing path");
	free(p);
	p = plex_listing_path("2", PLEX_TYPE_MOVIE, 1741577874);
	is_str(p, "/library/sections/2/all?type=1&"
	    "excludeElements=Media,Genre,Country,Director,Writer,Role,Producer,"
	    "Collection,Label,Guid,Rating,Image,UltraBlurColors"
	    "&excludeFields=summary,tagline,thumb,art,theme"
	    "&updatedAt%3E%3E=1741577874", "listing path with updatedAt>>= escaped");
	free(p);
	p = plex_metadata_path(keys, 3);
	is_str(p, "/library/metadata/49915,m-x,a%20b?includeGuids=1",
	    "metadata path: keys comma-joined, each escaped");
	free(p);
	ok(plex_is_json("application/json; charset=utf-8", "{}"), "json type");
	ok(!plex_is_json("text/html", "{\"a\":1}"), "html is never JSON");
	ok(!plex_is_json("text/xml;charset=utf-8", "<x/>"), "xml is not JSON");
	ok(plex_is_json("", " {\"a\":1}"), "untyped object accepted");
	ok(!plex_is_json(NULL, "<html>"), "untyped HTML refused");
}

/* Every listed movie/episode of the bundled sample, paged by 2, equals its details file. */
static void
bundled(const char *top)
{
	struct plex_source *src;
	struct json_object *root, *rows, *row, *m, *det, *want;
	char dir[1024], path[1200], err[256];
	const char *keys[1], *rk;
	long start;
	size_t i, listed = 0, equal = 0;
	int rc;

	snprintf(dir, sizeof(dir), "%.900s/sample", top);
	src = sample_dir_open(dir, err, sizeof(err));
	if (src == NULL) {
		tap_skip("no bundled sample library at $PLEXPIPE_TOP/sample");
		return;
	}
	ok(!src->excerpt, "the bundled library is whole");
	rc = plex_src_sections(src, &root);
	is_int(rc, PLEX_OK, "bundled: sections");
	json_object_put(root);
	for (start = 0; ; start += 2) {
		rc = plex_src_listing(src, "1", PLEX_TYPE_MOVIE, start, 2, -1, &root);
		if (rc != PLEX_OK)
			break;
		rows = plex_rows(root, "Metadata");
		if (rows == NULL || json_object_array_length(rows) == 0) {
			json_object_put(root);
			break;
		}
		for (i = 0; i < json_object_array_length(rows); i++) {
			row = json_object_array_get_idx(rows, i);
			if (strcmp(jget_str(row, "type"), "movie") != 0)
				continue;
			listed++;
			keys[0] = rk = jget_str(row, "ratingKey");
			plex_src_metadata(src, keys, 1, &m);
			snprintf(path, sizeof(path), "%s/plex/metadata/%s.json", dir, rk);
			det = json_object_from_file(path);
			want = json_object_array_get_idx(plex_rows(det, "Metadata"), 0);
			if (want != NULL && json_object_equal(want,
			    json_object_array_get_idx(plex_rows(m, "Metadata"), 0)))
				equal++;
			json_object_put(det);
			json_object_put(m);
		}
		json_object_put(root);
	}
	ok(listed >= 3, "bundled: movies listed in pages of 2 (%zu)", listed);
	is_int((long long)equal, (long long)listed,
	    "bundled: every movie's metadata is its details file");
	keys[0] = "../sections";
	rc = plex_src_metadata(src, keys, 1, &m);
	ok(rc == PLEX_OK && (plex_rows(m, "Metadata") == NULL ||
	    json_object_array_length(plex_rows(m, "Metadata")) == 0),
	    "a key that would leave the directory is unknown");
	json_object_put(m);
	plex_src_free(src);
}

static size_t
count_type(struct json_object *rows, const char *type)
{
	size_t i, n = 0;

	for (i = 0; rows != NULL && i < json_object_array_length(rows); i++)
		n += strcmp(jget_str(json_object_array_get_idx(rows, i), "type"),
		    type) == 0;
	return n;
}

static void
mcp(const char *shared)
{
	struct plex_source *src;
	struct json_object *root, *rows, *m, *it;
	char dir[1024], err[256];
	const char *keys[2] = { "49915", "61596" };
	size_t n;

	snprintf(dir, sizeof(dir), "%.900s/fixtures/mcp-plex-sample-data", shared);
	src = sample_dir_open(dir, err, sizeof(err));
	if (src == NULL) {
		tap_skip("shared fixtures absent (PLEXPIPE_SHARED or $PLEXPIPE_TOP/../shared)");
		return;
	}
	ok(src->excerpt, "mcp-plex data is an excerpt");
	plex_src_sections(src, &root);
	n = json_object_array_length(plex_rows(root, "Directory"));
	is_int((long long)n, 2, "mcp: a movie and a show section");
	json_object_put(root);

	plex_src_listing(src, "1", PLEX_TYPE_MOVIE, 0, 1000, -1, &root);
	rows = plex_rows(root, "Metadata");
	is_int((long long)count_type(rows, "movie"), 75,
	    "mcp: 74 listed movies + the detailed one");
	is_int((long long)count_type(rows, "collection"), 26,
	    "mcp: the 26 collection rows are in the listing");
	json_object_put(root);

	plex_src_listing(src, "2", PLEX_TYPE_EPISODE, 0, 1000, -1, &root);
	rows = plex_rows(root, "Metadata");
	is_int((long long)count_type(rows, "episode"), 101,
	    "mcp: 100 listed episodes + the detailed one");
	json_object_put(root);

	plex_src_listing(src, "2", PLEX_TYPE_EPISODE, 100, 50, -1, &root);
	is_int((long long)json_object_array_length(plex_rows(root, "Metadata")), 1,
	    "mcp: paging past 100 gives the last row");
	json_object_put(root);

	plex_src_metadata(src, keys, 2, &m);
	rows = plex_rows(m, "Metadata");
	is_int((long long)json_object_array_length(rows), 2, "mcp: movie and show found");
	it = json_object_array_get_idx(rows, 0);
	is_int((long long)json_object_array_length(jget_arr(it, "Role")), 62,
	    "mcp: 49915 is the detailed movie (62 roles)");
	it = json_object_array_get_idx(rows, 1);
	is_str(jget_str(it, "title"), "Alien: Earth",
	    "mcp: show built from its episode's grandparent fields");
	json_object_put(m);
	plex_src_free(src);
}

int
main(void)
{
	const char *top = getenv("PLEXPIPE_TOP"), *shared = getenv("PLEXPIPE_SHARED");
	char buf[1024];

	if (top == NULL)
		top = ".";
	if (shared == NULL) {
		snprintf(buf, sizeof(buf), "%.900s/../shared", top);
		shared = buf;
	}
	helpers();
	bundled(top);
	mcp(shared);
	return done_testing();
}
