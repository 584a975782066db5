/*
 * show_cache.c: parent shows by rating key, so each episode batch can
 * carry its shows without refetching them. Bounded: a ring of `cap`
 * entries, the oldest evicted first. Episode listings come grouped by
 * show, so a small ring already makes one fetch per show.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "xalloc.h"
#include "ingest.h"

struct show_entry {
	char			*key;
	struct json_object	*show;
};

struct ingest_show_cache {
	struct show_entry	*e;
	size_t			 cap, n, next;	/* next: the slot to fill/evict */
};

struct ingest_show_cache *
ingest_show_cache_new(size_t cap)
{
	struct ingest_show_cache	*c;

	c = xcalloc(1, sizeof(*c));
	c->cap = cap == 0 ? 1 : cap;
	c->e = xcalloc(c->cap, sizeof(*c->e));
	return c;
}

void
ingest_show_cache_free(struct ingest_show_cache *c)
{
	size_t	 i;

	if (c == NULL)
		return;
	for (i = 0; i < c->n; i++) {
		free(c->e[i].key);
		json_object_put(c->e[i].show);
	}
	free(c->e);
	free(c);
}

struct json_object *
ingest_show_cache_get(struct ingest_show_cache *c, const char *key)
{
	size_t	 i;

	for (i = 0; i < c->n; i++)
		if (strcmp(c->e[i].key, key) == 0)
			return c->e[i].show;
	return NULL;
}

void
ingest_show_cache_put(struct ingest_show_cache *c, const char *key,
    struct json_object *show)
{
	struct show_entry	*e;

	if (ingest_show_cache_get(c, key) != NULL)
		return;
	e = &c->e[c->next];
	if (c->n == c->cap) {
		free(e->key);
		json_object_put(e->show);
	} else
		c->n++;
	e->key = xstrdup(key);
	e->show = json_object_get(show);
	c->next = (c->next + 1) % c->cap;
}
