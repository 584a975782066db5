/* skip_unchanged.c: content hashes of points and the by-id fetch that finds unchanged ones. */
#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sha2.h>

#include <json-c/json.h>

#include "buf.h"
#include "jcanon.h"
#include "jparse.h"
#include "jsonutil.h"
#include "xalloc.h"
#include "upsert.h"

/*
 * The hash covers the point as it came in (canonical: sorted keys) and
 * the settings that turn it into vectors, so a change of model or mode
 * rewrites everything while an identical re-run rewrites nothing.
 */
void
upsert_content_hash(struct json_object *point, const char *settings, char out[65])
{
	SHA2_CTX	 ctx;
	uint8_t		 d[SHA256_DIGEST_LENGTH];
	char		*canon;
	size_t		 i;

	canon = jcanonical(point);
	SHA256Init(&ctx);
	SHA256Update(&ctx, (const uint8_t *)canon, strlen(canon));
	SHA256Update(&ctx, (const uint8_t *)"\n", 1);
	SHA256Update(&ctx, (const uint8_t *)settings, strlen(settings));
	SHA256Final(d, &ctx);
	free(canon);
	for (i = 0; i < sizeof(d); i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

int
upsert_id_key(struct json_object *id, char *out, size_t len)
{
	const char	*s;
	size_t		 o = 0;

	if (json_object_is_type(id, json_type_int)) {
		snprintf(out, len, "%" PRIu64, json_object_get_uint64(id));
		return 0;
	}
	if (!json_object_is_type(id, json_type_string))
		return -1;
	s = json_object_get_string(id);
	if (strncasecmp(s, "urn:uuid:", 9) == 0)
		s += 9;
	/* Qdrant answers with hyphenated lowercase; compare without either */
	for (; *s != '\0' && o + 1 < len; s++)
		if (*s != '-')
			out[o++] = (char)tolower((unsigned char)*s);
	out[o] = '\0';
	return 0;
}

void
upsert_fetch_body_text(const char *const *ids, size_t n, struct buf *b)
{
	size_t	 i;

	buf_appends(b, "{\"ids\":[");
	for (i = 0; i < n; i++) {
		if (i)
			buf_append(b, ",", 1);
		buf_appends(b, ids[i]);
	}
	buf_appends(b, "],\"with_payload\":[\"content_hash\"],\"with_vector\":false}");
}

void
upsert_fetch_body(struct json_object *const *ids, size_t n, struct buf *b)
{
	const char	**t;
	size_t		  i;

	t = xreallocarray(NULL, n + 1, sizeof(*t));
	for (i = 0; i < n; i++)
		t[i] = xstrdup(json_object_to_json_string_ext(ids[i],
		    JSON_C_TO_STRING_PLAIN));
	upsert_fetch_body_text(t, n, b);
	for (i = 0; i < n; i++)
		free((char *)t[i]);
	free(t);
}

int
upsert_fetch_parse(const char *body, size_t len,
    void (*found)(void *, const char *, const char *), void *arg)
{
	struct json_object	*doc, *res, *p, *id;
	const char		*h;
	char			 key[128];
	size_t			 i, n;

	doc = jparse(body, len, "qdrant answer", NULL);
	if ((res = jget_arr(doc, "result")) == NULL) {
		json_object_put(doc);
		return -1;
	}
	n = json_object_array_length(res);
	for (i = 0; i < n; i++) {
		p = json_object_array_get_idx(res, i);
		if (!json_object_object_get_ex(p, "id", &id) ||
		    upsert_id_key(id, key, sizeof(key)) != 0)
			continue;
		/* a point without a hash (another loader's) exists all the same */
		h = jget_str(jget_obj(p, "payload"), "content_hash");
		found(arg, key, h);
	}
	json_object_put(doc);
	return 0;
}
