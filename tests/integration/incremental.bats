#!/usr/bin/env bats
# incremental.bats: plex-load's listing state against the fakes: unchanged re-runs fetch and write nothing, edits and deletions land, failures and dropped collections are safe (issue 13).

load helpers

setup() {
	T=$BATS_TEST_TMPDIR
	LOAD="$PLEXPIPE_TOP/scripts/plex-load"
	need_stages
	unset_pipeline_env
	fake_start --movies 30 --collections 2 --shows 2 --seasons 2 --episodes 3
	export_fake_env
	OPTS=(--tmdb-url "$FAKE_TMDB" --imdb-url "$FAKE_IMDB" --tmdb-rps 1000
	    --cache-dir "$T/cache" --imdb-queue "$T/imdb_queue.json" --dead-letter "$T/dead.ndjson"
	    --plex-chunk-size 10 --record "$T/rec")
}

teardown() {
	fake_stop
}

# pl ARGS...: plex-load against the fakes, bounded; $status, stderr in $T/err
pl() {
	status=0
	timeout 120 "$LOAD" "${OPTS[@]}" "$@" >"$T/out" 2>"$T/err" || status=$?
}

state_file() { ls "$XDG_STATE_HOME"/plexpipe/listing-media-items-*.state; }
endpoint() { fake_stats ".$1.by_endpoint[\"$2\"] // 0"; }
count() {
	curl -sS -f --max-time 30 -X POST -H 'Content-Type: application/json' --data-binary '{"exact":true}' \
	    "$FAKE_QDRANT/collections/media-items/points/count" | jq -r '.result.count'
}
summary() { jq -c "select(.kind == \"summary\") | $1" "$T/rec/results.ndjson"; }
emitted() { jq -r 'select(.kind == "plex") | .items[].ratingKey' "$T/rec/plex.ndjson" | sort; }

@test "incremental: the first run is full and keeps a 0600 state in a 0700 directory" {
	pl
	cat "$T/err"
	[ "$status" -eq 0 ]
	grep -q 'no listing state yet' "$T/err"
	[ "$(count)" -eq 42 ]
	[ "$(stat -c %a "$XDG_STATE_HOME/plexpipe")" = 700 ]
	[ "$(stat -c %a "$(state_file)")" = 600 ]
	[ "$(stat -c %a "$(state_file).full")" = 600 ]
	head -n 1 "$(state_file)" | grep -q 'items=42 movie=30 episode=12 show=0'
	[ ! -e "$(state_file).new" ]
	# qdrant-upsert --count-points agrees with the state
	"$PLEXPIPE_BIN/qdrant-upsert" --count-points | jq -e '.exists and .points == {"movie":30,"episode":12,"show":0}'
	"$PLEXPIPE_BIN/qdrant-upsert" --count-points=episode,show | jq -e '.points == {"episode":12,"show":0}'
	"$PLEXPIPE_BIN/qdrant-upsert" --count-points --collection nowhere | jq -e '.exists == false'
	# the incremental run's check asked only for the types the state lists
	fake_reset
	pl
	[ "$status" -eq 0 ]
	[ "$(fake_stats '.qdrant.by_endpoint["POST /collections/{c}/points/count"]')" -eq 3 ]
}

@test "incremental: an unchanged re-run makes no metadata, TMDb, IMDb or embedding request and no upsert" {
	pl
	[ "$status" -eq 0 ]
	fake_reset
	pl
	cat "$T/err"
	[ "$status" -eq 0 ]
	[ "$(endpoint plex 'GET /library/metadata/{ids}')" -eq 0 ]
	[ "$(fake_stats .tmdb.requests)" -eq 0 ]
	[ "$(fake_stats .imdb.requests)" -eq 0 ]
	# (a GET /v1/models key check is not an embedding)
	[ "$(endpoint embed 'POST /v1/embeddings')" -eq 0 ]
	[ "$(endpoint qdrant 'PUT /collections/{c}/points')" -eq 0 ]
	# sections and listings only: movies, shows (their updatedAt), episodes
	[ "$(endpoint plex 'GET /library/sections')" -eq 1 ]
	[ "$(endpoint plex 'GET /library/sections/{key}/all')" -le 8 ]
	[ -z "$(emitted)" ]
	[ "$(summary '[.upserted, .deleted]')" = '[0,0]' ]
	[ "$(count)" -eq 42 ]
	tail -n 1 "$T/rec/plex.ndjson" | jq -e '.complete and (.rating_keys | length) == 42'
}

