/* optable.h: one option table per program drives getopt_long, the environment mirrors, --help and --list-options. */
#ifndef PLEXPIPE_OPTABLE_H
#define PLEXPIPE_OPTABLE_H

#include <stddef.h>
#include <stdio.h>

/*
 * Each option is written once, as a row: its long and short name, the
 * environment variable that mirrors it, how its value is parsed and
 * bounded, where it is stored (an offset into the program's options
 * struct) and its help lines. optable_parse() sets the defaults, then
 * the environment, then the command line, so a flag beats its variable.
 * Every bad value stops with one message form (opts.h): "PROG: NAME:
 * '12x' is not a number (1..64)", NAME being "--flag" or the variable,
 * and exit 2. The options every program takes (-v, -q, --log-level, ...)
 * stay in opts.c and come after the table's.
 */
enum optable_type {
	OT_TEXT,	/* no option: help lines only (a group heading) */
	OT_FLAG,	/* no value: stores (int)lo; the variable is a boolean */
	OT_STRING,	/* const char * */
	OT_SECRET,	/* const char *, registered with the redactor */
	OT_SECRET_FILE,	/* const char *: the file's first line, a secret */
	OT_INT,		/* int within lo..hi */
	OT_LONG,	/* long within lo..hi */
	OT_LLONG,	/* long long within lo..hi */
	OT_SIZE,	/* size_t within lo..hi */
	OT_DOUBLE,	/* double within lo..hi */
	OT_DURATION,	/* long long seconds from "90", "15m", "7d" */
	OT_ENUM,	/* int: (int)lo + the index of the word in words */
	OT_WORD,	/* const char *: the word of words, any case */
	OT_CALLBACK	/* cb() does it all */
};

#define OTF_NOARG	0x01	/* OT_CALLBACK: the flag takes no value */
#define OTF_HIDDEN	0x02	/* not listed by --list-options */
#define OTF_STATE	0x04	/* def is a file name in the state directory */
#define OTF_ENV_EMPTY	0x08	/* an empty variable is a value, not unset */
#define OTF_OPTARG	0x10	/* OT_CALLBACK: --flag or --flag=VALUE */

struct common_opts;
struct optable;

/*
 * name is "--flag" for the command line, the variable's name for the
 * environment (so name[0] != '-' tells them apart); arg is NULL for an
 * OTF_NOARG flag.
 */
typedef void	(*optable_cb)(const struct optable *, void *base, const char *arg,
		    const char *name);

struct optdef {
	const char		*name;	/* long name; NULL: environment only */
	int			 sname;	/* short letter, or 0 */
	const char		*env;	/* mirroring variable, or NULL */
	enum optable_type	 type;
	size_t			 off;	/* offsetof(the options struct, field) */
	double			 lo, hi;	/* bounds; OT_FLAG: the value */
	const char		*def;	/* the default, parsed like a value */
	int			 flags;	/* OTF_* */
	const char *const	*words;	/* OT_ENUM, OT_WORD: NULL-terminated */
	optable_cb		 cb;	/* OT_CALLBACK */
	const char		*help;	/* whole lines as --help prints them */
};

struct optable {
	const struct optdef	*defs;
	size_t			 ndefs;
	const char		*intro;	/* --help: the usage lines, what it does */
	const char		*outro;	/* --help: after the options (exit status) */
};

#define OPTABLE(defs, intro, outro) \
	{ (defs), sizeof(defs) / sizeof((defs)[0]), (intro), (outro) }

/*
 * Parses defaults, environment and argv into base, and the options every
 * program takes (--insecure, --cacert) into *co (cleared first; may be
 * NULL); --help, --version and --list-options print and exit 0. Returns
 * the index of the first operand.
 */
int	 optable_parse(const struct optable *, void *base,
	    struct common_opts *co, int argc, char **argv);

/*
 * --help (and -h): the intro, the help lines of every row in table order,
 * the options every program takes, what STATE means when a row's default
 * is a file there (OTF_STATE), then the outro. intro and outro may be NULL.
 */
void	 optable_usage(FILE *, const struct optable *);

/* The --list-options callback: "name" or "name=" per line, then exit 0. */
void	 optable_list(const struct optable *, void *, const char *,
	    const char *);

/* Frees the secrets read from files (their values, once unused). */
void	 optable_free(void);

#endif
