/* xalloc.h: allocation wrappers that die on exhaustion, so callers need no OOM paths. */
#ifndef PLEXPIPE_XALLOC_H
#define PLEXPIPE_XALLOC_H

#include <stddef.h>

/*
 * Out of memory is not a recoverable condition for a pipeline stage: each
 * of these calls err(1, NULL) when the allocation fails, like git's xmalloc.
 * This is the one place a shared module may exit.
 */
void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
int	 xasprintf(char **, const char *, ...)
	    __attribute__((__format__(__printf__, 2, 3)));
/* p, the result of a library call that allocates (libunistring's u8_*), or death. */
void	*xnonnull(void *p);
/*
 * Death for a size that cannot be allocated or formatted at all (a
 * buffer past SIZE_MAX, json-c out of memory): err(1) with errno's text,
 * ENOMEM when errno is 0.
 */
void	 xalloc_failed(void) __attribute__((__noreturn__));
/*
 * From now on blocks of XALLOC_MMAP_MIN bytes or more are always
 * mmapped, so each is given back to the system when freed. glibc would
 * raise that threshold to the size of each such block freed and serve
 * the next ones from the heap, whose holes make a long-lived process
 * that makes and frees blocks of 100 KB to a few MB all run (meta-enrich's
 * parent) grow with the run: 26 MB at 2,000 items, 31 MB at 20,000; 23
 * and 24 MB with this. It costs a page fault per page of each block.
 */
#define XALLOC_MMAP_MIN	(128 * 1024)
void	 xalloc_mmap_big(void);

#endif
