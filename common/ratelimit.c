/* ratelimit.c: a token bucket in shared memory, made before fork so N processes share one budget. */
/*
 * The whole bucket (mutex included) lives in one anonymous MAP_SHARED
 * page, so a fork()ed child sees the very same bytes as its parent: every
 * worker of meta-enrich -j4 draws from one budget per API.  The mutex is
 * PTHREAD_PROCESS_SHARED and robust: a worker killed while holding it
 * (SIGKILL between lock and unlock) must not wedge the others, so the
 * next locker gets EOWNERDEAD and marks it consistent; the state it
 * guards is a few numbers that are always valid between stores.
 *
 * Tokens are refilled lazily from CLOCK_MONOTONIC (wall-clock steps must
 * not mint or freeze tokens).  A pause (after a 429 with Retry-After)
 * empties the bucket and moves the refill origin to the end of the pause,
 * so nobody gets a token before it and the budget restarts from zero.
 *
 * Rate control (AIMD).  The configured rate is only a ceiling: the
 * server's real limit may be lower (a shared key, another plan) or
 * unknown (no rate set at all), and a client that keeps sending at a
 * rate the server refuses spends a good part of its requests on 429s.
 * So on a 429 the rate in force drops (multiplicative decrease) and then
 * climbs back by a constant number of tokens per second per second
 * (additive increase), never above the ceiling:
 *
 *  - What the server counted is known better than any rate we set: the
 *    bucket keeps the times of the last RL_RING tokens it gave, so the
 *    tokens given in the second before the refused request was sent are
 *    about the most the server takes in a second (the estimate).  The
 *    window guard (below) keeps a bucket at rate r to floor(r) a second,
 *    so the rate that fits is the estimate itself (less RL_FIT_MARGIN,
 *    now 0; it was 1 for the r + 1 of a bucket with no guard); the
 *    decrease goes to RL_CUT x the lower of that and
 *    the rate in force.  This is what makes an unlimited bucket
 *    (rate 0) converge too: it has no rate to halve, but it has what it
 *    sent.
 *  - One burst of 429s is one decrease: the requests in flight when the
 *    first one came were sent at the old rate and are refused for the
 *    same reason.  A 429 lowers the rate only for a request sent
 *    RL_QUIET seconds or more after the last decrease, and after the
 *    pause that decrease came with (the server's window must slide past
 *    what it counted at the old rate before it can judge the new one).
 *  - The climb is quick (RL_FAST) up to RL_NEAR_LO x the fitting rate and
 *    beyond RL_NEAR_HI x it (the limit may have been raised), and slow
 *    (RL_SLOW) in between, where the next 429 is expected: at a constant
 *    slope of one token per second per second a bucket near a limit of
 *    10/s would meet it again every few seconds, and a few 429s every few
 *    dozen requests are several per cent.  Probing slowly there makes
 *    each cycle a few hundred requests long, for one or two 429s.
 *  - The server's window still holds what was sent at the old rate: the
 *    decrease also pauses the bucket (as a Retry-After would) until the
 *    tokens of the last second, as they age out of the ring, are fewer
 *    than the estimate; a Retry-After longer than that wins.
 *  - While the rate is lowered, the burst is one token: a full bucket of
 *    the configured burst would be a burst the server just refused.
 *
 * The window guard.  A bucket at rate r with a burst of b lets up to
 * r + b - 1 tokens into a one-second window (a stored token, then r more
 * over the second), and the times a server counts are the send times
 * give or take some milliseconds of jitter.  Configured at a server's
 * limit (40/s against 40/s), the bucket then drew a 429 within the first
 * second, and that one 429 cost a second's pause (Retry-After) and a cut
 * to 0.8 x the rate, climbed back over half a minute: 15% of a cold
 * load.  So a token is also refused while floor(r) + b - 1 tokens were
 * given in the last RL_WINDOW seconds (a second and the jitter of new
 * connections at the start), from the ring of token times: no window the
 * server sees holds more than the rate, for ~5% of the
 * throughput at the rate.
 *
 * Jitter.  A 429 at the configured rate, with no more sent in the
 * second before the refused request than the guard lets go, says the
 * server saw our requests closer together than we sent them (network
 * and its own queueing), not that the rate is too high.  Cut like any
 * other 429, it cost a cold load 3 s: 1 s of pause and 15 s of climbing
 * back from 0.8 x.  So such a 429 only pauses the bucket (Retry-After,
 * or until the window drains) and widens the guard's window by
 * RL_WINDOW_STEP; a second one within RL_JITTER_QUIET seconds means the
 * server's limit really is lower than the one configured, and cuts.
 *
 * Slow start (ratelimit_slow_start).  A bucket with no rate set used to
 * give tokens without limit until the first 429: every worker's whole
 * in-flight window (4 x 8 requests) went out in a few milliseconds, far
 * over the server's limit, and the tokens' times, all within those
 * milliseconds, said nothing of what the server took (the estimate was
 * up to twice the limit, and the rate cut to it drew more 429s).  Like
 * TCP's slow start, such a bucket begins at a modest rate with a burst
 * of one and multiplies it by RATELIMIT_SS_GROWTH every second until the
 * first 429; the tokens being paced, the ones given in the second before
 * the refused request are about what the server counted, and the cut
 * starts from there as above.  A server that never refuses sees the rate
 * pass RL_SS_END within seconds; the bucket is then unlimited, as asked.
 *
 * The rate grows only while it holds somebody back (from a try refused
 * for want of a token to the time it was told to come back), as TCP
 * grows its window only while the window limits the sender (RFC 7661).
 * A bucket made at start and first drawn from half a second later used
 * to begin at 4 x its start rate, and one drawn from by a few requests a
 * second (IMDb's batches, while TMDb takes the time) grew without being
 * tested, so its first real burst went out far above any rate the server
 * had seen.
 */
