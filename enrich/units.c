/* units.c: meta-enrich's parent: input records cut into units and jobs, the next job to hand out, output in input order. */
/*
 * A plex batch or a run of bare items becomes batch units, one points
 * record each, of at most --enrichment-batch-size items; each unit is
 * cut into jobs of at least JOB_ITEMS items for the workers (piece_end
 * says where). Finished units are written from the ring's head only, a
 * batch's record in parts as its jobs finish in order, so output is the
 * same for every -j and what waits for order stays bounded (dispatch.c's
 * comment says how).
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "buf.h"
#include "dispatch.h"
#include "enrich.h"
#include "jsonutil.h"
#include "log.h"
#include "ndjson_write.h"
#include "record.h"
#include "reject.h"
#include "xalloc.h"

struct unit *
disp_unit_at(struct disp *d, size_t ord)
{
	return &d->ring[ord % d->alloc];
}

/*
 * The window (cap) bounds reading; one record can still make more units
 * than that (a big plex batch cut into chunks), so the ring grows.
 */
struct unit *
disp_unit_add(struct disp *d, enum unit_kind kind)
{
	struct unit	*u, *nr;
	size_t		 k, na;

	if (d->count == d->alloc) {
		na = d->alloc * 2;
		nr = xcalloc(na, sizeof(*nr));
		for (k = 0; k < d->count; k++)
			nr[(d->head + k) % na] = d->ring[(d->head + k) % d->alloc];
		free(d->ring);
		d->ring = nr;
		d->alloc = na;
	}
	u = disp_unit_at(d, d->head + d->count);

	memset(u, 0, sizeof(*u));
	u->kind = kind;
	d->count++;
	return u;
}

/* Frees what a job holds (its text once written or rejected). */
static void
job_clear(struct disp *d, struct job *jb)
{
	d->queued -= jb->text != NULL ? jb->len : 0;
	d->waiting -= jb->out.len;
	free(jb->text);
	free(jb->lines);
	buf_free(&jb->out);
	jb->text = NULL;
	jb->lines = NULL;
}

void
disp_unit_clear(struct disp *d, struct unit *u)
{
	size_t	 i;

	for (i = 0; i < u->njobs; i++)
		job_clear(d, &u->jobs[i]);
	free(u->jobs);
	buf_free(&u->out);
	json_object_put(u->end);
	memset(u, 0, sizeof(*u));
}

/* A new job of u: text (taken), its items, the input lines of its items. */
static void
job_add(struct disp *d, struct unit *u, char *text, size_t len,
    size_t nitems, const size_t *lines, size_t nlines)
{
	struct job	*jb;

	u->jobs = xreallocarray(u->jobs, u->njobs + 1, sizeof(*u->jobs));
	jb = &u->jobs[u->njobs++];
	memset(jb, 0, sizeof(*jb));
	jb->text = text;
	jb->len = len;
	jb->lines = xreallocarray(NULL, nlines, sizeof(*jb->lines));
	memcpy(jb->lines, lines, nlines * sizeof(*lines));
	jb->nlines = nlines;
	jb->nitems = nitems;
	d->queued += len;
}

/*
 * What cutting and hinting need of an item (its show, the IMDb id a
 * worker looks up: batch.c looks up movies, episodes and shows with a
 * rating key), kept so that no item's tree outlives its parse.
 */
void
disp_item_fact(struct json_object *it, struct item_fact *f)
{
	struct ext_ids	 ids;
	const char	*t = jget_str(it, "type"), *rk;

	rk = jget_str(it, "grandparentRatingKey");
	f->show = rk != NULL ? xstrdup(rk) : NULL;
	f->imdb[0] = '\0';
	if (t == NULL || jget_str(it, "ratingKey") == NULL ||
	    (strcmp(t, "movie") != 0 && strcmp(t, "episode") != 0 &&
	    strcmp(t, "show") != 0))
		return;
	enrich_ext_ids(it, &ids);
	strlcpy(f->imdb, ids.imdb, sizeof(f->imdb));
}

void
disp_item_facts_free(struct item_fact *f, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		free(f[i].show);
	free(f);
}

