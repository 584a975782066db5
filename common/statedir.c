/* statedir.c: where plexpipe keeps its state files (dead letters, rejects, retry queues) by default. */
/*
 * State is what a later run needs (the IMDb retry queue) or a person must
 * act on (dead letters, rejects). It used to land in the working
 * directory, wherever a command ran; the XDG base directory spec gives it
 * a home of its own. The directory is private (0700): dead letters hold
 * whole points, payloads included.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "opts.h"
#include "statedir.h"
#include "xalloc.h"

static char	*state_dir;

const char *
statedir_path(void)
{
	const char	*x, *h;

	if (state_dir != NULL)
		return state_dir;
	x = opt_env("XDG_STATE_HOME");
	h = opt_env("HOME");
	if (x != NULL && x[0] == '/')
		xasprintf(&state_dir, "%s/plexpipe", x);
	else if (h != NULL)
		xasprintf(&state_dir, "%s/.local/state/plexpipe", h);
	else
		state_dir = xstrdup(".plexpipe-state");
	return state_dir;
}

/* mkdir -p with mode 0700 for every directory it makes. */
static int
mkdirs(const char *dir, char *err, size_t errlen)
{
	struct stat	 st;
	char		*p, *q, c;
	int		 rc = 0;

	p = xstrdup(dir);
	for (q = p + 1; rc == 0; q++) {
		if (*q != '/' && *q != '\0')
			continue;
		c = *q;
		*q = '\0';
		if (mkdir(p, 0700) == -1 && errno != EEXIST) {
			snprintf(err, errlen, "state directory %s: cannot "
			    "create %s: %s", dir, p, strerror(errno));
			rc = -1;
		} else if (stat(p, &st) == -1 || !S_ISDIR(st.st_mode)) {
			snprintf(err, errlen, "state directory %s: %s is not "
			    "a directory", dir, p);
			rc = -1;
		}
		*q = c;
		if (c == '\0')
			break;
	}
	free(p);
	return rc;
}

int
statedir_ensure(char *err, size_t errlen)
{
	return mkdirs(statedir_path(), err, errlen);
}

/* The files handed out, kept so each is made once and never leaks. */
struct state_file {
	struct state_file	*next;
	char			*name, *path;
};
static struct state_file	*files;

const char *
statedir_file(const char *name)
{
	struct state_file	*f;

	for (f = files; f != NULL; f = f->next)
		if (strcmp(f->name, name) == 0)
			return f->path;
	f = xcalloc(1, sizeof(*f));
	f->name = xstrdup(name);
	xasprintf(&f->path, "%s/%s", statedir_path(), name);
	f->next = files;
	files = f;
	return f->path;
}

int
statedir_ensure_for(const char *path, char *err, size_t errlen)
{
	const char	*d = statedir_path();
	size_t		 n = strlen(d);

	if (path == NULL || strncmp(path, d, n) != 0 || path[n] != '/')
		return 0;
	return statedir_ensure(err, errlen);
}

int
statedir_open_append(const char *path, char *err, size_t errlen)
{
	int	 fd;

	if (statedir_ensure_for(path, err, errlen) != 0)
		return -1;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	    STATEDIR_FILE_MODE)) == -1)
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	return fd;
}

char *
statedir_abspath(const char *path)
{
	char	 cwd[PATH_MAX], *a;

	if (path[0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL)
		return xstrdup(path);
	if (strncmp(path, "./", 2) == 0)
		path += 2;
	xasprintf(&a, "%s/%s", strcmp(cwd, "/") == 0 ? "" : cwd, path);
	return a;
}
