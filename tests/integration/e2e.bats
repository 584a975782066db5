#!/usr/bin/env bats
# e2e.bats: the whole pipeline (scripts/plex-load and the three stages) against the fake Plex, TMDb, IMDb, Qdrant and embeddings.

load helpers

setup() {
	TOP=$PLEXPIPE_TOP
	LOAD="$TOP/scripts/plex-load"
	T=$BATS_TEST_TMPDIR
	need_stages
	unset_pipeline_env
}

teardown() {
	if [ -n "${LOADPID:-}" ]; then
		kill -KILL "$LOADPID" 2>/dev/null || true
	fi
	fake_stop
}

# Environment and options that point every stage at the fakes, with all state in $T.
use_fakes() {
	export_fake_env
	ENRICH_OPTS=(--tmdb-url "$FAKE_TMDB" --imdb-url "$FAKE_IMDB" --tmdb-rps 1000
	    --cache-dir "$T/cache" --imdb-queue "$T/imdb_queue.json")
	UPSERT_OPTS=(--dead-letter "$T/dead.ndjson")
}

# pl ARGS...: plex-load against the fakes, bounded; $status, stdout in $T/out, stderr in $T/err
pl() {
	status=0
	timeout "$(tscale 300)" "$LOAD" "${ENRICH_OPTS[@]}" "${UPSERT_OPTS[@]}" "$@" >"$T/out" 2>"$T/err" || status=$?
	if [ "$status" -ne 0 ] && [ -n "${E2E_DEBUG:-}" ]; then sed 's/^/# /' "$T/err" >&3; fi
}

last_line() { grep '^plex-load:' "$T/err" | tail -n 1; }

# Every point in the fake Qdrant as {id, payload, vector} (sorted keys), one per line, sorted.
# FIELDS: jq filter applied to each point (default: id and payload without content_hash).
qdrant_dump() {
	local filter=${1:-'{id, payload: (.payload | del(.content_hash))}'} offset=null page
	while :; do
		page=$(curl -sS -f --max-time 30 -X POST -H 'Content-Type: application/json' \
		    --data-binary "{\"limit\":1000,\"offset\":$offset,\"with_payload\":true,\"with_vector\":true}" \
		    "$FAKE_QDRANT/collections/media-items/points/scroll")
		jq -c ".result.points[] | $filter" <<<"$page"
		offset=$(jq -c '.result.next_page_offset' <<<"$page")
		[ "$offset" != null ] || break
	done | jq -S -c . | sort
}

# The points meta-enrich wrote in a recorded points.ndjson, as qdrant_dump prints them.
recorded_points() {
	jq -c 'select(.kind == "points") | .points[] | {id, payload}' "$1" | jq -S -c . | sort
}

qdrant_count() {
	curl -sS -f --max-time 30 -X POST -H 'Content-Type: application/json' --data-binary '{"exact":true}' \
	    "$FAKE_QDRANT/collections/media-items/points/count" | jq -r '.result.count'
}

landed() {	# landed N: at least N points in Qdrant (false while there is no collection)
	local n
	n=$(qdrant_count 2>/dev/null) || true
	[[ "$n" =~ ^[0-9]+$ ]] && [ "$n" -ge "$1" ]
}

# The movie and episode rating keys the fake Plex serves, sorted.
library_keys() {
	fake_library '(.metadata_keys // empty)[], (.sections[] | (.movies // [])[], (.episodes // [])[])' |
	    sort -u
}

# Points carry data.plex.rating_key; the sorted list of them in Qdrant.
qdrant_keys() { qdrant_dump '.payload.data.plex.rating_key' | jq -r . | sort; }

