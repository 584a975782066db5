/* collection.c: create or check the collection (named dense + sparse vectors) and its 22 payload indexes. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "buf.h"
#include "exitcode.h"
#include "http.h"
#include "jparse.h"
#include "jsonutil.h"
#include "log.h"
#include "xalloc.h"
#include "upsert.h"

/* DESIGN.md 4: dense sizes of the models people point the loader at. */
static const struct {
	const char	*model;
	long		 size;
} dense_models[] = {
	{ "BAAI/bge-small-en-v1.5", 384 },
	{ "BAAI/bge-small-en", 384 },
	{ "BAAI/bge-base-en-v1.5", 768 },
	{ "BAAI/bge-base-en", 768 },
	{ "BAAI/bge-large-en-v1.5", 1024 },
	{ "BAAI/bge-large-en", 1024 },
	{ "sentence-transformers/all-MiniLM-L6-v2", 384 },
	{ "text-embedding-3-small", 1536 },
	{ "text-embedding-3-large", 3072 },
	{ "text-embedding-ada-002", 1536 },
};

long
upsert_model_dense_size(const char *model)
{
	size_t	 i;

	if (model == NULL)
		return 0;
	for (i = 0; i < sizeof(dense_models) / sizeof(dense_models[0]); i++)
		if (strcasecmp(model, dense_models[i].model) == 0)
			return dense_models[i].size;
	return 0;
}

/*
 * The payload indexes (DESIGN.md 4) in creation order. The mcp-plex
 * server filters on the keyword and integer ones and orders by year and
 * added_at (range indexes); text indexes use its word/lowercase/min 2.
 */
enum idx_type { IDX_KEYWORD, IDX_INTEGER, IDX_TEXT };
static const struct {
	const char	*field;
	enum idx_type	 type;
} indexes[] = {
	{ "title", IDX_TEXT },
	{ "title_slug", IDX_KEYWORD },
	{ "type", IDX_KEYWORD },
	{ "actors", IDX_KEYWORD },
	{ "directors", IDX_KEYWORD },
	{ "writers", IDX_KEYWORD },
	{ "genres", IDX_KEYWORD },
	{ "show_title", IDX_KEYWORD },
	{ "show_title_slug", IDX_KEYWORD },
	{ "collections", IDX_KEYWORD },
	{ "data.plex.rating_key", IDX_KEYWORD },
	{ "data.imdb.id", IDX_KEYWORD },
	{ "year", IDX_INTEGER },
	{ "added_at", IDX_INTEGER },
	{ "season_number", IDX_INTEGER },
	{ "episode_number", IDX_INTEGER },
	{ "data.tmdb.id", IDX_INTEGER },
	{ "summary", IDX_TEXT },
	{ "overview", IDX_TEXT },
	{ "plot", IDX_TEXT },
	{ "tagline", IDX_TEXT },
	{ "reviews", IDX_TEXT },
};
const size_t upsert_nindex_fields = sizeof(indexes) / sizeof(indexes[0]);

void
upsert_index_body(size_t i, struct buf *b)
{
	buf_printf(b, "{\"field_name\":\"%s\",\"field_schema\":", indexes[i].field);
	switch (indexes[i].type) {
	case IDX_KEYWORD:
		buf_appends(b, "\"keyword\"}");
		break;
	case IDX_INTEGER:
		buf_appends(b, "{\"type\":\"integer\",\"lookup\":true,\"range\":true}}");
		break;
	case IDX_TEXT:
		buf_appends(b, "{\"type\":\"text\",\"tokenizer\":\"word\","
		    "\"min_token_len\":2,\"lowercase\":true}}");
		break;
	}
}

long
upsert_qdrant_call(struct upsert_qdrant *q, const char *method,
    const char *path, const char *body, struct http_response *resp)
{
	if (q->client == NULL) {
		upsert_dry_request(q->dry, "qdrant", method, path, body,
		    body ? strlen(body) : 0);
		http_response_free(resp);
		resp->status = 200;
		resp->attempts = 1;
		resp->error[0] = '\0';
		return 200;
	}
	return http_request(q->client, method, path, NULL, body,
	    body ? strlen(body) : 0, resp);
}

static int
auth_failed(long st, const struct http_response *resp)
{
	if (st != 401 && st != 403)
		return 0;
	log_error("%s (check QDRANT_API_KEY / --qdrant-api-key-file)", resp->error);
	return 1;
}

/*
 * "Already exists": 409 since Qdrant 1.8, 400 "Wrong input: Collection
 * `x` already exists!" before. Another loader made it meanwhile, or the
 * answer to our own PUT was lost and the retry met the collection it had
 * made. Either way the caller reads it back and checks its shape.
 */
static int
already_exists(long st, const struct http_response *resp)
{
	return st == 409 || (st == 400 && resp->body.data != NULL &&
	    strstr(resp->body.data, "already exists") != NULL);
}

