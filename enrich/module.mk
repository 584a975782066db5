# enrich/module.mk: meta-enrich's sources, one per line. _MAIN holds main();
# the _SRCS modules are also linked into the unit tests.
ENRICH_MAIN = enrich/meta-enrich.c
ENRICH_SRCS = \
	enrich/batch.c \
	enrich/breaker.c \
	enrich/call.c \
	enrich/context.c \
	enrich/dispatch.c \
	enrich/fetch.c \
	enrich/guids.c \
	enrich/imdb.c \
	enrich/imdb_queue.c \
	enrich/lookahead.c \
	enrich/msg.c \
	enrich/plex_item.c \
	enrich/point_build.c \
	enrich/point_id.c \
	enrich/season.c \
	enrich/slug.c \
	enrich/stats.c \
	enrich/tmdb.c \
	enrich/tmdb_model.c \
	enrich/tmdb_show.c \
	enrich/units.c \
	enrich/worker.c