@test "sample library through the fakes: every movie and episode becomes a point, payloads as meta-enrich wrote them" {
	fake_start --library-dir "$TOP/sample/plex"
	use_fakes
	cp -r "$TOP/sample/cache" "$T/cache"
	pl --offline --record "$T/rec"
	[ "$status" -eq 0 ]
	[[ "$(last_line)" == *"every stage succeeded"* ]]
	# the sample has 6 movies and 7 episodes; shows and collections are not points
	expected=$(jq -r '.MediaContainer.Metadata[] | select(.type == "movie" or .type == "episode") | .ratingKey' \
	    "$TOP"/sample/plex/section-*.json | sort)
	[ "$(wc -l <<<"$expected")" -eq 13 ]
	[ "$(qdrant_keys)" = "$expected" ]
	[ "$(recorded_points "$T/rec/points.ndjson")" = "$(qdrant_dump)" ]
	# nothing left in the repository's sample cache by the run
	[ -z "$(git -C "$TOP" status --porcelain -- sample)" ]
}

@test "scaled library of 2,000 items: all become points, payloads intact, exit 0" {
	fake_start --movies 1000 --collections 20 --shows 20 --seasons 5 --episodes 10
	use_fakes
	start=$SECONDS
	pl -j4 --record "$T/rec"
	echo "# 2000 items cold: $((SECONDS - start)) s" >&3
	[ "$status" -eq 0 ]
	[ "$(library_keys | wc -l)" -eq 2000 ]
	[ "$(qdrant_keys)" = "$(library_keys)" ]
	[ "$(qdrant_count)" -eq 2000 ]
	[ "$(recorded_points "$T/rec/points.ndjson")" = "$(qdrant_dump)" ]
	[ ! -s "$T/dead.ndjson" ]
	# a clean run: no stage process crashed on the way (meta-enrich replaces dead workers)
	crashes=$(grep 'killed by signal' "$T/err" || true)
	if [ -n "$crashes" ]; then
		mapfile -t crash_lines <<<"$crashes"
		printf '# %s\n' "${crash_lines[@]}" >&3
		false
	fi
}

@test "Plex 500 mid-listing: plex-ingest is the root cause, exit 1, no cleanup downstream" {
	fake_start --movies 300 --shows 2 --seasons 1 --episodes 3
	use_fakes
	fake_config '{"plex":{"fail_after":1,"fail_status":500}}'
	pl --plex-chunk-size 50 --retries 1
	[ "$status" -eq 1 ]
	[[ "$(last_line)" == *"failed: plex-ingest exited with status 1"* ]]
	[[ "$(last_line)" == *"qdrant-upsert 5"* ]]
}

@test "TMDb 401: meta-enrich is the root cause and named" {
	fake_start --movies 20 --shows 1 --seasons 1 --episodes 2
	use_fakes
	export TMDB_API_KEY=ffffffffffffffffffffffffffffffff
	pl
	[ "$status" -eq 2 ]	# a refused key is a configuration error
	[[ "$(last_line)" == *"failed: meta-enrich exited with status 2"* ]]
	grep -q '^meta-enrich: .*401' "$T/err" || grep -qi '^meta-enrich: .*tmdb' "$T/err"
}

@test "Qdrant 401: qdrant-upsert is the root cause, exit 2" {
	fake_start --movies 20 --shows 1 --seasons 1 --episodes 2 --qdrant-key right-key
	use_fakes
	export QDRANT_API_KEY=wrong-key
	pl
	[ "$status" -eq 2 ]
	[[ "$(last_line)" == *"failed: qdrant-upsert exited with status 2"* ]]
	if grep -q 'wrong-key' "$T/err"; then false; fi
}

# Wrappers that record each stage's pid before becoming it.
pid_wrappers() {
	local s
	mkdir -p "$T/bin"
	for s in plex-ingest meta-enrich qdrant-upsert; do
		# not plex-load's --list-options probe: that pid would be gone (or killed) before the stage runs
		printf '#!/bin/bash\n[ "$*" = --list-options ] || echo $$ >"%s/%s.pid"\nexec "%s/%s" "$@"\n' \
		    "$T" "$s" "$PLEXPIPE_BIN" "$s" >"$T/bin/$s"
		chmod +x "$T/bin/$s"
	done
}

wait_file() {	# wait_file SECONDS FILE
	local end=$((SECONDS + $1))
	until [ -s "$2" ]; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.1
	done
}

