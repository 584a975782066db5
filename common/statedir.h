/* statedir.h: where plexpipe keeps its state files (dead letters, rejects, retry queues) by default. */
#ifndef PLEXPIPE_STATEDIR_H
#define PLEXPIPE_STATEDIR_H

#include <stddef.h>

/*
 * ${XDG_STATE_HOME:-$HOME/.local/state}/plexpipe, read once. A relative
 * XDG_STATE_HOME is ignored, as the XDG spec asks. With neither variable
 * usable it is ".plexpipe-state" in the working directory.
 */
const char *statedir_path(void);

/*
 * Creates statedir_path() (and missing parents) with mode 0700. 0, or -1
 * with a message naming the directory in err.
 */
int	 statedir_ensure(char *err, size_t errlen);

/*
 * A file in the state directory: statedir_path()/name. The string is the
 * module's and lives as long as the process (option defaults point to it).
 */
const char *statedir_file(const char *name);

/*
 * Before a state file is created: when path lies in the state directory,
 * makes sure the directory exists (statedir_ensure). 0 for any other path.
 */
int	 statedir_ensure_for(const char *path, char *err, size_t errlen);

/*
 * A state file (dead letters, rejects) opened to append, its directory
 * made first as statedir_ensure_for() says, mode STATEDIR_FILE_MODE when
 * new. The fd, or -1 with a message naming the file or directory in err.
 */
int	 statedir_open_append(const char *path, char *err, size_t errlen);

/*
 * path as an absolute path, allocated, for messages that tell a person
 * where a file is ("/home/u/.local/state/plexpipe/x" rather than "x").
 * The file need not exist; "." and ".." components are kept as given.
 */
char	*statedir_abspath(const char *path);

/* Mode for new state files: they hold library data and may hold payloads. */
#define STATEDIR_FILE_MODE	0600

#endif
