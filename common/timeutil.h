/* timeutil.h: clocks, sleeping, ISO-8601 formatting and the time specs users type. */
#ifndef PLEXPIPE_TIMEUTIL_H
#define PLEXPIPE_TIMEUTIL_H

#include <stdint.h>
#include <signal.h>
#include <time.h>

double	 now_monotonic(void);		/* seconds, CLOCK_MONOTONIC */
double	 now_wall(void);		/* seconds since the epoch */
/*
 * Sleeps secs, resuming after EINTR and checking stop(arg) (stop may be
 * NULL) every 50 ms: -1 as soon as it is true, 0 when the time is up.
 * Every wait of the programs (retry backoff, rate limits) sleeps here.
 */
int	 sleep_unless(double secs, int (*stop)(const void *), const void *arg);
/* Sleeps, resuming after EINTR, unless *cancel (may be NULL) becomes set. */
void	 sleep_seconds(double, volatile sig_atomic_t *cancel);

/* "2025-03-10T03:37:54Z" into out (at least 21 bytes); 0 or -1. */
int	 iso8601_utc(int64_t epoch, char *out, size_t outlen);
/* Parses "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SS[Z]" as UTC; 0 or -1. */
int	 parse_iso8601(const char *, int64_t *epoch);
/*
 * A time a user gives for --updated-since: epoch seconds ("1741577874"),
 * an ISO date or date-time, or a duration back from `now` ("90m", "7d",
 * "12h", "2w"). 0, or -1 when it is none of these.
 */
int	 parse_time_spec(const char *, time_t now, int64_t *epoch);
/*
 * A duration "90s", "15m", "12h", "7d", "2w" (and a bare number of seconds
 * when unit_optional) to seconds; 0, or -1 when it is not one.
 */
int	 parse_duration(const char *, int unit_optional, int64_t *secs);

#endif
