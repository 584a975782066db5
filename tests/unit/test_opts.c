/* test_opts.c: option helpers: checked numbers exit 2 with a message, durations, booleans, secrets. */
#include <sys/wait.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "opts.h"
#include "redact.h"
#include "tap.h"

struct call {
	int		 kind;	/* 0 number, 1 double, 2 duration, 3 bool, 4 secret file, 5 log-format, 6 env */
	const char	*arg;
};

static void
run_call(const struct call *c)
{
	switch (c->kind) {
	case 0:
		opt_number(c->arg, 1, 4096, "--batch-size");
		break;
	case 1:
		opt_double(c->arg, 0, 60, "--backoff");
		break;
	case 2:
		opt_duration(c->arg, "--ttl");
		break;
	case 3:
		opt_bool(c->arg, "--dry-run");
		break;
	case 4:
		free(opt_secret_file(c->arg, "--plex-token-file"));
		break;
	case 5:
		opt_common(OPT_LOG_FORMAT, c->arg, NULL);
		break;
	case 6:
		setenv("LOG_LEVEL", c->arg, 1);
		opt_common(0, NULL, NULL);
		break;
	}
}

/*
 * Runs the call in a child with stderr captured; returns the exit status
 * (or -1) and copies what it printed into msg.
 */
static int
in_child(const struct call *c, char *msg, size_t msglen)
{
	int	 fds[2], status;
	ssize_t	 n;
	size_t	 got = 0;
	pid_t	 pid;

	fflush(stdout);
	if (pipe(fds) == -1)
		return -1;
	if ((pid = fork()) == 0) {
		close(fds[0]);
		dup2(fds[1], STDERR_FILENO);
		alarm(10);
		run_call(c);
		_exit(0);
	}
	close(fds[1]);
	while (got + 1 < msglen &&
	    (n = read(fds[0], msg + got, msglen - 1 - got)) > 0)
		got += (size_t)n;
	msg[got] = '\0';
	close(fds[0]);
	if (waitpid(pid, &status, 0) == -1)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void
expect_exit2(int kind, const char *arg, const char *want, const char *name)
{
	struct call	 c = { kind, arg };
	char		 msg[512];
	int		 rc;

	rc = in_child(&c, msg, sizeof(msg));
	is_int(rc, 2, name);
	if (want != NULL)
		is_str(msg, want, "  message");
}

static void
test_numbers(void)
{
	is_int(opt_number("64", 1, 4096, "--batch-size"), 64, "number in range");
	is_int(opt_number("4096", 1, 4096, "--batch-size"), 4096, "number at max");
	expect_exit2(0, "0", "test_opts: --batch-size: 0 is too small (1..4096)\n",
	    "number too small exits 2");
	expect_exit2(0, "5000", "test_opts: --batch-size: 5000 is too large (1..4096)\n",
	    "number too large exits 2");
	expect_exit2(0, "12abc", "test_opts: --batch-size: '12abc' is not a number (1..4096)\n",
	    "not a number exits 2");
	expect_exit2(0, "", NULL, "empty number exits 2");

	ok(opt_double("1.5", 0, 60, "--backoff") == 1.5, "double 1.5");
	ok(opt_double("0", 0, 60, "--backoff") == 0, "double 0");
	expect_exit2(1, "nan", "test_opts: --backoff: 'nan' is not a number\n",
	    "double nan exits 2");
	expect_exit2(1, "61", "test_opts: --backoff: 61 is too large (0..60)\n",
	    "double too large exits 2");
	expect_exit2(1, "0x10", NULL, "hex double exits 2");

	is_int(opt_duration("90", "--ttl"), 90, "duration bare seconds");
	is_int(opt_duration("90s", "--ttl"), 90, "duration 90s");
	is_int(opt_duration("15m", "--ttl"), 900, "duration 15m");
	is_int(opt_duration("12h", "--ttl"), 43200, "duration 12h");
	is_int(opt_duration("7d", "--ttl"), 604800, "duration 7d");
	expect_exit2(2, "7x", "test_opts: --ttl: '7x' is not a duration (like 90, 90s, 15m, 12h, 7d)\n",
	    "bad duration unit exits 2");
	expect_exit2(2, "-5m", NULL, "negative duration exits 2");
	expect_exit2(2, "5mm", NULL, "duration with junk exits 2");

	is_int(opt_bool("yes", "--x"), 1, "bool yes");
	is_int(opt_bool("TRUE", "--x"), 1, "bool TRUE");
	is_int(opt_bool("off", "--x"), 0, "bool off");
	is_int(opt_bool("", "--x"), 0, "bool empty");
	expect_exit2(3, "maybe", NULL, "bad bool exits 2");
}

static void
test_env_and_common(void)
{
	struct common_opts	 co = { 0, NULL };
	char			 ca[] = "/tmp/test_opts_ca.XXXXXX";
	int			 fd;

	setenv("PLEXPIPE_TEST_EMPTY", "", 1);
	setenv("PLEXPIPE_TEST_SET", "v", 1);
	ok(opt_env("PLEXPIPE_TEST_EMPTY") == NULL, "empty env var is unset");
	is_str(opt_env("PLEXPIPE_TEST_SET"), "v", "env var set");
	ok(opt_env("PLEXPIPE_TEST_NEVER_SET_X") == NULL, "missing env var");

	log_set_level(LOG_ERROR);
	is_int(opt_common('v', NULL, &co), 1, "-v consumed");
	is_int(log_get_level(), LOG_INFO, "-v is info, whatever came before");
	is_int(opt_common('v', NULL, &co), 1, "-vv consumed");
	is_int(log_get_level(), LOG_DEBUG, "-vv is debug");
	is_int(opt_common('q', NULL, &co), 1, "-q consumed");
	is_int(log_get_level(), LOG_WARN, "-q lowers to warning");
	is_int(opt_common(OPT_INSECURE, NULL, &co), 1, "--insecure consumed");
	ok(co.insecure == 1, "--insecure recorded");
	/* --cacert must name a readable file (tls.bats checks the exit 2 otherwise) */
	if ((fd = mkstemp(ca)) >= 0)
		close(fd);
	is_int(opt_common(OPT_CACERT, ca, &co), 1, "--cacert consumed");
	is_str(co.cacert, ca, "--cacert recorded");
	unlink(ca);
	is_int(opt_common('x', NULL, &co), 0, "other options not consumed");
	expect_exit2(5, "yaml", "test_opts: --log-format: 'yaml' is not text or json\n",
	    "bad --log-format exits 2");
	setenv("LOG_LEVEL", "error", 1);
	unsetenv("LOG_FORMAT");
	opt_common(0, NULL, NULL);
	is_int(log_get_level(), LOG_ERROR, "LOG_LEVEL=error applied when ch == 0");
	{
		static const struct { const char *w; int l; } words[] = {
			{ "critical", LOG_ERROR }, { "ERROR", LOG_ERROR },
			{ "warning", LOG_WARN }, { "Info", LOG_INFO },
			{ "debug", LOG_DEBUG }, { "notset", LOG_DEBUG },
		};
		size_t	 i;

		for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
			log_set_level(LOG_NOTICE);
			setenv("LOG_LEVEL", words[i].w, 1);
			opt_common(0, NULL, NULL);
			is_int(log_get_level(), words[i].l, words[i].w);
			log_set_level(LOG_NOTICE);
			is_int(opt_common(OPT_LOG_LEVEL, words[i].w, &co), 1,
			    "--log-level consumed");
			is_int(log_get_level(), words[i].l, "  the same as --log-level");
		}
	}
	unsetenv("LOG_LEVEL");
	log_set_level(LOG_INFO);
	expect_exit2(6, "loud", NULL, "bad LOG_LEVEL exits 2");
	ok(strstr(opt_common_help, "--log-format") != NULL, "help text mentions --log-format");
}

