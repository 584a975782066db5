#!/usr/bin/env bats
# upsert.bats: qdrant-upsert against the fake Qdrant and embeddings: collection, indexes, vectors, skip-unchanged, dry-run, auth.

load helpers

GEN="$PLEXPIPE_TOP/tests/integration/upsert-gen-points.py"
VALIDATE="$PLEXPIPE_TOP/tests/integration/upsert-openapi-validate.py"

setup_file() {
	fake_start --dir "$BATS_FILE_TMPDIR"
	python3 "$GEN" --movies 150 --episodes 40 >"$BATS_FILE_TMPDIR/points.ndjson"
}

teardown_file() {
	fake_stop
}

setup() {
	fake_reset '{"data":true,"knobs":true}'
	PTS="$BATS_FILE_TMPDIR/points.ndjson"
	cd "$BATS_TEST_TMPDIR"
}

# upsert ARGS...: runs qdrant-upsert (bounded) against the fakes, stderr kept in err.log
upsert() {
	timeout 120 "$PLEXPIPE_BIN/qdrant-upsert" --qdrant-url "$FAKE_QDRANT" \
		--embed-url "$FAKE_EMBED" --backoff 0.01 "$@" 2>err.log
}

qget() {
	curl -sS --max-time 10 "$FAKE_QDRANT$1"
}

qpost() {
	curl -sS --max-time 10 -X POST -H 'Content-Type: application/json' --data-binary "$2" "$FAKE_QDRANT$1"
}

count_points() {
	qpost /collections/media-items/points/count '{"exact":true}' | jq -r .result.count
}

@test "upsert: --version, --help, --list-options and a bad flag" {
	run "$PLEXPIPE_BIN/qdrant-upsert" --version
	[ "$status" -eq 0 ]
	[ "$output" = "qdrant-upsert plexpipe 0.1.0" ]
	run "$PLEXPIPE_BIN/qdrant-upsert" --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"--max-delete-fraction"* ]]
	run "$PLEXPIPE_BIN/qdrant-upsert" --list-options
	[ "$status" -eq 0 ]
	grep -qx 'collection=' <<<"$output"
	grep -qx 'dry-run' <<<"$output"
	grep -qx 'qdrant-api-key-file=' <<<"$output"
	run "$PLEXPIPE_BIN/qdrant-upsert" --no-such-flag
	[ "$status" -eq 2 ]
}

@test "upsert: no dense mode and no EMBED_URL is exit 2 saying how to choose" {
	run env -u EMBED_URL "$PLEXPIPE_BIN/qdrant-upsert" --qdrant-url "$FAKE_QDRANT" "$PTS"
	[ "$status" -eq 2 ]
	[[ "$output" == *"--embed-url"* ]]
	[[ "$output" == *"--dense none"* ]]
	[ "$(fake_stats .qdrant.requests)" -eq 0 ]
}

@test "upsert: a sparse model that cannot be computed locally is exit 2 unless --sparse server|none" {
	python3 "$GEN" --movies 3 --sparse-model Qdrant/bm42-all-minilm-l6-v2-attentions >bm42.ndjson
	run upsert --dense none bm42.ndjson
	[ "$status" -eq 2 ]
	grep -q 'use --sparse server' err.log
	[ "$(fake_stats '.qdrant.by_endpoint["PUT /collections/{c}/points"] // 0')" -eq 0 ]
	run upsert --dense none --sparse none bm42.ndjson
	[ "$status" -eq 0 ]
	[ "$(count_points)" -eq 3 ]
	# --sparse server passes the Document on; open-source Qdrant (and the
	# fake) cannot run BM42, so those points end up dead-lettered, not lost
	run upsert --dense none --sparse server --retries 0 --dead-letter dl.ndjson bm42.ndjson
	[ "$status" -eq 4 ]
	[ "$(jq -s '[.[] | select(.kind=="points") | .points[]] | length' dl.ndjson)" -eq 3 ]
	[ "$(jq -r 'select(.kind=="points") | .points[0].vector.sparse.model' dl.ndjson)" = Qdrant/bm42-all-minilm-l6-v2-attentions ]
}

