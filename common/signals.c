/* signals.c: SIGINT/SIGTERM turned into a flag, so stages finish in-flight work and exit 128+N. */
/*
 * No SA_RESTART: a stage blocked in read(2) on its input must wake up
 * with EINTR and look at the flag.  A second signal of the same kind
 * while the first is being handled means "now": it kills at once.
 */
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "http.h"
#include "signals.h"

volatile sig_atomic_t signal_received;

static const int handled[] = { SIGINT, SIGTERM, SIGHUP };

static void
on_signal(int sig)
{
	if (signal_received == 0) {
		signal_received = sig;
		return;
	}
	signal(sig, SIG_DFL);
	raise(sig);
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
	http_set_cancel_flag(&signal_received);
}

void
signals_reraise(void)
{
	sigset_t	 set;
	int		 sig = signal_received;

	if (sig == 0)
		return;
	signal(sig, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
	_exit(128 + sig);
}
