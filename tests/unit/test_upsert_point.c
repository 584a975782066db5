/* test_upsert_point.c: qdrant-upsert's point text, content hash, ids, embeddings parsing, index bodies, keyset. */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "tap.h"
#include "buf.h"
#include "../../upsert/upsert.h"

static struct json_object *
parse(const char *s)
{
	return json_tokener_parse(s);
}

static struct upsert_config
config(enum upsert_dense d, enum upsert_sparse_mode sp)
{
	struct upsert_config	 c;

	memset(&c, 0, sizeof(c));
	c.dense = d;
	c.sparse = sp;
	c.collection = "media-items";
	c.dense_distance = "Cosine";
	return c;
}

static void
test_point_text(struct upsert_bm25 *bm)
{
	struct json_object	*p, *vec;
	struct upsert_point_in	 in = { 0 };
	struct upsert_config	 c;
	struct buf		 b = BUF_INIT;
	char			 why[256];

	p = parse("{\"id\":42,\"vector\":{\"dense\":{\"text\":\"Recipe for baking "
	    "chocolate chip cookies\",\"model\":\"BAAI/bge-small-en-v1.5\"},"
	    "\"sparse\":{\"text\":\"Recipe for baking chocolate chip cookies\","
	    "\"model\":\"Qdrant/bm25\"}},\"payload\":{\"title\":\"T\",\"year\":1999}}");
	in.point = p;
	in.hash = "abc";
	c = config(DENSE_NONE, SPARSE_LOCAL);
	ok(upsert_point_text(&c, bm, &in, &b, why, sizeof(why)) == 0, "dense none, sparse local");
	is_str(b.data, "{\"id\":42,\"vector\":{\"sparse\":{\"indices\":[1617337648,"
	    "662344706,177304315,771857363,112174620],\"values\":[1.6697302,1.6697302,"
	    "1.6697302,1.6697302,1.6697302]}},\"payload\":{\"title\":\"T\",\"year\":1999,"
	    "\"content_hash\":\"abc\"}}", "dense dropped, BM25 computed, hash appended last");

	buf_reset(&b);
	c = config(DENSE_SERVER, SPARSE_SERVER);
	in.hash = NULL;
	upsert_point_text(&c, bm, &in, &b, why, sizeof(why));
	ok(strstr(b.data, "\"dense\":{\"text\":\"Recipe") != NULL &&
	    strstr(b.data, "\"sparse\":{\"text\":\"Recipe") != NULL &&
	    strstr(b.data, "content_hash") == NULL, "server modes pass the Documents on");

	buf_reset(&b);
	c = config(DENSE_ENDPOINT, SPARSE_NONE);
	vec = parse("[0.5,-0.25,1e-07]");
	in.dense = vec;
	in.hash = "h";
	upsert_point_text(&c, bm, &in, &b, why, sizeof(why));
	ok(strstr(b.data, "\"vector\":{\"dense\":[0.5,-0.25,1e-07]}") != NULL,
	    "endpoint vector replaces the Document with its number text kept");
	json_object_put(vec);
	json_object_put(p);

	/* BM42 cannot be computed here */
	p = parse("{\"id\":1,\"vector\":{\"sparse\":{\"text\":\"x\",\"model\":"
	    "\"Qdrant/bm42-all-minilm-l6-v2-attentions\"}},\"payload\":null}");
	memset(&in, 0, sizeof(in));
	in.point = p;
	buf_reset(&b);
	c = config(DENSE_NONE, SPARSE_LOCAL);
	ok(upsert_point_text(&c, bm, &in, &b, why, sizeof(why)) == -1 &&
	    strstr(why, "--sparse server") != NULL, "BM42 with --sparse local is refused");
	json_object_put(p);

	/* no vectors, empty payload */
	p = parse("{\"id\":\"6F9619FF-8B86-D011-B42D-00CF4FC964FF\",\"payload\":{}}");
	in.point = p;
	in.hash = "h";
	buf_reset(&b);
	ok(upsert_point_text(&c, bm, &in, &b, why, sizeof(why)) == 0, "point without vectors");
	is_str(b.data, "{\"id\":\"6F9619FF-8B86-D011-B42D-00CF4FC964FF\",\"vector\":{},"
	    "\"payload\":{\"content_hash\":\"h\"}}", "empty vector object, hash in an empty payload");
	json_object_put(p);
	buf_free(&b);
}

