/*
 * incremental.c: what the listing state decides for each listing row: an
 * item whose own updatedAt and addedAt (and, for an episode, its show's
 * updatedAt) are those of the last good run needs no metadata request and
 * is not emitted; it is still listed in the end record, so stale cleanup
 * keeps its point. Every row read to the end goes into the next state.
 */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "jsonutil.h"
#include "log.h"
#include "ingest.h"

struct stamps {
	char		 type;
	int64_t		 updated, added, show_updated;
	const char	*show;
};

static int64_t
time_of(struct json_object *row, const char *name)
{
	int64_t	 v;

	return jget_int(row, name, &v) && v >= 0 ? v : -1;
}

static void
stamps_of(const struct ingest_run *run, struct json_object *row,
    struct stamps *s)
{
	s->type = ingest_state_type_code(jget_str(row, "type"));
	s->updated = time_of(row, "updatedAt");
	s->added = time_of(row, "addedAt");
	s->show = NULL;
	s->show_updated = -1;
	if (s->type == 'e') {
		s->show = jget_str(row, "grandparentRatingKey");
		if (s->show != NULL && (run->show_times == NULL ||
		    !ingest_state_updated(run->show_times, s->show,
		    &s->show_updated)))
			s->show_updated = -1;
	}
}

int
ingest_row_unchanged(const struct ingest_run *run, struct json_object *row,
    const char *rk)
{
	struct stamps	 s;

	if (run->old == NULL)
		return 0;
	stamps_of(run, row, &s);
	return ingest_state_same(run->old, rk, s.type, s.updated, s.added,
	    s.show, s.show_updated);
}

void
ingest_row_note(struct ingest_run *run, struct json_object *row,
    const char *rk)
{
	struct stamps	 s;

	if (run->next == NULL)
		return;
	stamps_of(run, row, &s);
	ingest_state_put(run->next, rk, s.type, s.updated, s.added, s.show,
	    s.show_updated);
}

void
ingest_note_show(struct ingest_run *run, struct json_object *row,
    struct json_object *found)
{
	struct json_object	*show = NULL;
	const char		*gp;
	int64_t			 t;

	if (run->next == NULL ||
	    (gp = jget_str(row, "grandparentRatingKey")) == NULL)
		return;
	if (run->show_times != NULL && ingest_state_updated(run->show_times, gp, &t))
		return;
	if (!json_object_object_get_ex(found, gp, &show))
		show = ingest_show_cache_get(run->shows, gp);
	if (show == NULL)
		return;		/* its episodes are fetched again next time */
	if (run->show_times == NULL)
		run->show_times = ingest_state_new();
	ingest_state_put(run->show_times, gp, 's', time_of(show, "updatedAt"),
	    time_of(show, "addedAt"), NULL, -1);
}

int
ingest_list_show_times(struct ingest_run *run, const struct ingest_listing *l)
{
	struct json_object	*root, *rows, *row, *mc;
	const char		*rk;
	int64_t			 total = -1;
	long			 start = 0, got, i;
	int			 rc;

	/* a full run learns them from the shows it fetches anyway */
	if (run->old == NULL)
		return PLEX_OK;
	if (run->show_times == NULL)
		run->show_times = ingest_state_new();
	log_debug("listing the shows of section %s for their updatedAt", l->key);
	for (;;) {
		rc = plex_src_listing(run->src, l->key, PLEX_TYPE_SHOW, start,
		    run->chunk, -1, &root);
		if (rc != PLEX_OK)
			return rc;
		mc = plex_container(root);
		rows = plex_rows(root, "Metadata");
		got = rows == NULL ? 0 : (long)json_object_array_length(rows);
		if (!jget_int(mc, "totalSize", &total))
			total = -1;
		for (i = 0; i < got; i++) {
			row = json_object_array_get_idx(rows, (size_t)i);
			if ((rk = jget_str(row, "ratingKey")) != NULL)
				ingest_state_put(run->show_times, rk, 's',
				    time_of(row, "updatedAt"),
				    time_of(row, "addedAt"), NULL, -1);
		}
		json_object_put(root);
		start += got;
		/* a show missing here only costs its episodes a fetch */
		if (got == 0 || (total >= 0 && start >= total))
			return PLEX_OK;
	}
}
