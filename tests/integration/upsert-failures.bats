#!/usr/bin/env bats
# upsert-failures.bats: qdrant-upsert under failure: 503s retried until all land; Qdrant gone mid-run -> dead letters, replay.

load helpers

GEN="$PLEXPIPE_TOP/tests/integration/upsert-gen-points.py"

setup() {
	cd "$BATS_TEST_TMPDIR"
	python3 "$GEN" --movies 400 --batch 32 >points.ndjson
	N=400
}

teardown() {
	fake_stop
}

upsert() {
	timeout 120 "$PLEXPIPE_BIN/qdrant-upsert" --qdrant-url "$FAKE_QDRANT" --dense none \
		--backoff 0.01 "$@" 2>err.log
}

count_points() {
	curl -sS --max-time 10 -X POST -H 'Content-Type: application/json' -d '{"exact":true}' \
		"$1/collections/media-items/points/count" | jq -r .result.count
}

@test "upsert-failures: 30% of upserts answered 503: every point lands, exit 0" {
	fake_start
	fake_config '{"qdrant":{"fail_rate":0.3,"fail_status":503,"retry_after":0}}'
	run upsert --batch-size 16 --retries 10 --dead-letter dl.ndjson points.ndjson
	[ "$status" -eq 0 ]
	[ "$(count_points "$FAKE_QDRANT")" -eq "$N" ]
	[ ! -e dl.ndjson ]
	# the failures really happened, and the summary counts the retries
	[ "$(fake_stats '.qdrant.status_counts["503"] // 0')" -gt 3 ]
	summary=$(grep '"kind":"summary"' <<<"$output")
	[ "$(jq .retry.succeeded <<<"$summary")" -gt 0 ]
	[ "$(jq .retry.failed <<<"$summary")" -eq 0 ]
	[ "$(jq .upserted <<<"$summary")" -eq "$N" ]
}

@test "upsert-failures: Qdrant failing for good mid-run: the rest is dead-lettered, exit 4, replay lands it all" {
	fake_start
	fake_config '{"qdrant":{"fail_after":4,"fail_status":503,"retry_after":0}}'
	run upsert --batch-size 20 --retries 2 --concurrency 2 --dead-letter dl.ndjson points.ndjson
	[ "$status" -eq 4 ]
	summary=$(grep '"kind":"summary"' <<<"$output")
	up=$(jq .upserted <<<"$summary")
	dl=$(jq .dead_lettered <<<"$summary")
	[ "$up" -ge 20 ]
	[ $((up + dl)) -eq "$N" ]
	[ "$(jq -s '[.[] | select(.kind=="points") | .points[]] | length' dl.ndjson)" -eq "$dl" ]
	# spooled without more attempts: far fewer upserts than batches x attempts
	# without spooling: 4 + 16 batches x 3 attempts = 52; with it about
	# 4 + 3 x (3 failures in a row + 5 batches already in the pipeline) = 28,
	# seen 19-25 in six runs and once above 28: the server also counts curl's own silent re-send on a
	# connection the fake closed after a 503, so allow some room below 52
	n=$(fake_stats '.qdrant.by_endpoint["PUT /collections/{c}/points"]')
	echo "# upserts seen by the fake: $n" >&3
	[ "$n" -le 36 ]
	grep -q 'replay' err.log
	# the file ends with an incomplete end record, so a replay exits 0 and never cleans up
	[ "$(tail -1 dl.ndjson | jq -c '[.kind, .complete]')" = '["end",false]' ]
	fake_reset '{"knobs":true}'
	run upsert --dead-letter dl2.ndjson dl.ndjson
	[ "$status" -eq 0 ]
	[ "$(count_points "$FAKE_QDRANT")" -eq "$N" ]
	[ ! -e dl2.ndjson ]
}

@test "upsert-failures: Qdrant stopped mid-run: the rest is in the dead-letter file, exit 4; replay into a healthy Qdrant lands it" {
	fake_start --dir "$BATS_TEST_TMPDIR/one"
	q1=$FAKE_QDRANT
	mkfifo in.fifo
	timeout 120 "$PLEXPIPE_BIN/qdrant-upsert" --qdrant-url "$q1" --dense none --backoff 0.01 \
		--retries 2 --timeout 2 --batch-size 32 --dead-letter dl.ndjson <in.fifo >out.ndjson 2>err.log &
	pid=$!
	exec 4>in.fifo
	head -n 5 points.ndjson >&4
	# wait (bounded) until the first batches are written
	for _ in $(seq 100); do
		[ "$(grep -c '"kind":"result"' out.ndjson)" -ge 4 ] && break
		sleep 0.1
	done
	[ "$(grep -c '"kind":"result"' out.ndjson)" -ge 4 ]
	fake_stop
	tail -n +6 points.ndjson >&4
	exec 4>&-
	rc=0
	wait "$pid" || rc=$?
	[ "$rc" -eq 4 ]
	summary=$(grep '"kind":"summary"' out.ndjson)
	up=$(jq .upserted <<<"$summary")
	dl=$(jq .dead_lettered <<<"$summary")
	[ $((up + dl)) -eq "$N" ]
	[ "$dl" -gt 0 ]
	[ "$(jq -s '[.[] | select(.kind=="points") | .points[]] | length' dl.ndjson)" -eq "$dl" ]
	# a healthy Qdrant takes the replay whole
	fake_start --dir "$BATS_TEST_TMPDIR/two"
	[ "$FAKE_QDRANT" != "$q1" ]
	run upsert --dead-letter dl2.ndjson dl.ndjson
	[ "$status" -eq 0 ]
	[ "$(count_points "$FAKE_QDRANT")" -eq "$dl" ]
}

