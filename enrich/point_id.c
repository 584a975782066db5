/* point_id.c: Qdrant point ids: the rating key as an integer, else a UUIDv5 (SHA-1, libmd). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sha1.h>

#include <json-c/json.h>

#include "enrich.h"

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * RFC 4122 section 4.3: SHA-1 over the namespace's 16 bytes and the name,
 * first 16 bytes of the digest, version 5 and variant bits set. The name
 * is ENRICH_UUID_PREFIX + rating key in the URL namespace, so anyone can
 * recompute it: uuid.uuid5(uuid.NAMESPACE_URL, "plex://rating-key/" + key).
 */
void
enrich_uuid5(const char *name, char out[37])
{
	static const char	*prefix = ENRICH_UUID_PREFIX;
	unsigned char		 ns[16], d[SHA1_DIGEST_LENGTH];
	const char		*h = ENRICH_UUID_NAMESPACE;
	SHA1_CTX		 ctx;
	size_t			 i, j;

	for (i = 0, j = 0; h[i] != '\0' && j < 16; i++) {
		if (h[i] == '-')
			continue;
		ns[j++] = (unsigned char)(hexval(h[i]) << 4 | hexval(h[i + 1]));
		i++;
	}
	SHA1Init(&ctx);
	SHA1Update(&ctx, ns, sizeof(ns));
	SHA1Update(&ctx, (const unsigned char *)prefix, strlen(prefix));
	SHA1Update(&ctx, (const unsigned char *)name, strlen(name));
	SHA1Final(d, &ctx);
	d[6] = (d[6] & 0x0f) | 0x50;
	d[8] = (d[8] & 0x3f) | 0x80;
	for (i = 0, j = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[j++] = '-';
		snprintf(out + j, 3, "%02x", d[i]);
		j += 2;
	}
	out[j] = '\0';
}

struct json_object *
enrich_point_id(const char *rk)
{
	char		 uuid[37];
	uint64_t	 v = 0;
	size_t		 i, n = strlen(rk);
	int		 digits = n > 0 && n <= 19;

	for (i = 0; digits && i < n; i++)
		if (!isdigit((unsigned char)rk[i]))
			digits = 0;
	/* a leading zero would not round-trip: "007" is not the integer 7 */
	if (digits && n > 1 && rk[0] == '0')
		digits = 0;
	if (digits) {
		for (i = 0; i < n; i++)
			v = v * 10 + (uint64_t)(rk[i] - '0');
		return json_object_new_uint64(v);
	}
	enrich_uuid5(rk, uuid);
	return json_object_new_string(uuid);
}
