/* test_ingest_listing.c: paging, metadata merge, collections, duplicates, shows and failures of plex-ingest's listing loop. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "ndjson_write.h"
#include "tap.h"
#include "test_ingest_fake.h"

#define is_n(got, want, ...) do {					\
	long long g_ = (got), w_ = (want);				\
	if (!ok(g_ == w_, __VA_ARGS__))					\
		tap_diag("got %lld, want %lld", g_, w_);		\
} while (0)

#define NMOVIES1	23
#define NMOVIES3	5

static void
build(struct fake_lib *f)
{
	char rk[32];
	int i;

	for (i = 0; i < NMOVIES1; i++) {
		snprintf(rk, sizeof(rk), "%d", 100 + i);
		fake_item(f, "1", PLEX_TYPE_MOVIE, "movie", rk, NULL);
		if (i % 8 == 3) {	/* collections mixed into the listing */
			snprintf(rk, sizeof(rk), "c%d", i);
			fake_item(f, "1", PLEX_TYPE_MOVIE, "collection", rk, NULL);
		}
	}
	for (i = 0; i < NMOVIES3; i++) {
		/* 105 is also in section 1: written once */
		snprintf(rk, sizeof(rk), "%d", i == 0 ? 105 : 300 + i);
		fake_item(f, "3", PLEX_TYPE_MOVIE, "movie", rk, NULL);
	}
	for (i = 0; i < 16; i++) {
		snprintf(rk, sizeof(rk), "e%d", i);
		fake_item(f, "2", PLEX_TYPE_EPISODE, "episode", rk,
		    i < 10 ? "900" : "901");
	}
	fake_show(f, "900");
	fake_show(f, "901");
}

struct result {
	int	 rc;
	size_t	 items, batches, max_batch, with_full, collections, dups;
	size_t	 eps, eps_with_show;
	int	 all_complete;
};

static void
check_lines(FILE *fp, size_t chunk, struct result *r)
{
	struct json_object *rec, *items, *it, *shows, *seen;
	char *line = NULL;
	size_t cap = 0, i, n;
	const char *gp, *rk;
	ssize_t len;

	seen = json_object_new_object();
	rewind(fp);
	while ((len = getline(&line, &cap, fp)) > 0) {
		rec = json_tokener_parse(line);
		if (rec == NULL || strcmp(jget_str(rec, "kind"), "plex") != 0) {
			json_object_put(rec);
			continue;
		}
		r->batches++;
		items = jget_arr(rec, "items");
		shows = jget_obj(rec, "shows");
		n = json_object_array_length(items);
		if (n > r->max_batch)
			r->max_batch = n;
		for (i = 0; i < n; i++) {
			it = json_object_array_get_idx(items, i);
			rk = jget_str(it, "ratingKey");
			r->items++;
			if (json_object_object_get_ex(seen, rk, NULL))
				r->dups++;
			json_object_object_add(seen, rk, NULL);
			if (strcmp(jget_str(it, "type"), "collection") == 0)
				r->collections++;
			if (jget_arr(it, "Guid") != NULL &&
			    json_object_array_length(jget_arr(it, "Role")) == 3)
				r->with_full++;
			if ((gp = jget_str(it, "grandparentRatingKey")) != NULL) {
				r->eps++;
				if (jget_arr(jget_obj(shows, gp), "Guid") != NULL)
					r->eps_with_show++;
			}
		}
		json_object_put(rec);
	}
	(void)chunk;
	free(line);
	json_object_put(seen);
}

static void
run_all(struct fake_lib *f, struct plex_source *src, long chunk, size_t limit,
    struct result *r, FILE **fpo)
{
	struct ingest_listing *ls;
	struct ingest_out out;
	struct ingest_run run;
	struct json_object *root;
	char err[256];
	long total;
	int i, n, to_end;
	FILE *fp = tmpfile();

