#!/usr/bin/env bats
# bench.bats: bench/run --quick runs the issue 11 load scenarios and its JSON holds every figure (figures only: no timing thresholds).

load helpers

setup_file() {
	export BENCH_JSON="$BATS_FILE_TMPDIR/results.json"
	# one quick run serves every test of the file
	timeout 600 "$PLEXPIPE_TOP/bench/run" --quick >"$BATS_FILE_TMPDIR/out" 2>&1
	echo $? >"$BATS_FILE_TMPDIR/status"
}

setup() {
	J=$BENCH_JSON
	[ -s "$J" ] || { cat "$BATS_FILE_TMPDIR/out"; false; }
}

num() { # num JQ-PATH: the value at that path is a number >= 0
	run jq -e "($1 | type) == \"number\" and $1 >= 0" "$J"
	[ "$status" -eq 0 ] || { echo "not a number >= 0: $1 = $(jq -c "$1" "$J")"; false; }
}

@test "bench --quick exits 0, prints the table against the targets and writes the JSON" {
	cat "$BATS_FILE_TMPDIR/out"
	[ "$(cat "$BATS_FILE_TMPDIR/status")" -eq 0 ]
	for row in "cold wall / floor at 30 ms" "cold wall / floor at 150 ms" "429s at 30 ms" \
		"peak RSS qdrant-upsert" "peak RSS meta-enrich workers" "-j1 / -j4 / -j8 at 100 ms" \
		"warm run requests" "CPU s per 1,000 items" "load average"; do
		grep -qF -- "$row" "$BATS_FILE_TMPDIR/out" || { echo "no row: $row"; false; }
	done
	[ "$(jq .quick "$J")" = true ]
	num .nproc
	num '.loadavg_start[0]'
	num '.loadavg_end[0]'
}

@test "cold at 30 and 150 ms: wall, floor = max over APIs of answered requests / limit, ratio, 429s" {
	[ "$(jq -c '[.cold[].latency_ms]' "$J")" = "[30,150]" ]
	for i in 0 1; do
		c=".cold[$i]"
		for f in wall_s floor_s ratio pct_429 items requests.tmdb requests.imdb \
			status_429.tmdb status_429.imdb limits_rps.tmdb limits_rps.imdb 'loadavg[0][0]'; do
			num "$c.$f"
		done
		[ "$(jq "$c.requests.tmdb > 0 and $c.requests.imdb > 0 and $c.items > 0" "$J")" = true ]
		# the floor and the ratio are what they say, from the counted requests
		run jq -e "$c as \$c | [\"tmdb\",\"imdb\"] | map((\$c.requests[.] - \$c.status_429[.]) / \$c.limits_rps[.])
			| max as \$f | ((\$f - \$c.floor_s) | fabs) < 0.01
			and ((\$c.wall_s / \$c.floor_s - \$c.ratio) | fabs) < 0.01" "$J"
		[ "$status" -eq 0 ]
		for s in plex-ingest meta-enrich "meta-enrich workers" qdrant-upsert; do
			num "$c.peak_rss_kb[\"$s\"]"
		done
	done
}

@test "limits: cold with no limit set (the client finds the services' limits from 429s): wall, floor, ratio, 429s" {
	c=.limits
	for f in wall_s floor_s ratio pct_429 items requests.tmdb requests.imdb \
		status_429.tmdb status_429.imdb limits_rps.tmdb limits_rps.imdb 'loadavg[0][0]'; do
		num "$c.$f"
	done
	# no rate given to meta-enrich, and every stage finished
	[ "$(jq -c "$c.enrich_args" "$J")" = '["--tmdb-rps","0"]' ]
	[ "$(jq -c "$c.exit" "$J")" = '{"meta-enrich":0,"plex-ingest":0,"qdrant-upsert":0}' ]
	run jq -e "$c as \$c | ((\$c.status_429.tmdb + \$c.status_429.imdb) * 100 / (\$c.requests.tmdb + \$c.requests.imdb)
		- \$c.pct_429 | fabs) < 0.01" "$J"
	[ "$status" -eq 0 ]
	grep -qF -- "no limit set: 429s" "$BATS_FILE_TMPDIR/out"
}

@test "memory: peak RSS of every process (meta-enrich parent, workers, tree) at two sizes, and the ratio" {
	[ "$(jq '.memory.large.items > .memory.small.items and .memory.small.items > 0' "$J")" = true ]
	for size in small large; do
		for s in plex-ingest meta-enrich "meta-enrich workers" "meta-enrich tree" qdrant-upsert; do
			num ".memory.$size.peak_rss_kb[\"$s\"]"
			[ "$(jq ".memory.$size.peak_rss_kb[\"$s\"] > 0" "$J")" = true ]
		done
		num ".memory.$size.qdrant_latency_ms"
		# every worker was seen
		[ "$(jq ".memory.$size.worker_rss_kb | length >= 1" "$J")" = true ]
		[ "$(jq -c ".memory.$size.exit" "$J")" = '{"meta-enrich":0,"plex-ingest":0,"qdrant-upsert":0}' ]
	done
	for s in plex-ingest meta-enrich "meta-enrich workers" qdrant-upsert; do
		num ".memory.rss_ratio_large_small[\"$s\"]"
	done
}

@test "-j1/-j4/-j8 at 100 ms without limits: walls, speed-up, same output, real-size points" {
	[ "$(jq -c '[.jobs.runs[].jobs]' "$J")" = "[1,4,8]" ]
	for i in 0 1 2; do
		num ".jobs.runs[$i].wall_s"
		[ "$(jq ".jobs.runs[$i].exit" "$J")" = 0 ]
	done
	num .jobs.speedup_j4
	num .jobs.speedup_j8
	[ "$(jq .jobs.identical_output "$J")" = true ]
	# the fake serves real-size metadata: points of tens of KB, not a few
	[ "$(jq '.jobs.avg_point_bytes > 15000' "$J")" = true ]
}

@test "warm run: TMDb, IMDb, embeddings and upserts counted, over the same items as the cold run" {
	for f in tmdb imdb embed upserts; do
		num ".warm.requests.$f"
	done
	[ "$(jq '.warm.items == .memory.small.items' "$J")" = true ]
	num .warm.wall_s
}

@test "CPU seconds per 1,000 items for each stage" {
	for s in plex-ingest meta-enrich qdrant-upsert; do
		num ".cpu_s_per_1000_items[\"$s\"]"
		num ".memory.small.cpu_s_per_1000_items[\"$s\"]"
	done
}