static int
create(struct upsert_qdrant *q, const char *cpath, long dense_size)
{
	struct http_response	 resp = { 0 };
	struct buf		 b = BUF_INIT;
	long			 st;
	int			 rc = 0;

	buf_appends(&b, "{\"vectors\":{");
	if (dense_size > 0)
		buf_printf(&b, "\"dense\":{\"size\":%ld,\"distance\":\"%s\"}",
		    dense_size, q->cfg->dense_distance);
	buf_appends(&b, "},\"sparse_vectors\":{\"sparse\":{\"modifier\":\"idf\"}}");
	/* clustering: Qdrant distributes; only what was asked for is sent */
	if (q->cfg->shard_number > 0)
		buf_printf(&b, ",\"shard_number\":%d", q->cfg->shard_number);
	if (q->cfg->replication_factor > 0)
		buf_printf(&b, ",\"replication_factor\":%d",
		    q->cfg->replication_factor);
	if (q->cfg->write_consistency_factor > 0)
		buf_printf(&b, ",\"write_consistency_factor\":%d",
		    q->cfg->write_consistency_factor);
	buf_appends(&b, "}");
	st = upsert_qdrant_call(q, "PUT", cpath, b.data, &resp);
	if (auth_failed(st, &resp))
		rc = EXIT_USAGE;
	else if (already_exists(st, &resp))
		rc = 0;		/* made meanwhile, or by our own lost first try */
	else if (!http_ok(st)) {
		log_error("creating collection \"%s\": %s", q->cfg->collection, resp.error);
		rc = st > 0 && st < 500 ? EXIT_USAGE : EXIT_FATAL;
	} else if (q->client != NULL)
		log_info("created collection \"%s\" (dense %ld %s, sparse idf%s)",
		    q->cfg->collection, dense_size, q->cfg->dense_distance,
		    q->cfg->shard_number || q->cfg->replication_factor ?
		    ", clustered as asked" : "");
	http_response_free(&resp);
	buf_free(&b);
	return rc;
}

/*
 * The clustering options apply when the collection is made; an existing
 * one keeps its own (Qdrant changes them with its cluster API, not here).
 */
static void
cluster_note(struct upsert_qdrant *q, struct json_object *params)
{
	static const char *const names[] = { "shard_number",
	    "replication_factor", "write_consistency_factor" };
	int		 want[3];
	int64_t		 have;
	size_t		 i;

	want[0] = q->cfg->shard_number;
	want[1] = q->cfg->replication_factor;
	want[2] = q->cfg->write_consistency_factor;
	for (i = 0; i < 3; i++)
		if (want[i] > 0 && jget_int(params, names[i], &have) &&
		    have != want[i])
			log_warn("collection \"%s\" exists with %s %lld, not %d: the "
			    "clustering options apply only when it is created "
			    "(--recreate, or Qdrant's cluster API)",
			    q->cfg->collection, names[i], (long long)have, want[i]);
}

/* Checks the dense and sparse vector shape of an existing collection. */
static int
check_shape(struct upsert_qdrant *q, struct json_object *info, long dense_size)
{
	struct json_object	*params, *vectors, *dense, *sparse;
	const char		*dist;
	int64_t			 size = 0;

	params = jget_obj(jget_obj(info, "config"), "params");
	vectors = jget_obj(params, "vectors");
	dense = jget_obj(vectors, "dense");
	if (dense_size > 0) {
		if (dense == NULL) {
			log_error("collection \"%s\" has no named dense vector \"dense\" "
			    "(the loader needs dense size %ld %s); use --recreate or "
			    "another --collection", q->cfg->collection, dense_size,
			    q->cfg->dense_distance);
			return EXIT_USAGE;
		}
		jget_int(dense, "size", &size);
		dist = jget_str(dense, "distance");
		if (size != dense_size || dist == NULL ||
		    strcasecmp(dist, q->cfg->dense_distance) != 0) {
			log_error("collection \"%s\" has dense size %lld distance %s, "
			    "the model needs size %ld distance %s; use --recreate, "
			    "--dense-size/--dense-distance or another --collection",
			    q->cfg->collection, (long long)size, dist ? dist : "(none)",
			    dense_size, q->cfg->dense_distance);
			return EXIT_USAGE;
		}
	}
	cluster_note(q, params);
	sparse = jget_obj(jget_obj(params, "sparse_vectors"), "sparse");
	if (sparse == NULL && q->cfg->sparse != SPARSE_NONE) {
		log_error("collection \"%s\" has no sparse vector \"sparse\"; use "
		    "--recreate or another --collection", q->cfg->collection);
		return EXIT_USAGE;
	}
	return 0;
}

/*
 * BM25 values are term frequencies only: without the IDF modifier Qdrant
 * ranks every word alike. mcp-plex's own loader makes "sparse" without
 * it, so a collection it made is upgraded in place (Qdrant applies the
 * modifier at query time: no point needs rewriting).
 */
