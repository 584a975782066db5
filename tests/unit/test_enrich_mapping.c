/* test_enrich_mapping.c: meta-enrich's pure mapping pieces: slugs, point ids, guid parsing, season resolution. */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "../../enrich/enrich.h"
#include "tap.h"

static void
slug_is(const char *in, const char *want)
{
	char *s = enrich_slug(in);

	is_str(s, want, in);
	free(s);
}

static void
test_slugs(void)
{
	/* mcp-plex's slugify(strip_leading_article(t)), worked out by hand */
	slug_is("The Gentlemen", "gentlemen");
	slug_is("the", "the");
	slug_is("A Quiet Place", "quiet-place");
	slug_is("An Education", "education");
	slug_is("Anastasia", "anastasia");
	slug_is("Alien: Earth", "alien-earth");
	slug_is("Kettle & Crown", "kettle-crown");
	/* ø, Æ, ß and Ł have no NFKD decomposition: dropped, as mcp-plex does */
	slug_is("Sørensen's Winter", "srensen-s-winter");
	slug_is("Café Müller's Revenge", "cafe-muller-s-revenge");
	slug_is("Æon Flux", "on-flux");
	slug_is("Łódź", "odz");
	slug_is("Straße 9", "strae-9");
	/* U+2019 is not ASCII: dropped, not a word break */
	slug_is("Let\xe2\x80\x99s Talk About Sex", "lets-talk-about-sex");
	slug_is("  --1977-- ", "1977");
	slug_is("日本", "");
	/* any whitespace run after the article; the title kept when only it is left */
	slug_is("The\t\xc2\xa0Thing", "thing");
	slug_is("A   ", "a");
	slug_is("A-Team", "a-team");
	/* a lone surrogate escape leaves bytes that are not UTF-8: dropped */
	slug_is("Caf\xed\xa0\x80" "e", "cafe");
	slug_is("", "");
}

static void
test_ids(void)
{
	struct json_object *id;
	char u[37];

	id = enrich_point_id("49915");
	ok(json_object_is_type(id, json_type_int), "digits give an integer id");
	is_int((long long)json_object_get_uint64(id), 49915, "the value");
	json_object_put(id);
	/* python3: uuid.uuid5(uuid.NAMESPACE_URL, "plex://rating-key/abc") */
	enrich_uuid5("abc", u);
	is_str(u, "ba2e9f4c-0aa6-5de1-b98f-0c6b33b3292d", "UUIDv5 of a key");
	id = enrich_point_id("m-quiet-cartographer");
	ok(json_object_is_type(id, json_type_string), "non-digits give a UUID");
	is_str(json_object_get_string(id), "0ac4ff83-7f7e-5998-9cc5-82817691c2bb",
	    "UUIDv5 of m-quiet-cartographer");
	json_object_put(id);
	id = enrich_point_id("007");
	ok(json_object_is_type(id, json_type_string), "a leading zero is not an integer id");
	json_object_put(id);
	id = enrich_point_id("");
	ok(json_object_is_type(id, json_type_string), "an empty key still gets an id");
	json_object_put(id);
}

static void
test_guids(void)
{
	struct ext_ids x;
	struct json_object *p;

	memset(&x, 0, sizeof(x));
	ok(enrich_parse_guid("com.plexapp.agents.imdb://tt0054215?lang=en", &x),
	    "legacy imdb agent");
	is_str(x.imdb, "tt0054215", "legacy imdb id");
	memset(&x, 0, sizeof(x));
	enrich_parse_guid("com.plexapp.agents.themoviedb://539?lang=en", &x);
	is_int(x.tmdb, 539, "legacy themoviedb id");
	memset(&x, 0, sizeof(x));
	enrich_parse_guid("com.plexapp.agents.thetvdb://81189/1/2?lang=en", &x);
	is_int(x.show_tvdb, 81189, "thetvdb SHOW/S/E names the show");
	is_int(x.tvdb, 0, "and not the episode");
	memset(&x, 0, sizeof(x));
	enrich_parse_guid("com.plexapp.agents.hama://tvdb-371310?lang=en", &x);
	is_int(x.tvdb, 371310, "hama tvdb");
	memset(&x, 0, sizeof(x));
	ok(!enrich_parse_guid("local://60293", &x), "local guid has no id");
	ok(!enrich_parse_guid("imdb://nm0000199", &x), "a name id is not a title");
	p = json_tokener_parse("{\"guid\":\"plex://movie/5d77\",\"Guid\":"
	    "[{\"id\":\"imdb://tt8367814\"},{\"id\":\"tmdb://522627\"},{\"id\":\"tvdb://131524\"}]}");
	is_int(enrich_ext_ids(p, &x), 3, "three ids from Guid");
	is_str(x.imdb, "tt8367814", "imdb");
	is_int(x.tmdb, 522627, "tmdb");
	is_int(x.tvdb, 131524, "tvdb");
	json_object_put(p);
}

static void
test_seasons(void)
{
	struct json_object *show = json_tokener_parse("{\"seasons\":["
	    "{\"season_number\":0,\"name\":\"Specials\",\"air_date\":null},"
	    "{\"season_number\":1,\"name\":\"Series 1\",\"air_date\":\"2022-03-01\"},"
	    "{\"season_number\":2,\"name\":\"Series 2\",\"air_date\":\"2023-03-01\"},"
	    "{\"season_number\":3,\"name\":\"Season Finale Run\",\"air_date\":\"2024-01-01\"}]}");

	is_int(enrich_resolve_season(show, 1, 2, "Season 2"), 2, "same number");
	is_int(enrich_resolve_season(show, 1, 7, "Series 2"), 2, "by name");
	is_int(enrich_resolve_season(show, 1, 9, "Season Finale Run"), 3,
	    "by name with a leading Season removed");
	is_int(enrich_resolve_season(show, 1, 2023, "2023"), 2, "a year index");
	is_int(enrich_resolve_season(show, 0, 0, "Season 2022"), 1, "a year title");
	is_int(enrich_resolve_season(show, 1, 8, "Season 8"), 8, "else parentIndex");
	is_int(enrich_resolve_season(NULL, 1, 4, "Season 4"), 4, "no show: parentIndex");
	is_int(enrich_resolve_season(NULL, 0, 0, NULL), -1, "nothing known");
	json_object_put(show);
}

int
main(void)
{
	test_slugs();
	test_ids();
	test_guids();
	test_seasons();
	done_testing();
}
