#!/usr/bin/env bats
# upsert-safety.bats: qdrant-upsert's safe retries and bounded answers (issue 9): "already exists", billed embeddings, answer caps, refused keys, degraded points, replayable files.

load helpers

GEN="$PLEXPIPE_TOP/tests/integration/upsert-gen-points.py"

setup_file() {
	fake_start --dir "$BATS_FILE_TMPDIR"
	python3 "$GEN" --movies 100 --batch 25 >"$BATS_FILE_TMPDIR/points.ndjson"
}

teardown_file() {
	fake_stop
}

setup() {
	fake_reset '{"data":true,"knobs":true}'
	PTS="$BATS_FILE_TMPDIR/points.ndjson"
	N=100
	cd "$BATS_TEST_TMPDIR"
}

# upsert ARGS...: qdrant-upsert (bounded) against the fakes, stderr in err.log
upsert() {
	timeout 120 "$PLEXPIPE_BIN/qdrant-upsert" --qdrant-url "$FAKE_QDRANT" \
		--backoff 0.01 --dead-letter dl.ndjson "$@" 2>err.log
}

count_points() {
	curl -sS --max-time 10 -X POST -H 'Content-Type: application/json' -d '{"exact":true}' \
		"$FAKE_QDRANT/collections/media-items/points/count" | jq -r .result.count
}

summary_of() {
	grep '"kind":"summary"' <<<"$output"
}

@test "upsert-safety: the answer to PUT /collections is lost and the retry meets 400 'already exists' (Qdrant < 1.8): success, shape checked, all points land" {
	fake_config '{"qdrant":{"exists_status":400,"lose_create_answers":1}}'
	run upsert --dense none "$PTS"
	[ "$status" -eq 0 ]
	[ "$(count_points)" -eq "$N" ]
	# the create was really answered with nothing, then with 400
	[ "$(fake_stats '.qdrant.status_counts.dropped // 0')" -ge 1 ]
	[ "$(fake_stats '.qdrant.status_counts["400"] // 0')" -ge 1 ]
	# and the collection was read back after it
	[ "$(fake_stats '.qdrant.by_endpoint["GET /collections/{c}"]')" -ge 2 ]
}

@test "upsert-safety: the same with 409 'already exists' (Qdrant 1.8+)" {
	fake_config '{"qdrant":{"lose_create_answers":1}}'
	run upsert --dense none "$PTS"
	[ "$status" -eq 0 ]
	[ "$(count_points)" -eq "$N" ]
	[ "$(fake_stats '.qdrant.status_counts.dropped // 0')" -ge 1 ]
}

@test "upsert-safety: embedding requests answered 500 or timing out are sent once (billed), not retried" {
	fake_config '{"embed":{"fail_rate":1.0,"fail_status":500}}'
	run upsert --embed-url "$FAKE_EMBED" --retries 3 "$PTS"
	[ "$status" -eq 4 ]
	er=$(jq .embedding_requests <<<"$(summary_of)")
	[ "$er" -ge 1 ]
	[ "$(fake_stats '.embed.requests')" -eq "$er" ]
	[ "$(jq -s '[.[] | select(.kind=="points") | .points[]] | length' dl.ndjson)" -eq "$N" ]
	grep -q 'when the embeddings server is healthy' err.log
	rm dl.ndjson
	fake_reset '{"data":true,"knobs":true}'
	fake_config '{"embed":{"stall_ms":3000}}'
	run upsert --embed-url "$FAKE_EMBED" --retries 3 --timeout 1 "$PTS"
	[ "$status" -eq 4 ]
	er=$(jq .embedding_requests <<<"$(summary_of)")
	[ "$(fake_stats '.embed.requests')" -eq "$er" ]
	grep -qi 'timed out' err.log
	# every point is kept for a replay
	[ "$(jq -s '[.[] | select(.kind=="points") | .points[]] | length' dl.ndjson)" -eq "$N" ]
}

@test "upsert-safety: embedding requests answered 429 or 503 (not served) are retried until they land" {
	fake_config '{"embed":{"fail_rate":0.5,"fail_status":503,"retry_after":0}}'
	run upsert --embed-url "$FAKE_EMBED" --retries 10 --embed-batch-size 10 "$PTS"
	[ "$status" -eq 0 ]
	[ "$(count_points)" -eq "$N" ]
	[ "$(fake_stats '.embed.status_counts["503"] // 0')" -ge 1 ]
}

@test "upsert-safety: an embeddings answer that decodes past the 16 MiB cap (gzip on the wire) fails clearly and is not retried" {
	fake_config '{"embed":{"pad_bytes":20000000}}'
	run upsert --embed-url "$FAKE_EMBED" --embed-batch-size 100 "$PTS"
	[ "$status" -eq 4 ]
	grep -q 'embed: POST /v1/embeddings: answer over the 16 MiB cap' err.log
	[ "$(fake_stats '.embed.requests')" -eq 1 ]
	[ "$(jq -s '[.[] | select(.kind=="points") | .points[]] | length' dl.ndjson)" -eq "$N" ]
	# just under the cap is fine
	fake_reset '{"data":true,"knobs":true}'
	fake_config '{"embed":{"pad_bytes":15000000}}'
	rm -f dl.ndjson
	run upsert --embed-url "$FAKE_EMBED" --embed-batch-size 100 "$PTS"
	[ "$status" -eq 0 ]
	[ "$(count_points)" -eq "$N" ]
}
