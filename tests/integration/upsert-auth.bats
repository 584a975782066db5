#!/usr/bin/env bats
# upsert-auth.bats: qdrant-upsert and a Qdrant that needs an api-key: 401 is exit 2 at once; the key never shows.

load helpers

GEN="$PLEXPIPE_TOP/tests/integration/upsert-gen-points.py"
KEY=qdrant-secret-key-123

setup_file() {
	fake_start --dir "$BATS_FILE_TMPDIR" --qdrant-key "$KEY"
	python3 "$GEN" --movies 30 >"$BATS_FILE_TMPDIR/points.ndjson"
}

teardown_file() {
	fake_stop
}

@test "upsert-auth: no key or a wrong key is exit 2 at once" {
	cd "$BATS_TEST_TMPDIR"
	run timeout 30 env -u QDRANT_API_KEY "$PLEXPIPE_BIN/qdrant-upsert" --qdrant-url "$FAKE_QDRANT" --dense none "$BATS_FILE_TMPDIR/points.ndjson"
	[ "$status" -eq 2 ]
	[[ "$output" == *401* ]]
	run timeout 30 env QDRANT_API_KEY=wrong-key-456 "$PLEXPIPE_BIN/qdrant-upsert" --qdrant-url "$FAKE_QDRANT" --dense none "$BATS_FILE_TMPDIR/points.ndjson"
	[ "$status" -eq 2 ]
	[[ "$output" != *wrong-key-456* ]]
	[ ! -e qdrant-dead-letter.ndjson ]
}

@test "upsert-auth: the key from a file works and never appears in the output" {
	cd "$BATS_TEST_TMPDIR"
	printf '%s\n' "$KEY" >key.txt
	run timeout 60 env -u QDRANT_API_KEY "$PLEXPIPE_BIN/qdrant-upsert" -v --qdrant-url "$FAKE_QDRANT" \
		--qdrant-api-key-file key.txt --dense none "$BATS_FILE_TMPDIR/points.ndjson"
	[ "$status" -eq 0 ]
	[[ "$output" != *"$KEY"* ]]
	[ "$(curl -sS --max-time 10 -H "api-key: $KEY" -X POST -H 'Content-Type: application/json' \
		-d '{"exact":true}' "$FAKE_QDRANT/collections/media-items/points/count" | jq .result.count)" -eq 30 ]
}
