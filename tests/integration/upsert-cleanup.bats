#!/usr/bin/env bats
# upsert-cleanup.bats: stale cleanup: exactly the unlisted points go on complete input; nothing on truncated input; the fraction guard.

load helpers

GEN="$PLEXPIPE_TOP/tests/integration/upsert-gen-points.py"

setup_file() {
	fake_start --dir "$BATS_FILE_TMPDIR"
}

teardown_file() {
	fake_stop
}

setup() {
	fake_reset '{"data":true,"knobs":true}'
	cd "$BATS_TEST_TMPDIR"
	# 50 movies and 20 episodes loaded first
	python3 "$GEN" --movies 50 --episodes 20 >full.ndjson
	run upsert full.ndjson
	[ "$status" -eq 0 ]
	[ "$(count_points)" -eq 70 ]
}

upsert() {
	timeout 120 "$PLEXPIPE_BIN/qdrant-upsert" --qdrant-url "$FAKE_QDRANT" --dense none \
		--backoff 0.01 "$@" 2>err.log
}

count_points() {
	curl -sS --max-time 10 -X POST -H 'Content-Type: application/json' -d '{"exact":true}' \
		"$FAKE_QDRANT/collections/media-items/points/count" | jq -r .result.count
}

ids() {
	curl -sS --max-time 10 -X POST -H 'Content-Type: application/json' \
		-d '{"limit":1000,"with_payload":false}' "$FAKE_QDRANT/collections/media-items/points/scroll" |
		jq -c '[.result.points[].id] | sort'
}

# keep ITEMS: the same library with only the listed items (jq filter on the point) still there
keep() {
	jq -c --argjson keep "$1" '
		if .kind == "points" then .points |= map(select(.id as $i | $keep | index($i)))
		elif .kind == "end" then .rating_keys |= map(select(tonumber as $k | $keep | index($k)))
		else . end' full.ndjson
}

@test "upsert-cleanup: complete input deletes exactly the unlisted points" {
	# 4 movies and 3 episodes left the library (10% of 70)
	gone='[10003,10017,10030,10049,10050,10061,10069]'
	keepers=$(jq -c --argjson g "$gone" '[range(10000;10070)] - $g' <<<'null')
	keep "$keepers" >run2.ndjson
	run upsert run2.ndjson
	[ "$status" -eq 0 ]
	[ "$(grep '"kind":"summary"' <<<"$output" | jq .deleted)" -eq 7 ]
	[ "$(ids)" = "$keepers" ]
}

@test "upsert-cleanup: a point of a type not loaded in this run is kept" {
	# a movies-only run: the episodes are not this run's to judge
	jq -c 'if .kind=="points" then .points |= map(select(.payload.type=="movie"))
		elif .kind=="end" then (.rating_keys |= map(select(tonumber < 10050))) | (.sections |= map(select(.type=="movie")))
		else . end' full.ndjson >movies.ndjson
	run upsert movies.ndjson
	[ "$status" -eq 0 ]
	[ "$(grep '"kind":"summary"' <<<"$output" | jq .deleted)" -eq 0 ]
	[ "$(count_points)" -eq 70 ]
}

@test "upsert-cleanup: truncated input (no end record) deletes nothing, exit 5" {
	keep '[10000,10001,10002]' | grep -v '"kind":"end"' >trunc.ndjson
	run upsert trunc.ndjson
	[ "$status" -eq 5 ]
	[ "$(count_points)" -eq 70 ]
	[ "$(fake_stats '.qdrant.by_endpoint["POST /collections/{c}/points/delete"] // 0')" -eq 0 ]
}

@test "upsert-cleanup: an incomplete (filtered) run deletes nothing" {
	keep '[10000,10001,10002]' | jq -c 'if .kind=="end" then .complete=false else . end' >filtered.ndjson
	run upsert filtered.ndjson
	[ "$status" -eq 0 ]
	[ "$(count_points)" -eq 70 ]
}

@test "upsert-cleanup: refuses above --max-delete-fraction (exit 4) unless --force-cleanup" {
	# 10 of 50 movies (20%) and 10 of 20 episodes (50%) would go
	keepers=$(jq -c '[range(10000;10040)] + [range(10050;10060)]' <<<'null')
	keep "$keepers" >big.ndjson
	run upsert big.ndjson
	[ "$status" -eq 4 ]
	grep -q 'force-cleanup' err.log
	grep -q '10 of 20 episode points' err.log
	[ "$(count_points)" -eq 70 ]
	run upsert --max-delete-fraction 0.5 big.ndjson
	[ "$status" -eq 0 ]
	[ "$(count_points)" -eq 50 ]
	# and with the default fraction, forced
	run upsert full.ndjson
	[ "$status" -eq 0 ]
	keep '[10000]' >tiny.ndjson
	run upsert --force-cleanup tiny.ndjson
	[ "$status" -eq 0 ]
	[ "$(ids)" = '[10000]' ]
}

@test "upsert-cleanup: the fraction is per type: a type that would vanish is refused even when the whole would pass" {
	# every episode gone (an unmounted TV disk): 20 of 70 overall (29%) is under
	# 0.3, but 100% of the episodes is not
	keep "$(jq -c '[range(10000;10050)]' <<<'null')" >noeps.ndjson
	run upsert --max-delete-fraction 0.3 noeps.ndjson
	[ "$status" -eq 4 ]
	grep -q '20 of 20 episode points' err.log
	[ "$(count_points)" -eq 70 ]
	[ "$(fake_stats '.qdrant.by_endpoint["POST /collections/{c}/points/delete"] // 0')" -eq 0 ]
}

@test "upsert-cleanup: --no-cleanup and a run with dead letters delete nothing" {
	keep '[10000,10001]' >two.ndjson
	run upsert --no-cleanup --force-cleanup two.ndjson
	[ "$status" -eq 0 ]
	[ "$(count_points)" -eq 70 ]
	fake_config '{"qdrant":{"fail_rate":1.0,"fail_status":503,"retry_after":0}}'
	jq -c 'if .kind=="points" then .points[0].payload.title="changed" else . end' two.ndjson >two-changed.ndjson
	run upsert --force-cleanup --retries 0 --dead-letter dl.ndjson two-changed.ndjson
	[ "$status" -eq 4 ]
	fake_reset '{"knobs":true}'
	[ "$(count_points)" -eq 70 ]
}
