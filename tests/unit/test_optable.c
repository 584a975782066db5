/* test_optable.c: the option engine: defaults, then the environment, then flags; bounds and words exit 2 with one message form. */
#include <sys/wait.h>

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "optable.h"
#include "opts.h"
#include "tap.h"

struct o {
	int		 n;
	int		 flag;
	int		 mode;
	const char	*word;
	const char	*s;
	double		 d;
	int		 ncb;
};

static const char *const modes[] = { "a", "b", NULL };
static const char *const words[] = { "Cosine", "Dot", NULL };

static void
count(const struct optable *t, void *base, const char *arg, const char *name)
{
	(void)t;
	(void)arg;
	(void)name;
	((struct o *)base)->ncb++;
}

#define F(f)	offsetof(struct o, f)
static const struct optdef defs[] = {
	{ NULL, 0, "T_OLD_N", OT_INT, F(n), 1, 64, NULL, .help = NULL },
	{ "num", 'n', "T_N", OT_INT, F(n), 1, 64, "8", .help = "  --num N\n" },
	{ "flag", 0, "T_FLAG", OT_FLAG, F(flag), 1, 0, NULL, .help = NULL },
	{ "no-flag", 0, NULL, OT_FLAG, F(flag), 0, 0, NULL, .help = NULL },
	{ "mode", 0, "T_MODE", OT_ENUM, F(mode), 10, 0, "a", .words = modes },
	{ "word", 0, NULL, OT_WORD, F(word), 0, 0, "Cosine", .words = words },
	{ "s", 0, "T_S", OT_STRING, F(s), 0, 0, NULL, .flags = OTF_ENV_EMPTY },
	{ "d", 0, NULL, OT_DOUBLE, F(d), 0, 1, "0.5", .help = "  --d F\n" },
	{ "cb", 0, NULL, OT_CALLBACK, 0, 0, 0, NULL, .flags = OTF_NOARG, .cb = count },
	{ "list-options", 0, NULL, OT_CALLBACK, 0, 0, 0, NULL,
	    .flags = OTF_NOARG | OTF_HIDDEN, .cb = optable_list },
};
static const struct optable table = OPTABLE(defs, "Usage: test\n", "Exit status: 0\n");
static struct common_opts *common;	/* where parse() puts --insecure, --cacert */

/* A table with a default in the state directory, for the STATE note. */
struct so {
	const char	*file;
};
static const struct optdef state_defs[] = {
	{ "file", 0, NULL, OT_STRING, offsetof(struct so, file), 0, 0, "f.json",
	    .flags = OTF_STATE, .help = "  --file F  default STATE/f.json\n" },
};
static const struct optable state_table = OPTABLE(state_defs, NULL, NULL);

/* optable_usage() of t as a string (the caller frees it). */
static char *
usage_of(const struct optable *t)
{
	FILE	*fp;
	char	*text = NULL;
	size_t	 len = 0;

	if ((fp = open_memstream(&text, &len)) == NULL)
		return NULL;
	optable_usage(fp, t);
	fclose(fp);
	return text;
}

static int
parse(struct o *o, char *const *args)
{
	char	*argv[16];
	int	 argc = 0;

	argv[argc++] = "test";
	while (*args != NULL)
		argv[argc++] = *args++;
	argv[argc] = NULL;
	memset(o, 0, sizeof(*o));
	optind = 0;	/* glibc: start over */
	return optable_parse(&table, o, common, argc, argv);
}

