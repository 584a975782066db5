# upsert/module.mk: qdrant-upsert's sources, one per line. _MAIN holds main();
# the _SRCS modules are also linked into the unit tests.
UPSERT_MAIN = upsert/qdrant-upsert.c
UPSERT_SRCS = \
	upsert/bm25.c \
	upsert/cleanup.c \
	upsert/collection.c \
	upsert/count_points.c \
	upsert/dead_letter.c \
	upsert/dry_run.c \
	upsert/embed_client.c \
	upsert/murmur3.c \
	upsert/point.c \
	upsert/skip_unchanged.c \
	upsert/upsert_batch.c
