/* season.c: which TMDb season a Plex season is (DESIGN.md 3, the season-resolution rule). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "enrich.h"
#include "jsonutil.h"

/* "Season 2" -> "2"; other names unchanged. Leading blanks skipped. */
static const char *
strip_season(const char *s)
{
	while (*s == ' ')
		s++;
	if (strncasecmp(s, "season ", 7) == 0)
		s += 7;
	while (*s == ' ')
		s++;
	return s;
}

/* The year a title names ("2019", "Season 2019"), or 0. */
static int64_t
title_year(const char *t)
{
	int64_t	 y = 0;
	int	 n = 0;

	if (t == NULL)
		return 0;
	t = strip_season(t);
	for (; isdigit((unsigned char)*t) && n < 5; t++, n++)
		y = y * 10 + (*t - '0');
	return (n == 4 && *t == '\0' && y >= 1900) ? y : 0;
}

int64_t
enrich_resolve_season(struct json_object *show, int has_index,
    int64_t idx, const char *ptitle)
{
	struct json_object	*seasons, *s;
	const char		*name, *air;
	int64_t			 num, year;
	size_t			 i, n;

	seasons = show != NULL ? jget_arr(show, "seasons") : NULL;
	n = seasons != NULL ? json_object_array_length(seasons) : 0;
	if (has_index)
		for (i = 0; i < n; i++) {
			s = json_object_array_get_idx(seasons, i);
			if (jget_int(s, "season_number", &num) && num == idx)
				return num;
		}
	if (ptitle != NULL && *strip_season(ptitle) != '\0')
		for (i = 0; i < n; i++) {
			s = json_object_array_get_idx(seasons, i);
			name = jget_str(s, "name");
			if (name != NULL && strcasecmp(strip_season(name),
			    strip_season(ptitle)) == 0 &&
			    jget_int(s, "season_number", &num))
				return num;
		}
	year = title_year(ptitle);
	if (year == 0 && has_index && idx >= 1900)
		year = idx;
	if (year != 0)
		for (i = 0; i < n; i++) {
			s = json_object_array_get_idx(seasons, i);
			air = jget_str(s, "air_date");
			if (air != NULL && strlen(air) >= 4 &&
			    strtol(air, NULL, 10) == year &&
			    jget_int(s, "season_number", &num))
				return num;
		}
	return has_index ? idx : -1;
}
