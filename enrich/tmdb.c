/* tmdb.c: TMDb for a batch with the fewest calls: a movie per call, a show with its seasons per call. */
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
 */
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

#define TMDB_MAX_APPENDS	20	/* TMDb refuses more (status_code 27) */

/* One GET; 401 makes the run stop (ctx->fatal). */
static enum src_result
tmdb_call(struct enrich_ctx *ctx, const char *path, struct json_object **out)
{
	struct http_response resp;
	struct ndjson_error err;
	struct buf full = BUF_INIT;
	enum src_result r = SRC_FAIL;
	long st;

	*out = NULL;
	buf_appends(&full, path);
	if (ctx->tmdb_auth_query[0] != '\0')
		buf_printf(&full, "%c%s", strchr(path, '?') ? '&' : '?',
		    ctx->tmdb_auth_query);
	memset(&resp, 0, sizeof(resp));
	st = enrich_call(ctx, SVC_TMDB, full.data, &resp);
	buf_free(&full);
	if (http_ok(st)) {
		*out = resp.body.data != NULL ? ndjson_parse_string(resp.body.data,
		    resp.body.len, &err) : NULL;
		if (*out != NULL)
			r = SRC_OK;
		else
			log_warn("tmdb: GET %s: the answer is not a JSON object",
			    path);
	} else if (st == 404) {
		r = SRC_NOTFOUND;
		ctx->st.v[ST_TMDB_NOT_FOUND]++;
	} else if (st == 401) {
		ctx->fatal = 1;
		snprintf(ctx->fatal_msg, sizeof(ctx->fatal_msg),
		    "tmdb: the API key was refused (401); check TMDB_API_KEY");
		r = SRC_FATAL;
	} else if (st != ENRICH_DOWN)
		log_warn("%s", resp.error);
	if (r == SRC_FAIL)
		ctx->st.v[ST_TMDB_FAILURES]++;
	http_response_free(&resp);
	return r;
}

/*
 * A single-key answer: cache, else (locked) a call whose answer is cached,
 * else the expired entry (flags says which).
 */
static enum src_result
tmdb_get(struct enrich_ctx *ctx, const char *key, const char *path,
    struct json_object **out, unsigned *flags)
{
	enum src_result r;
	int tok;

	if ((r = enrich_cache_lookup(ctx, key, out)) != SRC_MISS)
		return r;
	if (ctx->tmdb == NULL) {
		ctx->st.v[ST_OFFLINE_MISSES]++;
		return SRC_MISS;
	}
	if (ctx->fatal)
		return SRC_FATAL;
	tok = cache_lock(ctx->cache, key);
	if ((r = enrich_cache_lookup(ctx, key, out)) == SRC_MISS) {
		r = tmdb_call(ctx, path, out);
		if (r == SRC_OK)
			enrich_cache_store(ctx, key, *out);
		else if (r == SRC_NOTFOUND)
			enrich_cache_store(ctx, key, NULL);
		else if (r == SRC_FAIL)
			r = enrich_cache_stale(ctx, SVC_TMDB, key, out, flags);
	}
	cache_unlock(tok);
	return r;
}

/* /3/find by an external id: the first id in `list` (or its member `field`). */
static int64_t
find_id(struct enrich_ctx *ctx, const char *source, const char *extid,
    const char *list, const char *field, unsigned *flags)
{
	struct json_object *j = NULL, *arr;
	char key[128], path[160];
	int64_t id = 0;

	snprintf(key, sizeof(key), "tmdb/find/%s/%s", source, extid);
	snprintf(path, sizeof(path), "/3/find/%s?external_source=%s", extid,
	    source);
	if (tmdb_get(ctx, key, path, &j, flags) == SRC_OK &&
	    (arr = jget_arr(j, list)) != NULL &&
	    json_object_array_length(arr) > 0)
		jget_int(json_object_array_get_idx(arr, 0), field, &id);
	json_object_put(j);
	return id;
}

static int64_t
find_by_ids(struct enrich_ctx *ctx, const struct ext_ids *ids,
    const char *list, const char *field, unsigned *flags)
{
	char num[32];
	int64_t id = 0;

	if (ids->imdb[0] != '\0')
		id = find_id(ctx, "imdb_id", ids->imdb, list, field, flags);
	if (id == 0 && ids->tvdb != 0) {
		snprintf(num, sizeof(num), "%lld", (long long)ids->tvdb);
		id = find_id(ctx, "tvdb_id", num, list, field, flags);
	}
	return id;
}