@test "a stage killed by a signal: its 128+N and name are reported" {
	fake_start --movies 400 --shows 2 --seasons 1 --episodes 3
	use_fakes
	fake_config '{"tmdb":{"latency_ms":30}}'
	pid_wrappers
	PLEXPIPE_BIN="$T/bin" timeout 120 "$LOAD" "${ENRICH_OPTS[@]}" "${UPSERT_OPTS[@]}" -j2 >"$T/out" 2>"$T/err" &
	LOADPID=$!
	wait_file 20 "$T/meta-enrich.pid"
	sleep 1
	kill -KILL "$(cat "$T/meta-enrich.pid")"
	status=0
	wait "$LOADPID" || status=$?
	[ "$status" -eq 137 ]
	[[ "$(last_line)" == *"failed: meta-enrich exited with status 137 (killed by SIGKILL)"* ]]
}

@test "record and replay: each stage alone on the recorded files gives the same collection" {
	fake_start --movies 60 --collections 3 --shows 3 --seasons 2 --episodes 3
	use_fakes
	pl --record "$T/rec"
	[ "$status" -eq 0 ]
	full='{id, payload: (.payload | del(.content_hash)), vector}'
	qdrant_dump "$full" >"$T/collection.1"
	[ "$(wc -l <"$T/collection.1")" -eq 78 ]

	# qdrant-upsert alone on points.ndjson, into an empty Qdrant
	fake_reset '{"data":true}'
	timeout 120 "$PLEXPIPE_BIN/qdrant-upsert" "${UPSERT_OPTS[@]}" <"$T/rec/points.ndjson" >"$T/results.2" 2>"$T/err.2"
	qdrant_dump "$full" >"$T/collection.2"
	cmp "$T/collection.1" "$T/collection.2"

	# meta-enrich alone on plex.ndjson: the same points (cache warm, so offline)
	timeout 120 "$PLEXPIPE_BIN/meta-enrich" "${ENRICH_OPTS[@]}" --offline <"$T/rec/plex.ndjson" >"$T/points.3" 2>"$T/err.3"
	cmp "$T/rec/points.ndjson" "$T/points.3"

	# plex-ingest alone: the same batches (its end record's timings aside)
	timeout 120 "$PLEXPIPE_BIN/plex-ingest" >"$T/plex.4" 2>"$T/err.4"
	untimed='if .kind == "end" then del(.stats[]?.seconds, .stats[]?.items_per_s) else . end'
	cmp <(jq -c "$untimed" "$T/rec/plex.ndjson") <(jq -c "$untimed" "$T/plex.4")

	# and the whole replay chain from the recorded Plex batches rebuilds the collection
	fake_reset '{"data":true}'
	timeout 120 "$PLEXPIPE_BIN/meta-enrich" "${ENRICH_OPTS[@]}" --offline <"$T/rec/plex.ndjson" |
	    timeout 120 "$PLEXPIPE_BIN/qdrant-upsert" "${UPSERT_OPTS[@]}" >/dev/null 2>"$T/err.5"
	qdrant_dump "$full" >"$T/collection.5"
	cmp "$T/collection.1" "$T/collection.5"
}

