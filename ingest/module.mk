# ingest/module.mk: plex-ingest's sources, one per line. _MAIN holds main();
# the _SRCS modules are also linked into the unit tests.
INGEST_MAIN = ingest/plex-ingest.c
INGEST_SRCS = \
	ingest/batch_emit.c \
	ingest/incremental.c \
	ingest/keyset.c \
	ingest/listing.c \
	ingest/listing_state.c \
	ingest/metadata_fetch.c \
	ingest/plex_client.c \
	ingest/plex_source.c \
	ingest/sample_dir.c \
	ingest/sections.c \
	ingest/show_cache.c
