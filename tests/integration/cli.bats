#!/usr/bin/env bats
# cli.bats: the same command-line rules in all four programs: -h, a bad flag, the program name, -q/-v/-vv, LOG_LEVEL words.

load helpers

setup() {
	TOP=$PLEXPIPE_TOP
	BIN=$PLEXPIPE_BIN
	export XDG_STATE_HOME="$BATS_TEST_TMPDIR/state"
	unset LOG_LEVEL LOG_FORMAT PLEXPIPE_BIN_OVERRIDE
	cd "$BATS_TEST_TMPDIR"
}

# path PROG: where the program under test is
path() {
	if [ "$1" = plex-load ]; then echo "$TOP/scripts/plex-load"; else echo "$BIN/$1"; fi
}

# both PROG ARGS...: run with stdout and stderr apart ($out, $err, $status)
both() {
	local p
	p=$(path "$1")
	shift
	status=0
	PLEXPIPE_BIN="$BIN" timeout 60 "$p" "$@" >out 2>err || status=$?
	out=$(cat out)
	err=$(cat err)
}

@test "cli: -h is --help in every program: exit 0, the help on stdout" {
	for p in plex-ingest meta-enrich qdrant-upsert plex-load; do
		both "$p" -h
		[ "$status" -eq 0 ]
		[ -z "$err" ]
		both "$p" --help
		[ "$status" -eq 0 ]
		h=$out
		both "$p" -h
		[ "$out" = "$h" ]
		grep -q -- '--log-level' <<<"$out"
	done
}

@test "cli: a bad flag: 'PROG: unknown option', 'Try PROG --help', nothing more, exit 2; the name carries no path" {
	for p in plex-ingest meta-enrich qdrant-upsert plex-load; do
		for bad in --no-such-flag -Z; do
			both "$p" "$bad"
			[ "$status" -eq 2 ]
			[ -z "$out" ]
			[ "$err" = "$p: unknown option '$bad'
Try '$p --help'." ]
		done
		# a missing value is named the same way
		both "$p" --log-level
		[ "$status" -eq 2 ]
		[ "$(wc -l <err)" -le 3 ]
		[[ "$(head -n 1 err)" == "$p: "*"--log-level"* ]]
		[ "$(tail -n 1 err)" = "Try '$p --help'." ]
	done
}

@test "cli: LOG_LEVEL and --log-level take critical, error, warning, info, debug, notset everywhere" {
	for w in critical error warning info debug notset CRITICAL Info; do
		LOG_LEVEL=$w both plex-ingest --sample-dir "$TOP/sample"
		[ "$status" -eq 0 ]
		both plex-ingest --log-level "$w" --sample-dir "$TOP/sample"
		[ "$status" -eq 0 ]
		LOG_LEVEL=$w both meta-enrich --offline --cache-dir "$TOP/sample/cache" </dev/null
		[ "$status" -eq 5 ]	# no end record: but not a usage error
		LOG_LEVEL=$w both qdrant-upsert --dry-run --dense none </dev/null
		[ "$status" -eq 5 ]
		LOG_LEVEL=$w both plex-load --sample-dir "$TOP/sample/plex" --offline \
			--cache-dir "$TOP/sample/cache" --dry-run --dense none
		[ "$status" -eq 0 ]
	done
	LOG_LEVEL=loud both plex-ingest --sample-dir "$TOP/sample"
	[ "$status" -eq 2 ]
	grep -q "critical, error, warning, info, debug or notset" err
}

@test "cli: plex-load learns the stages' options whatever LOG_LEVEL and LOG_FORMAT say" {
	for env in LOG_LEVEL=critical LOG_LEVEL=bogus LOG_FORMAT=yaml; do
		# --tmdb-url is meta-enrich's: plex-load must find it with --list-options
		run env "$env" PLEXPIPE_BIN="$BIN" timeout 60 "$TOP/scripts/plex-load" --tmdb-url http://127.0.0.1:9 --no-such-x
		[ "$status" -eq 2 ]
		[[ "$output" == *"unknown option '--no-such-x'"* ]]
		[[ "$output" != *"--tmdb-url"* ]]
	done
}

@test "cli: -q warnings and errors only; default adds the summary; -v info lines; -vv debug lines" {
	both plex-ingest -q --sample-dir "$TOP/sample"
	[ "$status" -eq 0 ]
	[ -z "$err" ]
	both plex-ingest --sample-dir "$TOP/sample"
	grep -q '^plex-ingest: summary:' err
	! grep -q '^plex-ingest: section' err || false
	both plex-ingest -v --sample-dir "$TOP/sample"
	grep -q '^plex-ingest: section 1: ' err
	! grep -q 'debug:' err || false
	both plex-ingest -vv --sample-dir "$TOP/sample"
	grep -q '^plex-ingest: debug: ' err
	# -q of plex-load quiets plex-load and every stage
	both plex-load -q --sample-dir "$TOP/sample/plex" --offline --cache-dir "$TOP/sample/cache" \
		--dry-run --dense none
	[ "$status" -eq 0 ]
	[ -z "$err" ]
}
