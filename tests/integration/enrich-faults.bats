#!/usr/bin/env bats
# enrich-faults.bats: meta-enrich when TMDb, IMDb or the cache fail: circuit breaker, stale answers, degraded items, cache trouble, replayable files.

load helpers
load enrich_fakes

# refused_url: a loopback URL where nothing listens (the port was bound, then freed).
refused_url() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print("http://127.0.0.1:%d" % s.getsockname()[1])'
}

@test "meta-enrich faults: both APIs refusing connections: each counted down once, the run ends within seconds" {
	fake_start --movies 60 --shows 2 --seasons 1 --episodes 5
	ingest in.ndjson
	fake_stop
	TMDB=$(refused_url)
	IMDB=$TMDB
	start=$SECONDS
	rc=0
	enrich -j4 --enrichment-batch-size 20 --cache-dir c <in.ndjson >o 2>e || rc=$?
	took=$((SECONDS - start))
	echo "# 70 items, both APIs refusing: ${took}s, exit $rc" >&3
	# before the breaker: every item tried 4 times with back-off, minutes
	[ "$took" -le 20 ]
	# nothing cached: every item degraded, exit 1 naming both services
	[ "$rc" -eq 1 ]
	grep -q 'error: 70 items degraded: tmdb unreachable (70), imdb unreachable ([0-9]*)' e
	[ "$(grep -c 'tmdb: every attempt failed for a while: counted as down' e)" -eq 1 ]
	[ "$(grep -c 'imdb: every attempt failed for a while: counted as down' e)" -eq 1 ]
	# every item still written, in order, with the end record
	diff <(jq -r 'select(.kind=="plex") | .items[].ratingKey' in.ndjson) \
		<(jq -r 'select(.kind=="points") | .points[].payload.data.plex.rating_key' o)
	[ "$(tail -n 1 o | jq -r .kind)" = end ]
}

@test "meta-enrich faults: a dead TMDb gets a handful of requests, not four per item" {
	fake_start --movies 80 --shows 0 --collections 0
	ingest in.ndjson
	# connections accepted, then closed without an answer
	fake_config '{"tmdb":{"down":true}}'
	enrich -j4 --enrichment-batch-size 10 --cache-dir c <in.ndjson >o 2>e || true
	n=$(fake_stats .tmdb.requests)
	echo "# tmdb requests with the service down: $n (80 items)" >&3
	# five failures in a row over two seconds, plus what the other workers had in flight
	[ "$n" -le 30 ]
	grep -q 'tmdb: every attempt failed for a while' e
	# IMDb worked all along
	[ "$(jq -s '[.[] | select(.kind=="points") | .points[] | select(.payload.data.imdb != null)] | length' o)" -ge 60 ]
	[ "$(grep -c 'imdb: every attempt failed' e)" -eq 0 ]
}

@test "meta-enrich faults: a flaky TMDb (30% of answers 500) is not counted down" {
	fake_start --movies 60 --shows 0 --collections 0
	ingest in.ndjson
	enrich -j4 --enrichment-batch-size 5 --no-imdb --cache-dir c0 <in.ndjson >o0 2>e0
	base=$(jq -s '[.[] | select(.kind=="points") | .points[] | select(.payload.data.tmdb != null)] | length' o0)
	fake_config '{"tmdb":{"fail_rate":0.3,"fail_status":500}}'
	enrich -j4 --enrichment-batch-size 5 --no-imdb --cache-dir c <in.ndjson >o 2>e || true
	[ "$(grep -c 'counted as down' e)" -eq 0 ]
	# retries get nearly everything through: a lookup fails for good with
	# p = 0.3^4 = 0.8%, and which request draws a failure depends on arrival
	# order, so the count varies run to run. In 31 runs here 0 were lost 26
	# times, 1 four times, 2 once (that run failed a bound of 1); more than 3
	# is a real regression.
	got=$(jq -s '[.[] | select(.kind=="points") | .points[] | select(.payload.data.tmdb != null)] | length' o)
	echo "# with TMDb data: $got flaky, $base healthy" >&3
	[ "$got" -ge $((base - 3)) ]
	[ "$(fake_stats '.tmdb.status_counts["500"]')" -ge 5 ]
}

# points_only FILE: the points records of a run (the end record carries run counters).
points_only() {
	jq -c 'select(.kind=="points")' "$1"
}