static int
sparse_idf(struct upsert_qdrant *q, const char *cpath, struct json_object *info)
{
	struct http_response	 resp = { 0 };
	struct json_object	*sparse;
	const char		*mod;
	long			 st;
	int			 rc = 0;

	sparse = jget_obj(jget_obj(jget_obj(jget_obj(info, "config"), "params"),
	    "sparse_vectors"), "sparse");
	if (sparse == NULL || q->cfg->sparse == SPARSE_NONE ||
	    ((mod = jget_str(sparse, "modifier")) != NULL &&
	    strcasecmp(mod, "idf") == 0))
		return 0;
	st = upsert_qdrant_call(q, "PATCH", cpath,
	    "{\"sparse_vectors\":{\"sparse\":{\"modifier\":\"idf\"}}}", &resp);
	if (auth_failed(st, &resp))
		rc = EXIT_USAGE;
	else if (!http_ok(st)) {
		log_error("setting the IDF modifier on collection \"%s\": %s",
		    q->cfg->collection, resp.error);
		rc = st > 0 && st < 500 && st != 408 && st != 429 ?
		    EXIT_USAGE : EXIT_FATAL;
	} else
		log_notice("collection \"%s\": sparse vector \"sparse\" had no IDF "
		    "modifier (made by another loader?); set it to idf for BM25",
		    q->cfg->collection);
	http_response_free(&resp);
	return rc;
}

static int
add_indexes(struct upsert_qdrant *q, const char *cpath, struct json_object *schema)
{
	struct http_response	 resp = { 0 };
	struct buf		 b = BUF_INIT;
	char			*path;
	size_t			 i, added = 0;
	long			 st;
	int			 rc = 0;

	xasprintf(&path, "%s/index?wait=true", cpath);
	for (i = 0; i < upsert_nindex_fields && rc == 0; i++) {
		if (schema != NULL && json_object_object_get_ex(schema,
		    indexes[i].field, NULL))
			continue;
		buf_reset(&b);
		upsert_index_body(i, &b);
		st = upsert_qdrant_call(q, "PUT", path, b.data, &resp);
		if (auth_failed(st, &resp))
			rc = EXIT_USAGE;
		else if (!http_ok(st)) {
			log_error("creating payload index \"%s\": %s",
			    indexes[i].field, resp.error);
			rc = st > 0 && st < 500 ? EXIT_USAGE : EXIT_FATAL;
		} else
			added++;
	}
	if (added > 0 && q->client != NULL)
		log_info("added %zu payload indexes to \"%s\"", added, q->cfg->collection);
	http_response_free(&resp);
	buf_free(&b);
	free(path);
	return rc;
}

int
upsert_collection_ensure(struct upsert_qdrant *q, long dense_size)
{
	struct http_response	 resp = { 0 };
	struct json_object	*doc = NULL, *result;
	char			*esc, *cpath;
	long			 st;
	int			 rc = 0, tries;

	esc = http_escape(q->cfg->collection);
	xasprintf(&cpath, "/collections/%s", esc);
	free(esc);
	if (q->cfg->recreate) {
		st = upsert_qdrant_call(q, "DELETE", cpath, NULL, &resp);
		if (auth_failed(st, &resp)) {
			rc = EXIT_USAGE;
			goto out;
		}
		if (!http_ok(st) && st != 404) {
			log_error("deleting collection for --recreate: %s", resp.error);
			rc = EXIT_FATAL;
			goto out;
		}
	}
	if (q->client == NULL) {
		/* dry-run: no answers, so show the requests for a new collection */
		if ((rc = create(q, cpath, dense_size)) == 0)
			rc = add_indexes(q, cpath, NULL);
		goto out;
	}
	for (tries = 0; tries < 2; tries++) {
		st = upsert_qdrant_call(q, "GET", cpath, NULL, &resp);
		if (auth_failed(st, &resp)) {
			rc = EXIT_USAGE;
			goto out;
		}
		if (st == 404 && tries == 0) {
			if ((rc = create(q, cpath, dense_size)) != 0)
				goto out;
			continue;
		}
		if (!http_ok(st)) {
			log_error("reading collection \"%s\": %s", q->cfg->collection,
			    resp.error);
			rc = st > 0 && st < 500 && st != 408 && st != 429 ?
			    EXIT_USAGE : EXIT_FATAL;
			goto out;
		}
		break;
	}
	if ((doc = jparse(resp.body.data, resp.body.len, "qdrant answer",
	    NULL)) == NULL ||
	    (result = jget_obj(doc, "result")) == NULL) {
		log_error("reading collection \"%s\": answer has no result object",
		    q->cfg->collection);
		rc = EXIT_FATAL;
		goto out;
	}
	if ((rc = check_shape(q, result, dense_size)) != 0 ||
	    (rc = sparse_idf(q, cpath, result)) != 0)
		goto out;
	rc = add_indexes(q, cpath, jget_obj(result, "payload_schema"));
out:
	json_object_put(doc);
	http_response_free(&resp);
	free(cpath);
	return rc;
}
