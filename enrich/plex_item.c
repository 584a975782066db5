/* plex_item.c: a Plex Metadata object turned into the aggregated PlexItem (data.plex, DESIGN.md 3). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "enrich.h"
#include "jsonutil.h"
#include "timeutil.h"

/* A string member copied, or JSON null. */
static void
add_str(struct json_object *o, const char *key, struct json_object *src,
    const char *skey)
{
	json_object_object_add(o, key, jstr_or_null(jget_str(src, skey)));
}

/* A string the model requires (PlexItem.guid, PlexPerson.tag): "" when unknown, as mcp-plex writes. */
static void
add_req_str(struct json_object *o, const char *key, struct json_object *src,
    const char *skey)
{
	const char	*s = jget_str(src, skey);

	json_object_object_add(o, key, json_object_new_string(s != NULL ? s : ""));
}

/*
 * A Plex tag id as mcp-plex's coerce_plex_tag_id makes it: an integer
 * (its text kept), a string of digits read as one, anything else 0
 * (PlexPerson.id is a required int).
 */
static void
add_tag_id(struct json_object *o, struct json_object *src)
{
	struct json_object	*v = NULL;
	const char		*s;
	char			*end;
	long long		 n;
	int64_t			 i;

	if (jget_int(src, "id", &i)) {
		json_object_object_get_ex(src, "id", &v);
		if (json_object_is_type(v, json_type_int))
			jadd_ref(o, "id", v);
		else
			json_object_object_add(o, "id", json_object_new_int64(i));
		return;
	}
	n = 0;
	if ((s = jget_str(src, "id")) != NULL) {
		while (*s == ' ' || (*s >= '\t' && *s <= '\r'))
			s++;
		errno = 0;
		n = strtoll(s, &end, 10);
		while (*end == ' ' || (*end >= '\t' && *end <= '\r'))
			end++;
		if (end == s || *end != '\0' || errno != 0 ||
		    !(*s == '-' || *s == '+' || (*s >= '0' && *s <= '9')))
			n = 0;
	}
	json_object_object_add(o, "id", json_object_new_int64(n));
}

/* An integer member with its original text kept (json-c), or null. */
static void
add_int(struct json_object *o, const char *key, struct json_object *src,
    const char *skey)
{
	struct json_object	*v = NULL;
	int64_t			 i;

	if (jget_int(src, skey, &i))
		json_object_object_get_ex(src, skey, &v);
	if (v != NULL && json_object_is_type(v, json_type_int))
		jadd_ref(o, key, v);
	else if (v != NULL)
		json_object_object_add(o, key, json_object_new_int64(i));
	else
		json_object_object_add(o, key, NULL);
}

/* [{"id":int,"tag":str,"thumb":str|null,"role":str|null}] from a tag array. */
static struct json_object *
people(struct json_object *src, const char *skey)
{
	struct json_object	*arr = jget_arr(src, skey), *out, *t, *p;
	size_t			 i, n;

	out = json_object_new_array();
	n = arr != NULL ? json_object_array_length(arr) : 0;
	for (i = 0; i < n; i++) {
		t = json_object_array_get_idx(arr, i);
		if (jget_str(t, "tag") == NULL)
			continue;
		p = json_object_new_object();
		add_tag_id(p, t);
		add_req_str(p, "tag", t, "tag");
		add_str(p, "thumb", t, "thumb");
		add_str(p, "role", t, "role");
		json_object_array_add(out, p);
	}
	return out;
}

/* ["Action", ...] from a tag array. */
static struct json_object *
tags(struct json_object *src, const char *skey)
{
	struct json_object	*arr = jget_arr(src, skey), *out;
	const char		*tag;
	size_t			 i, n;

	out = json_object_new_array();
	n = arr != NULL ? json_object_array_length(arr) : 0;
	for (i = 0; i < n; i++) {
		tag = jget_str(json_object_array_get_idx(arr, i), "tag");
		if (tag != NULL)
			json_object_array_add(out, json_object_new_string(tag));
	}
	return out;
}

/*
 * guids: the Guid array as Plex gave it; for a legacy agent (no Guid
 * array) the ids parsed from guid, in the modern "imdb://" form, so
 * readers of data.plex.guids need to know one form only.
 */
static struct json_object *
guids(struct json_object *src, const struct ext_ids *ids)
{
	struct json_object	*arr = jget_arr(src, "Guid"), *out, *g;
	const char		*id;
	char			 tmp[64];
	size_t			 i, n;

	out = json_object_new_array();
	if (arr != NULL) {
		n = json_object_array_length(arr);
		for (i = 0; i < n; i++) {
			id = jget_str(json_object_array_get_idx(arr, i), "id");
			if (id == NULL)
				continue;
			g = json_object_new_object();
			json_object_object_add(g, "id", json_object_new_string(id));
			json_object_array_add(out, g);
		}
		return out;
	}
	if (ids->imdb[0] != '\0') {
		snprintf(tmp, sizeof(tmp), "imdb://%s", ids->imdb);
		g = json_object_new_object();
		json_object_object_add(g, "id", json_object_new_string(tmp));
		json_object_array_add(out, g);
	}
	if (ids->tmdb != 0) {
		snprintf(tmp, sizeof(tmp), "tmdb://%lld", (long long)ids->tmdb);
		g = json_object_new_object();
		json_object_object_add(g, "id", json_object_new_string(tmp));
		json_object_array_add(out, g);
	}
	if (ids->tvdb != 0) {
		snprintf(tmp, sizeof(tmp), "tvdb://%lld", (long long)ids->tvdb);
		g = json_object_new_object();
		json_object_object_add(g, "id", json_object_new_string(tmp));
		json_object_array_add(out, g);
	}
	return out;
}

struct json_object *
enrich_plex_item(struct json_object *src, const struct ext_ids *ids)
{
	struct json_object	*o = json_object_new_object();
	const char		*type = jget_str(src, "type");
	int			 ep = type != NULL &&
				    strcmp(type, "episode") == 0;
	int64_t			 added;
	char			 iso[32];

	add_req_str(o, "rating_key", src, "ratingKey");
	add_req_str(o, "guid", src, "guid");
	add_req_str(o, "type", src, "type");
	add_req_str(o, "title", src, "title");
	if (ep) {
		add_str(o, "show_title", src, "grandparentTitle");
		add_str(o, "season_title", src, "parentTitle");
		add_int(o, "season_number", src, "parentIndex");
		add_int(o, "episode_number", src, "index");
	} else {
		json_object_object_add(o, "show_title", NULL);
		json_object_object_add(o, "season_title", NULL);
		json_object_object_add(o, "season_number", NULL);
		json_object_object_add(o, "episode_number", NULL);
	}
	add_str(o, "summary", src, "summary");
	add_int(o, "year", src, "year");
	if (jget_int(src, "addedAt", &added) &&
	    iso8601_utc(added, iso, sizeof(iso)) == 0)
		json_object_object_add(o, "added_at", json_object_new_string(iso));
	else
		json_object_object_add(o, "added_at", NULL);
	json_object_object_add(o, "guids", guids(src, ids));
	add_str(o, "thumb", src, "thumb");
	add_str(o, "art", src, "art");
	add_str(o, "tagline", src, "tagline");
	add_str(o, "content_rating", src, "contentRating");
	json_object_object_add(o, "directors", people(src, "Director"));
	json_object_object_add(o, "writers", people(src, "Writer"));
	json_object_object_add(o, "actors", people(src, "Role"));
	json_object_object_add(o, "genres", tags(src, "Genre"));
	json_object_object_add(o, "collections", tags(src, "Collection"));
	return o;
}
