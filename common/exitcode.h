/* exitcode.h: the exit-status table shared by every plexpipe program (DESIGN.md 6). */
#ifndef PLEXPIPE_EXITCODE_H
#define PLEXPIPE_EXITCODE_H

enum exit_status {
	EXIT_OK = 0,		/* everything done */
	EXIT_FATAL = 1,		/* service unreachable after retries, I/O error */
	EXIT_USAGE = 2,		/* bad flag, missing token, wrong collection shape */
	EXIT_BADINPUT = 3,	/* bad input with --strict */
	EXIT_PARTIAL = 4,	/* done, but records rejected or dead-lettered */
	EXIT_TRUNCATED = 5,	/* input ended without an end record */
	EXIT_SIGNAL_BASE = 128	/* killed by signal N: 128+N (141 = SIGPIPE) */
};

#endif
