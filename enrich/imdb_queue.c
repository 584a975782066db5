/* imdb_queue.c: the IMDb retry queue file (a JSON array, like mcp-plex's imdb_queue.json) and the legacy cache import. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cache.h"
#include "enrich.h"
#include "jparse.h"
#include "jsonutil.h"
#include "log.h"
#include "ndjson_write.h"
#include "statedir.h"
#include "xalloc.h"

void
enrich_ids_free(char **ids, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
enrich_queue_load(const char *path, char ***ids, size_t *n)
{
	struct json_object *a, *e;
	struct jerr je;
	size_t i, len;

	*ids = NULL;
	*n = 0;
	if (access(path, F_OK) == -1 && errno == ENOENT)
		return 0;
	if ((a = jparse_file(path, &je)) == NULL ||
	    !json_object_is_type(a, json_type_array)) {
		log_warn("imdb queue \"%s\" is not a JSON array; ignored (%s)",
		    path, a == NULL ? je.message : "another type");
		json_object_put(a);
		return -1;
	}
	len = json_object_array_length(a);
	*ids = xcalloc(len + 1, sizeof(**ids));
	for (i = 0; i < len; i++) {
		e = json_object_array_get_idx(a, i);
		if (json_object_is_type(e, json_type_string) &&
		    enrich_valid_imdb_id(json_object_get_string(e)))
			(*ids)[(*n)++] = xstrdup(json_object_get_string(e));
	}
	json_object_put(a);
	return 0;
}

int
enrich_queue_save(const char *path, char **ids, size_t n)
{
	struct json_object *a = json_object_new_array();
	char *tmp, err[512];
	const char *s;
	size_t i, len;
	FILE *f = NULL;
	int fd, rc = 0;

	if (n > 1)
		qsort(ids, n, sizeof(*ids), cmp_str);
	for (i = 0; i < n; i++)
		if (i == 0 || strcmp(ids[i - 1], ids[i]) != 0)
			json_object_array_add(a, json_object_new_string(ids[i]));
	s = ndjson_to_string(a, &len);
	if (statedir_ensure_for(path, err, sizeof(err)) != 0) {
		log_error("imdb queue: %s", err);
		json_object_put(a);
		return -1;
	}
	xasprintf(&tmp, "%s.tmp.%ld", path, (long)getpid());
	/* the state files are private (statedir.h) */
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    STATEDIR_FILE_MODE)) == -1 || (f = fdopen(fd, "w")) == NULL ||
	    fwrite(s, 1, len, f) != len || fputc('\n', f) == EOF ||
	    fclose(f) != 0 || rename(tmp, path) == -1) {
		log_error("imdb queue \"%s\": %s", path, strerror(errno));
		unlink(tmp);
		rc = -1;
	}
	free(tmp);
	json_object_put(a);
	return rc;
}

long
enrich_import_legacy_cache(struct enrich_ctx *ctx, const char *path)
{
	struct json_object *o, *j;
	struct jerr je;
	char key[64];
	long added = 0;

	if ((o = jparse_file(path, &je)) == NULL ||
	    !json_object_is_type(o, json_type_object)) {
		log_error("imdb cache \"%s\" is not a JSON object (%s)", path,
		    o == NULL ? je.message : "another type");
		json_object_put(o);
		return -1;
	}
	json_object_object_foreach(o, id, val) {
		if (!enrich_valid_imdb_id(id) ||
		    (val != NULL && !json_object_is_type(val, json_type_object)))
			continue;
		snprintf(key, sizeof(key), "imdb/%s", id);
		if (enrich_cache_lookup(ctx, key, &j) == SRC_MISS) {
			enrich_cache_store(ctx, key, val);
			added++;
		}
		json_object_put(j);
	}
	json_object_put(o);
	return added;
}
