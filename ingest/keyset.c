/*
 * keyset.c: the set of rating keys already emitted, kept compact.
 *
 * plex-ingest must remember every key it wrote (duplicates are emitted
 * once, and the end record lists them all), but memory must not grow with
 * the items themselves. Keys live back to back in one arena, NUL-
 * terminated, in emit order; an open-addressing table of arena offsets
 * (linear probing, load <= 1/2) finds them, with each key's insertion
 * ordinal beside it (the listing state keeps its stamps in an array by
 * ordinal) and the way back. About 24 bytes per key.
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
	uint32_t	*ord;		/* the key's insertion ordinal, by slot */
	uint32_t	*byord;		/* arena offset, by ordinal */
	size_t		 nslot;		/* power of two */
	size_t		 count;
};

static uint32_t
hash(const char *s)
{
	uint32_t	 h = 2166136261u;	/* FNV-1a */

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h;
}

struct ingest_keyset *
ingest_keyset_new(void)
{
	struct ingest_keyset	*ks;

	ks = xcalloc(1, sizeof(*ks));
	ks->nslot = 1024;
	ks->slot = xcalloc(ks->nslot, sizeof(*ks->slot));
	ks->ord = xcalloc(ks->nslot, sizeof(*ks->ord));
	return ks;
}

void
ingest_keyset_free(struct ingest_keyset *ks)
{
	if (ks == NULL)
		return;
	free(ks->arena);
	free(ks->slot);
	free(ks->ord);
	free(ks->byord);
	free(ks);
}

/* The slot holding key, or the empty slot where it would go. */
static size_t
find(const struct ingest_keyset *ks, const char *key)
{
	size_t	 i, mask = ks->nslot - 1;

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

const char *
ingest_keyset_key(const struct ingest_keyset *ks, size_t ord)
{
	return ord < ks->count ? ks->arena + ks->byord[ord] : NULL;
}

long
ingest_keyset_index(const struct ingest_keyset *ks, const char *key)
{
	size_t	 i = find(ks, key);

	return ks->slot[i] != 0 ? (long)ks->ord[i] : -1;
}

static void
grow(struct ingest_keyset *ks)
{
	uint32_t	*old = ks->slot, *oldord = ks->ord;
	size_t		 i, j, oldn = ks->nslot;

	ks->nslot *= 2;
	ks->slot = xcalloc(ks->nslot, sizeof(*ks->slot));
	ks->ord = xcalloc(ks->nslot, sizeof(*ks->ord));
	for (i = 0; i < oldn; i++) {
		if (old[i] == 0)
			continue;
		for (j = hash(ks->arena + old[i] - 1) & (ks->nslot - 1);
		    ks->slot[j] != 0; j = (j + 1) & (ks->nslot - 1))
			;
		ks->slot[j] = old[i];
		ks->ord[j] = oldord[i];
	}
	free(old);
	free(oldord);
}

int
ingest_keyset_add(struct ingest_keyset *ks, const char *key)
{
	size_t	 i, len = strlen(key) + 1;

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
	ks->ord[i] = (uint32_t)ks->count;
	if ((ks->count & (ks->count - 1)) == 0)	/* 0, 1, 2, 4...: grow */
		ks->byord = xreallocarray(ks->byord, ks->count ? 2 * ks->count : 1,
		    sizeof(*ks->byord));
	ks->byord[ks->count] = (uint32_t)ks->used;
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
	size_t	 off;

	for (off = 0; off < ks->used; off += strlen(ks->arena + off) + 1)
		fn(arg, ks->arena + off);
}
