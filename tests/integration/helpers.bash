# tests/integration/helpers.bash: what the bats files share: where the programs are, a clean environment, and the fake services (tests/fake/fakesvc.py).
# shellcheck shell=bash

: "${PLEXPIPE_TOP:=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}"
: "${PLEXPIPE_BIN:=$PLEXPIPE_TOP/bin}"
FAKESVC="$PLEXPIPE_TOP/tests/fake/fakesvc.py"
export FAKE_PLEX_TOKEN=plex-test-token
export FAKE_TMDB_KEY=0123456789abcdef0123456789abcdef
# State files (dead letters, rejects, the IMDb queue, plex-load's listing
# state; common/statedir.h) go to a per-test directory, never into the
# user's ~/.local/state or the clone.
export XDG_STATE_HOME="${BATS_TEST_TMPDIR:-${BATS_FILE_TMPDIR:-${BATS_RUN_TMPDIR:-${TMPDIR:-/tmp}}}}/xdg-state"

# need_stages: skips the test unless the three stage programs are built in PLEXPIPE_BIN.
need_stages() {
	local p
	for p in plex-ingest meta-enrich qdrant-upsert; do
		[ -x "$PLEXPIPE_BIN/$p" ] || skip "$PLEXPIPE_BIN/$p not built"
	done
}

# unset_pipeline_env: unsets the variables the stages take their services,
# state and logging from, so that a test sees only what it sets itself.
unset_pipeline_env() {
	unset PLEX_URL PLEX_TOKEN TMDB_API_KEY QDRANT_URL QDRANT_API_KEY EMBED_URL LOG_LEVEL LOG_FORMAT
	unset QDRANT_HOST QDRANT_PORT QDRANT_HTTPS QDRANT_COLLECTION IMDB_QUEUE ENRICHMENT_WORKERS
}

# export_fake_env: the stages' service variables pointed at the fakes (after fake_start).
export_fake_env() {
	export PLEX_URL=$FAKE_PLEX PLEX_TOKEN=$FAKE_PLEX_TOKEN TMDB_API_KEY=$FAKE_TMDB_KEY
	export QDRANT_URL=$FAKE_QDRANT EMBED_URL=$FAKE_EMBED
}

# fake_start [--dir DIR] [fakesvc options...]
# Starts the fakes in the background (port file and log in DIR, default
# $BATS_TEST_TMPDIR, or $BATS_FILE_TMPDIR inside setup_file), waits at most
# FAKE_START_TIMEOUT seconds (default 15) for the port file, then exports
# FAKE_PLEX FAKE_TMDB FAKE_IMDB FAKE_QDRANT FAKE_EMBED FAKE_CONTROL FAKE_PID
# FAKE_PORT_FILE FAKE_LOG. The fake exits by itself after FAKE_MAX_SECONDS (600).
fake_start() {
	local dir=${BATS_TEST_TMPDIR:-${BATS_FILE_TMPDIR:-${TMPDIR:-/tmp}}}
	if [ "${1:-}" = "--dir" ]; then
		dir=$2
		shift 2
	fi
	mkdir -p "$dir"
	export FAKE_PORT_FILE="$dir/fake-ports.json" FAKE_LOG="$dir/fake.log"
	rm -f "$FAKE_PORT_FILE"
	# fd 3 is bats' output channel: a background child must not hold it open
	python3 "$FAKESVC" --port-file "$FAKE_PORT_FILE" \
		--max-seconds "${FAKE_MAX_SECONDS:-600}" "$@" >"$FAKE_LOG" 2>&1 3>&- &
	export FAKE_PID=$!
	local waited=0 limit=$((${FAKE_START_TIMEOUT:-15} * 10))
	while [ ! -s "$FAKE_PORT_FILE" ]; do
		if ! kill -0 "$FAKE_PID" 2>/dev/null; then
			echo "# fake_start: fakesvc exited early:" >&2
			sed 's/^/# /' "$FAKE_LOG" >&2
			return 1
		fi
		if [ "$waited" -ge "$limit" ]; then
			echo "# fake_start: no port file after ${FAKE_START_TIMEOUT:-15}s" >&2
			fake_stop
			return 1
		fi
		sleep 0.1
		waited=$((waited + 1))
	done
	FAKE_PLEX=$(fake_url plex)
	FAKE_TMDB=$(fake_url tmdb)
	FAKE_IMDB=$(fake_url imdb)
	FAKE_QDRANT=$(fake_url qdrant)
	FAKE_EMBED=$(fake_url embed)
	FAKE_CONTROL=$(fake_url control)
	export FAKE_PLEX FAKE_TMDB FAKE_IMDB FAKE_QDRANT FAKE_EMBED FAKE_CONTROL
}

