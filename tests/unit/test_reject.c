/* test_reject.c: the reject file: lazy open, one JSON line per reject, base64 for bad UTF-8. */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "jsonutil.h"
#include "log.h"
#include "ndjson_read.h"
#include "reject.h"
#include "tap.h"

int
main(void)
{
	struct reject_file	*rf;
	struct ndjson_reader	*r;
	struct ndjson_error	 err;
	struct json_object	*o;
	struct stat		 st;
	char			 dir[] = "/tmp/test_reject.XXXXXX", path[256];
	const char		*bad = "{\"t\":\"\xff\xfe" "A\"}";
	FILE			*fp;
	int			 n;

	log_init("test_reject");
	log_set_level(LOG_ERROR);	/* the warnings are expected */
	if (mkdtemp(dir) == NULL) {
		tap_skip("mkdtemp failed");
		return done_testing();
	}
	snprintf(path, sizeof(path), "%s/rejects.ndjson", dir);
	rf = reject_open(path);
	is_str(reject_path(rf), path, "path kept");
	ok(stat(path, &st) == -1 && errno == ENOENT, "no file before the first reject");
	is_int(reject_add(rf, 3, "stdin:3:7: unexpected character",
	    "{\"a\":x}", 7), 0, "first reject written");
	ok(stat(path, &st) == 0, "file created on the first reject");
	is_int(reject_add(rf, 9, "bad bytes", bad, strlen(bad)), 0,
	    "invalid UTF-8 reject written");
	is_int(reject_add(rf, 12, "empty", NULL, 0), 0, "reject with no raw text");
	is_int(reject_count(rf), 3, "three rejects counted");
	is_int(reject_close(rf), 0, "close ok");

	/* The file is valid NDJSON for our own strict reader. */
	fp = fopen(path, "r");
	r = ndjson_reader_new(fp, path, 0);
	n = 0;
	while (ndjson_read(r, &o, &err) == NDJSON_OK) {
		int64_t	 line = 0;

		n++;
		jget_int(o, "line", &line);
		if (n == 1) {
			is_int(line, 3, "line member");
			is_str(jget_str(o, "error"), "stdin:3:7: unexpected character",
			    "error member");
			is_str(jget_str(o, "record"), "{\"a\":x}",
			    "record is the raw text, replayable");
			ok(jget_str(o, "record_base64") == NULL,
			    "no base64 for valid UTF-8");
			is_str(ndjson_reader_raw(r, NULL),
			    "{\"kind\":\"reject\",\"stage\":\"test_reject\",\"line\":3,"
			    "\"error\":\"stdin:3:7: unexpected character\",\"record\":\"{\\\"a\\\":x}\"}",
			    "member order kind, stage, line, error, record");
		} else if (n == 2) {
			is_str(jget_str(o, "record"), "{\"t\":\"\xef\xbf\xbd\xef\xbf\xbd" "A\"}",
			    "invalid bytes shown as U+FFFD");
			is_str(jget_str(o, "record_base64"), "eyJ0Ijoi//5BIn0=",
			    "record_base64 holds the exact bytes");
		} else if (n == 3)
			is_str(jget_str(o, "record"), "", "empty record");
		json_object_put(o);
	}
	is_int(n, 3, "three lines in the file");
	ndjson_reader_free(r);
	fclose(fp);

	rf = reject_open(NULL);
	is_int(reject_add(rf, 1, "x", "y", 1), 0, "NULL path: reject counted only");
	is_int(reject_count(rf), 1, "  count 1");
	ok(reject_path(rf) == NULL, "  no path");
	is_int(reject_close(rf), 0, "  close ok");
	is_int(reject_close(NULL), 0, "close(NULL) ok");

	snprintf(path, sizeof(path), "%s/no/such/dir/rejects", dir);
	rf = reject_open(path);
	is_int(reject_add(rf, 1, "x", "y", 1), -1, "unwritable path reports -1");
	is_int(reject_count(rf), 1, "  still counted");
	is_int(reject_close(rf), -1, "  close reports the failure");

	snprintf(path, sizeof(path), "%s/rejects.ndjson", dir);
	unlink(path);
	rmdir(dir);
	return done_testing();
}
