/* dry_run.c: --dry-run's request log: each HTTP request that would be sent, as one NDJSON line. */
#include <string.h>

#include <json-c/json.h>

#include "jparse.h"
#include "ndjson_write.h"
#include "upsert.h"

static size_t	dry_requests;	/* lines written, for the summary */

size_t
upsert_dry_count(void)
{
	return dry_requests;
}

/*
 * {"kind":"request","service":"qdrant","method":"PUT","path":"/collections/x",
 * "body":{...}}: the body is embedded as JSON (not a string), so a test
 * can validate it against the OpenAPI schema with jq or Python directly.
 */
void
upsert_dry_request(struct ndjson_writer *w, const char *service,
    const char *method, const char *path, const char *body, size_t len)
{
	struct json_object	*o, *b = NULL;

	o = json_object_new_object();
	json_object_object_add(o, "kind", json_object_new_string("request"));
	json_object_object_add(o, "service", json_object_new_string(service));
	json_object_object_add(o, "method", json_object_new_string(method));
	json_object_object_add(o, "path", json_object_new_string(path));
	if (body != NULL) {
		if ((b = jparse(body, len, "request body", NULL)) == NULL)	/* never expected: we built it */
			b = json_object_new_string_len(body, (int)len);
		json_object_object_add(o, "body", b);
	}
	ndjson_write(w, o);
	dry_requests++;
	json_object_put(o);
}
