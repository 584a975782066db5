# common/module.mk: the shared library's sources, one per line.
COMMON_SRCS = \
	common/buf.c \
	common/cache.c \
	common/fdio.c \
	common/http.c \
	common/jcanon.c \
	common/jparse.c \
	common/jsonutil.c \
	common/log.c \
	common/ndjson_read.c \
	common/ndjson_write.c \
	common/optable.c \
	common/opts.c \
	common/ratelimit.c \
	common/record.c \
	common/redact.c \
	common/reject.c \
	common/signals.c \
	common/statedir.c \
	common/strutil.c \
	common/timeutil.c \
	common/utf8.c \
	common/xalloc.c
