/* plex-ingest.c: reads a Plex library (or a recorded sample) and writes plex batches and an end record. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "exitcode.h"
#include "http.h"
#include "log.h"
#include "ndjson_write.h"
#include "optable.h"
#include "opts.h"
#include "signals.h"
#include "timeutil.h"
#include "version.h"
#include "xalloc.h"
#include "ingest.h"

#define PROG		"plex-ingest"
#define DEF_CHUNK	200
#define MAX_CHUNK	1000	/* PMS is said to reject larger pages */
#define STR(x)		#x
#define XSTR(x)		STR(x)
#define SHOW_CACHE	256	/* parent shows kept; episodes come grouped */

struct config {
	const char		*url;
	const char		*token;
	const char		*token_file;
	const char		**sections;
	size_t			 nsections;
	int			 sections_env;	/* the sections came from
						   PLEX_SECTIONS */
	char			*sections_keep;	/* PLEX_SECTIONS, split */
	const char		*types;
	long			 chunk;
	const char		*since;
	long			 limit;
	const char		*sample_dir;
	double			 timeout;
	int			 retries;
	const char		*state;
	const char		*state_out;
	struct common_opts	 common;	/* --insecure, --cacert */
};

static void
add_section(struct config *c, const char *name)
{
	c->sections = xreallocarray(c->sections, c->nsections + 1,
	    sizeof(*c->sections));
	c->sections[c->nsections++] = name;
}

/*
 * --section NAME, repeatable; PLEX_SECTIONS="Movies,TV Shows" counts only
 * when no --section is given.
 */
static void
section_opt(const struct optable *t, void *base, const char *arg,
    const char *name)
{
	struct config	*c = base;
	char		*p, *tok, *e, *save = NULL;

	(void)t;
	if (name[0] == '-') {
		if (c->sections_env)
			c->nsections = 0;
		c->sections_env = 0;
		add_section(c, arg);
		return;
	}
	free(c->sections_keep);
	c->sections_keep = xstrdup(arg);
	c->nsections = 0;
	c->sections_env = 1;
	for (p = c->sections_keep; (tok = strtok_r(p, ",", &save)) != NULL;
	    p = NULL) {
		/* "Movies, TV Shows": the blanks around a comma are not the title's */
		while (*tok == ' ' || *tok == '\t')
			tok++;
		e = tok + strlen(tok);
		while (e > tok && (e[-1] == ' ' || e[-1] == '\t'))
			*--e = '\0';
		if (*tok != '\0')
			add_section(c, tok);
	}
}

/* The token or its file, whichever came last (PLEX_TOKEN_FILE beats PLEX_TOKEN). */
static void
token_opt(const struct optable *t, void *base, const char *arg,
    const char *name)
{
	struct config	*c = base;

	(void)t;
	(void)name;
	c->token = opt_secret(arg);
	c->token_file = NULL;
}

/* Read when the server is used, so --sample-dir ignores a bad file. */
static void
token_file_opt(const struct optable *t, void *base, const char *arg,
    const char *name)
{
	struct config	*c = base;

	(void)t;
	(void)name;
	c->token_file = arg;
	c->token = NULL;
}

#define F(field)	offsetof(struct config, field)

/*
 * Every option once: { long name, short, variable, parser, field, bounds,
 * default }, then its help lines.
 */
