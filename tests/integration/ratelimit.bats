#!/usr/bin/env bats
# ratelimit.bats: meta-enrich with no rate set against fake TMDb/IMDb that enforce a hidden limit: few 429s, output complete.

load helpers
load enrich_fakes

@test "ratelimit: no rate set, TMDb refusing over 20/s and IMDb over 4/s (Retry-After 1): under 2% 429s, every item enriched" {
	movies=400
	fake_start --movies "$movies" --shows 0 --collections 0
	timeout 60 "$PLEXPIPE_BIN/plex-ingest" --plex-url "$FAKE_PLEX" --plex-token "$FAKE_PLEX_TOKEN" \
		>in.ndjson 2>ingest.err
	fake_config '{"tmdb":{"rps_limit":20,"retry_after":1},"imdb":{"rps_limit":4,"retry_after":1}}'
	rc=0
	timeout 180 "$PLEXPIPE_BIN/meta-enrich" -j4 --enrichment-batch-size 10 --tmdb-rps 0 \
		--tmdb-url "$FAKE_TMDB" --imdb-url "$FAKE_IMDB" --imdb-queue queue.json --cache-dir c \
		<in.ndjson >out 2>err || rc=$?
	t=$(fake_stats .tmdb.requests) t429=$(fake_stats .tmdb.status_429)
	i=$(fake_stats .imdb.requests) i429=$(fake_stats .imdb.status_429)
	echo "# exit $rc; tmdb $t429 of $t requests were 429s (peak $(fake_stats .tmdb.peak_rps)/s)," \
		"imdb $i429 of $i (peak $(fake_stats .imdb.peak_rps)/s)" >&3
	[ "$rc" -eq 0 ] || { cat err; false; }
	# each item once, none degraded: the 429s were retried, not given up on
	[ "$(jq -s '[.[] | select(.kind=="points") | .points[]] | length' out)" -eq "$movies" ]
	[ "$(jq -s '[.[] | select(.kind=="points") | .points[] | select(has("degraded"))] | length' out)" -eq 0 ]
	[ "$t" -ge "$movies" ]
	[ "$i" -gt 0 ]
	# a bucket that only pauses on Retry-After (main before AIMD) had 13% 429s here (38% at IMDb), 20 items degraded
	[ $(( (t429 + i429) * 100 )) -lt $(( (t + i) * 2 )) ]
	[ $(( t429 * 100 )) -lt $(( t * 2 )) ]
}
