# Makefile: builds plexpipe's three programs into bin/, runs the tests, installs.
#
#   make                 build bin/plex-ingest bin/meta-enrich bin/qdrant-upsert
#   make check           install missing deps, build with -Werror + ASan/UBSan, run every test
#   make demo            install missing deps, build, run the pipeline on the bundled sample library
#   make bench           run the benchmark scripts and print their figures
#   make install PREFIX=/usr/local DESTDIR=
#   make clean

PREFIX	?= /usr/local
BINDIR	?= $(PREFIX)/bin
DATADIR	?= $(PREFIX)/share
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

COMMON_OBJS = $(COMMON_SRCS:%.c=$(BUILD)/%.o)
LIBCOMMON   = $(BUILD)/libplexpipe.a

PROGS	= $(BIN)/plex-ingest $(BIN)/meta-enrich $(BIN)/qdrant-upsert
UNIT_BINS = $(UNIT_TESTS:%.c=$(BUILD)/%)

.PHONY: all check demo bench install uninstall clean deps unit-tests
all: $(PROGS)

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

# make check: a separate sanitizer build, so bin/ stays a normal build.
check: deps
	$(MAKE) BUILD=build/check BIN=build/check/bin \
	    CFLAGS="-O1 -g -Werror $(SAN)" LDFLAGS="$(SAN)" all unit-tests
	PLEXPIPE_BIN=$(CURDIR)/build/check/bin PLEXPIPE_UNIT=$(CURDIR)/build/check/tests/unit \
	    tests/run

# deps first, then a fresh make: pkg-config flags are read when make starts.
demo: deps
	$(MAKE) all
	scripts/demo

bench: all
	bench/run

deps:
	@scripts/install-deps --check-or-install

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)/plexpipe
	install -m 0755 $(PROGS) scripts/plex-load $(DESTDIR)$(BINDIR)
	# the bundled sample library, for plex-load --help's first example
	rm -rf $(DESTDIR)$(DATADIR)/plexpipe/sample
	cp -R sample $(DESTDIR)$(DATADIR)/plexpipe/sample
	chmod -R u=rwX,go=rX $(DESTDIR)$(DATADIR)/plexpipe/sample

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/plex-ingest $(DESTDIR)$(BINDIR)/meta-enrich \
	    $(DESTDIR)$(BINDIR)/qdrant-upsert $(DESTDIR)$(BINDIR)/plex-load
	rm -rf $(DESTDIR)$(DATADIR)/plexpipe/sample

clean:
	rm -rf build bin

-include $(shell find build -name '*.d' 2>/dev/null)
