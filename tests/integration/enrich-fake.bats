#!/usr/bin/env bats
# enrich-fake.bats: meta-enrich against the fake TMDb and IMDb: request counts, warm cache, rate limit, worker death, poison ids.

load helpers
load enrich_fakes

@test "meta-enrich fake: recorded 74 movies + 100 episodes: TMDb <= movies + shows, IMDb <= ids/5 per batch; warm run makes no request" {
	skip_without_shared
	fake_start --movies 1 --shows 1
	timeout 60 "$PLEXPIPE_BIN/plex-ingest" --sample-dir "$SHARED/fixtures/mcp-plex-sample-data" >raw.ndjson 2>/dev/null
	# a real Plex gives each show its TMDb series id in Guid; the recorded episodes lack their shows, so number them
	jq -c 'if .kind=="plex" then .shows |= (to_entries | to_entries
		| map(.value.value += {Guid:[{id:("tmdb://" + (970001 + .key | tostring))}]} | .value) | from_entries) else . end' \
		raw.ndjson >in.ndjson
	movies=$(jq -s '[.[] | select(.kind=="plex") | .items[] | select(.type=="movie")] | length' in.ndjson)
	episodes=$(jq -s '[.[] | select(.kind=="plex") | .items[] | select(.type=="episode")] | length' in.ndjson)
	shows=$(jq -s '[.[] | select(.kind=="plex") | .items[] | select(.type=="episode") | .grandparentRatingKey] | unique | length' in.ndjson)
	[ "$movies" -ge 74 ] && [ "$shows" -ge 6 ]
	# IMDb bound: ceil(ids/5) within each batch (batches are enriched independently)
	imdb_bound=$(jq -s '[.[] | select(.kind=="plex") | [.items[] | (.Guid // [])[] | .id | select(startswith("imdb://"))] | unique | length
		| (. + 4) / 5 | floor] | add' in.ndjson)
	ids=$(jq -s '[.[] | select(.kind=="plex") | .items[] | (.Guid // [])[] | .id | select(startswith("imdb://"))] | unique | length' in.ndjson)
	enrich -j4 --enrichment-batch-size 200 --cache-dir cache <in.ndjson >out1 2>err1
	tmdb=$(fake_stats .tmdb.requests)
	imdb=$(fake_stats .imdb.requests)
	echo "# cold: tmdb=$tmdb (bound $((movies + shows))) imdb=$imdb (bound $imdb_bound, ids $ids)" >&3
	[ "$tmdb" -le $((movies + shows)) ]
	[ "$imdb" -le "$imdb_bound" ]
	[ "$imdb" -le $(( (ids + 4) / 5 + 1 )) ]
	[ "$(jq -s '[.[] | select(.kind=="points") | .points[]] | length' out1)" -eq $((movies + episodes)) ]
	fake_reset
	enrich -j4 --enrichment-batch-size 200 --cache-dir cache <in.ndjson >out2 2>err2
	[ "$(fake_stats .tmdb.requests)" -eq 0 ]
	[ "$(fake_stats .imdb.requests)" -eq 0 ]
	cmp out1 out2
}

@test "meta-enrich fake: -j1 and -j8 give byte-identical output; episodes get season data" {
	fake_start --movies 40 --shows 3 --seasons 3 --episodes 5
	ingest in.ndjson
	enrich -j1 --enrichment-batch-size 7 --cache-dir c1 <in.ndjson >o1 2>e1
	fake_reset
	enrich -j8 --enrichment-batch-size 7 --cache-dir c8 <in.ndjson >o8 2>e8
	cmp o1 o8
	# most episodes resolved to their own TMDb episode object
	[ "$(jq -s '[.[] | select(.kind=="points") | .points[] | select(.payload.type=="episode" and .payload.data.tmdb.episode_number != null)] | length' o1)" -ge 40 ]
}

@test "meta-enrich fake: --tmdb-rps 20 with -j4: the fake never sees more than 22 requests in a second" {
	fake_start --movies 120 --shows 0
	ingest in.ndjson
	enrich -j4 --enrichment-batch-size 10 --tmdb-rps 20 --no-imdb --cache-dir c <in.ndjson >o 2>e
	peak=$(fake_stats .tmdb.peak_rps)
	n=$(fake_stats .tmdb.requests)
	echo "# tmdb requests $n, peak_rps $peak" >&3
	[ "$n" -ge 100 ]
	# the bucket allows rate + burst (21) in any second of token times; the
	# fake counts arrivals, and a process descheduled between a token and
	# its send (8 requests in flight per worker, a loaded machine) can move
	# one request into the next second: one more, never two
	[ "$peak" -le 22 ]
}

