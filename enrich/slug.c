/* slug.c: title slugs exactly as mcp-plex makes them: article stripped, NFKD, ASCII only, lowercase, '-' between words. */
/*
 * mcp-plex (mcp_plex/common/text.py) computes
 * slugify(strip_leading_article(title)):
 *   strip_leading_article: re.sub(r"^(the|a|an)\s+", "", t, re.I).strip(),
 *     or t itself when that leaves nothing;
 *   slugify: t.strip(); nothing left is no slug; NFKD; drop what is not
 *     ASCII; lower(); runs of [^a-z0-9] become "-"; "-" trimmed.
 * Python's \s and strip() use str.isspace(): general category Zs or bidi
 * class WS, B or S. Only ASCII letters match "the", "a", "an" under re.I.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <unictype.h>
#include <uninorm.h>
#include <unistr.h>

#include "buf.h"
#include "enrich.h"
#include "xalloc.h"

/* Python's str.isspace() for one code point. */
static int
py_space(ucs4_t c)
{
	int	 b;

	if (c < 0x80)
		return (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20);
	b = uc_bidi_class(c);
	return b == UC_BIDI_WS || b == UC_BIDI_B || b == UC_BIDI_S ||
	    uc_is_general_category(c, UC_CATEGORY_Zs);
}

/* Bytes of Python whitespace at the start of s[0..n). */
static size_t
space_prefix(const uint8_t *s, size_t n)
{
	size_t	 i = 0;
	ucs4_t	 c;
	int	 l;

	while (i < n && (l = u8_mbtouc(&c, s + i, n - i)) > 0 && py_space(c))
		i += (size_t)l;
	return i;
}

/* s[0..*n) with Python whitespace stripped from both ends (*n updated). */
static const uint8_t *
py_strip(const uint8_t *s, size_t *n)
{
	const uint8_t	*end, *p;
	size_t		 i = space_prefix(s, *n);
	ucs4_t		 c;

	s += i;
	*n -= i;
	end = s + *n;
	while ((p = u8_prev(&c, end, s)) != NULL && py_space(c))
		end = p;
	*n = (size_t)(end - s);
	return s;
}

/* The length of "the", "a" or "an" followed by whitespace at s, or 0. */
static size_t
article_len(const uint8_t *s, size_t n)
{
	static const char *const art[] = { "the", "a", "an" };
	size_t	 i, l;

	for (i = 0; i < sizeof(art) / sizeof(art[0]); i++) {
		l = strlen(art[i]);
		if (n > l && strncasecmp((const char *)s, art[i], l) == 0 &&
		    space_prefix(s + l, n - l) > 0)
			return l;
	}
	return 0;
}

/* s[0..n) without the bytes that are not part of a valid UTF-8 sequence. */
static struct buf
valid_only(const uint8_t *s, size_t n)
{
	struct buf	 b = BUF_INIT;
	size_t		 i = 0;
	ucs4_t		 c;
	int		 l;

	while (i < n) {
		if ((l = u8_mbtoucr(&c, s + i, n - i)) < 0)
			l = 1;
		else
			buf_append(&b, s + i, (size_t)l);
		i += (size_t)l;
	}
	buf_append(&b, "", 0);
	return b;
}

char *
enrich_slug(const char *title)
{
	struct buf	 b = BUF_INIT, clean = BUF_INIT;
	const uint8_t	*s = (const uint8_t *)title, *t;
	uint8_t		*nfkd;
	size_t		 n, tn, i, a, nn;
	int		 dash = 0;
	char		 c;

	if (title == NULL)
		return xstrdup("");
	n = strlen(title);
	/* strip_leading_article: the original when nothing would be left */
	t = s;
	tn = n;
	if ((a = article_len(s, n)) > 0) {
		tn = n - a;
		t = py_strip(s + a, &tn);
		if (tn == 0) {
			t = s;
			tn = n;
		}
	}
	/* slugify */
	t = py_strip(t, &tn);
	if (tn == 0)
		return xstrdup("");
	if (u8_check(t, tn) != NULL) {
		/*
		 * json-c turns a lone "\ud800" into bytes that are not UTF-8;
		 * Python keeps such a surrogate and drops it as non-ASCII.
		 */
		clean = valid_only(t, tn);
		t = (const uint8_t *)clean.data;
		if ((tn = clean.len) == 0) {
			buf_free(&clean);
			return xstrdup("");
		}
	}
	nfkd = xnonnull(u8_normalize(UNINORM_NFKD, t, tn, NULL, &nn));
	for (i = 0; i < nn; i++) {
		if (nfkd[i] >= 0x80)
			continue;
		c = (char)nfkd[i];
		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
			if (dash && b.len > 0)
				buf_append(&b, "-", 1);
			dash = 0;
			buf_append(&b, &c, 1);
		} else
			dash = 1;
	}
	free(nfkd);
	buf_free(&clean);
	if (b.data == NULL)
		return xstrdup("");
	return buf_release(&b, NULL);
}