	memset(r, 0, sizeof(*r));
	f->listing_calls = f->meta_calls = 0;
	f->max_page_keys = 0;
	memset(&out, 0, sizeof(out));
	out.w = ndjson_writer_new(fp, "test");
	memset(&run, 0, sizeof(run));
	run.src = src;
	run.out = &out;
	run.seen = ingest_keyset_new();
	run.shows = ingest_show_cache_new(4);
	run.chunk = chunk;
	run.since = -1;
	run.limit = limit;
	plex_src_sections(src, &root);
	n = ingest_select(root, NULL, 0, INGEST_WANT_MOVIE | INGEST_WANT_EPISODE,
	    &ls, err, sizeof(err));
	json_object_put(root);
	r->all_complete = 1;
	for (i = 0; i < n && !run.limit_hit; i++) {
		r->rc = ingest_list(&run, &ls[i], &total, &to_end);
		if (r->rc != PLEX_OK)
			break;
		r->all_complete &= to_end;
	}
	ndjson_writer_close(out.w, 0);
	check_lines(fp, (size_t)chunk, r);
	if (fpo != NULL)
		*fpo = fp;
	else
		fclose(fp);
	ingest_listings_free(ls, (size_t)n);
	ingest_keyset_free(run.seen);
	ingest_show_cache_free(run.shows);
}

/* Movies among the first n rows of section 1's listing. */
static size_t
movies_in(struct fake_lib *f, size_t n)
{
	struct json_object *rows = fake_rows(f, "1", PLEX_TYPE_MOVIE);
	size_t i, m = 0;

	for (i = 0; i < n; i++)
		m += strcmp(jget_str(json_object_array_get_idx(rows, i),
		    "type"), "movie") == 0;
	return m;
}

/* The library changes under the paging: hooks run after a listing page. */
static int hook_pages;		/* section 1 movie pages served */
static int hook_every;		/* change after every page, not only the first */

static void
delete_first_after_page(struct fake_lib *f, const char *section, int type)
{
	if (strcmp(section, "1") != 0 || type != PLEX_TYPE_MOVIE)
		return;
	if (++hook_pages == 1 || hook_every)
		fake_delete_row(f, "1", PLEX_TYPE_MOVIE, 0);
}

static void
add_first_after_page(struct fake_lib *f, const char *section, int type)
{
	if (strcmp(section, "1") == 0 && type == PLEX_TYPE_MOVIE &&
	    ++hook_pages == 1)
		fake_move_last(f, "1", PLEX_TYPE_MOVIE, 0);
}

/*
 * Issue 9 #1: an item deleted (or added) after the first page shifts the
 * later rows by one; a live item must not be skipped, and a listing that
 * keeps moving must not be complete.
 */
static void
test_moving_listing(void)
{
	struct fake_lib f;
	struct plex_source src;
	struct result r;
	size_t want = NMOVIES1 + NMOVIES3 - 1 + 16;

	/* 26 rows in section 1 at 20 a page; the first row goes after page 1 */
	fake_init(&f, &src);
	build(&f);
	hook_pages = hook_every = 0;
	f.after_page = delete_first_after_page;
	run_all(&f, &src, 20, 0, &r, NULL);
	is_n(r.rc, PLEX_OK, "deleted during paging: runs");
	/* row 0 went before its metadata was read; row 20 moved to 19 */
	is_n((long long)r.items, (long long)want - 1,
	    "deleted during paging: every live item emitted");
	is_n((long long)r.dups, 0, "deleted during paging: none twice");
	ok(r.all_complete, "deleted during paging: steady on the second read");
	is_n(hook_pages, 4, "section 1 was listed twice (2 pages each)");
	fake_done(&f);

	/* an item added at the top after page 1 */
	fake_init(&f, &src);
	build(&f);
	hook_pages = 0;
	f.after_page = add_first_after_page;
	run_all(&f, &src, 20, 0, &r, NULL);
	is_n((long long)r.items, (long long)want,
	    "added during paging: every item emitted, the moved one too");
	ok(r.all_complete, "added during paging: steady on the second read");
	fake_done(&f);

	/* a listing that never holds still: incomplete, nothing lost */
	fake_init(&f, &src);
	build(&f);
	hook_pages = 0;
	hook_every = 1;
	f.after_page = delete_first_after_page;
	run_all(&f, &src, 20, 0, &r, NULL);
	is_n(r.rc, PLEX_OK, "always moving: runs");
	ok(!r.all_complete, "always moving: the listing is not complete");
	is_n(hook_pages, 2 * INGEST_LIST_PASSES, "read %d times",
	    INGEST_LIST_PASSES);
	fake_done(&f);
}

