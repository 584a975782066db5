/* test_ndjson_read.c: the NDJSON reader on good, hostile and interrupted input. */
#include <sys/time.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "buf.h"
#include "ndjson_read.h"
#include "ndjson_write.h"
#include "signals.h"
#include "tap.h"

/* A FILE holding exactly len bytes of data, positioned at the start. */
static FILE *
file_of(const char *data, size_t len)
{
	FILE	*fp;

	if ((fp = tmpfile()) == NULL) {
		perror("tmpfile");
		exit(1);
	}
	if (len > 0 && fwrite(data, 1, len, fp) != len) {
		perror("fwrite");
		exit(1);
	}
	rewind(fp);
	return fp;
}

/*
 * Reads one record from a single-line input and returns the status;
 * err is filled; the object, if any, is dropped.
 */
static enum ndjson_status
read_one(const char *data, size_t len, struct ndjson_error *err)
{
	struct ndjson_reader	*r;
	struct json_object	*o;
	enum ndjson_status	 st;
	FILE			*fp;

	fp = file_of(data, len);
	r = ndjson_reader_new(fp, "stdin", 0);
	st = ndjson_read(r, &o, err);
	json_object_put(o);
	ndjson_reader_free(r);
	fclose(fp);
	return st;
}

/* A bad line must come back BAD with this reason and column. */
static void
expect_bad(const char *data, size_t len, const char *reason, size_t col,
    const char *name)
{
	struct ndjson_error	 err;
	enum ndjson_status	 st;

	st = read_one(data, len, &err);
	if (!ok(st == NDJSON_BAD, "%s: bad record", name))
		return;
	is_str(err.reason, reason, name);
	is_int(err.col, col, "  column");
}

static void
test_good_lines(void)
{
	static const char in[] =
	    "{\"a\":1}\n"
	    "\n"
	    "   \t \r\n"
	    "{\"b\":\"x\"}\r\n"
	    "{\"c\":[1,2,{\"d\":null}]}\n"
	    "  {\"e\":true}  \n"
	    "{\"f\":1.50,\"g\":\"caf\xc3\xa9 \xf0\x9f\x8e\xac\"}";	/* no final newline */
	struct ndjson_reader	*r;
	struct ndjson_error	 err;
	struct json_object	*o;
	const char		*raw;
	size_t			 len, n = 0;
	size_t			 lines[8];
	FILE			*fp;

	fp = file_of(in, sizeof(in) - 1);
	r = ndjson_reader_new(fp, "stdin", 0);
	while (ndjson_read(r, &o, &err) == NDJSON_OK) {
		if (n < 8)
			lines[n] = ndjson_reader_line(r);
		if (n == 1) {
			raw = ndjson_reader_raw(r, &len);
			is_str(raw, "{\"b\":\"x\"}", "CRLF: CR dropped from raw text");
			is_str(json_object_get_string(json_object_object_get(o, "b")),
			    "x", "CRLF line parsed");
		}
		if (n == 4)
			is_str(ndjson_to_string(o, NULL),
			    "{\"f\":1.50,\"g\":\"caf\xc3\xa9 \xf0\x9f\x8e\xac\"}",
			    "last line without newline read; number text and UTF-8 kept");
		json_object_put(o);
		n++;
	}
	is_int(n, 5, "five records, blank lines skipped");
	if (n == 5) {
		is_int(lines[0], 1, "line numbers count blank lines (1)");
		is_int(lines[1], 4, "line numbers count blank lines (4)");
		is_int(lines[4], 7, "line numbers count blank lines (7)");
	}
	is_int(ndjson_read(r, &o, &err), NDJSON_EOF, "EOF after the last line");
	is_int(ndjson_read(r, &o, &err), NDJSON_EOF, "EOF again");
	ndjson_reader_free(r);
	fclose(fp);

	fp = file_of("", 0);
	r = ndjson_reader_new(fp, "stdin", 0);
	is_int(ndjson_read(r, &o, &err), NDJSON_EOF, "empty input is EOF");
	ndjson_reader_free(r);
	fclose(fp);
}

