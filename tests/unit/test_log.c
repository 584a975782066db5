/* test_log.c: log lines in text and JSON, levels, redaction, summary, no progress off a terminal. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "jsonutil.h"
#include "log.h"
#include "ndjson_read.h"
#include "redact.h"
#include "tap.h"

static FILE	*cap;
static int	 saved_fd;

/* Sends stderr to a temporary file until captured() is called. */
static void
capture(void)
{
	cap = tmpfile();
	fflush(stderr);
	saved_fd = dup(STDERR_FILENO);
	dup2(fileno(cap), STDERR_FILENO);
}

static const char *
captured(void)
{
	static char	 text[4096];
	size_t		 n;

	fflush(stderr);
	dup2(saved_fd, STDERR_FILENO);
	close(saved_fd);
	rewind(cap);
	n = fread(text, 1, sizeof(text) - 1, cap);
	text[n] = '\0';
	fclose(cap);
	return text;
}

int
main(void)
{
	struct json_object	*sum, *o;
	struct ndjson_error	 err;
	const char		*t;

	log_init("/usr/bin/plex-ingest");
	is_str(log_prog(), "plex-ingest", "prog name is the basename");
	redact_add("supersecret123");

	is_int(log_get_level(), LOG_NOTICE, "the default level is notice");
	capture();
	log_notice("listed %d sections", 2);
	log_info("not shown by default");
	log_warn("slow answer\n");
	log_error("token supersecret123 rejected");
	log_debug("not shown at info");
	log_progress(10);	/* stderr is a file, not a terminal */
	log_progress_done();
	is_str(captured(),
	    "plex-ingest: listed 2 sections\n"
	    "plex-ingest: warning: slow answer\n"
	    "plex-ingest: error: token *** rejected\n",
	    "text lines: prog, level, redacted, info and debug hidden by default, "
	    "no progress off a tty");

	log_set_level(LOG_INFO);
	capture();
	log_info("listing %d sections", 2);
	log_debug("not shown at info");
	is_str(captured(), "plex-ingest: listing 2 sections\n", "info shown with -v");

	log_set_level(LOG_DEBUG);
	capture();
	log_debug("GET /library?X-Plex-Token=abcdef");
	is_str(captured(), "plex-ingest: debug: GET /library?X-Plex-Token=***\n",
	    "debug shown with -v, token param masked");

	log_set_level(LOG_WARN);
	sum = json_object_new_object();
	json_object_object_add(sum, "items", json_object_new_int(12));
	json_object_object_add(sum, "seconds", json_object_new_double_s(1.5, "1.5"));
	json_object_object_add(sum, "status", json_object_new_string("ok"));
	json_object_object_add(sum, "note", json_object_new_string("two words"));
	capture();
	log_info("hidden by -q");
	log_notice("hidden by -q too");
	log_summary(sum);
	log_warn("shown");
	is_str(captured(), "plex-ingest: warning: shown\n",
	    "-q: warnings and errors only, no summary");
	log_set_level(LOG_NOTICE);
	capture();
	log_summary(sum);
	is_str(captured(),
	    "plex-ingest: summary: items=12 seconds=1.5 status=ok note=\"two words\"\n",
	    "the default keeps the summary line");

	log_set_level(LOG_INFO);
	log_set_format(LOG_JSON);
	capture();
	log_warn("key \"supersecret123\" / path");
	log_summary(sum);
	t = captured();
	o = ndjson_parse_string(t, strcspn(t, "\n"), &err);
	ok(o != NULL, "JSON log line parses strictly");
	is_str(jget_str(o, "prog"), "plex-ingest", "  prog");
	is_str(jget_str(o, "level"), "warning", "  level");
	is_str(jget_str(o, "msg"), "key \"***\" / path", "  msg redacted");
	ok(jget_str(o, "ts") != NULL && strlen(jget_str(o, "ts")) == 20, "  ts is ISO-8601 UTC");
	ok(strncmp(t, "{\"ts\":", 6) == 0, "  members start with ts");
	json_object_put(o);
	t = strchr(t, '\n') + 1;
	o = ndjson_parse_string(t, strcspn(t, "\n"), &err);
	ok(o != NULL, "JSON summary parses");
	is_str(jget_str(o, "msg"), "summary", "  msg summary");
	{
		int64_t	 items = 0;

		ok(jget_int(o, "items", &items) && items == 12, "  summary members merged");
	}
	json_object_put(o);

	/* A secret with a quote is masked before JSON escaping hides it. */
	redact_add("pa\"ss\\word");
	capture();
	log_error("login with pa\"ss\\word failed");
	t = captured();
	ok(strstr(t, "pa\\\"ss") == NULL && strstr(t, "ss\\\\word") == NULL,
	    "escaped secret not in the JSON line");
	o = ndjson_parse_string(t, strcspn(t, "\n"), &err);
	is_str(jget_str(o, "msg"), "login with *** failed", "  msg masked");
	json_object_put(o);
	json_object_put(sum);
	return done_testing();
}
