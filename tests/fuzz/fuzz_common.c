/* fuzz_common.c: helpers of the fuzz targets: NUL-separated input parts, an offline enrich context on a private cache, a BM25 tokenizer. */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../enrich/enrich.h"
#include "../../upsert/upsert.h"
#include "cache.h"
#include "fuzz.h"
#include "log.h"

const char *
fuzz_part(const uint8_t *data, size_t size, size_t n, size_t *len)
{
	const uint8_t *p = data, *end = data + size, *nul;

	for (;;) {
		nul = memchr(p, '\0', (size_t)(end - p));
		if (n == 0) {
			*len = (size_t)((nul != NULL ? nul : end) - p);
			return (const char *)p;
		}
		if (nul == NULL) {
			*len = 0;
			return "";
		}
		p = nul + 1;
		n--;
	}
}

static char cache_root[64];

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
rm_cache(void)
{
	if (cache_root[0] != '\0')
		nftw(cache_root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* One context per (tmdb, imdb) combination, made on first use and kept. */
struct enrich_ctx *
fuzz_enrich_ctx(int want_tmdb, int want_imdb)
{
	static struct enrich_opts o[4];
	static struct enrich_ctx ctx[4];
	static int made[4];
	int i = (want_tmdb ? 2 : 0) + (want_imdb ? 1 : 0);

	if (cache_root[0] == '\0') {
		snprintf(cache_root, sizeof(cache_root), "/tmp/plexpipe-fuzz.XXXXXX");
		if (mkdtemp(cache_root) == NULL) {
			perror("fuzz: mkdtemp");
			abort();
		}
		atexit(rm_cache);
		/* the targets feed bad answers on purpose: their warnings are noise */
		log_init("fuzz");
		log_set_level(LOG_ERROR);
	}
	if (!made[i]) {
		o[i].workers = 1;
		o[i].batch_size = 100;
		o[i].cache_dir = cache_root;
		o[i].offline = 1;
		o[i].no_tmdb = !want_tmdb;
		o[i].no_imdb = !want_imdb;
		o[i].dense_model = "BAAI/bge-small-en-v1.5";
		o[i].sparse_model = "Qdrant/bm25";
		if (enrich_ctx_init(&ctx[i], &o[i]) != 0) {
			fprintf(stderr, "fuzz: enrich_ctx_init failed\n");
			abort();
		}
		made[i] = 1;
	}
	return &ctx[i];
}

void
fuzz_cache_put(struct enrich_ctx *ctx, const char *key, const char *data,
    size_t len)
{
	if (cache_put(ctx->cache, key, data, len) != 0) {
		fprintf(stderr, "fuzz: cannot write cache entry %s\n", key);
		abort();
	}
}

void
fuzz_enrich_job(struct enrich_ctx *ctx, const char *job, struct buf *out)
{
	buf_reset(out);
	if (enrich_batch(ctx, 1, job, strlen(job), out) != 0) {
		fprintf(stderr, "fuzz: the fixed job was refused\n");
		abort();
	}
	/* FUZZ_PRINT=1: show the points line (to check that seeds reach deep) */
	if (getenv("FUZZ_PRINT") != NULL)
		fprintf(stderr, "%.*s\n", (int)out->len, out->data);
	/* the stats only grow; a queue of retry ids would too */
	enrich_ids_free(ctx->queue, ctx->nqueue);
	ctx->queue = NULL;
	ctx->nqueue = 0;
}

struct upsert_bm25 *
fuzz_bm25(void)
{
	static struct upsert_bm25 *bm;

	if (bm == NULL && (bm = upsert_bm25_new()) == NULL)
		abort();
	return bm;
}
