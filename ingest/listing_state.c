/*
 * listing_state.c: the listing state of incremental runs: for every listed
 * item its rating key, type, updatedAt and addedAt as the listing showed
 * them, and for an episode its show's key and updatedAt. An item whose
 * stamps are all unchanged since the last good run needs no metadata
 * request. The file is compact text, written atomically (temporary file in
 * the same directory, fsync, rename), so a crash leaves the old state:
 *
 *	plexpipe-listing-state 1 items=N movie=A episode=B show=C
 *	<ratingKey> TAB <m|e|s> TAB <updatedAt> TAB <addedAt> [TAB <show> TAB <showUpdatedAt>]
 *
 * A timestamp the listing did not carry is written "-". The header's
 * counts let plex-load check the collection still holds that many points.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xalloc.h"
#include "ingest.h"

#define MAGIC		"plexpipe-listing-state"
#define VERSION		1
#define MAX_LINE	4096

struct stamp {
	int64_t	 updated;	/* -1: absent */
	int64_t	 added;
	int64_t	 show_updated;
	long	 show;		/* ordinal in shows, -1 none */
	char	 type;		/* 'm', 'e', 's' */
};

struct ingest_state {
	struct ingest_keyset	*keys;
	struct ingest_keyset	*shows;
	struct stamp		*v;	/* by key ordinal */
	size_t			 cap;
};

struct ingest_state *
ingest_state_new(void)
{
	struct ingest_state	*st;

	st = xcalloc(1, sizeof(*st));
	st->keys = ingest_keyset_new();
	st->shows = ingest_keyset_new();
	return st;
}

void
ingest_state_free(struct ingest_state *st)
{
	if (st == NULL)
		return;
	ingest_keyset_free(st->keys);
	ingest_keyset_free(st->shows);
	free(st->v);
	free(st);
}

size_t
ingest_state_count(const struct ingest_state *st)
{
	return ingest_keyset_count(st->keys);
}

char
ingest_state_type_code(const char *type)
{
	if (type == NULL)
		return '\0';
	if (strcmp(type, "movie") == 0)
		return 'm';
	if (strcmp(type, "episode") == 0)
		return 'e';
	if (strcmp(type, "show") == 0)
		return 's';
	return '\0';
}

/* A key that can be written on one line of the file. */
static int
writable_key(const char *k)
{
	if (*k == '\0')
		return 0;
	for (; *k != '\0'; k++)
		if ((unsigned char)*k < 0x20 || *k == 0x7f)
			return 0;
	return 1;
}

int
ingest_state_put(struct ingest_state *st, const char *key, char type,
    int64_t updated, int64_t added, const char *show, int64_t show_updated)
{
	struct stamp	*s;
	size_t		 n;

	if (type == '\0' || !writable_key(key) ||
	    (show != NULL && !writable_key(show)))
		return 0;
	if (!ingest_keyset_add(st->keys, key))
		return 0;	/* the first listing of a key counts */
	n = ingest_keyset_count(st->keys);
	if (n > st->cap) {
		st->cap = st->cap == 0 ? 1024 : st->cap * 2;
		st->v = xreallocarray(st->v, st->cap, sizeof(*st->v));
	}
	s = &st->v[n - 1];
	s->type = type;
	s->updated = updated;
	s->added = added;
	s->show = -1;
	s->show_updated = -1;
	if (show != NULL) {
		ingest_keyset_add(st->shows, show);
		s->show = ingest_keyset_index(st->shows, show);
		s->show_updated = show_updated;
	}
	return 1;
}

int
ingest_state_same(const struct ingest_state *st, const char *key, char type,
    int64_t updated, int64_t added, const char *show, int64_t show_updated)
{
	const struct stamp	*s;
	long			 i;

	if ((i = ingest_keyset_index(st->keys, key)) < 0)
		return 0;
	s = &st->v[i];
	/* with no timestamp at all, nothing says the item did not change */
	if (updated < 0 && added < 0)
		return 0;
	if (s->type != type || s->updated != updated || s->added != added)
		return 0;
	if (show == NULL)
		return s->show < 0;
	/* an episode also changes with its show (title, ids) */
	return show_updated >= 0 && s->show >= 0 &&
	    s->show == ingest_keyset_index(st->shows, show) &&
	    s->show_updated == show_updated;
}

int
ingest_state_updated(const struct ingest_state *st, const char *key,
    int64_t *updated)
{
	long	 i;

	if ((i = ingest_keyset_index(st->keys, key)) < 0)
		return 0;
	*updated = st->v[i].updated;
	return 1;
}

void
ingest_state_counts(const struct ingest_state *st, size_t *movies,
    size_t *episodes, size_t *shows)
{
	size_t	 i, n = ingest_state_count(st);

	*movies = *episodes = *shows = 0;
	for (i = 0; i < n; i++)
		switch (st->v[i].type) {
		case 'm':
			(*movies)++;
			break;
		case 'e':
			(*episodes)++;
			break;
		default:
			(*shows)++;
			break;
		}
}

/* "-" or a non-negative decimal; -2 when it is neither. */
static int64_t
parse_time(const char *s)
{
	char		*end;
	long long	 v;

	if (strcmp(s, "-") == 0)
		return -1;
	if (*s < '0' || *s > '9')
		return -2;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -2;
	return (int64_t)v;
}

