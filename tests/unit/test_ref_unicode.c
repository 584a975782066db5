/* test_ref_unicode.c: BM25 vectors and slugs beyond ASCII compared with the Python reference tests/ref/mcp_plex_ref.py. */
/*
 * The reference runs what fastembed and mcp-plex run: Python's re,
 * str.lower() and unicodedata, and Snowball 2.2 English. Each line of
 * the tables tests/ref/bm25-texts.ndjson and slug-titles.ndjson (a JSON
 * string) is computed here and by the script; the two must agree byte for
 * byte.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>
#include <unictype.h>

#include "tap.h"
#include "buf.h"
#include "../../enrich/enrich.h"
#include "../../upsert/upsert.h"

static char	 top[4096];
static char	 python[512];

/* A python3 that imports snowballstemmer (Debian's python3-snowballstemmer). */
static int
find_python(void)
{
	const char	*cands[] = { getenv("PLEXPIPE_PYTHON"), "python3",
			    "/usr/bin/python3" };
	char		 cmd[700];
	size_t		 i;

	for (i = 0; i < sizeof(cands) / sizeof(cands[0]); i++) {
		if (cands[i] == NULL || *cands[i] == '\0')
			continue;
		snprintf(cmd, sizeof(cmd),
		    "'%s' -c 'import snowballstemmer' >/dev/null 2>&1", cands[i]);
		if (system(cmd) == 0) {
			snprintf(python, sizeof(python), "%s", cands[i]);
			return 0;
		}
	}
	return -1;
}

/* The JSON strings of a table file, one per line (NULL-terminated; caller frees). */
static char **
read_table(const char *name, size_t *np)
{
	char	 path[4200], *line = NULL, **v = NULL;
	size_t	 cap = 0, n = 0;
	ssize_t	 len;
	FILE	*fp;

	snprintf(path, sizeof(path), "%s/tests/ref/%s", top, name);
	if ((fp = fopen(path, "r")) == NULL) {
		tap_diag("cannot open %s", path);
		*np = 0;
		return NULL;
	}
	while ((len = getline(&line, &cap, fp)) > 0) {
		struct json_object *o = json_tokener_parse(line);

		if (o == NULL || !json_object_is_type(o, json_type_string)) {
			tap_diag("%s: line %zu is not a JSON string", name, n + 1);
			json_object_put(o);
			continue;
		}
		v = realloc(v, (n + 2) * sizeof(*v));
		v[n++] = strdup(json_object_get_string(o));
		v[n] = NULL;
		json_object_put(o);
	}
	free(line);
	fclose(fp);
	*np = n;
	return v;
}

