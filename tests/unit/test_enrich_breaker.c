/* test_enrich_breaker.c: the per-service circuit breaker: failures in a row over two seconds, reset by an answer, shared by forked workers. */
#include <sys/wait.h>

#include <stdlib.h>
#include <unistd.h>

#include "../../enrich/enrich.h"
#include "tap.h"

static void
nap_ms(int ms)
{
	usleep((useconds_t)ms * 1000);
}

int
main(void)
{
	struct breaker *b;
	pid_t pid;
	int i, opened, status;

	/* five quick failures are not enough: the failures must last two seconds */
	b = breaker_new("tmdb", 5);
	ok(b != NULL, "breaker_new");
	is_str(breaker_name(b), "tmdb", "its name");
	opened = 0;
	for (i = 0; i < 10; i++)
		opened |= breaker_fail(b);
	ok(!opened && !breaker_is_down(b), "ten failures within a moment: still up");
	nap_ms(2100);
	ok(breaker_fail(b), "a failure two seconds into the run of failures opens it");
	ok(breaker_is_down(b), "down");
	ok(!breaker_fail(b), "only the first opening is reported");
	breaker_ok(b);
	ok(breaker_is_down(b), "an answer later does not close it: down for the run");
	breaker_free(b);

	/* an answer in between starts the count again */
	b = breaker_new("imdb", 5);
	for (i = 0; i < 4; i++)
		breaker_fail(b);
	nap_ms(2100);
	breaker_ok(b);
	opened = 0;
	for (i = 0; i < 4; i++)
		opened |= breaker_fail(b);
	ok(!opened && !breaker_is_down(b), "4 + answer + 4 failures: up");
	breaker_free(b);

	/* failures in another process count; its opening is seen here */
	b = breaker_new("imdb", 5);
	breaker_fail(b);
	breaker_fail(b);
	if ((pid = fork()) == 0) {
		nap_ms(2100);
		breaker_fail(b);
		breaker_fail(b);
		_exit(breaker_fail(b) ? 0 : 1);
	}
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "a worker's third failure opens a breaker the parent began counting");
	ok(breaker_is_down(b), "the parent sees it down");

	/* once-only flags, across processes */
	ok(breaker_once(b, BREAKER_ONCE_STALE), "first claim of a warning");
	if ((pid = fork()) == 0)
		_exit(breaker_once(b, BREAKER_ONCE_STALE) ? 1 : 0);
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "a worker does not get the same warning again");
	breaker_free(b);

	/* threshold 0: never opens; NULL is a breaker that is never down */
	b = breaker_new("x", 0);
	for (i = 0; i < 20; i++)
		breaker_fail(b);
	ok(!breaker_is_down(b), "threshold 0 never opens");
	breaker_free(b);
	ok(!breaker_is_down(NULL), "NULL is never down");
	return done_testing();
}
