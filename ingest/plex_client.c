/* plex_client.c: the live Plex source: paged listings and metadata over HTTP, token in a header. */
#include <sys/types.h>

#include <ctype.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <json-c/json.h>
#include <sha1.h>

#include "buf.h"
#include "http.h"
#include "jparse.h"
#include "version.h"
#include "xalloc.h"
#include "ingest.h"

struct plex_client {
	struct http_client	*http;
};

/*
 * Plex lists every client by its identifier, so it must stay the same
 * from run to run on one machine: derive it from the host name.
 */
static void
client_identifier(char *out, size_t outlen)
{
	char	 host[HOST_NAME_MAX + 1], hex[SHA1_DIGEST_STRING_LENGTH];
	char	 seed[HOST_NAME_MAX + 32];

	if (gethostname(host, sizeof(host)) != 0)
		strlcpy(host, "localhost", sizeof(host));
	host[sizeof(host) - 1] = '\0';
	snprintf(seed, sizeof(seed), "plexpipe:%s", host);
	SHA1Data((const uint8_t *)seed, strlen(seed), hex);
	snprintf(out, outlen, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8,
	    hex + 12, hex + 16, hex + 20);
}

int
plex_is_json(const char *ct, const char *body)
{
	if (ct != NULL && ct[0] != '\0')
		return strstr(ct, "json") != NULL;
	/* no Content-Type: accept only what starts like a JSON object */
	if (body == NULL)
		return 0;
	while (isspace((unsigned char)*body))
		body++;
	return *body == '{';
}

/*
 * A listing row is used only for its ratingKey, type, updatedAt, addedAt
 * and grandparentRatingKey: full metadata is always fetched. Asking for
 * less keeps the listing, all an unchanged re-run costs, about half as
 * big (no tag arrays, Guid, Media, images, summaries).
 */
#define LISTING_TRIM	"excludeElements=Media,Genre,Country,Director,Writer," \
	"Role,Producer,Collection,Label,Guid,Rating,Image,UltraBlurColors" \
	"&excludeFields=summary,tagline,thumb,art,theme"

char *
plex_listing_path(const char *section, int type, int64_t since)
{
	char	*esc, *path;

	esc = http_escape(section);
	if (since >= 0)
		/* the media-query filter updatedAt>>=EPOCH, ">>" escaped */
		xasprintf(&path, "/library/sections/%s/all?type=%d&" LISTING_TRIM
		    "&updatedAt%%3E%%3E=%" PRId64, esc, type, since);
	else
		xasprintf(&path, "/library/sections/%s/all?type=%d&" LISTING_TRIM,
		    esc, type);
	free(esc);
	return path;
}

char *
plex_metadata_path(const char *const *keys, size_t n)
{
	struct buf	 b = BUF_INIT;
	size_t		 i;
	char		*esc;

	buf_appends(&b, "/library/metadata/");
	for (i = 0; i < n; i++) {
		esc = http_escape(keys[i]);
		if (i > 0)
			buf_appends(&b, ",");
		buf_appends(&b, esc);
		free(esc);
	}
	buf_appends(&b, "?includeGuids=1");
	return buf_release(&b, NULL);
}

/* Turns one answer into a JSON root or a PLEX_ERR_* code with a message. */
static int
answer(struct http_response *r, long st, const char *what,
    struct json_object **root, char *err, size_t errlen)
{
	struct json_object	*o;
	struct jerr		 je;

	if (st == 401 || st == 403) {
		snprintf(err, errlen, "plex: token rejected (%ld) by the server "
		    "on %s: check PLEX_TOKEN / --plex-token-file", st, what);
		return PLEX_ERR_AUTH;
	}
	if (!http_ok(st)) {
		snprintf(err, errlen, "%s", r->error[0] != '\0' ? r->error :
		    "plex: request failed");
		if (st == 404)
			return PLEX_ERR_NOTFOUND;
		if (st == 400 || st == 413 || st == 414)
			return PLEX_ERR_TOOBIG;
		return PLEX_ERR_FAIL;
	}
	/* Plex answers XML unless it honoured Accept, and errors as HTML */
	if (!plex_is_json(r->content_type, r->body.data)) {
		snprintf(err, errlen, "plex: %s: answer is %s, not JSON", what,
		    r->content_type[0] != '\0' ? r->content_type : "untyped");
		return PLEX_ERR_FAIL;
	}
	o = jparse(r->body.data, r->body.len, "body", &je);
	if (o == NULL || plex_container(o) == NULL) {
		snprintf(err, errlen, "plex: %s: answer is not a MediaContainer "
		    "(%s)", what, o == NULL ? je.message : "wrong shape");
		json_object_put(o);
		return PLEX_ERR_FAIL;
	}
	*root = o;
	return PLEX_OK;
}

