/* test_ingest_keyset.c: plex-ingest's set of emitted rating keys and its bounded show cache. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "tap.h"
#include "../../ingest/ingest.h"

struct walk {
	size_t	 n;
	int	 in_order;
};

static void
each(void *arg, const char *key)
{
	struct walk *w = arg;
	char want[32];

	snprintf(want, sizeof(want), "k%zu", w->n);
	if (strcmp(key, want) != 0)
		w->in_order = 0;
	w->n++;
}

int
main(void)
{
	struct ingest_keyset *ks;
	struct ingest_show_cache *sc;
	struct json_object *a, *b, *c;
	struct walk w = { 0, 1 };
	char key[32];
	size_t i, missing = 0, dup_added = 0, bad_index = 0;

	ks = ingest_keyset_new();
	ok(!ingest_keyset_has(ks, "1"), "empty set has nothing");
	is_int(ingest_keyset_add(ks, "1"), 1, "first add");
	is_int(ingest_keyset_add(ks, "1"), 0, "second add of the same key");
	ok(ingest_keyset_has(ks, "1"), "has it");
	ok(!ingest_keyset_has(ks, "10"), "a prefix-sharing key is not there");
	ingest_keyset_free(ks);

	/* many keys: growth keeps every key and the insertion order */
	ks = ingest_keyset_new();
	for (i = 0; i < 50000; i++) {
		snprintf(key, sizeof(key), "k%zu", i);
		ingest_keyset_add(ks, key);
	}
	for (i = 0; i < 50000; i++) {
		snprintf(key, sizeof(key), "k%zu", i);
		if (!ingest_keyset_has(ks, key))
			missing++;
		dup_added += (size_t)ingest_keyset_add(ks, key);
		if (ingest_keyset_index(ks, key) != (long)i)
			bad_index++;
	}
	is_int((long long)bad_index, 0, "every key keeps its insertion ordinal");
	is_int(ingest_keyset_index(ks, "nope"), -1, "no ordinal for an absent key");
	is_int((long long)missing, 0, "50000 keys all found after growth");
	is_int((long long)dup_added, 0, "none added twice");
	is_int((long long)ingest_keyset_count(ks), 50000, "count");
	ok(!ingest_keyset_has(ks, "k50000"), "an absent key is absent");
	ingest_keyset_each(ks, each, &w);
	is_int((long long)w.n, 50000, "each visits every key");
	ok(w.in_order, "in insertion order");
	ingest_keyset_free(ks);

	/* show cache: bounded, oldest out first */
	sc = ingest_show_cache_new(2);
	a = json_tokener_parse("{\"ratingKey\":\"a\"}");
	b = json_tokener_parse("{\"ratingKey\":\"b\"}");
	c = json_tokener_parse("{\"ratingKey\":\"c\"}");
	ingest_show_cache_put(sc, "a", a);
	ingest_show_cache_put(sc, "b", b);
	ok(ingest_show_cache_get(sc, "a") == a, "cached a");
	ingest_show_cache_put(sc, "c", c);
	ok(ingest_show_cache_get(sc, "a") == NULL, "a evicted when full");
	ok(ingest_show_cache_get(sc, "b") == b && ingest_show_cache_get(sc, "c") == c,
	    "b and c kept");
	json_object_put(a);
	json_object_put(b);
	json_object_put(c);
	is_str(json_object_get_string(json_object_object_get(
	    ingest_show_cache_get(sc, "c"), "ratingKey")), "c",
	    "the cache holds its own reference");
	ingest_show_cache_free(sc);
	return done_testing();
}
