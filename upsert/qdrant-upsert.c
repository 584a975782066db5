/* qdrant-upsert.c: read points (NDJSON), write them to Qdrant with BM25 and dense vectors, report per batch. */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "buf.h"
#include "exitcode.h"
#include "http.h"
#include "jparse.h"
#include "jsonutil.h"
#include "log.h"
#include "ndjson_read.h"
#include "ndjson_write.h"
#include "optable.h"
#include "opts.h"
#include "record.h"
#include "reject.h"
#include "signals.h"
#include "statedir.h"
#include "timeutil.h"
#include "version.h"
#include "xalloc.h"
#include "upsert.h"

#define DEFAULT_DENSE_MODEL	"BAAI/bge-small-en-v1.5"
#define DEFAULT_DEAD_LETTER	"qdrant-dead-letter.ndjson"	/* in the state dir */
#define DEFAULT_REJECTS		"qdrant-upsert-rejects.ndjson"	/* in the state dir */
#define MAX_TYPES		8	/* distinct point types tracked for cleanup */

struct state {
	struct upsert_config	 cfg;
	const char		*qdrant_url, *qdrant_host, *qdrant_port;
	int			 qdrant_https;
	const char		*qdrant_key;
	const char		*embed_url, *embed_key;
	double			 timeout;
	const char		*reject_path;
	int			 strict;
	int			 count_points;	/* --count-points: count_points.c */
	const char		*count_types;	/* its =TYPES, or NULL */
	const char		*input;
	struct common_opts	 common;	/* --insecure, --cacert */

	struct upsert_bm25	*bm;
	struct upsert_qdrant	 q;
	struct http_client	*embed;
	char			*embed_path;
	struct upsert_run	*run;
	struct ndjson_writer	*out;
	struct reject_file	*rej;
	int			 ensured;
	long			 dense_size;
	struct json_object	*end;
	int			 nend;
	char			*types[MAX_TYPES];
	size_t			 ntypes;
	int			 rc;
	size_t			 peak_held;	/* most bytes no_room() saw held */

	/*
	 * A split points line whose points are added a few at a time, as
	 * room allows: its text stays in the reader until all are added.
	 */
	struct {
		struct ndjson_reader *rd;	/* holds the line and parses its points */
		const char	*text;
		size_t		 len, line;
		struct jspan	*el;		/* NULL: no line pending */
		size_t		 n, next;
		int64_t		 seq;
	} split;
};

static const char *const dense_words[] = { "endpoint", "server", "none", NULL };
static const char *const sparse_words[] = { "local", "server", "none", NULL };
static const char *const distance_words[] = { "Cosine", "Dot", "Euclid",
	"Manhattan", NULL };

/* --count-points[=TYPES]: count_points.c instead of a load */
static void
count_opt(const struct optable *t, void *base, const char *arg,
    const char *name)
{
	struct state	*s = base;

	(void)t;
	(void)name;
	s->count_points = 1;
	s->count_types = arg;
}

#define F(field)	offsetof(struct state, field)

/*
 * Every option once: { long name, short, variable, parser, field, bounds,
 * default }, then its help lines. A later row for the same field wins in
 * the environment (QDRANT_UPSERT_BATCH_SIZE over ..._BUFFER_SIZE, a key
 * file over a key).
 */
