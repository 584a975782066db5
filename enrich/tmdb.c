/* tmdb.c: TMDb for a batch with the fewest calls, run concurrently: a movie per call, a show with its seasons per call (tmdb_show.c). */
/*
 * Movies: /3/movie/{id}?append_to_response=reviews, one call each.
 * Episodes: grouped by show; one /3/tv/{id}?append_to_response=reviews,
 * season/a,season/b,... call per show (at most 20 appends, so more
 * calls only past 19 seasons) gives the show and every season the batch
 * needs; each season object lists its episodes. An episode missing from
 * its season costs one /season/{n}/episode/{e} call. Shows with no TMDb
 * id are found with /3/find by IMDb or TVDB id. Every answer, "not found"
 * included, goes to the cache under a per-key lock, so no two workers
 * fetch the same thing and a warm run makes no call at all.
 *
 * A call that fails (after its retries, or with TMDb down) falls back to
 * the expired cache entry, so a point never loses data it had because
 * TMDb failed; each item records in tmdb_flags whether it was given an
 * expired answer (ENRICH_STALE) or lacks one that failed (ENRICH_FAILED).
 *
 * The lookups of a batch run at once (call.c): each answer's
 * continuation starts what depends on it (a find, then the details). The
 * shows start once every episode's series id is known -- at once when
 * the shows' Guids carry it -- since two finds may name one show, whose
 * call must ask for the seasons of both.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "buf.h"
#include "cache.h"
#include "enrich.h"
#include "http.h"
#include "jsonutil.h"
#include "log.h"
#include "ndjson_read.h"
#include "xalloc.h"

#include "tmdb_int.h"

struct tcall {
	char		*path;		/* without the key, for messages */
	tmdb_fn		 fn;
	void		*arg;
};

/* A GET's outcome as a source result; 401 makes the run stop (ctx->fatal). */
static void
tcall_done(struct enrich_ctx *ctx, void *arg, long st,
    const struct http_response *resp)
{
	struct tcall		*c = arg;
	struct ndjson_error	 err;
	struct json_object	*out = NULL;
	enum src_result		 r = SRC_FAIL;

	if (http_ok(st)) {
		out = resp->body.data != NULL ? ndjson_parse_string(
		    resp->body.data, resp->body.len, &err) : NULL;
		if (out != NULL)
			r = SRC_OK;
		else
			log_warn("tmdb: GET %s: the answer is not a JSON object",
			    c->path);
	} else if (st == 404) {
		r = SRC_NOTFOUND;
		ctx->st.v[ST_TMDB_NOT_FOUND]++;
	} else if (st == 401) {
		ctx->fatal = 1;
		snprintf(ctx->fatal_msg, sizeof(ctx->fatal_msg),
		    "tmdb: the API key was refused (401); check TMDB_API_KEY");
		r = SRC_FATAL;
	} else if (st != ENRICH_DOWN)
		log_warn("%s", resp->error);
	if (r == SRC_FAIL)
		ctx->st.v[ST_TMDB_FAILURES]++;
	c->fn(ctx, c->arg, r, out);
	free(c->path);
	free(c);
}

void
tmdb_call(struct enrich_ctx *ctx, const char *path, tmdb_fn fn, void *arg)
{
	struct buf	 full = BUF_INIT;
	struct tcall	*c;

	c = xcalloc(1, sizeof(*c));
	c->path = xstrdup(path);
	c->fn = fn;
	c->arg = arg;
	buf_appends(&full, path);
	if (ctx->tmdb_auth_query[0] != '\0')
		buf_printf(&full, "%c%s", strchr(path, '?') ? '&' : '?',
		    ctx->tmdb_auth_query);
	enrich_get(ctx, SVC_TMDB, full.data, tcall_done, c);
	buf_free(&full);
}

/* --- one key: cache, else a locked call, else the expired entry -------- */

struct tget {
	char		 key[160];
	char		*path;
	unsigned	*flags;
	int		 tok;
	tmdb_fn		 fn;
	void		*arg;
};

static void
tget_end(struct enrich_ctx *ctx, struct tget *g, enum src_result r,
    struct json_object *j)
{
	tmdb_fn	 fn = g->fn;
	void	*arg = g->arg;

	cache_unlock(g->tok);
	free(g->path);
	free(g);
	fn(ctx, arg, r, j);
}

static void
tget_answer(struct enrich_ctx *ctx, void *arg, enum src_result r,
    struct json_object *j)
{
	struct tget	*g = arg;

	if (r == SRC_OK)
		enrich_cache_store(ctx, g->key, j);
	else if (r == SRC_NOTFOUND)
		enrich_cache_store(ctx, g->key, NULL);
	else if (r == SRC_FAIL)
		r = enrich_cache_stale(ctx, SVC_TMDB, g->key, &j, g->flags);
	tget_end(ctx, g, r, j);
}