/* The PointStruct made when read, its holes filled when sent: the same text as in one go. */
static void
test_pstruct(struct upsert_bm25 *bm)
{
	struct json_object	*p, *vec;
	struct upsert_point_in	 in = { 0 };
	struct upsert_pstruct	 ps;
	struct upsert_config	 c;
	struct buf		 one = BUF_INIT, two = BUF_INIT;
	char			 why[256];
	size_t			 n;
	int			 order;

	/* the sparse vector first, then the dense one; then the other way round */
	for (order = 0; order < 2; order++) {
		p = parse(order == 0 ?
		    "{\"id\":7,\"vector\":{\"sparse\":{\"text\":\"cookies and tea\","
		    "\"model\":\"Qdrant/bm25\"},\"dense\":{\"text\":\"cookies\",\"model\":"
		    "\"BAAI/bge-small-en-v1.5\"}},\"payload\":{\"title\":\"T\"}}" :
		    "{\"id\":7,\"vector\":{\"dense\":{\"text\":\"cookies\",\"model\":"
		    "\"BAAI/bge-small-en-v1.5\"},\"sparse\":{\"text\":\"cookies and tea\","
		    "\"model\":\"Qdrant/bm25\"}},\"payload\":{\"title\":\"T\"}}");
		c = config(DENSE_ENDPOINT, SPARSE_LOCAL);
		ok(upsert_pstruct_make(&c, p, "h", &ps, why, sizeof(why)) == 0 &&
		    ps.dense_end > ps.dense_at && ps.sparse_text != NULL &&
		    strstr(ps.text, "cookies and tea") == NULL,
		    "pstruct %d: holes for both vectors, no sparse text yet", order);
		vec = parse("[0.5,-0.25]");
		in.point = p;
		in.dense = vec;
		in.hash = "h";
		buf_reset(&one);
		buf_reset(&two);
		upsert_point_text(&c, bm, &in, &one, why, sizeof(why));
		buf_appends(&two, "x");
		n = upsert_pstruct_write(&ps, bm, "[0.5,-0.25]", 11, &two);
		ok(strcmp(two.data + 1, one.data) == 0,
		    "pstruct %d: filled, the same text as in one go", order);
		ok(n == one.len && strstr(one.data, "\"dense\":[0.5,-0.25]") != NULL &&
		    strstr(one.data, "\"sparse\":{\"indices\"") != NULL,
		    "pstruct %d: the embedding and BM25 in place, its length returned", order);
		buf_reset(&two);
		upsert_pstruct_write(&ps, bm, NULL, 0, &two);
		ok(strstr(two.data, "\"dense\":{\"text\":\"cookies\"") != NULL,
		    "pstruct %d: without an embedding the Document stays", order);
		upsert_pstruct_free(&ps);
		json_object_put(vec);
		json_object_put(p);
	}
	buf_free(&one);
	buf_free(&two);
}

static void
test_hash_and_ids(void)
{
	struct json_object	*a, *b, *id;
	char			 h1[65], h2[65], h3[65], key[80];

	a = parse("{\"id\":1,\"payload\":{\"x\":1,\"y\":[1,2]}}");
	b = parse("{\"payload\":{\"y\":[1,2],\"x\":1},\"id\":1}");
	upsert_content_hash(a, "dense=none", h1);
	upsert_content_hash(b, "dense=none", h2);
	upsert_content_hash(a, "dense=endpoint", h3);
	is_int(strlen(h1), 64, "hash is 64 hex digits");
	is_str(h1, h2, "key order does not change the hash");
	ok(strcmp(h1, h3) != 0, "the settings change the hash");
	json_object_put(b);
	b = parse("{\"id\":1,\"payload\":{\"x\":2,\"y\":[1,2]}}");
	upsert_content_hash(b, "dense=none", h2);
	ok(strcmp(h1, h2) != 0, "a changed value changes the hash");
	json_object_put(a);
	json_object_put(b);

	id = parse("18446744073709551615");
	upsert_id_key(id, key, sizeof(key));
	is_str(key, "18446744073709551615", "u64 id key");
	json_object_put(id);
	id = json_object_new_string("urn:uuid:6F9619FF-8B86-D011-B42D-00CF4FC964FF");
	upsert_id_key(id, key, sizeof(key));
	is_str(key, "6f9619ff8b86d011b42d00cf4fc964ff", "uuid id key: lowercase, no hyphens or urn");
	json_object_put(id);
}

static void
found(void *arg, const char *key, const char *hash)
{
	struct buf	*b = arg;

	buf_printf(b, "%s=%s;", key, hash ? hash : "(none)");
}

static void
test_fetch(void)
{
	struct json_object	*ids[2];
	struct buf		 b = BUF_INIT;
	const char		*ans = "{\"result\":[{\"id\":7,\"payload\":{\"content_hash\":\"aa\"}},"
	    "{\"id\":\"6f9619ff-8b86-d011-b42d-00cf4fc964ff\",\"payload\":{}},"
	    "{\"id\":9,\"payload\":{\"content_hash\":\"bb\"}}],\"status\":\"ok\"}";

	ids[0] = json_object_new_int(7);
	ids[1] = json_object_new_string("6F9619FF-8B86-D011-B42D-00CF4FC964FF");
	upsert_fetch_body(ids, 2, &b);
	is_str(b.data, "{\"ids\":[7,\"6F9619FF-8B86-D011-B42D-00CF4FC964FF\"],"
	    "\"with_payload\":[\"content_hash\"],\"with_vector\":false}", "fetch body");
	buf_reset(&b);
	ok(upsert_fetch_parse(ans, strlen(ans), found, &b) == 0, "fetch answer parses");
	is_str(b.data, "7=aa;6f9619ff8b86d011b42d00cf4fc964ff=(none);9=bb;",
	    "every stored point is reported, with its hash or NULL");
	ok(upsert_fetch_parse("{\"status\":{\"error\":\"x\"}}", 24, found, &b) == -1,
	    "an error body is not an answer");
	json_object_put(ids[0]);
	json_object_put(ids[1]);
	buf_free(&b);
}

