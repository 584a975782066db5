/* upsert.h: qdrant-upsert's internal interfaces, grouped by module. */
#ifndef PLEXPIPE_UPSERT_H
#define PLEXPIPE_UPSERT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "buf.h"
#include "http.h"

struct json_object;
struct ndjson_writer;

/* --- murmur3.c --- */
uint32_t upsert_murmur3_32(const void *, size_t, uint32_t);
/* abs() of the hash read as int32: the BM25 token id. */
uint32_t upsert_bm25_token_id(const char *, size_t);

/* --- bm25.c: fastembed's Qdrant/bm25, computed locally --- */
struct upsert_bm25;
struct upsert_sparse {
	uint32_t	*indices;
	float		*values;
	size_t		 n, cap;
};
#define UPSERT_BM25_K		1.2
#define UPSERT_BM25_B		0.75
#define UPSERT_BM25_AVG_LEN	256.0
#define UPSERT_BM25_MAX_TOKEN	40	/* code points; longer tokens are dropped */

extern const char *const upsert_bm25_stopwords[];
extern const size_t upsert_bm25_nstopwords;

struct upsert_bm25 *upsert_bm25_new(void);	/* NULL when libstemmer fails */
void	 upsert_bm25_free(struct upsert_bm25 *);
/* 0 when libstemmer behaves as Snowball 2.x English; else -1 and why. */
int	 upsert_bm25_selfcheck(struct upsert_bm25 *, char *why, size_t);
int	 upsert_bm25_is_stopword(const char *);
/* Document vector (TF part; the collection's IDF modifier does the rest). */
void	 upsert_bm25_doc(struct upsert_bm25 *, const char *text, struct upsert_sparse *);
/* Query vector: unique ids, every value 1.0. */
void	 upsert_bm25_query(struct upsert_bm25 *, const char *text, struct upsert_sparse *);
/*
 * Calls fn with each token of text, in order, before stopwords and
 * stemming: the runs of word characters of the lowercased text (not
 * NUL-terminated; ncp is its length in code points).
 */
typedef void upsert_bm25_token_fn(void *arg, const char *tok, size_t len,
    size_t ncp);
void	 upsert_bm25_tokens(struct upsert_bm25 *, const char *text,
	    upsert_bm25_token_fn *fn, void *arg);
/* The stem of one lowercase word (for tests); borrowed until the next call. */
const char *upsert_bm25_stem(struct upsert_bm25 *, const char *word);
void	 upsert_sparse_free(struct upsert_sparse *);
/* Appends {"indices":[...],"values":[...]}. */
void	 upsert_sparse_json(const struct upsert_sparse *, struct buf *);
/* Shortest decimal text that reads back as the same float32. */
void	 upsert_float32_text(float, char *, size_t);
/* Is this model name one bm25.c computes? ("Qdrant/bm25", "bm25", any case) */
int	 upsert_bm25_model(const char *);

/* --- the run's settings, filled by main() --- */
enum upsert_dense { DENSE_UNSET, DENSE_ENDPOINT, DENSE_SERVER, DENSE_NONE };
enum upsert_sparse_mode { SPARSE_LOCAL, SPARSE_SERVER, SPARSE_NONE };

struct upsert_config {
	const char		*collection;
	int			 batch_size;
	size_t			 max_request_bytes;
	size_t			 max_read_ahead;	/* bytes held: then stop reading */
	int			 concurrency;
	int			 retries;
	double			 backoff;
	int			 wait;
	const char		*dead_letter;
	enum upsert_dense	 dense;
	enum upsert_sparse_mode	 sparse;
	const char		*embed_model;	/* NULL: the points' own model */
	int			 embed_batch_size;
	long			 dense_size;	/* 0: from the model table */
	const char		*dense_distance;	/* "Cosine" unless overridden */
	int			 recreate;
	int			 shard_number;	/* 0: Qdrant's default */
	int			 replication_factor;	/* 0: Qdrant's default (1) */
	int			 write_consistency_factor;	/* 0: default (1) */
	int			 cleanup;
	double			 max_delete_fraction;
	int			 force_cleanup;
	int			 skip_unchanged;
	int			 dry_run;
	int			 embed_key;	/* an embeddings key was given */
};

/* --- dry_run.c: the request log that replaces the network --- */
/* Writes {"kind":"request","service":S,"method":M,"path":P,"body":B} to w. */
void	 upsert_dry_request(struct ndjson_writer *, const char *service,
	    const char *method, const char *path, const char *body, size_t len);
