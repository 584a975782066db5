#!/usr/bin/env bats
# plexload.bats: scripts/plex-load as a supervisor, run over fake stage programs (tests/integration/fake-stages).

setup() {
	TOP=${PLEXPIPE_TOP:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}
	LOAD="$TOP/scripts/plex-load"
	export PLEXPIPE_BIN="$TOP/tests/integration/fake-stages"
	T=$(mktemp -d "${BATS_TMPDIR:-/tmp}/plexload.XXXXXX")
	export FAKE_LOG="$T/events"
	unset LOG_LEVEL LOG_FORMAT QDRANT_UPSERT_BUFFER_SIZE QDRANT_PREFER_GRPC PLEX_TOKEN
}

teardown() {
	if [ -n "${LOADPID:-}" ]; then
		kill -KILL "$LOADPID" 2>/dev/null || true
	fi
	rm -rf "$T"
}

# run plex-load bounded in time; stdout and stderr apart
load() {
	status=0
	timeout 60 "$LOAD" "$@" >"$T/stdout" 2>"$T/stderr" || status=$?
	output=$(cat "$T/stdout")
	ERR=$(cat "$T/stderr")
}

# the last plex-load line of stderr
last_line() { grep '^plex-load:' "$T/stderr" | tail -n 1; }

@test "all stages succeed: exit 0, results on stdout, one summary line" {
	load
	[ "$status" -eq 0 ]
	[ "$(grep -c '"kind":"result"' <<<"$output")" -eq 4 ]
	[[ "$(last_line)" == *"every stage succeeded"* ]]
	# the stages' own lines keep their prefixes
	grep -q '^plex-ingest: started' "$T/stderr"
	grep -q '^qdrant-upsert: started' "$T/stderr"
}

@test "root cause: meta-enrich exits 2, its status and name are reported" {
	FAKE_META_ENRICH_EXIT=2 load
	[ "$status" -eq 2 ]
	[[ "$(last_line)" == *"meta-enrich exited with status 2"* ]]
	[ "$(grep -c '^plex-load: error' "$T/stderr")" -eq 1 ]
}

@test "root cause: plex-ingest fails without end record; downstream 5s are consequences" {
	FAKE_PLEX_INGEST_EXIT=1 FAKE_PLEX_INGEST_NOEND=1 load
	[ "$status" -eq 1 ]
	[[ "$(last_line)" == *"plex-ingest exited with status 1"* ]]
	[[ "$(last_line)" == *"meta-enrich 5"* ]]
	[[ "$(last_line)" == *"qdrant-upsert 5"* ]]
}

@test "root cause: qdrant-upsert dies early; upstream SIGPIPE (141) is a consequence" {
	FAKE_PLEX_INGEST_LINES=200000 FAKE_QDRANT_UPSERT_FAIL_AT=1 FAKE_QDRANT_UPSERT_EXIT=2 load
	[ "$status" -eq 2 ]
	[[ "$(last_line)" == *"qdrant-upsert exited with status 2"* ]]
	[[ "$(last_line)" == *"meta-enrich 141"* ]]
}

@test "root cause: a stage killed by a signal gives 128+N and its name" {
	FAKE_PLEX_INGEST_LINES=200000 FAKE_META_ENRICH_FAIL_AT=2 FAKE_META_ENRICH_SIGNAL=KILL load
	[ "$status" -eq 137 ]
	[[ "$(last_line)" == *"meta-enrich exited with status 137 (killed by SIGKILL)"* ]]
}

@test "root cause: a hard failure wins over a partial (4); a lone 4 is reported" {
	FAKE_META_ENRICH_EXIT=4 FAKE_QDRANT_UPSERT_EXIT=1 load
	[ "$status" -eq 1 ]
	[[ "$(last_line)" == *"qdrant-upsert exited with status 1"* ]]
	FAKE_QDRANT_UPSERT_EXIT=4 load
	[ "$status" -eq 4 ]
	[[ "$(last_line)" == *"qdrant-upsert exited with status 4"* ]]
}

