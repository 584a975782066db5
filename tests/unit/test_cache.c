/* test_cache.c: the disk cache: layout, key checks, TTL, unreadable entries, locks, and four concurrent writers never tearing an entry. */
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cache.h"
#include "log.h"
#include "tap.h"

#define WRITERS		4
#define WRITES		800	/* per writer */
#define KEYS		8

static char	 top[256];

static double
now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
rm_one(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
	(void)sb;
	(void)flag;
	(void)f;
	return remove(p);
}

static int
file_is(const char *path, const char *want)
{
	char	 b[256];
	FILE	*fp;
	size_t	 n;

	if ((fp = fopen(path, "r")) == NULL)
		return 0;
	n = fread(b, 1, sizeof(b) - 1, fp);
	fclose(fp);
	b[n] = '\0';
	return strcmp(b, want) == 0;
}

/* Runs cache_get with stderr captured into `err` (for the warning). */
static int
get_capturing(struct cache *c, const char *key, struct buf *out, char *err,
    size_t errlen)
{
	char	 path[300];
	int	 saved, fd, rc;
	ssize_t	 n;

	snprintf(path, sizeof(path), "%s/stderr", top);
	fflush(stderr);
	saved = dup(2);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	dup2(fd, 2);
	rc = cache_get(c, key, out, 0);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	lseek(fd, 0, SEEK_SET);
	n = read(fd, err, errlen - 1);
	err[n > 0 ? n : 0] = '\0';
	close(fd);
	unlink(path);
	return rc;
}