size_t	 upsert_dry_count(void);	/* request lines written so far */

/* --- collection.c --- */
/* The dense size of a known model, 0 when unknown. */
long	 upsert_model_dense_size(const char *model);
struct upsert_qdrant {
	struct http_client	*client;	/* NULL in dry-run */
	struct ndjson_writer	*dry;		/* request log in dry-run */
	const struct upsert_config *cfg;
};
/*
 * Makes sure the collection exists with the right vectors and all payload
 * indexes. dense_size 0: no dense vector. Returns 0, or an exit status
 * (2 for a wrong shape or refused key, 1 when Qdrant did not answer)
 * after logging why.
 */
int	 upsert_collection_ensure(struct upsert_qdrant *, long dense_size);
/* The 22 payload indexes (DESIGN.md 4), as CreateFieldIndex bodies. */
extern const char *const upsert_index_fields[];
extern const size_t upsert_nindex_fields;
/* Writes the CreateFieldIndex body for index i. */
void	 upsert_index_body(size_t i, struct buf *);
/* One synchronous Qdrant call, or a logged request in dry-run (status 200, empty body). */
long	 upsert_qdrant_call(struct upsert_qdrant *, const char *method,
	    const char *path, const char *body, struct http_response *);

/* --- count_points.c --- */
/*
 * Writes {"kind":"count","collection","exists","points":{"movie":N,
 * "episode":N,"show":N}} to out, only the types in the comma list only
 * when it is not NULL (a missing collection: exists false, all 0).
 * Returns 0, or an exit status after logging why.
 */
int	 upsert_count_points(struct upsert_qdrant *, const char *only,
	    struct ndjson_writer *out);

/* --- embed_client.c --- */
/* Splits EMBED_URL into a base URL and the request path (/v1/embeddings). */
void	 upsert_embed_split_url(const char *url, char **base, char **path);
/* {"model":M,"input":[texts]} */
void	 upsert_embed_body(const char *model, const char *const *texts, size_t n,
	    struct buf *);
/*
 * Parses an embeddings answer for n inputs of dimension dim (0: any,
 * all equal). On success out[i] holds a new reference to the vector array
 * and 0 is returned; else -1 and why.
 */
int	 upsert_embed_parse(const char *body, size_t len, size_t n, long dim,
	    struct json_object **out, char *why, size_t whylen);

/*
 * 401/403 from the embeddings server: logs why, naming EMBED_API_KEY,
 * and returns 1 (the run stops with exit 2); else 0.
 */
int	 upsert_embed_refused(long status, const char *error, int have_key);
/* GET .../models: EXIT_USAGE when the key is refused, else 0. */
int	 upsert_embed_probe(struct http_client *, const char *embed_path,
	    int have_key);

/* --- skip_unchanged.c --- */
/* SHA-256 (hex) of the point's canonical JSON plus the settings string. */
void	 upsert_content_hash(struct json_object *point, const char *settings,
	    char out[65]);
/* A comparable text for a point id: decimal, or the UUID in lowercase without '-'. */
int	 upsert_id_key(struct json_object *id, char *out, size_t);
/* Appends the retrieve body {"ids":[...],"with_payload":["content_hash"],"with_vector":false}. */
void	 upsert_fetch_body(struct json_object *const *ids, size_t n, struct buf *);
/* The same from ids already written as JSON. */
void	 upsert_fetch_body_text(const char *const *ids, size_t n, struct buf *);
/*
 * Reads a retrieve answer; calls found(arg, idkey, hash) for every stored
 * point, hash NULL when it has no content_hash. Returns 0 or -1 on a
 * malformed answer.
 */
int	 upsert_fetch_parse(const char *body, size_t len,
	    void (*found)(void *, const char *, const char *), void *arg);

/* --- point.c: one incoming point -> the PointStruct text to upsert --- */
struct upsert_point_in {
	struct json_object	*point;		/* the incoming point */
	struct json_object	*dense;		/* embedding array for "dense", or NULL */
	const char		*hash;		/* content hash, or NULL */
};
/*
 * Appends the point with vectors resolved per the config: Documents under
 * "dense"/"sparse" are replaced (endpoint vector, local BM25), kept
 * (server) or dropped (none). Returns 0, or -1 and why.
 */
int	 upsert_point_text(const struct upsert_config *, struct upsert_bm25 *,
	    const struct upsert_point_in *, struct buf *, char *why, size_t);
