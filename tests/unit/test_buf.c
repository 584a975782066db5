/* test_buf.c: unit tests for the growable buffer and the allocation wrappers. */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "tap.h"
#include "xalloc.h"

int
main(void)
{
	struct buf	 b = BUF_INIT;
	char		*p, big[5000];
	size_t		 len;
	int		 i;

	buf_appends(&b, "abc");
	is_int(b.len, 3, "append sets len");
	is_str(b.data, "abc", "append NUL-terminates");
	buf_printf(&b, "-%d-%s", 42, "x");
	is_str(b.data, "abc-42-x", "printf appends");
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	buf_printf(&b, "%s", big);
	is_int(b.len, 8 + 4999, "printf larger than capacity grows");
	ok(b.data[b.len] == '\0' && b.data[b.len - 1] == 'z', "still terminated");
	buf_reset(&b);
	is_int(b.len, 0, "reset empties");
	is_str(b.data, "", "reset leaves an empty string");
	for (i = 0; i < 10000; i++)
		buf_append(&b, "0123456789", 10);
	is_int(b.len, 100000, "many appends");
	ok(b.cap > b.len, "capacity has room for NUL");
	buf_append(&b, "\0x", 2);
	is_int(b.len, 100002, "binary append counts embedded NUL");
	p = buf_release(&b, &len);
	is_int(len, 100002, "release reports length");
	ok(b.data == NULL && b.len == 0 && b.cap == 0, "release empties buf");
	free(p);
	p = buf_release(&b, &len);
	ok(p != NULL && len == 0 && p[0] == '\0', "release of empty buf gives \"\"");
	free(p);
	buf_free(&b);
	buf_free(&b);
	ok(1, "double buf_free is safe");

	p = xstrndup("hello", 3);
	is_str(p, "hel", "xstrndup");
	free(p);
	xasprintf(&p, "%s=%d", "n", 7);
	is_str(p, "n=7", "xasprintf");
	free(p);
	p = xreallocarray(NULL, 0, 8);
	ok(p != NULL, "xreallocarray of 0 elements gives a pointer");
	free(p);
	return done_testing();
}
