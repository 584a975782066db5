/* cache.h: a disk cache, one file per key, atomic writes, TTL by age, safe across processes. */
#ifndef PLEXPIPE_CACHE_H
#define PLEXPIPE_CACHE_H

#include <stddef.h>

#include "buf.h"

struct cache;

/*
 * Keys are relative paths of [A-Za-z0-9._-] segments joined by '/', such
 * as "tmdb/movie/522627" or "imdb/tt8367814"; the entry is the file
 * DIR/KEY.json (sub-directories made as needed), so a cache is easy to
 * read, seed and ship (the bundled sample library is one). A key with
 * anything else, or a ".." segment, is refused (-1).
 *
 * ttl_seconds <= 0: entries never expire.
 * The directory is created (mode 0700) when missing. NULL on failure.
 */
struct cache *cache_open(const char *dir, long long ttl_seconds);
/*
 * Before a run: makes the directory when missing and, with need_write,
 * makes and removes a file in it, so that a directory the run could not
 * write (read-only, a plain file in its path, no permission) is found
 * before any input is read. 0, or -1 with one line naming the path in err.
 */
int	 cache_check(const char *dir, int need_write, char *err, size_t errlen);
void	 cache_close(struct cache *);	/* accepts NULL */
const char *cache_dir(const struct cache *);

/*
 * 1: hit, the entry's bytes are in out (out is reset first);
 * 0: miss (absent, older than the TTL unless ignore_ttl, or unreadable, in
 *    which case a warning names the file); -1: bad key.
 */
int	 cache_get(struct cache *, const char *key, struct buf *out, int ignore_ttl);
/*
 * Writes a temporary file in the entry's directory and renames it over
 * the entry, so readers see the old or the new content, never a mix.
 * 0, or -1: a refused key (with a warning; errno EINVAL), or an I/O error
 * (errno says which; logged at debug level only, so that a caller meeting
 * a full disk or a read-only cache warns once, not once per answer).
 */
int	 cache_put(struct cache *, const char *key, const void *data, size_t len);

/*
 * A lock per key (flock on DIR/.locks/<hash>), so that one process fetches
 * a key while the others wait and then read the cache. Returns a token to
 * pass to cache_unlock, or -1 (the caller then just goes on unlocked).
 */
int	 cache_lock(struct cache *, const char *key);
void	 cache_unlock(int token);
/*
 * cache_lock without waiting, for a caller with other work in flight: -1
 * and *busy = 1 when someone holds it (another descriptor in this process
 * included: flock locks belong to open files); -1 and *busy = 0 when it
 * cannot be had at all (go on unlocked, as with cache_lock).
 */
int	 cache_trylock(struct cache *, const char *key, int *busy);

/* counters for stats */
struct cache_stats {
	unsigned long	 hits;
	unsigned long	 misses;
	unsigned long	 writes;
};
void	 cache_get_stats(const struct cache *, struct cache_stats *);

#endif