@test "root cause: a downstream 5 with a healthy upstream is the cause" {
	FAKE_PLEX_INGEST_NOEND=1 load
	[ "$status" -eq 5 ]
	[[ "$(last_line)" == *"meta-enrich exited with status 5"* ]]
}

@test "option routing: own options, stage options by --list-options, -v to all" {
	load -j3 --sample-dir /some/dir --tmdb-url http://127.0.0.1:9 --dense none \
	    --imdb-queue="$T/q.json" --offline --dry-run -v --collection c2
	[ "$status" -eq 0 ]
	grep -qx 'plex-ingest args --sample-dir /some/dir -v' "$FAKE_LOG"
	grep -qx "meta-enrich args --tmdb-url http://127.0.0.1:9 --imdb-queue $T/q.json --offline -v -j 3" "$FAKE_LOG"
	grep -qx 'qdrant-upsert args --dense none -v --collection c2 --dry-run' "$FAKE_LOG"
}

@test "option routing: an option two stages define goes to both" {
	load --reject-file "$T/rej" --strict
	[ "$status" -eq 0 ]
	grep -qx "meta-enrich args --reject-file $T/rej --strict" "$FAKE_LOG"
	grep -qx "qdrant-upsert args --reject-file $T/rej --strict" "$FAKE_LOG"
	grep -qx 'plex-ingest args ' "$FAKE_LOG"
}

@test "option errors: unknown option, missing value, bad number exit 2 before any stage runs" {
	load --no-such-option
	[ "$status" -eq 2 ]
	[[ "$ERR" == *"unknown option '--no-such-option'"* ]]
	load --tmdb-url
	[ "$status" -eq 2 ]
	load -j zero
	[ "$status" -eq 2 ]
	load --delay soon
	[ "$status" -eq 2 ]
	load --offline=yes
	[ "$status" -eq 2 ]
	[ ! -e "$FAKE_LOG" ]
}

@test "mcp-plex compatibility: variables and options mapped to plexpipe's" {
	LOG_LEVEL=CRITICAL QDRANT_UPSERT_BUFFER_SIZE=77 load --enrichment-workers 6 \
	    --plex-token s3cr3t-token --no-qdrant-https --qdrant-grpc-port 6334 --qdrant-prefer-grpc \
	    --plex-chunk-size 50 --enrichment-batch-size 10 --imdb-max-retries 5 --delay 1
	[ "$status" -eq 0 ]
	grep -qx 'qdrant-upsert args --batch-size 77' "$FAKE_LOG"
	grep -qx 'plex-ingest args --plex-chunk-size 50' "$FAKE_LOG"
	grep -qx 'meta-enrich args --enrichment-batch-size 10 --imdb-max-retries 5 -j 6' "$FAKE_LOG"
	# secrets travel in the environment, not on a command line; the level word lower-cased (the stages take mcp-plex's words)
	grep -q '^plex-ingest env PLEX_TOKEN=s3cr3t-token LOG_LEVEL=critical QDRANT_HTTPS=false ' "$FAKE_LOG"
	if grep -q 'args.*s3cr3t' "$FAKE_LOG"; then false; fi
	[[ "$ERR" == *"plex-load: warning: --qdrant-grpc-port ignored"* ]]
	[[ "$ERR" == *"plex-load: warning: --qdrant-prefer-grpc ignored"* ]]
	# the explicit option wins over the variable
	QDRANT_UPSERT_BUFFER_SIZE=77 load --upsert-buffer-size 12
	grep -qx 'qdrant-upsert args --batch-size 12' "$FAKE_LOG"
}

@test "--help, --version, --list-options" {
	load --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"EXIT STATUS"* ]]
	[[ "$output" == *"--upsert-buffer-size"* ]]
	load --version
	[ "$output" = "plex-load plexpipe 0.1.0" ]
	load --list-options
	grep -qx 'record=' <<<"$output"
	grep -qx 'dry-run' <<<"$output"
}

@test "missing stage programs: exit 2 naming the program" {
	PLEXPIPE_BIN="$T/empty" load
	[ "$status" -eq 2 ]
	[[ "$ERR" == *"cannot find plex-ingest"* ]]
}