/*
 * A movie or a show: one call with its reviews appended (DESIGN 4); without
 * a TMDb id, /3/find by the IMDb or TVDB id first. kind is "movie" or "tv".
 */
static void
title_item(struct enrich_ctx *ctx, struct enrich_item *it, const char *kind,
    const char *find_list, enum tmdb_kind tk)
{
	struct json_object *j = NULL;
	char key[64], path[96];
	int64_t id = it->ids.tmdb;

	if (id == 0)
		id = find_by_ids(ctx, &it->ids, find_list, "id", &it->tmdb_flags);
	if (id == 0)
		return;
	snprintf(key, sizeof(key), "tmdb/%s/%lld", kind, (long long)id);
	snprintf(path, sizeof(path), "/3/%s/%lld?append_to_response=reviews",
	    kind, (long long)id);
	if (tmdb_get(ctx, key, path, &j, &it->tmdb_flags) == SRC_OK) {
		it->tmdb = j;
		it->tmdb_kind = tk;
	}
}

/* --- shows and their seasons ------------------------------------------ */

struct season_memo {
	int64_t		 num;
	struct json_object *obj;	/* NULL: not found / not cached */
	int		 tried;		/* fetched (or failed) in this batch */
	int		 failed;	/* its fetch failed */
	unsigned	 flags;		/* ENRICH_STALE, ENRICH_FAILED */
};

struct show_memo {
	int64_t		 id;
	struct json_object *show;	/* NULL until known */
	enum src_result	 show_r;
	unsigned	 flags;		/* of the show: ENRICH_STALE, ENRICH_FAILED */
	struct season_memo *seasons;
	size_t		 nseasons;
};

static struct season_memo *
season_slot(struct show_memo *sm, int64_t num)
{
	size_t i;

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
	char key[96];
	enum src_result r;

	if (s->obj != NULL || s->tried)
		return 1;
	season_key(key, sizeof(key), sm->id, s->num);
	r = enrich_cache_lookup(ctx, key, &s->obj);
	if (r == SRC_NOTFOUND)
		s->tried = 1;
	return r != SRC_MISS;
}

/*
 * One /3/tv/{id} call appending reviews (when the show is wanted) and the
 * given seasons; stores the show (season members removed) and each season.
 */
static enum src_result
show_call(struct enrich_ctx *ctx, struct show_memo *sm, int with_show,
    const size_t *want, size_t n)
{
	struct json_object *j = NULL, *s;
	struct buf path = BUF_INIT;
	char key[96], member[48];
	enum src_result r;
	size_t i;

	buf_printf(&path, "/3/tv/%lld", (long long)sm->id);
	for (i = 0; i < n + (with_show ? 1 : 0); i++) {
		buf_appends(&path, i == 0 ? "?append_to_response=" : ",");
		if (with_show && i == 0)
			buf_appends(&path, "reviews");
		else
			buf_printf(&path, "season/%lld",
			    (long long)sm->seasons[want[i - (with_show ? 1 : 0)]].num);
	}
	r = tmdb_call(ctx, path.data, &j);
	buf_free(&path);
	if (r == SRC_NOTFOUND && with_show) {
		snprintf(key, sizeof(key), "tmdb/tv/%lld", (long long)sm->id);
		enrich_cache_store(ctx, key, NULL);
		sm->show_r = SRC_NOTFOUND;
	}
	for (i = 0; i < n; i++) {
		sm->seasons[want[i]].tried = 1;
		sm->seasons[want[i]].failed = r == SRC_FAIL;
	}
	if (r != SRC_OK)
		return r;
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
		struct json_object_iterator it = json_object_iter_begin(j);
		struct json_object_iterator end = json_object_iter_end(j);
		const char *found = NULL;

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
	return SRC_OK;
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
	struct season_memo *s;
	int64_t num;
	size_t i, k, idx;

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
	size_t i;

	for (i = 0; i < n; i++) {
		sm->seasons[want[i]].tried = 1;
		sm->seasons[want[i]].failed = 1;
	}
}