static void
tget_locked(struct enrich_ctx *ctx, void *arg, int tok)
{
	struct tget		*g = arg;
	struct json_object	*j;
	enum src_result		 r;

	g->tok = tok;
	/* another worker may have fetched it meanwhile */
	if ((r = enrich_cache_lookup(ctx, g->key, &j)) != SRC_MISS)
		tget_end(ctx, g, r, j);
	else
		tmdb_call(ctx, g->path, tget_answer, g);
}

void
tmdb_get(struct enrich_ctx *ctx, const char *key, const char *path,
    unsigned *flags, tmdb_fn fn, void *arg)
{
	struct json_object	*j;
	enum src_result		 r;
	struct tget		*g;

	if ((r = enrich_cache_lookup(ctx, key, &j)) != SRC_MISS) {
		fn(ctx, arg, r, j);
		return;
	}
	if (ctx->tmdb == NULL) {
		ctx->st.v[ST_OFFLINE_MISSES]++;
		fn(ctx, arg, SRC_MISS, NULL);
		return;
	}
	if (ctx->fatal) {
		fn(ctx, arg, SRC_FATAL, NULL);
		return;
	}
	g = xcalloc(1, sizeof(*g));
	strlcpy(g->key, key, sizeof(g->key));
	g->path = xstrdup(path);
	g->flags = flags;
	g->tok = -1;
	g->fn = fn;
	g->arg = arg;
	enrich_lock(ctx, key, tget_locked, g);
}

/* --- /3/find by external ids, first hit wins --------------------------- */

#define FIND_MAX	5

struct find {
	struct {
		const char	*source;	/* "imdb_id", "tvdb_id" */
		char		 extid[32];
		const char	*list;		/* "tv_results", ... */
		const char	*field;		/* "id", "show_id" */
	} step[FIND_MAX];
	int		 n, i;
	unsigned	*flags;
	void		(*done)(struct enrich_ctx *, void *, int64_t);
	void		*arg;
};

/* Adds the lookups find_by_ids made: by IMDb id, then by TVDB id. */
static void
find_add(struct find *f, const struct ext_ids *ids, int64_t tvdb,
    const char *list, const char *field)
{
	if (ids != NULL && ids->imdb[0] != '\0' && f->n < FIND_MAX) {
		f->step[f->n].source = "imdb_id";
		strlcpy(f->step[f->n].extid, ids->imdb,
		    sizeof(f->step[f->n].extid));
		f->step[f->n].list = list;
		f->step[f->n++].field = field;
	}
	if (tvdb != 0 && f->n < FIND_MAX) {
		f->step[f->n].source = "tvdb_id";
		snprintf(f->step[f->n].extid, sizeof(f->step[f->n].extid),
		    "%lld", (long long)tvdb);
		f->step[f->n].list = list;
		f->step[f->n++].field = field;
	}
}

static void find_next(struct enrich_ctx *, struct find *);

static void
find_answer(struct enrich_ctx *ctx, void *arg, enum src_result r,
    struct json_object *j)
{
	struct find		*f = arg;
	struct json_object	*arr;
	int64_t			 id = 0;

	if (r == SRC_OK && (arr = jget_arr(j, f->step[f->i - 1].list)) !=
	    NULL && json_object_array_length(arr) > 0)
		jget_int(json_object_array_get_idx(arr, 0),
		    f->step[f->i - 1].field, &id);
	json_object_put(j);
	if (id != 0 || f->i == f->n) {
		f->done(ctx, f->arg, id);
		free(f);
	} else
		find_next(ctx, f);
}

static void
find_next(struct enrich_ctx *ctx, struct find *f)
{
	char	 key[128], path[160];

	if (f->n == 0) {
		f->done(ctx, f->arg, 0);
		free(f);
		return;
	}
	snprintf(key, sizeof(key), "tmdb/find/%s/%s", f->step[f->i].source,
	    f->step[f->i].extid);
	snprintf(path, sizeof(path), "/3/find/%s?external_source=%s",
	    f->step[f->i].extid, f->step[f->i].source);
	f->i++;
	tmdb_get(ctx, key, path, f->flags, find_answer, f);
}

static struct find *
find_new(unsigned *flags, void (*done)(struct enrich_ctx *, void *, int64_t),
    void *arg)
{
	struct find	*f = xcalloc(1, sizeof(*f));

	f->flags = flags;
	f->done = done;
	f->arg = arg;
	return f;
}

/* --- movies and shows as items: one call with reviews appended --------- */

struct title {
	struct enrich_item	*it;
	const char		*kind;		/* "movie", "tv" */
	enum tmdb_kind		 tk;
};

static void
title_answer(struct enrich_ctx *ctx, void *arg, enum src_result r,
    struct json_object *j)
{
	struct title	*t = arg;

	(void)ctx;
	if (r == SRC_OK) {
		t->it->tmdb = j;
		t->it->tmdb_kind = t->tk;
	} else
		json_object_put(j);
	free(t);
}

