/* optable.c: the option engine: defaults, environment mirrors, getopt_long, --help and --list-options from one table. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exitcode.h"
#include "log.h"
#include "optable.h"
#include "opts.h"
#include "statedir.h"
#include "version.h"
#include "xalloc.h"

#define DEST(d, base, T)	((T *)(void *)((char *)(base) + (d)->off))

static const struct option common_longopts[] = { COMMON_LONGOPTS };
#define NCOMMON	(sizeof(common_longopts) / sizeof(common_longopts[0]))

static char	**owned;	/* secrets read from files */
static size_t	  nowned;

static int
takes_value(const struct optdef *d)
{
	if (d->type == OT_FLAG)
		return 0;
	return d->type != OT_CALLBACK || !(d->flags & OTF_NOARG);
}

/* One value for row d; name says where it came from, for the message. */
static void
apply(const struct optable *t, const struct optdef *d, void *base,
    const char *arg, const char *name)
{
	char	*v;
	int	 i;

	switch (d->type) {
	case OT_TEXT:
		break;
	case OT_FLAG:
		*DEST(d, base, int) = (int)d->lo;
		break;
	case OT_STRING:
		*DEST(d, base, const char *) = arg;
		break;
	case OT_SECRET:
		*DEST(d, base, const char *) = opt_secret(arg);
		break;
	case OT_SECRET_FILE:
		v = opt_secret_file(arg, name);
		owned = xreallocarray(owned, nowned + 1, sizeof(*owned));
		owned[nowned++] = v;
		*DEST(d, base, const char *) = v;
		break;
	case OT_INT:
		*DEST(d, base, int) = (int)opt_number(arg, (long long)d->lo,
		    (long long)d->hi, name);
		break;
	case OT_LONG:
		*DEST(d, base, long) = (long)opt_number(arg, (long long)d->lo,
		    (long long)d->hi, name);
		break;
	case OT_LLONG:
		*DEST(d, base, long long) = opt_number(arg, (long long)d->lo,
		    (long long)d->hi, name);
		break;
	case OT_SIZE:
		*DEST(d, base, size_t) = (size_t)opt_number(arg,
		    (long long)d->lo, (long long)d->hi, name);
		break;
	case OT_DOUBLE:
		*DEST(d, base, double) = opt_double(arg, d->lo, d->hi, name);
		break;
	case OT_DURATION:
		*DEST(d, base, long long) = opt_duration(arg, name);
		break;
	case OT_ENUM:
		*DEST(d, base, int) = (int)d->lo + opt_word(arg, d->words, 0,
		    name);
		break;
	case OT_WORD:
		i = opt_word(arg, d->words, 1, name);
		*DEST(d, base, const char *) = d->words[i];
		break;
	case OT_CALLBACK:
		d->cb(t, base, arg, name);
		break;
	}
}

static void
defaults(const struct optable *t, void *base)
{
	const struct optdef	*d;

	for (d = t->defs; d < t->defs + t->ndefs; d++) {
		if (d->def == NULL)
			continue;
		if (d->type == OT_FLAG)
			*DEST(d, base, int) = opt_bool(d->def, "default");
		else if (d->flags & OTF_STATE)
			*DEST(d, base, const char *) = statedir_file(d->def);
		else
			apply(t, d, base, d->def, "default");
	}
}

/* The mirrors, in table order: a later row for the same field wins. */
static void
environment(const struct optable *t, void *base)
{
	const struct optdef	*d;
	const char		*v;
	int			 b;

	for (d = t->defs; d < t->defs + t->ndefs; d++) {
		if (d->env == NULL)
			continue;
		v = d->flags & OTF_ENV_EMPTY ? getenv(d->env) : opt_env(d->env);
		if (v == NULL)
			continue;
		if (takes_value(d)) {
			apply(t, d, base, v, d->env);
			continue;
		}
		/* a flag's variable is a boolean: false undoes the flag */
		b = opt_bool(v, d->env);
		if (d->type == OT_FLAG)
			*DEST(d, base, int) = b ? (int)d->lo : !(int)d->lo;
		else if (b)
			d->cb(t, base, NULL, d->env);
	}
}

