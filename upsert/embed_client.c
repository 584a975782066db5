/* embed_client.c: request and answer of an OpenAI-compatible POST /v1/embeddings endpoint. */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "buf.h"
#include "exitcode.h"
#include "http.h"
#include "jparse.h"
#include "jsonutil.h"
#include "log.h"
#include "xalloc.h"
#include "upsert.h"

/*
 * EMBED_URL may name the server ("http://h:8080"), its /v1 prefix, or the
 * endpoint itself; TEI, Ollama, llama.cpp, vLLM and OpenAI all serve
 * /v1/embeddings, so that is what a bare server URL gets.
 */
void
upsert_embed_split_url(const char *url, char **base, char **path)
{
	const char	*p, *slash;
	size_t		 n = strlen(url);

	while (n > 0 && url[n - 1] == '/')
		n--;
	p = strstr(url, "://");
	p = p ? p + 3 : url;
	slash = memchr(p, '/', n - (size_t)(p - url));
	if (slash == NULL)
		slash = url + n;
	*base = xstrndup(url, (size_t)(slash - url));
	if (n >= 11 && memcmp(url + n - 11, "/embeddings", 11) == 0)
		*path = xstrndup(slash, (size_t)(url + n - slash));
	else if (n >= 3 && memcmp(url + n - 3, "/v1", 3) == 0)
		xasprintf(path, "%.*s/embeddings", (int)(url + n - slash), slash);
	else
		xasprintf(path, "%.*s/v1/embeddings", (int)(url + n - slash), slash);
}

void
upsert_embed_body(const char *model, const char *const *texts, size_t n,
    struct buf *b)
{
	struct json_object	*o, *in;
	size_t			 i, len;
	const char		*s;

	o = json_object_new_object();
	json_object_object_add(o, "model", json_object_new_string(model));
	in = json_object_new_array_ext((int)n);
	for (i = 0; i < n; i++)
		json_object_array_add(in, json_object_new_string(texts[i]));
	json_object_object_add(o, "input", in);
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	len = strlen(s);
	buf_append(b, s, len);
	json_object_put(o);
}

int
upsert_embed_parse(const char *body, size_t len, size_t n, long dim,
    struct json_object **out, char *why, size_t whylen)
{
	struct json_object	*doc, *data, *e, *vec;
	size_t			 i, got;
	int64_t			 idx;
	int			 rc = -1;

	memset(out, 0, n * sizeof(*out));
	doc = jparse(body, len, "embeddings answer", NULL);
	if ((data = jget_arr(doc, "data")) == NULL) {
		snprintf(why, whylen, "embeddings answer has no data array");
		goto out;
	}
	if ((got = json_object_array_length(data)) != n) {
		snprintf(why, whylen, "embeddings answer has %zu vectors for %zu inputs",
		    got, n);
		goto out;
	}
	for (i = 0; i < n; i++) {
		e = json_object_array_get_idx(data, i);
		/* OpenAI documents "index"; order by it when present */
		if (!jget_int(e, "index", &idx))
			idx = (int64_t)i;
		if (idx < 0 || (size_t)idx >= n || out[idx] != NULL) {
			snprintf(why, whylen, "embeddings answer has a bad index %lld",
			    (long long)idx);
			goto out;
		}
		if ((vec = jget_arr(e, "embedding")) == NULL ||
		    json_object_array_length(vec) == 0) {
			snprintf(why, whylen, "embeddings answer %zu has no embedding", i);
			goto out;
		}
		if (dim > 0 && json_object_array_length(vec) != (size_t)dim) {
			snprintf(why, whylen, "embedding has %zu dimensions, the "
			    "collection's dense vector has %ld (wrong --embed-model?)",
			    json_object_array_length(vec), dim);
			goto out;
		}
		out[idx] = json_object_get(vec);
	}
	rc = 0;
out:
	if (rc != 0)
		for (i = 0; i < n; i++) {
			json_object_put(out[i]);
			out[i] = NULL;
		}
	json_object_put(doc);
	return rc;
}

/* 401/403 from the embeddings server: a configuration error naming the key. */
int
upsert_embed_refused(long status, const char *error, int have_key)
{
	if (status != 401 && status != 403)
		return 0;
	if (have_key)
		log_error("%s: the embeddings server refused the key: check "
		    "EMBED_API_KEY (or --embed-api-key-file)", error);
	else
		log_error("%s: the embeddings server wants a key: set "
		    "EMBED_API_KEY (or --embed-api-key-file)", error);
	return 1;
}

/*
 * A refused key is best found before the collection and its indexes are
 * made. GET .../models costs nothing (an embedding is billed), and
 * OpenAI, vLLM, Ollama and llama.cpp answer it behind the same key. Only
 * 401/403 decide; any other answer (TEI has no /v1/models) leaves the
 * verdict to the first embeddings request, which stops the run the same
 * way before any point of its batch is written.
 */
int
upsert_embed_probe(struct http_client *c, const char *embed_path, int have_key)
{
	struct http_response	 resp = { 0 };
	char			*path;
	size_t			 n = strlen(embed_path);
	long			 st;
	int			 rc = 0;

	if (n >= 11 && strcmp(embed_path + n - 11, "/embeddings") == 0)
		xasprintf(&path, "%.*s/models", (int)(n - 11), embed_path);
	else
		path = xstrdup("/v1/models");
	st = http_request(c, "GET", path, NULL, NULL, 0, &resp);
	if (upsert_embed_refused(st, resp.error, have_key))
		rc = EXIT_USAGE;
	http_response_free(&resp);
	free(path);
	return rc;
}
