/* tmdb_show.c: a batch's shows with the seasons their episodes need, in the fewest calls, then each episode. */
/*
 * One /3/tv/{id}?append_to_response=reviews,season/a,... call per show
 * (at most 20 appends) gives the show and every season the batch needs;
 * an episode missing from its season costs one call of its own. A show
 * is a small state machine driven by its answers (call.c runs the calls
 * of every show of the batch at once): cache, then the show's lock, then
 * its calls one after the other, then its episodes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "buf.h"
#include "cache.h"
#include "enrich.h"
#include "jsonutil.h"
#include "xalloc.h"

#include "tmdb_int.h"

#define TMDB_MAX_APPENDS	20	/* TMDb refuses more (status_code 27) */

struct season_memo {
	int64_t			 num;
	struct json_object	*obj;		/* NULL: not found / not
						   cached */
	int			 tried;		/* fetched (or failed) in this
						   batch */
	int			 failed;	/* its fetch failed */
	unsigned		 flags;		/* ENRICH_STALE,
						   ENRICH_FAILED */
};

struct show_memo {
	int64_t			 id;
	struct json_object	*show;		/* NULL until known */
	enum src_result		 show_r;
	unsigned		 flags;		/* of the show: ENRICH_STALE,
						   ENRICH_FAILED */
	struct season_memo	*seasons;
	size_t			 nseasons;
	/* loading */
	struct tmdb_batch	*b;
	int			 tok;		/* the show key's cache lock, or
						   -1 */
	int			 pass;		/* the second picks up seasons
						   only the fetched show
						   resolves */
	size_t			*want;		/* indices into seasons:
						   season_slot() moves it */
	size_t			 nwant, off, chunk;
	int			 call_with_show;	/* the call in flight */
	size_t			 call_off, call_n;
	void			(*call_cont)(struct show_memo *,
		    enum src_result);
};

static struct season_memo *
season_slot(struct show_memo *sm, int64_t num)
{
	size_t	 i;

	for (i = 0; i < sm->nseasons; i++)
		if (sm->seasons[i].num == num)
			return &sm->seasons[i];
	sm->seasons = xreallocarray(sm->seasons, sm->nseasons + 1,
	    sizeof(*sm->seasons));
	memset(&sm->seasons[sm->nseasons], 0, sizeof(*sm->seasons));
	sm->seasons[sm->nseasons].num = num;
	return &sm->seasons[sm->nseasons++];
}

static void
season_key(char *key, size_t n, int64_t show, int64_t season)
{
	snprintf(key, n, "tmdb/tv/%lld/season/%lld", (long long)show,
	    (long long)season);
}

/* Loads a season from the cache into its slot; 1 when it is settled (hit or null). */
static int
season_cached(struct enrich_ctx *ctx, struct show_memo *sm,
    struct season_memo *s)
{
	char		 key[96];
	enum src_result	 r;

	if (s->obj != NULL || s->tried)
		return 1;
	season_key(key, sizeof(key), sm->id, s->num);
	r = enrich_cache_lookup(ctx, key, &s->obj);
	if (r == SRC_NOTFOUND)
		s->tried = 1;
	return r != SRC_MISS;
}

static void
show_answer(struct enrich_ctx *ctx, void *arg, enum src_result r,
    struct json_object *j)
{
	struct show_memo	*sm = arg;
	const size_t		*want = sm->want + sm->call_off;
	size_t			 i, n = sm->call_n;
	int			 with_show = sm->call_with_show;
	struct json_object	*s;
	char			 key[96], member[48];

	if (r == SRC_NOTFOUND && with_show) {
		snprintf(key, sizeof(key), "tmdb/tv/%lld", (long long)sm->id);
		enrich_cache_store(ctx, key, NULL);
		sm->show_r = SRC_NOTFOUND;
	}
	for (i = 0; i < n; i++) {
		sm->seasons[want[i]].tried = 1;
		sm->seasons[want[i]].failed = r == SRC_FAIL;
	}
	if (r != SRC_OK) {
		sm->call_cont(sm, r);
		return;
	}
	for (i = 0; i < n; i++) {
		snprintf(member, sizeof(member), "season/%lld",
		    (long long)sm->seasons[want[i]].num);
		s = jget_obj(j, member);
		if (s != NULL && jget_arr(s, "episodes") != NULL)
			sm->seasons[want[i]].obj = json_object_get(s);
		season_key(key, sizeof(key), sm->id, sm->seasons[want[i]].num);
		enrich_cache_store(ctx, key, sm->seasons[want[i]].obj);
	}
	/* every season/N member goes, requested or not, per the cache layout */
	for (;;) {
		struct json_object_iterator	 it = json_object_iter_begin(j);
		struct json_object_iterator	 end = json_object_iter_end(j);
		const char			*found = NULL;

		for (; !json_object_iter_equal(&it, &end);
		    json_object_iter_next(&it))
			if (strncmp(json_object_iter_peek_name(&it), "season/",
			    7) == 0) {
				found = json_object_iter_peek_name(&it);
				break;
			}
		if (found == NULL)
			break;
		json_object_object_del(j, found);
	}
	if (with_show) {
		snprintf(key, sizeof(key), "tmdb/tv/%lld", (long long)sm->id);
		enrich_cache_store(ctx, key, j);
		json_object_put(sm->show);
		sm->show = j;
		sm->show_r = SRC_OK;
	} else
		json_object_put(j);
	sm->call_cont(sm, SRC_OK);
}


