/* batch_emit.c: writes plex batches as they are ready, and the end record with every emitted key. */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "buf.h"
#include "ndjson_write.h"
#include "record.h"
#include "ingest.h"

int
ingest_emit_batch(struct ingest_out *o, struct json_object *section,
    struct json_object *items, struct json_object *shows)
{
	struct json_object	*rec;
	size_t			 n;
	int			 rc;

	n = json_object_array_length(items);
	rec = record_plex_new(o->seq, section, items, shows);
	rc = ndjson_write(o->w, rec);
	json_object_put(rec);
	/* flushed at once: a later failure must leave whole batches behind */
	if (rc == 0)
		rc = ndjson_flush(o->w);
	if (rc == 0) {
		o->seq++;
		o->batches++;
		o->items += n;
	}
	return rc;
}

static void
append_key(void *arg, const char *key)
{
	struct buf		*b = arg;
	struct json_object	*s;
	size_t			 len;
	const char		*t;

	s = json_object_new_string(key);
	t = ndjson_to_string(s, &len);
	if (b->len > 0 && b->data[b->len - 1] != '[')
		buf_append(b, ",", 1);
	buf_append(b, t, len);
	json_object_put(s);
}

/*
 * rating_keys can hold tens of thousands of keys; a json-c string object
 * each would cost more than the keys, so the array is spliced in as text.
 */
int
ingest_emit_end(struct ingest_out *o, int complete,
    struct json_object *sections, const struct ingest_keyset *ks,
    struct json_object *stats)
{
	static const char	 mark[] = "\"rating_keys\":[]";
	struct json_object	*end;
	struct buf		 line = BUF_INIT;
	const char		*text, *at;
	size_t			 len;
	int			 rc;

	end = record_end_new(complete);
	json_object_object_add(end, "items",
	    json_object_new_int64((int64_t)ingest_keyset_count(ks)));
	json_object_object_add(end, "sections", sections);
	record_end_add_stats(end, "plex-ingest", stats);
	text = ndjson_to_string(end, &len);
	at = strstr(text, mark);
	if (at == NULL) {
		rc = ndjson_write(o->w, end);	/* no such member: write as is */
	} else {
		buf_append(&line, text, (size_t)(at - text));
		buf_appends(&line, "\"rating_keys\":[");
		ingest_keyset_each(ks, append_key, &line);
		buf_appends(&line, at + sizeof(mark) - 2);
		rc = ndjson_write_raw(o->w, line.data, line.len);
		buf_free(&line);
	}
	json_object_put(end);
	if (rc == 0)
		rc = ndjson_flush(o->w);
	return rc;
}
