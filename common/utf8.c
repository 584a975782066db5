/* utf8.c: strict UTF-8 checks (no overlong forms, no surrogates), on libunistring. */
#include <stddef.h>
#include <stdint.h>

#include <unistr.h>

#include "utf8.h"

/* libunistring's u8_mbtoucr and u8_check are strict in the same way. */
size_t
jutf8_seqlen(const unsigned char *s, size_t avail)
{
	ucs4_t	c;
	int	n;

	if (avail == 0)
		return 0;
	if (s[0] < 0x80)
		return 1;
	return (n = u8_mbtoucr(&c, s, avail)) > 0 ? (size_t)n : 0;
}

int
jutf8_valid(const char *s, size_t len, size_t *bad)
{
	const uint8_t	*u = (const uint8_t *)s, *e;

	if ((e = u8_check(u, len)) == NULL)
		return 1;
	if (bad != NULL)
		*bad = (size_t)(e - u);
	return 0;
}
