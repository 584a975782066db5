/* test_upsert_bm25.c: BM25 sparse vectors match fastembed's test vectors; murmur3, stopwords, stemmer. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "buf.h"
#include "../../upsert/upsert.h"

struct expect {
	uint32_t	 id;
	double		 value;
};

/* Compares as sets: the order of indices does not matter to Qdrant. */
static void
check_doc(struct upsert_bm25 *bm, const char *text, const struct expect *want,
    size_t nwant)
{
	struct upsert_sparse	 sv = { 0 };
	size_t			 i, j, good = 0;
	char			 label[160];

	upsert_bm25_doc(bm, text, &sv);
	snprintf(label, sizeof(label), "%zu terms in \"%s\"", nwant, text);
	is_int(sv.n, nwant, label);
	for (i = 0; i < nwant; i++)
		for (j = 0; j < sv.n; j++)
			if (sv.indices[j] == want[i].id &&
			    fabs(sv.values[j] - want[i].value) < 1e-6)
				good++;
	if (!ok(good == nwant && sv.n == nwant, "indices and values of \"%s\"", text))
		for (j = 0; j < sv.n; j++)
			tap_diag("got %u %.7f", sv.indices[j], sv.values[j]);
	upsert_sparse_free(&sv);
}

static void
test_vectors(struct upsert_bm25 *bm)
{
	static const struct expect recipe[] = {
		{ 112174620, 1.6697302 }, { 177304315, 1.6697302 },
		{ 662344706, 1.6697302 }, { 771857363, 1.6697302 },
		{ 1617337648, 1.6697302 },
	};
	static const struct expect fox[] = {
		{ 226376294, 1.6652868 }, { 741580288, 1.6652868 },
		{ 771291085, 1.6652868 }, { 1312749093, 1.6652868 },
		{ 1621867415, 1.6652868 }, { 1913189942, 1.6652868 },
	};
	static const struct expect alpha[] = {
		{ 977130622, 1.6697302 }, { 1447029955, 1.9894030 },
		{ 2022730153, 1.6697302 },
	};

	check_doc(bm, "Recipe for baking chocolate chip cookies", recipe, 5);
	check_doc(bm, "The quick brown fox jumps over the lazy dog", fox, 6);
	check_doc(bm, "alpha beta alpha gamma alpha", alpha, 3);
	check_doc(bm, "the a an and or but", NULL, 0);
	check_doc(bm, "", NULL, 0);
	/* punctuation separates, case folds, "_" alone is dropped */
	check_doc(bm, "RECIPE, for baking!! _ chocolate-chip (cookies).", recipe, 5);
}

static void
test_query(struct upsert_bm25 *bm)
{
	struct upsert_sparse	 sv = { 0 };
	static const uint32_t	 want[] = { 177304315, 112174620, 1617337648 };
	size_t			 i;
	int			 same = 1;

	upsert_bm25_query(bm, "chocolate cookies recipe", &sv);
	is_int(sv.n, 3, "query vector has 3 ids");
	for (i = 0; i < sv.n && i < 3; i++)
		if (sv.indices[i] != want[i] || sv.values[i] != 1.0f)
			same = 0;
	ok(same, "query ids chocolate, cookies, recipe with value 1.0");
	upsert_bm25_query(bm, "cookies cookies cookie", &sv);
	is_int(sv.n, 1, "query ids are unique");
	upsert_sparse_free(&sv);
}

static void
test_json(struct upsert_bm25 *bm)
{
	struct upsert_sparse	 sv = { 0 };
	struct buf		 b = BUF_INIT;
	char			 t[32];

	upsert_bm25_doc(bm, "alpha beta alpha gamma alpha", &sv);
	upsert_sparse_json(&sv, &b);
	is_str(b.data, "{\"indices\":[1447029955,2022730153,977130622],"
	    "\"values\":[1.989403,1.6697302,1.6697302]}",
	    "sparse JSON in first-occurrence order, shortest float32 text");
	upsert_float32_text(0.1f, t, sizeof(t));
	is_str(t, "0.1", "0.1f prints as 0.1");
	upsert_float32_text(1.0f, t, sizeof(t));
	is_str(t, "1", "1.0f prints as 1");
	buf_free(&b);
	upsert_sparse_free(&sv);
}

static void
test_murmur(void)
{
	/* reference values of MurmurHash3_x86_32 */
	is_int(upsert_murmur3_32("", 0, 0), 0, "murmur3 empty seed 0");
	is_int(upsert_murmur3_32("", 0, 1), 0x514e28b7, "murmur3 empty seed 1");
	is_int(upsert_murmur3_32("hello", 5, 0), 0x248bfa47, "murmur3 hello");
	is_int(upsert_murmur3_32("The quick brown fox jumps over the lazy dog",
	    43, 0), 0x2e4ff723, "murmur3 fox sentence");
	/* "bake" hashes negative as int32: the abs rule applies */
	is_int(upsert_bm25_token_id("bake", 4), 662344706, "abs rule for bake");
}

