/* fuzz_ndjson.c: libFuzzer target: the NDJSON reader (common/ndjson_read.c) on arbitrary bytes, and record checks on what it accepts. */
#include <stdio.h>
#include <stdlib.h>

#include <json-c/json.h>

#include "fuzz.h"
#include "ndjson_read.h"
#include "record.h"

static volatile unsigned char sink;

/* Reads every byte, so a wrong length shows up under ASan. */
static void
touch(const char *p, size_t n)
{
	unsigned char x = 0;

	while (n-- > 0)
		x ^= (unsigned char)*p++;
	sink = x;
}

/*
 * The input is a stream as a stage reads it on stdin, with a small line
 * limit so that over-long lines (and their truncated raw text) are
 * reached too. Every accepted value is classified and checked like the
 * programs do with their input records.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ndjson_reader *r;
	struct ndjson_error err;
	struct json_object *o;
	enum ndjson_status st;
	const char *raw;
	size_t len;
	FILE *fp;

	if (size == 0)
		return 0;
	if ((fp = fmemopen((void *)(uintptr_t)data, size, "r")) == NULL)
		return 0;
	r = ndjson_reader_new(fp, "fuzz", 4096);
	while ((st = ndjson_read(r, &o, &err)) != NDJSON_EOF &&
	    st != NDJSON_IOERR) {
		if (st == NDJSON_BAD) {
			/* every bad line says why, and its raw text is readable in full */
			if (err.message[0] == '\0' || err.line == 0)
				abort();
			touch(err.raw, err.raw_len);
			continue;
		}
		raw = ndjson_reader_raw(r, &len);
		touch(raw, len);
		switch (record_kind_of(o)) {
		case REC_PLEX:
			(void)record_check_plex(o);
			break;
		case REC_POINTS:
			(void)record_check_points(o);
			break;
		case REC_END:
			(void)record_check_end(o);
			(void)record_end_complete(o);
			break;
		default:
			(void)record_check_item(o);
			(void)record_check_point(o);
			break;
		}
		json_object_put(o);
	}
	ndjson_reader_free(r);
	fclose(fp);
	/* and the whole input as one JSON text, as files are read */
	o = ndjson_parse_string((const char *)data, size, &err);
	json_object_put(o);
	return 0;
}