@test "jq filter between the first two stages: filtered items land, the run is incomplete, no cleanup" {
	fake_start --movies 80 --shows 2 --seasons 1 --episodes 3
	use_fakes
	# a complete first load, then a stale point that only a complete run may delete
	pl
	[ "$status" -eq 0 ]
	all=$(qdrant_count)
	curl -sS -f --max-time 10 -X PUT -H 'Content-Type: application/json' \
	    "$FAKE_QDRANT/collections/media-items/points?wait=true" --data-binary \
	    '{"points":[{"id":999999999,"vector":{},"payload":{"type":"movie","title":"Gone","data":{"plex":{"rating_key":"999999999","type":"movie"}}}}]}' >/dev/null
	[ "$(qdrant_count)" -eq $((all + 1)) ]

	# the literal recipe: the end record has no items, so jq drops it (and says so)
	B=$PLEXPIPE_BIN
	{
		timeout 120 "$B/plex-ingest" 2>"$T/err.i" | jq -c '.items[] | select(.year >= 2000)' 2>"$T/err.jq" |
		    tee "$T/filtered.ndjson" |
		    timeout 120 "$B/meta-enrich" "${ENRICH_OPTS[@]}" 2>"$T/err.e" |
		    timeout 120 "$B/qdrant-upsert" "${UPSERT_OPTS[@]}" >"$T/results" 2>"$T/err.u"
		echo "${PIPESTATUS[*]}" >"$T/rc"
	} || true
	read -r -a rc <"$T/rc"
	echo "# literal jq recipe statuses: ${rc[*]}" >&3
	[ "${rc[0]}" -eq 0 ]
	[ "$(wc -l <"$T/filtered.ndjson")" -gt 0 ]
	[ "${rc[3]}" -eq 5 ]	# no end record: a truncated run
	[ "${rc[4]}" -eq 5 ]
	grep -q 'stale cleanup skipped' "$T/err.u"
	# every filtered item is a point with the same rating key; the stale point survived
	jq -r '.ratingKey' "$T/filtered.ndjson" | sort >"$T/want"
	qdrant_keys >"$T/have"
	[ -z "$(comm -23 "$T/want" "$T/have")" ]
	[ "$(qdrant_count)" -eq $((all + 1)) ]

	# the recipe that keeps the end record, marked incomplete: exit 0, still no cleanup
	timeout 120 "$B/plex-ingest" 2>"$T/err.i" |
	    jq -c 'if .kind == "end" then .complete = false else (.items[]? | select(.year >= 2000)) end' |
	    timeout 120 "$B/meta-enrich" "${ENRICH_OPTS[@]}" 2>"$T/err.e" |
	    timeout 120 "$B/qdrant-upsert" "${UPSERT_OPTS[@]}" >"$T/results" 2>"$T/err.u"
	[ "${PIPESTATUS[*]}" = "0 0 0 0" ]
	grep -q 'stale cleanup skipped' "$T/err.u"
	[ "$(qdrant_count)" -eq $((all + 1)) ]

	# control: a complete, unfiltered run does delete the stale point
	pl
	[ "$status" -eq 0 ]
	[ "$(qdrant_count)" -eq "$all" ]
}

@test "two runs of the sample library give byte-identical points.ndjson, -j1 and -j4 alike" {
	for j in 1 4 1 4; do
		rm -rf "$T/rec"
		timeout 120 "$LOAD" --sample-dir "$TOP/sample/plex" --offline --cache-dir "$TOP/sample/cache" \
		    --imdb-queue "$T/imdb_queue.json" --dry-run --dense none -j "$j" --record "$T/rec" \
		    >/dev/null 2>"$T/err"
		# the end record's timing stats (seconds, items/s) are the only run-dependent bytes
		jq -c 'if .kind == "end" then del(.stats[]?.seconds, .stats[]?.items_per_s) else . end' \
		    "$T/rec/points.ndjson" >"$T/points.$j.$SECONDS.$RANDOM"
		cp "$T/rec/plex.ndjson" "$T/plex.ndjson"
	done
	n=$(find "$T" -maxdepth 1 -name 'points.[14].*' | wc -l)
	[ "$n" -eq 4 ]
	[ "$(md5sum "$T"/points.[14].* | cut -d' ' -f1 | sort -u | wc -l)" -eq 1 ]
	[ "$(jq -s 'map(.points | length) | add' "$T"/points.1.* | head -n1)" -gt 0 ]
	# and meta-enrich alone, same recorded input: byte-identical including the end record
	for j in 1 4 1 4; do
		timeout 60 "$PLEXPIPE_BIN/meta-enrich" -j "$j" --offline --cache-dir "$TOP/sample/cache" \
		    --imdb-queue "$T/imdb_queue.json" <"$T/plex.ndjson" >"$T/direct.$j.$RANDOM" 2>/dev/null
	done
	[ "$(md5sum "$T"/direct.* | cut -d' ' -f1 | sort -u | wc -l)" -eq 1 ]
	[ -z "$(git -C "$TOP" status --porcelain -- sample)" ]
}

