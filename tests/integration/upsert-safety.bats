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
	# the same with 409 (Qdrant 1.8+)
	fake_reset '{"data":true,"knobs":true}'
	fake_config '{"qdrant":{"lose_create_answers":1}}'
	run upsert --dense none "$PTS"
	[ "$status" -eq 0 ]
	[ "$(count_points)" -eq "$N" ]
	[ "$(fake_stats '.qdrant.status_counts.dropped // 0')" -ge 1 ]
}

@test "upsert-safety: embedding requests answered 500 or timing out are sent once (billed), not retried; 503s are" {
	fake_config '{"embed":{"fail_rate":1.0,"fail_status":500}}'
	run upsert --embed-url "$FAKE_EMBED" --retries 3 "$PTS"
	[ "$status" -eq 4 ]
	er=$(jq .embedding_requests <<<"$(summary_of)")
	[ "$er" -ge 1 ]
	[ "$(fake_stats '.embed.by_endpoint["POST /v1/embeddings"] // 0')" -eq "$er" ]
	[ "$(jq -s '[.[] | select(.kind=="points") | .points[]] | length' dl.ndjson)" -eq "$N" ]
	grep -q 'when the embeddings server is healthy' err.log
	rm dl.ndjson
	fake_reset '{"data":true,"knobs":true}'
	fake_config '{"embed":{"stall_ms":3000}}'
	run upsert --embed-url "$FAKE_EMBED" --retries 3 --timeout 1 "$PTS"
	[ "$status" -eq 4 ]
	er=$(jq .embedding_requests <<<"$(summary_of)")
	[ "$(fake_stats '.embed.by_endpoint["POST /v1/embeddings"] // 0')" -eq "$er" ]
	grep -qi 'timed out' err.log
	# every point is kept for a replay
	[ "$(jq -s '[.[] | select(.kind=="points") | .points[]] | length' dl.ndjson)" -eq "$N" ]
	# 503 (and 429) say the request was not served: retried until they land
	fake_reset '{"data":true,"knobs":true}'
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
	[ "$(fake_stats '.embed.by_endpoint["POST /v1/embeddings"] // 0')" -eq 1 ]
	[ "$(jq -s '[.[] | select(.kind=="points") | .points[]] | length' dl.ndjson)" -eq "$N" ]
	# just under the cap is fine
	fake_reset '{"data":true,"knobs":true}'
	fake_config '{"embed":{"pad_bytes":15000000}}'
	rm -f dl.ndjson
	run upsert --embed-url "$FAKE_EMBED" --embed-batch-size 100 "$PTS"
	[ "$status" -eq 0 ]
	[ "$(count_points)" -eq "$N" ]
}

@test "upsert-safety: a refused embeddings key (401) is exit 2 naming EMBED_API_KEY, before the collection is made and before any upsert" {
	# a second fake of its own (this test's environment only), with an embeddings key
	FAKE_MAX_SECONDS=120 fake_start --dir "$BATS_TEST_TMPDIR/keyed" --embed-key right-embed-key
	run upsert --embed-url "$FAKE_EMBED" --embed-api-key wrong-embed-key "$PTS"
	[ "$status" -eq 2 ]
	grep -q 'EMBED_API_KEY' err.log
	grep -q '401' err.log
	if grep -q 'wrong-embed-key' err.log; then false; fi
	[ "$(fake_stats '.qdrant.by_endpoint["PUT /collections/{c}"] // 0')" -eq 0 ]
	[ "$(fake_stats '.qdrant.by_endpoint["PUT /collections/{c}/index"] // 0')" -eq 0 ]
	[ "$(fake_stats '.qdrant.by_endpoint["PUT /collections/{c}/points"] // 0')" -eq 0 ]
	[ ! -e dl.ndjson ]
	# no key at all: the same, saying a key is wanted
	run upsert --embed-url "$FAKE_EMBED" "$PTS"
	[ "$status" -eq 2 ]
	grep -q 'wants a key: set EMBED_API_KEY' err.log
	# the right key loads
	run upsert --embed-url "$FAKE_EMBED" --embed-api-key right-embed-key "$PTS"
	[ "$status" -eq 0 ]
	[ "$(count_points)" -eq "$N" ]
	fake_stop
}

