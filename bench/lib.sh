# bench/lib.sh: what every benchmark script shares: paths, a scratch dir, and the fake services.
# shellcheck shell=bash
#
# Sourced by bench/*.sh after `set -euo pipefail`. Sets top, bin, work; the
# scratch dir and a running fake are cleaned up on exit.

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck disable=SC2034 # used by the scripts that source this file
bin=${PLEXPIPE_BIN:-$top/bin}
work=$(mktemp -d)
fake_pid=

stop_fake() {
	if [ -n "$fake_pid" ]; then
		kill -TERM "$fake_pid" 2>/dev/null || true
		wait "$fake_pid" 2>/dev/null || true
	fi
	fake_pid=
}

bench_cleanup() {
	stop_fake
	rm -rf "$work"
}
trap bench_cleanup EXIT

# start_fake ARGS...: the fake services (tests/fake) with these options, waited
# for (15 s at most); sets fake_pid. fake_url NAME gives a service's URL.
start_fake() {
	local _
	rm -f "$work/ports.json"
	python3 "$top/tests/fake/fakesvc.py" --port-file "$work/ports.json" \
		--max-seconds 900 "$@" >"$work/fake.log" 2>&1 &
	fake_pid=$!
	for _ in $(seq 150); do
		[ -s "$work/ports.json" ] && return 0
		kill -0 "$fake_pid" 2>/dev/null || break
		sleep 0.1
	done
	cat "$work/fake.log" >&2
	echo "bench: the fake services did not start" >&2
	exit 1
}

fake_url() {
	jq -er --arg n "$1" '.[$n]' "$work/ports.json"
}