@test "incremental: one edited item is fetched and upserted alone; a deleted item's point is removed" {
	pl
	[ "$status" -eq 0 ]
	local movie gone
	movie=$(fake_library '.sections[0].movies[4]')
	gone=$(fake_library '.sections[0].movies[5]')
	fake_config "{\"plex\":{\"edits\":{\"$movie\":{\"updatedAt\":1900000000,\"summary\":\"Edited: a new summary.\"}},\"deleted\":[\"$gone\"]}}"
	fake_reset
	pl
	cat "$T/err"
	[ "$status" -eq 0 ]
	[ "$(emitted)" = "$movie" ]
	[ "$(endpoint plex 'GET /library/metadata/{ids}')" -eq 1 ]
	[ "$(summary '[.points, .upserted, .deleted]')" = '[1,1,1]' ]
	[ "$(count)" -eq 41 ]
	curl -sS -f --max-time 30 "$FAKE_QDRANT/collections/media-items/points/$movie" |
	    jq -e '.result.payload.summary == "Edited: a new summary."'
	! curl -sS -f --max-time 30 "$FAKE_QDRANT/collections/media-items/points/$gone" 2>/dev/null || false
	# and the state moved on: a third run fetches nothing
	fake_reset
	pl
	[ "$status" -eq 0 ]
	[ -z "$(emitted)" ]
}

@test "incremental: a failed run does not advance the state; the next good run fetches its items again" {
	pl
	[ "$status" -eq 0 ]
	cp "$(state_file)" "$T/state.before"
	local movie
	movie=$(fake_library '.sections[0].movies[7]')
	fake_config "{\"plex\":{\"edits\":{\"$movie\":{\"updatedAt\":1900000000,\"summary\":\"Edited twice.\"}}},\"qdrant\":{\"fail_rate\":1,\"fail_status\":500}}"
	pl --retries 0
	cat "$T/err"
	[ "$status" -ne 0 ]
	cmp "$(state_file)" "$T/state.before"
	[ ! -e "$(state_file).new" ]
	# Qdrant is back: the edit is fetched and lands
	fake_config '{"qdrant":{"fail_rate":null}}'
	fake_reset
	rm -f "$T/dead.ndjson"
	pl
	cat "$T/err"
	[ "$status" -eq 0 ]
	[ "$(emitted)" = "$movie" ]
	curl -sS -f --max-time 30 "$FAKE_QDRANT/collections/media-items/points/$movie" |
	    jq -e '.result.payload.summary == "Edited twice."'
	! cmp -s "$(state_file)" "$T/state.before" || false
}

@test "incremental: a dropped or emptied collection brings a full reload, said in one line" {
	pl
	[ "$status" -eq 0 ]
	curl -sS -f --max-time 30 -X DELETE "$FAKE_QDRANT/collections/media-items" >/dev/null
	fake_reset
	pl
	cat "$T/err"
	[ "$status" -eq 0 ]
	[ "$(grep -c 'plex-load: a full run: the collection does not exist' "$T/err")" -eq 1 ]
	[ "$(count)" -eq 42 ]
	[ "$(emitted | wc -l)" -eq 42 ]
	# emptied of its episodes only: still short, still full
	curl -sS -f --max-time 30 -X POST -H 'Content-Type: application/json' \
	    --data-binary '{"filter":{"must":[{"key":"type","match":{"value":"episode"}}]}}' \
	    "$FAKE_QDRANT/collections/media-items/points/delete?wait=true" >/dev/null
	pl
	[ "$status" -eq 0 ]
	grep -q 'a full run: the collection holds 0 episode points but the listing state lists 12' "$T/err"
	[ "$(count)" -eq 42 ]
}

@test "incremental: --full, --full-every and --state-dir; --dry-run keeps no state" {
	pl --state-dir "$T/st"
	[ "$status" -eq 0 ]
	[ -s "$(ls "$T"/st/listing-media-items-*.state)" ]
	[ ! -e "$XDG_STATE_HOME/plexpipe" ]
	fake_reset
	pl --state-dir "$T/st" --full
	[ "$status" -eq 0 ]
	grep -q 'a full run (--full)' "$T/err"
	[ "$(emitted | wc -l)" -eq 42 ]
	# the last full run is older than --full-every
	local st
	st=$(ls "$T"/st/listing-media-items-*.state)
	echo $(($(date +%s) - 7200)) >"$st.full"
	pl --state-dir "$T/st" --full-every 1h
	[ "$status" -eq 0 ]
	grep -q 'older than --full-every' "$T/err"
	[ "$(emitted | wc -l)" -eq 42 ]
	pl --state-dir "$T/st" --full-every 1h
	[ "$status" -eq 0 ]
	[ -z "$(emitted)" ]
	pl --state-dir "$T/st" --full-every soon
	[ "$status" -eq 2 ]
	pl --state-dir "$T/st" --state "$T/x"
	[ "$status" -eq 2 ]
	grep -q 'keeps the listing state itself' "$T/err"
	# a dry run neither reads nor writes the state
	cp "$st" "$T/before"
	pl --state-dir "$T/st" --dry-run
	[ "$status" -eq 0 ]
	cmp "$st" "$T/before"
	[ "$(emitted | wc -l)" -eq 42 ]
}
