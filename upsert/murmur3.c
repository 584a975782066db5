/* murmur3.c: MurmurHash3 x86_32, the hash fastembed and Qdrant use for BM25 token ids. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "upsert.h"

static uint32_t
rotl32(uint32_t x, int r)
{
	return (x << r) | (x >> (32 - r));
}

/*
 * Austin Appleby's public-domain reference algorithm, reading blocks
 * little-endian byte by byte so the result does not depend on the host.
 */
uint32_t
upsert_murmur3_32(const void *key, size_t len, uint32_t seed)
{
	const uint8_t	*p = key;
	const uint32_t	 c1 = 0xcc9e2d51, c2 = 0x1b873593;
	uint32_t	 h = seed, k;
	size_t		 i, nblocks = len / 4;

	for (i = 0; i < nblocks; i++) {
		k = (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 |
		    (uint32_t)p[4 * i + 2] << 16 | (uint32_t)p[4 * i + 3] << 24;
		k *= c1;
		k = rotl32(k, 15);
		k *= c2;
		h ^= k;
		h = rotl32(h, 13);
		h = h * 5 + 0xe6546b64;
	}
	p += nblocks * 4;
	k = 0;
	switch (len & 3) {
	case 3:
		k ^= (uint32_t)p[2] << 16;
		/* FALLTHROUGH */
	case 2:
		k ^= (uint32_t)p[1] << 8;
		/* FALLTHROUGH */
	case 1:
		k ^= p[0];
		k *= c1;
		k = rotl32(k, 15);
		k *= c2;
		h ^= k;
	}
	h ^= (uint32_t)len;
	h ^= h >> 16;
	h *= 0x85ebca6b;
	h ^= h >> 13;
	h *= 0xc2b2ae35;
	h ^= h >> 16;
	return h;
}

/*
 * fastembed reads mmh3.hash() as a signed int32 and takes abs(); Qdrant's
 * server does (h as i32).unsigned_abs(). Both give 2^31 for 0x80000000.
 */
uint32_t
upsert_bm25_token_id(const char *s, size_t len)
{
	uint32_t	h = upsert_murmur3_32(s, len, 0);
	int32_t		v;

	memcpy(&v, &h, sizeof(v));
	return v < 0 ? (uint32_t)(-(int64_t)v) : (uint32_t)v;
}
