/* opts.h: option helpers: checked numbers, environment mirrors, secret files, common flags. */
#ifndef PLEXPIPE_OPTS_H
#define PLEXPIPE_OPTS_H

#include <getopt.h>
#include <stdint.h>

/*
 * Options every program takes. Put COMMON_LONGOPTS at the end of the
 * program's struct option table and "vq" in its short option string; pass
 * every getopt_long result to opt_common() first: it returns 1 when it
 * consumed the option. --help and --version are left to the program
 * (it owns the synopsis) but use these ids.
 */
enum {
	OPT_LOG_FORMAT = 1000,
	OPT_HELP,
	OPT_VERSION,
	OPT_INSECURE,
	OPT_CACERT,
	OPT_COMMON_LAST	/* programs number their own long-only options from here */
};

#define COMMON_LONGOPTS \
	{ "verbose",	no_argument,		NULL, 'v' }, \
	{ "quiet",	no_argument,		NULL, 'q' }, \
	{ "log-format",	required_argument,	NULL, OPT_LOG_FORMAT }, \
	{ "insecure",	no_argument,		NULL, OPT_INSECURE }, \
	{ "cacert",	required_argument,	NULL, OPT_CACERT }, \
	{ "help",	no_argument,		NULL, OPT_HELP }, \
	{ "version",	no_argument,		NULL, OPT_VERSION }

struct common_opts {
	int		 insecure;	/* --insecure: TLS verification off */
	const char	*cacert;	/* --cacert FILE */
};

extern struct common_opts common_opts;

/*
 * Handles -v, -q, --log-format, --insecure, --cacert. Returns 1 when the
 * option was one of them, 0 otherwise. A bad --log-format value exits 2.
 * Also applies LOG_LEVEL (error|warning|info|debug) and LOG_FORMAT from the
 * environment when called with ch == 0 (call once before the getopt loop).
 */
int	 opt_common(int ch, const char *arg);

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
