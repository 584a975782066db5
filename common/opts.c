/* opts.c: option helpers: checked numbers, environment mirrors, secret files, common flags. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "opts.h"
#include "redact.h"
#include "timeutil.h"
#include "xalloc.h"

#define SECRET_MAX	4096	/* bytes of a secret file's first line we accept */

static int	 nverbose;	/* -v given so often */

const char opt_common_help[] =
"  -v, --verbose          info lines too; -vv also debug lines\n"
"  -q, --quiet            warnings and errors only\n"
"      --log-level LEVEL  critical, error, warning, info, debug or notset\n"
"                         (env LOG_LEVEL); default: warnings, errors, progress\n"
"                         and the summary\n"
"      --log-format FMT   text (default) or json, one JSON object per line\n"
"                         (env LOG_FORMAT)\n"
"      --insecure         do not verify TLS certificates (never the default)\n"
"      --cacert FILE      trust the CA certificates in FILE\n"
"  -h, --help             print this help and exit\n"
"      --version          print the version and exit\n";

/*
 * A usage error: "prog: message" on stderr, then exit 2, plain text
 * whatever --log-format says (it may be the option in error, and a person
 * reads these). The message never holds a secret's value, but it still
 * goes through the redactor like every line.
 */
static void usage_fail(const char *, ...)
    __attribute__((__format__(__printf__, 1, 2), __noreturn__));
static void usage_exit(int, const char *, va_list)
    __attribute__((__format__(__printf__, 2, 0), __noreturn__));

/*
 * "PROG: message", redacted, and exit 2. log_error would add "error: ";
 * usage messages keep git's plain form. A bad value (try_help 0) is shown
 * as error lines are; a bad command line always, with how to get help.
 */
static void
usage_exit(int try_help, const char *fmt, va_list ap)
{
	char	 msg[512], *r;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	r = redact(msg);
	if (try_help)
		fprintf(stderr, "%s: %s\nTry '%s --help'.\n", log_prog(), r,
		    log_prog());
	else if (log_get_level() >= LOG_ERROR)
		fprintf(stderr, "%s: %s\n", log_prog(), r);
	free(r);
	exit(2);
}

static void
usage_fail(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	usage_exit(0, fmt, ap);
	va_end(ap);
}

void
opt_usage_error(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	usage_exit(1, fmt, ap);
	va_end(ap);
}

int
opt_parse_level(const char *s, int *level)
{
	static const struct { const char *word; enum log_level l; } w[] = {
		{ "critical", LOG_ERROR },	/* nothing is more severe here */
		{ "error", LOG_ERROR },
		{ "warning", LOG_WARN },
		{ "warn", LOG_WARN },
		{ "notice", LOG_NOTICE },	/* the default, by name */
		{ "info", LOG_INFO },
		{ "debug", LOG_DEBUG },
		{ "notset", LOG_DEBUG },	/* Python's: everything */
	};
	size_t	 i;

	for (i = 0; i < sizeof(w) / sizeof(w[0]); i++)
		if (strcasecmp(s, w[i].word) == 0) {
			*level = (int)w[i].l;
			return 0;
		}
	return -1;
}

static int
parse_level(const char *s, enum log_level *l)
{
	int	 v;

	if (opt_parse_level(s, &v) != 0)
		return -1;
	*l = (enum log_level)v;
	return 0;
}

#define LEVEL_WORDS	"critical, error, warning, info, debug or notset"

static int
parse_format(const char *s, enum log_format *f)
{
	if (strcmp(s, "text") == 0)
		*f = LOG_TEXT;
	else if (strcmp(s, "json") == 0)
		*f = LOG_JSON;
	else
		return -1;
	return 0;
}

int
opt_common(int ch, const char *arg, struct common_opts *co)
{
	enum log_level	 l;
	enum log_format	 f;
	const char	*e;

	switch (ch) {
	case 0:
		if ((e = opt_env("LOG_FORMAT")) != NULL) {
			if (parse_format(e, &f) != 0)
				usage_fail("LOG_FORMAT: '%s' is not text or json",
				    e);
			log_set_format(f);
		}
		if ((e = opt_env("LOG_LEVEL")) != NULL) {
			if (parse_level(e, &l) != 0)
				usage_fail("LOG_LEVEL: '%s' is not " LEVEL_WORDS,
				    e);
			log_set_level(l);
		}
		return 0;
	case 'v':
		/* -v is info, -vv debug, whatever LOG_LEVEL said */
		log_set_level(++nverbose == 1 ? LOG_INFO : LOG_DEBUG);
		return 1;
	case 'q':
		log_set_level(LOG_WARN);
		return 1;
	case OPT_LOG_LEVEL:
		if (arg == NULL || parse_level(arg, &l) != 0)
			usage_fail("--log-level: '%s' is not " LEVEL_WORDS,
			    arg != NULL ? arg : "");
		log_set_level(l);
		return 1;
	case OPT_LOG_FORMAT:
		if (arg == NULL || parse_format(arg, &f) != 0)
			usage_fail("--log-format: '%s' is not text or json",
			    arg != NULL ? arg : "");
		log_set_format(f);
		return 1;
	case OPT_INSECURE:
		/* never silent: it exposes every request, keys included */
		if (co != NULL)
			co->insecure = 1;	/* opt_next() warns at the end */
		return 1;
	case OPT_CACERT:
		/* a typo here would only show as TLS failures, request by request */
		if (arg == NULL || access(arg, R_OK) != 0)
			usage_fail("--cacert: cannot read \"%s\": %s",
			    arg != NULL ? arg : "", strerror(errno));
		if (co != NULL)
			co->cacert = arg;
		return 1;
	default:
		return 0;
	}
}

static int warned_insecure;