static const struct optdef options[] = {
	{ NULL, 0, NULL, OT_TEXT, 0, 0, 0, NULL, .help =
"Plex:\n" },
	{ "plex-url", 0, "PLEX_URL", OT_STRING, F(url), 0, 0, NULL, .help =
"  --plex-url URL          server base URL, e.g. http://127.0.0.1:32400 (PLEX_URL)\n" },
	{ "plex-token", 0, "PLEX_TOKEN", OT_CALLBACK, 0, 0, 0, NULL, .cb = token_opt, .help =
"  --plex-token TOKEN      access token, sent in the X-Plex-Token header (PLEX_TOKEN);\n"
"                          prefer --plex-token-file or the environment\n" },
	{ "plex-token-file", 0, "PLEX_TOKEN_FILE", OT_CALLBACK, 0, 0, 0, NULL, .cb = token_file_opt, .help =
"  --plex-token-file FILE  read the token from FILE's first line (PLEX_TOKEN_FILE)\n" },
	{ "section", 0, "PLEX_SECTIONS", OT_CALLBACK, 0, 0, 0, NULL, .cb = section_opt, .help =
"  --section NAME|KEY      read this section (key or exact title); repeatable;\n"
"                          default: every movie and show section (PLEX_SECTIONS,\n"
"                          comma-separated)\n" },
	{ "types", 0, "PLEX_TYPES", OT_STRING, F(types), 0, 0, "movie,episode", .help =
"  --types LIST            what to read: movie, episode, show; default\n"
"                          movie,episode (PLEX_TYPES)\n" },
	{ "plex-chunk-size", 0, "PLEX_CHUNK_SIZE", OT_LONG, F(chunk), 1, MAX_CHUNK, XSTR(DEF_CHUNK), .help =
"  --plex-chunk-size N     items per listing page, metadata request and batch,\n"
"                          1.." XSTR(MAX_CHUNK) ", default " XSTR(DEF_CHUNK) " (PLEX_CHUNK_SIZE)\n" },
	{ "updated-since", 0, "PLEX_UPDATED_SINCE", OT_STRING, F(since), 0, 0, NULL, .help =
"  --updated-since TIME    only items updated since TIME: epoch seconds, an ISO\n"
"                          date or date-time, or a duration back from now (7d,\n"
"                          12h); the run is then not complete (PLEX_UPDATED_SINCE)\n" },
	{ "limit", 0, "PLEX_LIMIT", OT_LONG, F(limit), 1, 1000000000, NULL, .help =
"  --limit N               stop after N items, for debugging; not complete\n"
"                          (PLEX_LIMIT)\n" },
	{ "timeout", 0, "PLEX_TIMEOUT", OT_DOUBLE, F(timeout), 0.001, 86400, "60", .help =
"  --timeout SECONDS       per request attempt, default 60 (PLEX_TIMEOUT)\n" },
	{ "retries", 0, "PLEX_RETRIES", OT_INT, F(retries), 0, 100, "3", .help =
"  --retries N             retries on transport errors, 429 and 5xx, default 3\n"
"                          (PLEX_RETRIES)\n" },
	{ "sample-dir", 0, "PLEX_SAMPLE_DIR", OT_STRING, F(sample_dir), 0, 0, NULL, .help =
"  --sample-dir DIR        read recorded answers instead of a server: the bundled\n"
"                          sample library (DIR/plex/...) or mcp-plex sample-data;\n"
"                          no URL or token needed (PLEX_SAMPLE_DIR)\n"
"\n"
"Incremental runs (scripts/plex-load keeps the state for you):\n" },
	{ "state", 0, NULL, OT_STRING, F(state), 0, 0, NULL, .help =
"  --state FILE            the listing state of the last good run: items whose\n"
"                          updatedAt and addedAt (and their show's updatedAt) are\n"
"                          unchanged get no metadata request and are not written;\n"
"                          the end record still lists them. A missing or unreadable\n"
"                          FILE means a full run (with a warning if unreadable)\n" },
	{ "state-out", 0, NULL, OT_STRING, F(state_out), 0, 0, NULL, .help =
"  --state-out FILE        write this run's listing state to FILE (atomically,\n"
"                          mode 0600) once the end record is out; give it to\n"
"                          --state next time only if the whole load succeeded\n" },
	{ "list-options", 0, NULL, OT_CALLBACK, 0, 0, 0, NULL, .flags = OTF_NOARG | OTF_HIDDEN, .cb = optable_list },
};

