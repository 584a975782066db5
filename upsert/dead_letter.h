/* dead_letter.h: the dead-letter file: points that could not be written, kept as replayable points records. */
#ifndef PLEXPIPE_DEAD_LETTER_H
#define PLEXPIPE_DEAD_LETTER_H

#include <stddef.h>
#include <stdint.h>

struct json_object;
struct dead_letter;

/* Nothing is opened until the first dead letter (or dead_letter_open()). */
struct dead_letter *dead_letter_new(const char *path);
/* Opens the file to append, if it is not open yet. 0, or -1 (logged). */
int	 dead_letter_open(struct dead_letter *);
/*
 * Appends {"kind":"points","seq":SEQ,"points":POINTS} (points is taken)
 * and flushes it, so a crash after this loses none of it. 0, or -1
 * (logged).
 */
int	 dead_letter_add(struct dead_letter *, int64_t seq,
	    struct json_object *points);
/*
 * Appends an end record (complete: false, stats.qdrant-upsert
 * .dead_lettered) when the file was opened, closes it and frees. 0, or
 * -1 (logged) when a write failed. Accepts NULL.
 */
int	 dead_letter_close(struct dead_letter *, size_t dead_lettered);

#endif
