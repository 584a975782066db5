/* test_record.c: record kinds, shape checks, envelopes in wire order and the end record. */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "ndjson_read.h"
#include "ndjson_write.h"
#include "record.h"
#include "tap.h"

static struct json_object *
parse(const char *s)
{
	struct ndjson_error	 err;
	struct json_object	*o;

	if ((o = ndjson_parse_string(s, strlen(s), &err)) == NULL)
		tap_diag("parse failed: %s", err.message);
	return o;
}

static void
kind(const char *s, enum record_kind want, const char *name)
{
	struct json_object	*o = parse(s);

	is_int(record_kind_of(o), want, name);
	json_object_put(o);
}

/* check(fn, text) returns the reason, or "" when the record is fine. */
static const char *
check(const char *(*fn)(struct json_object *), const char *s)
{
	struct json_object	*o = parse(s);
	const char		*why;

	why = fn(o);
	json_object_put(o);
	return why != NULL ? why : "";
}

static void
test_kinds(void)
{
	kind("{\"kind\":\"plex\",\"v\":1}", REC_PLEX, "plex kind");
	kind("{\"kind\":\"points\"}", REC_POINTS, "points kind");
	kind("{\"kind\":\"end\",\"complete\":true}", REC_END, "end kind");
	kind("{\"kind\":\"result\",\"seq\":1}", REC_OTHER, "unknown kind passes through");
	kind("{\"ratingKey\":\"123\",\"title\":\"x\"}", REC_BARE_ITEM, "bare item");
	kind("{\"id\":7,\"vector\":{}}", REC_BARE_POINT, "bare point");
	kind("{\"kind\":3}", REC_INVALID, "non-string kind is invalid");
	kind("{\"title\":\"x\"}", REC_INVALID, "nothing recognisable");
	is_int(record_kind_of(NULL), REC_INVALID, "NULL is invalid");
	is_str(record_kind_name(REC_POINTS), "points", "kind name");
}

static void
test_checks(void)
{
	const char *(*fn)(struct json_object *);

	fn = record_check_plex;
	is_str(check(fn, "{\"kind\":\"plex\",\"v\":1,\"seq\":0,\"section\":{},"
	    "\"items\":[{\"ratingKey\":\"1\"}],\"shows\":{}}"), "", "good plex record");
	is_str(check(fn, "{\"kind\":\"plex\",\"items\":{}}"),
	    "plex record: items is not an array", "plex items not array");
	is_str(check(fn, "{\"kind\":\"plex\",\"v\":2,\"items\":[]}"),
	    "plex record: v is not 1", "plex v 2");
	is_str(check(fn, "{\"kind\":\"plex\",\"seq\":-1,\"items\":[]}"),
	    "plex record: seq is not a non-negative integer", "plex negative seq");
	is_str(check(fn, "{\"kind\":\"plex\",\"items\":[1]}"),
	    "plex record: an item is not an object", "plex item not object");
	is_str(check(fn, "{\"kind\":\"plex\",\"items\":[],\"shows\":[]}"),
	    "plex record: shows is not an object", "plex shows not object");

	/* split: the envelope's items are [], the caller says if all were objects */
	{
		struct json_object	*o;
		const char		*why;

		o = parse("{\"kind\":\"plex\",\"v\":1,\"items\":[],\"shows\":[]}");
		why = record_check_plex_split(o, 0);
		is_str(why ? why : "", "plex record: an item is not an object",
		    "plex split: items come before shows, as whole");
		why = record_check_plex_split(o, 1);
		is_str(why ? why : "", "plex record: shows is not an object",
		    "plex split: then shows");
		json_object_put(o);
		o = parse("{\"kind\":\"plex\",\"v\":2,\"items\":[]}");
		why = record_check_plex_split(o, 0);
		is_str(why ? why : "", "plex record: v is not 1",
		    "plex split: the head first");
		json_object_put(o);
		o = parse("{\"kind\":\"plex\",\"items\":[]}");
		ok(record_check_plex_split(o, 1) == NULL, "plex split: good");
		json_object_put(o);
	}

	/* record_split: the envelope, the spans, the shape check */
	{
		static const char pl[] = "{\"kind\":\"plex\",\"seq\":4,"
		    "\"items\":[{\"ratingKey\":\"1\"}, {\"a\":[1]}],\"shows\":{}}";
		static const char bad[] = "{\"kind\":\"plex\",\"items\":[{},2]}";
		static const char esc[] = "{\"kind\":\"plex\",\"t\":\"\\ud83c\\udfac\","
		    "\"items\":[]}";
		struct json_object	*env;
		struct jspan		*el;
		const char		*why;
		size_t			 n;

		ok(record_split(pl, strlen(pl), REC_PLEX, &env, &el, &n, &why) == 1 &&
		    why == NULL && n == 2 && strncmp(pl + el[1].off, "{\"a\":[1]}",
		    el[1].len) == 0 && el[1].len == 9,
		    "split: a plex line gives its item spans");
		is_str(ndjson_to_string(env, NULL),
		    "{\"kind\":\"plex\",\"seq\":4,\"items\":[],\"shows\":{}}",
		    "split: the envelope has an empty items array");
		json_object_put(env);
		free(el);
		ok(record_split(pl, strlen(pl), REC_POINTS, &env, &el, &n, &why) == 0 &&
		    env == NULL && el == NULL, "split: another kind is not split");
		ok(record_split(bad, strlen(bad), REC_PLEX, &env, &el, &n, &why) == 1 &&
		    why != NULL && strcmp(why, "plex record: an item is not an object") == 0,
		    "split: an item that is not an object is named");
		json_object_put(env);
		free(el);
		ok(record_split(esc, strlen(esc), REC_PLEX, &env, &el, &n, &why) == 0,
		    "split: a surrogate escape is left to the whole parse");
	}

	fn = record_check_points;
	is_str(check(fn, "{\"kind\":\"points\",\"v\":1,\"seq\":3,\"points\":[]}"), "",
	    "good points record");
	is_str(check(fn, "{\"kind\":\"points\"}"),
	    "points record: points is not an array", "points missing");
	is_str(check(fn, "{\"kind\":\"points\",\"seq\":\"1\",\"points\":[]}"),
	    "points record: seq is not a non-negative integer", "points seq string");

	fn = record_check_end;
	is_str(check(fn, "{\"kind\":\"end\",\"v\":1,\"complete\":false,\"items\":0,"
	    "\"sections\":[],\"rating_keys\":[],\"stats\":{}}"), "", "good end record");
	is_str(check(fn, "{\"kind\":\"end\",\"complete\":\"yes\"}"),
	    "end record: complete is not a boolean", "end complete string");
	is_str(check(fn, "{\"kind\":\"end\",\"complete\":true,\"stats\":[]}"),
	    "end record: stats is not an object", "end stats array");

	fn = record_check_item;
	is_str(check(fn, "{\"ratingKey\":\"42\"}"), "", "good item");
	is_str(check(fn, "{\"ratingKey\":42}"),
	    "item ratingKey is not a non-empty string", "numeric ratingKey");
	is_str(check(fn, "{\"title\":\"x\"}"), "item has no ratingKey", "no ratingKey");

	fn = record_check_point;
	is_str(check(fn, "{\"id\":18446744073709551615,\"vector\":{}}"), "",
	    "point id max uint64");
	is_str(check(fn, "{\"id\":\"5c56c793-69f3-4fbf-87e6-c4bf54c28c26\","
	    "\"vector\":{\"dense\":[0.1]},\"payload\":{}}"), "", "point UUID id");
	is_str(check(fn, "{\"id\":\"5c56c79369f34fbf87e6c4bf54c28c26\",\"vector\":[]}"),
	    "", "point simple-form UUID");
	is_str(check(fn, "{\"id\":-1,\"vector\":{}}"),
	    "point id is a negative integer", "negative id");
	is_str(check(fn, "{\"id\":\"abc\",\"vector\":{}}"),
	    "point id is a string but not a UUID", "string id not UUID");
	is_str(check(fn, "{\"id\":1.5,\"vector\":{}}"),
	    "point id is neither an unsigned integer nor a UUID", "fractional id");
	is_str(check(fn, "{\"id\":1}"),
	    "point vector is missing or not an object or array", "no vector");
	is_str(check(fn, "{\"id\":1,\"vector\":{},\"payload\":[]}"),
	    "point payload is not an object", "payload array");
}

