/* jsonutil.c: null-safe json-c getters and builders shared by the stages. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "jsonutil.h"
#include "xalloc.h"

struct json_object *
jmember(struct json_object *obj, const char *key)
{
	struct json_object	*v;

	if (obj == NULL || !json_object_is_type(obj, json_type_object))
		return NULL;
	if (!json_object_object_get_ex(obj, key, &v))
		return NULL;
	return v;
}

const char *
jget_str(struct json_object *obj, const char *key)
{
	struct json_object	*v;

	if ((v = jmember(obj, key)) == NULL ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

struct json_object *
jget_obj(struct json_object *obj, const char *key)
{
	struct json_object	*v;

	if ((v = jmember(obj, key)) == NULL ||
	    !json_object_is_type(v, json_type_object))
		return NULL;
	return v;
}

struct json_object *
jget_arr(struct json_object *obj, const char *key)
{
	struct json_object	*v;

	if ((v = jmember(obj, key)) == NULL ||
	    !json_object_is_type(v, json_type_array))
		return NULL;
	return v;
}

int
jget_int(struct json_object *obj, const char *key, int64_t *out)
{
	struct json_object	*v;
	double			 d;

	if ((v = jmember(obj, key)) == NULL)
		return 0;
	if (json_object_is_type(v, json_type_int)) {
		*out = json_object_get_int64(v);
		return 1;
	}
	if (json_object_is_type(v, json_type_double)) {
		d = json_object_get_double(v);
		/* 2^63 is exactly representable; anything at or above it is not an int64. */
		if (isfinite(d) && d == trunc(d) && d >= -9223372036854775808.0 &&
		    d < 9223372036854775808.0) {
			*out = (int64_t)d;
			return 1;
		}
	}
	return 0;
}

int
jget_num(struct json_object *obj, const char *key, double *out)
{
	struct json_object	*v;

	if ((v = jmember(obj, key)) == NULL)
		return 0;
	if (json_object_is_type(v, json_type_int) ||
	    json_object_is_type(v, json_type_double)) {
		*out = json_object_get_double(v);
		return 1;
	}
	return 0;
}

int
jget_true(struct json_object *obj, const char *key)
{
	struct json_object	*v;

	if ((v = jmember(obj, key)) == NULL ||
	    !json_object_is_type(v, json_type_boolean))
		return 0;
	return json_object_get_boolean(v) ? 1 : 0;
}

struct json_object *
jstr_or_null(const char *s)
{
	return s != NULL ? json_object_new_string(s) : NULL;
}

void
jadd_ref(struct json_object *obj, const char *key, struct json_object *val)
{
	json_object_object_add(obj, key, val != NULL ? json_object_get(val) :
	    NULL);
}
