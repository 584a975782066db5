/* signals.c: SIGINT/SIGTERM turned into a flag, so stages finish in-flight work and exit 128+N. */
/*
 * No SA_RESTART: a stage blocked in read(2) on its input must wake up
 * with EINTR and look at the flag.  A later signal means "now" and kills
 * at once, but only when it comes INSIST_AFTER seconds after the first:
 * a Ctrl-C reaches the whole process group and the supervisor may
 * forward it too, and that duplicate must not cut the graceful stop.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "signals.h"

volatile sig_atomic_t signal_received;

#define INSIST_AFTER	2	/* s: a later signal kills instead of asking */

static const int handled[] = { SIGINT, SIGTERM, SIGHUP };
static volatile sig_atomic_t first_at;	/* CLOCK_MONOTONIC s of the first signal */

static void
on_signal(int sig)
{
	struct timespec	 ts;
	int		 saved = errno;

	/* clock_gettime is async-signal-safe (POSIX.1-2008). */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (signal_received == 0) {
		signal_received = sig;
		first_at = (sig_atomic_t)ts.tv_sec;
	} else if (ts.tv_sec - first_at >= INSIST_AFTER) {
		signal(sig, SIG_DFL);
		raise(sig);
	}
	errno = saved;
}

void
signals_install(void)
{
	struct sigaction	 sa;
	size_t			 i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;
	for (i = 0; i < sizeof(handled) / sizeof(handled[0]); i++)
		sigaction(handled[i], &sa, NULL);
}

void
die_of_signal(int sig)
{
	sigset_t	 set;

	signal(sig, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
	/* Not reached unless the signal cannot be delivered. */
	_exit(128 + sig);
}

void
signals_reraise(void)
{
	if (signal_received != 0)
		die_of_signal(signal_received);
}