static const struct optdef options[] = {
	{ NULL, 0, NULL, OT_TEXT, 0, 0, 0, NULL, .help =
"Qdrant:\n" },
	{ "qdrant-url", 0, "QDRANT_URL", OT_STRING, F(qdrant_url), 0, 0, NULL, .help =
"  --qdrant-url URL          QDRANT_URL (default http://localhost:6333)\n" },
	{ "qdrant-host", 0, "QDRANT_HOST", OT_STRING, F(qdrant_host), 0, 0, NULL, .help =
"  --qdrant-host HOST        QDRANT_HOST; with --qdrant-port (QDRANT_PORT, 6333)\n" },
	{ "qdrant-port", 0, "QDRANT_PORT", OT_STRING, F(qdrant_port), 0, 0, NULL, .help = NULL },
	{ "qdrant-https", 0, "QDRANT_HTTPS", OT_FLAG, F(qdrant_https), 1, 0, NULL, .help =
"  --qdrant-https            QDRANT_HTTPS: use https with --qdrant-host\n" },
	{ "qdrant-api-key", 0, "QDRANT_API_KEY", OT_SECRET, F(qdrant_key), 0, 0, NULL, .help =
"  --qdrant-api-key KEY      QDRANT_API_KEY, sent as the api-key header\n" },
	{ "qdrant-api-key-file", 0, "QDRANT_API_KEY_FILE", OT_SECRET_FILE, F(qdrant_key), 0, 0, NULL, .help =
"  --qdrant-api-key-file F   read the key from a file (QDRANT_API_KEY_FILE)\n" },
	{ "collection", 0, "QDRANT_COLLECTION", OT_STRING, F(cfg.collection), 0, 0, "media-items", .help =
"  --collection NAME         QDRANT_COLLECTION (default media-items)\n" },
	{ "recreate", 0, NULL, OT_FLAG, F(cfg.recreate), 1, 0, NULL, .help =
"  --recreate                delete and create the collection first\n" },
	{ "shard-number", 0, "QDRANT_SHARD_NUMBER", OT_INT, F(cfg.shard_number), 1, 1000, NULL, .help =
"  --shard-number N          shards of a new collection (QDRANT_SHARD_NUMBER;\n"
"                            Qdrant's default: one per node)\n" },
	{ "replication-factor", 0, "QDRANT_REPLICATION_FACTOR", OT_INT, F(cfg.replication_factor), 1, 100, NULL, .help =
"  --replication-factor N    copies of each shard on a cluster\n"
"                            (QDRANT_REPLICATION_FACTOR; default 1)\n" },
	{ "write-consistency-factor", 0, "QDRANT_WRITE_CONSISTENCY_FACTOR", OT_INT, F(cfg.write_consistency_factor), 1, 100, NULL, .help =
"  --write-consistency-factor N  replicas that must confirm a write\n"
"                            (QDRANT_WRITE_CONSISTENCY_FACTOR; default 1); all\n"
"                            three apply when the collection is created\n"
"\n"
"Writing:\n" },
	{ NULL, 0, "QDRANT_UPSERT_BUFFER_SIZE", OT_INT, F(cfg.batch_size), 1, 4096, NULL, .help = NULL },
	{ "batch-size", 0, "QDRANT_UPSERT_BATCH_SIZE", OT_INT, F(cfg.batch_size), 1, 4096, "128", .help =
"  --batch-size N            points per batch (QDRANT_UPSERT_BATCH_SIZE or\n"
"                            QDRANT_UPSERT_BUFFER_SIZE; default 128)\n" },
	{ "max-request-bytes", 0, "QDRANT_MAX_REQUEST_BYTES", OT_SIZE, F(cfg.max_request_bytes), 1024, 32 << 20, "16777216", .help =
"  --max-request-bytes N     split upserts above N bytes (QDRANT_MAX_REQUEST_BYTES;\n"
"                            default 16777216; Qdrant refuses over 32 MiB)\n" },
	{ "max-read-ahead", 0, "QDRANT_UPSERT_READ_AHEAD", OT_SIZE, F(cfg.max_read_ahead), 65536, 4294967296.0, "25165824", .help =
"  --max-read-ahead BYTES    stop reading input while points of this many bytes\n"
"                            (and request bodies in flight) wait to be written\n"
"                            (QDRANT_UPSERT_READ_AHEAD; default 25165824): memory\n"
"                            stays bounded, back-pressure reaches the pipe\n" },
	{ "concurrency", 0, "QDRANT_UPSERT_CONCURRENCY", OT_INT, F(cfg.concurrency), 1, 64, "4", .help =
"  --concurrency N           requests in flight (QDRANT_UPSERT_CONCURRENCY; 4)\n" },
	{ "retries", 0, "QDRANT_UPSERT_RETRIES", OT_INT, F(cfg.retries), 0, 100, "3", .help =
"  --retries N               retries per request (QDRANT_UPSERT_RETRIES; 3)\n" },
	{ "backoff", 0, "QDRANT_UPSERT_BACKOFF", OT_DOUBLE, F(cfg.backoff), 0, 600, "0.5", .help =
"  --backoff SECONDS         first retry wait, doubling with jitter; Retry-After\n"
"                            is honoured (QDRANT_UPSERT_BACKOFF; 0.5)\n" },
	{ "timeout", 0, "QDRANT_UPSERT_TIMEOUT", OT_DOUBLE, F(timeout), 0.1, 86400, "120", .help =
"  --timeout SECONDS         per attempt (QDRANT_UPSERT_TIMEOUT; 120)\n" },
	{ "wait", 0, "QDRANT_UPSERT_WAIT", OT_FLAG, F(cfg.wait), 1, 0, NULL, .help =
"  --wait, --no-wait         wait=true|false on upserts (QDRANT_UPSERT_WAIT;\n"
"                            default --no-wait)\n" },
	{ "no-wait", 0, NULL, OT_FLAG, F(cfg.wait), 0, 0, NULL, .help = NULL },
	{ "dead-letter", 0, "QDRANT_DEAD_LETTER", OT_STRING, F(cfg.dead_letter), 0, 0, DEFAULT_DEAD_LETTER, .flags = OTF_STATE, .help =
"  --dead-letter FILE        where points of batches that still fail go, as\n"
"                            replayable `points` records (QDRANT_DEAD_LETTER;\n"
"                            default STATE/qdrant-dead-letter.ndjson, made only\n"
"                            when needed). After 3 failed requests in a row the rest\n"
"                            of the input is written there without more tries.\n"
"                            Replay: qdrant-upsert [options] --dead-letter\n"
"                            OTHER-FILE FILE (never into itself: exit 2)\n" },
	{ "skip-unchanged", 0, "QDRANT_UPSERT_SKIP_UNCHANGED", OT_FLAG, F(cfg.skip_unchanged), 1, 0, "1", .help =
"  --skip-unchanged          (default; QDRANT_UPSERT_SKIP_UNCHANGED) fetch stored\n"
"  --no-skip-unchanged       content_hash values first and skip equal points\n" },
	{ "no-skip-unchanged", 0, NULL, OT_FLAG, F(cfg.skip_unchanged), 0, 0, NULL, .help = NULL },
	/* QDRANT_UPSERT_REJECT_FILE="" keeps no reject file */
	{ "reject-file", 0, "QDRANT_UPSERT_REJECT_FILE", OT_STRING, F(reject_path), 0, 0, DEFAULT_REJECTS, .flags = OTF_STATE | OTF_ENV_EMPTY, .help =
"  --reject-file FILE        bad input records (QDRANT_UPSERT_REJECT_FILE; default\n"
"                            STATE/qdrant-upsert-rejects.ndjson; '' keeps none)\n" },
	{ "strict", 0, NULL, OT_FLAG, F(strict), 1, 0, NULL, .help =
"  --strict                  the first bad input record is fatal (exit 3)\n" },
	{ "dry-run", 0, NULL, OT_FLAG, F(cfg.dry_run), 1, 0, NULL, .help =
"  --dry-run                 no network: write each request it would send to\n"
"                            stdout as {\"kind\":\"request\",\"service\":\"qdrant\"|\n"
"                            \"embed\",\"method\",\"path\",\"body\"} (body as JSON);\n"
"                            dense Documents stay in the points\n"
"\n"
"Vectors (points carry Documents: {\"dense\":{\"text\",\"model\"},\"sparse\":{...}}):\n" },
	{ "dense", 0, "QDRANT_UPSERT_DENSE", OT_ENUM, F(cfg.dense), DENSE_ENDPOINT, 0, NULL, .words = dense_words, .help =
"  --dense MODE              endpoint: vectors from --embed-url; server: pass the\n"
"                            Document to Qdrant (Cloud inference); none: drop it.\n"
"                            QDRANT_UPSERT_DENSE; default endpoint when EMBED_URL\n"
"                            is set, else it must be given (--dry-run: none)\n" },
	{ "embed-url", 0, "EMBED_URL", OT_STRING, F(embed_url), 0, 0, NULL, .help =
"  --embed-url URL           EMBED_URL: an OpenAI-compatible server (TEI, Ollama,\n"
"                            llama.cpp, vLLM, OpenAI); /v1/embeddings is added\n" },
	{ "embed-model", 0, "EMBED_MODEL", OT_STRING, F(cfg.embed_model), 0, 0, NULL, .help =
"  --embed-model NAME        EMBED_MODEL (default: the points' dense model)\n" },
	{ "embed-api-key", 0, "EMBED_API_KEY", OT_SECRET, F(embed_key), 0, 0, NULL, .help =
"  --embed-api-key KEY       EMBED_API_KEY, sent as Authorization: Bearer\n" },
	{ "embed-api-key-file", 0, "EMBED_API_KEY_FILE", OT_SECRET_FILE, F(embed_key), 0, 0, NULL, .help =
"  --embed-api-key-file F    read it from a file (EMBED_API_KEY_FILE)\n" },
	{ "embed-batch-size", 0, "EMBED_BATCH_SIZE", OT_INT, F(cfg.embed_batch_size), 1, 2048, "64", .help =
"  --embed-batch-size N      texts per embeddings request (EMBED_BATCH_SIZE; 64)\n" },
	{ "sparse", 0, "QDRANT_UPSERT_SPARSE", OT_ENUM, F(cfg.sparse), SPARSE_LOCAL, 0, "local", .words = sparse_words, .help =
"  --sparse MODE             local: BM25 computed here (Qdrant/bm25 only);\n"
"                            server: Qdrant computes it (1.15.2+); none: drop.\n"
"                            QDRANT_UPSERT_SPARSE; default local\n" },
	{ "dense-size", 0, "DENSE_SIZE", OT_LONG, F(cfg.dense_size), 1, 65536, NULL, .help =
"  --dense-size N            dense size for a model not in the table (DENSE_SIZE)\n" },
	{ "dense-distance", 0, "DENSE_DISTANCE", OT_WORD, F(cfg.dense_distance), 0, 0, "Cosine", .words = distance_words, .help =
"  --dense-distance D        Cosine|Dot|Euclid|Manhattan (DENSE_DISTANCE; Cosine)\n"
"\n"
"Stale cleanup (only after a complete end record and a run without failures):\n" },
	{ "no-cleanup", 0, NULL, OT_FLAG, F(cfg.cleanup), 0, 0, "1", .help =
"  --no-cleanup              keep points the end record no longer lists\n" },
	{ "max-delete-fraction", 0, "QDRANT_MAX_DELETE_FRACTION", OT_DOUBLE, F(cfg.max_delete_fraction), 0, 1, "0.2", .help =
"  --max-delete-fraction F   refuse to delete more than F of the points of any\n"
"                            loaded type (so one emptied section is noticed)\n"
"                            (QDRANT_MAX_DELETE_FRACTION; default 0.2; exit 4)\n" },
	{ "force-cleanup", 0, NULL, OT_FLAG, F(cfg.force_cleanup), 1, 0, NULL, .help =
"  --force-cleanup           delete even above that fraction\n"
"\n" },
	{ "count-points", 0, NULL, OT_CALLBACK, 0, 0, 0, NULL, .flags = OTF_OPTARG, .cb = count_opt, .help =
"  --count-points[=TYPES]    read no input: write one line {\"kind\":\"count\",\n"
"                            \"collection\",\"exists\",\"points\":{\"movie\":N,\n"
"                            \"episode\":N,\"show\":N}} (only the TYPES given, a\n"
"                            comma list) and exit; plex-load uses it to check its\n"
"                            listing state against the collection\n" },
	{ "list-options", 0, NULL, OT_CALLBACK, 0, 0, 0, NULL, .flags = OTF_NOARG | OTF_HIDDEN, .cb = optable_list },
};

