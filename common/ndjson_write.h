/* ndjson_write.h: write compact NDJSON lines with a sticky error and Unix EPIPE semantics. */
#ifndef PLEXPIPE_NDJSON_WRITE_H
#define PLEXPIPE_NDJSON_WRITE_H

#include <stdio.h>

struct json_object;
struct ndjson_writer;

/*
 * Lines are json_object_to_json_string_ext(PLAIN | NOSLASHESCAPE) plus
 * "\n". json-c keeps object keys in insertion order, so building objects
 * in a fixed order gives byte-stable output. Doubles created with
 * json_object_new_double_s() keep their text.
 *
 * On EPIPE the writer restores SIGPIPE's default action and raises it, so
 * the process dies of SIGPIPE (status 141) like any Unix filter.
 */
struct ndjson_writer *ndjson_writer_new(FILE *, const char *name);
/* Returns 0, or -1 after a write error (sticky: later writes do nothing). */
int	 ndjson_write(struct ndjson_writer *, struct json_object *);
/* Writes an already-serialised line (no newline in it); same return. */
int	 ndjson_write_raw(struct ndjson_writer *, const char *, size_t);
/*
 * Writes part of a line (no newline in it) that later parts and an
 * ndjson_write_raw() end: a long line made of pieces need not be held
 * whole. Parts of WRITE_BUFSIZE (64 KiB) or more are written at once.
 * Same return.
 */
int	 ndjson_write_part(struct ndjson_writer *, const char *, size_t);
int	 ndjson_flush(struct ndjson_writer *);
/*
 * Flushes and checks ferror(); closes the FILE when asked. Returns 0, or
 * -1 with errno set after any write error during the writer's life.
 * Frees the writer.
 */
int	 ndjson_writer_close(struct ndjson_writer *, int close_file);

/*
 * For main() only (the one exit of this module, on main's behalf): flush
 * stdout, and exit(1) with "prog: stdout: <error>" if anything written
 * to it failed (EPIPE raises SIGPIPE instead).
 */
void	 ndjson_check_stdout(void);

/* Serialises one object the way the writer does; the string is owned by obj. */
const char *ndjson_to_string(struct json_object *, size_t *len);

#endif