@test "meta-enrich faults: every cache entry expired and both APIs refusing: points keep their data from the expired entries" {
	fake_start --movies 20 --shows 2 --seasons 2 --episodes 3
	ingest in.ndjson
	enrich -j4 --enrichment-batch-size 6 --cache-dir c <in.ndjson >o1 2>e1
	n=$(jq -s '[.[] | select(.kind=="points") | .points[]] | length' o1)
	[ "$(jq -s '[.[] | select(.kind=="points") | .points[] | select(.payload.data.tmdb != null)] | length' o1)" -ge 20 ]
	[ "$(jq -s '[.[] | select(.kind=="points") | .points[] | select(.payload.data.imdb != null)] | length' o1)" -ge 10 ]
	fake_stop
	# every answer past the 30-day TTL, both services gone
	find c -name '*.json' -exec touch -d '40 days ago' {} +
	TMDB=$(refused_url)
	IMDB=$TMDB
	rc=0
	enrich -j4 --enrichment-batch-size 6 --cache-dir c <in.ndjson >o2 2>e2 || rc=$?
	cmp <(points_only o1) <(points_only o2)
	# served stale is not degraded
	[ "$rc" -eq 0 ]
	[ "$(grep -c 'degraded' o2)" -eq 1 ]	# the end record's counter only
	[ "$(grep -c 'tmdb: answers that cannot be refreshed are taken from expired cache entries' e2)" -eq 1 ]
	[ "$(grep -c 'imdb: answers that cannot be refreshed are taken from expired cache entries' e2)" -eq 1 ]
	summary=$(grep 'summary:' e2)
	echo "# $summary" >&3
	[[ "$summary" == *" stale_served=$n "* ]]
	[ "$(tail -n 1 o2 | jq -r '.stats["meta-enrich"].stale_served')" -eq "$n" ]
}

@test "meta-enrich faults: one movie whose TMDb answer fails (500 after the retries) keeps its expired data" {
	fake_start --movies 6 --shows 0 --collections 0
	ingest in.ndjson
	enrich -j1 --no-imdb --cache-dir c <in.ndjson >o1 2>e1
	id=$(jq -rs '[.[] | select(.kind=="points") | .points[] | select(.payload.data.tmdb != null)][0].payload.data.tmdb.id' o1)
	[ -n "$id" ] && [ "$id" != null ]
	find c -name '*.json' -exec touch -d '40 days ago' {} +
	fake_reset
	fake_config "{\"tmdb\":{\"fail_rate\":1.0,\"fail_status\":500,\"fail_path\":\"/3/movie/$id?\"}}"
	enrich -j1 --no-imdb --cache-dir c <in.ndjson >o2 2>e2 || true
	cmp <(points_only o1) <(points_only o2)
	# the others were refreshed, that one was tried four times and then served stale
	[ "$(fake_stats '.tmdb.status_counts["500"]')" -eq 4 ]
	[ "$(fake_stats '.tmdb.status_counts["200"]')" -ge 4 ]
	grep -q 'summary:.* tmdb_stale_served=1 ' e2
	[ "$(grep -c 'counted as down' e2)" -eq 0 ]
}

@test "meta-enrich faults: TMDb unreachable, nothing cached: points marked degraded [\"tmdb\"], exit 1; a title TMDb does not know is not degraded" {
	fake_start --movies 20 --shows 0 --collections 0
	ingest in.ndjson
	# a healthy run where TMDb does not know one movie: no degraded point, exit 0
	mid=$(fake_library '.movies | to_entries[0].value.tmdb')
	fake_config "{\"tmdb\":{\"missing_ids\":[$mid]}}"
	enrich -j2 --cache-dir c0 <in.ndjson >o0 2>e0
	[ "$(jq -s '[.[] | select(.kind=="points") | .points[] | select(.payload.data.tmdb == null)] | length' o0)" -ge 1 ]
	[ "$(jq -s '[.[] | select(.kind=="points") | .points[] | select(has("degraded"))] | length' o0)" -eq 0 ]
	grep -q 'summary:.* degraded=0 ' e0
	# TMDb gone, IMDb fine, a fresh cache
	TMDB=$(refused_url)
	rc=0
	enrich -j2 --cache-dir c <in.ndjson >o 2>e || rc=$?
	[ "$rc" -eq 1 ]
	n=$(jq -s '[.[] | select(.kind=="points") | .points[]] | length' o)
	[ "$(jq -s '[.[] | select(.kind=="points") | .points[] | select(.degraded == ["tmdb"])] | length' o)" -eq "$n" ]
	[ "$(jq -s '[.[] | select(.kind=="points") | .points[] | select(.payload.data.imdb != null)] | length' o)" -ge 10 ]
	[ "$(tail -n 1 e)" = "meta-enrich: error: $n items degraded: tmdb unreachable ($n); their points are marked \"degraded\" and do not replace stored ones" ]
	grep -q "summary:.* degraded=$n tmdb_degraded=$n imdb_degraded=0 " e
	[ "$(tail -n 1 o | jq -r '.stats["meta-enrich"].degraded')" -eq "$n" ]
	# both services failing: the member lists them sorted
	IMDB=$TMDB
	enrich -j2 --cache-dir c1 <in.ndjson >o1 2>e1 || true
	[ "$(jq -s '[.[] | select(.kind=="points") | .points[] | select(.degraded == ["imdb","tmdb"])] | length' o1)" -ge 10 ]
}