/*
 * One /3/tv/{id} call appending reviews (when the show is wanted) and the
 * seasons want[off..off+n); stores the show (season members removed) and
 * each season, then cont.
 */
static void
show_call(struct show_memo *sm, int with_show, size_t off, size_t n,
    void (*cont)(struct show_memo *, enum src_result))
{
	struct buf	 path = BUF_INIT;
	size_t		 i;

	sm->call_with_show = with_show;
	sm->call_off = off;
	sm->call_n = n;
	sm->call_cont = cont;
	buf_printf(&path, "/3/tv/%lld", (long long)sm->id);
	for (i = 0; i < n + (with_show ? 1 : 0); i++) {
		buf_appends(&path, i == 0 ? "?append_to_response=" : ",");
		if (with_show && i == 0)
			buf_appends(&path, "reviews");
		else
			buf_printf(&path, "season/%lld", (long long)sm->seasons[
			    sm->want[off + i - (with_show ? 1 : 0)]].num);
	}
	tmdb_call(sm->b->ctx, path.data, show_answer, sm);
	buf_free(&path);
}

/*
 * Seasons the episodes of this show need (resolved against the show when
 * known), as indices into sm->seasons: season_slot() may move that array,
 * so pointers into it would dangle.
 */
static void
want_seasons(struct enrich_ctx *ctx, struct show_memo *sm,
    struct enrich_item *items, size_t n, size_t **want, size_t *nwant)
{
	struct season_memo	*s;
	int64_t			 num;
	size_t			 i, k, idx;

	*nwant = 0;
	for (i = 0; i < n; i++) {
		if (items[i].show_tmdb != sm->id)
			continue;
		num = enrich_resolve_season(sm->show, items[i].has_season,
		    items[i].season, jget_str(items[i].plex, "parentTitle"));
		items[i].tmdb_season = num;
		if (num < 0)
			continue;
		s = season_slot(sm, num);
		if (season_cached(ctx, sm, s))
			continue;
		idx = (size_t)(s - sm->seasons);
		for (k = 0; k < *nwant; k++)
			if ((*want)[k] == idx)
				break;
		if (k == *nwant) {
			*want = xreallocarray(*want, *nwant + 1, sizeof(**want));
			(*want)[(*nwant)++] = idx;
		}
	}
}

/* Seasons a failed call left unrequested: they failed too. */
static void
fail_seasons(struct show_memo *sm, const size_t *want, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		sm->seasons[want[i]].tried = 1;
		sm->seasons[want[i]].failed = 1;
	}
}

/* After failed calls: the show and seasons from expired cache entries. */
static void
show_stale(struct enrich_ctx *ctx, struct show_memo *sm)
{
	struct season_memo	*s;
	enum src_result		 r;
	char			 key[96];
	size_t			 i;

	if (sm->show_r == SRC_FAIL) {
		snprintf(key, sizeof(key), "tmdb/tv/%lld", (long long)sm->id);
		json_object_put(sm->show);
		r = enrich_cache_stale(ctx, SVC_TMDB, key, &sm->show, &sm->flags);
		if (r != SRC_MISS)
			sm->show_r = r;
	}
	for (i = 0; i < sm->nseasons; i++) {
		s = &sm->seasons[i];
		if (!s->failed || s->obj != NULL)
			continue;
		season_key(key, sizeof(key), sm->id, s->num);
		(void)enrich_cache_stale(ctx, SVC_TMDB, key, &s->obj, &s->flags);
	}
}

