/* tmdb_model.c: the TMDb and IMDb parts of data: the fields DESIGN.md 3 lists, null when unknown ("" when the model requires a string). */
#include <string.h>

#include <json-c/json.h>

#include "enrich.h"
#include "jsonutil.h"

/* Copies member key (a shared reference, so numbers keep their text), or null. */
static void
copy(struct json_object *dst, struct json_object *src, const char *key)
{
	struct json_object	*v = NULL;

	if (src != NULL)
		json_object_object_get_ex(src, key, &v);
	jadd_ref(dst, key, v);
}

/*
 * Copies a string the mcp-plex model requires (TMDBMovie.title,
 * IMDbTitle.primaryTitle, ...): "" when it is missing or not a string,
 * never null, so data always validates as AggregatedItem.
 */
static void
copy_req_str(struct json_object *dst, struct json_object *src, const char *key)
{
	struct json_object	*v = NULL;

	if (src != NULL)
		json_object_object_get_ex(src, key, &v);
	if (v != NULL && json_object_is_type(v, json_type_string))
		jadd_ref(dst, key, v);
	else
		json_object_object_add(dst, key, json_object_new_string(""));
}

/* Copies an array member, [] when it is missing or not an array. */
static void
copy_arr(struct json_object *dst, struct json_object *src, const char *key)
{
	struct json_object	*v = jget_arr(src, key);

	if (v != NULL)
		jadd_ref(dst, key, v);
	else
		json_object_object_add(dst, key, json_object_new_array());
}

/* The review objects: the "results" list of the paged wrapper, or a list as is. */
static void
copy_reviews(struct json_object *dst, struct json_object *src)
{
	struct json_object	*r = NULL, *res;

	json_object_object_get_ex(src, "reviews", &r);
	if (r != NULL && json_object_is_type(r, json_type_array)) {
		jadd_ref(dst, "reviews", r);
		return;
	}
	res = jget_arr(r, "results");
	if (res != NULL)
		jadd_ref(dst, "reviews", res);
	else
		json_object_object_add(dst, "reviews", json_object_new_array());
}

static struct json_object *
movie(struct json_object *t)
{
	struct json_object	*o = json_object_new_object();

	copy(o, t, "id");
	copy_req_str(o, t, "title");
	copy(o, t, "overview");
	copy(o, t, "release_date");
	copy(o, t, "imdb_id");
	copy_arr(o, t, "genres");
	copy(o, t, "poster_path");
	copy(o, t, "backdrop_path");
	copy(o, t, "tagline");
	copy_reviews(o, t);
	return o;
}

static struct json_object *
show(struct json_object *t)
{
	struct json_object	*o = json_object_new_object(),
				*seasons, *in, *s;
	size_t			 i, n;

	copy(o, t, "id");
	copy_req_str(o, t, "name");
	copy(o, t, "overview");
	copy(o, t, "first_air_date");
	copy(o, t, "last_air_date");
	copy_arr(o, t, "genres");
	seasons = json_object_new_array();
	in = jget_arr(t, "seasons");
	n = in != NULL ? json_object_array_length(in) : 0;
	for (i = 0; i < n; i++) {
		s = json_object_new_object();
		copy(s, json_object_array_get_idx(in, i), "season_number");
		copy_req_str(s, json_object_array_get_idx(in, i), "name");
		copy(s, json_object_array_get_idx(in, i), "air_date");
		json_object_array_add(seasons, s);
	}
	json_object_object_add(o, "seasons", seasons);
	copy(o, t, "poster_path");
	copy(o, t, "backdrop_path");
	copy(o, t, "tagline");
	copy_reviews(o, t);
	return o;
}

static struct json_object *
episode(struct json_object *t)
{
	static const char *const keys[] = { "overview", "season_number",
	    "episode_number", "air_date", "episode_type", "production_code",
	    "runtime", "show_id", "still_path", "vote_average", "vote_count" };
	struct json_object	*o = json_object_new_object();
	size_t			 i;

	copy(o, t, "id");
	copy_req_str(o, t, "name");
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		copy(o, t, keys[i]);
	copy_arr(o, t, "crew");
	copy_arr(o, t, "guest_stars");
	return o;
}

struct json_object *
enrich_tmdb_model(struct json_object *t, enum tmdb_kind kind)
{
	if (t == NULL || !json_object_is_type(t, json_type_object))
		return NULL;
	switch (kind) {
	case TK_MOVIE:
		return movie(t);
	case TK_SHOW:
		return show(t);
	case TK_EPISODE:
		return episode(t);
	default:
		return NULL;
	}
}

/* [{"id","displayName"}] from an imdbapi name list. */
static struct json_object *
names(struct json_object *t, const char *key)
{
	struct json_object	*in = jget_arr(t, key), *out, *p, *e;
	size_t			 i, n;

	out = json_object_new_array();
	n = in != NULL ? json_object_array_length(in) : 0;
	for (i = 0; i < n; i++) {
		e = json_object_array_get_idx(in, i);
		p = json_object_new_object();
		copy_req_str(p, e, "id");
		copy_req_str(p, e, "displayName");
		json_object_array_add(out, p);
	}
	return out;
}

struct json_object *
enrich_imdb_model(struct json_object *t)
{
	struct json_object	*o, *r, *img, *x;

	if (t == NULL || !json_object_is_type(t, json_type_object))
		return NULL;
	o = json_object_new_object();
	copy_req_str(o, t, "id");
	copy_req_str(o, t, "type");
	copy_req_str(o, t, "primaryTitle");
	copy(o, t, "startYear");
	copy(o, t, "runtimeSeconds");
	copy_arr(o, t, "genres");
	if ((r = jget_obj(t, "rating")) != NULL) {
		x = json_object_new_object();
		copy(x, r, "aggregateRating");
		copy(x, r, "voteCount");
		json_object_object_add(o, "rating", x);
	} else
		json_object_object_add(o, "rating", NULL);
	copy(o, t, "plot");
	if ((img = jget_obj(t, "primaryImage")) != NULL) {
		x = json_object_new_object();
		copy_req_str(x, img, "url");
		json_object_object_add(o, "primaryImage", x);
	} else
		json_object_object_add(o, "primaryImage", NULL);
	json_object_object_add(o, "directors", names(t, "directors"));
	json_object_object_add(o, "writers", names(t, "writers"));
	json_object_object_add(o, "stars", names(t, "stars"));
	return o;
}
