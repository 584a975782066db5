/* strutil.h: small string helpers the stages share (comparators for qsort and bsearch). */
#ifndef PLEXPIPE_STRUTIL_H
#define PLEXPIPE_STRUTIL_H

/*
 * strcmp over two elements of an array of strings (char * or
 * const char *), for qsort(3) and bsearch(3); bsearch's key is then the
 * address of a char * too.
 */
int	 strp_cmp(const void *, const void *);

#endif