# fake_stop: SIGTERM the fake started by fake_start and wait (at most 5 s; then SIGKILL).
fake_stop() {
	[ -n "${FAKE_PID:-}" ] || return 0
	kill -TERM "$FAKE_PID" 2>/dev/null || true
	local _
	for _ in $(seq 50); do
		kill -0 "$FAKE_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$FAKE_PID" 2>/dev/null; then
		kill -KILL "$FAKE_PID" 2>/dev/null || true
	fi
	wait "$FAKE_PID" 2>/dev/null || true
	unset FAKE_PID
}

# fake_url NAME: base URL of plex|tmdb|imdb|qdrant|embed|control (from the port file).
fake_url() {
	jq -er --arg n "$1" '.[$n]' "$FAKE_PORT_FILE"
}

# fake_config JSON: POST CONTROL/config (knobs, see tests/fake/README.md); fails on a refused knob.
fake_config() {
	curl -sS -f --max-time 10 -X POST -H 'Content-Type: application/json' \
		--data-binary "$1" "$FAKE_CONTROL/config" >/dev/null
}

# fake_stats [jq filter]: GET CONTROL/stats, filtered (default the whole document), compact/raw.
fake_stats() {
	curl -sS -f --max-time 10 "$FAKE_CONTROL/stats" | jq -cr "${1:-.}"
}

# fake_reset [JSON]: POST CONTROL/reset; '{"data":true}' also empties Qdrant, '{"knobs":true}' clears knobs.
fake_reset() {
	local body='{}'
	[ $# -gt 0 ] && body=$1
	curl -sS -f --max-time 10 -X POST --data-binary "$body" "$FAKE_CONTROL/reset" >/dev/null
}

# fake_library [jq filter]: GET CONTROL/library (sections, rating keys, external ids), filtered.
fake_library() {
	curl -sS -f --max-time 10 "$FAKE_CONTROL/library" | jq -cr "${1:-.}"
}

# plex_get PATH [curl args...]: GET from the fake Plex with the token header and Accept: application/json.
plex_get() {
	local path=$1
	shift
	curl -sS --max-time 10 -H "X-Plex-Token: $FAKE_PLEX_TOKEN" -H 'Accept: application/json' "$@" "$FAKE_PLEX$path"
}

# skip_without_shared: sets SHARED (${PLEXPIPE_SHARED:-$PLEXPIPE_TOP/../shared}) or skips the test with the reason.
skip_without_shared() {
	SHARED=${PLEXPIPE_SHARED:-$PLEXPIPE_TOP/../shared}
	if [ ! -d "$SHARED/fixtures" ]; then
		skip "shared reference dir not found at $SHARED (set PLEXPIPE_SHARED)"
	fi
	export SHARED
}

# tscale SECONDS: a time bound scaled by PLEXPIPE_TIME_SCALE (default 1; make check-valgrind
# sets it, as programs under valgrind run many times slower). Prints whole seconds.
tscale() {
	echo $(($1 * ${PLEXPIPE_TIME_SCALE:-1}))
}
