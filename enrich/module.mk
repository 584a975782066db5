# enrich/module.mk: meta-enrich's sources, one per line. _MAIN holds main();
# the _SRCS modules are also linked into the unit tests.
ENRICH_MAIN = enrich/meta-enrich.c
ENRICH_SRCS =
