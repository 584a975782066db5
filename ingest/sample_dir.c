/*
 * sample_dir.c: a Plex source that answers from recorded files, so a
 * sample run goes through the same paging, metadata and batching as a
 * live one. Two layouts:
 *
 *  - the bundled sample library: plex/sections.json,
 *    plex/section-<key>-type<N>.json (a whole listing) and
 *    plex/metadata/<ratingKey>.json (details); DIR may also be plex/ itself;
 *  - the mcp-plex sample-data layout: plex-100-movies.json and
 *    plex-100-episodes.json (listings), movie/plex.json and
 *    episode/plex.tv.json (details). Its sections come from the
 *    containers' librarySection* members, the detailed items are merged
 *    into the listings, listed items without recorded details are served
 *    as recorded (nothing richer exists), and the shows, never recorded,
 *    are built from the episodes' grandparent* members.
 */
#include <sys/stat.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "jparse.h"
#include "jsonutil.h"
#include "xalloc.h"
#include "ingest.h"

struct sample {
	char			*plexdir;	/* bundled layout: the plex/ dir */
	struct json_object	*sections;	/* the /library/sections answer */
	struct json_object	*listings;	/* "key/type" -> Metadata array */
	struct json_object	*meta;		/* mcp layout: ratingKey -> item */
};

static int
exists(const char *path)
{
	struct stat	 st;

	return stat(path, &st) == 0;
}

/* Keys become file names: nothing that could leave the directory. */
static int
safe_name(const char *s)
{
	if (s == NULL || *s == '\0' || *s == '.')
		return 0;
	for (; *s != '\0'; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'z') ||
		    (*s >= 'A' && *s <= 'Z') || *s == '-' || *s == '_' ||
		    *s == '.'))
			return 0;
	return 1;
}

static struct json_object *
load(const char *path, char *err, size_t errlen)
{
	struct json_object	*o;
	struct jerr		 je;

	o = jparse_file(path, &je);
	if (o == NULL || plex_container(o) == NULL) {
		if (o == NULL)
			snprintf(err, errlen, "sample: %s", je.message);
		else
			snprintf(err, errlen, "sample: %s: no MediaContainer",
			    path);
		json_object_put(o);
		return NULL;
	}
	return o;
}

static struct json_object *
container_new(struct json_object *rows, long offset, long total)
{
	struct json_object	*root, *mc;

	mc = json_object_new_object();
	json_object_object_add(mc, "size",
	    json_object_new_int64((int64_t)json_object_array_length(rows)));
	if (offset >= 0) {
		json_object_object_add(mc, "totalSize", json_object_new_int64(total));
		json_object_object_add(mc, "offset", json_object_new_int64(offset));
	}
	json_object_object_add(mc, "Metadata", rows);
	root = json_object_new_object();
	json_object_object_add(root, "MediaContainer", mc);
	return root;
}

/* The whole listing for a section and type, loaded once (borrowed). */
static struct json_object *
listing_rows(struct sample *s, const char *section, int type, int *rc,
    char *err, size_t errlen)
{
	struct json_object	*rows, *root;
	char			 name[64], *path;

	snprintf(name, sizeof(name), "%.40s/%d", section, type);
	*rc = PLEX_OK;
	if (json_object_object_get_ex(s->listings, name, &rows))
		return rows;
	if (s->plexdir == NULL || !safe_name(section)) {
		snprintf(err, errlen, "sample: no type %d listing for section "
		    "%.40s", type, section);
		*rc = PLEX_ERR_NOTFOUND;
		return NULL;
	}
	xasprintf(&path, "%s/section-%s-type%d.json", s->plexdir, section, type);
	root = load(path, err, errlen);
	free(path);
	if (root == NULL) {
		*rc = PLEX_ERR_FAIL;
		return NULL;
	}
	rows = plex_rows(root, "Metadata");
	rows = rows != NULL ? json_object_get(rows) : json_object_new_array();
	json_object_put(root);
	json_object_object_add(s->listings, name, rows);
	return rows;
}

static int
updated_since(struct json_object *row, int64_t since)
{
	int64_t	 t;

	/* Plex filters on updatedAt; a few items only have addedAt */
	if (!jget_int(row, "updatedAt", &t) && !jget_int(row, "addedAt", &t))
		return 0;
	return t >= since;
}

static int
sd_listing(void *ctx, const char *section, int type, long start, long size,
    int64_t since, struct json_object **root, char *err, size_t errlen)
{
	struct sample		*s = ctx;
	struct json_object	*all, *page, *row;
	size_t			 i, len;
	long			 seen = 0;
	int			 rc;

	all = listing_rows(s, section, type, &rc, err, errlen);
	if (all == NULL)
		return rc;
	page = json_object_new_array();
	len = json_object_array_length(all);
	for (i = 0; i < len; i++) {
		row = json_object_array_get_idx(all, i);
		if (since >= 0 && !updated_since(row, since))
			continue;
		if (seen >= start && seen < start + size)
			json_object_array_add(page, json_object_get(row));
		seen++;
	}
	*root = container_new(page, start, seen);
	return PLEX_OK;
}

