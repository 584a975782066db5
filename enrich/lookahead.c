/* lookahead.c: the IMDb look-ahead: a child that fetches the IMDb ids of the items read ahead into the cache, so IMDb runs at its limit while TMDb sets the pace. */
/*
 * Why.  A job's IMDb lookups start with the job, so IMDb was asked only
 * as fast as TMDb let the jobs go.  In a cold load where both services
 * are near their floors (TMDb 40/s, IMDb 10/s and ~4 IMDb requests per
 * 20 movies, but one per 5 episodes for ~1 TMDb request per season),
 * IMDb idled while movies went through and was left alone with the
 * episodes at the end: 5 to 7 s of IMDb only after TMDb's last request
 * in a 40 s load.  The parent reads its input ahead anyway (QUEUE_MAX);
 * it hands the IMDb id of every item it reads to this process, which
 * fetches them through the workers' own machinery: the same cache and
 * per-key locks, token bucket and breaker.  A worker then finds the
 * answer cached, or waits on the lock of an id being fetched and finds
 * it then; no id is asked twice.
 *
 * Only a hint.  No result depends on it: an id it fails to fetch (or
 * never gets, the pipe being full) is fetched by the worker that needs
 * it, with the worker's retries, degraded marks and retry queue, and
 * the per-request warnings are the worker's to give.  It runs while the
 * parent reads, finishes what it was given after the input ends, and
 * is told to stop (SIGUSR1) when the last batch is written.  Its
 * requests and cache writes are counted in a shared block the parent
 * adds to its totals.
 */
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "enrich.h"
#include "log.h"
#include "signals.h"
#include "timeutil.h"
#include "xalloc.h"

#define LA_FETCHES	2		/* fetches at once: one starts as one ends */
#define LA_READ_MAX	4096		/* bytes of hints read ahead of use */
#define LA_HELD_MAX	(256u * 1024)	/* bytes of hints the parent holds */
#define LA_PIPE_SIZE	(1024 * 1024)	/* hints the pipe holds (F_SETPIPE_SZ) */
#define LA_STOP_WAIT	2.0		/* s the parent waits for it to stop */

struct lookahead {
	pid_t			 pid;
	int			 fd;		/* write end; -1: closed */
	struct buf		 held;		/* hints not yet written */
	size_t			 dropped;	/* hints the pipe had no room for */
	struct enrich_stats	*shared;	/* the child's counters */
};

/* The child: one fetch of a few ids, with the strings it lends. */
struct la_fetch {
	struct imdb_job	*job;		/* NULL: the slot is free */
	char		**ids;		/* made once, `chunk` long */
	size_t		 n;
};

/* Complete hint lines of in (at most max) as valid ids; the rest stays. */
static size_t
take_ids(struct buf *in, char **ids, size_t max)
{
	char	*nl, *p = in->data;
	size_t	 n = 0, used = 0;

	if (in->len == 0)
		return 0;
	while (n < max && used < in->len &&
	    (nl = memchr(p + used, '\n', in->len - used)) != NULL) {
		*nl = '\0';
		if (enrich_valid_imdb_id(p + used))
			ids[n++] = xstrdup(p + used);
		used = (size_t)(nl - p) + 1;
	}
	memmove(p, p + used, in->len - used);
	in->len -= used;
	if (in->len >= LA_READ_MAX)
		in->len = 0;	/* no id is that long: never wait on it */
	return n;
}

static void
fetch_end(struct la_fetch *f)
{
	(void)enrich_imdb_fetch_end(f->job);
	f->job = NULL;
	while (f->n > 0)
		free(f->ids[--f->n]);
}

/* Reads what the pipe holds, up to LA_READ_MAX buffered; 1 at EOF. */
static int
read_hints(int in, struct buf *pend)
{
	char	 chunk[LA_READ_MAX];
	ssize_t	 r;

	if (pend->len >= LA_READ_MAX)
		return 0;
	r = read(in, chunk, LA_READ_MAX - pend->len);
	if (r > 0)
		buf_append(pend, chunk, (size_t)r);
	return r == 0 || (r == -1 && errno != EAGAIN && errno != EINTR);
}

__attribute__((__noreturn__))
static void
lookahead_main(int in, const struct enrich_opts *o, struct enrich_stats *out)
{
	struct enrich_ctx	 ctx;
	struct la_fetch		 f[LA_FETCHES];
	struct buf		 pend = BUF_INIT;
	struct pollfd		 pfd;
	size_t			 chunk;
	int			 k, busy, eof = 0, want;

	/* told apart from the workers in ps(1) and by the tests */
	prctl(PR_SET_NAME, LOOKAHEAD_NAME);
	if (enrich_ctx_init(&ctx, o) == -1)
		_exit(1);
	if (ctx.imdb == NULL)
		_exit(0);	/* nothing to fetch: the parent sees EPIPE */
	ctx.hints_only = 1;
	/* groups of 5 ids, as many as may fly at once */
	chunk = 5 * (size_t)(o->max_in_flight > 0 ? o->max_in_flight :
	    ENRICH_MAX_IN_FLIGHT);
	for (k = 0; k < LA_FETCHES; k++) {
		f[k].job = NULL;
		f[k].ids = xreallocarray(NULL, chunk, sizeof(*f[k].ids));
		f[k].n = 0;
	}
	fcntl(in, F_SETFL, fcntl(in, F_GETFL) | O_NONBLOCK);
	for (;;) {
		busy = 0;
		for (k = 0; k < LA_FETCHES; k++) {
			if (f[k].job != NULL && enrich_imdb_fetch_done(f[k].job))
				fetch_end(&f[k]);
			if (f[k].job == NULL && !signal_received) {
				if (!eof && (pend.len == 0 ||
				    memchr(pend.data, '\n', pend.len) == NULL))
					eof = read_hints(in, &pend);
				f[k].n = take_ids(&pend, f[k].ids, chunk);
				if (f[k].n > 0)
					f[k].job = enrich_imdb_fetch_start(&ctx,
					    f[k].ids, f[k].n);
			}
			busy += f[k].job != NULL;
		}
		/* what fails here is the workers' to retry and queue */
		enrich_ids_free(ctx.queue, ctx.nqueue);
		ctx.queue = NULL;
		ctx.nqueue = 0;
		enrich_ctx_sync_stats(&ctx);
		out->v[ST_IMDB_REQUESTS] = ctx.st.v[ST_IMDB_REQUESTS];
		out->v[ST_CACHE_WRITES] = ctx.st.v[ST_CACHE_WRITES];
		if ((busy == 0 && (eof || signal_received)) ||
		    breaker_is_down(o->cache_br))
			break;
		want = !eof && !signal_received && busy < LA_FETCHES;
		pfd.fd = in;
		pfd.events = POLLIN;
		pfd.revents = 0;
		(void)enrich_step(&ctx, want ? &pfd : NULL, want ? 1 : 0, 1000);
	}
	buf_free(&pend);
	_exit(0);
}