static void
test_overlong(void)
{
	struct ndjson_reader	*r;
	struct ndjson_error	 err;
	struct json_object	*o;
	struct buf		 in = BUF_INIT;
	enum ndjson_status	 st;
	size_t			 i;
	FILE			*fp;

	/* A 3 MB line under a 1 MiB limit, between two good lines. */
	buf_appends(&in, "{\"ok\":1}\n{\"big\":\"");
	for (i = 0; i < 3 * 1000 * 1000; i++)
		buf_append(&in, "x", 1);
	buf_appends(&in, "\"}\n{\"ok\":2}\n");
	fp = file_of(in.data, in.len);
	r = ndjson_reader_new(fp, "big.ndjson", 1024 * 1024);
	is_int(ndjson_read(r, &o, &err), NDJSON_OK, "line before the long one");
	json_object_put(o);
	st = ndjson_read(r, &o, &err);
	is_int(st, NDJSON_BAD, "over-long line is a bad record");
	is_str(err.message, "big.ndjson:2:1048577: line longer than 1048576 bytes",
	    "over-long line: positioned message");
	ok(err.raw_truncated && err.raw_len > 0 && err.raw_len <= 4096,
	    "only the head of the long line is kept (%zu bytes)", err.raw_len);
	ok(err.raw != NULL && strncmp(err.raw, "{\"big\":\"xxx", 11) == 0,
	    "the kept head is the start of the line");
	ok(o == NULL, "no object for a bad line");
	st = ndjson_read(r, &o, &err);
	is_int(st, NDJSON_OK, "reading goes on at the next line");
	is_int(ndjson_reader_line(r), 3, "  and counts it as line 3");
	ok(o != NULL && json_object_get_int(json_object_object_get(o, "ok")) == 2,
	    "  with the right content");
	json_object_put(o);
	is_int(ndjson_read(r, &o, &err), NDJSON_EOF, "then EOF");
	ndjson_reader_free(r);
	fclose(fp);
	buf_free(&in);

	/* Exactly at the limit is fine; one byte more is not. */
	fp = file_of("{\"a\":\"12\"}\n{\"a\":\"123\"}\n", 23);
	r = ndjson_reader_new(fp, "stdin", 10);
	is_int(ndjson_read(r, &o, &err), NDJSON_OK, "line of exactly max_line bytes");
	json_object_put(o);
	is_int(ndjson_read(r, &o, &err), NDJSON_BAD, "line of max_line+1 bytes");
	is_int(err.col, 11, "  column is max_line+1");
	ndjson_reader_free(r);
	fclose(fp);
}

