/* sections.c: picks the sections and listings to read from /library/sections, by type or by name. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "jsonutil.h"
#include "xalloc.h"
#include "ingest.h"

int
ingest_parse_types(const char *s, const char **bad, size_t *badlen)
{
	const char	*p, *e;
	size_t		 n;
	int		 mask = 0;

	for (p = s; ; p = e + 1) {
		e = strchr(p, ',');
		if (e == NULL)
			e = p + strlen(p);
		n = (size_t)(e - p);
		if (n == 5 && strncmp(p, "movie", n) == 0)
			mask |= INGEST_WANT_MOVIE;
		else if (n == 7 && strncmp(p, "episode", n) == 0)
			mask |= INGEST_WANT_EPISODE;
		else if (n == 4 && strncmp(p, "show", n) == 0)
			mask |= INGEST_WANT_SHOW;
		else {
			*bad = p;
			*badlen = n;
			return -1;
		}
		if (*e == '\0')
			break;
	}
	return mask;
}

const char *
ingest_type_name(int t)
{
	switch (t) {
	case PLEX_TYPE_MOVIE:
		return "movie";
	case PLEX_TYPE_SHOW:
		return "show";
	case PLEX_TYPE_EPISODE:
		return "episode";
	}
	return "unknown";
}

static int
named(struct json_object *dir, const char *const *names, size_t n)
{
	const char	*key = jget_str(dir, "key");
	const char	*title = jget_str(dir, "title");
	size_t		 i;

	for (i = 0; i < n; i++)
		if ((key != NULL && strcmp(key, names[i]) == 0) ||
		    (title != NULL && strcmp(title, names[i]) == 0))
			return 1;
	return 0;
}

static void
add(struct ingest_listing **v, size_t *n, struct json_object *dir, int type)
{
	struct ingest_listing	*l;
	struct json_object	*s;

	s = json_object_new_object();
	json_object_object_add(s, "key", jstr_or_null(jget_str(dir, "key")));
	json_object_object_add(s, "title", jstr_or_null(jget_str(dir, "title")));
	json_object_object_add(s, "type", jstr_or_null(jget_str(dir, "type")));
	json_object_object_add(s, "uuid", jstr_or_null(jget_str(dir, "uuid")));
	*v = xreallocarray(*v, *n + 1, sizeof(**v));
	l = &(*v)[(*n)++];
	l->section = s;
	l->key = jget_str(s, "key");
	l->type = type;
}

int
ingest_select(struct json_object *root, const char *const *names, size_t nnames,
    int want, struct ingest_listing **out, char *err, size_t errlen)
{
	struct json_object	*dirs, *d;
	struct ingest_listing	*v = NULL;
	const char		*type;
	size_t			 i, j, n = 0, len;
	int			 hit;

	*out = NULL;
	dirs = plex_rows(root, "Directory");
	len = dirs == NULL ? 0 : json_object_array_length(dirs);
	/* every name must match a section, and a readable one */
	for (j = 0; j < nnames; j++) {
		hit = 0;
		for (i = 0; i < len; i++) {
			d = json_object_array_get_idx(dirs, i);
			if (!named(d, &names[j], 1))
				continue;
			hit = 1;
			type = jget_str(d, "type");
			if (type == NULL || (strcmp(type, "movie") != 0 &&
			    strcmp(type, "show") != 0)) {
				snprintf(err, errlen, "section \"%s\" is a %s "
				    "section; only movie and show sections can "
				    "be read", names[j], type ? type : "typeless");
				return -1;
			}
		}
		if (!hit) {
			snprintf(err, errlen, "no section \"%s\" on the server "
			    "(give its key or its exact title)", names[j]);
			return -1;
		}
	}
	for (i = 0; i < len; i++) {
		d = json_object_array_get_idx(dirs, i);
		type = jget_str(d, "type");
		if (type == NULL || jget_str(d, "key") == NULL)
			continue;
		if (nnames > 0 && !named(d, names, nnames))
			continue;
		if (strcmp(type, "movie") == 0) {
			if (want & INGEST_WANT_MOVIE)
				add(&v, &n, d, PLEX_TYPE_MOVIE);
		} else if (strcmp(type, "show") == 0) {
			if (want & INGEST_WANT_SHOW)
				add(&v, &n, d, PLEX_TYPE_SHOW);
			if (want & INGEST_WANT_EPISODE)
				add(&v, &n, d, PLEX_TYPE_EPISODE);
		}
	}
	*out = v;
	return (int)n;
}

int
ingest_left_out(struct json_object *root, const char *const *names,
    size_t nnames, int want, const char **first)
{
	struct json_object	*dirs, *d;
	const char		*type;
	size_t			 i, len;
	int			 n = 0, holds;

	*first = NULL;
	if (nnames == 0)
		return 0;
	dirs = plex_rows(root, "Directory");
	len = dirs == NULL ? 0 : json_object_array_length(dirs);
	for (i = 0; i < len; i++) {
		d = json_object_array_get_idx(dirs, i);
		if ((type = jget_str(d, "type")) == NULL || named(d, names, nnames))
			continue;
		holds = (strcmp(type, "movie") == 0 && (want & INGEST_WANT_MOVIE)) ||
		    (strcmp(type, "show") == 0 &&
		    (want & (INGEST_WANT_SHOW | INGEST_WANT_EPISODE)));
		if (!holds)
			continue;
		if (n++ == 0)
			*first = jget_str(d, "title") ? jget_str(d, "title") :
			    jget_str(d, "key");
	}
	return n;
}

void
ingest_listings_free(struct ingest_listing *v, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		json_object_put(v[i].section);
	free(v);
}