/* Runs parse() in a child; its status, and what it printed in out. */
static int
in_child(char *const *args, char *out, size_t len)
{
	struct o o;
	int	 fds[2], status;
	size_t	 got = 0;
	ssize_t	 n;
	pid_t	 pid;

	fflush(stdout);
	if (pipe(fds) == -1)
		return -1;
	if ((pid = fork()) == 0) {
		close(fds[0]);
		dup2(fds[1], STDERR_FILENO);
		dup2(fds[1], STDOUT_FILENO);
		alarm(10);
		parse(&o, args);
		_exit(0);
	}
	close(fds[1]);
	while (got + 1 < len && (n = read(fds[0], out + got, len - 1 - got)) > 0)
		got += (size_t)n;
	out[got] = '\0';
	close(fds[0]);
	if (waitpid(pid, &status, 0) == -1)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int
main(void)
{
	struct o		 o;
	struct common_opts	 co = { 1, "stale" };
	char			 msg[4096], *text;
	size_t			 len;

	log_init("test_optable");
	unsetenv("T_N");
	unsetenv("T_OLD_N");
	parse(&o, (char *[]){ NULL });
	is_int(o.n, 8, "default from the table");
	is_int(o.mode, 10, "enum default: lo + index");
	is_str(o.word, "Cosine", "word default");
	ok(o.d == 0.5, "double default");

	setenv("T_OLD_N", "3", 1);
	parse(&o, (char *[]){ NULL });
	is_int(o.n, 3, "an environment-only row sets the field");
	setenv("T_N", "5", 1);
	parse(&o, (char *[]){ NULL });
	is_int(o.n, 5, "a later row for the same field wins");
	parse(&o, (char *[]){ "--num", "7", NULL });
	is_int(o.n, 7, "the flag beats the environment");
	parse(&o, (char *[]){ "-n", "9", NULL });
	is_int(o.n, 9, "short name");
	unsetenv("T_N");
	unsetenv("T_OLD_N");

	setenv("T_FLAG", "yes", 1);
	parse(&o, (char *[]){ NULL });
	is_int(o.flag, 1, "a flag's variable is a boolean");
	parse(&o, (char *[]){ "--no-flag", NULL });
	is_int(o.flag, 0, "the negated flag wins over it");
	unsetenv("T_FLAG");

	setenv("T_S", "", 1);
	parse(&o, (char *[]){ NULL });
	ok(o.s != NULL && *o.s == '\0', "OTF_ENV_EMPTY: an empty variable is a value");
	unsetenv("T_S");

	setenv("T_MODE", "b", 1);
	is_int(parse(&o, (char *[]){ "--word", "dot", "--cb", "--cb", "x", NULL }),
	    5, "returns the first operand's index");
	is_int(o.mode, 11, "enum from the environment");
	is_str(o.word, "Dot", "word in any case, stored as written in the table");
	is_int(o.ncb, 2, "a callback row runs once per flag");
	unsetenv("T_MODE");

	common = &co;
	parse(&o, (char *[]){ NULL });
	ok(co.insecure == 0 && co.cacert == NULL,
	    "the caller's common options are cleared first");
	log_set_level(LOG_ERROR);	/* --insecure always warns */
	parse(&o, (char *[]){ "--insecure", "--cacert", "/dev/null", NULL });
	is_int(co.insecure, 1, "--insecure lands in the caller's common options");
	is_str(co.cacert, "/dev/null", "--cacert lands there too");
	common = NULL;

	is_int(in_child((char *[]){ "--num", "65", NULL }, msg, sizeof(msg)), 2,
	    "out of bounds exits 2");
	is_str(msg, "test_optable: --num: 65 is too large (1..64)\n", "  says so");
	setenv("T_N", "0", 1);
	is_int(in_child((char *[]){ NULL }, msg, sizeof(msg)), 2,
	    "a bad variable exits 2");
	is_str(msg, "test_optable: T_N: 0 is too small (1..64)\n",
	    "  naming the variable");
	unsetenv("T_N");
	is_int(in_child((char *[]){ "--mode", "c", NULL }, msg, sizeof(msg)), 2,
	    "an unknown word exits 2");
	is_str(msg, "test_optable: --mode: 'c' is not a or b\n", "  listing the words");
	is_int(in_child((char *[]){ "--list-options", NULL }, msg, sizeof(msg)), 0,
	    "--list-options exits 0");
	ok(strncmp(msg, "num=\nflag\nno-flag\nmode=\nword=\ns=\nd=\ncb\nverbose\n",
	    strlen("num=\nflag\nno-flag\nmode=\nword=\ns=\nd=\ncb\nverbose\n")) == 0,
	    "  the table's names (not hidden, not environment-only), then the common ones");
	ok(strstr(msg, "list-options") == NULL, "  not itself");
	is_int(in_child((char *[]){ "--help", NULL }, msg, sizeof(msg)), 0,
	    "--help exits 0");
	ok(strncmp(msg, "Usage: test\n  --num N\n  --d F\n\nCommon options:\n",
	    strlen("Usage: test\n  --num N\n  --d F\n\nCommon options:\n")) == 0,
	    "  the intro, the rows' help in table order, then the common options");
	ok(strstr(msg, "--log-level") != NULL, "  which are listed");
	len = strlen(msg);
	ok(len > 15 && strcmp(msg + len - 15, "Exit status: 0\n") == 0,
	    "  the outro last");
	ok(strstr(msg, "STATE is") == NULL, "  no STATE note without a state row");
	text = usage_of(&state_table);
	ok(text != NULL && strncmp(text, "  --file F", 10) == 0,
	    "usage without an intro starts with the rows");
	ok(text != NULL && strstr(text, "\nSTATE is ${XDG_STATE_HOME:-"
	    "~/.local/state}/plexpipe") != NULL,
	    "  a row in the state directory brings the note saying what STATE is");
	ok(text != NULL && strstr(text, "--log-level") < strstr(text, "STATE is"),
	    "  after the common options");
	free(text);
	is_int(in_child((char *[]){ "--version", NULL }, msg, sizeof(msg)), 0,
	    "--version exits 0");
	ok(strncmp(msg, "test_optable plexpipe ", 22) == 0, "  PROG plexpipe VERSION");
	return done_testing();
}
