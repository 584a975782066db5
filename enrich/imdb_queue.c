/* imdb_queue.c: the IMDb retry queue file (a JSON array, like mcp-plex's imdb_queue.json) and the legacy cache import. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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
#include "strutil.h"
#include "xalloc.h"

void
enrich_ids_free(char **ids, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
}

/*
 * A queue file that cannot be read goes to PATH.bad (PATH.bad.1, ... when
 * that is taken): its ids are not retried, but they are not lost to the
 * queue this run writes at exit either. Never over an older .bad file.
 */
static int
move_aside(const char *path, char *to, size_t tolen)
{
	int	 i;

	for (i = 0; i < 100; i++) {
		if (i == 0)
			snprintf(to, tolen, "%s.bad", path);
		else
			snprintf(to, tolen, "%s.bad.%d", path, i);
		if (renameat2(AT_FDCWD, path, AT_FDCWD, to,
		    RENAME_NOREPLACE) == 0)
			return 0;
		if (errno == EINVAL) {
			/* a file system without RENAME_NOREPLACE: link(2) refuses a taken name too */
			if (link(path, to) == 0) {
				unlink(path);
				return 0;
			}
		}
		if (errno != EEXIST)
			return -1;
	}
	return -1;
}

int
enrich_queue_load(const char *path, char ***ids, size_t *n)
{
	struct json_object	*a, *e;
	struct jerr		 je;
	const char		*why;
	char			 to[PATH_MAX];
	size_t			 i, len;

	*ids = NULL;
	*n = 0;
	if (access(path, F_OK) == -1 && errno == ENOENT)
		return 0;
	if ((a = jparse_file(path, &je)) == NULL ||
	    !json_object_is_type(a, json_type_array)) {
		why = a == NULL ? je.message : "not an array";
		json_object_put(a);
		if (move_aside(path, to, sizeof(to)) == -1) {
			log_error("imdb queue \"%s\" cannot be read as a JSON "
			    "array of ids, nor moved aside: %s; it is left as it "
			    "is", path, strerror(errno));
			return -1;
		}
		log_warn("imdb queue \"%s\" cannot be read as a JSON array of "
		    "ids: moved aside to \"%s\" (%s; its ids are not retried)",
		    path, to, why);
		return 0;
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
	struct json_object	*a = json_object_new_array();
	char			*tmp, err[512];
	const char		*s;
	size_t			 i, len;
	FILE			*f = NULL;
	int			 fd, rc = 0;

	if (n > 1)
		qsort(ids, n, sizeof(*ids), strp_cmp);
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
	struct json_object	*o, *j;
	struct jerr		 je;
	char			 key[64];
	long			 added = 0;

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
