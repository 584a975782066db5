#!/usr/bin/env bats
# statedir.bats: dead letters, rejects and the IMDb retry queue default to ${XDG_STATE_HOME:-~/.local/state}/plexpipe (0700, files 0600), never the working directory.

load helpers

GEN="$PLEXPIPE_TOP/tests/integration/upsert-gen-points.py"

setup() {
	cd "$BATS_TEST_TMPDIR"
	mkdir work
	S=$BATS_TEST_TMPDIR/xdg-state
	export XDG_STATE_HOME=$S
}

teardown() {
	fake_stop
}

mode() { stat -c %a "$1"; }

@test "statedir: qdrant-upsert dead letters go to XDG_STATE_HOME/plexpipe (dir 0700, file 0600); summary and replay hint name the full path" {
	python3 "$GEN" --movies 60 --batch 20 >points.ndjson
	fake_start
	fake_config '{"qdrant":{"fail_after":2,"fail_status":503,"retry_after":0}}'
	cd work
	run timeout 120 "$PLEXPIPE_BIN/qdrant-upsert" --qdrant-url "$FAKE_QDRANT" --dense none \
		--backoff 0.01 --retries 0 --batch-size 20 ../points.ndjson
	[ "$status" -eq 4 ]
	[ -z "$(ls -A .)" ]			# nothing in the working directory
	DL=$S/plexpipe/qdrant-dead-letter.ndjson
	[ -s "$DL" ]
	[ "$(mode "$S/plexpipe")" = 700 ]
	[ "$(mode "$DL")" = 600 ]
	# the summary record and the warning both name the full path
	[ "$(jq -r 'select(.kind=="summary") | .dead_letter' <<<"$(grep '^{' <<<"$output")")" = "$DL" ]
	grep -q "replay them with: qdrant-upsert \[same options\] --dead-letter OTHER-FILE $DL" <<<"$output"
}

@test "statedir: HOME/.local/state/plexpipe without XDG_STATE_HOME; a relative XDG_STATE_HOME is ignored" {
	python3 "$GEN" --movies 20 --batch 20 >points.ndjson
	fake_start
	fake_config '{"qdrant":{"fail_rate":1.0,"fail_status":503,"retry_after":0}}'
	cd work
	run timeout 120 env -u XDG_STATE_HOME HOME="$BATS_TEST_TMPDIR/home" "$PLEXPIPE_BIN/qdrant-upsert" \
		--qdrant-url "$FAKE_QDRANT" --dense none --backoff 0.01 --retries 0 ../points.ndjson
	[ "$status" -eq 4 ]
	[ -s "$BATS_TEST_TMPDIR/home/.local/state/plexpipe/qdrant-dead-letter.ndjson" ]
	run timeout 120 env XDG_STATE_HOME=rel HOME="$BATS_TEST_TMPDIR/home2" "$PLEXPIPE_BIN/qdrant-upsert" \
		--qdrant-url "$FAKE_QDRANT" --dense none --backoff 0.01 --retries 0 ../points.ndjson
	[ "$status" -eq 4 ]
	[ ! -e rel ]
	[ -s "$BATS_TEST_TMPDIR/home2/.local/state/plexpipe/qdrant-dead-letter.ndjson" ]
}

@test "statedir: an explicit --dead-letter is used as given, relative to the working directory, and named in full" {
	python3 "$GEN" --movies 20 --batch 20 >points.ndjson
	fake_start
	fake_config '{"qdrant":{"fail_rate":1.0,"fail_status":503,"retry_after":0}}'
	cd work
	run timeout 120 "$PLEXPIPE_BIN/qdrant-upsert" --qdrant-url "$FAKE_QDRANT" --dense none \
		--backoff 0.01 --retries 0 --dead-letter dl.ndjson ../points.ndjson
	[ "$status" -eq 4 ]
	[ -s dl.ndjson ]
	[ ! -e "$S/plexpipe/qdrant-dead-letter.ndjson" ]
	grep -q -- "--dead-letter OTHER-FILE $PWD/dl.ndjson" <<<"$output"
}

@test "statedir: meta-enrich and qdrant-upsert rejects default to the state dir; the last line names the file" {
	cd work
	printf '%s\n' '{"kind":"plex","v":1,"items":' >bad.ndjson
	run timeout 60 "$PLEXPIPE_BIN/meta-enrich" --offline --no-imdb --cache-dir "$PLEXPIPE_TOP/sample/cache" <bad.ndjson
	[ "$status" -eq 5 ] || [ "$status" -eq 4 ]
	R=$S/plexpipe/meta-enrich-rejects.ndjson
	[ "$(jq -s length "$R")" -eq 1 ]
	[ "$(mode "$R")" = 600 ]
	[ "$(ls -A)" = bad.ndjson ]
	printf '%s\n' '{"kind":"plex","v":1,"items":' '{"kind":"end","v":1,"complete":false,"items":0,"sections":[],"rating_keys":[]}' >bad2.ndjson
	run timeout 60 "$PLEXPIPE_BIN/meta-enrich" --offline --no-imdb --cache-dir "$PLEXPIPE_TOP/sample/cache" <bad2.ndjson
	[ "$status" -eq 4 ]
	[[ "${lines[-1]}" == *"rejected; they are in $R"* ]]
	run timeout 60 "$PLEXPIPE_BIN/qdrant-upsert" --dry-run --dense none <bad2.ndjson
	[ "$status" -eq 4 ]
	[ "$(jq -s length "$S/plexpipe/qdrant-upsert-rejects.ndjson")" -eq 1 ]
	[ "$(jq -r 'select(.kind=="summary") | .reject_file' <<<"$(grep '^{' <<<"$output")")" = "$S/plexpipe/qdrant-upsert-rejects.ndjson" ]
}

@test "statedir: the IMDb retry queue defaults to the state dir and is retried from there" {
	fake_start --movies 3 --shows 0 --collections 0
	cd work
	timeout 60 "$PLEXPIPE_BIN/plex-ingest" --plex-url "$FAKE_PLEX" --plex-token "$FAKE_PLEX_TOKEN" >../in.ndjson 2>/dev/null
	fake_config '{"imdb":{"fail_rate":1.0,"fail_status":429,"retry_after":0}}'
	run timeout 120 "$PLEXPIPE_BIN/meta-enrich" --tmdb-url "$FAKE_TMDB" --imdb-url "$FAKE_IMDB" --no-tmdb \
		--imdb-max-retries 0 --imdb-backoff 0.01 --cache-dir ../c <../in.ndjson
	Q=$S/plexpipe/imdb_queue.json
	[ "$(jq length "$Q")" -eq 3 ]
	[ "$(mode "$Q")" = 600 ]
	[ -z "$(ls -A .)" ]
	grep -q "3 IMDb ids kept in $Q for the next run" <<<"$output"
	# the next run (IMDb healthy again) retries them from there and empties it
	fake_reset '{"knobs":true}'
	run timeout 120 "$PLEXPIPE_BIN/meta-enrich" --tmdb-url "$FAKE_TMDB" --imdb-url "$FAKE_IMDB" --no-tmdb \
		--cache-dir ../c </dev/null
	[ "$(fake_stats .imdb.requests)" -ge 1 ]
	[ "$(jq length "$Q")" -eq 0 ]
}
