/* jcanon.h: canonical JSON text (keys sorted, numbers by value), the input of content hashes. */
#ifndef PLEXPIPE_JCANON_H
#define PLEXPIPE_JCANON_H

struct json_object;

/*
 * Canonical text: keys sorted at every level, compact, for hashing. The
 * result is a new string the caller frees.
 */
char		*jcanonical(struct json_object *);

#endif