static int
sd_metadata(void *ctx, const char *const *keys, size_t n,
    struct json_object **root, char *err, size_t errlen)
{
	struct sample		*s = ctx;
	struct json_object	*rows, *one, *it, *r;
	char			*path;
	size_t			 i, j, len;

	rows = json_object_new_array();
	for (i = 0; i < n; i++) {
		if (s->meta != NULL &&
		    json_object_object_get_ex(s->meta, keys[i], &it)) {
			json_object_array_add(rows, json_object_get(it));
			continue;
		}
		if (s->plexdir == NULL || !safe_name(keys[i]))
			continue;	/* unknown: absent, as on a server */
		xasprintf(&path, "%s/metadata/%s.json", s->plexdir, keys[i]);
		if (!exists(path)) {
			free(path);
			continue;
		}
		/* a broken recording is an error, not a deleted item */
		one = load(path, err, errlen);
		free(path);
		if (one == NULL) {
			json_object_put(rows);
			return PLEX_ERR_FAIL;
		}
		r = plex_rows(one, "Metadata");
		len = r == NULL ? 0 : json_object_array_length(r);
		for (j = 0; j < len; j++)
			json_object_array_add(rows,
			    json_object_get(json_object_array_get_idx(r, j)));
		json_object_put(one);
	}
	*root = container_new(rows, -1, 0);
	return PLEX_OK;
}

static int
sd_sections(void *ctx, struct json_object **root, char *err, size_t errlen)
{
	struct sample	*s = ctx;

	(void)err;
	(void)errlen;
	*root = json_object_get(s->sections);
	return PLEX_OK;
}

static void
sd_free(void *ctx)
{
	struct sample	*s = ctx;

	json_object_put(s->sections);
	json_object_put(s->listings);
	json_object_put(s->meta);
	free(s->plexdir);
	free(s);
}

static const struct plex_source_ops sample_ops = {
	sd_sections, sd_listing, sd_metadata, sd_free
};

/* ---- the mcp-plex layout, turned into an in-memory library ---- */

/* Adds a Directory entry for a recorded container's section, once. */
static const char *
mcp_section(struct sample *s, struct json_object *root, const char *type)
{
	struct json_object	*mc = plex_container(root), *dirs, *d;
	char			 key[32];
	int64_t			 id;
	size_t			 i;

	if (!jget_int(mc, "librarySectionID", &id))
		id = strcmp(type, "movie") == 0 ? 1 : 2;
	snprintf(key, sizeof(key), "%" PRId64, id);
	dirs = plex_rows(s->sections, "Directory");
	for (i = 0; i < json_object_array_length(dirs); i++) {
		d = json_object_array_get_idx(dirs, i);
		if (strcmp(jget_str(d, "key"), key) == 0)
			return jget_str(d, "key");
	}
	d = json_object_new_object();
	json_object_object_add(d, "key", json_object_new_string(key));
	json_object_object_add(d, "type", json_object_new_string(type));
	json_object_object_add(d, "title",
	    jstr_or_null(jget_str(mc, "librarySectionTitle")));
	json_object_object_add(d, "uuid",
	    jstr_or_null(jget_str(mc, "librarySectionUUID")));
	json_object_array_add(dirs, d);
	json_object_object_add(plex_container(s->sections), "size",
	    json_object_new_int64((int64_t)json_object_array_length(dirs)));
	return jget_str(d, "key");
}

/* The listing array for key/type in s->listings, made on first use. */
static struct json_object *
mcp_rows(struct sample *s, const char *key, int type)
{
	struct json_object	*rows;
	char			 name[64];

	snprintf(name, sizeof(name), "%.40s/%d", key, type);
	if (!json_object_object_get_ex(s->listings, name, &rows)) {
		rows = json_object_new_array();
		json_object_object_add(s->listings, name, rows);
	}
	return rows;
}

static int
has_key(struct json_object *rows, const char *rk)
{
	const char	*k;
	size_t		 i;

	for (i = 0; i < json_object_array_length(rows); i++) {
		k = jget_str(json_object_array_get_idx(rows, i), "ratingKey");
		if (k != NULL && strcmp(k, rk) == 0)
			return 1;
	}
	return 0;
}

/* A show as far as its episodes describe it: all a recording holds. */
static void
mcp_show_from(struct sample *s, const char *key, struct json_object *ep)
{
	static const char	*const map[][2] = {
		{ "key", "grandparentKey" }, { "guid", "grandparentGuid" },
		{ "slug", "grandparentSlug" }, { "title", "grandparentTitle" },
		{ "thumb", "grandparentThumb" }, { "art", "grandparentArt" },
		{ "theme", "grandparentTheme" },
	};
	struct json_object	*show;
	const char		*gp = jget_str(ep, "grandparentRatingKey"), *v;
	size_t			 i;

	if (gp == NULL || json_object_object_get_ex(s->meta, gp, NULL))
		return;
	show = json_object_new_object();
	json_object_object_add(show, "ratingKey", json_object_new_string(gp));
	json_object_object_add(show, "type", json_object_new_string("show"));
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if ((v = jget_str(ep, map[i][1])) != NULL)
			json_object_object_add(show, map[i][0],
			    json_object_new_string(v));
	json_object_object_add(s->meta, gp, show);
	json_object_array_add(mcp_rows(s, key, PLEX_TYPE_SHOW),
	    json_object_get(show));
}

