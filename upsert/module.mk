# upsert/module.mk: qdrant-upsert's sources, one per line. _MAIN holds main();
# the _SRCS modules are also linked into the unit tests.
UPSERT_MAIN = upsert/qdrant-upsert.c
UPSERT_SRCS = \
	upsert/bm25.c \
	upsert/murmur3.c
