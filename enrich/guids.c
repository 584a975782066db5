/* guids.c: external ids (IMDb, TMDb, TVDB) from a Plex item's Guid array and legacy-agent guid. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "enrich.h"
#include "jsonutil.h"

int
enrich_valid_imdb_id(const char *s)
{
	size_t	 i, n;

	if (s == NULL || strncmp(s, "tt", 2) != 0)
		return 0;
	n = strlen(s);
	if (n < 3 || n > 20)
		return 0;
	for (i = 2; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

/* Leading digits of s as a positive id, stopping at '/', '?' or the end. */
static int64_t
lead_number(const char *s, const char **end)
{
	int64_t		 v = 0;
	const char	*p = s;

	while (isdigit((unsigned char)*p) && v < (INT64_MAX - 9) / 10)
		v = v * 10 + (*p++ - '0');
	if (p == s || (*p != '\0' && *p != '?' && *p != '/'))
		return 0;
	if (end != NULL)
		*end = p;
	return v;
}

/* "tt0113277?lang=en" -> imdb when it is a valid id. */
static int
set_imdb(const char *s, struct ext_ids *ids)
{
	char	 tmp[sizeof(ids->imdb)];
	size_t	 n = strcspn(s, "?/");

	if (n >= sizeof(tmp))
		return 0;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (!enrich_valid_imdb_id(tmp))
		return 0;
	if (ids->imdb[0] == '\0')
		memcpy(ids->imdb, tmp, n + 1);
	return 1;
}

static int
set_num(const char *s, int64_t *dst, int64_t *show_dst)
{
	const char	*end = NULL;
	int64_t		 v = lead_number(s, &end);

	if (v <= 0)
		return 0;
	/* thetvdb://SHOW/SEASON/EPISODE names the show, not the episode */
	if (show_dst != NULL && *end == '/') {
		if (*show_dst == 0)
			*show_dst = v;
		return 1;
	}
	if (*dst == 0)
		*dst = v;
	return 1;
}

int
enrich_parse_guid(const char *g, struct ext_ids *ids)
{
	const char	*p;

	if (g == NULL)
		return 0;
	if (strncmp(g, "imdb://", 7) == 0)
		return set_imdb(g + 7, ids);
	if (strncmp(g, "tmdb://", 7) == 0)
		return set_num(g + 7, &ids->tmdb, NULL);
	if (strncmp(g, "tvdb://", 7) == 0)
		return set_num(g + 7, &ids->tvdb, NULL);
	/* legacy agents: com.plexapp.agents.NAME://ID?lang=xx */
	if (strncmp(g, "com.plexapp.agents.", 19) != 0)
		return 0;
	p = g + 19;
	if (strncmp(p, "imdb://", 7) == 0)
		return set_imdb(p + 7, ids);
	if (strncmp(p, "themoviedb://", 13) == 0)
		return set_num(p + 13, &ids->tmdb, NULL);
	if (strncmp(p, "thetvdb://", 10) == 0)
		return set_num(p + 10, &ids->tvdb, &ids->show_tvdb);
	if (strncmp(p, "hama://tvdb-", 12) == 0)
		return set_num(p + 12, &ids->tvdb, &ids->show_tvdb);
	if (strncmp(p, "hama://tmdb-", 12) == 0)
		return set_num(p + 12, &ids->tmdb, NULL);
	return 0;
}

int
enrich_ext_ids(struct json_object *plex, struct ext_ids *ids)
{
	struct json_object	*arr, *g;
	size_t			 i, n;
	int			 found = 0;

	memset(ids, 0, sizeof(*ids));
	if (plex == NULL)
		return 0;
	if ((arr = jget_arr(plex, "Guid")) != NULL) {
		n = json_object_array_length(arr);
		for (i = 0; i < n; i++) {
			g = json_object_array_get_idx(arr, i);
			found += enrich_parse_guid(jget_str(g, "id"), ids);
		}
	}
	found += enrich_parse_guid(jget_str(plex, "guid"), ids);
	return found;
}
