# tests/fuzz/module.mk: libFuzzer targets (make fuzz) and their regression replays (make check).
# Each target is tests/fuzz/fuzz_<name>.c; its regression inputs are tests/fuzz/regress/<name>/.
FUZZ_TARGETS	?= ndjson plex_item tmdb imdb point bm25 jsplit
FUZZ_SECONDS	?= 60
FUZZ_COMMON	 = tests/fuzz/fuzz_common.c
FUZZ_BINS	 = $(FUZZ_TARGETS:%=$(BUILD)/fuzz_%)
# The replays are unit tests: tests/run runs every test_* of the unit directory.
FUZZ_REPLAYS	 = $(FUZZ_TARGETS:%=$(BUILD)/tests/unit/test_fuzz_%)
