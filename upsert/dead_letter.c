/* dead_letter.c: the dead-letter file: points that could not be written, kept as replayable points records. */
/*
 * Each record is flushed as it is written: the file is what is left of a
 * run that Qdrant failed, and it must hold every point handed to it even
 * if the process dies next. A closing end record with complete: false
 * makes the file a whole run: replaying it exits 0 and never triggers
 * stale cleanup.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "dead_letter.h"
#include "log.h"
#include "ndjson_write.h"
#include "record.h"
#include "statedir.h"
#include "xalloc.h"

struct dead_letter {
	char			*path;
	FILE			*fp;
	struct ndjson_writer	*w;	/* NULL until opened */
};

struct dead_letter *
dead_letter_new(const char *path)
{
	struct dead_letter	*dl = xcalloc(1, sizeof(*dl));

	dl->path = xstrdup(path);
	return dl;
}

int
dead_letter_open(struct dead_letter *dl)
{
	char	 err[512];
	int	 fd;

	if (dl->w != NULL)
		return 0;
	/* dead letters hold whole points: private, like the state dir */
	if ((fd = statedir_open_append(dl->path, err, sizeof(err))) == -1) {
		log_error("dead-letter file: %s", err);
		return -1;
	}
	if ((dl->fp = fdopen(fd, "a")) == NULL) {
		log_error("dead-letter file %s: %s", dl->path, strerror(errno));
		close(fd);
		return -1;
	}
	dl->w = ndjson_writer_new(dl->fp, dl->path);
	return 0;
}

int
dead_letter_add(struct dead_letter *dl, int64_t seq, struct json_object *points)
{
	struct json_object	*rec;
	int			 rc = 0;

	if (dead_letter_open(dl) != 0) {
		json_object_put(points);
		return -1;
	}
	rec = record_points_new(seq, points);
	if (ndjson_write(dl->w, rec) != 0 || ndjson_flush(dl->w) != 0) {
		log_error("dead-letter file %s: write failed", dl->path);
		rc = -1;
	}
	json_object_put(rec);
	return rc;
}

int
dead_letter_close(struct dead_letter *dl, size_t dead_lettered)
{
	struct json_object	*end, *stats;
	int			 rc = 0;

	if (dl == NULL)
		return 0;
	if (dl->w != NULL) {
		end = record_end_new(0);
		stats = json_object_new_object();
		json_object_object_add(stats, "dead_lettered",
		    json_object_new_int64((int64_t)dead_lettered));
		record_end_add_stats(end, "qdrant-upsert", stats);
		ndjson_write(dl->w, end);
		json_object_put(end);
		if (ndjson_writer_close(dl->w, 1) != 0) {
			log_error("dead-letter file %s: %s", dl->path,
			    strerror(errno));
			rc = -1;
		}
	}
	free(dl->path);
	free(dl);
	return rc;
}
