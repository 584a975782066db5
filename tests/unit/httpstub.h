/* httpstub.h: a scripted loopback HTTP/1.1 server for unit tests, forked from the test, recording every request. */
/*
 * stub_start() binds 127.0.0.1:0, reads the port back with getsockname()
 * and forks a server process (its own process group, killed by
 * stub_stop() and by the death of the test).  Each connection gets its
 * own forked handler, so concurrent clients really are served
 * concurrently and keep-alive connections can be counted.  Requests are
 * logged in a MAP_SHARED array the test reads directly.
 *
 * What to answer is scripted in the request's query string, so one
 * server serves every case of a test and retries of one request (same
 * path) can be told apart by their hit number:
 *
 *   status=N	final status (default 200)
 *   fail=K	the first K hits on this exact path fail, then `status`
 *   fstatus=N	status of a failing hit (default 503)
 *   ra=V	Retry-After on failing hits; "date+N" sends an HTTP-date
 *		N seconds ahead
 *   fclose=1	a failing hit closes the connection without answering
 *   fdelay=MS	a failing hit waits MS before answering (a stall)
 *   delay=MS	every hit waits MS before answering
 *   echo=1	failing/final error bodies quote the request head
 *   html=1	error bodies are an HTML page
 *   big=N	a 200 body of N bytes ("{"pad":"xxx..."}")
 *   nolen=1	no Content-Length: the body ends when the connection closes
 */
#ifndef PLEXPIPE_HTTPSTUB_H
#define PLEXPIPE_HTTPSTUB_H

#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define STUB_LOG_MAX	4096

struct stub_req {
	double	 t;		/* monotonic arrival time */
	char	 method[8];
	char	 path[512];	/* with query string */
	char	 head[1024];	/* request head, truncated */
	size_t	 body_len;
	int	 conn;		/* connection number, from 1 */
	int	 hit;		/* how many times this path came, from 1 */
	int	 concurrent;	/* requests in the server at arrival, incl. this */
};

struct stub_shm {
	int		 nreq;
	int		 nconn;
	int		 in_flight;
	int		 max_in_flight;
	struct stub_req	 req[STUB_LOG_MAX];
};

struct stub {
	pid_t		 pid;
	int		 port;
	char		 url[64];	/* "http://127.0.0.1:PORT" */
	struct stub_shm	*shm;
};