static void
test_bad_json(void)
{
	struct buf	 deep = BUF_INIT;
	int		 i;

	expect_bad("{\"a\":\"\xff\"}", 9, "invalid UTF-8", 7, "invalid UTF-8 byte");
	expect_bad("{\"a\":\"\xc0\xaf\"}", 10, "invalid UTF-8", 7,
	    "overlong UTF-8");
	expect_bad("{\"a\":\"\xed\xa0\x80\"}", 11, "invalid UTF-8", 7,
	    "UTF-8 encoded surrogate");
	expect_bad("{\"a\":\"\xf4\x90\x80\x80\"}", 12, "invalid UTF-8", 7,
	    "UTF-8 above U+10FFFF");
	expect_bad("{\"a\":[1,2", 9, "truncated JSON value at end of input", 10,
	    "truncated last line");
	expect_bad("{\"a\":\"abc", 9, "truncated JSON value at end of input", 10,
	    "truncated string on last line");
	expect_bad("{\"a\":[1,2\n", 10, "JSON value not finished at end of line",
	    10, "unfinished value mid-stream");
	expect_bad("{\"a\":1} x\n", 10, "trailing bytes after JSON value", 9,
	    "trailing garbage");
	expect_bad("{\"a\":1}{}\n", 10, "trailing bytes after JSON value", 8,
	    "two values on one line");
	expect_bad("{\"a\":1}\0\n", 9, "trailing bytes after JSON value", 8,
	    "NUL after the value");
	expect_bad("[1,2]\n", 6, "top-level value is an array, not an object", 1,
	    "array at top level");
	expect_bad("123\n", 4, "top-level value is a number, not an object", 1,
	    "number at top level");
	expect_bad("\"s\"\n", 4, "top-level value is a string, not an object", 1,
	    "string at top level");
	expect_bad("null", 4, "top-level value is null, not an object", 1,
	    "null at top level, no newline");
	expect_bad("{'a':1}\n", 8, "unexpected character", 2, "single quotes");
	expect_bad("{\"a\":NaN}\n", 10, "unexpected character", 6, "NaN");
	expect_bad("{\"a\":-Infinity}\n", 16, "malformed number", 6, "-Infinity");
	expect_bad("{\"a\":1.}\n", 9, "malformed number", 6, "1. without fraction");
	expect_bad("{\"a\":\"x\ty\"}\n", 12, "control character in string", 8,
	    "raw tab in a string");
	expect_bad("{\"a\":01}\n", 9, "number expected", 8, "leading zero");
	expect_bad("{\"a\":1,}\n", 9, "unexpected character", 8, "trailing comma");
	expect_bad("{\"a\" 1}\n", 8,
	    "object property name separator ':' expected", 6, "missing colon");

	/* 10,000 levels of nesting: a clean error at the limit, no crash. */
	for (i = 0; i < 10000; i++)
		buf_appends(&deep, "{\"a\":");
	buf_appends(&deep, "1");
	for (i = 0; i < 10000; i++)
		buf_appends(&deep, "}");
	expect_bad(deep.data, deep.len, "nesting deeper than the limit of 512 levels",
	    5 * 512 + 1, "10,000-deep objects");
	buf_reset(&deep);
	for (i = 0; i < 10000; i++)
		buf_appends(&deep, "[");
	expect_bad(deep.data, deep.len, "nesting deeper than the limit of 512 levels",
	    513, "10,000-deep arrays (unclosed)");
	buf_free(&deep);
}

/* Good and bad lines mixed: every good line still comes through, in order. */
static void
test_mixed_stream(void)
{
	static const char in[] =
	    "{\"n\":1}\n"
	    "{\"n\":\"\xff\"}\n"
	    "{\"n\":2}\n"
	    "{\"n\":3} trailing\n"
	    "not json at all\n"	/* json-c stops at the 'o' of "no" */
	    "{\"n\":4}\n"
	    "{\"n\":";
	struct ndjson_reader	*r;
	struct ndjson_error	 err;
	struct json_object	*o;
	enum ndjson_status	 st;
	struct buf		 got = BUF_INIT;
	FILE			*fp;

	fp = file_of(in, sizeof(in) - 1);
	r = ndjson_reader_new(fp, "mix", 0);
	while ((st = ndjson_read(r, &o, &err)) != NDJSON_EOF) {
		if (st == NDJSON_OK) {
			buf_printf(&got, "ok%d ", json_object_get_int(
			    json_object_object_get(o, "n")));
			json_object_put(o);
		} else if (st == NDJSON_BAD)
			buf_printf(&got, "bad@%zu:%zu ", err.line, err.col);
		else
			break;
	}
	is_str(got.data, "ok1 bad@2:7 ok2 bad@4:9 bad@5:2 ok4 bad@7:6 ",
	    "mixed stream: good lines kept in order, bad ones positioned");
	ok(strcmp(err.message, "mix:7:6: truncated JSON value at end of input") == 0,
	    "message format NAME:LINE:COL: reason (%s)", err.message);
	buf_free(&got);
	ndjson_reader_free(r);
	fclose(fp);
}

