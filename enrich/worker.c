/* worker.c: the worker process: reads batches from the parent, enriches them, sends points back in order. */
#include <sys/prctl.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "enrich.h"
#include "fdio.h"
#include "log.h"
#include "ndjson_write.h"
#include "signals.h"
#include "xalloc.h"

#define MAX_JOB_BYTES	(1024ull * 1024 * 1024)	/* a sanity bound on one framed job */

/* The retry-queue ids of this batch as a JSON array text (caller frees), or NULL. */
static char *
queue_text(struct enrich_ctx *ctx, size_t *len)
{
	struct json_object	*a;
	char			*s;
	size_t			 i;

	*len = 0;
	if (ctx->nqueue == 0)
		return NULL;
	a = json_object_new_array();
	for (i = 0; i < ctx->nqueue; i++)
		json_object_array_add(a, json_object_new_string(ctx->queue[i]));
	s = xstrdup(ndjson_to_string(a, len));
	json_object_put(a);
	enrich_ids_free(ctx->queue, ctx->nqueue);
	ctx->queue = NULL;
	ctx->nqueue = 0;
	return s;
}

/* The parent's word to stop (dispatch.c): the same flag a stop signal sets. */
static void
on_stop(int sig)
{
	signal_received = sig;
}

/*
 * Lifetime: runs until its input reaches EOF (the parent has no more
 * batches), answering each job with one MSG_RESULT, then exits 0. A TMDb
 * 401 is sent as MSG_FATAL and the worker exits 2.
 */
void
proc_worker(int in, int out, const struct enrich_opts *o)
{
	struct enrich_ctx	 ctx;
	struct msg_hdr		 h, r;
	struct buf		 res = BUF_INIT;
	char			*job, *q;
	size_t			 qlen;
	int			 rc;

	if (enrich_ctx_init(&ctx, o) == -1)
		exit(1);
	for (;;) {
		if ((rc = read_full(in, &h, sizeof(h))) == 0)
			break;
		if (rc == -1 || h.type != MSG_JOB || h.len1 > MAX_JOB_BYTES) {
			log_error("worker: bad message from the parent");
			exit(1);
		}
		job = xmalloc(h.len1 + 1);
		if (read_full(in, job, h.len1) != 1) {
			log_error("worker: short job from the parent");
			exit(1);
		}
		job[h.len1] = '\0';
		buf_reset(&res);
		rc = enrich_batch(&ctx, h.seq, job, h.len1, &res);
		free(job);
		enrich_ctx_sync_stats(&ctx);
		memset(&r, 0, sizeof(r));
		r.seq = h.seq;
		if (ctx.fatal || rc == -1) {
			const char *m = ctx.fatal ? ctx.fatal_msg :
			    "worker: a job was not valid JSON";

			r.type = MSG_FATAL;
			r.len1 = strlen(m);
			(void)enrich_msg_send(out, &r, NULL, m, NULL);
			exit(ctx.fatal ? 2 : 1);
		}
		q = queue_text(&ctx, &qlen);
		r.type = MSG_RESULT;
		r.nstats = ST_NSTATS;
		r.len1 = res.len;
		r.len2 = qlen;
		if (enrich_msg_send(out, &r, ctx.st.v, res.data, q) == -1)
			exit(1);	/* the parent went away */
		memset(&ctx.st, 0, sizeof(ctx.st));
		free(q);
	}
	buf_free(&res);
	enrich_ctx_free(&ctx);
	exit(0);
}

/* A parent end every child must close: the look-ahead's pipe (lookahead.c). */
static int	 children_close = -1;

void
enrich_children_close(int fd)
{
	children_close = fd;
}

void
enrich_child_setup(const struct enrich_worker *ws, int n, int idx,
    pid_t parent)
{
	struct sigaction	 sa;
	sigset_t		 set;
	int			 i, fd;

	/* an orphaned child has no one to report to: die with the parent */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	/* other workers' ends: holding them would hide their EOF */
	for (i = 0; i < n; i++)
		if (i != idx && ws[i].pid > 0) {
			close(ws[i].to_fd);
			close(ws[i].from_fd);
		}
	if (children_close >= 0)
		close(children_close);
	/* data is the parent's business: no stdin, no stdout */
	if ((fd = open("/dev/null", O_RDWR)) != -1) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	/*
	 * The parent decides when a child stops: Ctrl-C reaches the
	 * whole process group, and a worker killed by it would throw
	 * away a batch the parent means to finish and write. The
	 * parent ends children by closing their input, or with SIGKILL.
	 */
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_DFL);
	/*
	 * It tells a child to stop with SIGUSR1 instead: no new request
	 * is started (call.c), a worker finishes its batch from the cache
	 * and sends it as usual. Blocked until now (dispatch.c), so it
	 * cannot kill a child before this handler is in place;
	 * SA_RESTART, so it interrupts no read or write to the parent.
	 */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
}

int
enrich_worker_start(struct enrich_worker *ws, int n, int idx,
    const struct enrich_opts *o)
{
	int			 to[2], from[2];
	pid_t			 pid, parent;

	if (pipe2(to, O_CLOEXEC) == -1)
		return -1;
	if (pipe2(from, O_CLOEXEC) == -1) {
		close(to[0]);
		close(to[1]);
		return -1;
	}
	fflush(stdout);
	fflush(stderr);
	parent = getpid();
	if ((pid = fork()) == -1) {
		close(to[0]);
		close(to[1]);
		close(from[0]);
		close(from[1]);
		return -1;
	}
	if (pid == 0) {
		close(to[1]);
		close(from[0]);
		enrich_child_setup(ws, n, idx, parent);
		proc_worker(to[0], from[1], o);
	}
	close(to[0]);
	close(from[1]);
	ws[idx].pid = pid;
	ws[idx].to_fd = to[1];
	ws[idx].from_fd = from[0];
	ws[idx].unit = -1;
	buf_reset(&ws[idx].rbuf);
	fcntl(from[0], F_SETFL, fcntl(from[0], F_GETFL) | O_NONBLOCK);
	return 0;
}
