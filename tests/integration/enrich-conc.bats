#!/usr/bin/env bats
# enrich-conc.bats: meta-enrich's lookups run concurrently in each worker: several requests in flight, output the same for every -j and --max-in-flight.

load helpers
load enrich_fakes

# without_tmdb_ids IN OUT: every third movie and the first show lose their
# tmdb:// Guid, so their lookups chain a /3/find before the details
without_tmdb_ids() {
	jq -c 'def drop: .Guid |= ((. // []) | map(select(.id | startswith("tmdb://") | not)));
		if .kind == "plex" then
			.items |= [to_entries[] | if .value.type == "movie" and .key % 3 == 0
				then .value | drop else .value end]
			| if (.shows // {}) == {} then . else
				.shows |= (to_entries | .[0].value |= drop | from_entries) end
		else . end' "$1" >"$2"
}

@test "meta-enrich conc: output byte-identical for -j1/-j4 x --max-in-flight 1/8, finds and seasons chained" {
	fake_start --movies 40 --shows 3 --seasons 3 --episodes 5
	ingest raw.ndjson
	without_tmdb_ids raw.ndjson in.ndjson
	# the inputs do differ: some lookups go through /3/find
	run cmp -s raw.ndjson in.ndjson
	[ "$status" -ne 0 ]
	# answers come back out of order when several are in flight
	fake_config '{"tmdb":{"latency_ms":15},"imdb":{"latency_ms":25}}'
	for j in 1 4; do
		for m in 1 8; do
			fake_reset
			enrich -j$j --max-in-flight $m --enrichment-batch-size 9 --cache-dir "c$j-$m" \
				<in.ndjson >"o$j-$m" 2>"e$j-$m"
			echo "# -j$j --max-in-flight $m: tmdb $(fake_stats .tmdb.requests) requests" \
				"(peak $(fake_stats .tmdb.peak_concurrency) at once)," \
				"imdb $(fake_stats .imdb.requests) (peak $(fake_stats .imdb.peak_concurrency))" >&3
		done
	done
	cmp o1-1 o1-8
	cmp o1-1 o4-1
	cmp o1-1 o4-8
	# the finds happened and were followed by the details
	[ "$(find c1-8/tmdb/find -name '*.json' | wc -l)" -ge 10 ]
	points=$(jq -s '[.[] | select(.kind=="points") | .points[]] | length' o1-8)
	[ "$points" -eq $((40 + 3 * 3 * 5)) ]
	[ "$(jq -s '[.[] | select(.kind=="points") | .points[] | select(.payload.type=="episode" and .payload.data.tmdb.episode_number != null)] | length' o1-8)" -ge 40 ]
	[ "$(jq -s '[.[] | select(.kind=="points") | .points[] | select(.payload.type=="movie" and .payload.data.tmdb != null)] | length' o1-8)" -ge 30 ]
}

@test "meta-enrich conc: one worker keeps several requests in flight; --max-in-flight 1 keeps one" {
	fake_start --movies 60 --shows 0 --collections 0
	ingest in.ndjson
	fake_config '{"tmdb":{"latency_ms":150},"imdb":{"latency_ms":150}}'
	enrich -j1 --max-in-flight 1 --tmdb-rps 0 --enrichment-batch-size 30 --cache-dir c1 <in.ndjson >o1 2>e1
	[ "$(fake_stats .tmdb.peak_concurrency)" -eq 1 ]
	# IMDb: the worker's one and the look-ahead child's one
	[ "$(fake_stats .imdb.peak_concurrency)" -le 2 ]
	fake_reset
	start=$(date +%s%3N)
	enrich -j1 --max-in-flight 6 --tmdb-rps 0 --enrichment-batch-size 30 --cache-dir c6 <in.ndjson >o6 2>e6
	took=$(($(date +%s%3N) - start))
	peak=$(fake_stats .tmdb.peak_concurrency)
	echo "# one worker, --max-in-flight 6: tmdb peak $peak in flight, $(fake_stats .tmdb.requests) requests in ${took} ms" >&3
	# the first answer vouches for the key, then the slots fill; never more than the cap
	[ "$peak" -ge 4 ]
	[ "$peak" -le 6 ]
	[ "$(fake_stats .imdb.peak_concurrency)" -le 6 ]
	# 60 movies one at a time at 150 ms would be 9 s of TMDb alone
	[ "$took" -lt $(($(tscale 6) * 1000)) ]
	cmp o1 o6
}

@test "meta-enrich conc: TMDb and IMDb lookups of a batch overlap" {
	fake_start --movies 20 --shows 0 --collections 0
	ingest in.ndjson
	# one request per service at a time: 20 TMDb calls at 0.3 s, 4 IMDb
	# batchGets at 1.2 s; one service after the other is their sum
	fake_config '{"tmdb":{"latency_ms":300},"imdb":{"latency_ms":1200}}'
	start=$(date +%s%3N)
	enrich -j1 --max-in-flight 1 --tmdb-rps 0 --enrichment-batch-size 20 --cache-dir c <in.ndjson >o 2>e
	took=$(($(date +%s%3N) - start))
	t=$(fake_stats .tmdb.requests)
	i=$(fake_stats .imdb.requests)
	serial=$((t * 300 + i * 1200))
	echo "# one worker, one request per service at a time: tmdb $t x 0.3 s + imdb $i x 1.2 s = $serial ms in series; took $took ms" >&3
	[ "$i" -ge 3 ]
	# overlapped: about the longer of the two, well under their sum
	[ "$took" -lt $((serial * 8 / 10)) ]
}

@test "meta-enrich conc: the IMDb look-ahead fetches the ids of items read ahead: IMDb done in the first half of TMDb's time, each id once, counted" {
	fake_start --movies 60 --shows 0 --collections 0
	ingest in.ndjson
	ids=$(jq -r 'select(.kind=="plex") | .items[].Guid[]?.id | select(startswith("imdb://"))' in.ndjson | sort -u | wc -l)
	# one worker, TMDb slow: 3 jobs of 20, ~2 s of TMDb each; IMDb quick
	fake_config '{"tmdb":{"latency_ms":200},"imdb":{"latency_ms":20}}'
	enrich -j1 --max-in-flight 2 --tmdb-rps 0 --enrichment-batch-size 20 --cache-dir c <in.ndjson >o 2>e
	curl -sS -f --max-time 10 "$FAKE_CONTROL/timeline" >tl.json
	# arrivals: TMDb's first and last, IMDb's last
	read -r t0 t1 i1 < <(jq -r '[(.tmdb | map(.[0]) | min), (.tmdb | map(.[0]) | max),
		(.imdb | map(.[0]) | max)] | @tsv' tl.json)
	echo "# $ids IMDb ids: $(fake_stats .imdb.requests) IMDb requests, the last $(jq -n "$i1 - $t0 | . * 100 | round / 100") s after TMDb's first; TMDb's last at $(jq -n "$t1 - $t0 | . * 100 | round / 100") s" >&3
	# without it the third job's ids are asked when that job starts, past the middle
	jq -e -n "$i1 < ($t0 + $t1) / 2" >/dev/null
	# in groups of 5, each id once (a group the worker sends on its own may be short)
	[ "$(fake_stats .imdb.requests)" -le $(((ids + 4) / 5 + 3)) ]
	# the look-ahead's requests are in the summary
	grep -q "imdb_requests=$(fake_stats .imdb.requests) " e
	[ "$(jq -s '[.[] | select(.kind=="points") | .points[] | select(.payload.data.imdb != null)] | length' o)" -ge 50 ]
}

@test "meta-enrich conc: --max-in-flight is checked like the other numbers" {
	run "$PLEXPIPE_BIN/meta-enrich" --max-in-flight 0 </dev/null
	[ "$status" -eq 2 ]
	[[ "$output" == *"max-in-flight"* ]]
	ENRICH_MAX_IN_FLIGHT=x run "$PLEXPIPE_BIN/meta-enrich" </dev/null
	[ "$status" -eq 2 ]
	[[ "$output" == *"ENRICH_MAX_IN_FLIGHT"* ]]
}