/*
 * One recorded listing plus one recorded details answer of the same
 * section: the listing rows, then the detailed item if the listing lacks
 * it; details win over listing rows for the metadata answers.
 */
static int
mcp_add(struct sample *s, const char *dir, const char *listing,
    const char *detail, const char *stype, int type, char *err, size_t errlen)
{
	struct json_object	*lroot = NULL, *droot = NULL, *rows, *r, *row;
	const char		*key = NULL, *rk;
	char			*path;
	size_t			 i;

	xasprintf(&path, "%s/%s", dir, listing);
	if (exists(path) && (lroot = load(path, err, errlen)) == NULL) {
		free(path);
		return -1;
	}
	free(path);
	xasprintf(&path, "%s/%s", dir, detail);
	if (exists(path) && (droot = load(path, err, errlen)) == NULL) {
		free(path);
		json_object_put(lroot);
		return -1;
	}
	free(path);
	if (lroot == NULL && droot == NULL)
		return 0;
	key = mcp_section(s, lroot != NULL ? lroot : droot, stype);
	rows = mcp_rows(s, key, type);
	r = plex_rows(droot, "Metadata");
	for (i = 0; r != NULL && i < json_object_array_length(r); i++) {
		row = json_object_array_get_idx(r, i);
		if ((rk = jget_str(row, "ratingKey")) != NULL)
			json_object_object_add(s->meta, rk, json_object_get(row));
	}
	r = plex_rows(lroot, "Metadata");
	for (i = 0; r != NULL && i < json_object_array_length(r); i++) {
		row = json_object_array_get_idx(r, i);
		if ((rk = jget_str(row, "ratingKey")) == NULL)
			continue;
		json_object_array_add(rows, json_object_get(row));
		if (!json_object_object_get_ex(s->meta, rk, NULL))
			json_object_object_add(s->meta, rk, json_object_get(row));
	}
	r = plex_rows(droot, "Metadata");
	for (i = 0; r != NULL && i < json_object_array_length(r); i++) {
		row = json_object_array_get_idx(r, i);
		rk = jget_str(row, "ratingKey");
		if (rk != NULL && !has_key(rows, rk))
			json_object_array_add(rows, json_object_get(row));
	}
	if (type == PLEX_TYPE_EPISODE)
		for (i = 0; i < json_object_array_length(rows); i++)
			mcp_show_from(s, key, json_object_array_get_idx(rows, i));
	json_object_put(lroot);
	json_object_put(droot);
	return 1;
}

static int
mcp_open(struct sample *s, const char *dir, char *err, size_t errlen)
{
	struct json_object	*mc;
	int			 a, b;

	s->meta = json_object_new_object();
	s->sections = json_object_new_object();
	mc = json_object_new_object();
	json_object_object_add(mc, "size", json_object_new_int(0));
	json_object_object_add(mc, "Directory", json_object_new_array());
	json_object_object_add(s->sections, "MediaContainer", mc);
	if ((a = mcp_add(s, dir, "plex-100-movies.json", "movie/plex.json",
	    "movie", PLEX_TYPE_MOVIE, err, errlen)) < 0)
		return -1;
	if ((b = mcp_add(s, dir, "plex-100-episodes.json",
	    "episode/plex.tv.json", "show", PLEX_TYPE_EPISODE, err,
	    errlen)) < 0)
		return -1;
	if (a == 0 && b == 0) {
		snprintf(err, errlen, "sample: %s holds neither a bundled "
		    "library (plex/sections.json) nor mcp-plex sample data "
		    "(plex-100-movies.json, movie/plex.json, ...)", dir);
		return -1;
	}
	return 0;
}

struct plex_source *
sample_dir_open(const char *dir, char *err, size_t errlen)
{
	struct plex_source	*src;
	struct sample		*s;
	char			*path;

	s = xcalloc(1, sizeof(*s));
	s->listings = json_object_new_object();
	xasprintf(&path, "%s/plex/sections.json", dir);
	if (exists(path))
		xasprintf(&s->plexdir, "%s/plex", dir);
	else {
		free(path);
		xasprintf(&path, "%s/sections.json", dir);
		if (exists(path))
			s->plexdir = xstrdup(dir);
	}
	if (s->plexdir != NULL)
		s->sections = load(path, err, errlen);
	free(path);
	if (s->plexdir != NULL ? s->sections == NULL :
	    mcp_open(s, dir, err, errlen) != 0) {
		sd_free(s);
		return NULL;
	}
	src = xcalloc(1, sizeof(*src));
	src->ops = &sample_ops;
	src->ctx = s;
	/* mcp-plex recorded 100 rows of larger sections: never a whole library */
	src->excerpt = s->plexdir == NULL;
	return src;
}