/* Hands the IMDb ids of items [from, to) to the look-ahead (lookahead.c). */
static void
hint_items(struct disp *d, const struct item_fact *f, size_t from, size_t to)
{
	size_t	 i;

	if (d->la == NULL)
		return;
	for (i = from; i < to; i++)
		if (f[i].imdb[0] != '\0')
			lookahead_hint(d->la, f[i].imdb);
}

/*
 * Where the piece of items that starts at `start` ends: after `max`
 * items, but never between two episodes of the same show, so that a
 * show's seasons are fetched in one call, not one per piece. For a job
 * (imdb set), also only after a multiple of IMDB_GROUP distinct IMDb
 * ids: a worker asks for a job's ids in groups of that many, so jobs
 * cut there make as few IMDb requests as one whole batch would. Decided
 * by the input alone, so output is the same for every -j.
 */
static size_t
piece_end(const struct item_fact *f, size_t start, size_t n, size_t max,
    int imdb)
{
	struct json_object	*seen = NULL;
	const char		*prev = NULL, *rk;
	size_t			 i, nid = 0;

	if (imdb)
		seen = json_object_new_object();
	for (i = start; i < n; i++) {
		rk = f[i].show;
		if (i - start >= max && nid % IMDB_GROUP == 0 &&
		    (rk == NULL || prev == NULL || strcmp(rk, prev) != 0))
			break;
		prev = rk;
		if (imdb && f[i].imdb[0] != '\0' &&
		    !json_object_object_get_ex(seen, f[i].imdb, NULL)) {
			json_object_object_add(seen, f[i].imdb, NULL);
			nid++;
		}
	}
	json_object_put(seen);
	return i;
}

/* The pending bare items become one batch unit, in jobs of JOB_ITEMS. */
void
disp_flush_bare(struct disp *d)
{
	struct json_object	*job, *arr;
	struct item_fact	*f;
	struct unit		*u;
	const char		*s;
	size_t			 len, n, i, from, to;

	if (d->bare == NULL)
		return;
	n = json_object_array_length(d->bare);
	f = xreallocarray(NULL, n + 1, sizeof(*f));
	for (i = 0; i < n; i++)
		disp_item_fact(json_object_array_get_idx(d->bare, i), &f[i]);
	u = disp_unit_add(d, U_BATCH);
	u->seq = d->next_seq++;
	u->bare = 1;
	for (from = 0; from < n; from = to) {
		to = piece_end(f, from, n, JOB_ITEMS, 1);
		arr = json_object_new_array();
		for (i = from; i < to; i++)
			json_object_array_add(arr, json_object_get(
			    json_object_array_get_idx(d->bare, i)));
		job = json_object_new_object();
		json_object_object_add(job, "items", arr);
		s = ndjson_to_string(job, &len);
		job_add(d, u, xstrndup(s, len), len, to - from,
		    d->bare_lines + from, to - from);
		hint_items(d, f, from, to);
		json_object_put(job);
	}
	disp_item_facts_free(f, n);
	json_object_put(d->bare);
	free(d->bare_lines);
	d->bare = NULL;
	d->bare_lines = NULL;
}

/*
 * Items [from, to) of a plex batch and the shows they need, as a plex
 * record with the batch's other members (kind, seq, section ...), so
 * that a job sent to the reject file replays as it is. "items" is built
 * last, empty, and the items' own texts go between its brackets.
 */
static char *
plex_piece(struct json_object *env, const struct plex_items *pi,
    size_t from, size_t to, size_t *len)
{
	struct json_object	*job, *sub, *sh, *shows = jget_obj(env, "shows");
	struct buf		 b = BUF_INIT;
	const char		*rk, *s;
	size_t			 i, slen;

	job = json_object_new_object();
	json_object_object_foreach(env, k, v)
		if (strcmp(k, "items") != 0 && strcmp(k, "shows") != 0)
			jadd_ref(job, k, v);
	sub = json_object_new_object();
	for (i = from; i < to; i++) {
		rk = pi->facts[i].show;
		if (rk != NULL && (sh = jget_obj(shows, rk)) != NULL &&
		    jget_obj(sub, rk) == NULL)
			jadd_ref(sub, rk, sh);
	}
	json_object_object_add(job, "shows", sub);
	json_object_object_add(job, "items", json_object_new_array());
	s = ndjson_to_string(job, &slen);
	buf_append(&b, s, slen - 2);	/* up to "items":[ */
	for (i = from; i < to; i++) {
		if (i > from)
			buf_append(&b, ",", 1);
		buf_append(&b, pi->text + pi->el[i].off, pi->el[i].len);
	}
	buf_appends(&b, "]}");
	json_object_put(job);
	return buf_release(&b, len);
}