static void
free_table(char **v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/*
 * The reference's output lines for a table (a file of tests/ref, or an
 * absolute path): mode is bm25, query, tokens or slug.
 */
static char **
reference(const char *mode, const char *name, size_t want)
{
	char	 cmd[9000], *line = NULL, **v;
	size_t	 cap = 0, n = 0;
	ssize_t	 len;
	FILE	*p;

	snprintf(cmd, sizeof(cmd), "'%s' '%s/tests/ref/mcp_plex_ref.py' %s "
	    "'%s%s%s'", python, top, mode, name[0] == '/' ? "" : top,
	    name[0] == '/' ? "" : "/tests/ref/", name);
	if ((p = popen(cmd, "r")) == NULL)
		return NULL;
	v = calloc(want + 1, sizeof(*v));
	while ((len = getline(&line, &cap, p)) > 0) {
		if (line[len - 1] == '\n')
			line[len - 1] = '\0';
		if (n < want)
			v[n] = strdup(line);
		n++;
	}
	free(line);
	if (pclose(p) != 0 || n != want) {
		tap_diag("reference %s %s: %zu lines for %zu inputs", mode, name,
		    n, want);
		free_table(v, want);
		return NULL;
	}
	return v;
}

/* A C string as JSON, for labels and diagnostics. */
static const char *
quoted(struct json_object **keep, const char *s)
{
	json_object_put(*keep);
	*keep = json_object_new_string(s);
	return json_object_to_json_string_ext(*keep,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

static void
test_bm25_table(struct upsert_bm25 *bm, int query)
{
	const char		*mode = query ? "query" : "bm25";
	struct upsert_sparse	 sv = { 0 };
	struct json_object	*q = NULL;
	struct buf		 b = BUF_INIT;
	char			**texts, **want;
	size_t			 i, n, differ = 0;

	texts = read_table("bm25-texts.ndjson", &n);
	ok(n >= 12, "%s: %zu texts in the table", mode, n);
	if ((want = reference(mode, "bm25-texts.ndjson", n)) == NULL) {
		ok(0, "%s: the reference script ran", mode);
		free_table(texts, n);
		return;
	}
	for (i = 0; i < n; i++) {
		if (query)
			upsert_bm25_query(bm, texts[i], &sv);
		else
			upsert_bm25_doc(bm, texts[i], &sv);
		buf_reset(&b);
		upsert_sparse_json(&sv, &b);
		if (!ok(strcmp(b.data, want[i]) == 0, "%s of %s", mode,
		    quoted(&q, texts[i]))) {
			tap_diag("got  %s", b.data);
			tap_diag("want %s", want[i]);
			differ++;
		}
	}
	tap_diag("%s: %zu of %zu texts differ from the reference", mode,
	    differ, n);
	json_object_put(q);
	buf_free(&b);
	upsert_sparse_free(&sv);
	free_table(texts, n);
	free_table(want, n);
}

static void
test_slug_table(void)
{
	struct json_object	*q = NULL, *g = NULL;
	char			**titles, **want, *s;
	const char		*got;
	size_t			 i, n, differ = 0;

	titles = read_table("slug-titles.ndjson", &n);
	ok(n >= 15, "slug: %zu titles in the table", n);
	if ((want = reference("slug", "slug-titles.ndjson", n)) == NULL) {
		ok(0, "slug: the reference script ran");
		free_table(titles, n);
		return;
	}
	for (i = 0; i < n; i++) {
		/* "" is no slug (no key in the payload): the reference's null */
		s = enrich_slug(titles[i]);
		got = *s != '\0' ? quoted(&g, s) : "null";
		if (!ok(strcmp(got, want[i]) == 0, "slug of %s is %s",
		    quoted(&q, titles[i]), want[i])) {
			tap_diag("got %s", got);
			differ++;
		}
		free(s);
	}
	tap_diag("slug: %zu of %zu titles differ from the reference", differ, n);
	json_object_put(q);
	json_object_put(g);
	free_table(titles, n);
	free_table(want, n);
}

/* Appends code point c as UTF-8. */
static void
put_cp(struct buf *b, uint32_t c)
{
	char	u[4];
	size_t	n;

	if (c < 0x80) {
		u[0] = (char)c;
		n = 1;
	} else if (c < 0x800) {
		u[0] = (char)(0xc0 | c >> 6);
		u[1] = (char)(0x80 | (c & 0x3f));
		n = 2;
	} else if (c < 0x10000) {
		u[0] = (char)(0xe0 | c >> 12);
		u[1] = (char)(0x80 | (c >> 6 & 0x3f));
		u[2] = (char)(0x80 | (c & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | c >> 18);
		u[1] = (char)(0x80 | (c >> 12 & 0x3f));
		u[2] = (char)(0x80 | (c >> 6 & 0x3f));
		u[3] = (char)(0x80 | (c & 0x3f));
		n = 4;
	}
	buf_append(b, u, n);
}

static void
add_token(void *arg, const char *tok, size_t len, size_t ncp)
{
	struct json_object *a = arg;

	(void)ncp;
	json_object_array_add(a, json_object_new_string_len(tok, (int)len));
}

/*
 * One text as the reference and bm25.c split it into tokens; the two
 * token lists must be equal. Writes the text as a one-line table.
 */
static void
compare_tokens(struct upsert_bm25 *bm, const char *what, const char *text)
{
	struct json_object	*mine, *ref = NULL, *s;
	char			 path[] = "/tmp/plexpipe-ref-XXXXXX", **want;
	const char		*t = NULL, *r = NULL;
	size_t			 i, n, nr = 0, nm;
	FILE			*fp;
	int			 fd;

	if ((fd = mkstemp(path)) < 0 || (fp = fdopen(fd, "w")) == NULL) {
		ok(0, "%s: temporary table", what);
		return;
	}
	s = json_object_new_string(text);
	fprintf(fp, "%s\n", json_object_to_json_string_ext(s,
	    JSON_C_TO_STRING_PLAIN));
	json_object_put(s);
	fclose(fp);
	want = reference("tokens", path, 1);
	unlink(path);
	mine = json_object_new_array();
	upsert_bm25_tokens(bm, text, add_token, mine);
	if (want != NULL)
		ref = json_tokener_parse(want[0]);
	if (!ok(ref != NULL, "%s: the reference script ran", what))
		goto out;
	nm = json_object_array_length(mine);
	nr = json_object_array_length(ref);
	for (i = 0, n = 0; i < nm && i < nr; i++) {
		t = json_object_get_string(json_object_array_get_idx(mine, i));
		r = json_object_get_string(json_object_array_get_idx(ref, i));
		if (strcmp(t, r) != 0 && n++ < 5)
			tap_diag("token %zu: got \"%s\", want \"%s\"", i, t, r);
	}
	ok(n == 0 && nm == nr, "%s: %zu tokens as the reference's %zu, %zu differ",
	    what, nm, nr, n);
out:
	json_object_put(mine);
	json_object_put(ref);
	if (want != NULL)
		free_table(want, 1);
}

/* A temporary table of the given titles, their slugs and the reference's. */
static void
compare_slugs(const char *what, char **titles, size_t n)
{
	struct json_object	*o, *g = NULL;
	char			 path[] = "/tmp/plexpipe-ref-XXXXXX", **want, *s;
	const char		*got;
	size_t			 i, differ = 0;
	FILE			*fp;
	int			 fd;

	if ((fd = mkstemp(path)) < 0 || (fp = fdopen(fd, "w")) == NULL) {
		ok(0, "%s: temporary table", what);
		return;
	}
	for (i = 0; i < n; i++) {
		o = json_object_new_string(titles[i]);
		fprintf(fp, "%s\n", json_object_to_json_string_ext(o,
		    JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
	}
	fclose(fp);
	want = reference("slug", path, n);
	unlink(path);
	if (!ok(want != NULL, "%s: the reference script ran", what))
		return;
	for (i = 0; i < n; i++) {
		s = enrich_slug(titles[i]);
		got = *s != '\0' ? quoted(&g, s) : "null";
		if (strcmp(got, want[i]) != 0 && differ++ < 5)
			tap_diag("title %zu: got %.200s, want %.200s", i, got,
			    want[i]);
		free(s);
	}
	ok(differ == 0, "%s: %zu titles, %zu differ from the reference",
	    what, n, differ);
	json_object_put(g);
	free_table(want, n);
}

/*
 * Slugs of "The" c "Ring" for every c below U+20000 (Python's whitespace
 * after the article: all of it lies there), and of one title holding
 * every code point, each between two "x" (NFKD to ASCII for all of
 * Unicode); NUL and the surrogates left out.
 */
static void
slug_sweep(void)
{
	struct buf	 t = BUF_INIT, all = BUF_INIT;
	char		**titles;
	size_t		 n = 0;
	uint32_t	 c;

	titles = calloc(0x20000, sizeof(*titles));
	for (c = 1; c < 0x110000; c++) {
		if (c >= 0xd800 && c <= 0xdfff)
			continue;
		buf_appends(&all, "x");
		put_cp(&all, c);
		if (c >= 0x20000)
			continue;
		buf_reset(&t);
		buf_appends(&t, "The");
		put_cp(&t, c);
		buf_appends(&t, "Ring");
		titles[n++] = strdup(t.data);
	}
	buf_appends(&all, "x");
	compare_slugs("slug of \"The\" c \"Ring\" below U+20000", titles, n);
	free_table(titles, n);
	titles = calloc(1, sizeof(*titles));
	titles[0] = all.data;
	compare_slugs("slug of every code point between \"x\"", titles, 1);
	free(titles);
	buf_free(&all);
	buf_free(&t);
}

/*
 * Every code point (but NUL and the surrogates) alone between spaces:
 * word classes and lowercase mappings of all of Unicode. Then every
 * word code point (L or N, as the first sweep checks) in the Final_Sigma
 * contexts "ΑΣc ", "ΑΣcΑ " and "cΣ ".
 */
static void
test_sweeps(struct upsert_bm25 *bm)
{
	struct buf	b = BUF_INIT;
	uint32_t	c;

	for (c = 1; c < 0x110000; c++) {
		if (c >= 0xd800 && c <= 0xdfff)
			continue;
		put_cp(&b, c);
		buf_append(&b, " ", 1);
	}
	compare_tokens(bm, "every code point", b.data);
	buf_reset(&b);
	for (c = 0x21; c < 0x110000; c++) {
		if (!uc_is_general_category_withtable(c,
		    UC_CATEGORY_MASK_L | UC_CATEGORY_MASK_N))
			continue;
		buf_appends(&b, "\xce\x91\xce\xa3");
		put_cp(&b, c);
		buf_appends(&b, " \xce\x91\xce\xa3");
		put_cp(&b, c);
		buf_appends(&b, "\xce\x91 ");
		put_cp(&b, c);
		buf_appends(&b, "\xce\xa3 ");
	}
	compare_tokens(bm, "final sigma next to every code point", b.data);
	buf_free(&b);
	slug_sweep();
}

int
main(void)
{
	struct upsert_bm25	*bm;
	const char		*t = getenv("PLEXPIPE_TOP");

	snprintf(top, sizeof(top), "%s", t != NULL ? t : ".");
	if (find_python() != 0) {
		ok(0, "a python3 with snowballstemmer (Debian python3-snowballstemmer, "
		    "scripts/install-deps) runs the reference");
		return done_testing();
	}
	bm = upsert_bm25_new();
	test_bm25_table(bm, 0);
	test_bm25_table(bm, 1);
	test_slug_table();
	test_sweeps(bm);
	upsert_bm25_free(bm);
	return done_testing();
}