static long
pages(long n, long c)
{
	return n == 0 ? 1 : (n + c - 1) / c;
}

int
main(void)
{
	static const long chunks[] = { 1, 7, 200 };
	struct fake_lib f;
	struct plex_source src;
	struct result r;
	size_t want = NMOVIES1 + NMOVIES3 - 1 + 16;
	long c, list_bound;
	int k;

	fake_init(&f, &src);
	build(&f);
	for (k = 0; k < 3; k++) {
		c = chunks[k];
		run_all(&f, &src, c, 0, &r, NULL);
		is_n(r.rc, PLEX_OK, "chunk %ld: runs", c);
		is_n((long long)r.items, (long long)want, "every item once");
		is_n((long long)r.dups, 0, "no item twice");
		is_n((long long)r.collections, 0, "collections dropped");
		is_n((long long)r.with_full, (long long)want,
		    "every item has full metadata (Guid, 3 roles)");
		is_n((long long)r.eps_with_show, 16, "episodes carry their show");
		ok(r.max_batch <= (size_t)c, "batches hold at most the chunk size");
		ok(r.all_complete, "listings read to the end");
		list_bound = pages(NMOVIES1 + 3, c) + pages(NMOVIES3, c) +
		    pages(16, c);
		ok(f.listing_calls <= list_bound, "listing requests %d <= %ld",
		    f.listing_calls, list_bound);
		ok(f.meta_calls <= list_bound,
		    "metadata requests %d <= pages (%ld): shows ride along",
		    f.meta_calls, list_bound);
		ok(f.max_page_keys <= (size_t)c + 2,
		    "metadata chunks within the page and its shows");
	}

	/* a server that answers at most 3 items per metadata request */
	f.short_cap = 3;
	run_all(&f, &src, 7, 0, &r, NULL);
	is_n((long long)r.items, (long long)want, "short answers: refetched in halves");
	is_n((long long)r.with_full, (long long)want, "short answers: full metadata");
	f.short_cap = 0;

	/* a server that rejects more than 2 keys in one request */
	f.max_keys = 2;
	run_all(&f, &src, 7, 0, &r, NULL);
	is_n((long long)r.items, (long long)want, "too-long requests: halved");
	ok(f.max_page_keys >= 7, "first asked for the whole page");
	f.max_keys = 0;

	/* --limit */
	run_all(&f, &src, 7, 5, &r, NULL);
	is_n((long long)r.items, 5, "limit 5: five items");

	/* metadata always failing: one halving, then the error */
	f.meta_fail = 1;
	run_all(&f, &src, 7, 0, &r, NULL);
	is_n(r.rc, PLEX_ERR_FAIL, "failing metadata stops the run");
	ok(f.meta_calls <= 3, "and does not split down to single keys (%d calls)",
	    f.meta_calls);
	is_n((long long)r.batches, 0, "nothing written");
	f.meta_fail = 0;

	/* listing pages fail after the third: three whole batches before */
	f.fail_listing_after = 3;
	run_all(&f, &src, 7, 0, &r, NULL);
	is_n(r.rc, PLEX_ERR_FAIL, "listing failure after page 3 stops the run");
	is_n((long long)r.batches, 3, "the three batches before are written");
	is_n((long long)r.items, (long long)movies_in(&f, 21),
	    "with their items");
	f.fail_listing_after = -1;

	fake_done(&f);

	test_moving_listing();
	return done_testing();
}
