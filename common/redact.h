/* redact.h: a process-wide list of secrets that are masked in every message we print. */
#ifndef PLEXPIPE_REDACT_H
#define PLEXPIPE_REDACT_H

#include <stddef.h>

/* Registers a secret (copied; ignored when shorter than 4 bytes). */
void	 redact_add(const char *);
/*
 * Returns a newly allocated copy of s with every registered secret
 * replaced by "***", and any "X-Plex-Token=", "api_key=", "api-key:" or
 * "Authorization:" value masked too. The caller frees it.
 */
char	*redact(const char *);
/* Same, in place into a caller buffer of size n (truncates). */
void	 redact_into(char *, size_t, const char *);

#endif
