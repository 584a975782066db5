/* test_ingest_state.c: plex-ingest's listing state: which stamps count as unchanged, the file round trip, atomic 0600 writes, bad files named by line. */
#include <sys/stat.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "../../ingest/ingest.h"

static char dir[] = "/tmp/test_ingest_state.XXXXXX";

static void
write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	fputs(text, fp);
	fclose(fp);
}

static int
entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static void
test_same(void)
{
	struct ingest_state *st = ingest_state_new();

	ok(ingest_state_put(st, "1", 'm', 100, 50, NULL, -1), "put a movie");
	ok(!ingest_state_put(st, "1", 'm', 101, 50, NULL, -1),
	    "the first stamps of a key win");
	ok(ingest_state_put(st, "2", 'e', 200, 60, "9", 900), "put an episode");
	ok(ingest_state_put(st, "3", 'm', -1, -1, NULL, -1), "put an undated movie");
	ok(ingest_state_put(st, "4", 'e', -1, 70, "9", 900),
	    "put an episode without updatedAt");
	ok(!ingest_state_put(st, "a\tb", 'm', 1, 1, NULL, -1),
	    "a key with a tab is not stored");
	ok(!ingest_state_put(st, "5", '\0', 1, 1, NULL, -1),
	    "an unknown type is not stored");
	is_int((long long)ingest_state_count(st), 4, "four keys");

	ok(ingest_state_same(st, "1", 'm', 100, 50, NULL, -1), "same stamps: unchanged");
	ok(!ingest_state_same(st, "1", 'm', 101, 50, NULL, -1), "updatedAt moved");
	ok(!ingest_state_same(st, "1", 'm', 100, 51, NULL, -1), "addedAt moved");
	ok(!ingest_state_same(st, "1", 'e', 100, 50, "9", 900), "another type");
	ok(!ingest_state_same(st, "7", 'm', 100, 50, NULL, -1), "a new key");
	ok(ingest_state_same(st, "2", 'e', 200, 60, "9", 900), "episode unchanged");
	ok(!ingest_state_same(st, "2", 'e', 200, 60, "9", 901),
	    "episode whose show moved");
	ok(!ingest_state_same(st, "2", 'e', 200, 60, "8", 900),
	    "episode moved to another show");
	ok(!ingest_state_same(st, "2", 'e', 200, 60, "9", -1),
	    "episode whose show's updatedAt is unknown");
	ok(!ingest_state_same(st, "3", 'm', -1, -1, NULL, -1),
	    "no timestamp at all: never unchanged");
	ok(ingest_state_same(st, "4", 'e', -1, 70, "9", 900),
	    "addedAt alone is enough");
	ingest_state_free(st);
}

static void
test_file(void)
{
	struct ingest_state *st = ingest_state_new(), *back;
	char path[256], bad[256], err[512], line[256];
	size_t m, e, s;
	struct stat sb;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/state", dir);
	ingest_state_put(st, "1001", 'm', 100, 50, NULL, -1);
	ingest_state_put(st, "2002", 'e', -1, 60, "2000", 900);
	ingest_state_put(st, "2000", 's', 900, 10, NULL, -1);
	umask(022);
	is_int(ingest_state_write(st, path, err, sizeof(err)), 0, "written");
	ok(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600, "mode 0600");
	is_int(entries(), 1, "no temporary file left behind");
	fp = fopen(path, "r");
	ok(fgets(line, sizeof(line), fp) != NULL, "has a header");
	fclose(fp);
	is_str(line, "plexpipe-listing-state 1 items=3 movie=1 episode=1 show=1\n",
	    "the header counts each type");

	back = ingest_state_new();
	is_int(ingest_state_load(back, path, err, sizeof(err)), 0, "read back");
	is_int((long long)ingest_state_count(back), 3, "three items");
	ingest_state_counts(back, &m, &e, &s);
	ok(m == 1 && e == 1 && s == 1, "one of each type");
	ok(ingest_state_same(back, "1001", 'm', 100, 50, NULL, -1), "movie stamps");
	ok(ingest_state_same(back, "2002", 'e', -1, 60, "2000", 900),
	    "episode stamps with its show, a missing updatedAt kept as such");
	ingest_state_free(back);

	/* rewriting replaces the file whole */
	ingest_state_put(st, "1003", 'm', 1, 1, NULL, -1);
	is_int(ingest_state_write(st, path, err, sizeof(err)), 0, "rewritten");
	back = ingest_state_new();
	ingest_state_load(back, path, err, sizeof(err));
	is_int((long long)ingest_state_count(back), 4, "the new state replaced it");
	ingest_state_free(back);

	snprintf(bad, sizeof(bad), "%s/no/such/dir/state", dir);
	is_int(ingest_state_write(st, bad, err, sizeof(err)), -1,
	    "an unwritable place fails");
	ok(strstr(err, "no/such/dir/state") != NULL, "naming the file: %s", err);
	ingest_state_free(st);
}

/* load_bad TEXT WANT: a state file with TEXT fails naming WANT. */
static void
load_bad(const char *text, const char *want, const char *name)
{
	struct ingest_state *st = ingest_state_new();
	char path[256], err[512];

	snprintf(path, sizeof(path), "%s/bad", dir);
	write_file(path, text);
	is_int(ingest_state_load(st, path, err, sizeof(err)), -1, name);
	ok(strstr(err, want) != NULL, "%s: names \"%s\" (%s)", name, want, err);
	ingest_state_free(st);
	unlink(path);
}

static void
test_bad(void)
{
	struct ingest_state *st = ingest_state_new();
	char path[256], err[512];

	snprintf(path, sizeof(path), "%s/absent", dir);
	is_int(ingest_state_load(st, path, err, sizeof(err)), 1,
	    "a missing file is not an error: a first run");
	ingest_state_free(st);

	load_bad("", "empty", "an empty file");
	load_bad("{\"kind\":\"end\"}\n", ":1:", "not a state file");
	load_bad("plexpipe-listing-state 2 items=0\n", ":1:", "another version");
	load_bad("plexpipe-listing-state 1 items=1\n1\tm\t5\n", ":2:",
	    "three fields");
	load_bad("plexpipe-listing-state 1 items=1\n1\tx\t5\t5\n", ":2:",
	    "an unknown type");
	load_bad("plexpipe-listing-state 1 items=2\n1\tm\t5\t5\n2\tm\t5x\t5\n",
	    ":3:", "a bad timestamp");
	load_bad("plexpipe-listing-state 1 items=2\n1\tm\t5\t5\n1\tm\t5\t5\n",
	    ":3:", "a key twice");
	load_bad("plexpipe-listing-state 1 items=2\n1\tm\t5\t5\n2\tm\t5",
	    ":3:", "a truncated last line");
}

int
main(void)
{
	char cmd[sizeof(dir) + 16];

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_same();
	test_file();
	test_bad();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", dir);
	return done_testing();
}