@test "upsert-failures: a 401 mid-run is exit 2 at once" {
	fake_start
	fake_config '{"qdrant":{"fail_after":2,"fail_status":401}}'
	run upsert --batch-size 20 --dead-letter dl.ndjson points.ndjson
	[ "$status" -eq 2 ]
	grep -q 401 err.log
	# the refused batch is kept (nothing silently lost); the rest is not tried
	[ "$(jq -s '[.[] | select(.kind=="points") | .points[]] | length' dl.ndjson)" -le 40 ]
	# stopped at once: nowhere near all 20 batches were tried
	[ "$(fake_stats '.qdrant.by_endpoint["PUT /collections/{c}/points"]')" -le 12 ]
}

@test "upsert-failures: SIGTERM mid-run: exit 143, every point read is written or dead-lettered" {
	fake_start
	fake_config '{"qdrant":{"latency_ms":300}}'
	mkfifo in.fifo
	timeout 60 "$PLEXPIPE_BIN/qdrant-upsert" --qdrant-url "$FAKE_QDRANT" --dense none \
		--batch-size 32 --dead-letter dl.ndjson <in.fifo >out.ndjson 2>err.log &
	pid=$!
	exec 4>in.fifo
	head -n 6 points.ndjson >&4
	for _ in $(seq 100); do
		[ "$(fake_stats '.qdrant.by_endpoint["PUT /collections/{c}/points"] // 0')" -ge 1 ] && break
		sleep 0.1
	done
	kill -TERM "$pid"
	rc=0
	wait "$pid" || rc=$?
	exec 4>&-
	[ "$rc" -eq 143 ]
	summary=$(grep '"kind":"summary"' out.ndjson)
	in=$(jq .points <<<"$summary")
	up=$(jq .upserted <<<"$summary")
	dl=$(jq .dead_lettered <<<"$summary")
	[ "$in" -gt 0 ]
	[ $((up + dl)) -eq "$in" ]
	[ "$(jq -s '[.[] | select(.kind=="points") | .points[]] | length' dl.ndjson)" -eq "$dl" ]
}

@test "upsert-failures: one bad point per batch (400 from Qdrant): only the bad points are dead-lettered, no spooling, exit 4" {
	fake_start
	# points 3, 20 and 37 (in the first three batches of 16) get a dense vector of the wrong size
	jq -c 'if .kind == "points" and .seq == 0 then
		.points |= [to_entries[] | if .key == 3 or .key == 20 then .value.vector.dense = [0.5, 0.5] | .value else .value end]
	elif .kind == "points" and .seq == 1 then
		.points |= [to_entries[] | if .key == 5 then .value.vector.dense = [0.5, 0.5] | .value else .value end]
	else . end' points.ndjson >bad.ndjson
	[ "$(grep -c '\[0.5,0.5\]' bad.ndjson)" -eq 2 ]
	run upsert --batch-size 16 --retries 1 --dead-letter dl.ndjson bad.ndjson
	[ "$status" -eq 4 ]
	summary=$(grep '"kind":"summary"' <<<"$output")
	[ "$(jq .dead_lettered <<<"$summary")" -eq 3 ]
	[ "$(jq .upserted <<<"$summary")" -eq $((N - 3)) ]
	[ "$(count_points "$FAKE_QDRANT")" -eq $((N - 3)) ]
	# the dead-letter file holds exactly the three bad points
	[ "$(jq -s -c '[.[] | select(.kind=="points") | .points[] | .vector.dense] | unique' dl.ndjson)" = '[[0.5,0.5]]' ]
	[ "$(jq -s '[.[] | select(.kind=="points") | .points[]] | length' dl.ndjson)" -eq 3 ]
	# Qdrant answered: it was not taken to be down
	run grep -c 'without more attempts' err.log
	[ "$output" = 0 ]
	grep -q 'dimension' err.log
}