@test "upsert-safety: an embeddings server whose /v1/models says nothing (404) and refuses embeddings (403): exit 2, no point upserted" {
	# a server like TEI (no /v1/models) that refuses the key only on embeddings
	cat >embed403.py <<'PY'
import json, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a):
        pass
    def answer(self, st, out):
        data = json.dumps(out).encode()
        self.send_response(st)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def do_GET(self):
        self.answer(404, {"error": "not found"})
    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        self.answer(403, {"error": "forbidden"})
s = ThreadingHTTPServer(("127.0.0.1", 0), H)
open(sys.argv[1] + ".tmp", "w").write(str(s.server_address[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
s.timeout = 1
import time; end = time.time() + 60
while time.time() < end:
    s.handle_request()
PY
	python3 embed403.py port 3>&- &
	epid=$!
	for _ in $(seq 100); do [ -s port ] && break; sleep 0.1; done
	run upsert --embed-url "http://127.0.0.1:$(cat port)" --embed-api-key some-key --concurrency 4 "$PTS"
	kill "$epid" 2>/dev/null || true
	wait "$epid" 2>/dev/null || true
	[ "$status" -eq 2 ]
	grep -q '403.*EMBED_API_KEY' err.log
	[ "$(fake_stats '.qdrant.by_endpoint["PUT /collections/{c}/points"] // 0')" -eq 0 ]
}

# degrade FILE N: the first N points of FILE lose their TMDb data and carry "degraded":["tmdb"] (points records only)
degrade() {
	jq -c --argjson n "$2" 'select(.kind == "points") | .points[] ' "$1" | head -n "$2" |
		jq -c '.payload.data.tmdb = null | .degraded = ["tmdb"]'
}

@test "upsert-safety: a degraded point never overwrites a stored one (held back, live for cleanup), but is written where none exists" {
	python3 "$GEN" --movies 100 --batch 25 --ratings >rated.ndjson
	run upsert --dense none rated.ndjson
	[ "$status" -eq 0 ]
	python3 "$GEN" --movies 5 --first-key 20000 --ratings --bare >new.ndjson
	{
		degrade rated.ndjson 10
		jq -c '.payload.data.tmdb = null | .degraded = ["imdb","tmdb"]' new.ndjson
		# the end record leaves the held points out: they must stay all the same
		jq -c 'select(.kind == "end") | .rating_keys |= (.[10:] + ["20000","20001","20002","20003","20004"])' rated.ndjson
	} >deg.ndjson
	run upsert --dense none deg.ndjson
	[ "$status" -eq 0 ]
	s=$(summary_of)
	[ "$(jq .held_degraded <<<"$s")" -eq 10 ]
	[ "$(jq .upserted <<<"$s")" -eq 5 ]
	[ "$(jq .deleted <<<"$s")" -eq 0 ]
	[ "$(count_points)" -eq 105 ]
	grep -q '10 degraded points .* held back' err.log
	# the stored points kept their TMDb data; the new ones are written, without the marker
	[ "$(curl -sS --max-time 10 "$FAKE_QDRANT/collections/media-items/points/10000" | jq -c '.result.payload.data.tmdb.id')" = 500 ]
	p=$(curl -sS --max-time 10 "$FAKE_QDRANT/collections/media-items/points/20001")
	[ "$(jq -c '.result.payload.data.tmdb' <<<"$p")" = null ]
	[ "$(jq -c '.result.payload | has("degraded")' <<<"$p")" = false ]
	# without skip-unchanged the stored points are still looked up: all 15 are held now
	run upsert --dense none --no-skip-unchanged deg.ndjson
	[ "$status" -eq 0 ]
	[ "$(jq .held_degraded <<<"$(summary_of)")" -eq 15 ]
	[ "$(jq .upserted <<<"$(summary_of)")" -eq 0 ]
	[ "$(curl -sS --max-time 10 "$FAKE_QDRANT/collections/media-items/points/10003" | jq -c '.result.payload.data.tmdb.id')" = 503 ]
}

@test "upsert-safety: a point stored by another loader (no content_hash) counts as stored for a degraded point" {
	run upsert --dense none "$PTS"
	[ "$status" -eq 0 ]
	curl -sS -f --max-time 10 -X PUT -H 'Content-Type: application/json' \
		-d '{"points":[{"id":30000,"vector":{},"payload":{"title":"from mcp-plex","data":{"plex":{"rating_key":"30000"}}}}]}' \
		"$FAKE_QDRANT/collections/media-items/points?wait=true" >/dev/null
	python3 "$GEN" --movies 1 --first-key 30000 --bare --no-end | jq -c '.degraded = ["tmdb"]' >one.ndjson
	run upsert --dense none one.ndjson
	[ "$status" -eq 5 ]	# no end record
	[ "$(jq .held_degraded <<<"$(summary_of)")" -eq 1 ]
	[ "$(curl -sS --max-time 10 "$FAKE_QDRANT/collections/media-items/points/30000" | jq -r .result.payload.title)" = "from mcp-plex" ]
}

@test "upsert-safety: a degraded point that is dead-lettered keeps its degraded member, so a replay holds it back too" {
	python3 "$GEN" --movies 3 --first-key 40000 --bare | jq -c '.degraded = ["tmdb"]' >deg.ndjson
	fake_config '{"qdrant":{"fail_rate":1.0,"fail_status":500}}'
	run upsert --dense none --retries 0 deg.ndjson
	[ "$status" -eq 4 ]
	[ "$(jq -s -c '[.[] | select(.kind=="points") | .points[] | .degraded]' dl.ndjson)" = '[["tmdb"],["tmdb"],["tmdb"]]' ]
	# meanwhile a good run stored them whole; the replay of the degraded ones is held back
	fake_reset '{"knobs":true}'
	python3 "$GEN" --movies 3 --first-key 40000 --bare --no-end --ratings >good.ndjson
	run upsert --dense none --dead-letter dl2.ndjson good.ndjson
	[ "$status" -eq 5 ]
	run upsert --dense none --dead-letter dl2.ndjson dl.ndjson
	[ "$status" -eq 0 ]
	[ "$(jq .held_degraded <<<"$(summary_of)")" -eq 3 ]
	[ "$(curl -sS --max-time 10 "$FAKE_QDRANT/collections/media-items/points/40002" | jq -c '.result.payload.data.tmdb.id')" = 502 ]
}

@test "upsert-safety: rejects are records with a kind that qdrant-upsert replays as they are; a fixed reject loads" {
	python3 "$GEN" --movies 10 --batch 5 --no-end >pts.ndjson
	{
		# a batch whose second point has a negative id
		head -n 1 pts.ndjson | jq -c '.points[1].id = -5'
		echo '{"kind":"points","v":1,"seq":7,"points":"not an array"}'
		echo '{"kind":"points", broken'
		tail -n +2 pts.ndjson
		echo '{"kind":"reject","stage":"meta-enrich","line":1,"error":"x","record":"{}"}'
	} >in.ndjson
	run upsert --dense none --reject-file rej.ndjson in.ndjson
	[ "$status" -eq 4 ]
	[ "$(wc -l <rej.ndjson)" -eq 3 ]
	[ "$(jq -s -c 'map([.kind, .stage]) | unique' rej.ndjson)" = '[["reject","qdrant-upsert"]]' ]
	# the bad point is kept as a points record of its own, with its batch's seq
	[ "$(jq -c 'select(.line == 1) | .record | fromjson | [.kind, .seq, (.points | length), .points[0].id]' rej.ndjson)" = '["points",0,1,-5]' ]
	# another stage's reject passes through untouched
	grep -q '"stage":"meta-enrich"' <<<"$output"
	# replayed as is: the same records are rejected again, nothing else happens
	run upsert --dense none --reject-file rej2.ndjson rej.ndjson
	[ "$status" -eq 4 ]
	[ "$(jq -c .record rej.ndjson)" = "$(jq -c .record rej2.ndjson)" ]
	[ "$(jq .upserted <<<"$(summary_of)")" -eq 0 ]
	# fixed with jq, the reject file loads
	jq -c 'select(.line == 1) | .record |= (fromjson | .points[0].id = 55555 | tojson)' rej.ndjson >fixed.ndjson
	run upsert --dense none --reject-file rej3.ndjson fixed.ndjson
	[ "$status" -eq 5 ]	# a reject file has no end record
	[ ! -e rej3.ndjson ]
	[ "$(jq .upserted <<<"$(summary_of)")" -eq 1 ]
	[ "$(curl -sS --max-time 10 "$FAKE_QDRANT/collections/media-items/points/55555" | jq -r .status)" = ok ]
}