static void
title_found(struct enrich_ctx *ctx, void *arg, int64_t id)
{
	struct title	*t = arg;
	char		 key[64], path[96];

	if (id == 0) {
		free(t);
		return;
	}
	snprintf(key, sizeof(key), "tmdb/%s/%lld", t->kind, (long long)id);
	snprintf(path, sizeof(path), "/3/%s/%lld?append_to_response=reviews",
	    t->kind, (long long)id);
	tmdb_get(ctx, key, path, &t->it->tmdb_flags, title_answer, t);
}

/* Without a TMDb id, /3/find by the IMDb or TVDB id first. */
static void
title_start(struct enrich_ctx *ctx, struct enrich_item *it, const char *kind,
    const char *find_list, enum tmdb_kind tk)
{
	struct title	*t = xcalloc(1, sizeof(*t));
	struct find	*f;

	t->it = it;
	t->kind = kind;
	t->tk = tk;
	if (it->ids.tmdb != 0) {
		title_found(ctx, t, it->ids.tmdb);
		return;
	}
	f = find_new(&it->tmdb_flags, title_found, t);
	find_add(f, &it->ids, it->ids.tvdb, find_list, "id");
	find_next(ctx, f);
}

/* --- series ids of episodes, then their shows -------------------------- */

struct series {
	struct tmdb_batch	*b;
	size_t			 i;
};

static void
series_settled(struct tmdb_batch *b)
{
	if (--b->finding == 0)
		tmdb_shows_start(b);
}

static void
series_found(struct enrich_ctx *ctx, void *arg, int64_t id)
{
	struct series	*s = arg;

	(void)ctx;
	s->b->items[s->i].show_tmdb = id;
	series_settled(s->b);
	free(s);
}

/* The series id of an episode: the show's Guid, else /3/find. */
static void
series_start(struct tmdb_batch *b, size_t i)
{
	struct enrich_item	*it = &b->items[i];
	struct series		*s = xcalloc(1, sizeof(*s));
	struct find		*f;

	s->b = b;
	s->i = i;
	if (it->show != NULL && it->show_ids.tmdb != 0) {
		series_found(b->ctx, s, it->show_ids.tmdb);
		return;
	}
	f = find_new(&it->tmdb_flags, series_found, s);
	if (it->show != NULL)
		find_add(f, &it->show_ids, it->show_ids.tvdb, "tv_results", "id");
	find_add(f, NULL, it->ids.show_tvdb, "tv_results", "id");
	find_add(f, &it->ids, it->ids.tvdb, "tv_episode_results", "show_id");
	find_next(b->ctx, f);
}

/*
 * The first earlier episode of the same show in this batch, or SIZE_MAX:
 * episodes of one show share its series id, one /3/find per show.
 */
static size_t
leader_of(const struct enrich_item *items, size_t i)
{
	const char	*rk, *rk2;
	size_t		 k;

	if (strcmp(items[i].type, "episode") != 0 ||
	    (rk = jget_str(items[i].plex, "grandparentRatingKey")) == NULL)
		return SIZE_MAX;
	for (k = 0; k < i; k++) {
		rk2 = jget_str(items[k].plex, "grandparentRatingKey");
		if (strcmp(items[k].type, "episode") == 0 && rk2 != NULL &&
		    strcmp(rk, rk2) == 0)
			return k;
	}
	return SIZE_MAX;
}

struct tmdb_batch *
enrich_tmdb_start(struct enrich_ctx *ctx, struct enrich_item *items, size_t n)
{
	struct tmdb_batch	*b;
	size_t			 i;

	if (!ctx->use_tmdb)
		return NULL;
	b = xcalloc(1, sizeof(*b));
	b->ctx = ctx;
	b->items = items;
	b->n = n;
	b->leader = xcalloc(n + 1, sizeof(*b->leader));
	b->finding = 1;		/* until every series lookup has started */
	for (i = 0; i < n && !ctx->fatal; i++) {
		b->leader[i] = SIZE_MAX;
		if (strcmp(items[i].type, "movie") == 0)
			title_start(ctx, &items[i], "movie", "movie_results",
			    TK_MOVIE);
		else if (strcmp(items[i].type, "show") == 0)
			title_start(ctx, &items[i], "tv", "tv_results", TK_SHOW);
		else if (strcmp(items[i].type, "episode") == 0 &&
		    (b->leader[i] = leader_of(items, i)) == SIZE_MAX) {
			b->finding++;
			series_start(b, i);
		}
	}
	for (; i < n; i++)
		b->leader[i] = SIZE_MAX;
	series_settled(b);
	return b;
}

void
enrich_tmdb_finish(struct tmdb_batch *b)
{
	if (b == NULL)
		return;
	tmdb_shows_free(b);
	free(b->leader);
	free(b);
}
