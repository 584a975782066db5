/* opts.h: option helpers: checked numbers, environment mirrors, secret files, common flags. */
#ifndef PLEXPIPE_OPTS_H
#define PLEXPIPE_OPTS_H

#include <getopt.h>
#include <stdint.h>

/*
 * Options every program takes. Put COMMON_LONGOPTS at the end of the
 * program's struct option table and read options with opt_next(): it
 * handles the common ones (-v, -q, --log-level, --log-format, --insecure,
 * --cacert), turns -h into OPT_HELP and stops a bad flag the same way in
 * every program. --help and --version are left to the program (it owns
 * the synopsis) but use these ids.
 */
enum {
	OPT_LOG_FORMAT = 1000,
	OPT_LOG_LEVEL,
	OPT_HELP,
	OPT_VERSION,
	OPT_INSECURE,
	OPT_CACERT,
	OPT_COMMON_LAST	/* programs number their own long-only options from here */
};

#define COMMON_LONGOPTS \
	{ "verbose",	no_argument,		NULL, 'v' }, \
	{ "quiet",	no_argument,		NULL, 'q' }, \
	{ "log-level",	required_argument,	NULL, OPT_LOG_LEVEL }, \
	{ "log-format",	required_argument,	NULL, OPT_LOG_FORMAT }, \
	{ "insecure",	no_argument,		NULL, OPT_INSECURE }, \
	{ "cacert",	required_argument,	NULL, OPT_CACERT }, \
	{ "help",	no_argument,		NULL, OPT_HELP }, \
	{ "version",	no_argument,		NULL, OPT_VERSION }

/*
 * The common options a program hands on to its stage code (HTTP clients);
 * optable_parse() fills the program's copy, there is no global one.
 */
struct common_opts {
	int		 insecure;	/* --insecure: TLS verification off */
	const char	*cacert;	/* --cacert FILE */
};

/*
 * Handles -v, -q, --log-level, --log-format, --insecure, --cacert; the
 * last two are recorded in *co (when co is NULL, --cacert is still
 * checked but neither is kept). Returns 1 when the option was one of
 * them, 0 otherwise. A bad --log-level or
 * --log-format value exits 2. Also applies LOG_LEVEL and LOG_FORMAT from
 * the environment when called with ch == 0 (call once before the options).
 * Levels are mcp-plex's words, in any case: critical and error (errors
 * only; plexpipe has nothing more severe), warning, info, debug, notset
 * (= debug); -q is warning, -v info, -vv debug, the default between
 * warning and info (log.h).
 */
int	 opt_common(int ch, const char *arg, struct common_opts *co);

/*
 * getopt_long for every program: shortopts is the program's own ("j:");
 * -h, -v and -q are added. Returns the next option the program must
 * handle (common ones are applied through opt_common(); -h comes back as
 * OPT_HELP), or -1 at the end; co is opt_common()'s. A bad flag or a missing value prints
 *	PROG: unknown option '--x'
 *	Try 'PROG --help'.
 * and exits 2.
 */
int	 opt_next(int argc, char *const *argv, const char *shortopts,
	    const struct option *longopts, struct common_opts *co);

/* "PROG: message" and "Try 'PROG --help'." on stderr, exit 2. */
void	 opt_usage_error(const char *, ...)
	    __attribute__((__format__(__printf__, 1, 2), __noreturn__));

/* Parses a level word; 0, or -1 when it is not one. */
int	 opt_parse_level(const char *, int *level);

/* The help lines for the common options, to append to a usage text. */
extern const char opt_common_help[];

/*
 * strtonum with a message: "prog: --batch-size: 0 is too small (1..4096)"
 * and exit 2 on failure.
 */
long long opt_number(const char *arg, long long min, long long max,
	    const char *name);
/* A non-negative decimal like "1.5" (seconds, fractions); exit 2 on failure. */
double	 opt_double(const char *arg, double min, double max, const char *name);
/*
 * A duration: "90", "90s", "15m", "12h", "7d" -> seconds; exit 2 on failure.
 */
long long opt_duration(const char *arg, const char *name);
/* "1", "true", "yes", "on" -> 1; "0", "false", "no", "off", "" -> 0; else exit 2. */
int	 opt_bool(const char *arg, const char *name);

/*
 * The index of arg in the NULL-terminated words (icase: in any case);
 * else "prog: --dense: 'x' is not endpoint, server or none" and exit 2.
 */
int	 opt_word(const char *arg, const char *const *words, int icase,
	    const char *name);

/* getenv() that treats an empty value as unset. */
const char *opt_env(const char *name);

/*
 * Reads a secret from a file (first line, trailing CR/LF and blanks
 * stripped); exits 2 naming the file (never the content) on failure.
 * The result is registered with redact_add() and owned by the caller.
 */
char	*opt_secret_file(const char *path, const char *name);
/* Registers a secret given on the command line or in the environment. */
const char *opt_secret(const char *value);

#endif