static const char intro[] =
"Usage: " PROG " [--plex-url URL] [--plex-token-file FILE] [--section NAME|KEY]...\n"
"       [--types movie,episode,show] [--plex-chunk-size N] [--updated-since TIME]\n"
"       [--limit N] [--timeout SECONDS] [--retries N] [--state FILE]\n"
"       [--state-out FILE] [common options]\n"
"       " PROG " --sample-dir DIR [--types ...] [--plex-chunk-size N] [...]\n"
"\n"
"Reads a Plex Media Server library over its HTTP API and writes it to stdout\n"
"as NDJSON: one {\"kind\":\"plex\"} batch per listing page, each item with its\n"
"full metadata (full cast and Guid; listings truncate them), episode batches\n"
"with their parent shows in \"shows\", then one {\"kind\":\"end\"} record with\n"
"the totals and every rating key written. Collections are skipped and an\n"
"item listed twice is written once. Memory stays bounded by one page.\n"
"\n";

static const char outro[] =
"\n"
"The end record is \"complete\" only when every selected section was listed to\n"
"its end with no --updated-since or --limit, and --section left out no other\n"
"section of the same types (points do not record their section); only then\n"
"may qdrant-upsert remove stale points.\n"
"\n"
"Exit status: 0 done; 1 server unreachable or failing (no end record is\n"
"written, batches already written are whole); 2 usage or configuration error,\n"
"or the token was rejected; 128+N killed by signal N.\n";

static const struct optable optable = OPTABLE(options, intro, outro);

static void
configure(struct config *c, int argc, char **argv)
{
	int	 i;

	memset(c, 0, sizeof(*c));
	i = optable_parse(&optable, c, &c->common, argc, argv);
	if (i < argc)
		opt_usage_error("unexpected argument '%s'", argv[i]);
}

static struct plex_source *
open_source(const struct config *c, char **token_buf)
{
	struct plex_client_config	 pc;
	struct plex_source		*src;
	char				 err[512];

	*token_buf = NULL;
	if (c->sample_dir != NULL) {
		if ((src = sample_dir_open(c->sample_dir, err, sizeof(err))) == NULL) {
			log_error("%s", err);
			exit(EXIT_USAGE);
		}
		return src;
	}
	memset(&pc, 0, sizeof(pc));
	pc.url = c->url;
	if (pc.url == NULL || pc.url[0] == '\0') {
		log_error("no Plex server: give --plex-url or PLEX_URL "
		    "(or --sample-dir)");
		exit(EXIT_USAGE);
	}
	if (strncmp(pc.url, "http://", 7) != 0 &&
	    strncmp(pc.url, "https://", 8) != 0) {
		/* only the scheme: the rest may hold user:password@ */
		log_error("--plex-url must start with http:// or https:// "
		    "(it starts \"%.*s\")",
		    (int)strcspn(pc.url, ":/@"), pc.url);
		exit(EXIT_USAGE);
	}
	if (c->token_file != NULL)
		pc.token = *token_buf = opt_secret_file(c->token_file,
		    "--plex-token-file");
	else
		pc.token = c->token;
	if (pc.token == NULL || pc.token[0] == '\0') {
		log_error("no Plex token: set PLEX_TOKEN or give "
		    "--plex-token-file");
		exit(EXIT_USAGE);
	}
	pc.timeout = c->timeout;
	pc.retries = c->retries;
	pc.insecure = c->common.insecure;
	pc.cacert = c->common.cacert;
	if ((src = plex_client_new(&pc)) == NULL)
		exit(EXIT_FATAL);
	return src;
}

