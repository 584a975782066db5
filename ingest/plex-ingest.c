/* plex-ingest.c: reads a Plex library (or a recorded sample) and writes plex batches and an end record. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "exitcode.h"
#include "http.h"
#include "log.h"
#include "ndjson_write.h"
#include "opts.h"
#include "signals.h"
#include "timeutil.h"
#include "version.h"
#include "xalloc.h"
#include "ingest.h"

#define PROG		"plex-ingest"
#define DEF_CHUNK	200
#define MAX_CHUNK	1000	/* PMS is said to reject larger pages */
#define SHOW_CACHE	256	/* parent shows kept; episodes come grouped */

enum {
	OPT_URL = OPT_COMMON_LAST,
	OPT_TOKEN,
	OPT_TOKEN_FILE,
	OPT_SECTION,
	OPT_TYPES,
	OPT_CHUNK,
	OPT_SINCE,
	OPT_LIMIT,
	OPT_SAMPLE,
	OPT_TIMEOUT,
	OPT_RETRIES,
	OPT_STATE,
	OPT_STATE_OUT,
	OPT_LIST
};

static const struct option longopts[] = {
	{ "plex-url",		required_argument,	NULL, OPT_URL },
	{ "plex-token",		required_argument,	NULL, OPT_TOKEN },
	{ "plex-token-file",	required_argument,	NULL, OPT_TOKEN_FILE },
	{ "section",		required_argument,	NULL, OPT_SECTION },
	{ "types",		required_argument,	NULL, OPT_TYPES },
	{ "plex-chunk-size",	required_argument,	NULL, OPT_CHUNK },
	{ "updated-since",	required_argument,	NULL, OPT_SINCE },
	{ "limit",		required_argument,	NULL, OPT_LIMIT },
	{ "sample-dir",		required_argument,	NULL, OPT_SAMPLE },
	{ "timeout",		required_argument,	NULL, OPT_TIMEOUT },
	{ "retries",		required_argument,	NULL, OPT_RETRIES },
	{ "state",		required_argument,	NULL, OPT_STATE },
	{ "state-out",		required_argument,	NULL, OPT_STATE_OUT },
	{ "list-options",	no_argument,		NULL, OPT_LIST },
	COMMON_LONGOPTS,
	{ NULL, 0, NULL, 0 }
};

struct config {
	const char	*url;
	const char	*token;
	const char	*token_file;
	const char	**sections;
	size_t		 nsections;
	const char	*types;
	long		 chunk;
	const char	*since;
	long		 limit;
	const char	*sample_dir;
	double		 timeout;
	int		 retries;
	const char	*state;
	const char	*state_out;
};

static void
help(void)
{
	printf(
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
"\n"
"Plex:\n"
"  --plex-url URL          server base URL, e.g. http://127.0.0.1:32400 (PLEX_URL)\n"
"  --plex-token TOKEN      access token, sent in the X-Plex-Token header (PLEX_TOKEN);\n"
"                          prefer --plex-token-file or the environment\n"
"  --plex-token-file FILE  read the token from FILE's first line (PLEX_TOKEN_FILE)\n"
"  --section NAME|KEY      read this section (key or exact title); repeatable;\n"
"                          default: every movie and show section (PLEX_SECTIONS,\n"
"                          comma-separated)\n"
"  --types LIST            what to read: movie, episode, show; default\n"
"                          movie,episode (PLEX_TYPES)\n"
"  --plex-chunk-size N     items per listing page, metadata request and batch,\n"
"                          1..%d, default %d (PLEX_CHUNK_SIZE)\n"
"  --updated-since TIME    only items updated since TIME: epoch seconds, an ISO\n"
"                          date or date-time, or a duration back from now (7d,\n"
"                          12h); the run is then not complete (PLEX_UPDATED_SINCE)\n"
"  --limit N               stop after N items, for debugging; not complete\n"
"                          (PLEX_LIMIT)\n"
"  --timeout SECONDS       per request attempt, default 60 (PLEX_TIMEOUT)\n"
"  --retries N             retries on transport errors, 429 and 5xx, default 3\n"
"                          (PLEX_RETRIES)\n"
"  --sample-dir DIR        read recorded answers instead of a server: the bundled\n"
"                          sample library (DIR/plex/...) or mcp-plex sample-data;\n"
"                          no URL or token needed (PLEX_SAMPLE_DIR)\n"
"\n"
"Incremental runs (scripts/plex-load keeps the state for you):\n"
"  --state FILE            the listing state of the last good run: items whose\n"
"                          updatedAt and addedAt (and their show's updatedAt) are\n"
"                          unchanged get no metadata request and are not written;\n"
"                          the end record still lists them. A missing or unreadable\n"
"                          FILE means a full run (with a warning if unreadable)\n"
"  --state-out FILE        write this run's listing state to FILE (atomically,\n"
"                          mode 0600) once the end record is out; give it to\n"
"                          --state next time only if the whole load succeeded\n"
"\n"
"Common options:\n"
"%s"
"\n"
"The end record is \"complete\" only when every selected section was listed to\n"
"its end with no --updated-since or --limit, and --section left out no other\n"
"section of the same types (points do not record their section); only then\n"
"may qdrant-upsert remove stale points.\n"
"\n"
"Exit status: 0 done; 1 server unreachable or failing (no end record is\n"
"written, batches already written are whole); 2 usage or configuration error,\n"
"or the token was rejected; 128+N killed by signal N.\n",
	    MAX_CHUNK, DEF_CHUNK, opt_common_help);
}

static void
list_options(void)
{
	const struct option *o;

	for (o = longopts; o->name != NULL; o++)
		printf("%s%s\n", o->name, o->has_arg != no_argument ? "=" : "");
	exit(EXIT_OK);
}

