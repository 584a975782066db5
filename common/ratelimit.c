/* ratelimit.c: a token bucket in shared memory, made before fork so N processes share one budget. */
/*
 * The whole bucket (mutex included) lives in one anonymous MAP_SHARED
 * page, so a fork()ed child sees the very same bytes as its parent: every
 * worker of meta-enrich -j4 draws from one budget per API.  The mutex is
 * PTHREAD_PROCESS_SHARED and robust: a worker killed while holding it
 * (SIGKILL between lock and unlock) must not wedge the others, so the
 * next locker gets EOWNERDEAD and marks it consistent; the state it
 * guards is a few doubles that are always valid between stores.
 *
 * Tokens are refilled lazily from CLOCK_MONOTONIC (wall-clock steps must
 * not mint or freeze tokens).  A pause (after a 429 with Retry-After)
 * empties the bucket and moves the refill origin to the end of the pause,
 * so nobody gets a token before it and the budget restarts from zero.
 */
#include <sys/mman.h>

#include <errno.h>
#include <pthread.h>
#include <time.h>

#include "ratelimit.h"
#include "timeutil.h"

struct ratelimit {
	pthread_mutex_t	 mu;		/* process-shared, robust */
	double		 rate;		/* tokens per second; <= 0: unlimited */
	double		 burst;		/* most tokens stored (>= 1) */
	double		 tokens;	/* stored now (as of `last`) */
	double		 last;		/* monotonic time of the last refill */
	double		 paused_until;	/* monotonic; no token before it */
};

static void
rl_lock(struct ratelimit *rl)
{
	if (pthread_mutex_lock(&rl->mu) == EOWNERDEAD)
		pthread_mutex_consistent(&rl->mu);
}

static void
rl_unlock(struct ratelimit *rl)
{
	pthread_mutex_unlock(&rl->mu);
}

struct ratelimit *
ratelimit_new(double rate, double burst)
{
	struct ratelimit	*rl;
	pthread_mutexattr_t	 attr;
	int			 e;

	rl = mmap(NULL, sizeof(*rl), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (rl == MAP_FAILED)
		return NULL;
	if ((e = pthread_mutexattr_init(&attr)) != 0)
		goto fail;
	if ((e = pthread_mutexattr_setpshared(&attr,
	    PTHREAD_PROCESS_SHARED)) != 0 ||
	    (e = pthread_mutexattr_setrobust(&attr,
	    PTHREAD_MUTEX_ROBUST)) != 0 ||
	    (e = pthread_mutex_init(&rl->mu, &attr)) != 0) {
		pthread_mutexattr_destroy(&attr);
		goto fail;
	}
	pthread_mutexattr_destroy(&attr);
	rl->rate = rate;
	rl->burst = burst < 1 ? 1 : burst;
	rl->tokens = rl->burst;		/* a fresh bucket starts full */
	rl->last = now_monotonic();
	rl->paused_until = 0;
	return rl;
fail:
	munmap(rl, sizeof(*rl));
	errno = e;
	return NULL;
}

int
ratelimit_try(struct ratelimit *rl, double *wait_s)
{
	double	 now, w = 0;
	int	 got = 0;

	if (rl == NULL)
		return 1;
	rl_lock(rl);
	now = now_monotonic();
	if (now < rl->paused_until) {
		w = rl->paused_until - now;
		goto out;
	}
	if (rl->rate <= 0) {
		got = 1;
		goto out;
	}
	if (now > rl->last) {
		rl->tokens += (now - rl->last) * rl->rate;
		if (rl->tokens > rl->burst)
			rl->tokens = rl->burst;
		rl->last = now;
	}
	if (rl->tokens >= 1) {
		rl->tokens -= 1;
		got = 1;
	} else
		w = (1 - rl->tokens) / rl->rate;
out:
	rl_unlock(rl);
	if (!got && wait_s != NULL)
		*wait_s = w;
	return got;
}

void
ratelimit_acquire(struct ratelimit *rl)
{
	double		 w;

	while (!ratelimit_try(rl, &w)) {
		/* never sleep long: a pause may be lifted or moved */
		if (w > 1)
			w = 1;
		if (w < 0.0005)
			w = 0.0005;
		sleep_unless(w, NULL, NULL);
	}
}

void
ratelimit_pause(struct ratelimit *rl, double seconds)
{
	double	 until;

	if (rl == NULL || seconds <= 0)
		return;
	rl_lock(rl);
	until = now_monotonic() + seconds;
	if (until > rl->paused_until) {
		rl->paused_until = until;
		rl->tokens = 0;
		rl->last = until;
	}
	rl_unlock(rl);
}

void
ratelimit_free(struct ratelimit *rl)
{
	/*
	 * Only this process's mapping goes; children that still share the
	 * page keep theirs.  The mutex needs no destroy on Linux.
	 */
	if (rl != NULL)
		munmap(rl, sizeof(*rl));
}
