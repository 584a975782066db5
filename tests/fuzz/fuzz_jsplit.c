/* fuzz_jsplit.c: libFuzzer target: jparse_split() (common/jparse.c), the scanner that splits big points lines, checked against the full parser. */
/*
 * The input is one line as qdrant-upsert reads it. Whenever the scanner
 * says the text is sure to parse and yields the elements of its "points"
 * member, the whole text must parse with jparse_text() as an object, its
 * "points" member must be an array of as many elements, and each element
 * span, parsed alone with JPARSE_CHECKED, must equal the full tree's
 * element. A split the full parser disagrees with would load points the
 * whole line never held, or lose some: abort().
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "fuzz.h"
#include "jparse.h"

static json_tokener	*tok;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char		*s = (const char *)data;
	struct json_object	*whole, *arr, *el;
	struct jspan		 span, *elems = NULL;
	struct jerr		 err;
	size_t			 n = 0, i;

	if (tok == NULL)
		tok = jparse_tokener_new();
	if (!jparse_split(s, size, "points", &span, &elems, &n))
		return 0;	/* the caller parses the whole text: nothing to compare */
	if (span.off > size || span.len > size - span.off)
		abort();
	whole = jparse_text(tok, "fuzz", 1, s, size, JPARSE_OBJECT, &err);
	if (whole == NULL ||
	    !json_object_object_get_ex(whole, "points", &arr) ||
	    !json_object_is_type(arr, json_type_array) ||
	    json_object_array_length(arr) != n)
		abort();
	for (i = 0; i < n; i++) {
		if (elems[i].off < span.off ||
		    elems[i].len > span.off + span.len - elems[i].off)
			abort();
		el = jparse_text(tok, "fuzz", 1, s + elems[i].off, elems[i].len,
		    JPARSE_CHECKED, &err);
		/* "null" is json-c's NULL: equal to a null element */
		if (!json_object_equal(el, json_object_array_get_idx(arr, i)))
			abort();
		json_object_put(el);
	}
	json_object_put(whole);
	free(elems);
	return 0;
}
