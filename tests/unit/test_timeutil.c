/* test_timeutil.c: ISO-8601, time specs, clocks and cancellable sleep. */
#include <signal.h>
#include <stdint.h>
#include <time.h>

#include "tap.h"
#include "timeutil.h"

static void
spec(const char *s, time_t now, int64_t want, const char *name)
{
	int64_t	 got = -12345;

	if (!ok(parse_time_spec(s, now, &got) == 0, "%s: parses", name))
		return;
	is_int(got, want, name);
}

int
main(void)
{
	char			 out[32];
	int64_t			 e;
	double			 t0, t1;
	volatile sig_atomic_t	 cancel = 1;
	time_t			 now = 1741577874;

	is_int(iso8601_utc(1741577874, out, sizeof(out)), 0, "iso8601_utc ok");
	is_str(out, "2025-03-10T03:37:54Z", "iso8601_utc text");
	is_int(iso8601_utc(0, out, sizeof(out)), 0, "epoch 0");
	is_str(out, "1970-01-01T00:00:00Z", "epoch 0 text");
	is_int(iso8601_utc(1, out, 5), -1, "too small a buffer is an error");

	ok(parse_iso8601("2025-03-10T03:37:54Z", &e) == 0 && e == 1741577874,
	    "parse date-time with Z");
	ok(parse_iso8601("2025-03-10T03:37:54", &e) == 0 && e == 1741577874,
	    "parse date-time without Z");
	ok(parse_iso8601("2025-03-10T03:37:54.250Z", &e) == 0 && e == 1741577874,
	    "fractions dropped");
	ok(parse_iso8601("2025-03-10", &e) == 0 && e == 1741564800, "parse date");
	ok(parse_iso8601("2024-02-29", &e) == 0, "leap day");
	ok(parse_iso8601("2025-02-29", &e) == -1, "no such day");
	ok(parse_iso8601("2025-13-01", &e) == -1, "month 13");
	ok(parse_iso8601("2025-03-10T25:00:00Z", &e) == -1, "hour 25");
	ok(parse_iso8601("2025-03-10junk", &e) == -1, "trailing junk");
	ok(parse_iso8601("25-03-10", &e) == -1, "short year");

	spec("1741577874", now, 1741577874, "epoch seconds");
	spec("2025-03-10", now, 1741564800, "ISO date");
	spec("90m", now, now - 5400, "90m ago");
	spec("7d", now, now - 7 * 86400, "7d ago");
	spec("12h", now, now - 12 * 3600, "12h ago");
	spec("2w", now, now - 14 * 86400, "2w ago");
	ok(parse_time_spec("yesterday", now, &e) == -1, "words rejected");
	ok(parse_time_spec("7y", now, &e) == -1, "unknown unit rejected");
	ok(parse_time_spec("", now, &e) == -1, "empty rejected");

	t0 = now_monotonic();
	sleep_seconds(0.2, NULL);
	t1 = now_monotonic();
	ok(t1 - t0 >= 0.19 && t1 - t0 < 1.0, "sleep 0.2 s took %.3f s", t1 - t0);
	t0 = now_monotonic();
	sleep_seconds(5, &cancel);
	ok(now_monotonic() - t0 < 0.1, "a set cancel flag skips the sleep");
	ok(now_wall() > 1.7e9, "wall clock is in this century");
	return done_testing();
}
