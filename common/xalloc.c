/* xalloc.c: allocation wrappers that die on exhaustion, so callers need no OOM paths. */
#include <err.h>
#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

void *
xmalloc(size_t n)
{
	void	*p;

	/* malloc(0) may return NULL legitimately; ask for one byte instead. */
	if ((p = malloc(n == 0 ? 1 : n)) == NULL)
		err(1, NULL);
	return p;
}

void *
xcalloc(size_t nmemb, size_t size)
{
	void	*p;

	if (nmemb == 0 || size == 0)
		nmemb = size = 1;
	if ((p = calloc(nmemb, size)) == NULL)
		err(1, NULL);
	return p;
}

void *
xreallocarray(void *ptr, size_t nmemb, size_t size)
{
	void	*p;

	if (nmemb == 0 || size == 0)
		nmemb = size = 1;
	if ((p = reallocarray(ptr, nmemb, size)) == NULL)
		err(1, NULL);
	return p;
}

char *
xstrdup(const char *s)
{
	char	*p;

	if ((p = strdup(s)) == NULL)
		err(1, NULL);
	return p;
}

char *
xstrndup(const char *s, size_t n)
{
	char	*p;

	if ((p = strndup(s, n)) == NULL)
		err(1, NULL);
	return p;
}

int
xasprintf(char **ret, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vasprintf(ret, fmt, ap);
	va_end(ap);
	if (n == -1)
		err(1, NULL);
	return n;
}

void
xalloc_failed(void)
{
	if (errno == 0)
		errno = ENOMEM;
	err(1, NULL);
}

void *
xnonnull(void *p)
{
	if (p == NULL)
		err(1, NULL);
	return p;
}

void
xalloc_mmap_big(void)
{
	/* a fixed threshold also turns glibc's dynamic one off (mallopt(3)) */
	(void)mallopt(M_MMAP_THRESHOLD, XALLOC_MMAP_MIN);
}
