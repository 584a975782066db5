/* ingest.h: the modules of plex-ingest and how they talk to each other. */
#ifndef PLEXPIPE_INGEST_H
#define PLEXPIPE_INGEST_H

#include <stddef.h>
#include <stdint.h>

struct json_object;
struct ndjson_writer;

/* Plex metadata type numbers used in listings (media-query "type="). */
#define PLEX_TYPE_MOVIE		1
#define PLEX_TYPE_SHOW		2
#define PLEX_TYPE_EPISODE	4

/* Outcomes of a call to a Plex source. */
enum plex_rc {
	PLEX_OK = 0,
	PLEX_ERR_AUTH,		/* 401/403: the token was rejected (exit 2) */
	PLEX_ERR_NOTFOUND,	/* 404: unknown key or section */
	PLEX_ERR_TOOBIG,	/* 400/413/414: the request was too large, split it */
	PLEX_ERR_FAIL		/* unreachable, 5xx after retries, not JSON (exit 1) */
};

/*
 * A source of Plex answers: the live server (plex_client.c) or a recorded
 * directory (sample_dir.c). Each call returns a PLEX_* code and, on
 * PLEX_OK, a new JSON root {"MediaContainer":{...}} the caller puts. On
 * failure err holds a one-line message without secrets.
 */
struct plex_source_ops {
	int	(*sections)(void *, struct json_object **, char *, size_t);
	/* since < 0: no updatedAt filter */
	int	(*listing)(void *, const char *section, int type, long start,
		    long size, int64_t since, struct json_object **, char *, size_t);
	int	(*metadata)(void *, const char *const *keys, size_t n,
		    struct json_object **, char *, size_t);
	void	(*free)(void *);
};

struct plex_source {
	const struct plex_source_ops	*ops;
	void				*ctx;
	unsigned long			 sections_requests;
	unsigned long			 listing_requests;
	unsigned long			 metadata_requests;
	int				 excerpt;	/* listings are known to
							   be cut short */
	char				 error[512];	/* the last failure */
};

/* plex_client.c: the live server over HTTP. */
struct plex_client_config {
	const char	*url;
	const char	*token;
	double		 timeout;	/* seconds per attempt */
	int		 retries;
	int		 insecure;
	const char	*cacert;
};
struct plex_source *plex_client_new(const struct plex_client_config *);
/* The HTTP attempts the live client put on the wire (0 for other sources). */
unsigned long plex_client_attempts(const struct plex_source *);
/* Builds the listing path; exposed for the unit tests. Caller frees. */
char	*plex_listing_path(const char *section, int type, int64_t since);
char	*plex_metadata_path(const char *const *keys, size_t n);
/* 1 when a Content-Type names JSON (or is empty and the body looks like JSON). */
int	 plex_is_json(const char *content_type, const char *body);

/* sample_dir.c: a recorded directory, bundled or mcp-plex layout. */
struct plex_source *sample_dir_open(const char *dir, char *err, size_t errlen);

/* Wrappers that count requests and fill src->error. */
int	 plex_src_sections(struct plex_source *, struct json_object **);
int	 plex_src_listing(struct plex_source *, const char *section, int type,
	    long start, long size, int64_t since, struct json_object **);
int	 plex_src_metadata(struct plex_source *, const char *const *keys,
	    size_t n, struct json_object **);
void	 plex_src_free(struct plex_source *);

/* The MediaContainer of a root, and its Metadata/Directory array (borrowed, may be NULL). */
struct json_object *plex_container(struct json_object *root);
struct json_object *plex_rows(struct json_object *root, const char *member);

/* sections.c: which sections and listings to read. */
enum { INGEST_WANT_MOVIE = 1, INGEST_WANT_EPISODE = 2, INGEST_WANT_SHOW = 4 };
/* "movie,episode" -> bit mask; -1 on an unknown word (*bad names it). */
int	 ingest_parse_types(const char *, const char **bad, size_t *badlen);

