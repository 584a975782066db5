/* log.h: stderr logging with levels, text or JSON lines, progress and summary lines. */
#ifndef PLEXPIPE_LOG_H
#define PLEXPIPE_LOG_H

#include <stddef.h>

struct json_object;

/*
 * -q is LOG_WARN (warnings and errors only), the default LOG_NOTICE (also
 * progress, the summary and the few lines a person should see), -v
 * LOG_INFO, -vv LOG_DEBUG.
 */
enum log_level { LOG_ERROR = 0, LOG_WARN, LOG_NOTICE, LOG_INFO, LOG_DEBUG };
enum log_format { LOG_TEXT = 0, LOG_JSON };

/*
 * Text lines look like "plex-ingest: warning: message"; JSON lines like
 * {"ts":"2026-11-28T17:31:00Z","prog":"plex-ingest","level":"warning","msg":"..."}.
 * Notice lines look like info lines. The default level is LOG_NOTICE.
 * Every message passes through the redactor (redact.h) before it is written.
 */
void	log_init(const char *prog);
void	log_set_level(enum log_level);
void	log_set_format(enum log_format);
enum log_level log_get_level(void);
const char *log_prog(void);

void	log_error(const char *, ...) __attribute__((__format__(__printf__, 1, 2)));
void	log_warn(const char *, ...) __attribute__((__format__(__printf__, 1, 2)));
void	log_notice(const char *, ...) __attribute__((__format__(__printf__, 1, 2)));
void	log_info(const char *, ...) __attribute__((__format__(__printf__, 1, 2)));
void	log_debug(const char *, ...) __attribute__((__format__(__printf__, 1, 2)));

/*
 * Progress: call with the running item count as often as you like; at most
 * every 500 ms, and only when stderr is a terminal and the level is at
 * least LOG_NOTICE, it rewrites one line
 * "prog: 1200 items, 340.2 items/s". log_progress_done() clears that line.
 */
void	log_progress(size_t items);
void	log_progress_done(void);
/*
 * More items to come (plex-ingest: a section's totalSize), for the ETA of
 * a supervisor's status line. Under a supervisor (PLEXPIPE_STATUS names
 * its FIFO) log_progress() reports there, at most 4 times a second,
 * instead of drawing; log_summary() sends the summary's numbers there too
 * and, in text format below -v, leaves the printing to the supervisor.
 */
void	log_progress_total(size_t more);

/*
 * The summary line at the end of a run: text "prog: summary: k=v k=v ..."
 * or, in JSON format, the object's members merged into the log record
 * with "msg":"summary". The object is borrowed.
 */
void	log_summary(struct json_object *);

#endif