static const char intro[] =
"Usage: qdrant-upsert [options] [FILE]\n"
"\n"
"Reads Qdrant points as NDJSON (`points` batches from meta-enrich, or bare\n"
"points with an \"id\") from FILE or standard input, makes sure the collection\n"
"and its payload indexes exist, turns embedding Documents into vectors, and\n"
"upserts the points with several requests in flight. Writes one\n"
"{\"kind\":\"result\",...} line per batch and a {\"kind\":\"summary\",...} line to\n"
"standard output; records of other kinds pass through unchanged.\n"
"\n";

static const char outro[] =
"\n"
"Exit status: 0 done; 1 fatal; 2 usage or configuration (bad flag, refused API\n"
"key, collection of another shape); 3 bad input with --strict; 4 rejects, dead\n"
"letters or a refused cleanup; 5 input without an end record.\n";

static const struct optable optable = OPTABLE(options, intro, outro);

static void
parse_args(struct state *s, int argc, char **argv)
{
	int	 i;

	i = optable_parse(&optable, s, &s->common, argc, argv);
	if (argc - i > 1)
		opt_usage_error("unexpected argument '%s' (one input FILE at most)",
		    argv[i + 1]);
	if (argc - i == 1 && strcmp(argv[i], "-") != 0)
		s->input = argv[i];
}

