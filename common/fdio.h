/* fdio.h: whole reads and writes on file descriptors, resumed after EINTR and short transfers. */
#ifndef PLEXPIPE_FDIO_H
#define PLEXPIPE_FDIO_H

#include <stddef.h>

/*
 * The stop signals are installed without SA_RESTART, so any read(2) or
 * write(2) may return EINTR or transfer less than asked; these loops make
 * that invisible to callers.
 */

/* Writes all n bytes: 0, or -1 with errno set (EPIPE included). */
int	 write_full(int fd, const void *, size_t n);
/* Reads exactly n bytes: 1; 0 at EOF before the first byte; -1 on error or EOF mid-way. */
int	 read_full(int fd, void *, size_t n);

#endif
