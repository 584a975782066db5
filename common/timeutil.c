/* timeutil.c: clocks, sleeping, ISO-8601 formatting and the time specs users type. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "timeutil.h"

#define SLEEP_SLICE	0.05	/* s: how late a stop request may be noticed */

double
now_monotonic(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double
now_wall(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * The one sleep loop. It sleeps in short slices: a signal that lands just
 * before nanosleep() would otherwise not interrupt it, and a stop request
 * would wait for the whole sleep.
 */
int
sleep_unless(double secs, int (*stop)(const void *), const void *arg)
{
	struct timespec	 ts;
	double		 end, left, slice;

	if (!(secs > 0))
		return 0;
	end = now_monotonic() + secs;
	for (;;) {
		if (stop != NULL && stop(arg))
			return -1;
		left = end - now_monotonic();
		if (left <= 0)
			return 0;
		slice = left < SLEEP_SLICE ? left : SLEEP_SLICE;
		ts.tv_sec = (time_t)slice;
		ts.tv_nsec = (long)((slice - (double)ts.tv_sec) * 1e9);
		if (nanosleep(&ts, NULL) == -1 && errno != EINTR)
			return 0;
	}
}

static int
flag_set(const void *flag)
{
	return *(const volatile sig_atomic_t *)flag != 0;
}

void
sleep_seconds(double secs, volatile sig_atomic_t *cancel)
{
	/* volatile is dropped only for the trip through void *; flag_set restores it */
	sleep_unless(secs, cancel != NULL ? flag_set : NULL, (const void *)cancel);
}

int
iso8601_utc(int64_t epoch, char *out, size_t outlen)
{
	struct tm	 tm;
	time_t		 t = (time_t)epoch;

	if (gmtime_r(&t, &tm) == NULL)
		return -1;
	if (strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return -1;
	return 0;
}

/* Reads exactly n digits at *sp into *v. */
static int
digits(const char **sp, int n, int *v)
{
	const char	*s = *sp;
	int		 i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	*sp = s + n;
	return 0;
}

int
parse_iso8601(const char *s, int64_t *epoch)
{
	struct tm	 tm, chk;
	int		 y, mo, d, h = 0, mi = 0, sec = 0;
	time_t		 t;

	if (s == NULL)
		return -1;
	if (digits(&s, 4, &y) || *s++ != '-' || digits(&s, 2, &mo) ||
	    *s++ != '-' || digits(&s, 2, &d))
		return -1;
	if (*s == 'T' || *s == 't' || *s == ' ') {
		s++;
		if (digits(&s, 2, &h) || *s++ != ':' || digits(&s, 2, &mi) ||
		    *s++ != ':' || digits(&s, 2, &sec))
			return -1;
		if (*s == '.')	/* fractions of a second are dropped */
			for (s++; isdigit((unsigned char)*s); s++)
				;
		if (*s == 'Z' || *s == 'z')
			s++;
		else if (strcmp(s, "+00:00") == 0)
			s += 6;
	}
	if (*s != '\0')
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    sec > 60)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	if ((t = timegm(&tm)) == (time_t)-1 && y != 1969)
		return -1;
	/* timegm normalises 2025-02-30 to March; such a date is an error. */
	if (gmtime_r(&t, &chk) == NULL || chk.tm_mday != d ||
	    chk.tm_mon != mo - 1)
		return -1;
	*epoch = (int64_t)t;
	return 0;
}

/*
 * "90m" and friends to seconds; -1 when not a duration. A bare number is
 * seconds only when unit_optional is set (--updated-since reads a bare
 * number as an epoch instead).
 */
int
parse_duration(const char *s, int unit_optional, int64_t *secs)
{
	char		*end;
	long long	 n;
	int64_t		 mult;

	if (s == NULL || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno != 0 || end == s)
		return -1;
	switch (*end) {
	case '\0':
		if (!unit_optional)
			return -1;
		mult = 1;
		break;
	case 's':
		mult = 1;
		break;
	case 'm':
		mult = 60;
		break;
	case 'h':
		mult = 3600;
		break;
	case 'd':
		mult = 86400;
		break;
	case 'w':
		mult = 7 * 86400;
		break;
	default:
		return -1;
	}
	if ((*end != '\0' && end[1] != '\0') || n > INT64_MAX / mult)
		return -1;
	*secs = (int64_t)n * mult;
	return 0;
}

int
parse_time_spec(const char *s, time_t now, int64_t *epoch)
{
	const char	*p;
	char		*end;
	long long	 n;
	int64_t		 secs;

	if (s == NULL || *s == '\0')
		return -1;
	for (p = s; isdigit((unsigned char)*p); p++)
		;
	if (*p == '\0') {
		errno = 0;
		n = strtoll(s, &end, 10);
		if (errno != 0)
			return -1;
		*epoch = n;
		return 0;
	}
	if (parse_iso8601(s, epoch) == 0)
		return 0;
	if (parse_duration(s, 0, &secs) == 0) {
		*epoch = (int64_t)now - secs;
		return 0;
	}
	return -1;
}