/* The choices that cannot be checked option by option. */
static void
check_config(struct state *s)
{
	struct upsert_config	*c = &s->cfg;

	if (c->dense == DENSE_UNSET && s->embed_url == NULL && c->dry_run) {
		/* a dry run shows requests: it needs no embeddings server */
		log_notice("dry run without a dense source (--embed-url or "
		    "--dense): dense vectors are left out of the requests");
		c->dense = DENSE_NONE;
	}
	if (c->dense == DENSE_UNSET) {
		if (s->embed_url == NULL) {
			log_error("no dense vector source: give --embed-url URL (or "
			    "EMBED_URL) for an OpenAI-compatible /v1/embeddings "
			    "server, --dense server to let Qdrant Cloud embed the "
			    "Documents, or --dense none to load without dense vectors");
			exit(EXIT_USAGE);
		}
		c->dense = DENSE_ENDPOINT;
	}
	if (c->dense == DENSE_ENDPOINT && s->embed_url == NULL) {
		log_error("--dense endpoint needs --embed-url URL (or EMBED_URL)");
		exit(EXIT_USAGE);
	}
	if (s->qdrant_url != NULL && s->qdrant_host != NULL)
		log_warn("both a Qdrant URL and QDRANT_HOST are set; using the URL");
	if (c->force_cleanup && !c->cleanup)
		log_warn("--force-cleanup has no effect with --no-cleanup");
	/* more confirmations than copies: every write would fail */
	if (c->write_consistency_factor > (c->replication_factor ?
	    c->replication_factor : 1)) {
		log_error("--write-consistency-factor %d is more than the %d "
		    "replicas of each shard (--replication-factor)",
		    c->write_consistency_factor, c->replication_factor ?
		    c->replication_factor : 1);
		exit(EXIT_USAGE);
	}
}

static char *
qdrant_base(struct state *s)
{
	char	*u;

	if (s->qdrant_url != NULL)
		return xstrdup(s->qdrant_url);
	if (s->qdrant_host != NULL) {
		xasprintf(&u, "%s://%s:%s", s->qdrant_https ? "https" : "http",
		    s->qdrant_host, s->qdrant_port ? s->qdrant_port : "6333");
		return u;
	}
	return xstrdup("http://localhost:6333");
}

static void
make_clients(struct state *s)
{
	struct http_config	 hc;
	const char		*hdr[3];
	char			*base, *ebase, *keyhdr = NULL, *authhdr = NULL;
	int			 n = 0;

	memset(&hc, 0, sizeof(hc));
	hc.retries = s->cfg.retries;
	hc.backoff = s->cfg.backoff > 0 ? s->cfg.backoff : 0.001;
	hc.timeout_ms = (long)(s->timeout * 1000);
	hc.connect_timeout_ms = hc.timeout_ms < 10000 ? hc.timeout_ms : 10000;
	hc.insecure = s->common.insecure;
	hc.cacert = s->common.cacert;
	hdr[n++] = "Content-Type: application/json";
	if (s->qdrant_key != NULL) {
		opt_secret(s->qdrant_key);
		xasprintf(&keyhdr, "api-key: %s", s->qdrant_key);
		hdr[n++] = keyhdr;
	}
	hdr[n] = NULL;
	hc.headers = hdr;
	base = qdrant_base(s);
	hc.name = "qdrant";
	hc.base_url = base;
	/* scroll pages and retrieves of whole batches: the bulk cap */
	hc.max_body = HTTP_MAX_BODY_BULK;
	s->q.cfg = &s->cfg;
	s->q.dry = s->out;
	if (!s->cfg.dry_run && (s->q.client = http_client_new(&hc)) == NULL)
		exit(EXIT_FATAL);
	free(base);
	if (s->cfg.dense == DENSE_ENDPOINT) {
		upsert_embed_split_url(s->embed_url, &ebase, &s->embed_path);
		n = 1;
		s->cfg.embed_key = s->embed_key != NULL;
		if (s->embed_key != NULL) {
			opt_secret(s->embed_key);
			xasprintf(&authhdr, "Authorization: Bearer %s", s->embed_key);
			hdr[n++] = authhdr;
		}
		hdr[n] = NULL;
		hc.name = "embed";
		hc.base_url = ebase;
		/*
		 * Billed per request: never sent twice unless it cannot have
		 * been served. The cap leaves 64 KiB per vector of a batch
		 * (3,072 dimensions as text), 16 MiB at least.
		 */
		hc.retry_unsent_only = 1;
		hc.max_body = (size_t)s->cfg.embed_batch_size << 16;
		if (hc.max_body < HTTP_MAX_BODY_API)
			hc.max_body = HTTP_MAX_BODY_API;
		if (!s->cfg.dry_run && (s->embed = http_client_new(&hc)) == NULL)
			exit(EXIT_FATAL);
		free(ebase);
	}
	free(keyhdr);
	free(authhdr);
}

/* "dense=endpoint:MODEL;sparse=local;bm25=1.2/0.75/256": part of every hash. */
static char *
settings_text(struct state *s, const char *model)
{
	static const char *const dn[] = { "unset", "endpoint", "server", "none" };
	static const char *const sn[] = { "local", "server", "none" };
	char	*t;

	xasprintf(&t, "dense=%s:%s:%ld;sparse=%s;bm25=%g/%g/%g",
	    dn[s->cfg.dense], s->cfg.dense == DENSE_NONE ? "" : model, s->dense_size,
	    sn[s->cfg.sparse], UPSERT_BM25_K, UPSERT_BM25_B, UPSERT_BM25_AVG_LEN);
	return t;
}

/*
 * The first point fixes the dense model (hence the collection's dense
 * size), so the collection is made or checked here, not at start-up.
 */
static int
ensure(struct state *s, struct json_object *point)
{
	struct json_object	*doc = point ? upsert_point_document(point, "dense") : NULL;
	const char		*model;
	char			*settings;
	int			 rc;

	model = s->cfg.embed_model ? s->cfg.embed_model :
	    doc ? jget_str(doc, "model") :
	    opt_env("DENSE_MODEL") ? opt_env("DENSE_MODEL") : DEFAULT_DENSE_MODEL;
	s->dense_size = s->cfg.dense_size ? s->cfg.dense_size :
	    upsert_model_dense_size(model);
	if (s->dense_size == 0 && s->cfg.dense != DENSE_NONE) {
		log_error("unknown dense model \"%s\": give its vector size with "
		    "--dense-size N (known: bge-small 384, bge-base 768, bge-large "
		    "1024, text-embedding-3-small 1536, -large 3072)", model);
		return EXIT_USAGE;
	}
	if (s->dense_size == 0)
		log_warn("dense model \"%s\" unknown and --dense none: the collection "
		    "gets no dense vector", model);
	if (s->embed != NULL && (rc = upsert_embed_probe(s->embed, s->embed_path,
	    s->cfg.embed_key)) != 0)
		return rc;
	if ((rc = upsert_collection_ensure(&s->q, s->dense_size)) != 0)
		return rc;
	settings = settings_text(s, model);
	s->run = upsert_run_new(&s->cfg, &s->q, s->embed, s->embed_path, s->bm,
	    s->out, s->dense_size, settings);
	free(settings);
	s->ensured = 1;
	return 0;
}