@test "--record keeps each stage's output" {
	FAKE_PLEX_INGEST_LINES=5 load --record "$T/rec"
	[ "$status" -eq 0 ]
	[ "$(wc -l <"$T/rec/plex.ndjson")" -eq 6 ]
	cmp "$T/rec/plex.ndjson" "$T/rec/points.ndjson"
	[ "$(wc -l <"$T/rec/results.ndjson")" -eq 6 ]
	[ "$output" = "$(cat "$T/rec/results.ndjson")" ]
	tail -n 1 "$T/rec/plex.ndjson" | grep -q '"kind":"end"'
}

# start plex-load in the background with SIGINT not ignored (job control)
start_bg() {
	set -m
	"$LOAD" "$@" >"$T/stdout" 2>"$T/stderr" &
	LOADPID=$!
	set +m
}

wait_for() {	# wait_for SECONDS CMD...: poll until CMD succeeds
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.1
	done
}

runs_done() { [ "$(grep -c 'plex-ingest exit 0' "$FAKE_LOG" 2>/dev/null)" -ge "$1" ]; }
stages_running() { grep -q 'args' "$FAKE_LOG" 2>/dev/null && [ "$(grep -c ' args' "$FAKE_LOG")" -eq 3 ]; }

bounded_wait() {	# bounded_wait PID SECONDS: wait for PID, its status in $rc; fails on timeout
	local end=$((SECONDS + $2))
	while kill -0 "$1" 2>/dev/null; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.1
	done
	rc=0
	wait "$1" || rc=$?
	return 0
}

@test "SIGTERM: forwarded upstream first; the last stage drains its input; exit 143" {
	FAKE_PLEX_INGEST_LINES=100000 FAKE_PLEX_INGEST_DELAY=0.02 start_bg --record "$T/rec"
	wait_for 10 stages_running
	sleep 0.5
	kill -TERM "$LOADPID"
	bounded_wait "$LOADPID" 15
	[ "$rc" -eq 143 ]
	grep -qx 'plex-ingest got TERM' "$FAKE_LOG"
	grep -qx 'meta-enrich got TERM' "$FAKE_LOG"
	# qdrant-upsert read its input to the end (no end record: 5) before any signal
	if grep -qx 'qdrant-upsert got TERM' "$FAKE_LOG"; then false; fi
	grep -qx 'qdrant-upsert exit 5' "$FAKE_LOG"
	grep -q 'stopped by SIGTERM' "$T/stderr"
	# the recording tees outlived the signal, and the last stage read all
	# that meta-enrich wrote: one result per record
	[ "$(wc -l <"$T/rec/points.ndjson")" -eq "$(wc -l <"$T/rec/results.ndjson")" ]
	[ "$(wc -l <"$T/rec/points.ndjson")" -gt 0 ]
}

@test "SIGTERM: a last stage still busy after PLEXLOAD_DRAIN_SECONDS gets the signal too" {
	PLEXLOAD_DRAIN_SECONDS=1 FAKE_PLEX_INGEST_LINES=2000 FAKE_QDRANT_UPSERT_DELAY=0.5 start_bg
	wait_for 10 stages_running
	sleep 1
	t0=$SECONDS
	kill -TERM "$LOADPID"
	bounded_wait "$LOADPID" 15
	[ "$rc" -eq 143 ]
	grep -qx 'qdrant-upsert got TERM' "$FAKE_LOG"
	[ $((SECONDS - t0)) -le 4 ]
}

@test "a second SIGTERM goes to every stage at once" {
	PLEXLOAD_DRAIN_SECONDS=30 FAKE_PLEX_INGEST_LINES=2000 FAKE_QDRANT_UPSERT_DELAY=0.5 start_bg
	wait_for 10 stages_running
	sleep 1
	kill -TERM "$LOADPID"
	wait_for 5 grep -qx 'meta-enrich got TERM' "$FAKE_LOG"
	sleep 0.5
	if grep -qx 'qdrant-upsert got TERM' "$FAKE_LOG"; then false; fi
	kill -TERM "$LOADPID"
	bounded_wait "$LOADPID" 10
	[ "$rc" -eq 143 ]
	grep -qx 'qdrant-upsert got TERM' "$FAKE_LOG"
}

