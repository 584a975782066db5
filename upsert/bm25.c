/* bm25.c: sparse BM25 document and query vectors, exactly as fastembed's Qdrant/bm25 computes them. */
/*
 * The algorithm (notes/qdrant-api.md section 9): every non-word character
 * becomes a separator, text is lowercased and split into runs of word
 * characters; a token is dropped when it is "_", an English stopword
 * (the NLTK list below) or longer than 40 code points; the rest are
 * stemmed with Snowball English (libstemmer 2.x; 3.x stems differently).
 * The id of a stem is abs(murmur3_x86_32(stem, seed 0)) read as int32 and
 * its value the BM25 TF part tf*(k+1)/(tf + k*(1-b+b*len/avg_len)); the
 * collection's IDF modifier supplies the rest at query time.
 *
 * Word characters are Python's \w: general category L or N, and "_".
 * Lowercasing is Python's str.lower(): libunistring's u8_tolower with no
 * language (full mappings such as U+0130 -> "i" U+0307, and the
 * Final_Sigma context). libunistring 1.0 and Python 3.11 both use
 * Unicode 14. Pure-ASCII runs take a byte loop that gives the same result.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libstemmer.h>
#include <unicase.h>
#include <unictype.h>
#include <unistr.h>

#include "buf.h"
#include "strutil.h"
#include "xalloc.h"
#include "upsert.h"

/* NLTK's English stopword list (179 words), the one fastembed ships. */
const char *const upsert_bm25_stopwords[] = {
	"i", "me", "my", "myself", "we", "our", "ours", "ourselves", "you",
	"you're", "you've", "you'll", "you'd", "your", "yours", "yourself",
	"yourselves", "he", "him", "his", "himself", "she", "she's", "her",
	"hers", "herself", "it", "it's", "its", "itself", "they", "them",
	"their", "theirs", "themselves", "what", "which", "who", "whom",
	"this", "that", "that'll", "these", "those", "am", "is", "are", "was",
	"were", "be", "been", "being", "have", "has", "had", "having", "do",
	"does", "did", "doing", "a", "an", "the", "and", "but", "if", "or",
	"because", "as", "until", "while", "of", "at", "by", "for", "with",
	"about", "against", "between", "into", "through", "during", "before",
	"after", "above", "below", "to", "from", "up", "down", "in", "out",
	"on", "off", "over", "under", "again", "further", "then", "once",
	"here", "there", "when", "where", "why", "how", "all", "any", "both",
	"each", "few", "more", "most", "other", "some", "such", "no", "nor",
	"not", "only", "own", "same", "so", "than", "too", "very", "s", "t",
	"can", "will", "just", "don", "don't", "should", "should've", "now",
	"d", "ll", "m", "o", "re", "ve", "y", "ain", "aren", "aren't",
	"couldn", "couldn't", "didn", "didn't", "doesn", "doesn't", "hadn",
	"hadn't", "hasn", "hasn't", "haven", "haven't", "isn", "isn't", "ma",
	"mightn", "mightn't", "mustn", "mustn't", "needn", "needn't", "shan",
	"shan't", "shouldn", "shouldn't", "wasn", "wasn't", "weren",
	"weren't", "won", "won't", "wouldn", "wouldn't",
};
const size_t upsert_bm25_nstopwords =
    sizeof(upsert_bm25_stopwords) / sizeof(upsert_bm25_stopwords[0]);

/* One distinct stem of the document being embedded. */
struct stem_slot {
	size_t		 off;		/* stem text in the arena, 0: empty slot */
	size_t		 len;
	uint32_t	 id;
	uint32_t	 tf;
};

struct upsert_bm25 {
	struct sb_stemmer	*stemmer;
	const char		**stop;		/* sorted copy for bsearch */
	struct buf		 low;		/* the word run lowercased */
	uint8_t			*scratch;	/* u8_tolower's result buffer */
	size_t			 scratchcap;
	struct buf		 arena;		/* stems of this document */
	struct stem_slot	*slots;		/* open addressing by stem hash */
	size_t			 nslots;
	uint32_t		*order;		/* slot indices in first-seen order */
	size_t			 norder;
	size_t			 doclen;	/* stems kept, repeats counted */
};

struct upsert_bm25 *
upsert_bm25_new(void)
{
	struct upsert_bm25	*bm;

	bm = xcalloc(1, sizeof(*bm));
	if ((bm->stemmer = sb_stemmer_new("english", "UTF_8")) == NULL) {
		free(bm);
		return NULL;
	}
	bm->stop = xreallocarray(NULL, upsert_bm25_nstopwords, sizeof(*bm->stop));
	memcpy(bm->stop, upsert_bm25_stopwords,
	    upsert_bm25_nstopwords * sizeof(*bm->stop));
	qsort(bm->stop, upsert_bm25_nstopwords, sizeof(*bm->stop), strp_cmp);
	return bm;
}

