/* dispatch.h: meta-enrich's parent: its state, shared by dispatch.c (input, workers) and units.c (units, jobs, output order). */
#ifndef PLEXPIPE_ENRICH_DISPATCH_H
#define PLEXPIPE_ENRICH_DISPATCH_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "enrich.h"
#include "jparse.h"

struct json_object;
struct ndjson_reader;
struct ndjson_writer;
struct reject_file;

#define JOB_ITEMS	20		/* items per job, at least (see piece_end) */
#define IMDB_GROUP	5		/* ids per IMDb batchGet (imdb.c) */
#define JOB_AHEAD(nw)	(2 * (size_t)(nw) + 2)	/* jobs handed out past the oldest */
#define WAIT_MAX	(4u * 1024 * 1024)	/* bytes of points waiting for order */
#define QUEUE_MAX	(4u * 1024 * 1024)	/* bytes of job text read ahead */

enum unit_kind { U_BATCH = 1, U_PASS, U_END };

enum job_state {
	J_WAIT = 0,	/* not at a worker */
	J_BUSY,		/* at a worker */
	J_DONE,		/* its points are in out */
	J_FAILED	/* it killed two workers: rejected */
};

struct job {
	enum job_state	 state;
	int		 attempts;	/* workers that died holding it */
	char		*text;		/* the job text sent to a worker */
	size_t		 len;
	size_t		*lines;		/* input line of each item / of the record */
	size_t		 nlines;
	size_t		 nitems;
	struct buf	 out;		/* its points, comma-separated, no brackets */
};

struct unit {
	enum unit_kind		 kind;
	int			 done;		/* pass / end: ready to write */
	int64_t			 seq;		/* points seq (batches) */
	int			 bare;		/* made of bare items */
	struct job		*jobs;
	size_t			 njobs;
	size_t			 emitted;	/* jobs whose points are
						   written */
	int			 started;	/* a job of it went to a
						   worker */
	int			 opened;	/* the points record's head is
						   written */
	int			 any;		/* points written: the next
						   needs a comma */
	struct buf		 out;		/* a pass-through line, without
						   newline */
	struct json_object	*end;		/* the end record to forward */
};

struct disp {
	const struct enrich_opts	*o;
	struct enrich_stats		*st;
	struct dispatch_result		*res;
	struct unit			*ring;
	size_t				 cap;		/* window: read only
							   with 2 slots free */
	size_t				 alloc;		/* ring slots */
	size_t				 head, count;	/* head: ordinal of the
							   oldest unit */
	int64_t				 next_seq;
	struct enrich_worker		*ws;
	size_t				*wjob;		/* per worker: index of
							   its job in its
							   unit */
	int				 nw;
	int				 deaths;	/* worker deaths since
							   the last result */
	size_t				 queued;	/* bytes of job text
							   held */
	size_t				 waiting;	/* bytes of points held
							   for order */
	struct ndjson_reader		*rd;		/* push reader: splits
							   stdin into records */
	size_t				 lineno;	/* line of the record
							   being handled */
	int				 need_input;	/* the reader holds no
							   whole line */
	int				 eof;		/* read(2) returned 0 */
	int				 input_done;	/* every line handled,
							   bare batch flushed */
	struct json_object		*bare;		/* pending bare items */
	size_t				*bare_lines;
	struct reject_file		*rej;
	struct ndjson_writer		*w;
	struct lookahead		*la;		/* IMDb look-ahead, or
							   NULL */
	char				***queue;
	size_t				*nqueue;
	double				 started;
};

/* units.c */
struct unit	*disp_unit_at(struct disp *, size_t ord);
/* A new unit at the ring's tail (the ring grows if it must). */
struct unit	*disp_unit_add(struct disp *, enum unit_kind);
void		 disp_unit_clear(struct disp *, struct unit *);
/* The pending bare items become one batch unit, in jobs. */
void		 disp_flush_bare(struct disp *);
/*
 * A plex batch becomes batch units, in jobs. Its items are texts (the
 * line's own, when jparse_split() cut it, so no tree of the whole batch
 * is built) with the facts that cutting needs; env is the record without
 * its items (or with them: they are not read), raw its whole text.
 */
struct item_fact {
	char		*show;		/* grandparentRatingKey, or NULL */
	char		 imdb[24];	/* the IMDb id a worker looks up, or "" */
};
struct plex_items {
	const char		*text;	/* item i is text[el[i].off..][..len] */
	const struct jspan	*el;
	const struct item_fact	*facts;
	size_t			 n;
};
void		 disp_item_fact(struct json_object *item, struct item_fact *);
void		 disp_item_facts_free(struct item_fact *, size_t n);
void		 disp_split_plex(struct disp *, struct json_object *env,
		    const struct plex_items *, const char *raw, size_t len);
/* The same for a plex batch parsed whole (j, its text raw). */
void		 disp_split_plex_tree(struct disp *, struct json_object *j,
		    const char *raw, size_t len);
/* The oldest job that may go to a worker now, or NULL; *ord, *idx: where. */
struct job	*disp_next_job(struct disp *, int stopping, size_t *ord,
		    size_t *idx);
/* "{...,"points":[" of the points record seq, as record.c builds it. */
void		 disp_points_head(int64_t seq, struct buf *);
/* Writes the finished units at the ring's head, in order. */
void		 disp_emit(struct disp *);
/* Stopping: closes a points record half written, so every line is whole. */
void		 disp_emit_close(struct disp *);

#endif