static void
test_secrets(void)
{
	char	 path[] = "/tmp/test_opts.XXXXXX", *s, *r, msg[512];
	struct call c = { 4, NULL };
	FILE	*fp;
	int	 fd;

	if ((fd = mkstemp(path)) == -1) {
		tap_skip("mkstemp failed");
		return;
	}
	fp = fdopen(fd, "w");
	fputs("s3cr3t-plex-token \t\r\nsecond line\n", fp);
	fclose(fp);
	s = opt_secret_file(path, "--plex-token-file");
	is_str(s, "s3cr3t-plex-token", "secret file: first line, trailing blanks stripped");
	r = redact("token is s3cr3t-plex-token");
	is_str(r, "token is ***", "secret from file is registered for redaction");
	free(r);
	free(s);
	opt_secret("env-secret-value");
	r = redact("x env-secret-value y");
	is_str(r, "x *** y", "opt_secret registers");
	free(r);

	fp = fopen(path, "w");
	fputs(" \r\n", fp);
	fclose(fp);
	c.arg = path;
	is_int(in_child(&c, msg, sizeof(msg)), 2, "empty secret file exits 2");
	ok(strstr(msg, "is empty") != NULL, "  says it is empty");
	unlink(path);
	c.arg = "/nonexistent/dir/token";
	is_int(in_child(&c, msg, sizeof(msg)), 2, "missing secret file exits 2");
	is_str(msg, "test_opts: --plex-token-file: /nonexistent/dir/token: "
	    "No such file or directory\n", "  names the file");
}

int
main(void)
{
	log_init("test_opts");
	test_numbers();
	test_env_and_common();
	test_secrets();
	return done_testing();
}