static void
test_envelopes(void)
{
	struct json_object	*o, *items, *section, *end, *stats, *up;

	section = json_object_new_object();
	json_object_object_add(section, "key", json_object_new_string("1"));
	items = json_object_new_array();
	json_object_array_add(items, parse("{\"ratingKey\":\"9\"}"));
	o = record_plex_new(4, section, items, NULL);
	is_str(ndjson_to_string(o, NULL),
	    "{\"kind\":\"plex\",\"v\":1,\"seq\":4,\"section\":{\"key\":\"1\"},"
	    "\"items\":[{\"ratingKey\":\"9\"}],\"shows\":{}}", "plex envelope in wire order");
	is_str(check(record_check_plex, ndjson_to_string(o, NULL)), "",
	    "  and it passes its own check");
	json_object_put(o);

	o = record_points_new(0, NULL);
	is_str(ndjson_to_string(o, NULL),
	    "{\"kind\":\"points\",\"v\":1,\"seq\":0,\"points\":[]}",
	    "points envelope, NULL points is []");
	json_object_put(o);

	end = record_end_new(1);
	is_str(ndjson_to_string(end, NULL),
	    "{\"kind\":\"end\",\"v\":1,\"complete\":true,\"items\":0,\"sections\":[],"
	    "\"rating_keys\":[],\"stats\":{}}", "end record in wire order");
	ok(record_end_complete(end), "complete end");
	stats = json_object_new_object();
	json_object_object_add(stats, "items", json_object_new_int(3));
	record_end_add_stats(end, "plex-ingest", stats);
	record_end_add_stats(end, "meta-enrich", NULL);
	is_str(json_object_to_json_string_ext(json_object_object_get(end, "stats"),
	    JSON_C_TO_STRING_PLAIN),
	    "{\"plex-ingest\":{\"items\":3},\"meta-enrich\":{}}",
	    "stats accumulate in pipeline order");
	json_object_put(end);

	up = parse("{\"kind\":\"end\",\"v\":1,\"complete\":1}");
	ok(!record_end_complete(up), "complete:1 is not literal true");
	record_end_add_stats(up, "qdrant-upsert", NULL);
	ok(json_object_object_get(json_object_object_get(up, "stats"),
	    "qdrant-upsert") != NULL, "stats object created when missing");
	json_object_put(up);
	end = record_end_new(0);
	ok(!record_end_complete(end), "incomplete end");
	json_object_put(end);
}

int
main(void)
{
	test_kinds();
	test_checks();
	test_envelopes();
	return done_testing();
}
