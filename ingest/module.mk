# ingest/module.mk: plex-ingest's sources, one per line. _MAIN holds main();
# the _SRCS modules are also linked into the unit tests.
INGEST_MAIN = ingest/plex-ingest.c
INGEST_SRCS =
