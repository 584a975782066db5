/* redact.c: a process-wide list of secrets that are masked in every message we print. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>


#include "buf.h"
#include "redact.h"
#include "xalloc.h"

#define MASK	"***"

/*
 * Secrets are registered once at startup (options, environment, secret
 * files); the list is tiny, so a linear scan per message is fine.  It is
 * kept sorted longest first so a secret that contains another is masked
 * whole rather than leaving a visible tail.
 */
static char	**secrets;
static size_t	  nsecrets;

/*
 * Token-like values masked even when nobody registered them: a query
 * parameter (NAME=value, up to '&', blank or quote) or a header
 * (NAME: value, to the end of the line).  Matched case-insensitively.
 */
static const char *const query_names[] = {
	"X-Plex-Token=", "api_key=", "apikey=", "access_token=", "token=",
	"api-key=",
};
static const char *const header_names[] = {
	"api-key:", "Authorization:", "X-Plex-Token:",
};

void
redact_add(const char *s)
{
	size_t	 i, len;

	if (s == NULL || (len = strlen(s)) < 4)
		return;
	for (i = 0; i < nsecrets; i++)
		if (strcmp(secrets[i], s) == 0)
			return;
	secrets = xreallocarray(secrets, nsecrets + 1, sizeof(*secrets));
	for (i = nsecrets; i > 0 && strlen(secrets[i - 1]) < len; i--)
		secrets[i] = secrets[i - 1];
	secrets[i] = xstrdup(s);
	nsecrets++;
}

/* True when position p of s starts a parameter name (not inside a word). */
static int
at_word_start(const char *s, const char *p)
{
	unsigned char	 c;

	if (p == s)
		return 1;
	c = (unsigned char)p[-1];
	return !(isalnum(c) || c == '_' || c == '-');
}

/* Length of a registered secret starting at p, or 0. */
static size_t
secret_at(const char *p)
{
	size_t	 i, n;

	for (i = 0; i < nsecrets; i++) {
		n = strlen(secrets[i]);
		if (strncmp(p, secrets[i], n) == 0)
			return n;
	}
	return 0;
}

/*
 * If a token-like name starts at p, returns its length and sets *vlen to
 * the length of the value that follows it (after blanks for headers).
 */
static size_t
name_at(const char *s, const char *p, size_t *skip, size_t *vlen)
{
	const char	*v;
	size_t		 i, n;

	if (!at_word_start(s, p))
		return 0;
	for (i = 0; i < sizeof(query_names) / sizeof(query_names[0]); i++) {
		n = strlen(query_names[i]);
		if (strncasecmp(p, query_names[i], n) != 0)
			continue;
		*skip = 0;
		*vlen = strcspn(p + n, "&# \t\r\n\"'<>;,");
		/*
		 * An error line reads "GET URL: reason"; the ':' that ends
		 * the URL belongs to the sentence, not to the value.
		 */
		while (*vlen > 0 && p[n + *vlen - 1] == ':')
			(*vlen)--;
		return n;
	}
	for (i = 0; i < sizeof(header_names) / sizeof(header_names[0]); i++) {
		n = strlen(header_names[i]);
		if (strncasecmp(p, header_names[i], n) != 0)
			continue;
		v = p + n;
		v += strspn(v, " \t");
		*skip = (size_t)(v - (p + n));
		/* A header value runs to the end of the line or a JSON quote. */
		*vlen = strcspn(v, "\r\n\"");
		return n;
	}
	return 0;
}

char *
redact(const char *s)
{
	struct buf	 b = BUF_INIT;
	const char	*p;
	size_t		 n, skip, vlen;

	if (s == NULL)
		return xstrdup("");
	for (p = s; *p != '\0';) {
		if ((n = secret_at(p)) > 0) {
			buf_appends(&b, MASK);
			p += n;
		} else if ((n = name_at(s, p, &skip, &vlen)) > 0) {
			buf_append(&b, p, n + skip);
			p += n + skip;
			if (vlen > 0)
				buf_appends(&b, MASK);
			p += vlen;
		} else {
			buf_append(&b, p, 1);
			p++;
		}
	}
	return buf_release(&b, NULL);
}

void
redact_into(char *dst, size_t size, const char *s)
{
	char	*r;

	if (size == 0)
		return;
	r = redact(s);
	strlcpy(dst, r, size);
	free(r);
}
