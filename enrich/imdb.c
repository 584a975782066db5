/* imdb.c: imdbapi.dev titles:batchGet (at most 5 ids), 400 split in halves, failures to the retry queue. */
/*
 * A batch's answers are kept in memory (a memo: id -> title or null) as
 * well as written to the cache, so the points are complete even when the
 * cache cannot be written. An id whose fetch fails falls back to its
 * expired cache entry (ENRICH_STALE), else the item lacks IMDb data
 * because IMDb failed (ENRICH_FAILED); either way the id goes to the
 * retry queue.
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

#define IMDB_BATCH_MAX	5	/* the API's documented maximum per batchGet */

static void
imdb_key(const char *id, char *key, size_t n)
{
	snprintf(key, n, "imdb/%s", id);
}

/* Stores each requested id: its title when the answer has it, else null. */
static void
store_answer(struct enrich_ctx *ctx, char **ids, size_t n,
    struct json_object *titles, struct json_object *memo)
{
	struct json_object	*t, *found;
	const char		*tid;
	char			 key[64];
	size_t			 i, j, nt;

	nt = titles != NULL ? json_object_array_length(titles) : 0;
	for (i = 0; i < n; i++) {
		found = NULL;
		for (j = 0; j < nt && found == NULL; j++) {
			t = json_object_array_get_idx(titles, j);
			tid = jget_str(t, "id");
			if (tid != NULL && strcmp(tid, ids[i]) == 0)
				found = t;
		}
		imdb_key(ids[i], key, sizeof(key));
		enrich_cache_store(ctx, key, found);
		if (memo != NULL)
			json_object_object_add(memo, ids[i],
			    json_object_get(found));
	}
}

/*
 * A batch's missing ids, sorted and de-duplicated, so every process takes
 * the locks in one order (no two wait on each other). Each id is locked
 * and looked up again (another worker may have fetched it meanwhile),
 * then joins a group of at most 5; a full group goes on the wire at
 * once, at most max_in_flight groups at a time, and keeps its locks
 * until its answer is stored.
 */
struct imdb_job {
	struct enrich_ctx	*ctx;
	struct json_object	*memo;		/* id -> title or null; NULL:
						   not kept */
	char			**ids;		/* borrowed strings */
	size_t			 m;
	size_t			 next;		/* the next id to lock */
	int			 locking;	/* ids[next - 1] waits for its
						   lock */
	int			 pumping;
	int			 groups;	/* groups in flight */
	int			 max_groups;
	struct imdb_group	*cur;		/* being filled */
	size_t			 failed;
};

struct imdb_group {
	struct imdb_job	*job;
	char		*ids[IMDB_BATCH_MAX];
	int		 locks[IMDB_BATCH_MAX];
	size_t		 n;
	int		 parts;		/* requests outstanding: a 400 splits */
};

struct imdb_part {
	struct imdb_group	*g;
	char			**ids;
	size_t			 n;
};

static void pump(struct imdb_job *);
static void part_done(struct enrich_ctx *, void *, long,
    const struct http_response *);

/* One batchGet for n <= 5 ids of group g (a 400 is split in halves). */
static void
fetch_part(struct imdb_group *g, char **ids, size_t n)
{
	struct imdb_part	*p;
	struct buf		 path = BUF_INIT;
	size_t			 i;

	p = xcalloc(1, sizeof(*p));
	p->g = g;
	p->ids = ids;
	p->n = n;
	g->parts++;
	buf_appends(&path, "/titles:batchGet");
	for (i = 0; i < n; i++)
		buf_printf(&path, "%stitleIds=%s", i == 0 ? "?" : "&", ids[i]);
	enrich_get(g->job->ctx, SVC_IMDB, path.data, part_done, p);
	buf_free(&path);
}

static void
group_done(struct imdb_group *g)
{
	struct imdb_job	*job = g->job;
	size_t		 i;

	for (i = 0; i < g->n; i++)
		cache_unlock(g->locks[i]);
	free(g);
	job->groups--;
	pump(job);
}

