/* test_statedir.c: the state directory: XDG_STATE_HOME, the HOME fallback, mode 0700, paths named in full. */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "statedir.h"
#include "tap.h"

int
main(void)
{
	char		 dir[] = "/tmp/test_statedir.XXXXXX", want[512], err[512];
	char		 cwd[256], *f;
	const char	*sf;
	struct stat	 st;
	FILE		*fp;

	if (mkdtemp(dir) == NULL) {
		tap_skip("mkdtemp failed");
		return done_testing();
	}
	snprintf(want, sizeof(want), "%s/x/y", dir);
	setenv("XDG_STATE_HOME", want, 1);
	snprintf(want, sizeof(want), "%s/x/y/plexpipe", dir);
	is_str(statedir_path(), want, "XDG_STATE_HOME/plexpipe");
	ok(stat(want, &st) == -1, "not made before it is needed");
	sf = statedir_file("q.json");
	ok(sf == statedir_file("q.json"), "a state file's name is made once");
	ok(statedir_ensure_for("/elsewhere/q.json", err, sizeof(err)) == 0 &&
	    stat(want, &st) == -1, "a path elsewhere makes nothing");
	ok(statedir_ensure_for(sf, err, sizeof(err)) == 0, "made for a state file");
	ok(stat(want, &st) == 0 && S_ISDIR(st.st_mode) &&
	    (st.st_mode & 0777) == 0700, "mode 0700");
	snprintf(want, sizeof(want), "%s/x", dir);
	ok(stat(want, &st) == 0 && (st.st_mode & 0777) == 0700,
	    "missing parents are 0700 too");
	ok(statedir_ensure(err, sizeof(err)) == 0, "ensure twice is fine");

	/* a state file opened to append: private, appended to, errors named */
	{
		char	 rm[600];
		int	 fd, fd2;

		snprintf(rm, sizeof(rm), "rm -rf '%s/x'", dir);
		(void)!system(rm);
		fd = statedir_open_append(sf, err, sizeof(err));
		ok(fd >= 0 && fstat(fd, &st) == 0 && (st.st_mode & 0777) == 0600,
		    "append: the directory is made again, the file is 0600");
		fd2 = statedir_open_append(sf, err, sizeof(err));
		ok(fd2 >= 0 && write(fd, "a\n", 2) == 2 &&
		    write(fd2, "b\n", 2) == 2 && stat(sf, &st) == 0 &&
		    st.st_size == 4, "append: two writers both append");
		if (fd >= 0)
			close(fd);
		if (fd2 >= 0)
			close(fd2);
		snprintf(want, sizeof(want), "%s/none/f", dir);
		ok(statedir_open_append(want, err, sizeof(err)) == -1 &&
		    strncmp(err, want, strlen(want)) == 0 &&
		    strstr(err, "No such file") != NULL,
		    "append: a file that cannot be made is named: %s", err);
	}

	if (getcwd(cwd, sizeof(cwd)) != NULL) {
		f = statedir_abspath("./a/b.ndjson");
		snprintf(want, sizeof(want), "%s/a/b.ndjson", cwd);
		is_str(f, want, "a relative path is named in full");
		free(f);
	}
	f = statedir_abspath("/abs/c");
	is_str(f, "/abs/c", "an absolute path is kept");
	free(f);

	/* a file where the directory should be: a clear error */
	snprintf(want, sizeof(want), "rm -rf '%s'", dir);
	if (system(want) != 0)
		tap_skip("cleanup failed");
	if (mkdir(dir, 0700) == 0) {
		snprintf(want, sizeof(want), "%s/x", dir);
		if ((fp = fopen(want, "w")) != NULL)
			fclose(fp);
		ok(statedir_ensure(err, sizeof(err)) == -1 &&
		    strstr(err, "is not a directory") != NULL,
		    "a file in the way is named: %s", err);
		snprintf(want, sizeof(want), "rm -rf '%s'", dir);
		(void)!system(want);
	}
	return done_testing();
}