/* One record taken (its line and text) or refused (where, why), into out; o is freed. */
static void
note_record(struct buf *out, struct ndjson_reader *r, enum ndjson_status st,
    struct json_object *o, const struct ndjson_error *err)
{
	const char	*text;
	size_t		 len;

	if (st == NDJSON_OK) {
		text = ndjson_reader_raw(r, &len);
		buf_printf(out, "ok@%zu[%.*s] ", ndjson_reader_line(r),
		    (int)len, text);
		json_object_put(o);
	} else
		buf_printf(out, "bad@%zu:%zu %s [%.*s]%d ", err->line, err->col,
		    err->message, (int)err->raw_len, err->raw,
		    err->raw_truncated);
}

/*
 * ndjson_read_text() then ndjson_reader_parse() is ndjson_read(): the
 * same records, line numbers, raw texts and errors, line for line.
 */
static void
test_text_then_parse(void)
{
	static const char in[] =
	    "{\"n\":1}\r\n"
	    "  \t\r\n"
	    "{\"n\":\"\xff\"}\n"
	    "{\"n\":2}\n"
	    "[1]\n"
	    "{\"n\":3} trailing\n"
	    "{\"n\":\"01234567890123456789\"}\n"
	    "{\"n\":";
	struct ndjson_reader	*r;
	struct ndjson_error	 err;
	struct json_object	*o;
	enum ndjson_status	 st;
	struct buf		 a = BUF_INIT, b = BUF_INIT;
	const char		*text;
	size_t			 len;
	FILE			*fp;
	int			 pass;

	for (pass = 0; pass < 2; pass++) {
		fp = file_of(in, sizeof(in) - 1);
		r = ndjson_reader_new(fp, "two", 20);
		for (;;) {
			if (pass == 0)
				st = ndjson_read(r, &o, &err);
			else if ((st = ndjson_read_text(r, &text, &len,
			    &err)) == NDJSON_OK) {
				if (len != strlen(text))
					buf_printf(&b, "len? ");
				st = ndjson_reader_parse(r, &o, &err);
			}
			if (st == NDJSON_EOF || st == NDJSON_IOERR)
				break;
			note_record(pass ? &b : &a, r, st, o, &err);
		}
		ndjson_reader_free(r);
		fclose(fp);
	}
	/* the points of a split line, parsed one at a time by the reader */
	{
		static const char pl[] = "{\"x\":1}\n{\"kind\":\"points\",\"points\":"
		    "[{\"id\":1},{\"id\":2,\"t\":\"\\u00e9\"}]}\n";
		struct jspan	 arr, *el;
		size_t		 n;

		fp = file_of(pl, sizeof(pl) - 1);
		r = ndjson_reader_new(fp, "pts", 0);
		ndjson_read_text(r, &text, &len, &err);
		ok(ndjson_read_text(r, &text, &len, &err) == NDJSON_OK &&
		    jparse_split(text, len, "points", &arr, &el, &n) == 1 && n == 2,
		    "span: the line splits");
		o = ndjson_reader_parse_span(r, el[1].off, el[1].len, &err);
		ok(o != NULL && strcmp(json_object_get_string(json_object_object_get(o,
		    "t")), "\xc3\xa9") == 0, "span: the second point parses alone");
		json_object_put(o);
		ok(ndjson_reader_parse_span(r, el[0].off, el[0].len - 1, &err) == NULL &&
		    strncmp(err.message, "pts:2:", 6) == 0,
		    "span: a bad span names the reader and line (%s)", err.message);
		ok(ndjson_reader_parse_span(r, len, 1, &err) == NULL,
		    "span: beyond the line is refused");
		free(el);
		ndjson_reader_free(r);
		fclose(fp);
	}
	ok(a.len > 0 && strstr(a.data, "bad@7:21 two:7:21: line longer") != NULL,
	    "text then parse: the reference run saw the long line");
	is_str(b.data, a.data, "text then parse: the same as ndjson_read");
	/* and a push reader's take_text then parse is its take */
	for (pass = 0; pass < 2; pass++) {
		buf_reset(pass ? &b : &a);
		r = ndjson_reader_new_push("two", 20);
		ndjson_reader_feed(r, in, sizeof(in) - 1);
		ndjson_reader_feed_eof(r);
		for (;;) {
			if (pass == 0)
				st = ndjson_reader_take(r, &o, &err);
			else if ((st = ndjson_reader_take_text(r, &text, &len,
			    &err)) == NDJSON_OK) {
				if (len != strlen(text))
					buf_printf(&b, "len? ");
				st = ndjson_reader_parse(r, &o, &err);
			}
			if (st != NDJSON_OK && st != NDJSON_BAD)
				break;
			note_record(pass ? &b : &a, r, st, o, &err);
		}
		buf_printf(pass ? &b : &a, "end %d", st);
		ndjson_reader_free(r);
	}
	ok(strstr(a.data, "ok@4[{\"n\":2}]") != NULL &&
	    strstr(a.data, "end 0") != NULL,
	    "push take text then parse: the reference run took every line");
	is_str(b.data, a.data, "push take text then parse: the same as take");
	buf_free(&a);
	buf_free(&b);
}

