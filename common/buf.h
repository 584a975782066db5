/* buf.h: a growable byte buffer, always NUL-terminated, for HTTP bodies and JSON text. */
#ifndef PLEXPIPE_BUF_H
#define PLEXPIPE_BUF_H

#include <stddef.h>

struct buf {
	char	*data;	/* NUL-terminated; NULL until the first append */
	size_t	 len;	/* bytes used, not counting the NUL */
	size_t	 cap;	/* bytes allocated */
};

#define BUF_INIT { NULL, 0, 0 }

/* Appending may move data: pointers into it are invalid afterwards. */
void	 buf_append(struct buf *, const void *, size_t);
void	 buf_appends(struct buf *, const char *);
void	 buf_printf(struct buf *, const char *, ...)
	    __attribute__((__format__(__printf__, 2, 3)));
void	 buf_reset(struct buf *);	/* len = 0, keeps the allocation */
void	 buf_free(struct buf *);	/* frees data; the struct can be reused */
/* Hands data to the caller (who frees it) and leaves the buf empty. */
char	*buf_release(struct buf *, size_t *);

#endif