void
upsert_bm25_free(struct upsert_bm25 *bm)
{
	if (bm == NULL)
		return;
	sb_stemmer_delete(bm->stemmer);
	buf_free(&bm->low);
	free(bm->scratch);
	free(bm->stop);
	buf_free(&bm->arena);
	free(bm->slots);
	free(bm->order);
	free(bm);
}

const char *
upsert_bm25_stem(struct upsert_bm25 *bm, const char *word)
{
	return (const char *)sb_stemmer_stem(bm->stemmer,
	    (const sb_symbol *)word, (int)strlen(word));
}

/*
 * Snowball 3.x changed English (added -> add, university -> universiti);
 * fastembed's rust-stemmers matches 2.x, so refuse to compute otherwise.
 */
int
upsert_bm25_selfcheck(struct upsert_bm25 *bm, char *why, size_t whylen)
{
	static const char *const pairs[][2] = {
		{ "added", "ad" }, { "university", "univers" },
		{ "baking", "bake" }, { "cookies", "cooki" },
	};
	size_t		 i;
	const char	*s;

	for (i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		s = upsert_bm25_stem(bm, pairs[i][0]);
		if (s == NULL || strcmp(s, pairs[i][1]) != 0) {
			snprintf(why, whylen, "libstemmer stems \"%s\" to \"%s\", "
			    "Snowball 2.x gives \"%s\": libstemmer 2.x is required "
			    "for BM25 vectors that match fastembed",
			    pairs[i][0], s ? s : "(null)", pairs[i][1]);
			return -1;
		}
	}
	return 0;
}

int
upsert_bm25_is_stopword(const char *w)
{
	size_t	i;

	for (i = 0; i < upsert_bm25_nstopwords; i++)
		if (strcmp(w, upsert_bm25_stopwords[i]) == 0)
			return 1;
	return 0;
}

int
upsert_bm25_model(const char *m)
{
	return m != NULL && (strcasecmp(m, "qdrant/bm25") == 0 ||
	    strcasecmp(m, "bm25") == 0);
}

/* Python's \w: general category L or N, and "_". */
static int
is_word(ucs4_t c)
{
	if (c < 0x80)
		return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_';
	return uc_is_general_category_withtable(c,
	    UC_CATEGORY_MASK_L | UC_CATEGORY_MASK_N);
}

/* The code point at s and its length (an invalid byte is one U+FFFD). */
static size_t
next_cp(const uint8_t *s, size_t n, ucs4_t *c)
{
	if (s[0] < 0x80) {
		*c = s[0];
		return 1;
	}
	return (size_t)u8_mbtouc(c, s, n);
}

/* Appends u8_tolower (no language: Python's mappings) of s[0..n), n > 0. */
static void
tolower_append(struct upsert_bm25 *bm, const uint8_t *s, size_t n)
{
	uint8_t	*r;
	size_t	 len = bm->scratchcap;

	r = xnonnull(u8_tolower(s, n, NULL, NULL, bm->scratch, &len));
	buf_append(&bm->low, r, len);
	if (r != bm->scratch) {
		free(bm->scratch);
		bm->scratch = r;
		bm->scratchcap = len;
	}
}

/*
 * Is the U+03A3 at s[i] of the run s[0..n) final, as Python's str.lower()
 * decides: a cased code point before it and none after, skipping every
 * case-ignorable one. Python skips a code point that is both (U+02B0 and
 * the other modifier letters of Other_Lowercase); u8_tolower follows the
 * standard's regular expression, which does not, so sigma is done here.
 */
static int
final_sigma(const uint8_t *s, size_t n, size_t i)
{
	const uint8_t	*p = s + i;
	ucs4_t		 c;
	size_t		 j, l;

	while ((p = u8_prev(&c, p, s)) != NULL && uc_is_property_case_ignorable(c))
		;
	if (p == NULL || !uc_is_property_cased(c))
		return 0;
	for (j = i + 2; j < n; j += l) {
		l = next_cp(s + j, n - j, &c);
		if (!uc_is_property_case_ignorable(c))
			return !uc_is_property_cased(c);
	}
	return 1;
}

/*
 * The word run s[0..n) lowercased into bm->low. A run alone gives what
 * lowercasing the whole text gives: its neighbours are separators, which
 * are neither cased nor case-ignorable once fastembed has turned
 * punctuation into spaces, so the Final_Sigma context never crosses them.
 */