@test "upsert: sample points load: collection config, all 22 indexes, count equals input" {
	run upsert "$PTS"
	[ "$status" -eq 0 ]
	info=$(qget /collections/media-items)
	[ "$(jq -c .result.config.params.vectors <<<"$info")" = '{"dense":{"size":384,"distance":"Cosine"}}' ]
	[ "$(jq -c .result.config.params.sparse_vectors <<<"$info")" = '{"sparse":{"modifier":"idf"}}' ]
	[ "$(jq '.result.payload_schema | length' <<<"$info")" -eq 22 ]
	for f in title_slug type actors directors writers genres show_title show_title_slug collections data.plex.rating_key data.imdb.id; do
		[ "$(jq -r --arg f "$f" '.result.payload_schema[$f].data_type' <<<"$info")" = keyword ]
	done
	for f in year added_at season_number episode_number data.tmdb.id; do
		[ "$(jq -r --arg f "$f" '.result.payload_schema[$f].data_type' <<<"$info")" = integer ]
	done
	for f in title summary overview plot tagline reviews; do
		[ "$(jq -c --arg f "$f" '.result.payload_schema[$f] | [.data_type, .params.tokenizer, .params.min_token_len, .params.lowercase]' <<<"$info")" = '["text","word",2,true]' ]
	done
	want=$(jq -s '[.[] | select(.kind=="points") | .points[]] | length' "$PTS")
	[ "$(count_points)" -eq "$want" ]
	summary=$(grep '"kind":"summary"' <<<"$output")
	[ "$(jq .upserted <<<"$summary")" -eq "$want" ]
	[ "$(grep -c '"kind":"result"' <<<"$output")" -eq $(( (want + 127) / 128 )) ]
	# each point has its dense vector (384 floats), local BM25 and the content hash
	p=$(qget /collections/media-items/points/10007)
	[ "$(jq '.result.vector.dense | length' <<<"$p")" -eq 384 ]
	[ "$(jq '.result.vector.sparse.indices | length' <<<"$p")" -gt 3 ]
	[ "$(jq -r '.result.payload.content_hash | length' <<<"$p")" -eq 64 ]
	[ "$(jq -r '.result.payload.data.plex.rating_key' <<<"$p")" = 10007 ]
}

@test "upsert: hybrid points/query (dense + sparse prefetch, RRF) for a movie's own text returns it first" {
	run upsert "$PTS"
	[ "$status" -eq 0 ]
	for id in 10003 10042 10120; do
		text=$(jq -r --argjson id "$id" 'select(.kind=="points") | .points[] | select(.id==$id) | .vector.dense.text' "$PTS")
		dense=$(jq -cn --arg t "$text" '{model:"BAAI/bge-small-en-v1.5",input:[$t]}' |
			curl -sS --max-time 10 -H 'Content-Type: application/json' --data-binary @- "$FAKE_EMBED/v1/embeddings" |
			jq -c '.data[0].embedding')
		# the BM25 query vector of a text is its document ids with weight 1
		sparse=$(qget "/collections/media-items/points/$id" | jq -c '.result.vector.sparse | {indices, values: [.indices[] | 1.0]}')
		body=$(jq -cn --argjson d "$dense" --argjson s "$sparse" \
			'{prefetch:[{query:$d,using:"dense",limit:20},{query:$s,using:"sparse",limit:20}],query:{fusion:"rrf"},limit:5,with_payload:["title"]}')
		first=$(qpost /collections/media-items/points/query "$body" | jq -r '.result.points[0].id')
		[ "$first" = "$id" ]
	done
}

@test "upsert: second run of unchanged input sends no upsert and no embedding request" {
	run upsert "$PTS"
	[ "$status" -eq 0 ]
	fake_reset
	run upsert "$PTS"
	[ "$status" -eq 0 ]
	[ "$(fake_stats '.qdrant.by_endpoint["PUT /collections/{c}/points"] // 0')" -eq 0 ]
	[ "$(fake_stats '.embed.by_endpoint["POST /v1/embeddings"] // 0')" -eq 0 ]
	summary=$(grep '"kind":"summary"' <<<"$output")
	[ "$(jq .upserted <<<"$summary")" -eq 0 ]
	[ "$(jq .skipped_unchanged <<<"$summary")" -eq 190 ]
	[ "$(jq .embedding_requests <<<"$summary")" -eq 0 ]
	# one changed point is rewritten and embedded, alone
	jq -c 'if .kind=="points" then .points[0].payload.title = "Changed Title" else . end' "$PTS" | head -1 >changed.ndjson
	fake_reset
	run upsert changed.ndjson
	[ "$status" -eq 5 ]	# no end record in that slice
	[ "$(jq -s 'map(select(.kind=="summary"))[0].upserted' <<<"$output")" -eq 1 ]
	[ "$(fake_stats '.embed.by_endpoint["POST /v1/embeddings"] // 0')" -eq 1 ]
	[ "$(qget /collections/media-items/points/10000 | jq -r .result.payload.title)" = "Changed Title" ]
}