/*
 * A plex batch larger than --enrichment-batch-size is cut into units
 * (points records) so that all workers get work, and each unit into
 * jobs; neither cut falls between two episodes of one show. A job that
 * is the whole batch keeps the batch's own text.
 */
void
disp_split_plex(struct disp *d, struct json_object *env,
    const struct plex_items *pi, const char *raw, size_t len)
{
	struct unit	*u;
	size_t		 n = pi->n, from, to, jfrom, jto, tlen;
	char		*text;

	from = 0;
	do {
		to = n <= (size_t)d->o->batch_size ? n :
		    piece_end(pi->facts, from, n, (size_t)d->o->batch_size, 0);
		u = disp_unit_add(d, U_BATCH);
		u->seq = d->next_seq++;
		jfrom = from;
		do {
			jto = piece_end(pi->facts, jfrom, to, JOB_ITEMS, 1);
			if (jfrom == 0 && jto == n) {
				text = xstrndup(raw, len);
				tlen = len;
			} else
				text = plex_piece(env, pi, jfrom, jto, &tlen);
			job_add(d, u, text, tlen, jto - jfrom, &d->lineno, 1);
			hint_items(d, pi->facts, jfrom, jto);
			jfrom = jto;
		} while (jfrom < to);
		from = to;
	} while (from < n);
}

/* The same for a plex batch parsed whole (j): its items are serialized again. */
void
disp_split_plex_tree(struct disp *d, struct json_object *j, const char *raw,
    size_t len)
{
	struct json_object	*items = jget_arr(j, "items");
	struct plex_items	 pi;
	struct item_fact	*f;
	struct jspan		*el;
	struct buf		 b = BUF_INIT;
	const char		*s;
	size_t			 i, n, slen;

	n = items != NULL ? json_object_array_length(items) : 0;
	f = xreallocarray(NULL, n + 1, sizeof(*f));
	el = xreallocarray(NULL, n + 1, sizeof(*el));
	for (i = 0; i < n; i++) {
		disp_item_fact(json_object_array_get_idx(items, i), &f[i]);
		s = ndjson_to_string(json_object_array_get_idx(items, i),
		    &slen);
		el[i].off = b.len;
		el[i].len = slen;
		buf_append(&b, s, slen);
	}
	pi.text = b.data;
	pi.el = el;
	pi.facts = f;
	pi.n = n;
	disp_split_plex(d, j, &pi, raw, len);
	disp_item_facts_free(f, n);
	free(el);
	buf_free(&b);
}

static struct json_object *
stats_object(struct disp *d)
{
	struct json_object	*o = json_object_new_object();

	/* only counters that the input and cache decide, so -jN output is identical */
	json_object_object_add(o, "items",
	    json_object_new_int64((int64_t)d->st->v[ST_ITEMS]));
	json_object_object_add(o, "batches",
	    json_object_new_int64((int64_t)d->res->batches));
	json_object_object_add(o, "skipped_items",
	    json_object_new_int64((int64_t)d->st->v[ST_SKIPPED]));
	json_object_object_add(o, "with_tmdb",
	    json_object_new_int64((int64_t)d->st->v[ST_WITH_TMDB]));
	json_object_object_add(o, "with_imdb",
	    json_object_new_int64((int64_t)d->st->v[ST_WITH_IMDB]));
	json_object_object_add(o, "stale_served",
	    json_object_new_int64((int64_t)d->st->v[ST_STALE_SERVED]));
	json_object_object_add(o, "degraded",
	    json_object_new_int64((int64_t)d->st->v[ST_DEGRADED]));
	json_object_object_add(o, "rejected",
	    json_object_new_int64((int64_t)reject_count(d->rej)));
	return o;
}