static void
test_basics(void)
{
	static const char *const bad[] = { "", "/abs", "trail/", "a//b",
	    "../x", "a/../b", "a/./b", "..", ".", ".hidden", "a/.locks",
	    "sp ace", "semi;colon", "uni\xc3\xa9", "back\\slash", "a/b\n",
	    NULL };
	static const char *const good[] = { "tmdb/movie/522627",
	    "imdb/tt8367814", "tmdb/find/imdb_id/tt0000001",
	    "tmdb/tv/1399/season/1/episode/2", "a-b_c.d", NULL };
	struct cache		*c;
	struct cache_stats	 st;
	struct buf		 b = BUF_INIT;
	struct stat		 sb;
	struct timeval		 tv[2];
	char			 dir[300], path[400], err[1024];
	int			 i, refused, fine, tok;
	double			 t0;
	char			 longkey[600];

	snprintf(dir, sizeof(dir), "%s/new/nested/cache", top);
	c = cache_open(dir, 60);
	ok(c != NULL, "cache_open makes missing directories");
	ok(stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode) &&
	    (sb.st_mode & 0777) == 0700, "directory made with mode 0700");
	is_str(cache_dir(c), dir, "cache_dir");

	is_int(cache_get(c, "tmdb/movie/1", &b, 0), 0, "absent key: miss");
	is_int(cache_put(c, "tmdb/movie/522627", "{\"id\":522627}", 13), 0,
	    "put");
	snprintf(path, sizeof(path), "%s/tmdb/movie/522627.json", dir);
	ok(file_is(path, "{\"id\":522627}"), "entry is DIR/KEY.json");
	is_int(cache_get(c, "tmdb/movie/522627", &b, 0), 1, "hit");
	ok(b.len == 13 && strcmp(b.data, "{\"id\":522627}") == 0,
	    "same bytes back");
	is_int(cache_put(c, "tmdb/movie/522627", "null", 4), 0, "overwrite");
	ok(cache_get(c, "tmdb/movie/522627", &b, 0) == 1 &&
	    strcmp(b.data, "null") == 0, "new content (null = known absent)");

	log_set_level(LOG_ERROR);	/* each refusal warns; keep the log short */
	for (i = 0, refused = 0; bad[i] != NULL; i++)
		refused += cache_get(c, bad[i], &b, 0) == -1 &&
		    cache_put(c, bad[i], "x", 1) == -1 &&
		    cache_lock(c, bad[i]) == -1;
	is_int(refused, 16, "16 bad keys refused by get, put and lock");
	memset(longkey, 'k', sizeof(longkey) - 1);
	longkey[sizeof(longkey) - 1] = '\0';
	ok(cache_put(c, longkey, "x", 1) == -1, "over-long key refused");
	log_set_level(LOG_INFO);
	snprintf(path, sizeof(path), "%s/new/nested/x.json", top);
	ok(access(path, F_OK) == -1, "\"../x\" wrote nothing outside");
	for (i = 0, fine = 0; good[i] != NULL; i++)
		fine += cache_put(c, good[i], "{}", 2) == 0 &&
		    cache_get(c, good[i], &b, 0) == 1;
	is_int(fine, 5, "good keys accepted");

	/* TTL by mtime age */
	snprintf(path, sizeof(path), "%s/imdb/tt8367814.json", dir);
	gettimeofday(&tv[0], NULL);
	tv[0].tv_sec -= 120;
	tv[1] = tv[0];
	utimes(path, tv);
	is_int(cache_get(c, "imdb/tt8367814", &b, 0), 0,
	    "older than the TTL: miss");
	is_int(cache_get(c, "imdb/tt8367814", &b, 1), 1, "ignore_ttl: hit");
	cache_close(c);
	c = cache_open(dir, 0);
	tv[0].tv_sec -= 10 * 365 * 86400;
	tv[1] = tv[0];
	utimes(path, tv);
	is_int(cache_get(c, "imdb/tt8367814", &b, 0), 1, "ttl 0: never expires");

	/* unreadable entries: a miss and a warning naming the file */
	snprintf(path, sizeof(path), "%s/broken.json", dir);
	mkdir(path, 0700);
	i = get_capturing(c, "broken", &b, err, sizeof(err));
	ok(i == 0 && strstr(err, "broken.json") != NULL, "unreadable: miss + "
	    "warning \"%.*s\"", (int)strcspn(err, "\n"), err);
	snprintf(path, sizeof(path), "%s/empty.json", dir);
	close(open(path, O_WRONLY | O_CREAT, 0600));
	ok(get_capturing(c, "empty", &b, err, sizeof(err)) == 0 &&
	    strstr(err, "empty.json") != NULL, "empty entry: miss + warning");

	cache_get_stats(c, &st);
	ok(st.hits == 1 && st.misses == 2 && st.writes == 0,
	    "stats per handle: %lu hits, %lu misses, %lu writes", st.hits,
	    st.misses, st.writes);

	/* per-key locks across processes */
	{
		int	 p[2];
		pid_t	 pid;
		char	 ch;

		if (pipe(p) == -1)
			return;
		fflush(stdout);
		if ((pid = fork()) == 0) {
			tok = cache_lock(c, "tmdb/movie/7");
			ch = tok >= 0 ? 'y' : 'n';
			if (write(p[1], &ch, 1) != 1)
				_exit(1);
			usleep(400000);
			cache_unlock(tok);
			_exit(0);
		}
		if (read(p[0], &ch, 1) != 1)
			ch = '?';
		t0 = now();
		tok = cache_lock(c, "tmdb/movie/8");
		ok(tok >= 0 && now() - t0 < 0.2, "another key is not blocked");
		cache_unlock(tok);
		t0 = now();
		tok = cache_lock(c, "tmdb/movie/7");
		ok(ch == 'y' && tok >= 0 && now() - t0 > 0.25,
		    "the same key waits for the holder (%.3f s)", now() - t0);
		cache_unlock(tok);
		waitpid(pid, NULL, 0);
		close(p[0]);
		close(p[1]);
	}
	/* without waiting: a holder in this very process makes it busy */
	{
		int	 t1, t2, busy = -1;

		t1 = cache_lock(c, "tmdb/movie/9");
		t0 = now();
		t2 = cache_trylock(c, "tmdb/movie/9", &busy);
		ok(t1 >= 0 && t2 == -1 && busy == 1 && now() - t0 < 0.2,
		    "trylock: a key this process holds is busy, at once");
		t2 = cache_trylock(c, "tmdb/movie/10", &busy);
		ok(t2 >= 0 && busy == 0, "trylock: another key is had");
		cache_unlock(t2);
		cache_unlock(t1);
		t2 = cache_trylock(c, "tmdb/movie/9", &busy);
		ok(t2 >= 0 && busy == 0, "trylock: had once the holder let go");
		cache_unlock(t2);
		t2 = cache_trylock(c, "../x", &busy);
		ok(t2 == -1 && busy == 0, "trylock: a bad key is refused, not busy");
	}
	buf_free(&b);
	cache_close(c);
	cache_close(NULL);
}

/* Writer w's s-th content: its size and every byte follow from (w, s). */
static size_t
content(int w, int s, char *out)
{
	size_t	 n, i, h;

	n = 8192 + ((size_t)w * 7919 + (size_t)s * 104729) % 150000;
	h = (size_t)snprintf(out, 64, "{\"w\":%d,\"s\":%d,\"n\":%zu,\"f\":\"",
	    w, s, n);
	for (i = h; i < n - 2; i++)
		out[i] = (char)('a' + ((size_t)w * 31 + (size_t)s * 7 + i) % 26);
	out[n - 2] = '"';
	out[n - 1] = '}';
	return n;
}

/* 1 when b is exactly one writer's whole content. */
static int
valid(const struct buf *b, char *scratch)
{
	int	 w, s;
	size_t	 n;

	if (b->len < 64 || sscanf(b->data, "{\"w\":%d,\"s\":%d,\"n\":%zu,",
	    &w, &s, &n) != 3 || w < 0 || w >= WRITERS || s < 0 ||
	    s >= WRITES || n != b->len)
		return 0;
	return content(w, s, scratch) == b->len &&
	    memcmp(scratch, b->data, b->len) == 0;
}

