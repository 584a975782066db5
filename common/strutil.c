/* strutil.c: small string helpers the stages share (comparators for qsort and bsearch). */
#include <string.h>

#include "strutil.h"

int
strp_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}