static void
add_section(struct config *c, const char *name)
{
	c->sections = xreallocarray(c->sections, c->nsections + 1,
	    sizeof(*c->sections));
	c->sections[c->nsections++] = name;
}

/* PLEX_SECTIONS="Movies,TV Shows": each name is kept for the whole run. */
static void
env_sections(struct config *c, char **keep)
{
	const char *v = opt_env("PLEX_SECTIONS");
	char *p, *tok, *e, *save = NULL;

	if (v == NULL)
		return;
	*keep = xstrdup(v);
	for (p = *keep; (tok = strtok_r(p, ",", &save)) != NULL; p = NULL) {
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

static void
configure(struct config *c, int argc, char **argv)
{
	const char *v;
	int ch;

	memset(c, 0, sizeof(*c));
	c->types = "movie,episode";
	c->chunk = DEF_CHUNK;
	c->timeout = 60;
	c->retries = 3;
	opt_common(0, NULL);
	c->url = opt_env("PLEX_URL");
	c->token_file = opt_env("PLEX_TOKEN_FILE");
	if ((v = opt_env("PLEX_TYPES")) != NULL)
		c->types = v;
	if ((v = opt_env("PLEX_CHUNK_SIZE")) != NULL)
		c->chunk = opt_number(v, 1, MAX_CHUNK, "PLEX_CHUNK_SIZE");
	c->since = opt_env("PLEX_UPDATED_SINCE");
	if ((v = opt_env("PLEX_LIMIT")) != NULL)
		c->limit = opt_number(v, 1, 1000000000, "PLEX_LIMIT");
	c->sample_dir = opt_env("PLEX_SAMPLE_DIR");
	if ((v = opt_env("PLEX_TIMEOUT")) != NULL)
		c->timeout = opt_double(v, 0.001, 86400, "PLEX_TIMEOUT");
	if ((v = opt_env("PLEX_RETRIES")) != NULL)
		c->retries = (int)opt_number(v, 0, 100, "PLEX_RETRIES");

	while ((ch = opt_next(argc, argv, "", longopts)) != -1) {
		switch (ch) {
		case OPT_URL:
			c->url = optarg;
			break;
		case OPT_TOKEN:
			/* an option beats PLEX_TOKEN_FILE from the environment */
			c->token = opt_secret(optarg);
			c->token_file = NULL;
			break;
		case OPT_TOKEN_FILE:
			c->token_file = optarg;
			c->token = NULL;
			break;
		case OPT_SECTION:
			/* PLEX_SECTIONS is read only when no --section is given */
			add_section(c, optarg);
			break;
		case OPT_TYPES:
			c->types = optarg;
			break;
		case OPT_CHUNK:
			c->chunk = opt_number(optarg, 1, MAX_CHUNK,
			    "--plex-chunk-size");
			break;
		case OPT_SINCE:
			c->since = optarg;
			break;
		case OPT_LIMIT:
			c->limit = opt_number(optarg, 1, 1000000000, "--limit");
			break;
		case OPT_SAMPLE:
			c->sample_dir = optarg;
			break;
		case OPT_TIMEOUT:
			c->timeout = opt_double(optarg, 0.001, 86400, "--timeout");
			break;
		case OPT_RETRIES:
			c->retries = (int)opt_number(optarg, 0, 100, "--retries");
			break;
		case OPT_STATE:
			c->state = optarg;
			break;
		case OPT_STATE_OUT:
			c->state_out = optarg;
			break;
		case OPT_LIST:
			list_options();
			break;
		case OPT_HELP:
			help();
			exit(EXIT_OK);
		case OPT_VERSION:
			printf(PROG " plexpipe " PLEXPIPE_VERSION "\n");
			exit(EXIT_OK);
		default:
			opt_usage_error("unhandled option %d", ch);
		}
	}
	if (optind < argc)
		opt_usage_error("unexpected argument '%s'", argv[optind]);
}

static struct plex_source *
open_source(const struct config *c, char **token_buf)
{
	struct plex_client_config pc;
	struct plex_source *src;
	char err[512];

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
	else if (c->token != NULL)
		pc.token = c->token;
	else if (opt_env("PLEX_TOKEN") != NULL)
		pc.token = opt_secret(opt_env("PLEX_TOKEN"));
	if (pc.token == NULL || pc.token[0] == '\0') {
		log_error("no Plex token: set PLEX_TOKEN or give "
		    "--plex-token-file");
		exit(EXIT_USAGE);
	}
	pc.timeout = c->timeout;
	pc.retries = c->retries;
	pc.insecure = common_opts.insecure;
	pc.cacert = common_opts.cacert;
	if ((src = plex_client_new(&pc)) == NULL)
		exit(EXIT_FATAL);
	return src;
}

static struct json_object *
stats_new(const struct plex_source *src, const struct ingest_run *run,
    double secs)
{
	struct json_object *st;
	unsigned long req;
	char num[64];

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
	struct ingest_state *st;
	char err[512];
	int rc;

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
	struct config c;
	struct plex_source *src;
	struct ingest_listing *ls = NULL;
	struct ingest_out out;
	struct ingest_run run;
	struct json_object *root, *secs, *sec, *stats;
	const char *bad = NULL;
	char *env_keep = NULL, *token_buf = NULL, err[512];
	double t0;
	size_t badlen = 0;
	int64_t since = -1;
	long total;
	const char *left_name = NULL;
	int i, n, want, rc, to_end, complete = 1, left, partial_selection = 0;

	log_init(PROG);
	configure(&c, argc, argv);
	if (c.nsections == 0)
		env_sections(&c, &env_keep);
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
	free(env_keep);
	free(token_buf);
	return EXIT_OK;
}