static void
test_embed(void)
{
	struct json_object	*out[3];
	char			*base, *path, why[256];
	const char		*texts[] = { "one \"quoted\"", "two" };
	struct buf		 b = BUF_INIT;
	const char		*ans = "{\"data\":[{\"index\":1,\"embedding\":[0.3,0.4]},"
	    "{\"index\":0,\"embedding\":[0.1,0.2]}]}";

	upsert_embed_split_url("http://h:8080", &base, &path);
	ok(strcmp(base, "http://h:8080") == 0 && strcmp(path, "/v1/embeddings") == 0,
	    "bare server URL gets /v1/embeddings");
	free(base);
	free(path);
	upsert_embed_split_url("https://api.example/v1/", &base, &path);
	ok(strcmp(base, "https://api.example") == 0 && strcmp(path, "/v1/embeddings") == 0,
	    "a /v1 URL gets /embeddings");
	free(base);
	free(path);
	upsert_embed_split_url("http://h/proxy/v1/embeddings", &base, &path);
	ok(strcmp(base, "http://h") == 0 && strcmp(path, "/proxy/v1/embeddings") == 0,
	    "a full endpoint URL is used as is");
	free(base);
	free(path);

	upsert_embed_body("m", texts, 2, &b);
	is_str(b.data, "{\"model\":\"m\",\"input\":[\"one \\\"quoted\\\"\",\"two\"]}", "embeddings body");
	ok(upsert_embed_parse(ans, strlen(ans), 2, 2, out, why, sizeof(why)) == 0,
	    "answer in any order is matched by index");
	ok(out[0] != NULL && strcmp(json_object_to_json_string_ext(out[0],
	    JSON_C_TO_STRING_PLAIN), "[0.1,0.2]") == 0, "vector 0 by index");
	json_object_put(out[0]);
	json_object_put(out[1]);
	ok(upsert_embed_parse(ans, strlen(ans), 2, 384, out, why, sizeof(why)) == -1 &&
	    strstr(why, "384") != NULL, "a wrong dimension is refused, naming it");
	ok(upsert_embed_parse(ans, strlen(ans), 3, 0, out, why, sizeof(why)) == -1,
	    "a wrong count is refused");
	buf_free(&b);
}

static void
test_collection(void)
{
	struct buf	 b = BUF_INIT;
	size_t		 i, text = 0, kw = 0, integer = 0;

	is_int(upsert_nindex_fields, 22, "22 payload indexes");
	for (i = 0; i < upsert_nindex_fields; i++) {
		buf_reset(&b);
		upsert_index_body(i, &b);
		if (strstr(b.data, "\"text\"") != NULL &&
		    strstr(b.data, "\"tokenizer\":\"word\",\"min_token_len\":2,\"lowercase\":true") != NULL)
			text++;
		else if (strstr(b.data, "\"keyword\""))
			kw++;
		else if (strstr(b.data, "\"integer\""))
			integer++;
	}
	ok(text == 6 && kw == 11 && integer == 5, "6 text, 11 keyword, 5 integer indexes");
	is_int(upsert_model_dense_size("BAAI/bge-small-en-v1.5"), 384, "bge-small 384");
	is_int(upsert_model_dense_size("baai/bge-large-en-v1.5"), 1024, "names match without case");
	is_int(upsert_model_dense_size("text-embedding-3-large"), 3072, "openai large 3072");
	is_int(upsert_model_dense_size("my/own-model"), 0, "unknown model: 0");
	buf_free(&b);
}

static void
test_keyset(void)
{
	struct json_object	*a = parse("[\"10\",\"2\",\"abc\",7]");
	struct upsert_keyset	*ks = upsert_keyset_new(a);

	ok(upsert_keyset_has(ks, "10") && upsert_keyset_has(ks, "2") &&
	    upsert_keyset_has(ks, "abc") && upsert_keyset_has(ks, "7") &&
	    !upsert_keyset_has(ks, "1") && !upsert_keyset_has(ks, "100"),
	    "rating key set lookups");
	upsert_keyset_add(ks, "100");
	upsert_keyset_add(ks, "0");
	upsert_keyset_add(ks, "2");
	ok(upsert_keyset_has(ks, "100") && upsert_keyset_has(ks, "0") &&
	    upsert_keyset_has(ks, "10") && upsert_keyset_has(ks, "2") &&
	    !upsert_keyset_has(ks, "1"), "keys added later are found too");
	upsert_keyset_free(ks);
	json_object_put(a);
}

int
main(void)
{
	struct upsert_bm25	*bm = upsert_bm25_new();

	test_point_text(bm);
	test_pstruct(bm);
	test_hash_and_ids();
	test_fetch();
	test_embed();
	test_collection();
	test_keyset();
	upsert_bm25_free(bm);
	return done_testing();
}
