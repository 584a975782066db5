/* point_build.c: an enriched item turned into a Qdrant point: payload, slugs, embedding text, Document vectors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "buf.h"
#include "enrich.h"
#include "jsonutil.h"
#include "xalloc.h"

static int
is_episode(const struct enrich_item *it)
{
	return it->type != NULL && strcmp(it->type, "episode") == 0;
}

static const char *
nonempty(const char *s)
{
	return (s != NULL && *s != '\0') ? s : NULL;
}

/* The tag strings of a Plex tag array ([] when none). */
static struct json_object *
tag_list(struct json_object *plex, const char *key)
{
	struct json_object	*arr = jget_arr(plex, key), *out;
	const char		*t;
	size_t			 i, n;

	out = json_object_new_array();
	n = arr != NULL ? json_object_array_length(arr) : 0;
	for (i = 0; i < n; i++)
		if ((t = nonempty(jget_str(json_object_array_get_idx(arr, i),
		    "tag"))) != NULL)
			json_object_array_add(out, json_object_new_string(t));
	return out;
}

/* Adds a list only when it has members; takes ownership. */
static void
add_list(struct json_object *o, const char *key, struct json_object *list)
{
	if (json_object_array_length(list) > 0)
		json_object_object_add(o, key, list);
	else
		json_object_put(list);
}

static void
add_text(struct json_object *o, const char *key, const char *s)
{
	if ((s = nonempty(s)) != NULL)
		json_object_object_add(o, key, json_object_new_string(s));
}

/* The review texts of the TMDb answer, empty ones dropped. */
static struct json_object *
review_texts(const struct enrich_item *it)
{
	struct json_object	*out = json_object_new_array(), *r = NULL, *res;
	const char		*c;
	size_t			 i, n;

	if (it->tmdb != NULL)
		json_object_object_get_ex(it->tmdb, "reviews", &r);
	res = (r != NULL && json_object_is_type(r, json_type_array)) ? r :
	    jget_arr(r, "results");
	n = res != NULL ? json_object_array_length(res) : 0;
	for (i = 0; i < n; i++)
		if ((c = nonempty(jget_str(json_object_array_get_idx(res, i),
		    "content"))) != NULL)
			json_object_array_add(out, json_object_new_string(c));
	return out;
}

static const char *
tmdb_tagline(const struct enrich_item *it)
{
	return it->tmdb_kind == TK_EPISODE ? NULL :
	    nonempty(jget_str(it->tmdb, "tagline"));
}

/* Plex and TMDb taglines, de-duplicated, joined by '\n' (caller frees; NULL if none). */
static char *
taglines(const struct enrich_item *it)
{
	const char	*p = nonempty(jget_str(it->plex, "tagline"));
	const char	*t = tmdb_tagline(it);
	char		*s;

	if (p != NULL && t != NULL && strcmp(p, t) != 0) {
		xasprintf(&s, "%s\n%s", p, t);
		return s;
	}
	if (p != NULL)
		return xstrdup(p);
	return t != NULL ? xstrdup(t) : NULL;
}

/* Copies a Plex integer member with its text, when it is an integer. */
static void
add_plex_int(struct json_object *o, const char *key, struct json_object *plex,
    const char *pkey)
{
	struct json_object	*v = NULL;
	int64_t			 i;

	if (!jget_int(plex, pkey, &i))
		return;
	json_object_object_get_ex(plex, pkey, &v);
	if (json_object_is_type(v, json_type_int))
		jadd_ref(o, key, v);
	else
		json_object_object_add(o, key, json_object_new_int64(i));
}

static void
add_slug(struct json_object *o, const char *key, const char *title)
{
	char	*s;

	if (title == NULL)
		return;
	s = enrich_slug(title);
	if (*s != '\0')
		json_object_object_add(o, key, json_object_new_string(s));
	free(s);
}

static struct json_object *
payload(const struct enrich_item *it)
{
	struct json_object	*p = json_object_new_object(), *data;
	struct json_object	*plex = it->plex;
	const char		*title = nonempty(jget_str(plex, "title"));
	const char		*show = NULL;
	char			*tl;
	int64_t			 added;

	data = json_object_new_object();
	json_object_object_add(data, "plex", enrich_plex_item(plex, &it->ids));
	json_object_object_add(data, "imdb", enrich_imdb_model(it->imdb));
	json_object_object_add(data, "tmdb",
	    enrich_tmdb_model(it->tmdb, it->tmdb_kind));
	json_object_object_add(p, "data", data);

	add_text(p, "title", title);
	add_text(p, "type", jget_str(plex, "type"));
	add_slug(p, "title_slug", title);
	if (is_episode(it)) {
		show = nonempty(jget_str(plex, "grandparentTitle"));
		add_text(p, "show_title", show);
		add_slug(p, "show_title_slug", show);
		add_text(p, "season_title", jget_str(plex, "parentTitle"));
		add_plex_int(p, "season_number", plex, "parentIndex");
		add_plex_int(p, "episode_number", plex, "index");
	}
	add_list(p, "actors", tag_list(plex, "Role"));
	add_list(p, "directors", tag_list(plex, "Director"));
	add_list(p, "writers", tag_list(plex, "Writer"));
	add_list(p, "genres", tag_list(plex, "Genre"));
	add_list(p, "collections", tag_list(plex, "Collection"));
	add_text(p, "summary", jget_str(plex, "summary"));
	add_text(p, "overview", jget_str(it->tmdb, "overview"));
	add_text(p, "plot", jget_str(it->imdb, "plot"));
	if ((tl = taglines(it)) != NULL) {
		json_object_object_add(p, "tagline", json_object_new_string(tl));
		free(tl);
	}
	add_list(p, "reviews", review_texts(it));
	add_plex_int(p, "year", plex, "year");
	if (jget_int(plex, "addedAt", &added))
		json_object_object_add(p, "added_at", json_object_new_int64(added));
	return p;
}