/* Splits line at tabs into at most max fields; returns how many. */
static int
split(char *line, char **f, int max)
{
	int	 n = 0;

	f[n++] = line;
	for (; *line != '\0'; line++)
		if (*line == '\t') {
			if (n == max)
				return max + 1;
			*line = '\0';
			f[n++] = line + 1;
		}
	return n;
}

static int
parse_line(struct ingest_state *st, char *line, char *err, size_t errlen)
{
	char	*f[6];
	int64_t	 t[3] = { -1, -1, -1 };
	int	 n, i;

	n = split(line, f, 6);
	if (n != 4 && n != 6) {
		snprintf(err, errlen, "%d fields, not 4 or 6", n);
		return -1;
	}
	if (strlen(f[1]) != 1 || strchr("mes", f[1][0]) == NULL) {
		snprintf(err, errlen, "type \"%.20s\" is not m, e or s", f[1]);
		return -1;
	}
	for (i = 2; i < n; i++) {
		if (i == 4)
			continue;
		if ((t[i == 5 ? 2 : i - 2] = parse_time(f[i])) < -1) {
			snprintf(err, errlen, "\"%.30s\" is not a timestamp", f[i]);
			return -1;
		}
	}
	if (!ingest_state_put(st, f[0], f[1][0], t[0], t[1], n == 6 ? f[4] : NULL,
	    t[2])) {
		snprintf(err, errlen, "rating key \"%.40s\" is empty or listed "
		    "twice", f[0]);
		return -1;
	}
	return 0;
}

int
ingest_state_load(struct ingest_state *st, const char *path, char *err,
    size_t errlen)
{
	char		 line[MAX_LINE + 2], why[160];
	unsigned long	 lineno = 0;
	size_t		 len;
	int		 version, rc = 0;
	FILE		*fp;

	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return errno == ENOENT ? 1 : -1;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		lineno++;
		len = strlen(line);
		if (len == 0 || line[len - 1] != '\n') {
			snprintf(err, errlen, "%s:%lu: line too long or not "
			    "ended (a truncated file?)", path, lineno);
			rc = -1;
			break;
		}
		line[--len] = '\0';
		if (lineno == 1) {
			if (sscanf(line, MAGIC " %d", &version) != 1 ||
			    version != VERSION) {
				snprintf(err, errlen, "%s:1: not a plexpipe "
				    "listing state (version %d)", path, VERSION);
				rc = -1;
				break;
			}
			continue;
		}
		if (parse_line(st, line, why, sizeof(why)) != 0) {
			snprintf(err, errlen, "%s:%lu: %s", path, lineno, why);
			rc = -1;
			break;
		}
	}
	if (rc == 0 && ferror(fp)) {
		snprintf(err, errlen, "%s: read error: %s", path, strerror(errno));
		rc = -1;
	} else if (rc == 0 && lineno == 0) {
		snprintf(err, errlen, "%s: empty file", path);
		rc = -1;
	}
	fclose(fp);
	return rc;
}

static void
put_time(FILE *fp, int64_t t)
{
	if (t < 0)
		fputs("-", fp);
	else
		fprintf(fp, "%" PRId64, t);
}

struct writer {
	const struct ingest_state	*st;
	FILE				*fp;
	size_t				 i;
};

static void
write_one(void *arg, const char *key)
{
	struct writer		*w = arg;
	const struct stamp	*s = &w->st->v[w->i++];

	fprintf(w->fp, "%s\t%c\t", key, s->type);
	put_time(w->fp, s->updated);
	fputc('\t', w->fp);
	put_time(w->fp, s->added);
	if (s->show >= 0) {
		fputc('\t', w->fp);
		fputs(ingest_keyset_key(w->st->shows, (size_t)s->show), w->fp);
		fputc('\t', w->fp);
		put_time(w->fp, s->show_updated);
	}
	fputc('\n', w->fp);
}

int
ingest_state_write(const struct ingest_state *st, const char *path, char *err,
    size_t errlen)
{
	struct writer	 w;
	size_t		 movies, episodes, shows;
	char		*tmp;
	int		 fd, rc = 0;
	FILE		*fp;

	xasprintf(&tmp, "%s.tmp.XXXXXX", path);
	/* mkstemp creates the file 0600: the state says what the library holds */
	if ((fd = mkstemp(tmp)) < 0 || (fp = fdopen(fd, "w")) == NULL) {
		snprintf(err, errlen, "%s: cannot create a temporary file "
		    "beside it: %s", path, strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(tmp);
		}
		free(tmp);
		return -1;
	}
	ingest_state_counts(st, &movies, &episodes, &shows);
	fprintf(fp, MAGIC " %d items=%zu movie=%zu episode=%zu show=%zu\n",
	    VERSION, ingest_state_count(st), movies, episodes, shows);
	w.st = st;
	w.fp = fp;
	w.i = 0;
	ingest_keyset_each(st->keys, write_one, &w);
	if (fflush(fp) != 0 || ferror(fp) || fsync(fileno(fp)) != 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		rc = -1;
	}
	if (fclose(fp) != 0 && rc == 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		rc = -1;
	}
	if (rc == 0 && rename(tmp, path) != 0) {
		snprintf(err, errlen, "%s: cannot replace it: %s", path,
		    strerror(errno));
		rc = -1;
	}
	if (rc != 0)
		unlink(tmp);
	free(tmp);
	return rc;
}
