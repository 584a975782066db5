/* test_jparse.c: the one strict JSON parser on texts, multi-line bodies and files. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "jparse.h"
#include "tap.h"

static struct json_object *
parse(const char *s, struct jerr *err)
{
	return jparse(s, strlen(s), "body", err);
}

/*
 * jparse_split() on {"kind":"points","points":[<elem>],"seq":1}: it must
 * never accept what jparse refuses, and each element it yields must parse
 * alone to what the whole tree holds. Returns the split's verdict.
 */
static int
split_agrees(const char *elem)
{
	struct json_object	*whole, *one, *arr;
	struct jspan		 span, *e;
	struct jerr		 err;
	json_tokener		*tok;
	char			*text;
	size_t			 i, n;
	int			 r, same = 1;

	if (asprintf(&text, "{\"kind\":\"points\",\"points\":[%s],\"seq\":1}",
	    elem) == -1)
		abort();
	whole = jparse(text, strlen(text), "line", &err);
	r = jparse_split(text, strlen(text), "points", &span, &e, &n);
	if (r && whole == NULL) {
		tap_diag("split accepted what jparse refuses: %s", text);
		same = 0;
	}
	if (r) {
		arr = json_object_object_get(whole, "points");
		tok = jparse_tokener_new();
		same = same && n == json_object_array_length(arr) &&
		    text[span.off] == '[' && text[span.off + span.len - 1] == ']';
		for (i = 0; same && i < n; i++) {
			one = jparse_text(tok, "elem", 1, text + e[i].off,
			    e[i].len, JPARSE_CHECKED, &err);
			if (one == NULL && !(e[i].len == 4 &&
			    memcmp(text + e[i].off, "null", 4) == 0))
				same = 0;
			else if (!json_object_equal(one,
			    json_object_array_get_idx(arr, i)))
				same = 0;
			json_object_put(one);
		}
		json_tokener_free(tok);
		if (!same)
			tap_diag("split and jparse disagree on: %s", text);
	}
	json_object_put(whole);
	free(e);
	free(text);
	return same ? r : -1;
}

/*
 * The property on any text: what jparse_split() splits, jparse() parses,
 * and each element parses alone to the whole tree's element. 0 when
 * they disagree.
 */
static int
split_holds(const char *text, size_t len)
{
	struct json_object	*whole, *one, *arr;
	struct jspan		 span, *e;
	json_tokener		*tok;
	size_t			 i, n;
	int			 same = 1;

	if (!jparse_split(text, len, "points", &span, &e, &n))
		return 1;
	whole = jparse(text, len, "line", NULL);
	arr = json_object_object_get(whole, "points");
	if (whole == NULL || n != json_object_array_length(arr))
		same = 0;
	tok = jparse_tokener_new();
	for (i = 0; same && i < n; i++) {
		one = jparse_text(tok, "elem", 1, text + e[i].off, e[i].len,
		    JPARSE_CHECKED, NULL);
		if (!json_object_equal(one, json_object_array_get_idx(arr, i)))
			same = 0;
		json_object_put(one);
	}
	json_tokener_free(tok);
	json_object_put(whole);
	free(e);
	return same;
}

