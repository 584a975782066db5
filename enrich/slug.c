/* slug.c: title slugs: leading article dropped, folded to ASCII, lowercase, '-' between words. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "enrich.h"
#include "jsonutil.h"
#include "xalloc.h"

/* U+00C0..U+00FF folded to ASCII; "" for signs such as U+00D7. */
static const char *const latin1[64] = {
	"A", "A", "A", "A", "A", "A", "AE", "C", "E", "E", "E", "E",
	"I", "I", "I", "I", "D", "N", "O", "O", "O", "O", "O", "",
	"O", "U", "U", "U", "U", "Y", "TH", "ss",
	"a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e",
	"i", "i", "i", "i", "d", "n", "o", "o", "o", "o", "o", "",
	"o", "u", "u", "u", "u", "y", "th", "y"
};

/*
 * U+0100..U+017F (Latin Extended-A): one letter each, except the
 * ligatures marked 1-4 (IJ, ij, OE, oe).
 */
static const char latin_ext_a[] =
	"AaAaAaCcCcCcCcDdDdEeEeEeEeEeGgGgGgGgHhHhIiIiIiIiIi12"
	"JjKkkLlLlLlLlLlNnNnNnnNnOoOoOo34RrRrRrSsSsSsSsTtTtTt"
	"UuUuUuUuUuUuWwYyYZzZzZzs";

/* The ASCII folding of one code point ("" when it has none). */
static const char *
fold(uint32_t cp, char one[2])
{
	static const char *const lig[] = { "IJ", "ij", "OE", "oe" };
	char c;

	if (cp < 0x80) {
		one[0] = (char)cp;
		one[1] = '\0';
		return one;
	}
	if (cp >= 0xc0 && cp <= 0xff)
		return latin1[cp - 0xc0];
	if (cp >= 0x100 && cp <= 0x17f) {
		c = latin_ext_a[cp - 0x100];
		if (c >= '1' && c <= '4')
			return lig[c - '1'];
		one[0] = c;
		one[1] = '\0';
		return one;
	}
	return "";
}

static size_t
article_len(const char *s)
{
	if (strncasecmp(s, "the ", 4) == 0)
		return 4;
	if (strncasecmp(s, "an ", 3) == 0)
		return 3;
	if (strncasecmp(s, "a ", 2) == 0)
		return 2;
	return 0;
}

char *
enrich_slug(const char *title)
{
	struct buf b = BUF_INIT;
	const unsigned char *p, *end;
	const char *f;
	char one[2], c;
	uint32_t cp;
	int dash = 0;

	if (title == NULL)
		return xstrdup("");
	p = (const unsigned char *)title + article_len(title);
	end = p + strlen((const char *)p);
	while (p < end) {
		p += jutf8_decode(p, (size_t)(end - p), &cp);
		for (f = fold(cp, one); *f != '\0'; f++) {
			c = (char)tolower((unsigned char)*f);
			if (isalnum((unsigned char)c)) {
				if (dash && b.len > 0)
					buf_append(&b, "-", 1);
				dash = 0;
				buf_append(&b, &c, 1);
			} else
				dash = 1;
		}
		/* a code point with no folding separates words too */
		if (fold(cp, one)[0] == '\0')
			dash = 1;
	}
	if (b.data == NULL)
		return xstrdup("");
	return buf_release(&b, NULL);
}