int
opt_next(int argc, char *const *argv, const char *shortopts,
    const struct option *longopts, struct common_opts *co)
{
	char		 so[64];
	const char	*a;
	int		 ch;

	/* ':' first: a missing value comes back as ':', not a message */
	snprintf(so, sizeof(so), ":hvq%s", shortopts != NULL ? shortopts : "");
	opterr = 0;
	for (;;) {
		ch = getopt_long(argc, argv, so, longopts, NULL);
		if (ch == -1) {
			/* never silent (it exposes every request, keys included);
			   here, so that a later --log-format applies to it */
			if (co != NULL && co->insecure && !warned_insecure++)
				log_warn("--insecure: TLS certificates are not "
				    "verified (--cacert FILE trusts a private CA "
				    "instead)");
			return -1;
		}
		if (ch == 'h')
			return OPT_HELP;
		if (ch == '?' || ch == ':') {
			/* the word getopt stopped at, as typed ("--x=1" -> "--x") */
			a = optind > 0 && optind <= argc ? argv[optind - 1] : "";
			if (ch == '?' && optopt != 0 && strncmp(a, "--", 2) == 0 &&
			    strchr(a, '=') != NULL)
				opt_usage_error("option '%.*s' takes no value",
				    (int)strcspn(a, "="), a);
			if (optopt != 0 && (a[0] != '-' || a[1] != '-'))
				opt_usage_error("%s option '-%c'", ch == ':' ?
				    "missing value for" : "unknown", optopt);
			opt_usage_error("%s option '%.*s'", ch == ':' ?
			    "missing value for" : "unknown",
			    (int)strcspn(a, "="), a);
		}
		if (!opt_common(ch, optarg, co))
			return ch;
	}
}

long long
opt_number(const char *arg, long long min, long long max, const char *name)
{
	const char	*errstr;
	long long	 n;

	if (arg == NULL)
		arg = "";
	n = strtonum(arg, min, max, &errstr);
	if (errstr != NULL) {
		if (strcmp(errstr, "invalid") == 0)
			usage_fail("%s: '%s' is not a number (%lld..%lld)",
			    name, arg, min, max);
		usage_fail("%s: %s is %s (%lld..%lld)", name, arg, errstr,
		    min, max);
	}
	return n;
}

double
opt_double(const char *arg, double min, double max, const char *name)
{
	char	*end;
	double	 d;

	if (arg == NULL)
		arg = "";
	errno = 0;
	/* Plain decimals only: strtod would also take "inf", "nan" and hex. */
	if (strspn(arg, "0123456789.+-eE") != strlen(arg) || *arg == '\0')
		usage_fail("%s: '%s' is not a number", name, arg);
	d = strtod(arg, &end);
	if (*end != '\0' || end == arg || errno == ERANGE || !isfinite(d))
		usage_fail("%s: '%s' is not a number", name, arg);
	if (d < min)
		usage_fail("%s: %s is too small (%g..%g)", name, arg, min, max);
	if (d > max)
		usage_fail("%s: %s is too large (%g..%g)", name, arg, min, max);
	return d;
}

long long
opt_duration(const char *arg, const char *name)
{
	int64_t	 secs;

	if (parse_duration(arg, 1, &secs) == -1)
		usage_fail("%s: '%s' is not a duration (like 90, 90s, 15m, 12h, 7d)",
		    name, arg != NULL ? arg : "");
	return secs;
}

int
opt_bool(const char *arg, const char *name)
{
	static const char *const yes[] = { "1", "true", "yes", "on" };
	static const char *const no[] = { "0", "false", "no", "off", "" };
	size_t	 i;

	if (arg == NULL)
		return 0;
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		if (strcasecmp(arg, yes[i]) == 0)
			return 1;
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (strcasecmp(arg, no[i]) == 0)
			return 0;
	usage_fail("%s: '%s' is not a boolean (1/0, true/false, yes/no, on/off)",
	    name, arg);
}

int
opt_word(const char *arg, const char *const *words, int icase,
    const char *name)
{
	char	 list[256];
	size_t	 i, n, len = 0;

	if (arg == NULL)
		arg = "";
	for (n = 0; words[n] != NULL; n++)
		if ((icase ? strcasecmp(arg, words[n]) : strcmp(arg, words[n])) == 0)
			return (int)n;
	list[0] = '\0';
	for (i = 0; i < n && len < sizeof(list); i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s",
		    i == 0 ? "" : i + 1 == n ? " or " : ", ", words[i]);
	usage_fail("%s: '%s' is not %s", name, arg, list);
}

const char *
opt_env(const char *name)
{
	const char	*v;

	if ((v = getenv(name)) == NULL || *v == '\0')
		return NULL;
	return v;
}

char *
opt_secret_file(const char *path, const char *name)
{
	FILE	*fp;
	char	*line = NULL;
	size_t	 cap = 0, len;
	ssize_t	 n;

	if (path == NULL || *path == '\0')
		usage_fail("%s: no file name given", name);
	if ((fp = fopen(path, "r")) == NULL)
		usage_fail("%s: %s: %s", name, path, strerror(errno));
	n = getline(&line, &cap, fp);
	if (n == -1 && ferror(fp)) {
		free(line);
		fclose(fp);
		usage_fail("%s: %s: %s", name, path, strerror(errno));
	}
	fclose(fp);
	len = n > 0 ? (size_t)n : 0;
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r' ||
	    line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	if (len == 0) {
		free(line);
		usage_fail("%s: %s: the file is empty", name, path);
	}
	if (len > SECRET_MAX) {
		free(line);
		usage_fail("%s: %s: the first line is longer than %d bytes",
		    name, path, SECRET_MAX);
	}
	line[len] = '\0';
	redact_add(line);
	return line;
}

const char *
opt_secret(const char *value)
{
	redact_add(value);
	return value;
}
