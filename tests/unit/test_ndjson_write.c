/* test_ndjson_write.c: the NDJSON writer: compact stable lines, sticky errors, death by SIGPIPE. */
#include <sys/time.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "buf.h"
#include "ndjson_read.h"
#include "ndjson_write.h"
#include "tap.h"

/* Reads a whole FILE back into a static buffer. */
static const char *
slurp(FILE *fp)
{
	static char	 text[4096];
	size_t		 n;

	rewind(fp);
	n = fread(text, 1, sizeof(text) - 1, fp);
	text[n] = '\0';
	return text;
}

static void
test_lines(void)
{
	struct ndjson_writer	*w;
	struct ndjson_error	 err;
	struct json_object	*o, *p;
	FILE			*fp;

	fp = tmpfile();
	w = ndjson_writer_new(fp, "out");
	o = json_object_new_object();
	json_object_object_add(o, "kind", json_object_new_string("points"));
	json_object_object_add(o, "v", json_object_new_int(1));
	json_object_object_add(o, "url", json_object_new_string("http://h/a/b"));
	json_object_object_add(o, "x", json_object_new_double_s(0.1, "0.1"));
	json_object_object_add(o, "t", json_object_new_string("\xc3\xa9\"\n"));
	json_object_object_add(o, "a", json_object_new_array());
	is_int(ndjson_write(w, o), 0, "write returns 0");
	json_object_put(o);
	p = ndjson_parse_string("{\"z\":1.50,\"y\":[1e5,-0.0],\"b\":{}}", 32, &err);
	ok(p != NULL, "parsed upstream record");
	is_int(ndjson_write(w, p), 0, "write a parsed record");
	json_object_put(p);
	is_int(ndjson_write_raw(w, "{\"raw\":true}", 12), 0, "write_raw");
	is_int(ndjson_writer_close(w, 0), 0, "close without error");
	is_str(slurp(fp),
	    "{\"kind\":\"points\",\"v\":1,\"url\":\"http://h/a/b\",\"x\":0.1,"
	    "\"t\":\"\xc3\xa9\\\"\\n\",\"a\":[]}\n"
	    "{\"z\":1.50,\"y\":[1e5,-0.0],\"b\":{}}\n"
	    "{\"raw\":true}\n",
	    "compact, insertion order, no slash escapes, number text kept");
	fclose(fp);
}

/* A line written in parts, small and big, is the same line; order is kept. */
static void
test_parts(void)
{
	struct ndjson_writer	*w;
	struct buf		 big = BUF_INIT, want = BUF_INIT;
	char			 got[256 * 1024];
	size_t			 i, n;
	FILE			*fp;

	for (i = 0; i < 100 * 1000; i++)
		buf_append(&big, "x", 1);
	fp = tmpfile();
	w = ndjson_writer_new(fp, "out");
	is_int(ndjson_write_raw(w, "{\"first\":1}", 11), 0, "a line before");
	is_int(ndjson_write_part(w, "{\"s\":\"", 6), 0, "a small part (buffered)");
	is_int(ndjson_write_part(w, big.data, big.len), 0,
	    "a 100 kB part (written at once)");
	is_int(ndjson_write_raw(w, "\"}", 2), 0, "the line's end");
	is_int(ndjson_writer_close(w, 0), 0, "close without error");
	buf_printf(&want, "{\"first\":1}\n{\"s\":\"%s\"}\n", big.data);
	rewind(fp);
	n = fread(got, 1, sizeof(got), fp);
	ok(n == want.len && memcmp(got, want.data, n) == 0,
	    "parts make the same bytes as a whole line, in order (%zu of %zu)",
	    n, want.len);
	fclose(fp);
	buf_free(&big);
	buf_free(&want);
}

/* Writes to /dev/full fail with ENOSPC: the error is sticky and reported at close. */
static void
test_sticky_error(void)
{
	struct ndjson_writer	*w;
	struct json_object	*o;
	FILE			*fp;
	int			 i, rc = 0, e;

	if ((fp = fopen("/dev/full", "w")) == NULL) {
		tap_skip("no /dev/full");
		return;
	}
	w = ndjson_writer_new(fp, "full");
	o = json_object_new_object();
	json_object_object_add(o, "a", json_object_new_int(1));
	/* lines are buffered: the first flush meets the error */
	is_int(ndjson_write(w, o), 0, "a buffered write succeeds");
	is_int(ndjson_flush(w), -1, "the flush reports the failure");
	for (i = 0; i < 3; i++)
		rc |= ndjson_write(w, o) != 0 ? 1 << i : 0;
	is_int(rc, 7, "every write after a failure reports -1");
	errno = 0;
	is_int(ndjson_writer_close(w, 1), -1, "close reports the earlier error");
	e = errno;
	is_int(e, ENOSPC, "  with errno ENOSPC");
	json_object_put(o);
}