@test "upsert: a jq -c . round trip of unchanged points (7.0 written as 7) upserts and embeds nothing" {
	python3 "$GEN" --movies 60 --episodes 20 --ratings >rated.ndjson
	grep -q '"vote_average":7.0' rated.ndjson
	jq -c . rated.ndjson >jq.ndjson
	# jq really rewrote numbers, so only the hash's canonical numbers keep them equal
	if cmp -s rated.ndjson jq.ndjson; then false; fi
	grep -q '"vote_average":7,' jq.ndjson
	run upsert rated.ndjson
	[ "$status" -eq 0 ]
	fake_reset
	run upsert jq.ndjson
	[ "$status" -eq 0 ]
	summary=$(grep '"kind":"summary"' <<<"$output")
	[ "$(jq .skipped_unchanged <<<"$summary")" -eq 80 ]
	[ "$(jq .upserted <<<"$summary")" -eq 0 ]
	[ "$(fake_stats '.qdrant.by_endpoint["PUT /collections/{c}/points"] // 0')" -eq 0 ]
	[ "$(fake_stats '.embed.by_endpoint["POST /v1/embeddings"] // 0')" -eq 0 ]
}

@test "upsert: a different dense model setting rewrites everything (the hash covers the settings)" {
	run upsert --dense none "$PTS"
	[ "$status" -eq 0 ]
	run upsert "$PTS"
	[ "$status" -eq 0 ]
	[ "$(grep '"kind":"summary"' <<<"$output" | jq .upserted)" -eq 190 ]
}

@test "upsert: bare points load the same as points records" {
	python3 "$GEN" --movies 20 --bare >bare.ndjson
	run upsert --dense none bare.ndjson
	[ "$status" -eq 0 ]
	[ "$(count_points)" -eq 20 ]
}

@test "upsert: every --dry-run request body validates against the Qdrant OpenAPI spec, and nothing is sent" {
	spec=${PLEXPIPE_SHARED:-$PLEXPIPE_TOP/../shared}/specs/qdrant-openapi.json
	[ -f "$spec" ] || skip "Qdrant OpenAPI spec not found at $spec (set PLEXPIPE_SHARED)"
	run upsert --dry-run --recreate "$PTS"
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" >dry.ndjson
	[ "$(fake_stats .qdrant.requests)" -eq 0 ]
	[ "$(fake_stats .embed.requests)" -eq 0 ]
	# the collection, 22 indexes, hash fetches, embeddings, upserts, cleanup scroll
	[ "$(jq -s '[.[] | select(.kind=="request" and .method=="PUT" and (.path|test("/index")))] | length' dry.ndjson)" -eq 22 ]
	[ "$(jq -s '[.[] | select(.kind=="request" and .service=="embed")] | length' dry.ndjson)" -gt 0 ]
	[ "$(jq -s '[.[] | select(.kind=="result" and .status=="dry-run")] | length' dry.ndjson)" -eq 2 ]
	run python3 "$VALIDATE" "$spec" <dry.ndjson
	echo "$output"
	[ "$status" -eq 0 ]
	# other modes: no dense, server-side sparse, skip-unchanged off, bare input
	run upsert --dry-run --dense none --sparse server --no-skip-unchanged "$PTS"
	[ "$status" -eq 0 ]
	run python3 "$VALIDATE" "$spec" <<<"$output"
	echo "$output"
	[ "$status" -eq 0 ]
	# the validator does reject a wrong body (the test can fail)
	run python3 "$VALIDATE" "$spec" <<<'{"kind":"request","service":"qdrant","method":"PUT","path":"/collections/x/points","body":{"points":[{"id":-1,"vector":{}}]}}'
	[ "$status" -ne 0 ]
}

@test "upsert: an existing collection with another dense size is exit 2 naming both" {
	run upsert --dense none --dense-size 768 "$PTS"
	[ "$status" -eq 0 ]
	run upsert "$PTS"
	[ "$status" -eq 2 ]
	grep -q '768' err.log
	grep -q '384' err.log
}

@test "upsert: a collection from mcp-plex's loader (sparse without modifier idf) is upgraded in place with one PATCH and one info line" {
	qput() {
		curl -sS --max-time 10 -X PUT -H 'Content-Type: application/json' --data-binary "$2" "$FAKE_QDRANT$1"
	}
	qput /collections/media-items '{"vectors":{"dense":{"size":384,"distance":"Cosine"}},"sparse_vectors":{"sparse":{}}}' >/dev/null
	[ "$(qget /collections/media-items | jq -c '.result.config.params.sparse_vectors.sparse.modifier')" = null ]
	# the fake patches as Qdrant does: an unknown sparse vector name is refused
	run curl -sS --max-time 10 -X PATCH -H 'Content-Type: application/json' \
		-d '{"sparse_vectors":{"nope":{"modifier":"idf"}}}' "$FAKE_QDRANT/collections/media-items"
	[[ "$output" == *"Not existing vector name"* ]]
	run upsert "$PTS"
	[ "$status" -eq 0 ]
	[ "$(qget /collections/media-items | jq -r '.result.config.params.sparse_vectors.sparse.modifier')" = idf ]
	[ "$(grep -c 'IDF modifier' err.log)" -eq 1 ]
	[ "$(fake_stats '.qdrant.by_endpoint["PATCH /collections/{c}"]')" -eq 2 ]
	# the dense vector is untouched, and a second run patches nothing
	[ "$(qget /collections/media-items | jq -c '.result.config.params.vectors.dense.size')" = 384 ]
	fake_reset
	run upsert "$PTS"
	[ "$status" -eq 0 ]
	[ "$(fake_stats '.qdrant.by_endpoint["PATCH /collections/{c}"] // 0')" -eq 0 ]
	if grep -q 'IDF modifier' err.log; then false; fi
}