@test "meta-enrich faults: plex-load names meta-enrich and the failed service as the cause" {
	fake_start --movies 8 --shows 0 --collections 0
	unset TMDB_API_KEY_FILE IMDB_QUEUE ENRICHMENT_WORKERS LOG_LEVEL LOG_FORMAT
	rc=0
	PLEX_URL=$FAKE_PLEX PLEX_TOKEN=$FAKE_PLEX_TOKEN timeout 120 "$PLEXPIPE_TOP/scripts/plex-load" \
		--tmdb-url "$(refused_url)" --imdb-url "$FAKE_IMDB" --cache-dir "$BATS_TEST_TMPDIR/c" \
		--imdb-queue "$BATS_TEST_TMPDIR/q.json" --dry-run --dense none >out 2>err || rc=$?
	[ "$rc" -eq 1 ]
	last=$(grep '^plex-load:' err | tail -n 1)
	echo "# $last" >&3
	[[ "$last" == "plex-load: error: failed: meta-enrich exited with status 1 (fatal runtime failure): 8 items degraded: tmdb unreachable (8) (statuses: "* ]]
}

@test "meta-enrich faults: a cache directory it cannot use: exit 2 before reading any input, one line naming the path" {
	fake_start --movies 3 --shows 0 --collections 0
	ingest in.ndjson
	touch plain
	# a plain file in the path; a plain file as the directory; an existing
	# directory where no file can be made, even by root (/proc)
	for dir in plain/cache plain /proc; do
		rc=0
		enrich --cache-dir "$dir" <in.ndjson >o 2>e || rc=$?
		cat e
		[ "$rc" -eq 2 ]
		[ "$(wc -l <e)" -eq 1 ]
		grep -q "^meta-enrich: error: cache directory \"$dir\": " e
		[ ! -s o ]
	done
	# a read-only directory: root writes there anyway, so only as another user
	mkdir ro
	chmod 555 ro
	if [ "$(id -u)" -ne 0 ]; then
		rc=0
		enrich --cache-dir ro <in.ndjson >o 2>e || rc=$?
		[ "$rc" -eq 2 ]
		grep -q '^meta-enrich: error: cache directory "ro": cannot write there: Permission denied' e
	else
		echo "# running as root: the chmod 555 case is left out (root writes there anyway; /proc stands in)" >&3
	fi
	# nothing was asked of the services
	[ "$(fake_stats .tmdb.requests)" -eq 0 ]
	[ "$(fake_stats .imdb.requests)" -eq 0 ]
	# --offline only reads: a cache it cannot write is fine there
	enrich --offline --cache-dir /proc <in.ndjson >o 2>e
	[ "$(tail -n 1 o | jq -r .kind)" = end ]
}

@test "meta-enrich faults: cache writes failing mid-run: one warning, complete points, exit 0" {
	fake_start --movies 12 --shows 2 --seasons 2 --episodes 3
	ingest in.ndjson
	enrich -j4 --enrichment-batch-size 5 --cache-dir c0 <in.ndjson >o0 2>e0
	fake_reset
	# the directory itself is fine, so the run starts; every answer's write then fails
	mkdir c
	touch c/tmdb c/imdb
	rc=0
	enrich -j4 --enrichment-batch-size 5 --cache-dir c <in.ndjson >o 2>e || rc=$?
	[ "$rc" -eq 0 ]
	cmp <(points_only o0) <(points_only o)
	[ "$(grep -c 'cache: cannot write under "c" (Not a directory): going on without caching' e)" -eq 1 ]
	[ "$(grep -c 'warning' e)" -eq 1 ]
	grep -q 'summary:.* cache_writes=0 ' e
	[ "$(jq -s '[.[] | select(.kind=="points") | .points[] | select(.payload.data.imdb != null)] | length' o)" -ge 10 ]
}

