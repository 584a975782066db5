/* test_redact.c: unit tests for secret masking in messages. */
#include <stdlib.h>
#include <string.h>

#include "redact.h"
#include "tap.h"

static void
check(const char *in, const char *want, const char *name)
{
	char	*r;

	r = redact(in);
	is_str(r, want, name);
	free(r);
}

int
main(void)
{
	char	 small[16];

	check("nothing secret here", "nothing secret here", "plain text untouched");
	redact_add("s3cretTOKENvalue");
	redact_add("abc");	/* too short: ignored */
	redact_add("s3cretTOKENvalue");	/* duplicate */
	redact_add("s3cret");
	check("token s3cretTOKENvalue leaked", "token *** leaked",
	    "registered secret masked (longest first)");
	check("a s3cret b s3cret", "a *** b ***", "every occurrence masked");
	check("abc abc", "abc abc", "secrets under 4 bytes are not registered");
	check("GET http://h/x?X-Plex-Token=unregistered123&type=1",
	    "GET http://h/x?X-Plex-Token=***&type=1", "X-Plex-Token param masked");
	check("url ?x-plex-token=zzzz", "url ?x-plex-token=***",
	    "param names case-insensitive");
	check("/3/movie/1?api_key=deadbeef&language=en",
	    "/3/movie/1?api_key=***&language=en", "api_key param masked");
	check("tmdb: GET /3/movie/1?language=en&api_key=deadbeef: "
	    "SSL certificate problem after 3 attempts",
	    "tmdb: GET /3/movie/1?language=en&api_key=***: "
	    "SSL certificate problem after 3 attempts",
	    "the ': ' after a masked param value is kept");
	check("?api_key=deadbeef:", "?api_key=***:",
	    "a trailing ':' at the end is kept");
	check("?api_key=dead:beef&x=1", "?api_key=***&x=1",
	    "a ':' inside a param value is masked with it");
	check("?api_key=:", "?api_key=:", "a value of only ':' is no value");
	check("?access_token=qqq&token=rrr", "?access_token=***&token=***",
	    "access_token and token params masked");
	check("Authorization: Bearer eyJhbGciOi.x.y\r\nHost: h",
	    "Authorization: ***\r\nHost: h", "Authorization header masked");
	check("api-key: 12345678", "api-key: ***", "api-key header masked");
	check("mytoken=keep", "mytoken=keep", "token= only at a word start");
	check("X-Plex-Token=", "X-Plex-Token=", "empty value left alone");
	check("", "", "empty string");
	redact_into(small, sizeof(small), "pre s3cretTOKENvalue post long tail");
	is_str(small, "pre *** post lo", "redact_into truncates after masking");
	ok(strstr(small, "s3cret") == NULL, "redact_into never leaks");
	return done_testing();
}