/* The answer of one batchGet: stored, split (400) or failed to the queue. */
static void
part_done(struct enrich_ctx *ctx, void *arg, long st,
    const struct http_response *resp)
{
	struct imdb_part	*p = arg;
	struct imdb_group	*g = p->g;
	struct json_object	*memo = g->job->memo, *j;
	struct ndjson_error	 err;
	size_t			 i;

	if (http_ok(st)) {
		j = resp->body.data != NULL ?
		    ndjson_parse_string(resp->body.data, resp->body.len, &err) :
		    NULL;
		if (j != NULL) {
			store_answer(ctx, p->ids, p->n, jget_arr(j, "titles"),
			    memo);
			json_object_put(j);
			goto done;
		}
		log_warn("imdb: batchGet answer is not a JSON object");
	} else if (st == 400 && p->n > 1) {
		/* one bad id fails the whole batch: isolate it */
		fetch_part(g, p->ids, p->n / 2);
		fetch_part(g, p->ids + p->n / 2, p->n - p->n / 2);
		goto done;
	} else if (st == 404) {
		store_answer(ctx, p->ids, p->n, NULL, memo);
		goto done;
	} else if (ctx->hints_only) {
		/* the worker that needs these ids asks again and says so */
		log_debug("imdb look-ahead: %s", resp->error);
	} else if (st == 400) {
		log_warn("imdb: id %s is refused (400); kept in the retry queue",
		    p->ids[0]);
		/* the id, not the service, is the trouble: no data, not degraded */
		if (memo != NULL)
			json_object_object_add(memo, p->ids[0], NULL);
	} else if (st != ENRICH_DOWN)
		log_warn("%s", resp->error);
	for (i = 0; i < p->n; i++)
		enrich_ctx_queue_id(ctx, p->ids[i]);
	ctx->st.v[ST_IMDB_FAILURES] += p->n;
	g->job->failed += p->n;
done:
	free(p);
	if (--g->parts == 0)
		group_done(g);
}

static void
send_group(struct imdb_job *job)
{
	struct imdb_group	*g = job->cur;

	job->cur = NULL;
	job->groups++;
	fetch_part(g, g->ids, g->n);
}

/* ids[next - 1] is locked (or goes unlocked): cached now, or joins a group. */
static void
id_locked(struct enrich_ctx *ctx, void *arg, int tok)
{
	struct imdb_job		*job = arg;
	struct json_object	*j;
	char			*id = job->ids[job->next - 1], key[64];

	job->locking = 0;
	imdb_key(id, key, sizeof(key));
	/* someone may have fetched it while we waited */
	if (enrich_cache_lookup(ctx, key, &j) != SRC_MISS) {
		if (job->memo != NULL)
			json_object_object_add(job->memo, id, j);
		else
			json_object_put(j);
		cache_unlock(tok);
	} else {
		if (job->cur == NULL) {
			job->cur = xcalloc(1, sizeof(*job->cur));
			job->cur->job = job;
		}
		job->cur->ids[job->cur->n] = id;
		job->cur->locks[job->cur->n++] = tok;
		if (job->cur->n == IMDB_BATCH_MAX)
			send_group(job);
	}
	pump(job);
}

/* Locks the next ids while groups may start; the last group goes part full. */
static void
pump(struct imdb_job *job)
{
	char	 key[64];

	if (job->pumping)
		return;		/* id_locked ran inside enrich_lock below */
	job->pumping = 1;
	while (!job->locking && job->next < job->m &&
	    job->groups < job->max_groups) {
		imdb_key(job->ids[job->next++], key, sizeof(key));
		job->locking = 1;
		enrich_lock(job->ctx, key, id_locked, job);
	}
	if (!job->locking && job->next == job->m && job->cur != NULL)
		send_group(job);
	job->pumping = 0;
}

/* Starts fetching the ids (none without a client); enrich_run does the rest. */
static struct imdb_job *
imdb_fetch_start(struct enrich_ctx *ctx, char **in, size_t n,
    struct json_object *memo)
{
	struct imdb_job	*job;
	size_t		 i;

