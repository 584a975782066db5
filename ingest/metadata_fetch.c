/*
 * metadata_fetch.c: full metadata for a page of rating keys with few
 * requests: /library/metadata/k1,k2,... in chunks, matched back by
 * ratingKey. Plex sometimes answers a large multi-key request with an
 * error or with fewer items than asked (pledo #22/#29), so the missing
 * keys are asked again in halved chunks down to one key; a key still
 * missing alone is gone from the server. A server error (after the HTTP
 * client's own retries) is retried once with halved chunks, then fatal.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "jsonutil.h"
#include "log.h"
#include "xalloc.h"
#include "ingest.h"

/* Keep the request line well under common 8 KiB URL limits. */
#define MAX_KEYS_BYTES	6000

static int	fetch(struct plex_source *, const char *const *, size_t, size_t,
		    struct json_object *, int);

static int
requested(const char *rk, const char *const *keys, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (strcmp(rk, keys[i]) == 0)
			return 1;
	return 0;
}

/* Moves the answer's items that were asked for into found; returns how many. */
static size_t
take(struct json_object *root, const char *const *keys, size_t n,
    struct json_object *found)
{
	struct json_object	*rows, *row;
	const char		*rk;
	size_t			 i, len, got = 0;

	rows = plex_rows(root, "Metadata");
	len = rows == NULL ? 0 : json_object_array_length(rows);
	for (i = 0; i < len; i++) {
		row = json_object_array_get_idx(rows, i);
		rk = jget_str(row, "ratingKey");
		if (rk == NULL || !requested(rk, keys, n) ||
		    json_object_object_get_ex(found, rk, NULL))
			continue;
		json_object_object_add(found, rk, json_object_get(row));
		got++;
	}
	return got;
}

/* Asks again, in chunks half the size of the short one, for what it lacked. */
static int
refetch_missing(struct plex_source *src, const char *const *keys, size_t n,
    struct json_object *found)
{
	const char	**miss;
	size_t		 i, nmiss = 0;
	int		 rc;

	miss = xreallocarray(NULL, n, sizeof(*miss));
	for (i = 0; i < n; i++)
		if (!json_object_object_get_ex(found, keys[i], NULL))
			miss[nmiss++] = keys[i];
	rc = fetch(src, miss, nmiss, n / 2, found, 0);
	free(miss);
	return rc;
}

static size_t
fit(const char *const *keys, size_t m)
{
	size_t	 i, bytes = 0;

	for (i = 0; i < m; i++) {
		bytes += strlen(keys[i]) + 1;
		if (bytes > MAX_KEYS_BYTES)
			return i > 0 ? i : 1;
	}
	return m;
}

static int
fetch(struct plex_source *src, const char *const *keys, size_t n, size_t chunk,
    struct json_object *found, int after_fail)
{
	struct json_object	*root;
	size_t			 i, m;
	int			 rc;

	if (chunk == 0)
		chunk = 1;
	for (i = 0; i < n; i += m) {
		m = fit(keys + i, n - i < chunk ? n - i : chunk);
		rc = plex_src_metadata(src, keys + i, m, &root);
		switch (rc) {
		case PLEX_OK:
			if (take(root, keys + i, m, found) < m && m > 1) {
				log_debug("plex: metadata for %zu keys came "
				    "back short, asking again in halves", m);
				rc = refetch_missing(src, keys + i, m, found);
			}
			json_object_put(root);
			break;
		case PLEX_ERR_NOTFOUND:
			/* one unknown key can fail the lot: split it */
			if (m > 1)
				rc = fetch(src, keys + i, m, (m + 1) / 2, found,
				    after_fail);
			else
				rc = PLEX_OK;
			break;
		case PLEX_ERR_TOOBIG:
			if (m > 1)
				rc = fetch(src, keys + i, m, m / 2, found,
				    after_fail);
			break;
		case PLEX_ERR_FAIL:
			if (m > 1 && !after_fail) {
				log_warn("%s; asking again in halves", src->error);
				rc = fetch(src, keys + i, m, (m + 1) / 2, found, 1);
			}
			break;
		default:
			break;
		}
		if (rc != PLEX_OK)
			return rc;
	}
	return PLEX_OK;
}

int
ingest_fetch_metadata(struct plex_source *src, const char *const *keys,
    size_t n, size_t chunk, struct json_object **found)
{
	int	 rc;

	*found = json_object_new_object();
	rc = fetch(src, keys, n, chunk, *found, 0);
	if (rc != PLEX_OK) {
		json_object_put(*found);
		*found = NULL;
	}
	return rc;
}