/* The episode object of a season's episodes[] with this number, or NULL. */
static struct json_object *
season_episode(struct json_object *season, int64_t num)
{
	struct json_object	*eps = jget_arr(season, "episodes"), *e;
	int64_t			 en;
	size_t			 i, n;

	n = eps != NULL ? json_object_array_length(eps) : 0;
	for (i = 0; i < n; i++) {
		e = json_object_array_get_idx(eps, i);
		if (jget_int(e, "episode_number", &en) && en == num)
			return e;
	}
	return NULL;
}

/* --- a show's load: cache, lock, calls, then its episodes -------------- */

static void show_pass(struct show_memo *);
static void show_chunks(struct show_memo *);
static void episode_start(struct show_memo *, struct enrich_item *);

static void
show_key(char *key, size_t n, int64_t id)
{
	snprintf(key, n, "tmdb/tv/%lld", (long long)id);
}

/* The show is settled: expired entries for what failed, then its episodes. */
static void
show_end(struct show_memo *sm)
{
	struct tmdb_batch	*b = sm->b;
	struct enrich_item	*it;
	size_t			 i;

	show_stale(b->ctx, sm);
	cache_unlock(sm->tok);
	sm->tok = -1;
	free(sm->want);
	sm->want = NULL;
	/* resolve once more against the final show object */
	for (i = 0; i < b->n; i++) {
		it = &b->items[i];
		if (it->show_tmdb != sm->id)
			continue;
		it->tmdb_season = enrich_resolve_season(sm->show,
		    it->has_season, it->season, jget_str(it->plex, "parentTitle"));
		episode_start(sm, it);
	}
}

static void
chunk_done(struct show_memo *sm, enum src_result r)
{
	if (r != SRC_OK) {
		if (r == SRC_FAIL)
			fail_seasons(sm, sm->want + sm->off + sm->chunk,
			    sm->nwant - sm->off - sm->chunk);
		sm->pass++;
		show_pass(sm);
		return;
	}
	sm->off += sm->chunk;
	show_chunks(sm);
}

/* The seasons past the first call, TMDB_MAX_APPENDS a call, one at a time. */
static void
show_chunks(struct show_memo *sm)
{
	if (sm->off >= sm->nwant) {
		sm->pass++;
		show_pass(sm);
		return;
	}
	sm->chunk = sm->nwant - sm->off < TMDB_MAX_APPENDS ?
	    sm->nwant - sm->off : TMDB_MAX_APPENDS;
	show_call(sm, 0, sm->off, sm->chunk, chunk_done);
}

static void
first_done(struct show_memo *sm, enum src_result r)
{
	if (r != SRC_OK) {
		if (sm->show_r != SRC_NOTFOUND)
			sm->show_r = SRC_FAIL;
		if (r == SRC_FAIL)
			fail_seasons(sm, sm->want + sm->chunk,
			    sm->nwant - sm->chunk);
		show_end(sm);
		return;
	}
	sm->off = sm->chunk;
	show_chunks(sm);
}

/* The calls of a pass: the show with the first seasons when it is wanted. */
static void
show_calls(struct show_memo *sm)
{
	sm->off = 0;
	if (sm->show_r == SRC_MISS || sm->show_r == SRC_FAIL) {
		sm->chunk = sm->nwant < TMDB_MAX_APPENDS - 1 ? sm->nwant :
		    TMDB_MAX_APPENDS - 1;
		show_call(sm, 1, 0, sm->chunk, first_done);
	} else
		show_chunks(sm);
}

static void
show_locked(struct enrich_ctx *ctx, void *arg, int tok)
{
	struct show_memo	*sm = arg;
	char			 key[64];

	sm->tok = tok;
	/* another worker may have fetched it meanwhile */
	show_key(key, sizeof(key), sm->id);
	if (sm->show_r == SRC_MISS)
		sm->show_r = enrich_cache_lookup(ctx, key, &sm->show);
	want_seasons(ctx, sm, sm->b->items, sm->b->n, &sm->want, &sm->nwant);
	if (sm->show_r != SRC_MISS && sm->nwant == 0)
		show_end(sm);
	else
		show_calls(sm);
}

/* One pass of load_show's loop: what is still wanted, under the show's lock. */
static void
show_pass(struct show_memo *sm)
{
	struct enrich_ctx	*ctx = sm->b->ctx;
	char			 key[64];

	if (sm->pass >= 2 || sm->show_r == SRC_NOTFOUND) {
		show_end(sm);
		return;
	}
	want_seasons(ctx, sm, sm->b->items, sm->b->n, &sm->want, &sm->nwant);
	if (sm->show_r == SRC_OK && sm->nwant == 0) {
		show_end(sm);
		return;
	}
	if (ctx->tmdb == NULL) {
		ctx->st.v[ST_OFFLINE_MISSES]++;
		show_end(sm);
		return;
	}
	if (ctx->fatal) {
		show_end(sm);
		return;
	}
	if (sm->tok == -1) {
		show_key(key, sizeof(key), sm->id);
		enrich_lock(ctx, key, show_locked, sm);
	} else
		show_calls(sm);
}