#include <sys/mman.h>

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <time.h>

#include "ratelimit.h"
#include "timeutil.h"

#define RL_RING		512	/* times of the last tokens given */
#define RL_FIT_MARGIN	0.0	/* tokens/s under the estimate: the fit */
#define RL_CUT		0.8	/* decrease: x the rate that fits */
#define RL_QUIET	1.0	/* s after a decrease: 429s of the same burst */
#define RL_MIN_RATE	0.5	/* tokens/s; Retry-After pauses go lower */
#define RL_NEAR_LO	0.97	/* x the fitting rate: the slow climb from */
#define RL_NEAR_HI	1.15	/* x the fitting rate: the slow climb to */
#define RL_SLOW		0.0025	/* x the fit, tokens/s per s, near it */
#define RL_FAST		0.05	/* x the fit (at least 1), tokens/s per s */
#define RL_WINDOW	1.05	/* s: the guard's window (1 s + jitter) */
#define RL_WINDOW_STEP	0.03	/* s: the window widened by a jitter 429 */
#define RL_WINDOW_MAX	1.2	/* s: at most */
#define RL_JITTER_QUIET	5.0	/* s: a 429 sooner after one is a real limit */
#define RL_SS_END	100000	/* tokens/s: slow start over, unlimited */

struct ratelimit {
	pthread_mutex_t	 mu;		/* process-shared, robust */
	double		 ceiling;	/* configured rate; <= 0: unlimited */
	double		 rate;		/* in force; <= 0: unlimited */
	double		 burst;		/* most tokens stored (>= 1) */
	double		 tokens;	/* stored now (as of `last`) */
	double		 last;		/* monotonic time of the last refill */
	double		 paused_until;	/* monotonic; no token before it */
	double		 fit;		/* rate that fitted at the last 429 */
	double		 next_cut;	/* 429s of requests sent before: no cut */
	double		 grown_at;	/* additive increase counted up to */
	long		 cuts;		/* decreases so far */
	int		 slow_start;	/* no rate set, no 429 yet: growing */
	double		 window;	/* the guard's window, s */
	double		 jitter_at;	/* the last 429 taken for jitter */
	long		 widened;	/* 429s taken for jitter */
	double		 want_until;	/* slow start: a refused try waits to */
	unsigned	 head;		/* next slot of `sent` */
	unsigned	 nsent;		/* slots in use (<= RL_RING) */
	double		 sent[RL_RING];	/* when the last tokens were given */
};

static void
rl_lock(struct ratelimit *rl)
{
	if (pthread_mutex_lock(&rl->mu) == EOWNERDEAD)
		pthread_mutex_consistent(&rl->mu);
}

