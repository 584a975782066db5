/* fuzz.h: what the libFuzzer targets in tests/fuzz share: the entry points, input splitting, an offline enrich context, a BM25 tokenizer. */
#ifndef PLEXPIPE_FUZZ_H
#define PLEXPIPE_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct enrich_ctx;
struct upsert_bm25;

/* libFuzzer's entry points (also driven by replay_main.c in make check). */
int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);
int	 LLVMFuzzerInitialize(int *, char ***);

/*
 * The n-th part of the input, parts separated by NUL bytes (no valid JSON
 * text holds a raw NUL, so a part is one whole answer); "" past the last.
 */
const char *fuzz_part(const uint8_t *data, size_t size, size_t n, size_t *len);

/*
 * An offline meta-enrich context on a private cache directory (made once,
 * removed at exit): TMDb and IMDb answers come only from the cache, which
 * the targets fill from their input with fuzz_cache_put().
 */
struct enrich_ctx *fuzz_enrich_ctx(int want_tmdb, int want_imdb);
void	 fuzz_cache_put(struct enrich_ctx *, const char *key, const char *data,
	    size_t len);
/* The BM25 tokenizer of qdrant-upsert (upsert/bm25.c), made on first use and kept. */
struct upsert_bm25 *fuzz_bm25(void);
/* Runs one meta-enrich job (JSON text) through enrich_batch; the points line in out. */
void	 fuzz_enrich_job(struct enrich_ctx *, const char *job, struct buf *out);

#endif
