/* cache.c: a disk cache, one file per key, atomic writes, TTL by age, safe across processes. */
/*
 * An entry is the plain file DIR/KEY.json, so a cache can be read with
 * cat, seeded by hand and shipped in a tarball (the sample library is
 * one).  Writers never touch the entry in place: they write a temporary
 * file in the same directory (mkstemp, so concurrent writers never share
 * one) and rename(2) it over the entry.  rename within one file system is
 * atomic, so a reader opens either the old or the new inode, never a mix,
 * however many processes write the same key at once.
 *
 * No fsync: an entry is only a copy of an API answer.  After a power cut
 * a renamed-but-unsynced file may come back empty or short; an empty one
 * is a miss here, a short one fails the caller's JSON parse and is
 * fetched again.  Syncing every write would cost a disk flush per TMDb
 * answer for nothing the next run could not repair.
 *
 * Age is the file's mtime, which is when the temporary file was written.
 * Lock files (DIR/.locks/<sha256 of key>) exist so that N workers asking
 * for one missing key make one API call; they are never removed, because
 * unlinking a lock file that another process has open breaks flock.
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sha2.h>

#include "buf.h"
#include "cache.h"
#include "fdio.h"
#include "log.h"
#include "xalloc.h"

#define CACHE_KEY_MAX	512	/* keys are short ids; refuse anything silly */
#define LOCK_DIR	".locks"

struct cache {
	char			*dir;		/* as given, no trailing '/' */
	long long		 ttl;		/* seconds; <= 0: forever */
	struct cache_stats	 st;		/* this process's counters */
};

/*
 * A key is '/'-joined segments of [A-Za-z0-9._-].  A segment may not be
 * empty or start with '.': that refuses "." and "..", and keeps keys
 * away from the hidden names the cache uses itself (.locks, temp files).
 */
static int
key_ok(const char *key)
{
	const char	*p;
	int		 seg_start = 1;

	if (key == NULL || *key == '\0' || strlen(key) > CACHE_KEY_MAX)
		return 0;
	for (p = key; *p != '\0'; p++) {
		if (*p == '/') {
			if (seg_start)
				return 0;	/* leading '/' or "//" */
			seg_start = 1;
			continue;
		}
		if (seg_start && *p == '.')
			return 0;
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' ||
		    *p == '-'))
			return 0;
		seg_start = 0;
	}
	return !seg_start;		/* no trailing '/' */
}

/* mkdir -p for path (not its last component when `parent_only`). */
static int
mkdirs(const char *path, int parent_only)
{
	char	*p, *s;
	int	 rc = 0;

	s = xstrdup(path);
	if (parent_only) {
		if ((p = strrchr(s, '/')) == NULL)
			goto out;
		*p = '\0';
	}
	for (p = s + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		if (p[-1] != '/') {
			char c = *p;

			*p = '\0';
			if (mkdir(s, 0700) == -1 && errno != EEXIST) {
				rc = -1;
				goto out;
			}
			*p = c;
		}
		if (*p == '\0')
			break;
	}
out:
	free(s);
	return rc;
}

struct cache *
cache_open(const char *dir, long long ttl_seconds)
{
	struct cache	*c;
	struct stat	 sb;
	size_t		 n;

	if (dir == NULL || *dir == '\0') {
		log_error("cache: no directory given");
		return NULL;
	}
	if (mkdirs(dir, 0) == -1 || stat(dir, &sb) == -1) {
		log_error("cache: %s: %s", dir, strerror(errno));
		return NULL;
	}
	if (!S_ISDIR(sb.st_mode)) {
		log_error("cache: %s: not a directory", dir);
		return NULL;
	}
	c = xcalloc(1, sizeof(*c));
	c->dir = xstrdup(dir);
	n = strlen(c->dir);
	while (n > 1 && c->dir[n - 1] == '/')
		c->dir[--n] = '\0';
	c->ttl = ttl_seconds;
	return c;
}

int
cache_check(const char *dir, int need_write, char *err, size_t errlen)
{
	struct stat	 sb;
	char		*probe;
	int		 fd, e;

	if (dir == NULL || *dir == '\0') {
		snprintf(err, errlen, "no cache directory given");
		return -1;
	}
	if (mkdirs(dir, 0) == -1 || stat(dir, &sb) == -1) {
		snprintf(err, errlen, "cache directory \"%s\": %s", dir,
		    strerror(errno));
		return -1;
	}
	if (!S_ISDIR(sb.st_mode)) {
		snprintf(err, errlen, "cache directory \"%s\": not a directory",
		    dir);
		return -1;
	}
	if (!need_write)
		return 0;
	/* access(2) is no proof: it says yes to root on a read-only mount */
	xasprintf(&probe, "%s/.probe.XXXXXX", dir);
	if ((fd = mkostemp(probe, O_CLOEXEC)) == -1) {
		e = errno;
		snprintf(err, errlen, "cache directory \"%s\": cannot write "
		    "there: %s", dir, strerror(e));
		free(probe);
		return -1;
	}
	close(fd);
	unlink(probe);
	free(probe);
	return 0;
}

void
cache_close(struct cache *c)
{
	if (c == NULL)
		return;
	free(c->dir);
	free(c);
}

const char *
cache_dir(const struct cache *c)
{
	return c->dir;
}

static char *
entry_path(const struct cache *c, const char *key)
{
	size_t	 n = strlen(c->dir) + strlen(key) + sizeof("/.json");
	char	*path = xmalloc(n);

	snprintf(path, n, "%s/%s.json", c->dir, key);
	return path;
}