static void
rl_unlock(struct ratelimit *rl)
{
	pthread_mutex_unlock(&rl->mu);
}

struct ratelimit *
ratelimit_new(double rate, double burst)
{
	struct ratelimit	*rl;
	pthread_mutexattr_t	 attr;
	int			 e;

	rl = mmap(NULL, sizeof(*rl), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (rl == MAP_FAILED)
		return NULL;
	if ((e = pthread_mutexattr_init(&attr)) != 0)
		goto fail;
	if ((e = pthread_mutexattr_setpshared(&attr,
	    PTHREAD_PROCESS_SHARED)) != 0 ||
	    (e = pthread_mutexattr_setrobust(&attr,
	    PTHREAD_MUTEX_ROBUST)) != 0 ||
	    (e = pthread_mutex_init(&rl->mu, &attr)) != 0) {
		pthread_mutexattr_destroy(&attr);
		goto fail;
	}
	pthread_mutexattr_destroy(&attr);
	rl->ceiling = rate > 0 ? rate : 0;
	rl->rate = rl->ceiling;
	rl->burst = burst < 1 ? 1 : burst;
	rl->tokens = rl->burst;		/* a fresh bucket starts full */
	rl->last = now_monotonic();
	rl->paused_until = 0;
	rl->fit = 0;
	rl->next_cut = 0;
	rl->grown_at = rl->last;
	rl->cuts = 0;
	rl->slow_start = 0;
	rl->window = RL_WINDOW;
	rl->jitter_at = -1;
	rl->widened = 0;
	rl->head = rl->nsent = 0;
	return rl;
fail:
	munmap(rl, sizeof(*rl));
	errno = e;
	return NULL;
}

void
ratelimit_slow_start(struct ratelimit *rl, double start)
{
	if (rl == NULL || start <= 0)
		return;
	rl_lock(rl);
	if (rl->ceiling <= 0 && rl->cuts == 0) {
		rl->slow_start = 1;
		rl->want_until = 0;
		rl->rate = start;
		rl->tokens = 1;
		rl->last = rl->grown_at = now_monotonic();
	}
	rl_unlock(rl);
}

/* Whether the rate in force is below the configured one. */
static int
lowered(const struct ratelimit *rl)
{
	return rl->rate > 0 && (rl->ceiling <= 0 || rl->rate < rl->ceiling);
}

/* Remembers when a token was given. */
static void
count_token(struct ratelimit *rl, double now)
{
	rl->sent[rl->head] = now;
	rl->head = (rl->head + 1) % RL_RING;
	if (rl->nsent < RL_RING)
		rl->nsent++;
}

/* The i-th most recent time a token was given (i < nsent). */
static double
sent_ago(const struct ratelimit *rl, unsigned i)
{
	return rl->sent[(rl->head + RL_RING - 1 - i) % RL_RING];
}

/* Tokens given in the second before t (t itself excluded). */
static unsigned
sent_before(const struct ratelimit *rl, double t)
{
	unsigned	 i, n = 0;
	double		 ts;

	for (i = 0; i < rl->nsent; i++) {
		ts = sent_ago(rl, i);
		if (ts <= t - 1)
			break;		/* older ones are older still */
		if (ts < t)
			n++;
	}
	return n;
}

/*
 * Seconds until at most `room` of the tokens given so far are less than
 * a second old: the server's window has to drain that far before a
 * request at any rate can pass.
 */
static double
drain_time(const struct ratelimit *rl, double now, double room)
{
	unsigned	 k;
	double		 w;

	k = room < 0 ? 0 : (unsigned)room;	/* the (room+1)-th newest */
	if (k >= rl->nsent)
		return 0;
	w = sent_ago(rl, k) + 1 - now;
	return w > 0 ? w : 0;
}

/*
 * Additive increase from grown_at (or the end of a pause) to now: quick
 * up to RL_NEAR_LO x fit, slow up to RL_NEAR_HI x fit, quick beyond,
 * never above the ceiling.
 */
static void
grow(struct ratelimit *rl, double now)
{
	double	 from, dt, slope, bound, need, fast, slow;

	if (!lowered(rl))
		return;
	from = rl->grown_at > rl->paused_until ? rl->grown_at :
	    rl->paused_until;
	if (now <= from)
		return;
	dt = now - from;
	rl->grown_at = now;
	if (rl->slow_start) {
		/* only the time somebody waited for a token counts */
		dt = (now < rl->want_until ? now : rl->want_until) - from;
		if (dt > 0)
			rl->rate *= pow(RATELIMIT_SS_GROWTH, dt);
		if (rl->rate > RL_SS_END) {
			rl->rate = 0;		/* no limit met: unlimited */
			rl->slow_start = 0;
		}
		return;
	}
	fast = RL_FAST * rl->fit > 1 ? RL_FAST * rl->fit : 1;
	slow = RL_SLOW * rl->fit > 0.01 ? RL_SLOW * rl->fit : 0.01;
	while (dt > 0 && lowered(rl)) {
		if (rl->rate < RL_NEAR_LO * rl->fit) {
			slope = fast;
			bound = RL_NEAR_LO * rl->fit;
		} else if (rl->rate < RL_NEAR_HI * rl->fit) {
			slope = slow;
			bound = RL_NEAR_HI * rl->fit;
		} else {
			slope = fast;
			bound = INFINITY;
		}
		if (rl->ceiling > 0 && bound > rl->ceiling)
			bound = rl->ceiling;
		need = (bound - rl->rate) / slope;
		if (need >= dt) {
			rl->rate += slope * dt;
			dt = 0;
		} else {
			rl->rate = bound;
			dt -= need;
		}
	}
	if (rl->ceiling > 0 && rl->rate > rl->ceiling)
		rl->rate = rl->ceiling;
}

/*
 * The window guard: seconds until fewer than floor(rate) + burst - 1
 * tokens were given in the last RL_WINDOW seconds (0: a token may go).
 */
static double
window_wait(const struct ratelimit *rl, double now, double burst)
{
	double		 cap, w;
	unsigned	 k;

	cap = floor(rl->rate) + burst - 1;
	if (cap < 1)
		cap = 1;
	if (cap >= RL_RING)
		return 0;		/* the ring is too short to tell */
	k = (unsigned)cap;
	if (k > rl->nsent)
		return 0;
	w = sent_ago(rl, k - 1) + rl->window - now;	/* the k-th newest */
	return w > 0 ? w : 0;
}

int
ratelimit_try_at(struct ratelimit *rl, double now, double *wait_s)
{
	double	 w = 0, burst;
	int	 got = 0;

	if (rl == NULL)
		return 1;
	rl_lock(rl);
	if (now < 0)
		now = now_monotonic();	/* under the lock: times stay in order */
	if (now < rl->paused_until) {
		w = rl->paused_until - now;
		goto out;
	}
	if (rl->rate <= 0) {
		got = 1;
		goto out;
	}
	/* the tokens up to now come at the rate that was in force */
	burst = lowered(rl) ? 1 : rl->burst;
	if (now > rl->last) {
		rl->tokens += (now - rl->last) * rl->rate;
		if (rl->tokens > burst)
			rl->tokens = burst;
		rl->last = now;
	}
	grow(rl, now);
	if (rl->tokens < 1)
		w = (1 - rl->tokens) / rl->rate;
	else if ((w = window_wait(rl, now, burst)) <= 0) {
		rl->tokens -= 1;
		got = 1;
	}
	if (!got && rl->slow_start && now + w > rl->want_until)
		rl->want_until = now + w;
out:
	if (got)
		count_token(rl, now);
	rl_unlock(rl);
	if (!got && wait_s != NULL)
		*wait_s = w;
	return got;
}

int
ratelimit_try(struct ratelimit *rl, double *wait_s)
{
	return ratelimit_try_at(rl, -1, wait_s);
}

void
ratelimit_acquire(struct ratelimit *rl)
{
	double		 w;

	while (!ratelimit_try(rl, &w)) {
		/* never sleep long: a pause may be lifted or moved */
		if (w > 1)
			w = 1;
		if (w < 0.0005)
			w = 0.0005;
		sleep_unless(w, NULL, NULL);
	}
}

static void
pause_locked(struct ratelimit *rl, double now, double seconds)
{
	double	 until = now + seconds;

	if (until > rl->paused_until) {
		rl->paused_until = until;
		rl->tokens = 0;
		rl->last = until;
	}
}

void
ratelimit_pause(struct ratelimit *rl, double seconds)
{
	if (rl == NULL || seconds <= 0)
		return;
	rl_lock(rl);
	pause_locked(rl, now_monotonic(), seconds);
	rl_unlock(rl);
}

/*
 * A 429 to take for timing jitter (ratelimit.c's top says why): the
 * bucket at its configured rate, no more sent in the second before than
 * the guard lets go, no such 429 in the last RL_JITTER_QUIET seconds,
 * and room to widen the window.
 */
static int
jitter(const struct ratelimit *rl, double est, double now)
{
	return rl->ceiling > 0 && !lowered(rl) &&
	    est <= floor(rl->ceiling) + rl->burst - 1 &&
	    (rl->jitter_at < 0 || now - rl->jitter_at > RL_JITTER_QUIET) &&
	    rl->window + RL_WINDOW_STEP <= RL_WINDOW_MAX + 1e-9;
}

void
ratelimit_throttle_at(struct ratelimit *rl, double retry_after_s,
    double sent_at, double now)
{
	double		 t, est, base;

	if (rl == NULL)
		return;
	rl_lock(rl);
	if (now < 0)
		now = now_monotonic();
	if (retry_after_s > 0)
		pause_locked(rl, now, retry_after_s);
	t = sent_at >= 0 && sent_at <= now ? sent_at : now;
	if (t < rl->next_cut)
		goto out;		/* the same burst: cut already */
	/* what the server took in the second before it refused this one */
	est = (double)sent_before(rl, t);
	if (est < 1)
		est = 1;
	if (jitter(rl, est, now)) {
		rl->window += RL_WINDOW_STEP;
		rl->jitter_at = now;
		rl->widened++;
	} else {
		rl->slow_start = 0;
		rl->fit = est - RL_FIT_MARGIN;
		if (rl->fit < RL_MIN_RATE)
			rl->fit = RL_MIN_RATE;
		base = rl->rate > 0 && rl->rate < rl->fit ? rl->rate : rl->fit;
		rl->rate = base * RL_CUT;
		if (rl->rate < RL_MIN_RATE)
			rl->rate = RL_MIN_RATE;
		rl->cuts++;
		rl->grown_at = now;
	}
	/*
	 * With no Retry-After (or a short one), wait for the window to
	 * drain; either pause leaves the bucket empty.
	 */
	pause_locked(rl, now, drain_time(rl, now, est - 1));
	rl->next_cut = now + RL_QUIET > rl->paused_until ?
	    now + RL_QUIET : rl->paused_until;
out:
	rl_unlock(rl);
}

void
ratelimit_throttle_sent(struct ratelimit *rl, double retry_after_s,
    double sent_at)
{
	ratelimit_throttle_at(rl, retry_after_s, sent_at, -1);
}

void
ratelimit_throttle(struct ratelimit *rl, double retry_after_s)
{
	ratelimit_throttle_at(rl, retry_after_s, -1, -1);
}

double
ratelimit_rate_at(struct ratelimit *rl, double now)
{
	double	 r;

	if (rl == NULL)
		return 0;
	rl_lock(rl);
	if (now < 0)
		now = now_monotonic();
	grow(rl, now);
	r = rl->rate > 0 ? rl->rate : 0;
	rl_unlock(rl);
	return r;
}

double
ratelimit_rate(struct ratelimit *rl)
{
	return ratelimit_rate_at(rl, -1);
}

/* A counter read under the lock: the cuts (0) or the widenings (1). */
static long
counter(struct ratelimit *rl, int widened)
{
	long	 n;

	if (rl == NULL)
		return 0;
	rl_lock(rl);
	n = widened ? rl->widened : rl->cuts;
	rl_unlock(rl);
	return n;
}

long
ratelimit_widenings(struct ratelimit *rl)
{
	return counter(rl, 1);
}

long
ratelimit_decreases(struct ratelimit *rl)
{
	return counter(rl, 0);
}

void
ratelimit_free(struct ratelimit *rl)
{
	/*
	 * Only this process's mapping goes; children that still share the
	 * page keep theirs.  The mutex needs no destroy on Linux.
	 */
	if (rl != NULL)
		munmap(rl, sizeof(*rl));
}