static struct json_object *
stats_new(const struct plex_source *src, const struct ingest_run *run,
    double secs)
{
	struct json_object	*st;
	unsigned long		 req;
	char			 num[64];

	req = src->sections_requests + src->listing_requests +
	    src->metadata_requests;
	st = json_object_new_object();
	json_object_object_add(st, "requests", json_object_new_int64((int64_t)req));
	json_object_object_add(st, "sections_requests",
	    json_object_new_int64((int64_t)src->sections_requests));
	json_object_object_add(st, "listing_requests",
	    json_object_new_int64((int64_t)src->listing_requests));
	json_object_object_add(st, "metadata_requests",
	    json_object_new_int64((int64_t)src->metadata_requests));
	json_object_object_add(st, "http_attempts",
	    json_object_new_int64((int64_t)plex_client_attempts(src)));
	json_object_object_add(st, "items",
	    json_object_new_int64((int64_t)run->out->items));
	json_object_object_add(st, "batches",
	    json_object_new_int64((int64_t)run->out->batches));
	json_object_object_add(st, "skipped",
	    json_object_new_int64((int64_t)run->skipped));
	json_object_object_add(st, "duplicates",
	    json_object_new_int64((int64_t)run->duplicates));
	json_object_object_add(st, "vanished",
	    json_object_new_int64((int64_t)run->vanished));
	json_object_object_add(st, "incremental",
	    json_object_new_boolean(run->old != NULL));
	json_object_object_add(st, "unchanged",
	    json_object_new_int64((int64_t)run->unchanged));
	snprintf(num, sizeof(num), "%.3f", secs);
	json_object_object_add(st, "seconds",
	    json_object_new_double_s(secs, num));
	snprintf(num, sizeof(num), "%.1f",
	    secs > 0 ? (double)run->out->items / secs : 0.0);
	json_object_object_add(st, "items_per_s",
	    json_object_new_double_s(atof(num), num));
	return st;
}

/* A failed run: say how far it got, write no end record, exit. */
static void
fail(struct plex_source *src, int rc, const struct ingest_run *run)
{
	log_progress_done();
	log_error("%s", src->error);
	log_error("stopped after %zu items in %zu batches; no end record "
	    "written", run->out->items, run->out->batches);
	ndjson_check_stdout();
	signals_reraise();
	exit(rc == PLEX_ERR_AUTH ? EXIT_USAGE : EXIT_FATAL);
}

/*
 * The old listing state, or NULL for a full run. A state that cannot be
 * read costs a full run, never a wrong incremental one.
 */
static struct ingest_state *
load_state(const char *path)
{
	struct ingest_state	*st;
	char			 err[512];
	int			 rc;

	if (path == NULL)
		return NULL;
	st = ingest_state_new();
	if ((rc = ingest_state_load(st, path, err, sizeof(err))) == 0) {
		log_notice("listing state %s: %zu items; fetching only new and "
		    "changed ones", path, ingest_state_count(st));
		return st;
	}
	if (rc > 0)
		log_notice("no listing state yet (%s): a full run", path);
	else
		log_warn("listing state unusable, so this is a full run: %s", err);
	ingest_state_free(st);
	return NULL;
}

