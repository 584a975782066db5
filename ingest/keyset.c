/*
 * keyset.c: the set of rating keys already emitted, kept compact.
 *
 * plex-ingest must remember every key it wrote (duplicates are emitted
 * once, and the end record lists them all), but memory must not grow with
 * the items themselves. Keys live back to back in one arena, NUL-
 * terminated, in emit order; an open-addressing table of arena offsets
 * (linear probing, load <= 1/2) finds them. About 12 bytes per key.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"
#include "ingest.h"

struct ingest_keyset {
	char		*arena;		/* keys, each NUL-terminated */
	size_t		 used, cap;
	uint32_t	*slot;		/* arena offset + 1; 0 = empty */
	size_t		 nslot;		/* power of two */
	size_t		 count;
};

static uint32_t
hash(const char *s)
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h;
}

struct ingest_keyset *
ingest_keyset_new(void)
{
	struct ingest_keyset *ks;

	ks = xcalloc(1, sizeof(*ks));
	ks->nslot = 1024;
	ks->slot = xcalloc(ks->nslot, sizeof(*ks->slot));
	return ks;
}

void
ingest_keyset_free(struct ingest_keyset *ks)
{
	if (ks == NULL)
		return;
	free(ks->arena);
	free(ks->slot);
	free(ks);
}

/* The slot holding key, or the empty slot where it would go. */
static size_t
find(const struct ingest_keyset *ks, const char *key)
{
	size_t i, mask = ks->nslot - 1;

	for (i = hash(key) & mask; ks->slot[i] != 0; i = (i + 1) & mask)
		if (strcmp(ks->arena + ks->slot[i] - 1, key) == 0)
			break;
	return i;
}

int
ingest_keyset_has(const struct ingest_keyset *ks, const char *key)
{
	return ks->slot[find(ks, key)] != 0;
}

static void
grow(struct ingest_keyset *ks)
{
	uint32_t *old = ks->slot;
	size_t i, j, oldn = ks->nslot;

	ks->nslot *= 2;
	ks->slot = xcalloc(ks->nslot, sizeof(*ks->slot));
	for (i = 0; i < oldn; i++) {
		if (old[i] == 0)
			continue;
		for (j = hash(ks->arena + old[i] - 1) & (ks->nslot - 1);
		    ks->slot[j] != 0; j = (j + 1) & (ks->nslot - 1))
			;
		ks->slot[j] = old[i];
	}
	free(old);
}

int
ingest_keyset_add(struct ingest_keyset *ks, const char *key)
{
	size_t i, len = strlen(key) + 1;

	i = find(ks, key);
	if (ks->slot[i] != 0)
		return 0;
	if (ks->used + len > UINT32_MAX - 1)
		abort();	/* 4 GiB of rating keys: not a Plex library */
	if (ks->used + len > ks->cap) {
		ks->cap = ks->cap == 0 ? 4096 : ks->cap * 2;
		while (ks->cap < ks->used + len)
			ks->cap *= 2;
		ks->arena = xreallocarray(ks->arena, ks->cap, 1);
	}
	memcpy(ks->arena + ks->used, key, len);
	ks->slot[i] = (uint32_t)ks->used + 1;
	ks->used += len;
	ks->count++;
	if (ks->count * 2 > ks->nslot)
		grow(ks);
	return 1;
}

size_t
ingest_keyset_count(const struct ingest_keyset *ks)
{
	return ks->count;
}

void
ingest_keyset_each(const struct ingest_keyset *ks,
    void (*fn)(void *, const char *), void *arg)
{
	size_t off;

	for (off = 0; off < ks->used; off += strlen(ks->arena + off) + 1)
		fn(arg, ks->arena + off);
}