int
main(void)
{
	struct json_object	*o;
	struct jerr		 err;
	json_tokener		*tok;
	char			 path[] = "/tmp/test_jparse.XXXXXX";
	FILE			*fp;
	int			 fd;

	o = parse("[1,\"a\",{\"b\":null}]", &err);
	ok(o != NULL && json_object_is_type(o, json_type_array),
	    "an array is a good top-level value");
	json_object_put(o);
	o = parse(" {\"k\":true}\n", &err);
	ok(o != NULL && json_object_is_type(o, json_type_object),
	    "an object with whitespace around it");
	json_object_put(o);

	ok(parse("null", &err) == NULL, "a top-level null is refused");
	is_str(err.reason, "top-level value is null", "and says so");
	ok(parse("{\"a\":1} x", &err) == NULL, "trailing bytes are refused");
	is_str(err.message, "body:1:9: trailing bytes after JSON value",
	    "positioned message");
	ok(parse("{\"a\":NaN}", &err) == NULL, "NaN is refused");
	ok(parse("{'a':1}", &err) == NULL, "single quotes are refused");
	ok(parse("{\"a\":1.}", &err) == NULL, "1. is refused");
	ok(parse("{\"a\":\"\xc0\xaf\"}", &err) == NULL, "overlong UTF-8 is refused");
	is_str(err.reason, "invalid UTF-8", "named invalid UTF-8");
	ok(parse("{\"a\":[1,2", &err) == NULL, "a truncated body is refused");
	is_str(err.reason, "truncated JSON value at end of input",
	    "named a truncation");
	ok(parse("", &err) == NULL, "an empty body is refused");
	ok(jparse(NULL, 0, "body", &err) == NULL, "no body is refused");

	/* A pretty-printed answer: the error names its line and column. */
	ok(parse("{\n  \"a\": 1,\n  \"b\": @\n}\n", &err) == NULL,
	    "a bad character on line 3");
	is_int(err.line, 3, "line counted across newlines");
	is_int(err.col, 8, "column counted from the line's start");

	tok = jparse_tokener_new();
	o = jparse_text(tok, "x", 1, "[]", 2, JPARSE_OBJECT, &err);
	json_tokener_free(tok);
	ok(o == NULL, "JPARSE_OBJECT refuses an array");
	is_str(err.reason, "top-level value is an array, not an object",
	    "and says what it is");

	if ((fd = mkstemp(path)) == -1 || (fp = fdopen(fd, "w")) == NULL) {
		perror("mkstemp");
		return 1;
	}
	fputs("[\"tt0000001\",\n \"tt0000002\"]\n", fp);
	fclose(fp);
	o = jparse_file(path, &err);
	ok(o != NULL && json_object_array_length(o) == 2, "a file parses");
	json_object_put(o);
	fp = fopen(path, "w");
	fputs("[\"tt0000001\",\n 'tt0000002']\n", fp);
	fclose(fp);
	ok(jparse_file(path, &err) == NULL, "a bad file is refused");
	ok(strncmp(err.message, path, strlen(path)) == 0 &&
	    strstr(err.message, ":2:2: ") != NULL, "naming path, line and column");
	unlink(path);
	ok(jparse_file(path, &err) == NULL, "a missing file is an error");
	ok(strstr(err.message, strerror(ENOENT)) != NULL, "naming errno's text");

	/* Splitting a points line without its tree */
	{
		static const char *const good[] = { "", "{}", "{\"id\":1}",
		    "{\"a\":[1,2,{\"b\":\"\\u00e9\\n\"}]},{\"id\":2}", "1,\"x\",null",
		    "true,false", "-0.5e+3", "[[[]]]", " {\"a\" : 1 } , {} ",
		    "{\"t\":\"\xc3\xa9\xe2\x82\xac\"}", "12345678901234567890",
		    "1e400", "{\"a\":\"\\u0000\"}" };
		static const char *const bad[] = { "{", "{\"a\":}", "1.", "01",
		    "NaN", "'a'", "{\"a\":1,}", "[1,]", "tru", "{\"a\" 1}",
		    "\"\xc0\xaf\"", "\"a\tb\"", "\"\\x\"", "{}x", "-", "1e",
		    "\"\\ud800\"", "\"\\ud83d\\ude00\"", "nul", "{\"a\":1}}",
		    "1 2", "\"\\u12\"", "+1", ".5" };
		struct jspan	 span, *e;
		size_t		 n, k;
		const char	*t;
		char		 deep[2048];

		for (k = 0; k < sizeof(good) / sizeof(good[0]); k++)
			ok(split_agrees(good[k]) == 1, "split: [%s] is split", good[k]);
		for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++)
			ok(split_agrees(bad[k]) == 0, "split: [%s] is left to jparse",
			    bad[k]);
		t = "{\"kind\":\"points\",\"seq\":3,\"points\":[{\"id\":1}, {\"id\":22}]}\r";
		ok(jparse_split(t, strlen(t), "points", &span, &e, &n) == 1 &&
		    n == 2 && e[0].off == 35 && e[0].len == 8 && e[1].off == 45 &&
		    e[1].len == 9 && span.off == 34 && span.len == 21,
		    "split: the spans of the array and of each element");
		free(e);
		t = "{\"points\":[],\"points\":[{}]}";
		ok(jparse_split(t, strlen(t), "points", &span, &e, &n) == 0,
		    "split: a member given twice is left to jparse");
		t = "{\"p\\u006fints\":[],\"points\":[{}]}";
		ok(jparse_split(t, strlen(t), "points", &span, &e, &n) == 0,
		    "split: a key with an escape is left to jparse");
		t = "{\"points\":{}}";
		ok(jparse_split(t, strlen(t), "points", &span, &e, &n) == 0,
		    "split: a member that is no array is left to jparse");
		t = "[{\"points\":[]}]";
		ok(jparse_split(t, strlen(t), "points", &span, &e, &n) == 0,
		    "split: only an object is split");
		memset(deep, '[', 600);
		memset(deep + 600, ']', 600);
		deep[1200] = '\0';
		ok(split_agrees(deep) == 0, "split: nesting near the limit is left to jparse");
		memset(deep, '[', 100);
		memset(deep + 100, ']', 100);
		deep[200] = '\0';
		ok(split_agrees(deep) == 1, "split: ordinary nesting is split");
	}

	/* Mutants of a good line: the split never vouches for a bad one */
	{
		static const char seed[] = "{\"kind\":\"points\",\"v\":1,"
		    "\"points\":[{\"id\":1,\"a\":[1,-2.5e3,\"x\\u00e9\\n\"]},"
		    "{\"b\":{\"c\":null,\"d\":true,\"e\":\"\xc3\xa9\"}},[0.5]],"
		    "\"seq\":12}";
		static const char bytes[] = "{}[],:\"\\ 0-.eE+tfnu\x01\x7f\xc3\xa9\xff";
		char		 m[sizeof(seed)];
		struct jspan	 span, *e;
		unsigned long	 x = 12345;
		size_t		 k, j, n, len, bad = 0, split = 0;

		for (k = 0; k < 20000; k++) {
			memcpy(m, seed, sizeof(seed));
			len = sizeof(seed) - 1;
			for (j = 0; j < 1 + k % 3; j++) {
				x = x * 6364136223846793005UL + 1442695040888963407UL;
				m[(x >> 33) % len] = bytes[(x >> 17) % (sizeof(bytes) - 1)];
			}
			if (k % 7 == 0)
				len = (x >> 40) % len;	/* a truncation too */
			if (!split_holds(m, len)) {
				if (bad++ == 0)
					tap_diag("disagree: %.*s", (int)len, m);
			}
			split += jparse_split(m, len, "points", &span, &e, &n);
			free(e);
		}
		ok(bad == 0 && split > 100, "split: 20000 mutants, none split that jparse "
		    "refuses (%zu split)", split);
	}

	return done_testing();
}