/* After failed calls: the show and seasons from expired cache entries. */
static void
show_stale(struct enrich_ctx *ctx, struct show_memo *sm)
{
	struct season_memo *s;
	enum src_result r;
	char key[96];
	size_t i;

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

/* Makes the show and the seasons its episodes need known, with the fewest calls. */
static void
load_show(struct enrich_ctx *ctx, struct show_memo *sm,
    struct enrich_item *items, size_t n)
{
	size_t *want = NULL;
	char key[64];
	size_t nwant, off, chunk;
	enum src_result r;
	int tok = -1, pass;

	snprintf(key, sizeof(key), "tmdb/tv/%lld", (long long)sm->id);
	sm->show_r = enrich_cache_lookup(ctx, key, &sm->show);
	/* two passes: the second picks up seasons only the fetched show resolves */
	for (pass = 0; pass < 2 && sm->show_r != SRC_NOTFOUND; pass++) {
		want_seasons(ctx, sm, items, n, &want, &nwant);
		if (sm->show_r == SRC_OK && nwant == 0)
			break;
		if (ctx->tmdb == NULL) {
			ctx->st.v[ST_OFFLINE_MISSES]++;
			break;
		}
		if (ctx->fatal)
			break;
		if (tok == -1) {
			tok = cache_lock(ctx->cache, key);
			/* another worker may have fetched it meanwhile */
			if (sm->show_r == SRC_MISS)
				sm->show_r = enrich_cache_lookup(ctx, key,
				    &sm->show);
			want_seasons(ctx, sm, items, n, &want, &nwant);
			if (sm->show_r != SRC_MISS && nwant == 0)
				break;
		}
		off = 0;
		if (sm->show_r == SRC_MISS || sm->show_r == SRC_FAIL) {
			chunk = nwant < TMDB_MAX_APPENDS - 1 ? nwant :
			    TMDB_MAX_APPENDS - 1;
			if ((r = show_call(ctx, sm, 1, want, chunk)) != SRC_OK) {
				if (sm->show_r != SRC_NOTFOUND)
					sm->show_r = SRC_FAIL;
				if (r == SRC_FAIL)
					fail_seasons(sm, want + chunk,
					    nwant - chunk);
				break;
			}
			off = chunk;
		}
		for (; off < nwant; off += chunk) {
			chunk = nwant - off < TMDB_MAX_APPENDS ? nwant - off :
			    TMDB_MAX_APPENDS;
			if ((r = show_call(ctx, sm, 0, want + off, chunk)) !=
			    SRC_OK) {
				if (r == SRC_FAIL)
					fail_seasons(sm, want + off + chunk,
					    nwant - off - chunk);
				break;
			}
		}
	}
	show_stale(ctx, sm);
	cache_unlock(tok);
	free(want);
}

/* The episode object of a season's episodes[] with this number, or NULL. */
static struct json_object *
season_episode(struct json_object *season, int64_t num)
{
	struct json_object *eps = jget_arr(season, "episodes"), *e;
	int64_t en;
	size_t i, n;

	n = eps != NULL ? json_object_array_length(eps) : 0;
	for (i = 0; i < n; i++) {
		e = json_object_array_get_idx(eps, i);
		if (jget_int(e, "episode_number", &en) && en == num)
			return e;
	}
	return NULL;
}

static void
episode(struct enrich_ctx *ctx, struct show_memo *sm, struct enrich_item *it)
{
	struct season_memo *s = NULL;
	struct json_object *e = NULL;
	char key[128], path[128];

	if (it->tmdb_season >= 0) {
		s = season_slot(sm, it->tmdb_season);
		season_cached(ctx, sm, s);
	}
	if (s != NULL)
		it->tmdb_flags |= s->flags;
	if (s != NULL && s->obj != NULL && it->has_episode) {
		e = season_episode(s->obj, it->episode);
		if (e != NULL)
			json_object_get(e);
		else {
			/* not in the season object: ask for the episode itself */
			snprintf(key, sizeof(key),
			    "tmdb/tv/%lld/season/%lld/episode/%lld",
			    (long long)sm->id, (long long)s->num,
			    (long long)it->episode);
			snprintf(path, sizeof(path),
			    "/3/tv/%lld/season/%lld/episode/%lld",
			    (long long)sm->id, (long long)s->num,
			    (long long)it->episode);
			if (tmdb_get(ctx, key, path, &e, &it->tmdb_flags) !=
			    SRC_OK)
				e = NULL;
		}
	}
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

/* The series id of an episode: the show's Guid, else /3/find. */
static int64_t
series_id(struct enrich_ctx *ctx, struct enrich_item *it)
{
	char num[32];
	int64_t id = 0;

	if (it->show != NULL) {
		if (it->show_ids.tmdb != 0)
			return it->show_ids.tmdb;
		id = find_by_ids(ctx, &it->show_ids, "tv_results", "id",
		    &it->tmdb_flags);
	}
	if (id == 0 && it->ids.show_tvdb != 0) {
		snprintf(num, sizeof(num), "%lld", (long long)it->ids.show_tvdb);
		id = find_id(ctx, "tvdb_id", num, "tv_results", "id",
		    &it->tmdb_flags);
	}
	if (id == 0)
		id = find_by_ids(ctx, &it->ids, "tv_episode_results", "show_id",
		    &it->tmdb_flags);
	return id;
}

/*
 * An earlier episode of the same show in this batch that already looked
 * for the series id and found none, or NULL: one /3/find per show, not
 * per episode.
 */
static const struct enrich_item *
tried_show(const struct enrich_item *items, size_t i, const char *rk)
{
	const char *rk2;
	size_t k;

	if (rk == NULL)
		return NULL;
	for (k = 0; k < i; k++) {
		rk2 = jget_str(items[k].plex, "grandparentRatingKey");
		if (strcmp(items[k].type, "episode") == 0 && rk2 != NULL &&
		    strcmp(rk, rk2) == 0)
			return &items[k];
	}
	return NULL;
}

void
enrich_tmdb_batch(struct enrich_ctx *ctx, struct enrich_item *items, size_t n)
{
	struct show_memo *shows = NULL;
	const struct enrich_item *prev;
	size_t i, k, nshows = 0;
	const char *rk, *rk2;

	if (!ctx->use_tmdb)
		return;
	for (i = 0; i < n && !ctx->fatal; i++) {
		if (strcmp(items[i].type, "movie") == 0)
			title_item(ctx, &items[i], "movie", "movie_results",
			    TK_MOVIE);
		else if (strcmp(items[i].type, "show") == 0)
			title_item(ctx, &items[i], "tv", "tv_results", TK_SHOW);
		else if (strcmp(items[i].type, "episode") == 0) {
			/* episodes of one show in the batch share its series id */
			rk = jget_str(items[i].plex, "grandparentRatingKey");
			for (k = 0; k < i && rk != NULL; k++) {
				rk2 = jget_str(items[k].plex,
				    "grandparentRatingKey");
				if (items[k].show_tmdb != 0 && rk2 != NULL &&
				    strcmp(rk, rk2) == 0) {
					items[i].show_tmdb = items[k].show_tmdb;
					items[i].tmdb_flags |= items[k].tmdb_flags;
					break;
				}
			}
			if (items[i].show_tmdb == 0 &&
			    (prev = tried_show(items, i, rk)) != NULL)
				items[i].tmdb_flags |= prev->tmdb_flags;
			else if (items[i].show_tmdb == 0)
				items[i].show_tmdb = series_id(ctx, &items[i]);
			if (items[i].show_tmdb == 0)
				continue;
			for (k = 0; k < nshows; k++)
				if (shows[k].id == items[i].show_tmdb)
					break;
			if (k == nshows) {
				shows = xreallocarray(shows, nshows + 1,
				    sizeof(*shows));
				memset(&shows[nshows], 0, sizeof(*shows));
				shows[nshows++].id = items[i].show_tmdb;
			}
		}
	}
	for (k = 0; k < nshows && !ctx->fatal; k++) {
		load_show(ctx, &shows[k], items, n);
		/* resolve once more against the final show object */
		for (i = 0; i < n; i++)
			if (items[i].show_tmdb == shows[k].id) {
				items[i].tmdb_season = enrich_resolve_season(
				    shows[k].show, items[i].has_season,
				    items[i].season,
				    jget_str(items[i].plex, "parentTitle"));
				episode(ctx, &shows[k], &items[i]);
			}
	}
	for (k = 0; k < nshows; k++) {
		for (i = 0; i < shows[k].nseasons; i++)
			json_object_put(shows[k].seasons[i].obj);
		free(shows[k].seasons);
		json_object_put(shows[k].show);
	}
	free(shows);
}
