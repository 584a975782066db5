/* reject.h: the reject file: bad input lines kept, replayable, with line and reason. */
#ifndef PLEXPIPE_REJECT_H
#define PLEXPIPE_REJECT_H

#include <stddef.h>

struct reject_file;

/*
 * Lines are {"kind":"reject","stage":"<program>","line":N,"error":"...",
 * "record":"<raw text>"} (DESIGN.md 2): a record with a kind, so the stage
 * that wrote it can read it back as is (qdrant-upsert does);
 * the raw text is kept as a JSON string, so `jq -r .record rejects.ndjson`
 * gives back the original lines to replay. When the raw bytes are not
 * valid UTF-8, "record" has U+FFFD in their place and "record_base64"
 * holds the exact bytes, so nothing is lost.
 * path NULL: rejects are counted and logged but not written anywhere.
 * The file is opened for append on the first reject, not before.
 */
struct reject_file *reject_open(const char *path);
/* Logs "NAME:LINE: error" as a warning, appends the line, counts it. 0 or -1 on I/O error. */
int	 reject_add(struct reject_file *, size_t line, const char *error,
	    const char *raw, size_t raw_len);
/*
 * The input's name for the log lines ("stdin" unless set). An error that
 * already starts with "NAME:" (the reader's positioned message) is logged
 * as is.
 */
void	 reject_set_name(struct reject_file *, const char *name);
size_t	 reject_count(const struct reject_file *);
const char *reject_path(const struct reject_file *);
/* Closes; -1 if any write failed. Accepts NULL. */
int	 reject_close(struct reject_file *);

#endif