/*
 * The same in two steps, so that a point waits as text, not as a tree:
 * upsert_pstruct_make() writes the PointStruct when the point is read,
 * with holes for what comes later (the dense Document's span in endpoint
 * mode, where its embedding goes; the place of a sparse vector computed
 * here, with the text to compute it from); upsert_pstruct_write() appends
 * it with the holes filled: vec (the embedding as JSON text) or, when
 * NULL, the Document as it was; BM25 computed now. It returns the bytes
 * appended.
 */
struct upsert_pstruct {
	char	*text;
	size_t	 len;
	size_t	 dense_at, dense_end;	/* the dense Document; dense_end 0: none */
	size_t	 sparse_at;		/* where the BM25 vector goes */
	char	*sparse_text;		/* its text, or NULL: no sparse hole */
	size_t	 sparse_len;
};
int	 upsert_pstruct_make(const struct upsert_config *, struct json_object *point,
	    const char *hash, struct upsert_pstruct *, char *why, size_t);
size_t	 upsert_pstruct_write(const struct upsert_pstruct *, struct upsert_bm25 *,
	    const char *vec, size_t veclen, struct buf *);
void	 upsert_pstruct_free(struct upsert_pstruct *);
/* The Document {"text","model"} under vector name, or NULL. */
struct json_object *upsert_point_document(struct json_object *point, const char *name);

/* --- cleanup.c --- */
struct upsert_keyset;
struct upsert_keyset *upsert_keyset_new(struct json_object *rating_keys);
int	 upsert_keyset_has(const struct upsert_keyset *, const char *);
void	 upsert_keyset_add(struct upsert_keyset *, const char *);
void	 upsert_keyset_free(struct upsert_keyset *);
/*
 * Deletes the points of the given types whose data.plex.rating_key is not
 * in keys. Returns 0, 4 when refused (above the fraction), or an exit
 * status on failure; *deleted counts what went.
 */
int	 upsert_cleanup(struct upsert_qdrant *, const struct upsert_keyset *,
	    const char *const *types, size_t ntypes, size_t *deleted);

/* --- upsert_batch.c: the batch pipeline (fetch hashes, embed, upsert) --- */
struct upsert_run;
struct upsert_stats {
	size_t		 points_in;
	size_t		 upserted;
	size_t		 skipped;
	size_t		 dead_lettered;
	size_t		 held_degraded;	/* degraded points kept off stored ones */
	size_t		 batches;
	size_t		 embed_requests;
	size_t		 retried_ok;	/* requests that needed retries and then succeeded */
	size_t		 retried_failed;	/* requests that failed after all retries */
	int		 spooled;	/* Qdrant stayed down: the rest went to the dead letters */
	int		 embed_failed;	/* some dead letters are the embeddings server's doing */
	int		 qdrant_failed;	/* some are Qdrant's */
};
struct upsert_run *upsert_run_new(const struct upsert_config *,
	    struct upsert_qdrant *, struct http_client *embed,
	    const char *embed_path, struct upsert_bm25 *,
	    struct ndjson_writer *out, long dense_size, const char *settings);
/*
 * Adds one point, kept as text: raw[0..rawlen) is its input text (NULL:
 * made from point), for the dead-letter file; "degraded" is taken off the
 * point. No reference is kept. May start a batch.
 */
void	 upsert_run_add(struct upsert_run *, struct json_object *point,
	    const char *raw, size_t rawlen);
/* Bytes held by the points of unfinished batches and the bodies in flight. */
size_t	 upsert_run_bytes(const struct upsert_run *);
/* Starts the partly filled batch. */
void	 upsert_run_flush(struct upsert_run *);
/*
 * Sleeps until a request can progress or fd (-1: none) has input, at
 * most timeout_ms (-1: no limit); handles what finished. 1: fd is ready.
 */
int	 upsert_run_wait(struct upsert_run *, int fd, int timeout_ms);
size_t	 upsert_run_active(const struct upsert_run *);
/* After a signal: dead-letter every point not yet written. */
void	 upsert_run_spool_pending(struct upsert_run *);
/* Non-zero exit status when the run must stop at once (401/403: 2). */
int	 upsert_run_fatal(const struct upsert_run *);
const struct upsert_stats *upsert_run_stats(const struct upsert_run *);
/* Closes the dead-letter file (appending an end record); -1 on I/O error. */
int	 upsert_run_close_dead_letter(struct upsert_run *);
/* Rating keys of the degraded points held back: live for stale cleanup. */
const char *const *upsert_run_held_keys(const struct upsert_run *, size_t *n);
void	 upsert_run_free(struct upsert_run *);

#endif