static inline double
stub_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline void
stub_sleep_ms(long ms)
{
	struct timespec	 ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Value of query parameter `name` in path, copied into out; 0 when absent. */
static inline int
stub_param(const char *path, const char *name, char *out, size_t outlen)
{
	const char	*q = strchr(path, '?'), *p, *e;
	size_t		 n = strlen(name), len;

	for (p = q; p != NULL; p = strchr(p + 1, '&')) {
		if (strncmp(p + 1, name, n) != 0 || p[1 + n] != '=')
			continue;
		p += n + 2;
		e = p + strcspn(p, "&");
		len = (size_t)(e - p) < outlen - 1 ? (size_t)(e - p) : outlen - 1;
		memcpy(out, p, len);
		out[len] = '\0';
		return 1;
	}
	return 0;
}

static inline long
stub_iparam(const char *path, const char *name, long dflt)
{
	char	 v[32];

	return stub_param(path, name, v, sizeof(v)) ? atol(v) : dflt;
}

static inline int
stub_write_all(int fd, const char *p, size_t n)
{
	ssize_t	 w;

	while (n > 0) {
		if ((w = write(fd, p, n)) <= 0) {
			if (w == -1 && errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static inline const char *
stub_reason(long s)
{
	switch (s) {
	case 200: return "OK";
	case 401: return "Unauthorized";
	case 404: return "Not Found";
	case 408: return "Request Timeout";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	default: return "Whatever";
	}
}

/* Answers one parsed request; returns -1 to drop the connection. */
static inline int
stub_answer(int fd, struct stub_shm *shm, int idx)
{
	struct stub_req	*r = &shm->req[idx];
	char		 ra[64], rav[32], hdr[512], *body, *full;
	size_t		 cap = 4096 + sizeof(r->head);
	long		 status, delay, big;
	int		 failing, n, rc;

	failing = r->hit <= stub_iparam(r->path, "fail", 0);
	status = failing ? stub_iparam(r->path, "fstatus", 503) :
	    stub_iparam(r->path, "status", 200);
	delay = stub_iparam(r->path, "delay", 0);
	if (failing)
		delay += stub_iparam(r->path, "fdelay", 0);
	if (delay > 0)
		stub_sleep_ms(delay);
	if (failing && stub_iparam(r->path, "fclose", 0))
		return -1;
	big = failing ? 0 : stub_iparam(r->path, "big", 0);
	if (big > 16)
		cap = (size_t)big + 1;
	body = malloc(cap);
	if (big > 16) {
		memset(body, 'x', cap - 1);
		memcpy(body, "{\"pad\":\"", 8);
		memcpy(body + cap - 3, "\"}", 2);
		body[cap - 1] = '\0';
	} else if (status >= 200 && status < 300)
		snprintf(body, cap, "{\"path\":\"%s\",\"hit\":%d,\"conn\":%d}",
		    r->path, r->hit, r->conn);
	else if (stub_iparam(r->path, "html", 0))
		snprintf(body, cap, "<!DOCTYPE html>\n<html><head><title>%ld "
		    "%s</title><style>body{color:red}</style></head>\n<body>"
		    "<h1>%s</h1><p>The upstream\tserver\r\nfailed.</p><hr>"
		    "<center>nginx</center></body></html>\n", status,
		    stub_reason(status), stub_reason(status));
	else
		snprintf(body, cap, "{\"error\":\"scripted failure\",\"hit\":%d"
		    "%s%s}", r->hit, stub_iparam(r->path, "echo", 0) ?
		    ",\"request\":" : "", stub_iparam(r->path, "echo", 0) ?
		    r->head : "");
	ra[0] = '\0';
	if (failing && stub_param(r->path, "ra", rav, sizeof(rav))) {
		if (strncmp(rav, "date+", 5) == 0) {
			time_t		 t = time(NULL) + atol(rav + 5);
			struct tm	 tm;

			gmtime_r(&t, &tm);
			strftime(ra, sizeof(ra),
			    "Retry-After: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
		} else
			snprintf(ra, sizeof(ra), "Retry-After: %s\r\n", rav);
	}
	if (stub_iparam(r->path, "nolen", 0))
		n = snprintf(hdr, sizeof(hdr), "HTTP/1.1 %ld %s\r\nContent-Type: "
		    "application/json\r\nConnection: close\r\n%s\r\n", status,
		    stub_reason(status), ra);
	else
		n = snprintf(hdr, sizeof(hdr), "HTTP/1.1 %ld %s\r\nContent-Type: %s\r\n"
		    "Content-Length: %zu\r\n%s\r\n", status, stub_reason(status),
		    strncmp(body, "<!", 2) == 0 ? "text/html; charset=utf-8" :
		    "application/json", strlen(body), ra);
	/* one write: a split answer meets Nagle and delayed ACK (40 ms) */
	full = malloc((size_t)n + strlen(body));
	memcpy(full, hdr, (size_t)n);
	memcpy(full + n, body, strlen(body));
	rc = stub_write_all(fd, full, (size_t)n + strlen(body));
	free(full);
	free(body);
	if (rc == 0 && stub_iparam(r->path, "nolen", 0))
		rc = -1;	/* the close ends the body */
	return rc;
}

/* Serves one connection: requests one after another (keep-alive). */
static inline void
stub_conn(int fd, struct stub_shm *shm, int conn)
{
	char		 buf[65536], *end, *cl;
	size_t		 have = 0, headlen, blen, need;
	ssize_t		 n;
	int		 idx, i, cur, m, rc;
	struct stub_req	*r;

	for (;;) {
		while ((end = memmem(buf, have, "\r\n\r\n", 4)) == NULL) {
			if (have == sizeof(buf))
				return;
			n = read(fd, buf + have, sizeof(buf) - have);
			if (n <= 0)
				return;
			have += (size_t)n;
		}
		headlen = (size_t)(end - buf) + 4;
		blen = 0;
		buf[headlen - 1] = '\0';
		if ((cl = strcasestr(buf, "\r\nContent-Length:")) != NULL)
			blen = (size_t)atol(cl + 17);
		/* a body larger than the buffer is counted and dropped */
		if (headlen + blen > sizeof(buf)) {
			size_t got = have - headlen;

			while (got < blen) {
				n = read(fd, buf + headlen, sizeof(buf) - headlen);
				if (n <= 0)
					return;
				got += (size_t)n;
			}
			have = headlen;
			need = headlen;
		} else
			need = headlen + blen;
		while (have < need) {
			n = read(fd, buf + have, sizeof(buf) - have);
			if (n <= 0)
				return;
			have += (size_t)n;
		}
		idx = __atomic_fetch_add(&shm->nreq, 1, __ATOMIC_SEQ_CST);
		if (idx >= STUB_LOG_MAX)
			return;
		cur = __atomic_add_fetch(&shm->in_flight, 1, __ATOMIC_SEQ_CST);
		m = __atomic_load_n(&shm->max_in_flight, __ATOMIC_SEQ_CST);
		while (cur > m && !__atomic_compare_exchange_n(
		    &shm->max_in_flight, &m, cur, 0, __ATOMIC_SEQ_CST,
		    __ATOMIC_SEQ_CST))
			;
		r = &shm->req[idx];
		r->t = stub_now();
		r->concurrent = cur;
		r->conn = conn;
		r->body_len = blen;
		sscanf(buf, "%7s %511s", r->method, r->path);
		strlcpy(r->head, buf, sizeof(r->head));
		for (i = 0, r->hit = 1; i < idx; i++)
			if (strcmp(shm->req[i].path, r->path) == 0)
				r->hit++;
		rc = stub_answer(fd, shm, idx);
		__atomic_sub_fetch(&shm->in_flight, 1, __ATOMIC_SEQ_CST);
		if (rc == -1)
			return;
		memmove(buf, buf + need, have - need);
		have -= need;
	}
}

static inline int
stub_start(struct stub *s)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	int			 lfd, fd, one = 1, conn;
	pid_t			 pid;

	memset(s, 0, sizeof(*s));
	s->shm = mmap(NULL, sizeof(*s->shm), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (s->shm == MAP_FAILED)
		return -1;
	if ((lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(lfd, 128) == -1 ||
	    getsockname(lfd, (struct sockaddr *)&sin, &len) == -1) {
		close(lfd);
		return -1;
	}
	s->port = ntohs(sin.sin_port);
	snprintf(s->url, sizeof(s->url), "http://127.0.0.1:%d", s->port);
	fflush(stdout);
	if ((pid = fork()) == -1) {
		close(lfd);
		return -1;
	}
	if (pid == 0) {
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		signal(SIGCHLD, SIG_IGN);	/* handlers are reaped by the kernel */
		alarm(300);			/* bound even if nobody stops us */
		for (;;) {
			if ((fd = accept(lfd, NULL, NULL)) == -1) {
				if (errno == EINTR)
					continue;
				_exit(1);
			}
			conn = __atomic_add_fetch(&s->shm->nconn, 1,
			    __ATOMIC_SEQ_CST);
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
			    sizeof(one));
			if (fork() == 0) {
				close(lfd);
				prctl(PR_SET_PDEATHSIG, SIGKILL);
				alarm(120);
				stub_conn(fd, s->shm, conn);
				close(fd);
				_exit(0);
			}
			close(fd);
		}
	}
	setpgid(pid, pid);
	close(lfd);
	s->pid = pid;
	return 0;
}

/* Clears the log once stalled handlers are done (at most 5 s). */
static inline void
stub_reset(struct stub *s)
{
	double	 end = stub_now() + 5;

	while (__atomic_load_n(&s->shm->in_flight, __ATOMIC_SEQ_CST) > 0 &&
	    stub_now() < end)
		stub_sleep_ms(10);
	memset(s->shm, 0, sizeof(*s->shm));
}

static inline void
stub_stop(struct stub *s)
{
	if (s->pid > 0) {
		kill(-s->pid, SIGKILL);
		waitpid(s->pid, NULL, 0);
		s->pid = 0;
	}
	if (s->shm != NULL && s->shm != MAP_FAILED)
		munmap(s->shm, sizeof(*s->shm));
	s->shm = NULL;
}

/* A port on 127.0.0.1 nobody listens on (bound, then closed). */
static inline int
stub_dead_port(void)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	int			 fd, port = -1;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sin, &len) == 0)
		port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

#endif
