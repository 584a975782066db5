/* breaker.c: a circuit breaker per service in shared memory, so every meta-enrich worker stops waiting on a dead API at once. */
/*
 * The state is a few ints in one anonymous MAP_SHARED page, made before
 * fork like the rate limiter's bucket: when one worker sees the service
 * fail, all of them know.  Failures are counted in a row across every
 * process (any answer resets the count); when the count reaches the
 * threshold and the failures have lasted BREAKER_MIN_SPAN seconds, the
 * breaker opens and stays open for the rest of the run: waiting on a dead
 * API, request after request, is what made such a run take minutes.
 * The span keeps a blip (a gateway restarting) and a burst of workers
 * failing together on a flaky API from writing the service off: a dead
 * one fails every attempt for as long as anyone tries, a flaky one
 * answers some attempt within any two seconds of a busy run.
 * Only atomic loads, adds and exchanges touch the page: no lock, so a
 * worker killed at any moment leaves it usable.
 */
#include <sys/mman.h>

#include <stdint.h>
#include <string.h>

#include "enrich.h"
#include "timeutil.h"

#define BREAKER_MIN_SPAN	2.0	/* s the failures in a row must last */

struct breaker {
	int	 fails;		/* failed attempts in a row, every process */
	int	 down;		/* 1: open for the rest of the run */
	int	 once;		/* BREAKER_ONCE_* bits already claimed */
	int	 threshold;	/* <= 0: never opens */
	int64_t	 since_us;	/* monotonic time of the first failure in a row */
	char	 name[16];
};

struct breaker *
breaker_new(const char *name, int threshold)
{
	struct breaker	*b;

	b = mmap(NULL, sizeof(*b), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (b == MAP_FAILED)
		return NULL;
	memset(b, 0, sizeof(*b));
	b->threshold = threshold;
	strlcpy(b->name, name, sizeof(b->name));
	return b;
}

void
breaker_free(struct breaker *b)
{
	/* this process's mapping only; forked workers keep theirs */
	if (b != NULL)
		munmap(b, sizeof(*b));
}

int
breaker_is_down(const struct breaker *b)
{
	return b != NULL && __atomic_load_n(&b->down, __ATOMIC_ACQUIRE);
}

int
breaker_fail(struct breaker *b)
{
	int64_t	 now;
	int	 n;

	if (b == NULL || b->threshold <= 0)
		return 0;
	now = (int64_t)(now_monotonic() * 1e6);
	n = __atomic_add_fetch(&b->fails, 1, __ATOMIC_ACQ_REL);
	if (n == 1)
		__atomic_store_n(&b->since_us, now, __ATOMIC_RELEASE);
	if (n < b->threshold || now - __atomic_load_n(&b->since_us,
	    __ATOMIC_ACQUIRE) < (int64_t)(BREAKER_MIN_SPAN * 1e6))
		return 0;
	/* exactly one process turns it from closed to open */
	return __atomic_exchange_n(&b->down, 1, __ATOMIC_ACQ_REL) == 0;
}

int
breaker_trip(struct breaker *b)
{
	if (b == NULL)
		return 0;
	return __atomic_exchange_n(&b->down, 1, __ATOMIC_ACQ_REL) == 0;
}

void
breaker_ok(struct breaker *b)
{
	if (b != NULL)
		__atomic_store_n(&b->fails, 0, __ATOMIC_RELEASE);
}

int
breaker_once(struct breaker *b, int bit)
{
	if (b == NULL)
		return 1;
	return (__atomic_fetch_or(&b->once, bit, __ATOMIC_ACQ_REL) & bit) == 0;
}

const char *
breaker_name(const struct breaker *b)
{
	return b->name;
}