int
cache_get(struct cache *c, const char *key, struct buf *out, int ignore_ttl)
{
	struct stat	 sb;
	char		*path, chunk[65536];
	ssize_t		 n;
	int		 fd, rc = 0;

	if (!key_ok(key))
		return -1;
	buf_reset(out);
	path = entry_path(c, key);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno != ENOENT && errno != ENOTDIR)
			log_warn("cache: %s: %s (treated as a miss)", path,
			    strerror(errno));
		goto out;
	}
	if (fstat(fd, &sb) == -1) {
		log_warn("cache: %s: %s (treated as a miss)", path,
		    strerror(errno));
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		log_warn("cache: %s: not a regular file (treated as a miss)",
		    path);
		goto out;
	}
	if (!ignore_ttl && c->ttl > 0 &&
	    (long long)(time(NULL) - sb.st_mtime) > c->ttl)
		goto out;
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			log_warn("cache: %s: %s (treated as a miss)", path,
			    strerror(errno));
			buf_reset(out);
			goto out;
		}
		if (n == 0)
			break;
		buf_append(out, chunk, (size_t)n);
	}
	if (out->len == 0) {
		/* never written by cache_put; see the fsync note above */
		log_warn("cache: %s: empty entry (treated as a miss)", path);
		goto out;
	}
	rc = 1;
out:
	if (fd != -1)
		close(fd);
	free(path);
	if (rc == 1)
		c->st.hits++;
	else
		c->st.misses++;
	return rc;
}


/*
 * A new temp file beside path (*tmp, the caller frees it even on
 * failure): rename(2) over the entry must not cross file systems.
 */
static int
temp_next_to(const char *path, char **tmp)
{
	size_t	 dlen = (size_t)(strrchr(path, '/') - path);

	xasprintf(tmp, "%.*s/.%s.tmpXXXXXX", (int)dlen, path, path + dlen + 1);
	return mkostemp(*tmp, O_CLOEXEC);
}
int
cache_put(struct cache *c, const char *key, const void *data, size_t len)
{
	char	*path, *tmp = NULL;
	int	 fd = -1, rc = -1, e;

	if (!key_ok(key)) {
		char	 shown[81];
		size_t	 i;

		/* the key may hold anything: show it on one printable line */
		for (i = 0; key != NULL && key[i] != '\0' && i < 80; i++)
			shown[i] = key[i] >= 0x20 && key[i] < 0x7f ? key[i] : '?';
		shown[i] = '\0';
		log_warn("cache: refused key \"%s\"", shown);
		errno = EINVAL;
		return -1;
	}
	path = entry_path(c, key);
	/*
	 * The directories are made only when the entry's is missing: a
	 * mkdir of every level before each store was most of the cache's
	 * system calls (13,162 failing mkdirs for 3,739 stores).
	 */
	if ((fd = temp_next_to(path, &tmp)) == -1 && errno == ENOENT) {
		free(tmp);	/* mkostemp leaves a failed template undefined */
		tmp = NULL;
		if (mkdirs(path, 1) == -1) {
			log_debug("cache: %s: %s", path, strerror(errno));
			goto out;
		}
		fd = temp_next_to(path, &tmp);
	}
	if (fd == -1) {
		log_debug("cache: %s: %s", tmp, strerror(errno));
		free(tmp);
		tmp = NULL;
		goto out;
	}
	if (write_full(fd, data, len) == -1) {
		log_debug("cache: %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (close(fd) == -1) {
		fd = -1;
		log_debug("cache: %s: %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) == -1) {
		log_debug("cache: %s: %s", path, strerror(errno));
		goto out;
	}
	free(tmp);
	tmp = NULL;
	c->st.writes++;
	rc = 0;
out:
	e = errno;	/* the cleanup must not hide why it failed */
	if (fd != -1)
		close(fd);
	if (tmp != NULL) {
		unlink(tmp);
		free(tmp);
	}
	free(path);
	errno = e;
	return rc;
}

/* flock(2) with `how` on key's lock file; *busy = 1 when LOCK_NB met a holder. */
static int
lock_key(struct cache *c, const char *key, int how, int *busy)
{
	char	 hex[SHA256_DIGEST_STRING_LENGTH], *dir, *path;
	int	 fd;

	*busy = 0;
	if (!key_ok(key))
		return -1;
	SHA256Data((const unsigned char *)key, strlen(key), hex);
	xasprintf(&dir, "%s/%s", c->dir, LOCK_DIR);
	xasprintf(&path, "%s/%s", dir, hex);
	/* the lock directory is made once, when the first open misses it */
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1 &&
	    errno == ENOENT && (mkdir(dir, 0700) == 0 || errno == EEXIST))
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd == -1)
		goto out;
	/* EINTR (a signal, with handlers installed without SA_RESTART) gives up */
	if (flock(fd, how) == -1) {
		*busy = errno == EWOULDBLOCK;
		close(fd);
		fd = -1;
	}
out:
	if (fd == -1 && !*busy)
		log_debug("cache: lock for %s: %s (going on unlocked)", key,
		    strerror(errno));
	free(dir);
	free(path);
	return fd;
}

int
cache_lock(struct cache *c, const char *key)
{
	int	 busy;

	return lock_key(c, key, LOCK_EX, &busy);
}

int
cache_trylock(struct cache *c, const char *key, int *busy)
{
	return lock_key(c, key, LOCK_EX | LOCK_NB, busy);
}

void
cache_unlock(int token)
{
	if (token < 0)
		return;
	flock(token, LOCK_UN);
	close(token);
}

void
cache_get_stats(const struct cache *c, struct cache_stats *st)
{
	*st = c->st;
}