static void
note_type(struct state *s, const char *t)
{
	size_t	 i;

	if (t == NULL)
		return;
	for (i = 0; i < s->ntypes; i++)
		if (strcmp(s->types[i], t) == 0)
			return;
	if (s->ntypes < MAX_TYPES)
		s->types[s->ntypes++] = xstrdup(t);
}

/* Returns 0, or an exit status to stop with. */
static int
bad_record(struct state *s, size_t line, const char *why, const char *raw, size_t len)
{
	if (s->strict) {
		log_error("line %zu: %s", line, why);
		return EXIT_BADINPUT;
	}
	reject_add(s->rej, line, why, raw, len);
	return 0;
}

/* One point; raw[0..rawlen) is its input text, or NULL. */
static int
add_point(struct state *s, struct json_object *p, size_t line, int64_t seq,
    const char *raw, size_t rawlen)
{
	struct json_object	*doc, *rec, *arr;
	const char		*why, *text;
	size_t			 len;
	int			 rc;

	if ((why = record_check_point(p)) != NULL) {
		/* kept as a points record of its own: replayable as is */
		arr = json_object_new_array();
		json_object_array_add(arr, json_object_get(p));
		rec = record_points_new(seq, arr);
		text = ndjson_to_string(rec, &len);
		rc = bad_record(s, line, why, text, len);
		json_object_put(rec);
		return rc;
	}
	if (s->cfg.sparse == SPARSE_LOCAL &&
	    (doc = upsert_point_document(p, "sparse")) != NULL &&
	    !upsert_bm25_model(jget_str(doc, "model"))) {
		log_error("sparse model \"%s\" cannot be computed locally (only "
		    "Qdrant/bm25 is): use --sparse server to let Qdrant embed it, "
		    "or --sparse none", jget_str(doc, "model"));
		return EXIT_USAGE;
	}
	if (!s->ensured && (rc = ensure(s, p)) != 0)
		return rc;
	note_type(s, jget_str(jget_obj(p, "payload"), "type"));
	upsert_run_add(s->run, p, raw, rawlen);
	return 0;
}

/* Points landed so far (upserted or unchanged), for the progress line. */
static void
progress(struct state *s)
{
	const struct upsert_stats *st;

	if (s->run != NULL) {
		st = upsert_run_stats(s->run);
		log_progress(st->upserted + st->skipped);
	}
}

/* Is there input to read without blocking? (A regular file always is.) */
static int
input_ready(FILE *fp)
{
	struct pollfd	 pfd;

	pfd.fd = fileno(fp);
	pfd.events = POLLIN;
	return poll(&pfd, 1, 0) != 0;
}

static int	handle_record(struct state *, struct json_object *, size_t,
		    const char *, size_t);

/*
 * A reject line of ours ({"kind":"reject","stage":"qdrant-upsert",
 * "record":"<raw text>"}), say after fixing it with jq: the record is
 * read again as if it stood on this line. Other stages' rejects pass
 * through. Exact bytes that were not UTF-8 (record_base64) cannot be
 * replayed; the reject line itself is rejected again, so nothing is lost.
 */
static int
replay_reject(struct state *s, struct json_object *o, size_t line,
    const char *raw, size_t rawlen)
{
	struct ndjson_error	 err;
	struct json_object	*rec;
	const char		*text;
	size_t			 len;
	int			 rc;

	if (jget_str(o, "record_base64") != NULL)
		return bad_record(s, line, "a rejected line that was not valid "
		    "UTF-8 cannot be replayed (its bytes are in record_base64)",
		    raw, rawlen);
	if ((text = jget_str(o, "record")) == NULL)
		return bad_record(s, line, "reject record without a record",
		    raw, rawlen);
	len = strlen(text);
	if ((rec = ndjson_parse_string(text, len, &err)) == NULL)
		return bad_record(s, line, err.reason, text, len);
	rc = handle_record(s, rec, line, text, len);
	json_object_put(rec);
	return rc;
}

static int
handle_record(struct state *s, struct json_object *o, size_t line,
    const char *raw, size_t rawlen)
{
	struct json_object	*pts;
	const char		*why, *kind;
	size_t			 i, n;
	int64_t			 seq = 0;
	int			 rc;

	switch (record_kind_of(o)) {
	case REC_POINTS:
		if ((why = record_check_points(o)) != NULL)
			return bad_record(s, line, why, raw, rawlen);
		pts = jget_arr(o, "points");
		n = json_object_array_length(pts);
		jget_int(o, "seq", &seq);
		for (i = 0; i < n; i++)
			if ((rc = add_point(s, json_object_array_get_idx(pts, i),
			    line, seq, NULL, 0)) != 0)
				return rc;
		return 0;
	case REC_BARE_POINT:
		return add_point(s, o, line, 0, raw, rawlen);
	case REC_END:
		if ((why = record_check_end(o)) != NULL)
			return bad_record(s, line, why, raw, rawlen);
		json_object_put(s->end);
		s->end = json_object_get(o);
		s->nend++;
		return 0;
	case REC_INVALID:
		return bad_record(s, line, "not a points, end or bare point record",
		    raw, rawlen);
	default:
		kind = jget_str(o, "kind");
		if (kind != NULL && strcmp(kind, "reject") == 0 &&
		    jget_str(o, "stage") != NULL &&
		    strcmp(jget_str(o, "stage"), log_prog()) == 0)
			return replay_reject(s, o, line, raw, rawlen);
		ndjson_write_raw(s->out, raw, rawlen);
		return 0;
	}
}

