/* test_signals.c: SIGTERM becomes a flag, interrupts a blocking read, and re-raises for 128+N. */
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include "signals.h"
#include "tap.h"

int
main(void)
{
	pid_t	 pid;
	int	 st, fds[2];
	char	 c;
	ssize_t	 n;

	signals_install();
	is_int(signal_received, 0, "no signal yet");
	signals_reraise();
	ok(1, "reraise returns when nothing was received");

	/* A blocking read returns EINTR: the handler is not SA_RESTART. */
	fflush(stdout);
	if (pipe(fds) == -1 || (pid = fork()) == -1)
		return 1;
	if (pid == 0) {
		alarm(10);
		close(fds[1]);
		n = read(fds[0], &c, 1);
		if (n == -1 && errno == EINTR && signal_received == SIGTERM)
			signals_reraise();
		_exit(3);
	}
	close(fds[0]);
	usleep(200 * 1000);
	kill(pid, SIGTERM);
	waitpid(pid, &st, 0);
	close(fds[1]);
	ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM,
	    "SIGTERM interrupts read, sets the flag, and re-raises (status %#x)", st);

	raise(SIGINT);
	is_int(signal_received, SIGINT, "SIGINT sets the flag, process lives");
	raise(SIGHUP);
	is_int(signal_received, SIGINT, "a quick second signal is absorbed, the first kept");

	/* Insisting later (2 s on) kills at once with the default action. */
	fflush(stdout);
	if ((pid = fork()) == 0) {
		alarm(10);
		sleep(3);
		raise(SIGTERM);
		_exit(3);
	}
	waitpid(pid, &st, 0);
	ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM,
	    "a second signal 3 s after the first kills (status %#x)", st);
	return done_testing();
}