@test "SIGTERM to every process at once (systemctl stop, kill -- -PGID): statuses still reported, exit 143" {
	FAKE_PLEX_INGEST_LINES=100000 FAKE_PLEX_INGEST_DELAY=0.02 start_bg
	wait_for 10 stages_running
	# systemd's KillMode=control-group signals every process of the unit,
	# the shell that runs the pipeline and reports its statuses among them
	pgids=$(ps -o pgid= --ppid "$LOADPID" | sort -u | sed 's/^ */-/')
	[ -n "$pgids" ]
	# shellcheck disable=SC2086  # one argument per process group
	kill -TERM -- "-$LOADPID" $pgids
	bounded_wait "$LOADPID" 15
	[ "$rc" -eq 143 ]
	grep -qx 'meta-enrich got TERM' "$FAKE_LOG"
	[[ "$(last_line)" == *"stopped by SIGTERM"*"(statuses: plex-ingest"*"qdrant-upsert "*")" ]]
	if grep -q 'without reporting' "$T/stderr"; then false; fi
}

@test "SIGINT is forwarded to every stage; exit 130" {
	FAKE_PLEX_INGEST_LINES=100000 FAKE_PLEX_INGEST_DELAY=0.02 start_bg
	wait_for 10 stages_running
	kill -INT "$LOADPID"
	bounded_wait "$LOADPID" 15
	[ "$rc" -eq 130 ]
	grep -qx 'plex-ingest got INT' "$FAKE_LOG"
	grep -qx 'meta-enrich got INT' "$FAKE_LOG"
}

@test "a stage ignoring the signal is killed after PLEXLOAD_KILL_AFTER" {
	# qdrant-upsert ignores TERM (it is started with TERM ignored by a wrapper)
	mkdir "$T/bin"
	ln -s "$PLEXPIPE_BIN/fake-stage" "$T/bin/plex-ingest"
	ln -s "$PLEXPIPE_BIN/fake-stage" "$T/bin/meta-enrich"
	printf '#!/bin/bash\ntrap "" TERM\nexec -a qdrant-upsert sleep 300\n' >"$T/bin/qdrant-upsert"
	chmod +x "$T/bin/qdrant-upsert"
	PLEXPIPE_BIN="$T/bin" PLEXLOAD_KILL_AFTER=1 FAKE_PLEX_INGEST_LINES=100000 \
	    FAKE_PLEX_INGEST_DELAY=0.02 start_bg
	wait_for 10 test -s "$FAKE_LOG"
	sleep 0.5
	kill -TERM "$LOADPID"
	bounded_wait "$LOADPID" 15
	[ "$rc" -eq 143 ]
	grep -q 'killing them' "$T/stderr"
}

@test "--continuous: runs again after --delay, backs off after a failure, stops cleanly on SIGTERM" {
	FAKE_PLEX_INGEST_LINES=1 start_bg --continuous --delay 0.2
	wait_for 20 runs_done 3
	kill -TERM "$LOADPID"
	bounded_wait "$LOADPID" 10
	[ "$rc" -eq 143 ]
	grep -q 'continuous: run 3 starting' "$T/stderr"
	grep -q 'stopped by SIGTERM' "$T/stderr"

	: >"$FAKE_LOG"
	FAKE_META_ENRICH_EXIT=1 start_bg --continuous --delay 0.1
	wait_for 20 grep -q 'failed with status 1 (2 in a row); next run in 0.4 s' "$T/stderr"
	kill -TERM "$LOADPID"
	bounded_wait "$LOADPID" 10
	[ "$rc" -eq 143 ]
	grep -q 'run 1 failed with status 1 (1 in a row); next run in 0.2 s' "$T/stderr"
}

