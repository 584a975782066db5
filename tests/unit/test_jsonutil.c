/* test_jsonutil.c: null-safe getters, canonical text and the UTF-8 check. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "jsonutil.h"
#include "ndjson_read.h"
#include "tap.h"

static struct json_object *
parse(const char *s)
{
	struct ndjson_error	 err;

	return ndjson_parse_string(s, strlen(s), &err);
}

static void
canon(const char *in, const char *want, const char *name)
{
	struct json_object	*o = parse(in);
	char			*c;

	c = jcanonical(o);
	is_str(c, want, name);
	free(c);
	json_object_put(o);
}

int
main(void)
{
	struct json_object	*o, *n;
	int64_t			 i = 0;
	double			 d = 0;
	size_t			 bad = 0;

	o = parse("{\"s\":\"x\",\"n\":7,\"f\":7.0,\"g\":7.6,\"b\":true,\"z\":null,"
	    "\"a\":[1],\"o\":{},\"big\":9007199254740993}");
	is_str(jget_str(o, "s"), "x", "jget_str");
	ok(jget_str(o, "n") == NULL, "jget_str never stringifies a number");
	ok(jget_str(o, "z") == NULL, "jget_str on null");
	ok(jget_str(o, "missing") == NULL, "jget_str missing");
	ok(jget_str(NULL, "s") == NULL, "jget_str on NULL object");
	ok(jget_obj(o, "o") != NULL && jget_obj(o, "a") == NULL, "jget_obj");
	ok(jget_arr(o, "a") != NULL && jget_arr(o, "o") == NULL, "jget_arr");
	ok(jget_int(o, "n", &i) && i == 7, "jget_int int");
	ok(jget_int(o, "f", &i) && i == 7, "jget_int 7.0");
	ok(!jget_int(o, "g", &i), "jget_int 7.6 refused");
	ok(!jget_int(o, "s", &i), "jget_int string refused");
	ok(jget_int(o, "big", &i) && i == 9007199254740993LL, "jget_int keeps 64-bit precision");
	ok(jget_num(o, "g", &d) && d == 7.6, "jget_num double");
	ok(jget_num(o, "n", &d) && d == 7, "jget_num int");
	ok(!jget_num(o, "b", &d), "jget_num bool refused");
	ok(jget_true(o, "b") && !jget_true(o, "n") && !jget_true(o, "missing"), "jget_true");
	json_object_put(o);

	o = json_object_new_object();
	json_object_object_add(o, "a", jstr_or_null(NULL));
	json_object_object_add(o, "b", jstr_or_null("x"));
	n = json_object_new_int(3);
	jadd_ref(o, "c", n);
	jadd_ref(o, "d", NULL);
	json_object_put(n);	/* o keeps its own reference */
	is_str(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
	    "{\"a\":null,\"b\":\"x\",\"c\":3,\"d\":null}", "builders");
	json_object_put(o);

	/* strings: plain runs kept, the JSON escapes written one way */
	canon("{\"s\":\"ab\\\"c\\\\d\\n\\u0001\\/\\u00e9\\t\"}",
	    "{\"s\":\"ab\\\"c\\\\d\\n\\u0001/\xc3\xa9\\t\"}",
	    "canonical strings: escapes, control bytes, UTF-8 as is");
	canon("{\"\":\"\",\"k\":\"\\\"\"}", "{\"\":\"\",\"k\":\"\\\"\"}",
	    "canonical strings: empty, only an escape");
	canon("{\"b\":1,\"a\":{\"d\":[3,{\"y\":1,\"x\":2}],\"c\":null}}",
	    "{\"a\":{\"c\":null,\"d\":[3,{\"x\":2,\"y\":1}]},\"b\":1}",
	    "keys sorted at every level");
	canon("{\"r\":7.60,\"e\":1e5,\"t\":true}", "{\"e\":100000,\"r\":7.6,\"t\":true}",
	    "numbers by value, not by text");
	/* what jq -c . writes must hash as the original (issue 9 #6) */
	canon("{\"a\":[7.0,1e2,1E2,-0.0,0.10,1.5e-07,2.5E+30,-3.25]}",
	    "{\"a\":[7,100,100,0,0.1,1.5e-7,2.5e30,-3.25]}", "7.0 is 7, 1e2 is 100");
	canon("{\"a\":[7,100,0,0.1,1.5e-7,2.5e30,-3.25]}",
	    "{\"a\":[7,100,0,0.1,1.5e-7,2.5e30,-3.25]}", "canonical numbers stay as they are");
	canon("{\"a\":[18446744073709551615,-9223372036854775808,9007199254740993,"
	    "1.8446744073709552e19]}",
	    "{\"a\":[18446744073709551615,-9223372036854775808,9007199254740993,"
	    "1.8446744073709552e19]}", "64-bit integers exact");
	canon("{\"a\":[0.1,0.30000000000000004,123456789.125,1e-300]}",
	    "{\"a\":[0.1,0.30000000000000004,123456789.125,1e-300]}",
	    "shortest text that reads back as the same double");
	canon("{\"s\":\"a/b \\\"q\\\" \\u0001\\n\\u00e9\"}",
	    "{\"s\":\"a/b \\\"q\\\" \\u0001\\n\xc3\xa9\"}", "string escapes are canonical");
	canon("{\"B\":1,\"a\":2,\"\xc3\xa9\":3}", "{\"B\":1,\"a\":2,\"\xc3\xa9\":3}",
	    "keys sorted bytewise");

	ok(jutf8_valid("plain", 5, NULL), "ASCII valid");
	ok(jutf8_valid("caf\xc3\xa9 \xf0\x9f\x8e\xac", 10, NULL), "2- and 4-byte valid");
	ok(!jutf8_valid("ab\xff", 3, &bad) && bad == 2, "0xff invalid at 2");
	ok(!jutf8_valid("\xc0\xaf", 2, &bad) && bad == 0, "overlong invalid");
	ok(!jutf8_valid("x\xed\xa0\x80", 4, &bad) && bad == 1, "surrogate invalid");
	ok(!jutf8_valid("\xf4\x90\x80\x80", 4, NULL), "above U+10FFFF invalid");
	ok(!jutf8_valid("\xe2\x82", 2, NULL), "truncated sequence invalid");
	ok(jutf8_valid("\xef\xbf\xbd", 3, NULL), "U+FFFD valid");
	return done_testing();
}
