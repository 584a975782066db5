/* ratelimit.h: a token bucket in shared memory, made before fork so N processes share one budget. */
#ifndef PLEXPIPE_RATELIMIT_H
#define PLEXPIPE_RATELIMIT_H

struct ratelimit;

/*
 * rate tokens per second, at most `burst` stored (burst >= 1; with burst 1
 * no one-second window ever sees more than rate+1 requests). The state
 * lives in an anonymous MAP_SHARED mapping with a process-shared mutex, so
 * children forked afterwards draw from the same bucket. rate <= 0 means
 * unlimited. Returns NULL on failure (errno set).
 *
 * The configured rate is a ceiling: after a 429 (ratelimit_throttle) the
 * bucket runs slower and climbs back towards it (ratelimit.c says how).
 */
struct ratelimit *ratelimit_new(double rate, double burst);
/*
 * A bucket with no rate set (rate <= 0) starts at `start` tokens/s and
 * a burst of one, multiplying the rate by RATELIMIT_SS_GROWTH each second
 * in which it holds a request back, until the first 429
 * (ratelimit_throttle), TCP-like, rather than unlimited: the first burst
 * does not go out far over the server's unknown limit. No effect on a
 * bucket with a rate. Call before fork, like ratelimit_new.
 */
#define RATELIMIT_SS_GROWTH	16.0
void	 ratelimit_slow_start(struct ratelimit *, double start);
/* Blocks until a token is available and takes it. */
void	 ratelimit_acquire(struct ratelimit *);
/* Takes a token if one is there now: 1; else 0 and *wait_s (if not NULL) = seconds to wait. */
int	 ratelimit_try(struct ratelimit *, double *wait_s);
/*
 * After a 429 with Retry-After: nobody sharing the bucket gets a token
 * before now + seconds.
 */
void	 ratelimit_pause(struct ratelimit *, double seconds);
/*
 * After a 429: pauses for retry_after_s (when > 0, as ratelimit_pause)
 * and lowers the rate, once per burst of 429s: one that comes within a
 * second of the last decrease (or of the pause it set) does not lower it
 * again. At the configured rate, the first 429 in a while that came
 * though no more than that rate was sent widens the window guard instead
 * (ratelimit_widenings).
 */
void	 ratelimit_throttle(struct ratelimit *, double retry_after_s);
/*
 * The same, knowing when the request that got the 429 took its token
 * (now_monotonic() seconds): a request sent before the last decrease took
 * effect says nothing about the new rate and does not lower it.
 */
void	 ratelimit_throttle_sent(struct ratelimit *, double retry_after_s,
	    double sent_at);
/* The rate in force now, tokens per second; 0 when unlimited. */
double	 ratelimit_rate(struct ratelimit *);
/* Decreases so far (each burst of 429s counts once). */
long	 ratelimit_decreases(struct ratelimit *);
/*
 * 429s at the configured rate taken for timing jitter: the guard's
 * window widened, the rate kept (ratelimit.c says when).
 */
long	 ratelimit_widenings(struct ratelimit *);
void	 ratelimit_free(struct ratelimit *);	/* accepts NULL */

/*
 * The same calls on a clock the caller gives (monotonic seconds, never
 * going back), so that tests can run minutes of recovery in no time;
 * now < 0 reads CLOCK_MONOTONIC once the bucket is locked.
 */
int	 ratelimit_try_at(struct ratelimit *, double now, double *wait_s);
void	 ratelimit_throttle_at(struct ratelimit *, double retry_after_s,
	    double sent_at, double now);
double	 ratelimit_rate_at(struct ratelimit *, double now);

#endif