/* Runs fn in a child and returns its wait status. */
static int
in_child(void (*fn)(int), int arg)
{
	pid_t	 pid;
	int	 status;

	fflush(stdout);
	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		alarm(20);
		fn(arg);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) == -1)
		return -1;
	return status;
}

/*
 * Writes to a pipe whose reader is gone. ignore=1 sets SIGPIPE to
 * SIG_IGN first (as libcurl may), so the writer sees EPIPE and must
 * raise the signal itself.
 */
static void
write_to_closed_pipe(int ignore)
{
	struct ndjson_writer	*w;
	struct json_object	*o;
	FILE			*fp;
	int			 fds[2], i;

	if (ignore)
		signal(SIGPIPE, SIG_IGN);
	if (pipe(fds) == -1)
		_exit(3);
	close(fds[0]);
	fp = fdopen(fds[1], "w");
	w = ndjson_writer_new(fp, "stdout");
	o = json_object_new_object();
	json_object_object_add(o, "a", json_object_new_int(1));
	for (i = 0; i < 100000; i++)
		if (ndjson_write(w, o) != 0)
			break;
	ndjson_flush(w);
	ndjson_writer_close(w, 1);
	_exit(7);	/* reached only if EPIPE did not kill us */
}

static void
check_stdout_to_closed_pipe(int ignore)
{
	int	 fds[2];

	if (ignore)
		signal(SIGPIPE, SIG_IGN);
	if (pipe(fds) == -1)
		_exit(3);
	close(fds[0]);
	dup2(fds[1], STDOUT_FILENO);
	close(fds[1]);
	fputs("{\"a\":1}\n", stdout);
	ndjson_check_stdout();
	_exit(7);
}

static void
check_stdout_to_full(int unused)
{
	(void)unused;
	if (freopen("/dev/full", "w", stdout) == NULL)
		_exit(3);
	/* Keep the test's stderr clean: the expected message goes to /dev/null. */
	if (freopen("/dev/null", "w", stderr) == NULL)
		_exit(3);
	fputs("{\"a\":1}\n", stdout);
	ndjson_check_stdout();
	_exit(0);
}

static void
test_sigpipe(void)
{
	int	 st;

	st = in_child(write_to_closed_pipe, 1);
	ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGPIPE,
	    "EPIPE with SIGPIPE ignored: the writer dies of SIGPIPE (status %#x)", st);
	st = in_child(write_to_closed_pipe, 0);
	ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGPIPE,
	    "EPIPE with default SIGPIPE: dies of SIGPIPE (status %#x)", st);
	st = in_child(check_stdout_to_closed_pipe, 1);
	ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGPIPE,
	    "ndjson_check_stdout on a closed pipe dies of SIGPIPE (status %#x)", st);
	st = in_child(check_stdout_to_full, 0);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 1,
	    "ndjson_check_stdout on a full disk exits 1 (status %#x)", st);
}

static void
on_alarm(int sig)
{
	(void)sig;
}

/*
 * A 4 MiB line into a slow pipe while a timer signal (no SA_RESTART, as
 * signals.c installs the stop signals) keeps interrupting write(2): the
 * reader must get the line whole, not a half line.
 */
static void
test_eintr_whole_line(void)
{
	struct sigaction	 sa;
	struct itimerval	 it;
	int			 fds[2], status;
	pid_t			 pid;
	size_t			 n = 4u << 20, got = 0, nl = 0;
	char			*big, rbuf[65536];
	ssize_t			 r;

	if (pipe(fds) == -1) {
		tap_skip("no pipe");
		return;
	}
	if ((pid = fork()) == 0) {
		struct ndjson_writer	*w;
		FILE			*fp;

		close(fds[0]);
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_alarm;	/* no SA_RESTART */
		sigaction(SIGALRM, &sa, NULL);
		memset(&it, 0, sizeof(it));
		it.it_interval.tv_usec = it.it_value.tv_usec = 1000;
		setitimer(ITIMER_REAL, &it, NULL);
		big = malloc(n);
		memset(big, 'x', n);
		big[0] = '"';
		big[n - 1] = '"';
		fp = fdopen(fds[1], "w");
		w = ndjson_writer_new(fp, "pipe");
		_exit(ndjson_write_raw(w, big, n) == 0 &&
		    ndjson_writer_close(w, 1) == 0 ? 0 : 1);
	}
	close(fds[1]);
	/* read slowly so the writer blocks and the timer hits it mid-write */
	while ((r = read(fds[0], rbuf, sizeof(rbuf))) != 0) {
		if (r == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		got += (size_t)r;
		nl += memchr(rbuf, '\n', (size_t)r) != NULL;
		usleep(200);
	}
	close(fds[0]);
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "writer interrupted by signals still succeeds");
	is_int((long long)got, (long long)n + 1, "the whole line arrives");
	is_int((long long)nl, 1, "with its one newline");
}

int
main(void)
{
	test_lines();
	test_parts();
	test_sticky_error();
	test_sigpipe();
	test_eintr_whole_line();
	return done_testing();
}
