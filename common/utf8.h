/* utf8.h: strict UTF-8 checks (no overlong forms, no surrogates), on libunistring. */
#ifndef PLEXPIPE_UTF8_H
#define PLEXPIPE_UTF8_H

#include <stddef.h>

/*
 * Strict UTF-8 check (no overlong forms, no surrogates, nothing above
 * U+10FFFF). Returns 1 when s[0..len) is valid, else 0 and, when bad is
 * not NULL, the byte offset of the first invalid sequence in *bad.
 */
int		 jutf8_valid(const char *s, size_t len, size_t *bad);
/* Length of the valid UTF-8 sequence at s (1..4), or 0 when invalid. */
size_t		 jutf8_seqlen(const unsigned char *s, size_t avail);

#endif