@test "meta-enrich faults: a TMDb answer over the 16 MiB cap (17 MiB decoded from a small gzip): one attempt, a clear error, the item degraded" {
	fake_start --movies 6 --shows 0 --collections 0
	ingest in.ndjson
	mid=$(fake_library '.movies | to_entries[0].value.tmdb')
	fake_config "{\"tmdb\":{\"huge_ids\":[$mid]}}"
	rc=0
	enrich -j1 --no-imdb --cache-dir c <in.ndjson >o 2>e || rc=$?
	[ "$rc" -eq 1 ]
	grep -q "tmdb: GET /3/movie/$mid?.*answer over the 16 MiB cap for tmdb answers after 1 attempt" e
	[ "$(fake_stats ".tmdb.by_endpoint[\"GET /3/movie/{n}\"]")" -eq 6 ]
	# only that movie lacks its data; the others are whole
	[ "$(jq -s '[.[] | select(.kind=="points") | .points[] | select(has("degraded"))] | length' o)" -eq 1 ]
	[ "$(jq -s '[.[] | select(.kind=="points") | .points[] | select(.payload.data.tmdb != null)] | length' o)" -eq 5 ]
	[ "$(grep -c 'counted as down' e)" -eq 0 ]
}

# child_of PID: the first worker of meta-enrich PID, or nothing (its
# IMDb look-ahead child, named meta-enrich-la, is no worker).
child_of() {
	local c
	for c in $(pgrep -P "$1"); do
		[ "$(cat "/proc/$c/comm" 2>/dev/null)" = meta-enrich-la ] || { echo "$c"; return; }
	done
}

@test "meta-enrich faults: a chunk of a split plex batch that kills two workers is rejected as a plex record that replays as is" {
	fake_start --movies 6 --shows 0 --collections 0
	ingest in.ndjson
	# slow answers, so the first chunk is still at its worker when it is killed
	fake_config '{"tmdb":{"latency_ms":1500},"imdb":{"latency_ms":1500}}'
	"$PLEXPIPE_BIN/meta-enrich" --tmdb-url "$FAKE_TMDB" --imdb-url "$FAKE_IMDB" \
		--imdb-queue "$BATS_TEST_TMPDIR/queue.json" -j1 --enrichment-batch-size 2 \
		--cache-dir c --reject-file rej.ndjson <in.ndjson >o 2>e &
	me=$!
	killed=0 last=
	for _ in $(seq 100); do
		w=$(child_of "$me")
		if [ -n "$w" ] && [ "$w" != "$last" ]; then
			sleep 0.3
			kill -9 "$w"
			last=$w
			killed=$((killed + 1))
			[ "$killed" -lt 2 ] || break
		fi
		sleep 0.1
	done
	[ "$killed" -eq 2 ]
	rc=0
	wait "$me" || rc=$?
	[ "$rc" -eq 4 ]
	# the reject is a record of this stage; its record a whole plex batch of the first 2 movies
	[ "$(wc -l <rej.ndjson)" -eq 1 ]
	[ "$(jq -r '[.kind, .stage, .error] | join(",")' rej.ndjson)" = "reject,meta-enrich,batch killed two workers" ]
	jq -r .record rej.ndjson >chunk.ndjson
	[ "$(jq -r .kind chunk.ndjson)" = plex ]
	[ "$(jq -c .section chunk.ndjson)" = "$(jq -c 'select(.kind=="plex") | .section' in.ndjson | head -n 1)" ]
	[ "$(jq -c '[.items[].ratingKey]' chunk.ndjson)" = "$(jq -c 'select(.kind=="plex") | [.items[].ratingKey][0:2]' in.ndjson)" ]
	# the other chunks went through
	[ "$(jq -s '[.[] | select(.kind=="points") | .points[]] | length' o)" -eq 4 ]
	fake_reset '{"knobs":true}'
	# the raw record replays, and so does the reject line itself (no end record: 5)
	rc=0
	enrich -j1 --cache-dir c --reject-file rej2.ndjson <chunk.ndjson >p1 2>e1 || rc=$?
	[ "$rc" -eq 5 ]
	rc=0
	enrich -j1 --cache-dir c --reject-file rej3.ndjson <rej.ndjson >p2 2>e2 || rc=$?
	[ "$rc" -eq 5 ]
	[ "$(jq -c '[.points[].payload.data.plex.rating_key]' p1)" = "$(jq -c '[.items[].ratingKey]' chunk.ndjson)" ]
	cmp p1 p2
	[ ! -e rej2.ndjson ] && [ ! -e rej3.ndjson ]
}

@test "meta-enrich faults: an IMDb queue file that cannot be read is moved aside to .bad, never written over" {
	fake_start --movies 3 --shows 0 --collections 0
	ingest in.ndjson
	printf 'not json {\n' >queue.json
	cp queue.json first
	enrich -j1 --cache-dir c <in.ndjson >o 2>e
	grep -q "imdb queue \"$BATS_TEST_TMPDIR/queue.json\" cannot be read as a JSON array of ids: moved aside to \"$BATS_TEST_TMPDIR/queue.json.bad\"" e
	cmp first queue.json.bad
	# a second bad file does not replace the first
	printf '{"tt0000001":1}\n' >queue.json
	cp queue.json second
	enrich -j1 --cache-dir c <in.ndjson >o 2>e
	cmp first queue.json.bad
	cmp second queue.json.bad.1
	# a good queue is read and kept as before
	[ "$(jq -c . queue.json)" = "[]" ]
}