/*
 * The head of unit u's points record, "{...,"points":[" (points is the
 * record's last member): built by record.c like any record, so the
 * record written in parts has the bytes of one written whole.
 */
void
disp_points_head(int64_t seq, struct buf *head)
{
	struct json_object	*rec = record_points_new(seq, NULL);
	const char		*s;
	size_t			 len;

	s = ndjson_to_string(rec, &len);
	buf_reset(head);
	if (len >= 3 && strcmp(s + len - 3, "[]}") == 0)
		buf_append(head, s, len - 2);
	json_object_put(rec);
}

/*
 * Writes what the head unit has ready, in order: a batch's finished jobs
 * (the record's head before the first), its tail once every job is
 * written or rejected. Returns 1 when the unit is finished.
 */
static int
emit_batch(struct disp *d, struct unit *u)
{
	struct buf	 head = BUF_INIT;
	struct job	*jb;

	while (u->emitted < u->njobs) {
		jb = &u->jobs[u->emitted];
		if (jb->state == J_DONE) {
			if (!u->opened) {
				disp_points_head(u->seq, &head);
				ndjson_write_part(d->w, head.data, head.len);
				buf_free(&head);
				u->opened = 1;
			}
			if (jb->out.len > 0) {
				if (u->any)
					ndjson_write_part(d->w, ",", 1);
				ndjson_write_part(d->w, jb->out.data,
				    jb->out.len);
				u->any = 1;
			}
		} else if (jb->state != J_FAILED)
			return 0;
		job_clear(d, jb);
		u->emitted++;
	}
	/* a batch all of whose jobs were rejected writes nothing */
	if (u->opened) {
		ndjson_write_raw(d->w, "]}", 2);
		d->res->batches++;
	}
	return 1;
}

void
disp_emit(struct disp *d)
{
	struct unit	*u;

	while (d->count > 0) {
		u = disp_unit_at(d, d->head);
		if (u->kind == U_BATCH) {
			if (!emit_batch(d, u))
				break;
		} else if (!u->done)
			break;
		else if (u->kind == U_END) {
			record_end_add_stats(u->end, "meta-enrich",
			    stats_object(d));
			ndjson_write(d->w, u->end);
		} else
			ndjson_write_raw(d->w, u->out.data, u->out.len);
		disp_unit_clear(d, u);
		d->head++;
		d->count--;
	}
	log_progress((size_t)d->st->v[ST_ITEMS]);	/* items enriched so far */
}

/*
 * Stopping with a points record half written: its tail goes out, so
 * that the output ends with whole lines (the points it has are good).
 */
void
disp_emit_close(struct disp *d)
{
	struct unit	*u;

	if (d->count == 0)
		return;
	u = disp_unit_at(d, d->head);
	if (u->kind == U_BATCH && u->opened && u->emitted < u->njobs) {
		ndjson_write_raw(d->w, "]}", 2);
		d->res->batches++;
		u->opened = 0;
	}
}

/*
 * The oldest job not at a worker, if it may be handed out: the oldest
 * unwritten job always may (a retry after a death included); a later
 * one only within JOB_AHEAD jobs of it and while WAIT_MAX bytes of
 * points are not already waiting for it. When stopping, only jobs of
 * batches already started, so that those are written whole.
 */
struct job *
disp_next_job(struct disp *d, int stopping, size_t *ord, size_t *idx)
{
	struct unit	*u;
	struct job	*jb;
	size_t		 k, i, ahead = 0;

	for (k = 0; k < d->count; k++) {
		u = disp_unit_at(d, d->head + k);
		if (u->kind != U_BATCH)
			continue;
		if (stopping && !u->started)
			return NULL;
		for (i = u->emitted; i < u->njobs; i++, ahead++) {
			jb = &u->jobs[i];
			if (jb->state != J_WAIT)
				continue;
			if (ahead > 0 && (ahead >= JOB_AHEAD(d->nw) ||
			    d->waiting >= WAIT_MAX))
				return NULL;
			*ord = d->head + k;
			*idx = i;
			return jb;
		}
	}
	return NULL;
}