static int	no_room(struct state *);

/*
 * Adds the pending line's points, parsing each alone, until they are all
 * in or (when all is 0) there is no room. Returns 0 or an exit status.
 */
static int
split_add(struct state *s, int all)
{
	struct json_object	*p;
	struct ndjson_error	 err;
	struct jspan		*e;
	int			 rc = 0;

	while (s->split.next < s->split.n && rc == 0 && (all || !no_room(s))) {
		e = &s->split.el[s->split.next++];
		if ((p = ndjson_reader_parse_span(s->split.rd, e->off, e->len,
		    &err)) == NULL) {
			/* jparse_split vouched for it: not expected */
			rc = bad_record(s, s->split.line, err.reason, s->split.text,
			    s->split.len);
			break;
		}
		rc = add_point(s, p, s->split.line, s->split.seq,
		    s->split.text + e->off, e->len);
		json_object_put(p);
	}
	if (s->split.next == s->split.n || rc != 0) {
		free(s->split.el);
		s->split.el = NULL;
	}
	return rc;
}

/*
 * A `points` line is split, not parsed whole (record_split()): its
 * envelope is parsed with an empty array in place of its points, and each
 * point is parsed alone when its turn comes, so a 2 MB line never becomes
 * a tree of ten times that; and when --max-read-ahead is reached halfway,
 * the rest of the line waits as text. Returns -1 when the line is not one
 * to split (the caller parses it whole, which also names any error), else
 * 0 or an exit status.
 */
static int
split_points(struct state *s, const char *text, size_t len, size_t line)
{
	struct json_object	*env;
	struct jspan		*el;
	const char		*why;
	size_t			 n;
	int			 rc;

	if (!record_split(text, len, REC_POINTS, &env, &el, &n, &why))
		return -1;
	if (why != NULL) {
		json_object_put(env);
		free(el);
		return bad_record(s, line, why, text, len);
	}
	s->split.seq = 0;
	jget_int(env, "seq", &s->split.seq);
	json_object_put(env);
	s->split.text = text;
	s->split.len = len;
	s->split.line = line;
	s->split.el = el;
	s->split.n = n;
	s->split.next = 0;
	rc = split_add(s, 0);
	return rc;
}

/* Sleeps until fd has input (or a request of the run can progress). */
static void
wait_input(struct state *s, int fd)
{
	struct pollfd	 pfd;

	if (s->run != NULL) {
		upsert_run_wait(s->run, fd, -1);
		return;
	}
	pfd.fd = fd;
	pfd.events = POLLIN;
	poll(&pfd, 1, 1000);	/* a signal ends it sooner */
}

/*
 * Room to read more? Not while --concurrency * 2 + 1 batches are under
 * way, nor while --max-read-ahead bytes are held: the points waiting,
 * the bodies in flight, and a line still being split. Then the pipe
 * fills and its writer waits too. (A batch still filling is not sent
 * early for room: batches stay the same whatever the timing.)
 */
static int
no_room(struct state *s)
{
	size_t	 active, held;

	if (s->run == NULL || (active = upsert_run_active(s->run)) == 0)
		return 0;
	held = upsert_run_bytes(s->run) + (s->split.el != NULL ? s->split.len : 0);
	if (held > s->peak_held)
		s->peak_held = held;
	return active >= (size_t)s->cfg.concurrency * 2 + 1 ||
	    held >= s->cfg.max_read_ahead;
}

/*
 * A pipe is read without blocking (O_NONBLOCK, restored at the end): the
 * reader takes every record stdio already holds, and only when the pipe
 * is empty does the loop sleep, on the pipe and the requests together.
 * Other inputs (a file, a terminal) are read as they come.
 */
static int
read_input(struct state *s, FILE *fp, const char *name)
{
	struct ndjson_reader	*rd;
	struct ndjson_error	 err;
	struct json_object	*o;
	struct stat		 sb;
	enum ndjson_status	 st;
	const char		*raw;
	size_t			 rawlen;
	int			 rc = 0, fd = fileno(fp), fl = -1, nb = 0;

	if (fstat(fd, &sb) == 0 && (S_ISFIFO(sb.st_mode) ||
	    S_ISSOCK(sb.st_mode)) && (fl = fcntl(fd, F_GETFL)) != -1 &&
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0)
		nb = 1;
	rd = ndjson_reader_new(fp, name, 0);
	s->split.rd = rd;
	while (rc == 0 && !signal_received) {
		progress(s);
		if (s->run != NULL && (rc = upsert_run_fatal(s->run)) != 0)
			break;
		if (no_room(s)) {
			/* wait for requests, not for input */
			upsert_run_wait(s->run, -1, -1);
			continue;
		}
		if (s->split.el != NULL) {
			rc = split_add(s, 0);
			continue;
		}
		if (!nb && s->run != NULL && upsert_run_active(s->run) > 0 &&
		    !input_ready(fp)) {
			upsert_run_wait(s->run, fd, -1);
			continue;
		}
		st = ndjson_read_text(rd, &raw, &rawlen, &err);
		if (st == NDJSON_EOF)
			break;
		if (st == NDJSON_IOERR && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			wait_input(s, fd);	/* all buffered records are handled */
			continue;
		}
		if (st == NDJSON_IOERR && errno == EINTR && signal_received)
			break;	/* stopping: main() dead-letters what is pending */
		if (st == NDJSON_IOERR) {
			log_error("%s: read error: %s", name, strerror(errno));
			rc = EXIT_FATAL;
			break;
		}
		if (st == NDJSON_OK && (rc = split_points(s, raw, rawlen,
		    ndjson_reader_line(rd))) >= 0)
			continue;
		rc = 0;
		if (st == NDJSON_OK)
			st = ndjson_reader_parse(rd, &o, &err);
		if (st == NDJSON_BAD) {
			if (s->strict) {
				log_error("%s", err.message);
				rc = EXIT_BADINPUT;
			} else
				reject_add(s->rej, err.line, err.reason, err.raw,
				    err.raw_len);
			continue;
		}
		raw = ndjson_reader_raw(rd, &rawlen);
		rc = handle_record(s, o, ndjson_reader_line(rd), raw, rawlen);
		json_object_put(o);
	}
	/* stopped halfway through a line (a signal): its points are spooled too */
	if (s->split.el != NULL && rc == 0)
		rc = split_add(s, 1);
	free(s->split.el);
	s->split.el = NULL;
	ndjson_reader_free(rd);
	if (nb)
		fcntl(fd, F_SETFL, fl);
	return rc;
}