static void
test_parse_string(void)
{
	struct ndjson_error	 err;
	struct json_object	*o;

	o = ndjson_parse_string("{\"k\":[true,false,null]}", 23, &err);
	ok(o != NULL, "ndjson_parse_string: good text");
	json_object_put(o);
	o = ndjson_parse_string("{\"k\":}", 6, &err);
	ok(o == NULL, "ndjson_parse_string: bad text");
	ok(strncmp(err.message, "input:1:6: ", 11) == 0,
	    "  positioned message (%s)", err.message);
}

/* ------------------------------------------------------------------ */
/* The push interface */

/* One record or bad line as text, to compare readers event by event. */
static void
describe(struct buf *b, struct ndjson_reader *r, enum ndjson_status st,
    struct json_object *o, const struct ndjson_error *err)
{
	const char	*raw;
	size_t		 len;

	if (st == NDJSON_OK) {
		raw = ndjson_reader_raw(r, &len);
		buf_printf(b, "ok@%zu [%.*s] %s\n", ndjson_reader_line(r),
		    (int)len, raw, ndjson_to_string(o, NULL));
	} else
		buf_printf(b, "bad@%zu:%zu %s [%.*s]%s\n", err->line, err->col,
		    err->reason, (int)err->raw_len, err->raw,
		    err->raw_truncated ? " truncated" : "");
}

/* Every event of the pull reader on data, then "eof". */
static void
pull_events(const char *data, size_t len, size_t max_line, struct buf *out)
{
	struct ndjson_reader	*r;
	struct ndjson_error	 err;
	struct json_object	*o;
	enum ndjson_status	 st;
	FILE			*fp;

	fp = file_of(data, len);
	r = ndjson_reader_new(fp, "in", max_line);
	while ((st = ndjson_read(r, &o, &err)) == NDJSON_OK ||
	    st == NDJSON_BAD) {
		describe(out, r, st, o, &err);
		json_object_put(o);
	}
	buf_printf(out, st == NDJSON_EOF ? "eof\n" : "status %d\n", st);
	ndjson_reader_free(r);
	fclose(fp);
}

/* Takes what a push reader has; returns the last status. */
static enum ndjson_status
take_all(struct ndjson_reader *r, struct buf *out)
{
	struct ndjson_error	 err;
	struct json_object	*o;
	enum ndjson_status	 st;

	while ((st = ndjson_reader_take(r, &o, &err)) == NDJSON_OK ||
	    st == NDJSON_BAD) {
		describe(out, r, st, o, &err);
		json_object_put(o);
	}
	return st;
}

