/* msg.c: the framing between meta-enrich's parent and its workers: a fixed header, counters, two bodies. */
#include <errno.h>
#include <unistd.h>

#include "enrich.h"

int
enrich_write_full(int fd, const void *p, size_t n)
{
	const char *c = p;
	ssize_t w;

	while (n > 0) {
		w = write(fd, c, n);
		if (w == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

int
enrich_read_full(int fd, void *p, size_t n)
{
	char *c = p;
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		r = read(fd, c + got, n - got);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			return got == 0 ? 0 : -1;
		got += (size_t)r;
	}
	return 1;
}

int
enrich_msg_send(int fd, const struct msg_hdr *h, const uint64_t *stats,
    const void *p1, const void *p2)
{
	if (enrich_write_full(fd, h, sizeof(*h)) == -1)
		return -1;
	if (h->nstats > 0 &&
	    enrich_write_full(fd, stats, h->nstats * sizeof(*stats)) == -1)
		return -1;
	if (h->len1 > 0 && enrich_write_full(fd, p1, h->len1) == -1)
		return -1;
	if (h->len2 > 0 && enrich_write_full(fd, p2, h->len2) == -1)
		return -1;
	return 0;
}
