/* tmdb_int.h: what tmdb.c (calls, finds, titles) and tmdb_show.c (shows, seasons, episodes) share. */
#ifndef PLEXPIPE_TMDB_INT_H
#define PLEXPIPE_TMDB_INT_H

#include <stddef.h>

struct json_object;
struct show_memo;

/* A TMDb answer's continuation: j is a new reference (or NULL) it owns. */
typedef void (*tmdb_fn)(struct enrich_ctx *, void *arg, enum src_result r,
	    struct json_object *j);

struct tmdb_batch {
	struct enrich_ctx	*ctx;
	struct enrich_item	*items;
	size_t			 n;
	size_t			*leader;	/* earlier episode of the same
						   show, or SIZE_MAX */
	size_t			 finding;	/* series lookups not settled,
						   +1 while starting */
	struct show_memo	**shows;	/* in order of their first
						   episode */
	size_t			 nshows;
};

/* One GET (the key appended): SRC_OK, SRC_NOTFOUND, SRC_FAIL or SRC_FATAL. */
void	 tmdb_call(struct enrich_ctx *, const char *path, tmdb_fn, void *arg);
/*
 * A single-key answer: cache, else (locked) a call whose answer is
 * cached, else the expired entry (*flags says which).
 */
void	 tmdb_get(struct enrich_ctx *, const char *key, const char *path,
	    unsigned *flags, tmdb_fn, void *arg);

/* Every series id known: episodes take their leader's, the shows load. */
void	 tmdb_shows_start(struct tmdb_batch *);
void	 tmdb_shows_free(struct tmdb_batch *);

#endif
