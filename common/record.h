/* record.h: the wire-format record kinds (plex, points, end), their envelopes and checks. */
#ifndef PLEXPIPE_RECORD_H
#define PLEXPIPE_RECORD_H

#include <stddef.h>
#include <stdint.h>

struct json_object;

#define WIRE_VERSION	1

enum record_kind {
	REC_PLEX,		/* {"kind":"plex",...} batch of Plex items */
	REC_POINTS,		/* {"kind":"points",...} batch of Qdrant points */
	REC_END,		/* {"kind":"end",...} last line of a run */
	REC_BARE_ITEM,		/* no "kind", has "ratingKey": a bare Plex item */
	REC_BARE_POINT,		/* no "kind", has "id": a bare Qdrant point */
	REC_OTHER,		/* another kind: passed through unchanged */
	REC_INVALID		/* neither a kind nor recognisable */
};

/* Classifies an object by its "kind" member or, without one, by its keys. */
enum record_kind record_kind_of(struct json_object *);
const char *record_kind_name(enum record_kind);

/*
 * Shape checks: return NULL when the record is well-formed, else a static
 * reason ("plex record: items is not an array"). v must be 1 when present.
 */
const char *record_check_plex(struct json_object *);
const char *record_check_points(struct json_object *);
/*
 * The same for a points line split without its tree (jparse.h's
 * jparse_split()): o is its envelope with an empty points array, and
 * all_objects says whether every element was an object.
 */
const char *record_check_points_split(struct json_object *, int all_objects);
/* The same for a plex record split on its items (meta-enrich's parent). */
const char *record_check_plex_split(struct json_object *, int all_objects);
/*
 * A plex or points line split on its items or points without building
 * its tree (jparse.h's jparse_split()): a batch of 1,000 is megabytes of
 * text, and its json-c tree would take ten times that. Returns 1 when
 * text is a record of that kind that splits: *env is its envelope,
 * parsed with an empty array in the member's place, *el (the caller
 * frees it) the spans of the *nel elements, and *why the shape check's
 * reason as above (NULL: well-formed). Else 0, with nothing to free: the
 * caller parses the text whole, which also names any error.
 */
struct jspan;
int	 record_split(const char *text, size_t len, enum record_kind kind,
	    struct json_object **env, struct jspan **el, size_t *nel,
	    const char **why);
const char *record_check_end(struct json_object *);
const char *record_check_item(struct json_object *);	/* a Plex item: string ratingKey */
const char *record_check_point(struct json_object *);	/* a point: id uint or UUID string */

/*
 * Envelope builders; members in the wire order. Ownership of the passed
 * objects moves into the new record (section/items/shows/points may be
 * NULL for empty).
 */
struct json_object *record_plex_new(int64_t seq, struct json_object *section,
	    struct json_object *items, struct json_object *shows);
struct json_object *record_points_new(int64_t seq, struct json_object *points);

/*
 * The end record. record_end_new() makes {"kind":"end","v":1,"complete":c,
 * "items":0,"sections":[],"rating_keys":[],"stats":{}}. A later stage
 * forwards the upstream end record after record_end_add_stats(end, "meta-enrich", stats)
 * (stats ownership moves in) so stats accumulate in pipeline order.
 */
struct json_object *record_end_new(int complete);
void	 record_end_add_stats(struct json_object *end, const char *stage,
	    struct json_object *stats);
int	 record_end_complete(struct json_object *end);	/* 1 only for literal true */

#endif