static void
test_concurrent(void)
{
	struct cache	*c;
	struct buf	 b = BUF_INIT;
	char		 dir[300], path[400], key[32], *data, *scratch;
	pid_t		 pid[WRITERS];
	int		 p[2], w, s, res[3], torn = 0, reads = 0, hits = 0;
	int		 status, good = 1, leftovers = 0, k;
	double		 t0;
	DIR		*d;
	struct dirent	*de;

	snprintf(dir, sizeof(dir), "%s/conc", top);
	if ((c = cache_open(dir, 0)) == NULL || pipe(p) == -1) {
		tap_skip("cache dir");
		return;
	}
	t0 = now();
	fflush(stdout);
	for (w = 0; w < WRITERS; w++) {
		if ((pid[w] = fork()) != 0)
			continue;
		close(p[0]);
		data = malloc(200000);
		scratch = malloc(200000);
		memset(res, 0, sizeof(res));
		srand((unsigned)getpid());
		for (s = 0; s < WRITES; s++) {
			snprintf(key, sizeof(key), "conc/k%d", (s + w) % KEYS);
			if (cache_put(c, key, data, content(w, s, data)) != 0)
				_exit(2);
			snprintf(key, sizeof(key), "conc/k%d", rand() % KEYS);
			res[0]++;
			if (cache_get(c, key, &b, 0) == 1) {
				res[1]++;
				if (!valid(&b, scratch))
					res[2]++;
			}
		}
		if (write(p[1], res, sizeof(res)) != sizeof(res))
			_exit(3);
		free(data);
		free(scratch);
		buf_free(&b);
		_exit(0);
	}
	close(p[1]);
	while (read(p[0], res, sizeof(res)) == sizeof(res)) {
		reads += res[0];
		hits += res[1];
		torn += res[2];
	}
	close(p[0]);
	for (w = 0; w < WRITERS; w++) {
		waitpid(pid[w], &status, 0);
		good &= WIFEXITED(status) && WEXITSTATUS(status) == 0;
	}
	ok(good, "%d writers x %d writes of 8-158 kB finished", WRITERS,
	    WRITES);
	tap_diag("%d writes, %d concurrent reads (%d hits), %d torn, %.2f s",
	    WRITERS * WRITES, reads, hits, torn, now() - t0);
	ok(hits > WRITERS * WRITES / 2, "readers mostly hit (%d)", hits);
	is_int(torn, 0, "no read ever saw a torn or mixed entry");
	scratch = malloc(200000);
	for (k = 0, s = 0; k < KEYS; k++) {
		snprintf(key, sizeof(key), "conc/k%d", k);
		s += cache_get(c, key, &b, 0) == 1 && valid(&b, scratch);
	}
	is_int(s, KEYS, "every final entry is one writer's whole content");
	snprintf(path, sizeof(path), "%s/conc", dir);
	if ((d = opendir(path)) != NULL) {
		while ((de = readdir(d)) != NULL)
			if (de->d_name[0] == '.' && strcmp(de->d_name, ".") &&
			    strcmp(de->d_name, ".."))
				leftovers++;
		closedir(d);
	}
	is_int(leftovers, 0, "no temporary files left behind");
	free(scratch);
	buf_free(&b);
	cache_close(c);
}

/* cache_check: a directory the run could not use is found before it starts. */
static void
test_check(void)
{
	char	 dir[400], file[300], err[1024];
	int	 fd;

	snprintf(dir, sizeof(dir), "%s/check/made", top);
	is_int(cache_check(dir, 1, err, sizeof(err)), 0,
	    "cache_check makes a missing writable directory");
	snprintf(file, sizeof(file), "%s/check/plain", top);
	if ((fd = open(file, O_WRONLY | O_CREAT, 0600)) != -1)
		close(fd);
	is_int(cache_check(file, 1, err, sizeof(err)), -1, "a plain file");
	ok(strstr(err, file) != NULL && strstr(err, "not a directory") != NULL,
	    "its line names the path and says why: %s", err);
	snprintf(dir, sizeof(dir), "%s/sub", file);
	is_int(cache_check(dir, 0, err, sizeof(err)), -1,
	    "a plain file in the path, even to read");
	ok(strstr(err, dir) != NULL, "named: %s", err);
	/* no file can be made in /proc, even by root */
	is_int(cache_check("/proc", 1, err, sizeof(err)), -1,
	    "a directory where no file can be made");
	ok(strstr(err, "cannot write there") != NULL, "said: %s", err);
	is_int(cache_check("/proc", 0, err, sizeof(err)), 0,
	    "but it will do to read (--offline)");
}

int
main(void)
{
	const char	*tmp = getenv("TMPDIR");

	log_init("test_cache");
	snprintf(top, sizeof(top), "%s/test_cache.XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	if (mkdtemp(top) == NULL) {
		tap_skip("mkdtemp");
		return done_testing();
	}
	test_basics();
	test_check();
	test_concurrent();
	nftw(top, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return done_testing();
}