static void
lower_run(struct upsert_bm25 *bm, const uint8_t *s, size_t n, int ascii)
{
	size_t	 i, from = 0;
	char	*d;

	buf_reset(&bm->low);
	if (ascii) {
		buf_append(&bm->low, s, n);
		for (d = bm->low.data, i = 0; i < n; i++)
			if (d[i] >= 'A' && d[i] <= 'Z')
				d[i] += 'a' - 'A';
		return;
	}
	/* U+03A3 is 0xce 0xa3; no other code point holds that pair */
	for (i = 0; i + 1 < n; i++) {
		if (s[i] != 0xce || s[i + 1] != 0xa3)
			continue;
		if (i > from)
			tolower_append(bm, s + from, i - from);
		buf_appends(&bm->low, final_sigma(s, n, i) ?
		    "\xcf\x82" : "\xcf\x83");
		from = i + 2;
		i++;
	}
	if (n > from)
		tolower_append(bm, s + from, n - from);
}

void
upsert_bm25_tokens(struct upsert_bm25 *bm, const char *text,
    upsert_bm25_token_fn *fn, void *arg)
{
	const uint8_t	*s = (const uint8_t *)text, *low;
	size_t		 n = strlen(text), i = 0, start, l, len, j, k, ncp;
	ucs4_t		 c;
	int		 ascii;

	while (i < n) {
		start = i;
		ascii = 1;
		while (i < n) {
			l = next_cp(s + i, n - i, &c);
			if (!is_word(c))
				break;
			ascii &= c < 0x80;
			i += l;
		}
		if (i == start) {
			i += next_cp(s + i, n - i, &c);
			continue;
		}
		lower_run(bm, s + start, i - start, ascii);
		low = (const uint8_t *)bm->low.data;
		len = bm->low.len;
		/* lowercasing can make non-word code points (U+0130 -> i U+0307) */
		for (j = 0; j < len; ) {
			for (k = j, ncp = 0; k < len; ncp++) {
				l = next_cp(low + k, len - k, &c);
				if (!is_word(c))
					break;
				k += l;
			}
			if (k > j)
				fn(arg, (const char *)low + j, k - j, ncp);
			if (k < len)
				k += next_cp(low + k, len - k, &c);
			j = k;
		}
	}
}

static void
slots_reset(struct upsert_bm25 *bm, size_t want)
{
	size_t	n = 64;

	while (n < want * 2)
		n *= 2;
	if (n != bm->nslots) {
		free(bm->slots);
		free(bm->order);
		bm->slots = xcalloc(n, sizeof(*bm->slots));
		bm->order = xreallocarray(NULL, n, sizeof(*bm->order));
		bm->nslots = n;
	} else
		memset(bm->slots, 0, n * sizeof(*bm->slots));
	bm->norder = 0;
	buf_reset(&bm->arena);
	buf_append(&bm->arena, "", 1);	/* offset 0 marks an empty slot */
}

static void
slots_grow(struct upsert_bm25 *bm)
{
	struct stem_slot	*old = bm->slots;
	uint32_t		*oldorder = bm->order;
	size_t			 oldn = bm->nslots, i, j, n = oldn * 2;

	bm->slots = xcalloc(n, sizeof(*bm->slots));
	bm->order = xreallocarray(NULL, n, sizeof(*bm->order));
	bm->nslots = n;
	for (i = 0; i < bm->norder; i++) {
		struct stem_slot *s = &old[oldorder[i]];

		j = s->id & (n - 1);
		while (bm->slots[j].off != 0)
			j = (j + 1) & (n - 1);
		bm->slots[j] = *s;
		bm->order[i] = (uint32_t)j;
	}
	free(old);
	free(oldorder);
}

/* Counts one stem (the hash table is keyed by the stem text). */
static void
count_stem(struct upsert_bm25 *bm, const char *stem, size_t len)
{
	uint32_t	 id = upsert_bm25_token_id(stem, len);
	size_t		 j, mask;

	if ((bm->norder + 1) * 2 > bm->nslots)
		slots_grow(bm);
	mask = bm->nslots - 1;
	for (j = id & mask; bm->slots[j].off != 0; j = (j + 1) & mask) {
		struct stem_slot *s = &bm->slots[j];

		if (s->id == id && s->len == len &&
		    memcmp(bm->arena.data + s->off, stem, len) == 0) {
			s->tf++;
			return;
		}
	}
	bm->slots[j].off = bm->arena.len;
	bm->slots[j].len = len;
	bm->slots[j].id = id;
	bm->slots[j].tf = 1;
	buf_append(&bm->arena, stem, len);
	buf_append(&bm->arena, "", 1);
	bm->order[bm->norder++] = (uint32_t)j;
}