	job = xcalloc(1, sizeof(*job));
	job->ctx = ctx;
	job->memo = memo;
	if (n == 0 || ctx->imdb == NULL)
		return job;
	job->max_groups = ctx->o->max_in_flight > 0 ? ctx->o->max_in_flight :
	    ENRICH_MAX_IN_FLIGHT;
	job->ids = xreallocarray(NULL, n, sizeof(*job->ids));
	memcpy(job->ids, in, n * sizeof(*job->ids));
	qsort(job->ids, n, sizeof(*job->ids), strp_cmp);
	for (i = 0; i < n; i++)
		if (job->m == 0 || strcmp(job->ids[job->m - 1], job->ids[i]) != 0)
			job->ids[job->m++] = job->ids[i];
	pump(job);
	return job;
}

struct imdb_job *
enrich_imdb_fetch_start(struct enrich_ctx *ctx, char **in, size_t n)
{
	return imdb_fetch_start(ctx, in, n, NULL);
}

int
enrich_imdb_fetch_done(const struct imdb_job *job)
{
	return job->next == job->m && !job->locking && job->groups == 0 &&
	    job->cur == NULL;
}

/* After enrich_run: how many ids failed. */
size_t
enrich_imdb_fetch_end(struct imdb_job *job)
{
	size_t	 failed = job->failed;

	free(job->ids);
	free(job);
	return failed;
}

size_t
enrich_imdb_fetch(struct enrich_ctx *ctx, char **in, size_t n)
{
	struct imdb_job	*job = imdb_fetch_start(ctx, in, n, NULL);

	enrich_run(ctx);
	return enrich_imdb_fetch_end(job);
}

struct imdb_batch {
	struct enrich_ctx	*ctx;
	struct enrich_item	*items;
	size_t			 n;
	unsigned char		*miss;		/* items whose id was not
						   cached */
	struct json_object	*memo;
	struct imdb_job		*job;
};

struct imdb_batch *
enrich_imdb_start(struct enrich_ctx *ctx, struct enrich_item *items, size_t n)
{
	struct imdb_batch	*b;
	struct json_object	*j;
	char			**missing, key[64];
	size_t			 i, nm = 0;

	if (!ctx->use_imdb)
		return NULL;
	b = xcalloc(1, sizeof(*b));
	b->ctx = ctx;
	b->items = items;
	b->n = n;
	missing = xreallocarray(NULL, n + 1, sizeof(*missing));
	b->miss = xcalloc(n + 1, 1);
	for (i = 0; i < n; i++) {
		if (items[i].ids.imdb[0] == '\0')
			continue;
		imdb_key(items[i].ids.imdb, key, sizeof(key));
		if (enrich_cache_lookup(ctx, key, &j) == SRC_MISS) {
			missing[nm++] = items[i].ids.imdb;
			b->miss[i] = 1;
		} else
			items[i].imdb = j;	/* NULL for a cached "not found" */
	}
	b->memo = json_object_new_object();
	b->job = imdb_fetch_start(ctx, missing, nm, b->memo);
	free(missing);
	return b;
}

void
enrich_imdb_finish(struct imdb_batch *b)
{
	struct enrich_ctx	*ctx;
	struct enrich_item	*items;
	struct json_object	*j;
	char			 key[64];
	size_t			 i;

	if (b == NULL)
		return;
	ctx = b->ctx;
	items = b->items;
	(void)enrich_imdb_fetch_end(b->job);
	for (i = 0; i < b->n; i++) {
		if (!b->miss[i])
			continue;
		if (json_object_object_get_ex(b->memo, items[i].ids.imdb, &j)) {
			items[i].imdb = json_object_get(j);
			continue;
		}
		if (ctx->imdb == NULL) {
			ctx->st.v[ST_OFFLINE_MISSES]++;
			continue;
		}
		imdb_key(items[i].ids.imdb, key, sizeof(key));
		if (enrich_cache_stale(ctx, SVC_IMDB, key, &j,
		    &items[i].imdb_flags) == SRC_OK)
			items[i].imdb = j;
	}
	json_object_put(b->memo);
	free(b->miss);
	free(b);
}
