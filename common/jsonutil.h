/* jsonutil.h: null-safe json-c getters and builders shared by the stages. */
#ifndef PLEXPIPE_JSONUTIL_H
#define PLEXPIPE_JSONUTIL_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

/*
 * Getters return NULL / 0 when the key is missing, JSON null, or of
 * another type; they never stringify (json_object_get_string would turn
 * 7.6 into "7.6"). Returned objects are borrowed.
 */
/* The member of any type, or NULL when obj is not an object, has no such key or it is null. */
struct json_object *jmember(struct json_object *, const char *key);
const char	*jget_str(struct json_object *, const char *key);
struct json_object *jget_obj(struct json_object *, const char *key);
struct json_object *jget_arr(struct json_object *, const char *key);
/* 1 and *out set when the member is a JSON integer (or a double with no fraction). */
int		 jget_int(struct json_object *, const char *key, int64_t *out);
/* 1 and *out set for any JSON number. */
int		 jget_num(struct json_object *, const char *key, double *out);
/* 1 when the member is literally true. */
int		 jget_true(struct json_object *, const char *key);

/* Builders that map NULL to JSON null. */
struct json_object *jstr_or_null(const char *);
/* Adds key with a new reference to val (json_object_get); val may be NULL. */
void		 jadd_ref(struct json_object *obj, const char *key, struct json_object *val);

/* Once part of this module; included so its old callers (test_jsonutil.c) build as they are. */
#include "jcanon.h"
#include "utf8.h"

#endif
