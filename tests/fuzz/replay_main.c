/* replay_main.c: runs a fuzz target's regression inputs as a TAP test (make check), without libFuzzer or clang. */
/*
 * Linked with one fuzz_<target>.c instead of libFuzzer. With no arguments
 * it replays every file of tests/fuzz/regress/<target>/ (under
 * $PLEXPIPE_TOP, default "."), each one a test point: a crash, a sanitizer
 * report or an abort() of the target's own checks fails the run. Files or
 * directories given as arguments are replayed instead.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "strutil.h"

#ifndef FUZZ_TARGET
#error "build with -DFUZZ_TARGET=\"name\""
#endif

#pragma weak LLVMFuzzerInitialize

static int n;

static void
replay_file(const char *path)
{
	FILE *fp;
	char *data = NULL;
	size_t len = 0, cap = 0, got;

	if ((fp = fopen(path, "rb")) == NULL) {
		printf("not ok %d - %s: cannot open\n", ++n, path);
		exit(1);
	}
	do {
		if (len == cap) {
			cap = cap ? 2 * cap : 4096;
			if ((data = realloc(data, cap)) == NULL)
				abort();
		}
		got = fread(data + len, 1, cap - len, fp);
		len += got;
	} while (got > 0);
	fclose(fp);
	/* a crash ends the run here, with the sanitizer's report */
	LLVMFuzzerTestOneInput((const uint8_t *)data, len);
	free(data);
	printf("ok %d - %s replays cleanly (%zu bytes)\n", ++n, path, len);
	fflush(stdout);
}

static void
replay(const char *path)
{
	struct stat st;
	struct dirent *de;
	DIR *d;
	char **names = NULL, full[4096];
	size_t i, nn = 0;

	if (stat(path, &st) != 0) {
		printf("not ok %d - %s: not found\n", ++n, path);
		exit(1);
	}
	if (!S_ISDIR(st.st_mode)) {
		replay_file(path);
		return;
	}
	if ((d = opendir(path)) == NULL) {
		printf("not ok %d - %s: cannot read\n", ++n, path);
		exit(1);
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if ((names = realloc(names, (nn + 1) * sizeof(*names))) == NULL ||
		    (names[nn++] = strdup(de->d_name)) == NULL)
			abort();
	}
	closedir(d);
	qsort(names, nn, sizeof(*names), strp_cmp);	/* the same order every run */
	for (i = 0; i < nn; i++) {
		snprintf(full, sizeof(full), "%s/%s", path, names[i]);
		replay_file(full);
		free(names[i]);
	}
	free(names);
}

int
main(int argc, char **argv)
{
	const char *top = getenv("PLEXPIPE_TOP");
	char dir[4096];
	int i;

	if (LLVMFuzzerInitialize != NULL)
		LLVMFuzzerInitialize(&argc, &argv);
	if (argc > 1) {
		for (i = 1; i < argc; i++)
			replay(argv[i]);
	} else {
		snprintf(dir, sizeof(dir), "%s/tests/fuzz/regress/%s",
		    top != NULL ? top : ".", FUZZ_TARGET);
		replay(dir);
	}
	if (n == 0) {
		printf("not ok 1 - no regression inputs for %s\n", FUZZ_TARGET);
		return 1;
	}
	printf("1..%d\n", n);
	return 0;
}