@test "--log-format json: plex-load's own lines are JSON" {
	FAKE_META_ENRICH_EXIT=2 load --log-format json
	[ "$status" -eq 2 ]
	grep '"prog":"plex-load"' "$T/stderr" | tail -n 1 | jq -e '.level == "error" and (.msg | test("meta-enrich exited with status 2"))'
}

# A pid plex-load once read from a stage may belong to another process by
# the time a signal comes (the stage exited, the pid was reused): it must
# not be signalled. The victim stands in for that other process.
@test "a signal between continuous runs reaches no stale stage pid" {
	mkdir "$T/tmp"
	sleep 60 &
	victim=$!
	TMPDIR="$T/tmp" FAKE_PLEX_INGEST_LINES=1 start_bg --continuous --delay 30
	wait_for 20 grep -q 'next run in 30 s' "$T/stderr"
	for f in "$T"/tmp/plex-load.*/pid.*; do echo "$victim" >"$f"; done
	kill -TERM "$LOADPID"
	bounded_wait "$LOADPID" 10
	[ "$rc" -eq 143 ]
	alive=0
	kill -0 "$victim" 2>/dev/null && alive=1
	kill "$victim" 2>/dev/null || true
	[ "$alive" -eq 1 ]
}

@test "a signal mid-run reaches no stale pid of a stage that already exited" {
	mkdir "$T/tmp"
	sleep 60 &
	victim=$!
	# plex-ingest is done at once; meta-enrich and qdrant-upsert are slow
	TMPDIR="$T/tmp" FAKE_PLEX_INGEST_LINES=2 FAKE_META_ENRICH_DELAY=1 start_bg
	wait_for 10 grep -qsx "plex-ingest exit 0" "$FAKE_LOG"
	echo "$victim" >"$(echo "$T"/tmp/plex-load.*)/pid.0"
	kill -TERM "$LOADPID"
	bounded_wait "$LOADPID" 15
	[ "$rc" -eq 143 ]
	alive=0
	kill -0 "$victim" 2>/dev/null && alive=1
	kill "$victim" 2>/dev/null || true
	[ "$alive" -eq 1 ]
}

@test "a secret option wins over its *_FILE variable from the environment" {
	mkdir -p "$T/bin/real"
	ln -s "$PLEXPIPE_BIN/fake-stage" "$T/bin/real/plex-ingest"
	ln -s "$PLEXPIPE_BIN/fake-stage" "$T/bin/meta-enrich"
	ln -s "$PLEXPIPE_BIN/fake-stage" "$T/bin/qdrant-upsert"
	printf '#!/bin/bash\n[ "$1" = --list-options ] || echo "file=${PLEX_TOKEN_FILE-unset}" >>"$FAKE_LOG"\nexec "%s" "$@"\n' \
		"$T/bin/real/plex-ingest" >"$T/bin/plex-ingest"
	chmod +x "$T/bin/plex-ingest"
	PLEXPIPE_BIN="$T/bin" PLEX_TOKEN_FILE=/etc/old-token load --plex-token new-token-4711
	[ "$status" -eq 0 ]
	grep -qx 'plex-ingest env PLEX_TOKEN=new-token-4711 .*' "$FAKE_LOG"
	grep -qx 'file=unset' "$FAKE_LOG"
}

@test "an explicit --batch-size wins over QDRANT_UPSERT_BUFFER_SIZE" {
	QDRANT_UPSERT_BUFFER_SIZE=77 load --batch-size 7
	[ "$status" -eq 0 ]
	args=$(grep '^qdrant-upsert args ' "$FAKE_LOG")
	# getopt: the last --batch-size counts
	[ "${args##*--batch-size }" = 7 ]
}

@test "plex-load's own flags refuse a value (--dry-run=no must not mean a dry run)" {
	for f in --dry-run=no --continuous=false --qdrant-https=false --no-qdrant-prefer-grpc=1; do
		load "$f"
		[ "$status" -eq 2 ] || { echo "$f: $status"; false; }
		[[ "$ERR" == *"takes no value"* ]]
	done
	[ ! -e "$FAKE_LOG" ]
}
