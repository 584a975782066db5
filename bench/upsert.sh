#!/bin/bash
# bench/upsert.sh: qdrant-upsert with --dense none and local BM25 against the fake Qdrant: points/s, CPU, peak RSS at 2,000 and 20,000 points.
#
# Usage: bench/upsert.sh   (PLEXPIPE_BIN: programs, default bin/)
# Prints, per size: wall-clock points/s against the fake at zero latency,
# points per CPU-second of qdrant-upsert itself (what it could do against a
# server that keeps up), the --dry-run rate (no network at all), and peak
# RSS. Peak memory must not grow with the input: the 20,000-point RSS must
# be within 20% of the 2,000-point one (checked: exit 1 when it is not).
# Stale cleanup is off (--no-cleanup): this measures loading. The fake is a Python server and is usually the bottleneck of the
# wall-clock figure; the CPU figure is the program's own cost.
set -euo pipefail

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

start_fake --movies 1 --shows 0	# Qdrant is what is measured; a token library
qdrant=$(fake_url qdrant)
control=$(fake_url control)

# run N [ARGS...]: one timed load of N synthetic points into an empty collection
run() {
	local n=$1
	shift
	curl -sS --max-time 10 -X POST --data-binary '{"data":true,"knobs":true}' \
		"$control/reset" >/dev/null
	/usr/bin/time -f '%e %U %S %M' -o "$work/time" \
		timeout 600 "$bin/qdrant-upsert" -q --qdrant-url "$qdrant" --dense none --no-cleanup \
		--sparse local "$@" "$work/p$n.ndjson" >"$work/out" 2>"$work/err" ||
		{ cat "$work/err" >&2; exit 1; }
	read -r wall user sys rss <"$work/time"
	upserted=$(jq -s 'map(select(.kind=="summary"))[0].upserted' "$work/out")
	[ "$upserted" -eq "$n" ] || { echo "upserted $upserted of $n" >&2; exit 1; }
}

declare -A rss_of
printf '%-8s %-22s %10s %12s %10s\n' points mode points/s points/cpu-s "peak RSS"
for n in 2000 20000; do
	python3 "$top/tests/integration/upsert-gen-points.py" --movies "$n" >"$work/p$n.ndjson"
	for mode in "skip-unchanged" "no-skip-unchanged" "dry-run"; do
		case $mode in
		skip-unchanged) run "$n" ;;
		no-skip-unchanged) run "$n" --no-skip-unchanged ;;
		dry-run) run "$n" --dry-run ;;
		esac
		pps=$(awk -v n="$n" -v w="$wall" 'BEGIN { printf "%.0f", (w > 0 ? n / w : 0) }')
		ppc=$(awk -v n="$n" -v u="$user" -v s="$sys" 'BEGIN { printf "%.0f", (u + s > 0 ? n / (u + s) : 0) }')
		printf '%-8s %-22s %10s %12s %8s KB\n' "$n" "$mode" "$pps" "$ppc" "$rss"
		[ "$mode" = skip-unchanged ] && rss_of[$n]=$rss
	done
done
ratio=$(awk -v a="${rss_of[2000]}" -v b="${rss_of[20000]}" 'BEGIN { printf "%.2f", b / a }')
echo "peak RSS 20000/2000 points: $ratio (must be <= 1.20)"
awk -v r="$ratio" 'BEGIN { exit !(r <= 1.20) }'
