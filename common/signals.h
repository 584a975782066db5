/* signals.h: SIGINT/SIGTERM turned into a flag, so stages finish in-flight work and exit 128+N. */
#ifndef PLEXPIPE_SIGNALS_H
#define PLEXPIPE_SIGNALS_H

#include <signal.h>

/* The number of the first SIGINT/SIGTERM/SIGHUP received, 0 before. */
extern volatile sig_atomic_t signal_received;

/*
 * Installs handlers (no SA_RESTART, so blocking reads return EINTR) that
 * set signal_received. Waiting code (http.c, enrich's retries) reads the
 * flag; this module knows none of it.
 */
void	 signals_install(void);
/*
 * Dies of signal sig whatever its disposition or mask was, so the exit
 * status is 128+sig (as a last resort, _exit(128+sig)).
 */
void	 die_of_signal(int sig) __attribute__((__noreturn__));
/*
 * After cleanup: re-raise the received signal with the default action so
 * the exit status is 128+N. Returns only when no signal was received.
 */
void	 signals_reraise(void);

#endif
