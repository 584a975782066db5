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
 */
struct ratelimit *ratelimit_new(double rate, double burst);
/* Blocks until a token is available and takes it. */
void	 ratelimit_acquire(struct ratelimit *);
/* Takes a token if one is there now: 1; else 0 and *wait_s (if not NULL) = seconds to wait. */
int	 ratelimit_try(struct ratelimit *, double *wait_s);
/*
 * After a 429 with Retry-After: nobody sharing the bucket gets a token
 * before now + seconds.
 */
void	 ratelimit_pause(struct ratelimit *, double seconds);
void	 ratelimit_free(struct ratelimit *);	/* accepts NULL */

#endif