@test "upsert: --shard-number, --replication-factor, --write-consistency-factor (and their variables) make a clustered collection; shard-transfer 503s are retried" {
	spec=${PLEXPIPE_SHARED:-$PLEXPIPE_TOP/../shared}/specs/qdrant-openapi.json
	fake_config '{"qdrant":{"fail_rate":0.3,"fail_status":503,"retry_after":0}}'
	QDRANT_SHARD_NUMBER=6 run upsert --dense none --replication-factor 2 \
		--write-consistency-factor 1 --retries 10 --batch-size 16 "$PTS"
	[ "$status" -eq 0 ]
	[ "$(count_points)" -eq 190 ]
	[ "$(fake_stats '.qdrant.status_counts["503"] // 0')" -ge 1 ]
	[ "$(qget /collections/media-items | jq -c '.result.config.params | [.shard_number, .replication_factor, .write_consistency_factor]')" = '[6,2,1]' ]
	# on an existing collection they cannot apply: said once per setting
	fake_reset '{"knobs":true}'
	run upsert --dense none --shard-number 3 "$PTS"
	[ "$status" -eq 0 ]
	[ "$(grep -c 'shard_number 6, not 3' err.log)" -eq 1 ]
	# more confirmations than copies could never succeed
	QDRANT_WRITE_CONSISTENCY_FACTOR=3 run upsert --dense none --replication-factor 2 "$PTS"
	[ "$status" -eq 2 ]
	grep -q 'write-consistency-factor 3' err.log
	# the creation body is Qdrant's own CreateCollection
	if [ -f "$spec" ]; then
		run upsert --dry-run --dense none --shard-number 6 --replication-factor 2 \
			--write-consistency-factor 2 "$PTS"
		[ "$status" -eq 0 ]
		grep -q '"shard_number":6,"replication_factor":2,"write_consistency_factor":2' <<<"$output"
		run python3 "$VALIDATE" "$spec" <<<"$output"
		[ "$status" -eq 0 ]
	else
		echo "# skipped: the creation body against Qdrant's OpenAPI spec (not found at $spec; set PLEXPIPE_SHARED)" >&3
	fi
}

@test "upsert: missing payload indexes are added to an existing collection" {
	run upsert --dense none "$PTS"
	[ "$status" -eq 0 ]
	curl -sS --max-time 10 -X DELETE "$FAKE_QDRANT/collections/media-items/index/year" >/dev/null
	curl -sS --max-time 10 -X DELETE "$FAKE_QDRANT/collections/media-items/index/data.imdb.id" >/dev/null
	[ "$(qget /collections/media-items | jq '.result.payload_schema | length')" -eq 20 ]
	run upsert --dense none "$PTS"
	[ "$status" -eq 0 ]
	[ "$(qget /collections/media-items | jq '.result.payload_schema | length')" -eq 22 ]
	[ "$(qget /collections/media-items | jq -r '.result.payload_schema.year.data_type')" = integer ]
}

@test "upsert: other record kinds pass through unchanged; bad lines go to the reject file, exit 4" {
	{ echo '{"kind":"note","x":[1,2]}'; echo 'not json'; head -1 "$PTS"; tail -1 "$PTS"; } >mixed.ndjson
	run upsert --dense none --reject-file rej.ndjson mixed.ndjson
	[ "$status" -eq 4 ]
	[ "$(head -1 <<<"$output")" = '{"kind":"note","x":[1,2]}' ]
	[ "$(jq -r .line rej.ndjson)" -eq 2 ]
	run upsert --dense none --strict mixed.ndjson
	[ "$status" -eq 3 ]
}

@test "upsert: --dry-run writes no dead-letter file (a point over --max-request-bytes is only reported)" {
	run upsert --dry-run --dense none --max-request-bytes 1024 --dead-letter dl.ndjson "$PTS"
	[ "$status" -eq 4 ]
	[ ! -e dl.ndjson ]
	[ ! -e qdrant-dead-letter.ndjson ]
	[ "$(grep '"kind":"summary"' <<<"$output" | jq .dead_lettered)" -gt 0 ]
	grep -q 'max-request-bytes' err.log
}
