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

	return done_testing();
}