static void
section_types(struct state *s)
{
	struct json_object	*secs = jget_arr(s->end, "sections");
	size_t			 i, n = secs ? json_object_array_length(secs) : 0;
	const char		*t;

	/* a show section holds episodes (and maybe show points) */
	for (i = 0; i < n; i++) {
		t = jget_str(json_object_array_get_idx(secs, i), "type");
		if (t != NULL && strcmp(t, "show") == 0) {
			note_type(s, "episode");
			note_type(s, "show");
		} else
			note_type(s, t);
	}
}

static int
maybe_cleanup(struct state *s, size_t *deleted)
{
	const struct upsert_stats *st = upsert_run_stats(s->run);
	struct upsert_keyset	*ks;
	const char *const	*held;
	size_t			 i, nheld;
	int			 rc;

	*deleted = 0;
	if (!s->cfg.cleanup)
		return 0;
	if (s->nend != 1 || !record_end_complete(s->end)) {
		log_notice("stale cleanup skipped: the input is not one complete run");
		return 0;
	}
	if (st->dead_lettered > 0 || reject_count(s->rej) > 0) {
		log_warn("stale cleanup skipped: this run had failures");
		return 0;
	}
	section_types(s);
	ks = upsert_keyset_new(jget_arr(s->end, "rating_keys"));
	/* a held-back degraded point's stored point is live, listed or not */
	held = upsert_run_held_keys(s->run, &nheld);
	for (i = 0; i < nheld; i++)
		upsert_keyset_add(ks, held[i]);
	rc = upsert_cleanup(&s->q, ks, (const char *const *)s->types, s->ntypes,
	    deleted);
	upsert_keyset_free(ks);
	return rc;
}

static void
summary(struct state *s, double secs, size_t deleted)
{
	static const struct upsert_stats zero;
	const struct upsert_stats *st = s->run ? upsert_run_stats(s->run) : &zero;
	struct http_stats	 hq = { 0 }, he = { 0 };
	struct json_object	*o, *r;
	unsigned long		 requests;
	char			 num[64], *dl, *rj;
	double			 pps;

	if (s->q.client != NULL)
		http_client_stats(s->q.client, &hq);
	if (s->embed != NULL)
		http_client_stats(s->embed, &he);
	requests = s->cfg.dry_run ? (unsigned long)upsert_dry_count() :
	    hq.requests + he.requests;
	o = json_object_new_object();
	json_object_object_add(o, "kind", json_object_new_string("summary"));
	json_object_object_add(o, "points", json_object_new_int64((int64_t)st->points_in));
	json_object_object_add(o, "upserted", json_object_new_int64((int64_t)st->upserted));
	json_object_object_add(o, "skipped_unchanged", json_object_new_int64((int64_t)st->skipped));
	json_object_object_add(o, "dead_lettered", json_object_new_int64((int64_t)st->dead_lettered));
	json_object_object_add(o, "held_degraded", json_object_new_int64(
	    (int64_t)st->held_degraded));
	json_object_object_add(o, "deleted", json_object_new_int64((int64_t)deleted));
	json_object_object_add(o, "rejected", json_object_new_int64(
	    (int64_t)reject_count(s->rej)));
	json_object_object_add(o, "batches", json_object_new_int64((int64_t)st->batches));
	json_object_object_add(o, "requests", json_object_new_int64((int64_t)requests));
	json_object_object_add(o, "embedding_requests",
	    json_object_new_int64((int64_t)st->embed_requests));
	r = json_object_new_object();
	json_object_object_add(r, "retries", json_object_new_int64(
	    (int64_t)(hq.retries + he.retries)));
	json_object_object_add(r, "succeeded", json_object_new_int64((int64_t)st->retried_ok));
	json_object_object_add(r, "failed", json_object_new_int64((int64_t)st->retried_failed));
	json_object_object_add(o, "retry", r);
	snprintf(num, sizeof(num), "%.3f", secs);
	json_object_object_add(o, "seconds", json_object_new_double_s(secs, num));
	pps = secs > 0 ? (double)st->points_in / secs : 0;
	snprintf(num, sizeof(num), "%.1f", pps);
	json_object_object_add(o, "points_per_second", json_object_new_double_s(pps, num));
	dl = statedir_abspath(s->cfg.dead_letter);
	if (st->dead_lettered > 0 && !s->cfg.dry_run)
		json_object_object_add(o, "dead_letter",
		    json_object_new_string(dl));
	if (reject_count(s->rej) > 0 && reject_path(s->rej) != NULL) {
		rj = statedir_abspath(reject_path(s->rej));
		json_object_object_add(o, "reject_file",
		    json_object_new_string(rj));
		free(rj);
	}
	if (s->cfg.dry_run)
		json_object_object_add(o, "dry_run", json_object_new_boolean(1));
	ndjson_write(s->out, o);
	log_summary(o);
	json_object_put(o);
	if (st->held_degraded > 0)
		log_warn("%zu degraded points (a TMDb or IMDb lookup failed) were "
		    "held back: their stored points keep their data until a run "
		    "with the services back rewrites them", st->held_degraded);
	if (st->dead_lettered > 0 && s->cfg.dry_run)
		log_warn("%zu points would be dead-lettered (--dry-run wrote no "
		    "dead-letter file)", st->dead_lettered);
	else if (st->dead_lettered > 0)
		log_warn("%zu points are in %s%s; when %s healthy replay them "
		    "with: qdrant-upsert [same options] --dead-letter OTHER-FILE %s",
		    st->dead_lettered,
		    dl, st->spooled ? " (Qdrant was down: the rest "
		    "of the input was spooled there)" : "",
		    st->embed_failed && st->qdrant_failed ? "Qdrant and the "
		    "embeddings server are" : st->embed_failed ? "the embeddings "
		    "server is" : "Qdrant is", dl);
	free(dl);
}