int
main(int argc, char **argv)
{
	struct config		 c;
	struct plex_source	*src;
	struct ingest_listing	*ls = NULL;
	struct ingest_out	 out;
	struct ingest_run	 run;
	struct json_object	*root, *secs, *sec, *stats;
	const char		*bad = NULL;
	char			*token_buf = NULL, err[512];
	double			 t0;
	size_t			 badlen = 0;
	int64_t			 since = -1;
	long			 total;
	const char		*left_name = NULL;
	int			 i, n, want, rc, to_end, complete = 1, left;
	int			 partial_selection = 0;

	log_init(PROG);
	configure(&c, argc, argv);
	if ((want = ingest_parse_types(c.types, &bad, &badlen)) <= 0) {
		log_error("--types: unknown type \"%.*s\" (movie, episode, show)",
		    (int)badlen, bad != NULL ? bad : "");
		exit(EXIT_USAGE);
	}
	if (c.since != NULL && parse_time_spec(c.since, time(NULL), &since) != 0) {
		log_error("--updated-since: \"%s\" is not epoch seconds, an ISO "
		    "date or a duration like 7d", c.since);
		exit(EXIT_USAGE);
	}

	http_global_init();
	signals_install();
	src = open_source(&c, &token_buf);
	t0 = now_monotonic();

	memset(&out, 0, sizeof(out));
	out.w = ndjson_writer_new(stdout, "stdout");
	memset(&run, 0, sizeof(run));
	run.src = src;
	run.out = &out;
	run.seen = ingest_keyset_new();
	run.shows = ingest_show_cache_new(SHOW_CACHE);
	run.chunk = c.chunk;
	run.since = since;
	run.limit = (size_t)c.limit;
	run.old = load_state(c.state);
	if (c.state_out != NULL)
		run.next = ingest_state_new();

	if ((rc = plex_src_sections(src, &root)) != PLEX_OK)
		fail(src, rc, &run);
	n = ingest_select(root, c.sections, c.nsections, want, &ls, err,
	    sizeof(err));
	if (n > 0 && (left = ingest_left_out(root, c.sections, c.nsections,
	    want, &left_name)) > 0) {
		log_warn("--section leaves out %d other section%s of the same "
		    "types (\"%s\"%s): the run is not complete, so no stale "
		    "point is removed (points do not record their section)", left,
		    left > 1 ? "s" : "", left_name, left > 1 ? ", ..." : "");
		partial_selection = 1;
	}
	json_object_put(root);
	if (n < 0) {
		log_error("%s", err);
		exit(EXIT_USAGE);
	}
	if (n == 0)
		log_warn("no section to read (types %s)", c.types);

	secs = json_object_new_array();
	for (i = 0; i < n && !run.limit_hit; i++) {
		log_debug("listing %ss of section %s", ingest_type_name(ls[i].type),
		    ls[i].key);
		rc = ingest_list(&run, &ls[i], &total, &to_end);
		if (rc != PLEX_OK)
			fail(src, rc, &run);
		complete &= to_end;
		log_info("section %s: %ld %ss%s", ls[i].key, total,
		    ingest_type_name(ls[i].type), to_end ? "" : " (not to its end)");
		sec = json_object_new_object();
		json_object_object_add(sec, "key", json_object_new_string(ls[i].key));
		json_object_object_add(sec, "type",
		    json_object_new_string(ingest_type_name(ls[i].type)));
		json_object_object_add(sec, "total", json_object_new_int64(total));
		json_object_array_add(secs, sec);
	}
	/* a filter or a limit hides items: stale cleanup must not run */
	if (since >= 0 || c.limit > 0 || i < n || partial_selection)
		complete = 0;
	/* nothing read proves nothing: never let that clean up a collection */
	if (n == 0)
		complete = 0;
	if (src->excerpt && complete) {
		log_info("the sample holds excerpts of listings: the run is "
		    "not complete");
		complete = 0;
	}
	log_progress_done();

	stats = stats_new(src, &run, now_monotonic() - t0);
	if (ingest_emit_end(&out, complete, secs, run.seen,
	    json_object_get(stats)) != 0) {
		json_object_put(stats);
		ndjson_check_stdout();
		exit(EXIT_FATAL);
	}
	json_object_object_add(stats, "complete", json_object_new_boolean(complete));
	log_summary(stats);
	json_object_put(stats);
	if (run.next != NULL &&
	    ingest_state_write(run.next, c.state_out, err, sizeof(err)) != 0) {
		/* the load may still succeed; its state must not be trusted */
		log_error("--state-out: %s", err);
		ndjson_writer_close(out.w, 0);
		exit(EXIT_FATAL);
	}

	ndjson_writer_close(out.w, 0);
	ndjson_check_stdout();
	ingest_listings_free(ls, (size_t)n);
	ingest_keyset_free(run.seen);
	ingest_show_cache_free(run.shows);
	ingest_state_free(run.old);
	ingest_state_free(run.next);
	ingest_state_free(run.show_times);
	plex_src_free(src);
	free(c.sections);
	free(c.sections_keep);
	optable_free();
	free(token_buf);
	return EXIT_OK;
}