/*
 * Every event of a push reader fed data in pieces of `step` bytes, the
 * first piece `first` bytes; records are taken after each piece.
 * *most is the largest number of bytes the reader held.
 */
static void
push_events(const char *data, size_t len, size_t max_line, size_t first,
    size_t step, struct buf *out, size_t *most)
{
	struct ndjson_reader	*r;
	enum ndjson_status	 st = NDJSON_AGAIN;
	size_t			 off = 0, n, pieces = 0;

	r = ndjson_reader_new_push("in", max_line);
	if (most != NULL)
		*most = 0;
	while (off < len) {
		n = pieces++ == 0 ? first : step;
		if (n > len - off)
			n = len - off;
		ndjson_reader_feed(r, data + off, n);
		off += n;
		if (most != NULL && ndjson_reader_buffered(r) > *most)
			*most = ndjson_reader_buffered(r);
		if ((st = take_all(r, out)) != NDJSON_AGAIN)
			break;
	}
	if (st == NDJSON_AGAIN) {
		ndjson_reader_feed_eof(r);
		st = take_all(r, out);
	}
	buf_printf(out, st == NDJSON_EOF ? "eof\n" : "status %d\n", st);
	ndjson_reader_free(r);
}

/*
 * The same records, lines, raw text and errors as the pull reader,
 * wherever the input is cut, and byte by byte.
 */
static void
same_as_pull(const char *data, size_t len, size_t max_line, const char *name)
{
	struct buf	 want = BUF_INIT, got = BUF_INIT;
	size_t		 k, bad = 0, first_bad = 0;

	pull_events(data, len, max_line, &want);
	for (k = 0; k <= len; k++) {
		buf_reset(&got);
		push_events(data, len, max_line, k, len, &got, NULL);
		if (strcmp(got.data, want.data) != 0 && bad++ == 0)
			first_bad = k;
	}
	ok(bad == 0, "%s: split at every byte boundary, same events as the "
	    "pull reader (%zu differ, first at %zu)", name, bad, first_bad);
	if (bad > 0) {
		buf_reset(&got);
		push_events(data, len, max_line, first_bad, len, &got, NULL);
		tap_diag("want:\n%s", want.data);
		tap_diag("got:\n%s", got.data);
	}
	buf_reset(&got);
	push_events(data, len, max_line, 1, 1, &got, NULL);
	is_str(got.data, want.data, "  and fed one byte at a time");
	buf_free(&want);
	buf_free(&got);
}