# sigterm_run QDRANT_LATENCY_MS: a load stopped by SIGTERM once two batches landed;
# checks exit 143, every pipeline process gone within 10 s, no point lost.
sigterm_run() {
	fake_start --movies 800 --shows 10 --seasons 2 --episodes 10
	use_fakes
	fake_config "{\"tmdb\":{\"latency_ms\":60},\"qdrant\":{\"latency_ms\":$1}}"
	pid_wrappers
	set -m
	PLEXPIPE_BIN="$T/bin" timeout "$(tscale 300)" "$LOAD" "${ENRICH_OPTS[@]}" "${UPSERT_OPTS[@]}" -j4 \
	    --upsert-buffer-size 64 --record "$T/rec" >"$T/out" 2>"$T/err" &
	LOADPID=$!
	set +m
	# wait until two batches have landed in Qdrant
	end=$((SECONDS + $(tscale 60)))
	until landed 128; do
		[ "$SECONDS" -lt "$end" ] || false
		sleep 0.2
	done
	pgid=$(ps -o pgid= -p "$(cat "$T/qdrant-upsert.pid")" | tr -d ' ') || true
	[ -n "$pgid" ]
	kill -TERM "$LOADPID"
	t0=$SECONDS
	while kill -0 "$LOADPID" 2>/dev/null; do
		[ $((SECONDS - t0)) -le "$(tscale 10)" ] || false
		sleep 0.1
	done
	status=0
	wait "$LOADPID" || status=$?
	echo "# plex-load stopped $((SECONDS - t0)) s after SIGTERM: $(last_line | sed 's/.*(statuses/(statuses/')" >&3
	[ "$status" -eq 143 ]
	# meta-enrich was stopped mid-run by the signal, not done already
	[[ "$(last_line)" == *"meta-enrich 143"* ]]
	# every process of the pipeline (stages and meta-enrich workers) is gone within 10 s
	while [ -n "$(pgrep -g "$pgid" || true)" ]; do
		if [ $((SECONDS - t0)) -gt "$(tscale 10)" ]; then
			ps -o pid,ppid,stat,args -g "$pgid" | sed 's/^/# left: /' >&3
			false
		fi
		sleep 0.1
	done
	echo "# all pipeline processes gone $((SECONDS - t0)) s after SIGTERM" >&3
	# every point meta-enrich handed on either landed or was dead-lettered
	ids='fromjson? | select(.kind == "points") | .points[].id | tostring'
	jq -R -r "$ids" "$T/rec/points.ndjson" | sort -u >"$T/sent"
	{
		qdrant_dump '.id' | jq -r 'tostring'
		if [ -f "$T/dead.ndjson" ]; then
			jq -R -r "$ids" "$T/dead.ndjson"
			jq -R -r 'fromjson? | select(.id != null) | .id | tostring' "$T/dead.ndjson"
		fi
	} | sort -u >"$T/kept"
	[ -s "$T/sent" ]
	lost=$(comm -23 "$T/sent" "$T/kept" | wc -l)
	echo "# sent $(wc -l <"$T/sent"), landed $(qdrant_count), dead-lettered $(jq -R -r "$ids" "$T/dead.ndjson" 2>/dev/null | wc -l), lost $lost" >&3
	[ "$lost" -eq 0 ]
	# and no stage wrote half a record when it stopped
	jq -c . "$T/rec/points.ndjson" >/dev/null
	[ ! -f "$T/dead.ndjson" ] || jq -c . "$T/dead.ndjson" >/dev/null
}

@test "SIGTERM to plex-load mid-run: stages gone within 10 s, no point lost, exit 143" {
	sigterm_run 100
}

@test "SIGTERM while Qdrant is slow: qdrant-upsert is signalled holding points; none lost" {
	export PLEXLOAD_DRAIN_SECONDS=1
	sigterm_run 700
}
