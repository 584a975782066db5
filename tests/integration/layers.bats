#!/usr/bin/env bats
# layers.bats: each mechanism lives once, in common/ (issue 14); the stages only call it.

setup() {
	cd "$PLEXPIPE_TOP" || return 1
}

stray_parsers() {
	grep -rnE --include='*.[ch]' 'json_tokener_|json_object_from_file' "$@"
}

@test "layers: no json_tokener_* or json_object_from_file outside common/ (one strict parser: common/jparse.c)" {
	run stray_parsers ingest enrich upsert
	echo "$output"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
}

@test "layers: the parser check does find such a call (in common/jparse.c)" {
	run stray_parsers common/jparse.c
	[ "$status" -eq 0 ]
	[ -n "$output" ]
}