@test "upsert-failures: replaying the dead-letter file into itself is refused (it would read its own new dead letters forever)" {
	fake_start
	fake_config '{"qdrant":{"fail_after":2,"fail_status":503,"retry_after":0}}'
	run upsert --batch-size 20 --retries 0 points.ndjson
	[ "$status" -eq 4 ]
	DL=$XDG_STATE_HOME/plexpipe/qdrant-dead-letter.ndjson
	[ -s "$DL" ]
	before=$(cksum <"$DL")
	# Qdrant still failing; the default --dead-letter is the file being replayed
	run upsert --batch-size 20 --retries 0 "$DL"
	[ "$status" -eq 2 ]
	grep -q 'dead-letter' err.log
	run upsert --batch-size 20 --retries 0 <"$DL"
	[ "$status" -eq 2 ]
	[ "$(cksum <"$DL")" = "$before" ]
	# another dead-letter file works
	run upsert --batch-size 20 --retries 0 --dead-letter dl2.ndjson "$DL"
	[ "$status" -eq 4 ]
	[ "$(cksum <"$DL")" = "$before" ]
	[ "$(jq -s '[.[] | select(.kind=="points") | .points[]] | length' dl2.ndjson)" -eq \
		"$(jq -s '[.[] | select(.kind=="points") | .points[]] | length' "$DL")" ]
}

@test "upsert-failures: --strict stopping at a bad line mid-run: every point read before it is written or dead-lettered" {
	fake_start
	fake_config '{"qdrant":{"latency_ms":300}}'
	{ head -n 8 points.ndjson; echo '{"kind":"points","v":1,"seq":99,"points":"not an array"}'; tail -n +9 points.ndjson; } >bad.ndjson
	run upsert --batch-size 16 --strict --dead-letter dl.ndjson bad.ndjson
	[ "$status" -eq 3 ]
	summary=$(grep '"kind":"summary"' <<<"$output")
	in=$(jq .points <<<"$summary")
	up=$(jq .upserted <<<"$summary")
	dl=$(jq .dead_lettered <<<"$summary")
	[ "$in" -eq 256 ]
	[ $((up + dl)) -eq "$in" ]
	[ "$(jq -s '[.[] | select(.kind=="points") | .points[]] | length' dl.ndjson)" -eq "$dl" ]
}

@test "upsert-failures: an embeddings server refusing one text (413, too long): only that point is dead-lettered" {
	fake_start
	# a one-file OpenAI-style embeddings server that refuses any text containing TOO-LONG,
	# like TEI without --auto-truncate for a text over the model's 512 tokens
	cat >embed.py <<'PY'
import json, sys, threading
from http.server import BaseHTTPRequestHandler, HTTPServer
class H(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if any("TOO-LONG" in t for t in body["input"]):
            out, st = {"error": "Input validation error: inputs must have less than 512 tokens"}, 413
        else:
            out, st = {"data": [{"index": i, "embedding": [0.01 * (i + 1)] * 384} for i in range(len(body["input"]))]}, 200
        data = json.dumps(out).encode()
        self.send_response(st)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
s = HTTPServer(("127.0.0.1", 0), H)
open(sys.argv[1], "w").write(str(s.server_address[1]))
threading.Timer(90, s.shutdown).start()
s.serve_forever()
PY
	timeout 100 python3 embed.py port &
	for _ in $(seq 50); do [ -s port ] && break; sleep 0.1; done
	[ -s port ]
	jq -c 'if .kind == "points" and .seq == 0 then
		.points |= [to_entries[] | if .key == 3 or .key == 20 then .value.vector.dense.text += " TOO-LONG" | .value else .value end]
	else . end' points.ndjson >long.ndjson
	run timeout 120 "$PLEXPIPE_BIN/qdrant-upsert" --qdrant-url "$FAKE_QDRANT" --embed-url "http://127.0.0.1:$(cat port)" \
		--backoff 0.01 --batch-size 16 --embed-batch-size 8 --dead-letter dl.ndjson long.ndjson
	[ "$status" -eq 4 ]
	summary=$(grep '"kind":"summary"' <<<"$output")
	[ "$(jq .dead_lettered <<<"$summary")" -eq 2 ]
	[ "$(jq .upserted <<<"$summary")" -eq $((N - 2)) ]
	[ "$(count_points "$FAKE_QDRANT")" -eq $((N - 2)) ]
	[ "$(jq -s '[.[] | select(.kind=="points") | .points[] | select(.vector.dense.text | endswith("TOO-LONG"))] | length' dl.ndjson)" -eq 2 ]
	[ "$(jq -s '[.[] | select(.kind=="points") | .points[]] | length' dl.ndjson)" -eq 2 ]
	kill %1 2>/dev/null || true
}
