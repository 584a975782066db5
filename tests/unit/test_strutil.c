/* test_strutil.c: unit tests for the shared string comparator used with qsort and bsearch. */
#include <stdlib.h>
#include <string.h>

#include "strutil.h"
#include "tap.h"

int
main(void)
{
	char		*ids[] = { "tt0000003", "tt0000001", "tt10", "tt0000002" };
	const char	*words[] = { "the", "and", "a", "of" };
	const char	*key, *missing = "zzz";
	char		**hit;
	size_t		 n = sizeof(ids) / sizeof(ids[0]);

	ok(strp_cmp(&ids[0], &ids[1]) > 0, "later string compares greater");
	ok(strp_cmp(&ids[1], &ids[0]) < 0, "earlier string compares less");
	ok(strp_cmp(&ids[2], &ids[2]) == 0, "a string equals itself");
	qsort(ids, n, sizeof(*ids), strp_cmp);
	is_str(ids[0], "tt0000001", "qsort: first in byte order");
	is_str(ids[1], "tt0000002", "qsort: second");
	is_str(ids[2], "tt0000003", "qsort: third");
	is_str(ids[3], "tt10", "qsort: byte order, not numeric");
	key = "tt0000002";
	hit = bsearch(&key, ids, n, sizeof(*ids), strp_cmp);
	ok(hit == &ids[1], "bsearch finds a present key");
	ok(bsearch(&missing, ids, n, sizeof(*ids), strp_cmp) == NULL,
	    "bsearch misses an absent key");
	qsort(words, 4, sizeof(*words), strp_cmp);
	ok(strcmp(words[0], "a") == 0 && strcmp(words[3], "the") == 0,
	    "works on const char * arrays too");
	return done_testing();
}