/* --- episodes ------------------------------------------------------------ */

struct ep {
	struct show_memo	*sm;
	struct enrich_item	*it;
};

static void
episode_end(struct show_memo *sm, struct enrich_item *it, struct json_object *e)
{
	if (e != NULL) {
		if (jget_int(e, "show_id", &(int64_t){ 0 }) == 0)
			json_object_object_add(e, "show_id",
			    json_object_new_int64(sm->id));
		it->tmdb = e;
		it->tmdb_kind = TK_EPISODE;
	} else {
		/* DESIGN.md 3: without its own data an episode gets the show's */
		it->tmdb_flags |= sm->flags;
		if (sm->show != NULL) {
			it->tmdb = json_object_get(sm->show);
			it->tmdb_kind = TK_SHOW;
		}
	}
}

static void
episode_answer(struct enrich_ctx *ctx, void *arg, enum src_result r,
    struct json_object *e)
{
	struct ep	*p = arg;

	(void)ctx;
	if (r != SRC_OK) {
		json_object_put(e);
		e = NULL;
	}
	episode_end(p->sm, p->it, e);
	free(p);
}

static void
episode_start(struct show_memo *sm, struct enrich_item *it)
{
	struct season_memo	*s = NULL;
	struct json_object	*e = NULL;
	char			 key[128], path[128];
	struct ep		*p;

	if (it->tmdb_season >= 0) {
		s = season_slot(sm, it->tmdb_season);
		season_cached(sm->b->ctx, sm, s);
	}
	if (s != NULL)
		it->tmdb_flags |= s->flags;
	if (s != NULL && s->obj != NULL && it->has_episode) {
		e = season_episode(s->obj, it->episode);
		if (e == NULL) {
			/* not in the season object: ask for the episode itself */
			snprintf(key, sizeof(key),
			    "tmdb/tv/%lld/season/%lld/episode/%lld",
			    (long long)sm->id, (long long)s->num,
			    (long long)it->episode);
			snprintf(path, sizeof(path),
			    "/3/tv/%lld/season/%lld/episode/%lld",
			    (long long)sm->id, (long long)s->num,
			    (long long)it->episode);
			p = xcalloc(1, sizeof(*p));
			p->sm = sm;
			p->it = it;
			tmdb_get(sm->b->ctx, key, path, &it->tmdb_flags,
			    episode_answer, p);
			return;
		}
		json_object_get(e);
	}
	episode_end(sm, it, e);
}

/* --- the batch's shows ----------------------------------------------------- */

void
tmdb_shows_start(struct tmdb_batch *b)
{
	struct enrich_item	*items = b->items, *it;
	struct show_memo	*sm;
	char			 key[64];
	size_t			 i, k;

	for (i = 0; i < b->n; i++) {
		it = &items[i];
		if (b->leader[i] != SIZE_MAX) {
			it->show_tmdb = items[b->leader[i]].show_tmdb;
			it->tmdb_flags |= items[b->leader[i]].tmdb_flags;
		}
		if (strcmp(it->type, "episode") != 0 || it->show_tmdb == 0)
			continue;
		for (k = 0; k < b->nshows; k++)
			if (b->shows[k]->id == it->show_tmdb)
				break;
		if (k == b->nshows) {
			b->shows = xreallocarray(b->shows, b->nshows + 1,
			    sizeof(*b->shows));
			sm = b->shows[b->nshows++] = xcalloc(1, sizeof(*sm));
			sm->id = it->show_tmdb;
			sm->b = b;
			sm->tok = -1;
		}
	}
	for (k = 0; k < b->nshows && !b->ctx->fatal; k++) {
		sm = b->shows[k];
		show_key(key, sizeof(key), sm->id);
		sm->show_r = enrich_cache_lookup(b->ctx, key, &sm->show);
		show_pass(sm);
	}
}

void
tmdb_shows_free(struct tmdb_batch *b)
{
	struct show_memo	*sm;
	size_t			 i, k;

	for (k = 0; k < b->nshows; k++) {
		sm = b->shows[k];
		for (i = 0; i < sm->nseasons; i++)
			json_object_put(sm->seasons[i].obj);
		free(sm->seasons);
		free(sm->want);
		cache_unlock(sm->tok);
		json_object_put(sm->show);
		free(sm);
	}
	free(b->shows);
}