static void
test_push_splits(void)
{
	static const char good[] =
	    "{\"a\":1}\n"
	    "\n"
	    "   \t \r\n"
	    "{\"b\":\"x\"}\r\n"
	    "{\"c\":[1,2,{\"d\":null}]}\n"
	    "  {\"e\":true}  \n"
	    "{\"f\":1.50,\"g\":\"caf\xc3\xa9 \xf0\x9f\x8e\xac\"}";
	static const char mixed[] =
	    "{\"n\":1}\n"
	    "{\"n\":\"\xff\"}\n"
	    "{\"n\":2}\r\n"
	    "{\"n\":3} trailing\n"
	    "not json at all\n"
	    "{\"n\":[1,\n"
	    "{\"n\":4}\n"
	    "{\"n\":";
	/* under a 24-byte limit: longer lines, ended and not; 24 bytes + CR */
	static const char longs[] =
	    "{\"s\":\"short\"}\n"
	    "{\"s\":\"a line that is far too long\"}\n"
	    "{\"s\":\"exactly 24 bytes\"}\n"
	    "{\"s\":\"exactly 24 bytes\"}\r\n"
	    "{\"s\":\"ok\"}\n"
	    "{\"s\":\"too long again, and no newline at the end\"}";
	struct buf	 got = BUF_INIT;

	same_as_pull(good, sizeof(good) - 1, 0, "good lines, CRLF, no final LF");
	same_as_pull(mixed, sizeof(mixed) - 1, 0, "bad lines mixed with good");
	same_as_pull(longs, sizeof(longs) - 1, 24, "over-long lines");
	same_as_pull("", 0, 0, "empty input");
	same_as_pull("\n\r\n", 3, 0, "blank lines only");

	/* what the events are, not only that both readers agree */
	push_events(good, sizeof(good) - 1, 0, 5, 3, &got, NULL);
	is_str(got.data,
	    "ok@1 [{\"a\":1}] {\"a\":1}\n"
	    "ok@4 [{\"b\":\"x\"}] {\"b\":\"x\"}\n"
	    "ok@5 [{\"c\":[1,2,{\"d\":null}]}] {\"c\":[1,2,{\"d\":null}]}\n"
	    "ok@6 [  {\"e\":true}  ] {\"e\":true}\n"
	    "ok@7 [{\"f\":1.50,\"g\":\"caf\xc3\xa9 \xf0\x9f\x8e\xac\"}] "
	    "{\"f\":1.50,\"g\":\"caf\xc3\xa9 \xf0\x9f\x8e\xac\"}\n"
	    "eof\n",
	    "push: records with line numbers (blank lines counted), raw text "
	    "without CR, last line without LF");
	buf_reset(&got);
	push_events(longs, sizeof(longs) - 1, 24, 7, 7, &got, NULL);
	is_str(got.data,
	    "ok@1 [{\"s\":\"short\"}] {\"s\":\"short\"}\n"
	    "bad@2:25 line longer than 24 bytes [{\"s\":\"a line that is far] truncated\n"
	    "ok@3 [{\"s\":\"exactly 24 bytes\"}] {\"s\":\"exactly 24 bytes\"}\n"
	    "bad@4:25 line longer than 24 bytes [{\"s\":\"exactly 24 bytes\"}] truncated\n"
	    "ok@5 [{\"s\":\"ok\"}] {\"s\":\"ok\"}\n"
	    "bad@6:25 line longer than 24 bytes [{\"s\":\"too long again, an] truncated\n"
	    "eof\n",
	    "push: over-long lines are bad records with their head, CR "
	    "counted in the length");
	buf_reset(&got);
	push_events(mixed, sizeof(mixed) - 1, 0, 9, 4, &got, NULL);
	ok(strstr(got.data, "bad@6:9 JSON value not finished at end of line") != NULL &&
	    strstr(got.data, "bad@8:6 truncated JSON value at end of input") != NULL,
	    "push: an unfinished line and a truncated last line are told apart");
	buf_free(&got);
}

/* A 3 MB line fed in 4 KiB pieces under a 1 MiB limit is never held whole. */
static void
test_push_bounded(void)
{
	struct buf	 in = BUF_INIT, got = BUF_INIT;
	size_t		 i, most;

	buf_appends(&in, "{\"ok\":1}\n{\"big\":\"");
	for (i = 0; i < 3 * 1000 * 1000; i++)
		buf_append(&in, "x", 1);
	buf_appends(&in, "\"}\r\n{\"ok\":2}\n");
	push_events(in.data, in.len, 1024 * 1024, 4096, 4096, &got, &most);
	ok(most <= 1024 * 1024 + 4096, "push: at most max_line + one feed held "
	    "(%zu bytes)", most);
	ok(strncmp(got.data, "ok@1 [{\"ok\":1}] {\"ok\":1}\nbad@2:1048577 line "
	    "longer than 1048576 bytes [{\"big\":\"xxxx", 70) == 0,
	    "push: the long line is a positioned bad record");
	ok(strstr(got.data, "xxx] truncated\nok@3 [{\"ok\":2}] {\"ok\":2}\neof\n") != NULL,
	    "push: its head only (%zu bytes of events), then the next line",
	    got.len);
	ok(got.len < NDJSON_RAW_KEEP + 200, "push: NDJSON_RAW_KEEP bytes kept");
	buf_free(&in);
	buf_free(&got);
}