struct lookahead *
lookahead_start(const struct enrich_opts *o, const struct enrich_worker *ws,
    int nw)
{
	struct lookahead	*la;
	int			 p[2];
	pid_t			 parent;

	if (o->no_imdb || o->offline)
		return NULL;
	la = xcalloc(1, sizeof(*la));
	la->fd = -1;
	la->shared = mmap(NULL, sizeof(*la->shared), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (la->shared == MAP_FAILED || pipe2(p, O_CLOEXEC) == -1)
		goto fail;
	fflush(stdout);
	fflush(stderr);
	parent = getpid();
	if ((la->pid = fork()) == -1) {
		close(p[0]);
		close(p[1]);
		goto fail;
	}
	if (la->pid == 0) {
		close(p[1]);
		enrich_child_setup(ws, nw, -1, parent);
		lookahead_main(p[0], o, la->shared);
	}
	close(p[0]);
	la->fd = p[1];
	/* a bigger pipe holds more hints; the default 64 KiB will do */
	(void)fcntl(la->fd, F_SETPIPE_SZ, LA_PIPE_SIZE);
	fcntl(la->fd, F_SETFL, fcntl(la->fd, F_GETFL) | O_NONBLOCK);
	/* workers forked later must not hold it open */
	enrich_children_close(la->fd);
	return la;
fail:
	/* a hint machine only: the run goes on without it */
	log_debug("no IMDb look-ahead: %s", strerror(errno));
	if (la->shared != MAP_FAILED)
		munmap(la->shared, sizeof(*la->shared));
	free(la);
	return NULL;
}

static void
close_pipe(struct lookahead *la)
{
	if (la->fd >= 0) {
		close(la->fd);
		la->fd = -1;
		enrich_children_close(-1);
	}
	buf_reset(&la->held);
}

void
lookahead_write(struct lookahead *la)
{
	ssize_t	 w;

	if (la == NULL || la->fd < 0 || la->held.len == 0)
		return;
	w = write(la->fd, la->held.data, la->held.len);
	if (w > 0) {
		memmove(la->held.data, la->held.data + w, la->held.len - (size_t)w);
		la->held.len -= (size_t)w;
	} else if (w == -1 && errno != EAGAIN && errno != EINTR)
		close_pipe(la);	/* it has ended (EPIPE): hints are moot */
}

void
lookahead_hint(struct lookahead *la, const char *id)
{
	if (la == NULL || la->fd < 0)
		return;
	if (la->held.len >= LA_HELD_MAX) {
		la->dropped++;	/* its worker fetches it */
		return;
	}
	buf_appends(&la->held, id);
	buf_append(&la->held, "\n", 1);
}

int
lookahead_pollfd(const struct lookahead *la, struct pollfd *pfd)
{
	if (la == NULL || la->fd < 0 || la->held.len == 0)
		return 0;
	pfd->fd = la->fd;
	pfd->events = POLLOUT;
	pfd->revents = 0;
	return 1;
}

void
lookahead_input_done(struct lookahead *la)
{
	if (la == NULL || la->fd < 0)
		return;
	lookahead_write(la);	/* what does not fit now is moot */
	close_pipe(la);
}

void
lookahead_stop(struct lookahead *la, struct enrich_stats *st)
{
	double	 until;
	int	 status;
	pid_t	 r;

	if (la == NULL)
		return;
	close_pipe(la);
	kill(la->pid, SIGUSR1);
	until = now_monotonic() + LA_STOP_WAIT;
	while ((r = waitpid(la->pid, &status, WNOHANG)) == 0 &&
	    now_monotonic() < until)
		sleep_unless(0.01, NULL, NULL);
	if (r == 0) {
		kill(la->pid, SIGKILL);
		while (waitpid(la->pid, &status, 0) == -1 && errno == EINTR)
			;
	} else if (r > 0 && (!WIFEXITED(status) || WEXITSTATUS(status) != 0))
		/* no data lost (its workers fetched what it did not), but a bug */
		log_warn("the IMDb look-ahead ended badly (status %d)", status);
	st->v[ST_IMDB_REQUESTS] += la->shared->v[ST_IMDB_REQUESTS];
	st->v[ST_CACHE_WRITES] += la->shared->v[ST_CACHE_WRITES];
	if (la->dropped > 0)
		log_debug("IMDb look-ahead: %zu hints found the pipe full",
		    la->dropped);
	munmap(la->shared, sizeof(*la->shared));
	buf_free(&la->held);
	free(la);
}