/* getopt_long's tables, made from the rows with a long name. */
static struct option *
longopts(const struct optable *t, char *shortopts, size_t len)
{
	struct option	*lo;
	size_t		 i, n = 0, s = 0;

	lo = xcalloc(t->ndefs + NCOMMON + 1, sizeof(*lo));
	for (i = 0; i < t->ndefs; i++) {
		if (t->defs[i].name == NULL)
			continue;
		lo[n].name = t->defs[i].name;
		lo[n].has_arg = t->defs[i].flags & OTF_OPTARG ? optional_argument :
		    takes_value(&t->defs[i]) ? required_argument : no_argument;
		lo[n++].val = OPT_COMMON_LAST + (int)i;
		if (t->defs[i].sname != 0 && s + 3 < len) {
			shortopts[s++] = (char)t->defs[i].sname;
			if (takes_value(&t->defs[i]))
				shortopts[s++] = ':';
		}
	}
	shortopts[s] = '\0';
	memcpy(lo + n, common_longopts, sizeof(common_longopts));
	return lo;
}

static const struct optdef *
row_of(const struct optable *t, int ch)
{
	size_t	 i;

	if (ch >= OPT_COMMON_LAST && (size_t)(ch - OPT_COMMON_LAST) < t->ndefs)
		return &t->defs[ch - OPT_COMMON_LAST];
	for (i = 0; i < t->ndefs; i++)
		if (t->defs[i].sname == ch)
			return &t->defs[i];
	return NULL;
}

int
optable_parse(const struct optable *t, void *base, struct common_opts *co,
    int argc, char **argv)
{
	const struct optdef	*d;
	struct option		*lo;
	char			 shortopts[64], name[128];
	int			 ch;

	if (co != NULL)
		memset(co, 0, sizeof(*co));
	opt_common(0, NULL, co);	/* LOG_LEVEL, LOG_FORMAT */
	defaults(t, base);
	environment(t, base);
	lo = longopts(t, shortopts, sizeof(shortopts));
	while ((ch = opt_next(argc, argv, shortopts, lo, co)) != -1) {
		if (ch == OPT_HELP) {
			optable_usage(stdout, t);
			exit(EXIT_OK);
		}
		if (ch == OPT_VERSION) {
			printf("%s plexpipe %s\n", log_prog(), PLEXPIPE_VERSION);
			exit(EXIT_OK);
		}
		if ((d = row_of(t, ch)) == NULL)
			opt_usage_error("unhandled option %d", ch);
		snprintf(name, sizeof(name), "--%s", d->name);
		apply(t, d, base, optarg, name);
	}
	free(lo);
	return optind;
}

void
optable_usage(FILE *fp, const struct optable *t)
{
	size_t	 i;
	int	 state = 0;

	if (t->intro != NULL)
		fputs(t->intro, fp);
	for (i = 0; i < t->ndefs; i++) {
		if (t->defs[i].help != NULL)
			fputs(t->defs[i].help, fp);
		if (t->defs[i].flags & OTF_STATE)
			state = 1;
	}
	fputs("\nCommon options:\n", fp);
	fputs(opt_common_help, fp);
	/* the rows say "default STATE/FILE"; say once what STATE is */
	if (state)
		fputs("\nSTATE is ${XDG_STATE_HOME:-~/.local/state}/plexpipe "
		    "(made mode 0700 when\nfirst needed; its files are mode "
		    "0600).\n", fp);
	if (t->outro != NULL)
		fputs(t->outro, fp);
}

void
optable_list(const struct optable *t, void *base, const char *arg,
    const char *name)
{
	size_t	 i;

	(void)base;
	(void)arg;
	(void)name;
	for (i = 0; i < t->ndefs; i++)
		if (t->defs[i].name != NULL && !(t->defs[i].flags & OTF_HIDDEN))
			printf("%s%s\n", t->defs[i].name,
			    takes_value(&t->defs[i]) ||
			    (t->defs[i].flags & OTF_OPTARG) ? "=" : "");
	for (i = 0; i < NCOMMON; i++)
		printf("%s%s\n", common_longopts[i].name,
		    common_longopts[i].has_arg ? "=" : "");
	exit(EXIT_OK);
}

void
optable_free(void)
{
	while (nowned > 0)
		free(owned[--nowned]);
	free(owned);
	owned = NULL;
}
