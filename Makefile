# Makefile: builds plexpipe's three programs into bin/, runs the tests, installs.
#
#   make                 build bin/plex-ingest bin/meta-enrich bin/qdrant-upsert
#   make check           install missing deps, build with -Werror + ASan/UBSan, run every test
#   make check-valgrind  the end-to-end tests with every program under valgrind (slow)
#   make fuzz            build the libFuzzer targets with clang, run each FUZZ_SECONDS (60)
#   make demo            install missing deps, build, run the pipeline on the bundled sample library
#   make bench           run the benchmark scripts and print their figures
#   make install PREFIX=/usr/local DESTDIR=
#   make clean

PREFIX	?= /usr/local
BINDIR	?= $(PREFIX)/bin
DATADIR	?= $(PREFIX)/share
MANDIR	?= $(DATADIR)/man
COMPDIR	?= $(DATADIR)/bash-completion/completions
DESTDIR	?=
BUILD	?= build/release
BIN	?= bin

PKGS	 = libcurl json-c libbsd-overlay libmd
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CFLAGS	?= -O2 -g
WARN	 = -Wall -Wextra -Wstrict-prototypes -Wmissing-prototypes \
	   -Wmissing-declarations -Wshadow -Wpointer-arith -Wsign-compare
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) -Icommon $(PKG_CFLAGS) $(CFLAGS)
LDLIBS	+= $(PKG_LIBS) -lstemmer -lunistring -lm -lpthread

SAN	 = -fsanitize=address,undefined -fno-omit-frame-pointer \
	   -fno-sanitize-recover=undefined

# Each directory lists its own sources, one per line.
include common/module.mk
include ingest/module.mk
include enrich/module.mk
include upsert/module.mk
include tests/unit/module.mk
include tests/fuzz/module.mk

COMMON_OBJS = $(COMMON_SRCS:%.c=$(BUILD)/%.o)
LIBCOMMON   = $(BUILD)/libplexpipe.a

PROGS	= $(BIN)/plex-ingest $(BIN)/meta-enrich $(BIN)/qdrant-upsert
NAMES	= plex-ingest meta-enrich qdrant-upsert plex-load
MANS	= $(NAMES:%=$(BUILD)/man/%.1)
UNIT_BINS = $(UNIT_TESTS:%.c=$(BUILD)/%) $(FUZZ_REPLAYS)

.PHONY: all check check-valgrind fuzz fuzz-bins demo bench install uninstall clean deps unit-tests man FORCE
all: $(PROGS)

# Man pages, made from each program's --help and --version by help2man
# (Debian: help2man); plex-load's examples name the installed sample.
man: $(MANS)

MAN_NAME_plex-ingest	= read a Plex library and write it as NDJSON batches
MAN_NAME_meta-enrich	= add TMDb and IMDb metadata and build Qdrant points
MAN_NAME_qdrant-upsert	= load Qdrant points with BM25 and dense vectors
MAN_NAME_plex-load	= run plex-ingest | meta-enrich | qdrant-upsert

$(BUILD)/man/%.1: $(BIN)/% common/version.h
	@mkdir -p $(@D)
	PLEXLOAD_HELP_PREFIX=$(PREFIX) help2man --no-info \
	    --name="$(MAN_NAME_$*)" --output=$@.tmp $(BIN)/$*
	mv $@.tmp $@

# plex-load's page names PREFIX: remade when PREFIX changes
$(BUILD)/man/prefix: FORCE
	@mkdir -p $(@D)
	@echo '$(PREFIX)' | cmp -s - $@ || echo '$(PREFIX)' >$@

$(BUILD)/man/plex-load.1: scripts/plex-load common/version.h $(PROGS) $(BUILD)/man/prefix
	@mkdir -p $(@D)
	PLEXPIPE_BIN=$(CURDIR)/$(BIN) PLEXLOAD_HELP_PREFIX=$(PREFIX) \
	    help2man --no-info --name="$(MAN_NAME_plex-load)" \
	    --output=$@.tmp scripts/plex-load
	mv $@.tmp $@

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(LIBCOMMON): $(COMMON_OBJS)
	$(AR) rcs $@ $^

$(BIN)/plex-ingest: $(INGEST_MAIN:%.c=$(BUILD)/%.o) $(INGEST_SRCS:%.c=$(BUILD)/%.o) $(LIBCOMMON)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BIN)/meta-enrich: $(ENRICH_MAIN:%.c=$(BUILD)/%.o) $(ENRICH_SRCS:%.c=$(BUILD)/%.o) $(LIBCOMMON)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BIN)/qdrant-upsert: $(UPSERT_MAIN:%.c=$(BUILD)/%.o) $(UPSERT_SRCS:%.c=$(BUILD)/%.o) $(LIBCOMMON)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# A unit test links the library and every stage module (all but the mains).
UNIT_LINK_OBJS = $(INGEST_SRCS) $(ENRICH_SRCS) $(UPSERT_SRCS)
$(BUILD)/tests/unit/%: tests/unit/%.c $(LIBCOMMON) $(UNIT_LINK_OBJS:%.c=$(BUILD)/%.o)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(UNIT_LINK_OBJS:%.c=$(BUILD)/%.o) $(LIBCOMMON) $(LDLIBS)