/* Filters, stems and counts one token (fastembed's _stem). */
static void
take_token(void *arg, const char *tok, size_t len, size_t ncp)
{
	struct upsert_bm25	*bm = arg;
	const sb_symbol		*st;
	char			 t[UPSERT_BM25_MAX_TOKEN * 4 + 1];
	const char		*tp = t;
	int			 stlen;

	if (len == 1 && tok[0] == '_')
		return;
	if (ncp > UPSERT_BM25_MAX_TOKEN || len >= sizeof(t))
		return;
	memcpy(t, tok, len);
	t[len] = '\0';
	if (bsearch(&tp, bm->stop, upsert_bm25_nstopwords,
	    sizeof(*bm->stop), strp_cmp) != NULL)
		return;
	st = sb_stemmer_stem(bm->stemmer, (const sb_symbol *)t, (int)len);
	if (st == NULL)
		return;
	stlen = sb_stemmer_length(bm->stemmer);
	if (stlen <= 0)
		return;
	count_stem(bm, (const char *)st, (size_t)stlen);
	bm->doclen++;
}

/* Tokenizes, filters and counts; returns doc_len (stems kept, repeats counted). */
static size_t
analyse(struct upsert_bm25 *bm, const char *text)
{
	slots_reset(bm, strlen(text) / 4 + 1);
	bm->doclen = 0;
	upsert_bm25_tokens(bm, text, take_token, bm);
	return bm->doclen;
}

static void
sparse_reserve(struct upsert_sparse *sv, size_t n)
{
	if (n <= sv->cap)
		return;
	sv->indices = xreallocarray(sv->indices, n, sizeof(*sv->indices));
	sv->values = xreallocarray(sv->values, n, sizeof(*sv->values));
	sv->cap = n;
}

void
upsert_bm25_doc(struct upsert_bm25 *bm, const char *text, struct upsert_sparse *sv)
{
	double	 doclen, k = UPSERT_BM25_K, b = UPSERT_BM25_B, tf;
	size_t	 i;

	doclen = (double)analyse(bm, text);
	sparse_reserve(sv, bm->norder);
	for (i = 0; i < bm->norder; i++) {
		struct stem_slot *s = &bm->slots[bm->order[i]];

		tf = s->tf;
		sv->indices[i] = s->id;
		sv->values[i] = (float)(tf * (k + 1) /
		    (tf + k * (1 - b + b * doclen / UPSERT_BM25_AVG_LEN)));
	}
	sv->n = bm->norder;
}

void
upsert_bm25_query(struct upsert_bm25 *bm, const char *text, struct upsert_sparse *sv)
{
	size_t	 i, j, n = 0;

	analyse(bm, text);
	sparse_reserve(sv, bm->norder);
	/* distinct stems can share an id; the query wants each id once */
	for (i = 0; i < bm->norder; i++) {
		uint32_t id = bm->slots[bm->order[i]].id;

		for (j = 0; j < n && sv->indices[j] != id; j++)
			;
		if (j == n) {
			sv->indices[n] = id;
			sv->values[n++] = 1.0f;
		}
	}
	sv->n = n;
}

void
upsert_sparse_free(struct upsert_sparse *sv)
{
	free(sv->indices);
	free(sv->values);
	memset(sv, 0, sizeof(*sv));
}

void
upsert_float32_text(float f, char *out, size_t len)
{
	int	 p;

	for (p = 1; p < 9; p++) {
		snprintf(out, len, "%.*g", p, (double)f);
		if (strtof(out, NULL) == f)
			return;
	}
	snprintf(out, len, "%.9g", (double)f);
}

void
upsert_sparse_json(const struct upsert_sparse *sv, struct buf *b)
{
	/*
	 * A document has few distinct values (one per term frequency), and
	 * finding the shortest text of a float is the costly part: remember
	 * the texts already made for this vector.
	 */
	struct {
		float	 f;
		char	 text[32];
	}	 memo[8];
	size_t	 i, j, nmemo = 0;

	buf_appends(b, "{\"indices\":[");
	for (i = 0; i < sv->n; i++)
		buf_printf(b, "%s%u", i ? "," : "", (unsigned)sv->indices[i]);
	buf_appends(b, "],\"values\":[");
	for (i = 0; i < sv->n; i++) {
		for (j = 0; j < nmemo && memo[j].f != sv->values[i]; j++)
			;
		if (j == nmemo) {
			j = nmemo < 8 ? nmemo++ : 7;
			memo[j].f = sv->values[i];
			upsert_float32_text(sv->values[i], memo[j].text,
			    sizeof(memo[j].text));
		}
		if (i)
			buf_append(b, ",", 1);
		buf_appends(b, memo[j].text);
	}
	buf_appends(b, "]}");
}
