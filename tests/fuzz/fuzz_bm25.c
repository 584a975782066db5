/* fuzz_bm25.c: libFuzzer target: the local BM25 tokenizer (upsert/bm25.c) on arbitrary text, document and query vectors. */
#include <stdlib.h>
#include <string.h>

#include "../../upsert/upsert.h"
#include "buf.h"
#include "fuzz.h"

/* Indices must be unique and every value finite and positive. */
static void
check(const struct upsert_sparse *sv)
{
	size_t i, j;

	for (i = 0; i < sv->n; i++) {
		if (!(sv->values[i] > 0.0f) || sv->values[i] > 1e30f)
			abort();
		for (j = 0; j < i; j++)
			if (sv->indices[i] == sv->indices[j])
				abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct upsert_bm25 *bm = fuzz_bm25();
	struct upsert_sparse sv = { 0 };
	struct buf b = BUF_INIT;
	char *text;

	/* the text as the point's Document holds it: a C string */
	text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	upsert_bm25_doc(bm, text, &sv);
	check(&sv);
	upsert_sparse_json(&sv, &b);
	upsert_sparse_free(&sv);
	memset(&sv, 0, sizeof(sv));
	upsert_bm25_query(bm, text, &sv);
	check(&sv);
	upsert_sparse_free(&sv);
	buf_free(&b);
	free(text);
	return 0;
}