unit-tests: $(UNIT_BINS)

# A fuzz target linked with replay_main.c instead of libFuzzer: its
# regression inputs replayed as a unit test, under make check's sanitizers.
$(BUILD)/tests/unit/test_fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/replay_main.c $(FUZZ_COMMON) \
    $(LIBCOMMON) $(UNIT_LINK_OBJS:%.c=$(BUILD)/%.o)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -DFUZZ_TARGET='"$*"' $(LDFLAGS) -o $@ tests/fuzz/fuzz_$*.c \
	    tests/fuzz/replay_main.c $(FUZZ_COMMON) $(UNIT_LINK_OBJS:%.c=$(BUILD)/%.o) \
	    $(LIBCOMMON) $(LDLIBS)

# The libFuzzer binaries (clang only): every object built with the fuzzer's
# coverage instrumentation, the target linked with libFuzzer's main().
$(BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_COMMON) $(LIBCOMMON) \
    $(UNIT_LINK_OBJS:%.c=$(BUILD)/%.o)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer $(LDFLAGS) -o $@ tests/fuzz/fuzz_$*.c \
	    $(FUZZ_COMMON) $(UNIT_LINK_OBJS:%.c=$(BUILD)/%.o) $(LIBCOMMON) $(LDLIBS)

fuzz-bins: $(FUZZ_BINS)

FUZZ_FLAGS = -O1 -g -fsanitize=fuzzer-no-link,address,undefined \
	     -fno-omit-frame-pointer -fno-sanitize-recover=undefined
# make fuzz: a clang build of its own; tests/fuzz/run makes the seed corpus
# (build/fuzz/corpus, from tests/data and sample/) and runs each target.
fuzz: deps
	$(MAKE) CC=clang BUILD=build/fuzz CFLAGS="$(FUZZ_FLAGS)" \
	    LDFLAGS="-fsanitize=address,undefined" FUZZ_TARGETS="$(FUZZ_TARGETS)" fuzz-bins
	tests/fuzz/run build/fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# make check: a separate sanitizer build, so bin/ stays a normal build.
check: deps
	$(MAKE) BUILD=build/check BIN=build/check/bin \
	    CFLAGS="-O1 -g -Werror $(SAN)" LDFLAGS="$(SAN)" all unit-tests
	PLEXPIPE_BIN=$(CURDIR)/build/check/bin PLEXPIPE_UNIT=$(CURDIR)/build/check/tests/unit \
	    tests/run

# make check-valgrind: valgrind cannot run ASan binaries, so a plain -O1 build
# of its own; tests/valgrind/run wraps each program in valgrind.
check-valgrind: deps
	$(MAKE) BUILD=build/valgrind BIN=build/valgrind/bin CFLAGS="-O1 -g" all
	tests/valgrind/run build/valgrind/bin

# deps first, then a fresh make: pkg-config flags are read when make starts.
demo: deps
	$(MAKE) all
	scripts/demo

bench: all
	bench/run

deps:
	@scripts/install-deps --check-or-install

install: all man
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)/plexpipe \
	    $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(COMPDIR)
	install -m 0755 $(PROGS) scripts/plex-load $(DESTDIR)$(BINDIR)
	install -m 0644 $(MANS) $(DESTDIR)$(MANDIR)/man1
	# one completion file, under each name bash-completion looks for
	for n in $(NAMES); do \
	    install -m 0644 scripts/plexpipe.bash-completion $(DESTDIR)$(COMPDIR)/$$n || exit 1; \
	done
	# the bundled sample library, for plex-load --help's first example
	rm -rf $(DESTDIR)$(DATADIR)/plexpipe/sample
	cp -R sample $(DESTDIR)$(DATADIR)/plexpipe/sample
	chmod -R u=rwX,go=rX $(DESTDIR)$(DATADIR)/plexpipe/sample

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/plex-ingest $(DESTDIR)$(BINDIR)/meta-enrich \
	    $(DESTDIR)$(BINDIR)/qdrant-upsert $(DESTDIR)$(BINDIR)/plex-load
	rm -rf $(DESTDIR)$(DATADIR)/plexpipe/sample
	for n in $(NAMES); do \
	    rm -f $(DESTDIR)$(MANDIR)/man1/$$n.1 $(DESTDIR)$(COMPDIR)/$$n; \
	done

clean:
	rm -rf build bin

-include $(shell find build -name '*.d' 2>/dev/null)
