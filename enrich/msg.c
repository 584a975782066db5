/* msg.c: the framing between meta-enrich's parent and its workers: a fixed header, counters, two bodies. */
#include <errno.h>
#include <unistd.h>

#include "enrich.h"
#include "fdio.h"

int
enrich_msg_send(int fd, const struct msg_hdr *h, const uint64_t *stats,
    const void *p1, const void *p2)
{
	if (write_full(fd, h, sizeof(*h)) == -1)
		return -1;
	if (h->nstats > 0 &&
	    write_full(fd, stats, h->nstats * sizeof(*stats)) == -1)
		return -1;
	if (h->len1 > 0 && write_full(fd, p1, h->len1) == -1)
		return -1;
	if (h->len2 > 0 && write_full(fd, p2, h->len2) == -1)
		return -1;
	return 0;
}