/*
 * Is the dead-letter file the input? Replaying a dead-letter file with the
 * default --dead-letter would append to the file being read, and read
 * those new dead letters again, without end while Qdrant fails.
 */
static int
dead_letter_is_input(FILE *fp, const char *path)
{
	struct stat	 in, dl;

	return fstat(fileno(fp), &in) == 0 && stat(path, &dl) == 0 &&
	    S_ISREG(in.st_mode) && in.st_dev == dl.st_dev && in.st_ino == dl.st_ino;
}

/* --count-points: no input, one count line (count_points.c). */
static int
count_main(struct state *s)
{
	int	 rc;

	if (s->cfg.dry_run) {
		log_error("--count-points needs Qdrant: not with --dry-run");
		return EXIT_USAGE;
	}
	http_global_init();
	s->out = ndjson_writer_new(stdout, "stdout");
	make_clients(s);
	rc = upsert_count_points(&s->q, s->count_types, s->out);
	http_client_free(s->q.client);
	http_client_free(s->embed);
	free(s->embed_path);
	optable_free();
	ndjson_writer_close(s->out, 0);
	ndjson_check_stdout();
	return rc;
}

int
main(int argc, char **argv)
{
	struct state	 s;
	FILE		*fp = stdin;
	char		 why[512];
	double		 t0;
	size_t		 deleted = 0;
	int		 rc;

	memset(&s, 0, sizeof(s));
#ifdef M_MMAP_THRESHOLD
	/*
	 * Lines, request bodies and answers of megabytes come and go all run
	 * long. glibc raises its mmap threshold to the largest block freed, so
	 * after the first such block they would all come from the heap, whose
	 * holes are never given back: a fixed threshold keeps them mapped, and
	 * unmapped when freed.
	 */
	mallopt(M_MMAP_THRESHOLD, 256 * 1024);
#endif
	log_init("qdrant-upsert");
	parse_args(&s, argc, argv);
	if (s.count_points)
		return count_main(&s);
	check_config(&s);
	if (s.input != NULL && (fp = fopen(s.input, "r")) == NULL) {
		log_error("%s: %s", s.input, strerror(errno));
		optable_free();
		return EXIT_FATAL;
	}
	if (dead_letter_is_input(fp, s.cfg.dead_letter)) {
		log_error("the input is the dead-letter file %s: give another "
		    "--dead-letter FILE to replay it", s.cfg.dead_letter);
		if (fp != stdin)
			fclose(fp);
		optable_free();
		return EXIT_USAGE;
	}
	if ((s.bm = upsert_bm25_new()) == NULL) {
		log_error("libstemmer has no English stemmer");
		return EXIT_FATAL;
	}
	if (s.cfg.sparse == SPARSE_LOCAL &&
	    upsert_bm25_selfcheck(s.bm, why, sizeof(why)) != 0) {
		log_error("%s", why);
		return EXIT_FATAL;
	}
	http_global_init();
	signals_install();
	s.out = ndjson_writer_new(stdout, "stdout");
	s.rej = reject_open(s.reject_path);
	make_clients(&s);
	t0 = now_monotonic();
	rc = read_input(&s, fp, s.input ? s.input : "stdin");
	/* stopped by the input (--strict, a read error): keep what was read */
	if (rc != 0 && s.run != NULL && upsert_run_fatal(s.run) == 0)
		upsert_run_spool_pending(s.run);
	if (rc == 0 && !s.ensured && !signal_received)
		rc = ensure(&s, NULL);	/* no points: still check, maybe clean up */
	if (s.run != NULL && rc == 0) {
		upsert_run_flush(s.run);
		while (upsert_run_active(s.run) > 0 && !signal_received &&
		    (rc = upsert_run_fatal(s.run)) == 0) {
			upsert_run_wait(s.run, -1, -1);
			progress(&s);
		}
	}
	if (signal_received && s.run != NULL)
		upsert_run_spool_pending(s.run);
	if (rc == 0 && !signal_received && s.run != NULL)
		rc = maybe_cleanup(&s, &deleted);
	if (s.run != NULL && upsert_run_close_dead_letter(s.run) != 0 && rc == 0)
		rc = EXIT_FATAL;
	progress(&s);
	log_progress_done();
	log_debug("read-ahead: at most %zu bytes held (--max-read-ahead %zu)",
	    s.peak_held, s.cfg.max_read_ahead);
	summary(&s, now_monotonic() - t0, deleted);
	if (rc == 0 && ((s.run && upsert_run_stats(s.run)->dead_lettered > 0) ||
	    reject_count(s.rej) > 0))
		rc = EXIT_PARTIAL;
	if (rc == 0 && s.nend == 0) {
		log_warn("input ended without an end record (upstream failed?); "
		    "stale cleanup skipped");
		rc = EXIT_TRUNCATED;
	}
	if (reject_close(s.rej) != 0 && rc == 0)
		rc = EXIT_FATAL;
	if (fp != stdin)
		fclose(fp);
	upsert_run_free(s.run);
	http_client_free(s.q.client);
	http_client_free(s.embed);
	upsert_bm25_free(s.bm);
	json_object_put(s.end);
	while (s.ntypes > 0)
		free(s.types[--s.ntypes]);
	free(s.embed_path);
	optable_free();
	ndjson_writer_close(s.out, 0);
	ndjson_check_stdout();
	signals_reraise();
	return rc;
}