struct ingest_listing {
	struct json_object	*section;	/* {"key","title","type","uuid"}
						   (owned) */
	const char		*key;		/* borrowed from section */
	int			 type;		/* PLEX_TYPE_* */
};
/*
 * Chooses the listings from a /library/sections answer: for each selected
 * section (all movie and show sections, or those named in names[] by key
 * or title), a movie listing for movie sections and episode/show listings
 * for show sections as wanted. Returns the count (array in *out, caller
 * frees with ingest_listings_free) or -1 with err set (unknown section,
 * or a named section of another type).
 */
int	 ingest_select(struct json_object *sections_root, const char *const *names,
	    size_t nnames, int want, struct ingest_listing **out, char *err,
	    size_t errlen);
/*
 * How many movie or show sections holding a type the run loads were left
 * out by --section (0 without names); *first names one of them. Points
 * don't record their section, so stale cleanup after such a run could
 * delete those sections' points: the run must not be complete.
 */
int	 ingest_left_out(struct json_object *sections_root, const char *const *names,
	    size_t nnames, int want, const char **first);
void	 ingest_listings_free(struct ingest_listing *, size_t);
const char *ingest_type_name(int plex_type);

/* keyset.c: the rating keys emitted so far, compact, in emit order. */
struct ingest_keyset;
struct ingest_keyset *ingest_keyset_new(void);
void	 ingest_keyset_free(struct ingest_keyset *);
int	 ingest_keyset_has(const struct ingest_keyset *, const char *);
/* Returns 1 when added, 0 when it was already there. */
int	 ingest_keyset_add(struct ingest_keyset *, const char *);
size_t	 ingest_keyset_count(const struct ingest_keyset *);
/* The key's insertion ordinal (0 for the first key added), or -1. */
long	 ingest_keyset_index(const struct ingest_keyset *, const char *);
/* The key of that ordinal (borrowed), or NULL. */
const char *ingest_keyset_key(const struct ingest_keyset *, size_t);
/* Calls fn for each key in insertion order. */
void	 ingest_keyset_each(const struct ingest_keyset *,
	    void (*)(void *, const char *), void *);

/* listing_state.c: per listed item its listing timestamps, for incremental runs. */
struct ingest_state;
struct ingest_state *ingest_state_new(void);
void	 ingest_state_free(struct ingest_state *);
size_t	 ingest_state_count(const struct ingest_state *);
/* "movie" -> 'm', "episode" -> 'e', "show" -> 's'; else '\0'. */
char	 ingest_state_type_code(const char *type);
/*
 * Records a key's stamps (-1: the timestamp is absent; show NULL but for
 * episodes). Returns 1, or 0 when the key was there already or cannot be
 * stored (empty, control characters, unknown type).
 */
int	 ingest_state_put(struct ingest_state *, const char *key, char type,
	    int64_t updated, int64_t added, const char *show, int64_t show_updated);
/*
 * 1 when the key is there with exactly these stamps, so its points need no
 * refresh; never for an item without any timestamp, nor for an episode
 * whose show's updatedAt is unknown.
 */
int	 ingest_state_same(const struct ingest_state *, const char *key, char type,
	    int64_t updated, int64_t added, const char *show, int64_t show_updated);
/* The key's updatedAt in *updated; 0 when the key is unknown. */
int	 ingest_state_updated(const struct ingest_state *, const char *key,
	    int64_t *updated);
void	 ingest_state_counts(const struct ingest_state *, size_t *movies,
	    size_t *episodes, size_t *shows);
/*
 * Reads a state file into an empty state: 0; 1 when the file does not
 * exist; -1 when it cannot be read or a line is bad (err names the file
 * and line).
 */
int	 ingest_state_load(struct ingest_state *, const char *path, char *err,
	    size_t errlen);
/* Writes the state atomically (mode 0600); 0, or -1 with err set. */
int	 ingest_state_write(const struct ingest_state *, const char *path,
	    char *err, size_t errlen);