/* Appends part as a line of the text, when it is not empty. */
static void
part(struct buf *b, const char *s)
{
	if ((s = nonempty(s)) == NULL)
		return;
	if (b->len > 0)
		buf_append(b, "\n", 1);
	buf_appends(b, s);
}

/* "Directed by A, B": prefix and the tags of a Plex array, or nothing. */
static void
people_line(struct buf *b, struct json_object *plex, const char *key,
    const char *prefix)
{
	struct json_object	*l = tag_list(plex, key);
	struct buf		 line = BUF_INIT;
	size_t			 i, n = json_object_array_length(l);

	for (i = 0; i < n; i++) {
		buf_appends(&line, i == 0 ? prefix : ", ");
		buf_appends(&line, json_object_get_string(
		    json_object_array_get_idx(l, i)));
	}
	part(b, line.data);
	buf_free(&line);
	json_object_put(l);
}

/* "Show - S01E04 - Title" for an episode, each part only when known. */
static void
display_title(struct buf *b, const struct enrich_item *it)
{
	struct buf	 t = BUF_INIT;
	const char	*title = nonempty(jget_str(it->plex, "title"));
	const char	*show =
			    nonempty(jget_str(it->plex, "grandparentTitle"));
	int64_t		 s, e;
	int		 hs, he;

	if (!is_episode(it)) {
		part(b, title);
		return;
	}
	hs = jget_int(it->plex, "parentIndex", &s);
	he = jget_int(it->plex, "index", &e);
	if (show != NULL)
		buf_appends(&t, show);
	if (hs || he) {
		if (t.len > 0)
			buf_appends(&t, " - ");
		if (hs)
			buf_printf(&t, "S%02lld", (long long)s);
		if (he)
			buf_printf(&t, "E%02lld", (long long)e);
	}
	if (title != NULL) {
		if (t.len > 0)
			buf_appends(&t, " - ");
		buf_appends(&t, title);
	}
	part(b, t.data);
	buf_free(&t);
}

char *
enrich_embed_text(const struct enrich_item *it)
{
	struct buf		 b = BUF_INIT;
	struct json_object	*rev;
	size_t			 i, n;

	display_title(&b, it);
	part(&b, jget_str(it->plex, "summary"));
	part(&b, jget_str(it->tmdb, "overview"));
	part(&b, jget_str(it->imdb, "plot"));
	people_line(&b, it->plex, "Director", "Directed by ");
	people_line(&b, it->plex, "Writer", "Written by ");
	people_line(&b, it->plex, "Role", "Starring ");
	/*
	 * Both taglines, even when equal: mcp-plex's _build_point_text does
	 * so, and a vector that differs from the reference's ranks
	 * differently (the payload's tagline stays de-duplicated).
	 */
	part(&b, jget_str(it->plex, "tagline"));
	part(&b, tmdb_tagline(it));
	rev = review_texts(it);
	n = json_object_array_length(rev);
	for (i = 0; i < n; i++)
		part(&b, json_object_get_string(json_object_array_get_idx(rev, i)));
	json_object_put(rev);
	if (b.data == NULL)
		return xstrdup("");
	return buf_release(&b, NULL);
}

static struct json_object *
document(const char *text, const char *model)
{
	struct json_object	*d = json_object_new_object();

	json_object_object_add(d, "text", json_object_new_string(text));
	json_object_object_add(d, "model", json_object_new_string(model));
	return d;
}

struct json_object *
enrich_point(const struct enrich_item *it, const char *dense,
    const char *sparse)
{
	struct json_object	*pt = json_object_new_object(), *vec;
	char			*text = enrich_embed_text(it);

	json_object_object_add(pt, "id",
	    enrich_point_id(jget_str(it->plex, "ratingKey")));
	vec = json_object_new_object();
	json_object_object_add(vec, "dense", document(text, dense));
	json_object_object_add(vec, "sparse", document(text, sparse));
	json_object_object_add(pt, "vector", vec);
	json_object_object_add(pt, "payload", payload(it));
	free(text);
	return pt;
}