static int
get(struct plex_client *pc, const char *path, const char *const *hdrs,
    const char *what, struct json_object **root, char *err, size_t errlen)
{
	struct http_response	 r;
	long			 st;
	int			 rc;

	memset(&r, 0, sizeof(r));
	st = http_request(pc->http, "GET", path, hdrs, NULL, 0, &r);
	rc = answer(&r, st, what, root, err, errlen);
	http_response_free(&r);
	return rc;
}

static int
pc_sections(void *ctx, struct json_object **root, char *err, size_t errlen)
{
	return get(ctx, "/library/sections", NULL, "sections", root, err,
	    errlen);
}

static int
pc_listing(void *ctx, const char *section, int type, long start, long size,
    int64_t since, struct json_object **root, char *err, size_t errlen)
{
	char		 hstart[64], hsize[64], what[64], *base, *path;
	const char	*hdrs[3];
	int		 rc;

	/* both paging values as headers and in the query: PMS reads either */
	snprintf(hstart, sizeof(hstart), "X-Plex-Container-Start: %ld", start);
	snprintf(hsize, sizeof(hsize), "X-Plex-Container-Size: %ld", size);
	hdrs[0] = hstart;
	hdrs[1] = hsize;
	hdrs[2] = NULL;
	base = plex_listing_path(section, type, since);
	xasprintf(&path, "%s&X-Plex-Container-Start=%ld"
	    "&X-Plex-Container-Size=%ld", base, start, size);
	snprintf(what, sizeof(what), "listing of section %.20s", section);
	rc = get(ctx, path, hdrs, what, root, err, errlen);
	free(path);
	free(base);
	return rc;
}

static int
pc_metadata(void *ctx, const char *const *keys, size_t n,
    struct json_object **root, char *err, size_t errlen)
{
	char	*path;
	int	 rc;

	path = plex_metadata_path(keys, n);
	rc = get(ctx, path, NULL, "metadata", root, err, errlen);
	free(path);
	return rc;
}

static void
pc_free(void *ctx)
{
	struct plex_client	*pc = ctx;

	http_client_free(pc->http);
	free(pc);
}

static const struct plex_source_ops plex_client_ops = {
	pc_sections, pc_listing, pc_metadata, pc_free
};

struct plex_source *
plex_client_new(const struct plex_client_config *cf)
{
	struct plex_source	*src;
	struct plex_client	*pc;
	struct http_config	 hc;
	char			 id[64], *h_token, *h_id;
	const char		*hdrs[6];

	client_identifier(id, sizeof(id));
	xasprintf(&h_token, "X-Plex-Token: %s", cf->token);
	xasprintf(&h_id, "X-Plex-Client-Identifier: %s", id);
	hdrs[0] = "Accept: application/json";
	hdrs[1] = h_token;
	hdrs[2] = h_id;
	hdrs[3] = "X-Plex-Product: plexpipe";
	hdrs[4] = "X-Plex-Version: " PLEXPIPE_VERSION;
	hdrs[5] = NULL;

	memset(&hc, 0, sizeof(hc));
	hc.name = "plex";
	hc.base_url = cf->url;
	hc.headers = hdrs;
	hc.timeout_ms = (long)(cf->timeout * 1000);
	hc.retries = cf->retries;
	hc.insecure = cf->insecure;
	hc.cacert = cf->cacert;

	pc = xcalloc(1, sizeof(*pc));
	pc->http = http_client_new(&hc);
	explicit_bzero(h_token, strlen(h_token));
	free(h_token);
	free(h_id);
	if (pc->http == NULL) {
		free(pc);
		return NULL;
	}
	src = xcalloc(1, sizeof(*src));
	src->ops = &plex_client_ops;
	src->ctx = pc;
	return src;
}

unsigned long
plex_client_attempts(const struct plex_source *src)
{
	struct http_stats	 st;

	if (src == NULL || src->ops != &plex_client_ops)
		return 0;
	http_client_stats(((struct plex_client *)src->ctx)->http, &st);
	return st.requests;
}