@test "meta-enrich fake: kill -9 of a worker mid-run: output complete and in order, exit 0" {
	fake_start --movies 120 --shows 0
	fake_config '{"tmdb":{"latency_ms":80},"imdb":{"latency_ms":80}}'
	ingest in.ndjson
	enrich -j3 --enrichment-batch-size 4 --cache-dir c <in.ndjson >o 2>e &
	pid=$!
	sleep 1
	# $pid runs timeout(1), which runs meta-enrich (or $pid is timeout
	# itself): the victim is a child of meta-enrich, a worker (never touch
	# other processes). Found by parentage, not by name (under make
	# check-valgrind every process is named memcheck-amd64-), and waited
	# for, as workers may come late.
	victim=""
	end=$((SECONDS + $(tscale 5)))
	while [ -z "$victim" ] && [ "$SECONDS" -le "$end" ]; do
		me=""
		for c in $(pgrep -P "$pid"); do
			if [ "$(ps -o comm= -p "$c")" = timeout ]; then
				me=$(pgrep -P "$c" | head -n 1)
			else
				me=$c
			fi
		done
		[ -z "$me" ] || victim=$(pgrep -P "$me" | head -n 1)
		[ -n "$victim" ] || sleep 0.2
	done
	[ -n "$victim" ]
	kill -9 "$victim"
	wait "$pid"
	diff <(jq -r 'select(.kind=="plex") | .items[].ratingKey' in.ndjson) \
		<(jq -r 'select(.kind=="points") | .points[].payload.data.plex.rating_key' o)
	[ "$(tail -n 1 o | jq -r .kind)" = end ]
	grep -q "killed by signal 9" e
}

@test "meta-enrich fake: a poison IMDb id in a batch of 5: the other 4 enriched, the bad one in the retry queue" {
	fake_start --movies 5 --shows 0 --collections 0
	ingest in.ndjson
	bad=$(jq -rs '[.[] | select(.kind=="plex") | .items[] | .Guid[]?.id | select(startswith("imdb://"))][0] | sub("imdb://";"")' in.ndjson)
	# baseline without the poison: which titles the fake knows
	enrich -j1 --cache-dir c0 <in.ndjson >o0 2>e0
	base=$(jq -s '[.[] | select(.kind=="points") | .points[] | select(.payload.data.imdb != null)] | length' o0)
	[ "$base" -ge 4 ]
	fake_reset
	fake_config "{\"imdb\":{\"poison_ids\":[\"$bad\"]}}"
	enrich -j1 --cache-dir c <in.ndjson >o 2>e
	jq -c 'select(.kind=="points") | .points[] | [(.payload.data.plex.guids | map(.id) | map(select(startswith("imdb://")))[0]), (.payload.data.imdb != null)]' o >got
	[ "$(grep -c ',true]' got)" -eq $((base - 1)) ]
	grep -q "\"imdb://$bad\",false" got
	[ "$(jq -c . queue.json)" = "[\"$bad\"]" ]
	# one batch of 5, then halves until the bad id is alone: 1 + 2 + 2 + ... stays small
	[ "$(fake_stats .imdb.requests)" -le 7 ]
	[ ! -e "c/imdb/$bad.json" ]
	# next start: the queue is retried first; the id is still refused, so it stays
	fake_reset
	enrich -j1 --cache-dir c </dev/null >/dev/null 2>e2 || true
	[ "$(fake_stats .imdb.requests)" -eq 1 ]
	[ "$(jq -c . queue.json)" = "[\"$bad\"]" ]
}

@test "meta-enrich fake: IMDb 429 after the retries: ids queued; the next run retries them first and empties the queue" {
	fake_start --movies 5 --shows 0 --collections 0
	ingest in.ndjson
	fake_config '{"imdb":{"fail_rate":1.0,"fail_status":429,"retry_after":1}}'
	rc=0
	enrich -j1 --imdb-max-retries 1 --imdb-backoff 0.1 --cache-dir c <in.ndjson >o 2>e || rc=$?
	# nothing cached: the five items are degraded, exit 1 naming IMDb
	[ "$rc" -eq 1 ]
	grep -q 'error: 5 items degraded: imdb unreachable (5)' e
	[ "$(jq length queue.json)" -eq 5 ]
	[ "$(fake_stats .imdb.status_429)" -ge 2 ]
	fake_reset '{"knobs":true}'
	enrich -j1 --cache-dir c </dev/null >/dev/null 2>e2 || true
	[ "$(fake_stats .imdb.requests)" -eq 1 ]
	[ "$(jq length queue.json)" -eq 0 ]
	[ "$(find c/imdb -name "*.json" | wc -l)" -eq 5 ]
}

