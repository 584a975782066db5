/* test_ingest_sections.c: --types parsing and section/listing selection in plex-ingest. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "tap.h"
#include "test_ingest_fake.h"

static int
select_n(struct json_object *root, const char *const *names, size_t n, int want,
    struct ingest_listing **ls, char *err, size_t errlen)
{
	return ingest_select(root, names, n, want, ls, err, errlen);
}

int
main(void)
{
	struct fake_lib f;
	struct plex_source src;
	struct ingest_listing *ls;
	struct json_object *root;
	const char *bad = NULL, *names[2];
	char err[256];
	size_t badlen = 0;
	int n;

	is_int(ingest_parse_types("movie,episode", &bad, &badlen),
	    INGEST_WANT_MOVIE | INGEST_WANT_EPISODE, "movie,episode");
	is_int(ingest_parse_types("show", &bad, &badlen), INGEST_WANT_SHOW, "show");
	is_int(ingest_parse_types("movie,film", &bad, &badlen), -1, "unknown type");
	ok(badlen == 4 && strncmp(bad, "film", 4) == 0, "names the bad word");
	is_int(ingest_parse_types("movie,", &bad, &badlen), -1, "empty word");

	fake_init(&f, &src);
	plex_src_sections(&src, &root);

	n = select_n(root, NULL, 0, INGEST_WANT_MOVIE | INGEST_WANT_EPISODE, &ls,
	    err, sizeof(err));
	is_int(n, 3, "default: two movie sections and the show section");
	if (n == 3) {
		is_str(ls[0].key, "1", "movie section 1 first");
		is_int(ls[0].type, PLEX_TYPE_MOVIE, "as a movie listing");
		is_str(ls[1].key, "2", "then the show section");
		is_int(ls[1].type, PLEX_TYPE_EPISODE, "as an episode listing");
		is_str(ls[2].key, "3", "then movie section 3");
		is_str(jget_str(ls[0].section, "title"), "Films", "section title kept");
		is_str(jget_str(ls[0].section, "uuid"), "u-1", "section uuid kept");
	}
	ingest_listings_free(ls, n > 0 ? (size_t)n : 0);

	n = select_n(root, NULL, 0, INGEST_WANT_SHOW | INGEST_WANT_EPISODE, &ls,
	    err, sizeof(err));
	is_int(n, 2, "show,episode: two listings of the show section");
	if (n == 2)
		ok(ls[0].type == PLEX_TYPE_SHOW && ls[1].type == PLEX_TYPE_EPISODE,
		    "shows listed before their episodes");
	ingest_listings_free(ls, n > 0 ? (size_t)n : 0);

	names[0] = "Documentaries";
	names[1] = "2";
	n = select_n(root, names, 2, INGEST_WANT_MOVIE | INGEST_WANT_EPISODE, &ls,
	    err, sizeof(err));
	is_int(n, 2, "by title and by key");
	if (n == 2)
		ok(strcmp(ls[0].key, "2") == 0 && strcmp(ls[1].key, "3") == 0,
		    "in server order");
	ingest_listings_free(ls, n > 0 ? (size_t)n : 0);

	/* --section leaving out a section of a loaded type: not complete */
	names[0] = "Films";
	is_int(ingest_left_out(root, names, 1, INGEST_WANT_MOVIE, &bad), 1,
	    "movie section 3 left out of a movie run");
	is_str(bad, "Documentaries", "  and named");
	is_int(ingest_left_out(root, names, 1,
	    INGEST_WANT_MOVIE | INGEST_WANT_EPISODE, &bad), 2,
	    "with episodes, the show section is left out too");
	names[1] = "Documentaries";
	is_int(ingest_left_out(root, names, 2, INGEST_WANT_MOVIE, &bad), 0,
	    "every movie section named: nothing left out");
	is_int(ingest_left_out(root, NULL, 0,
	    INGEST_WANT_MOVIE | INGEST_WANT_EPISODE, &bad), 0,
	    "no --section: nothing left out");
	names[0] = "Series";
	is_int(ingest_left_out(root, names, 1, INGEST_WANT_EPISODE, &bad), 0,
	    "a show run does not care about movie sections");

	names[0] = "Nope";
	n = select_n(root, names, 1, INGEST_WANT_MOVIE, &ls, err, sizeof(err));
	is_int(n, -1, "unknown section name");
	ok(strstr(err, "Nope") != NULL, "error names it: %s", err);

	names[0] = "Music";
	n = select_n(root, names, 1, INGEST_WANT_MOVIE, &ls, err, sizeof(err));
	is_int(n, -1, "a music section asked for by name");
	ok(strstr(err, "artist") != NULL, "error says its type: %s", err);

	json_object_put(root);
	fake_done(&f);
	return done_testing();
}