/* show_cache.c: a bounded cache of show metadata by rating key. */
struct ingest_show_cache;
struct ingest_show_cache *ingest_show_cache_new(size_t cap);
void	 ingest_show_cache_free(struct ingest_show_cache *);
/* Borrowed, or NULL. */
struct json_object *ingest_show_cache_get(struct ingest_show_cache *, const char *);
/* Takes a new reference; evicts the oldest entry when full. */
void	 ingest_show_cache_put(struct ingest_show_cache *, const char *,
	    struct json_object *);

/* metadata_fetch.c: full metadata for many keys, chunked, halved on trouble. */
/*
 * Fetches keys[0..n) in chunks of at most chunk keys and returns in *found
 * a new object mapping ratingKey -> item (each a new reference). Keys the
 * server does not return even alone are simply absent. Returns PLEX_OK or
 * the error that stopped it.
 */
int	 ingest_fetch_metadata(struct plex_source *, const char *const *keys,
	    size_t n, size_t chunk, struct json_object **found);

/* batch_emit.c: the output records. */
struct ingest_out {
	struct ndjson_writer	*w;
	int64_t			 seq;
	size_t			 items;
	size_t			 batches;
};
/* Writes one plex batch (ownership of the parts moves in) and flushes. */
int	 ingest_emit_batch(struct ingest_out *, struct json_object *section,
	    struct json_object *items, struct json_object *shows);
/*
 * Writes the end record: sections (owned) as [{"key","type","total"}],
 * rating_keys from the set (streamed as text, not as json objects), stats
 * (owned) under "plex-ingest".
 */
int	 ingest_emit_end(struct ingest_out *, int complete,
	    struct json_object *sections, const struct ingest_keyset *,
	    struct json_object *stats);

/* listing.c: one section listing, page by page, into batches. */
struct ingest_run {
	struct plex_source		*src;
	struct ingest_out		*out;
	struct ingest_keyset		*seen;
	struct ingest_show_cache	*shows;
	long				 chunk;		/* items per page and
							   batch */
	int64_t				 since;		/* updatedAt filter, -1
							   none */
	size_t				 limit;		/* 0: none */
	size_t				 vanished;	/* listed, but no
							   metadata */
	size_t				 duplicates;
	size_t				 skipped;	/* collections and other
							   types */
	size_t				 unsettled;	/* listings that kept
							   changing */
	size_t				 unchanged;	/* listed, same as in
							   the state */
	struct ingest_state		*old;		/* --state, or NULL */
	struct ingest_state		*next;		/* for --state-out, or
							   NULL */
	struct ingest_state		*show_times;	/* show key ->
							   updatedAt */
	int				 limit_hit;
	int				 rereading;	/* a listing's second or
							   later pass */
};
/*
 * Lists one section fully (or up to the limit), writing a batch per page.
 * *total gets the server's totalSize; *to_end is 1 when the listing was
 * read to its end and was steady: totalSize unchanged across its pages,
 * each page's first row the last of the page before, and as many distinct
 * rows as totalSize. A listing that moved is read again, up to
 * INGEST_LIST_PASSES times; if it still moves, one warning names the
 * section and *to_end is 0 (the run is not complete). Returns PLEX_OK or
 * the error that stopped it.
 */
#define INGEST_LIST_PASSES	3
int	 ingest_list(struct ingest_run *, const struct ingest_listing *,
	    long *total, int *to_end);

/* incremental.c: the listing state's verdict on listing rows. */
/* 1 when the row's item is unchanged since the old state. */
int	 ingest_row_unchanged(const struct ingest_run *, struct json_object *row,
	    const char *rk);
/* Records the row's stamps in the next state. */
void	 ingest_row_note(struct ingest_run *, struct json_object *row,
	    const char *rk);
/*
 * A full run: the updatedAt of an episode row's show, from the show's
 * metadata (in found, or cached), for the next state.
 */
void	 ingest_note_show(struct ingest_run *, struct json_object *row,
	    struct json_object *found);
/* Incremental runs: lists the shows of an episode listing's section for their updatedAt. */
int	 ingest_list_show_times(struct ingest_run *, const struct ingest_listing *);

#endif