@test "meta-enrich fake: a refused TMDb key stops the run at once with exit 2; the key is never logged" {
	fake_start --movies 30 --shows 0
	ingest in.ndjson
	TMDB_API_KEY=ffffffffffffffffffffffffffffffff run enrich -j2 --cache-dir c <in.ndjson
	[ "$status" -eq 2 ]
	[[ "$output" == *"401"* ]]
	[[ "$output" != *"ffffffffffffffffffffffffffffffff"* ]]
	[ "$(fake_stats .tmdb.requests)" -le 4 ]
}

@test "meta-enrich fake: a Bearer token (not 32 hex) goes in the Authorization header, not the URL" {
	fake_start --movies 3 --shows 0 --tmdb-key not-a-v3-key-but-a-read-token
	ingest in.ndjson
	TMDB_API_KEY=not-a-v3-key-but-a-read-token enrich -j1 --no-imdb --cache-dir c <in.ndjson >o 2>e
	[ "$(fake_stats .tmdb.token_in_url)" -eq 0 ]
	[ "$(fake_stats '.tmdb.status_counts["200"]')" -ge 3 ]
}

@test "meta-enrich fake: SIGTERM: nothing more is read, batches at workers are finished and written whole, exit 143" {
	fake_start --movies 200 --shows 0 --collections 0
	ingest in.ndjson
	fake_config '{"tmdb":{"latency_ms":150},"imdb":{"latency_ms":150}}'
	jq -c 'select(.kind=="plex") | .items[]' in.ndjson >bare.ndjson
	# timeout (not a shell function) is the background job: it passes the signal on
	timeout 120 "$PLEXPIPE_BIN/meta-enrich" --tmdb-url "$FAKE_TMDB" -j2 \
		--enrichment-batch-size 10 --cache-dir c --no-imdb \
		--imdb-queue "$BATS_TEST_TMPDIR/queue.json" <bare.ndjson >o 2>e &
	pid=$!
	# wait for the first batch out, then stop it while two more are at workers
	for _ in $(seq 100); do
		[ -s o ] && break
		sleep 0.1
	done
	[ -s o ]
	kill -TERM "$pid"
	start=$SECONDS
	rc=0
	wait "$pid" || rc=$?
	[ "$rc" -eq 143 ]
	[ $((SECONDS - start)) -le 12 ]
	grep -q "stopping: finishing" e
	# every line whole, batches in input order from 0 with no gap, each of 10 points
	jq -e . o >/dev/null
	[ "$(jq -s '[.[].seq] == [range(0; length)]' o)" = true ]
	[ "$(jq -s 'map(.points | length) | all(. == 10)' o)" = true ]
	# a batch started before the signal was written, not dropped: more than the first
	[ "$(wc -l <o)" -ge 2 ]
	# no end record: the run was stopped
	[ "$(jq -s 'map(select(.kind == "end")) | length' o)" -eq 0 ]
}

@test "meta-enrich fake: SIGTERM: busy workers start no new lookup, their batches are written at once, degraded, exit 143" {
	fake_start --movies 60 --shows 0 --collections 0
	ingest in.ndjson
	# a batch of 20 takes 10 s or more of lookups: longer than the stop grace
	fake_config '{"tmdb":{"latency_ms":500}}'
	jq -c 'select(.kind=="plex") | .items[]' in.ndjson >bare.ndjson
	timeout 120 "$PLEXPIPE_BIN/meta-enrich" --tmdb-url "$FAKE_TMDB" -j2 \
		--enrichment-batch-size 20 --cache-dir c --no-imdb \
		--imdb-queue "$BATS_TEST_TMPDIR/queue.json" <bare.ndjson >o 2>e &
	pid=$!
	# both workers are mid-batch once a few lookups were answered
	for _ in $(seq 100); do
		[ "$(fake_stats .tmdb.requests)" -ge 4 ] && break
		sleep 0.1
	done
	[ "$(fake_stats .tmdb.requests)" -ge 4 ]
	[ ! -s o ]
	kill -TERM "$pid"
	start=$SECONDS
	rc=0
	wait "$pid" || rc=$?
	[ "$rc" -eq 143 ]
	# the old way waited out the 10 s grace, then killed the workers and lost both batches
	[ $((SECONDS - start)) -le "$(tscale 4)" ]
	# both batches at workers written whole and in order; the items not looked up are degraded
	jq -e . o >/dev/null
	[ "$(jq -s '[.[].seq]' o | jq -c .)" = "[0,1]" ]
	[ "$(jq -s 'map(.points | length) | all(. == 20)' o)" = true ]
	[ "$(jq -s '[.[].points[] | select(.degraded == ["tmdb"])] | length' o)" -gt 0 ]
	[ "$(fake_stats .tmdb.requests)" -lt 40 ]
}