static void
test_push_misuse(void)
{
	struct ndjson_reader	*r;
	struct ndjson_error	 err;
	struct json_object	*o;

	r = ndjson_reader_new_push("in", 0);
	is_int(ndjson_reader_take(r, &o, &err), NDJSON_AGAIN,
	    "push: nothing fed is AGAIN");
	errno = 0;
	is_int(ndjson_read(r, &o, &err), NDJSON_IOERR,
	    "ndjson_read on a push reader is an error");
	is_int(errno, EINVAL, "  EINVAL");
	ndjson_reader_feed_eof(r);
	is_int(ndjson_reader_take(r, &o, &err), NDJSON_EOF, "push: then EOF");
	is_int(ndjson_reader_take(r, &o, &err), NDJSON_EOF, "push: EOF again");
	ndjson_reader_free(r);
}

static int	 alarms;

/* The first alarm is a stray signal (retried); the second a stop request. */
static void
on_alarm(int sig)
{
	if (++alarms == 2)
		signal_received = sig;
}

/*
 * A signal in the middle of a line (no SA_RESTART) returns IOERR/EINTR,
 * and the next call finishes the same line without losing its start.
 */
static void
test_eintr_resume(void)
{
	struct ndjson_reader	*r;
	struct ndjson_error	 err;
	struct json_object	*o = NULL;
	struct sigaction	 sa;
	struct itimerval	 it;
	enum ndjson_status	 st;
	FILE			*fp;
	pid_t			 pid;
	int			 fds[2], status, tries, saw_eintr = 0;
	int			 eintr_alarms = 0;

	if (pipe(fds) == -1) {
		tap_skip("pipe failed");
		return;
	}
	if ((pid = fork()) == 0) {
		close(fds[0]);
		if (write(fds[1], "{\"part\":", 8) != 8)
			_exit(1);
		usleep(400 * 1000);
		if (write(fds[1], "\"whole\"}\n", 9) != 9)
			_exit(1);
		_exit(0);
	}
	close(fds[1]);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	memset(&it, 0, sizeof(it));
	it.it_value.tv_usec = 100 * 1000;
	it.it_interval.tv_usec = 100 * 1000;
	setitimer(ITIMER_REAL, &it, NULL);
	fp = fdopen(fds[0], "r");
	r = ndjson_reader_new(fp, "pipe", 0);
	for (tries = 0; tries < 5; tries++) {
		st = ndjson_read(r, &o, &err);
		if (st == NDJSON_IOERR && errno == EINTR) {
			saw_eintr = 1;
			/* Stop the timer; a real stage would now wind down. */
			memset(&it, 0, sizeof(it));
			setitimer(ITIMER_REAL, &it, NULL);
			eintr_alarms = alarms;
			signal_received = 0;
			continue;
		}
		break;
	}
	ok(saw_eintr && eintr_alarms == 2,
	    "a stray signal is retried; a stop request returns EINTR (after %d alarms)",
	    eintr_alarms);
	is_int(st, NDJSON_OK, "the next call completes the line");
	ok(o != NULL && strcmp(json_object_get_string(
	    json_object_object_get(o, "part")), "whole") == 0,
	    "  with the bytes read before the signal");
	is_int(ndjson_reader_line(r), 1, "  still line 1");
	json_object_put(o);
	ndjson_reader_free(r);
	fclose(fp);
	waitpid(pid, &status, 0);
	signal(SIGALRM, SIG_DFL);
}

int
main(void)
{
	alarm(60);	/* a hang is a failure, not a stuck run */
	test_good_lines();
	test_overlong();
	test_bad_json();
	test_mixed_stream();
	test_parse_string();
	test_push_splits();
	test_push_bounded();
	test_push_misuse();
	test_text_then_parse();
	alarm(0);
	test_eintr_resume();
	return done_testing();
}