static void
test_stemmer(struct upsert_bm25 *bm)
{
	char	why[256];

	is_str(upsert_bm25_stem(bm, "added"), "ad", "Snowball 2.x: added -> ad");
	is_str(upsert_bm25_stem(bm, "university"), "univers",
	    "Snowball 2.x: university -> univers");
	ok(upsert_bm25_selfcheck(bm, why, sizeof(why)) == 0, "start-up self-check passes");
}

static void
test_stopwords(void)
{
	const char	*shared = getenv("PLEXPIPE_SHARED");
	const char	*top = getenv("PLEXPIPE_TOP");
	char		 path[4096], line[256];
	FILE		*fp;
	size_t		 n = 0, found = 0;

	is_int(upsert_bm25_nstopwords, 179, "179 stopwords in the table");
	ok(upsert_bm25_is_stopword("don") && upsert_bm25_is_stopword("t") &&
	    !upsert_bm25_is_stopword("us") && !upsert_bm25_is_stopword("yet"),
	    "stopword spot checks (us and yet are kept)");
	if (shared != NULL)
		snprintf(path, sizeof(path), "%s/specs/bm25/english-stopwords.txt", shared);
	else if (top != NULL)
		snprintf(path, sizeof(path),
		    "%s/../shared/specs/bm25/english-stopwords.txt", top);
	else
		snprintf(path, sizeof(path), "../shared/specs/bm25/english-stopwords.txt");
	if ((fp = fopen(path, "r")) == NULL) {
		tap_skip("shared stopword list absent (set PLEXPIPE_SHARED)");
		return;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0')
			continue;
		n++;
		if (upsert_bm25_is_stopword(line))
			found++;
		else
			tap_diag("missing stopword \"%s\"", line);
	}
	fclose(fp);
	ok(n == upsert_bm25_nstopwords && found == n,
	    "table equals %s (%zu words, %zu found)", path, n, found);
}

static void
join_token(void *arg, const char *tok, size_t len, size_t ncp)
{
	struct buf *b = arg;

	if (b->len > 0)
		buf_append(b, "|", 1);
	buf_append(b, tok, len);
	buf_printf(b, "/%zu", ncp);
}

static void
tokens_are(struct upsert_bm25 *bm, const char *text, const char *want)
{
	struct buf	b = BUF_INIT;

	buf_append(&b, "", 0);
	upsert_bm25_tokens(bm, text, join_token, &b);
	is_str(b.data, want, text);
	buf_free(&b);
}

/*
 * Python's \w and str.lower() by hand (test_ref_unicode checks all of
 * Unicode against Python itself): token/length in code points.
 */
static void
test_unicode_tokens(struct upsert_bm25 *bm)
{
	/* No (superscripts, fractions) and Nl are numbers, so word characters */
	tokens_are(bm, "Alien\xc2\xb3 \xc2\xbd", "alien\xc2\xb3/6|\xc2\xbd/1");
	/* U+0130 lowercases to i U+0307, and the combining dot separates */
	tokens_are(bm, "\xc4\xb0stanbul", "i/1|stanbul/7");
	/* final sigma at the end of a word, not inside or alone */
	tokens_are(bm, "\xce\xa3\xce\x91\xce\xa3 \xce\xa3",
	    "\xcf\x83\xce\xb1\xcf\x82/3|\xcf\x83/1");
	/* a combining mark is not a word character: decomposed e-acute splits */
	tokens_are(bm, "Cafe\xcc\x81s", "cafe/4|s/1");
	/* punctuation, emoji and U+2019 separate; "_" stays inside */
	tokens_are(bm, "Let\xe2\x80\x99s foo_bar \xf0\x9f\x8e\xac!",
	    "let/3|s/1|foo_bar/7");
}

int
main(void)
{
	struct upsert_bm25	*bm = upsert_bm25_new();

	if (!ok(bm != NULL, "libstemmer english loads"))
		return done_testing();
	test_vectors(bm);
	test_query(bm);
	test_json(bm);
	test_murmur();
	test_stemmer(bm);
	test_stopwords();
	test_unicode_tokens(bm);
	ok(upsert_bm25_model("Qdrant/bm25") && upsert_bm25_model("BM25") &&
	    !upsert_bm25_model("Qdrant/bm42-all-minilm-l6-v2-attentions"),
	    "model names computed locally");
	upsert_bm25_free(bm);
	return done_testing();
}
