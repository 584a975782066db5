#!/bin/bash
# bench/ingest.sh: plex-ingest against the fake Plex at 2,000 and 20,000 items: requests, peak RSS, items/s.
#
# Usage: bench/ingest.sh [CHUNK]   (PLEXPIPE_BIN: programs, default bin/)
# Peak memory must not grow with the library: the 20,000-item RSS should be
# within 20% of the 2,000-item one (printed as a ratio, and checked: exit 1
# when it is not).
set -euo pipefail

chunk=${1:-200}
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

# run_one LABEL ARGS...: one library size; prints a line and sets rss
run_one() {
	local label=$1
	shift
	start_fake "$@"
	plex=$(fake_url plex) control=$(fake_url control)
	PLEX_TOKEN=plex-test-token /usr/bin/time -f '%M %U %S' -o "$work/rss" \
		timeout 900 "$bin/plex-ingest" --plex-url "$plex" --plex-chunk-size "$chunk" \
		-q 2>"$work/err" | tail -n 1 >"$work/end.json"
	local items reqs listing meta secs ips served
	items=$(jq '.items' "$work/end.json")
	reqs=$(jq '.stats["plex-ingest"].requests' "$work/end.json")
	listing=$(jq '.stats["plex-ingest"].listing_requests' "$work/end.json")
	meta=$(jq '.stats["plex-ingest"].metadata_requests' "$work/end.json")
	secs=$(jq '.stats["plex-ingest"].seconds' "$work/end.json")
	ips=$(jq '.stats["plex-ingest"].items_per_s' "$work/end.json")
	served=$(curl -sS --max-time 10 "$control/stats" | jq .plex.requests)
	local cpu
	read -r rss cpu <<<"$(tail -n 1 "$work/rss" | awk '{ printf "%s %.2f", $1, $2 + $3 }')"
	# cpu: plex-ingest's own CPU seconds; the rest of the wall time is the fake
	printf '%-7s items=%-6s requests=%-4s (listing %s, metadata %s; fake saw %s) peak_rss_kb=%-6s seconds=%-7s cpu_s=%-6s items_per_s=%s\n' \
		"$label" "$items" "$reqs" "$listing" "$meta" "$served" "$rss" "$secs" "$cpu" "$ips"
	stop_fake
}

echo "plex-ingest against the fake Plex, chunk size $chunk"
# 2,000 items: 1,000 movies (+ collections) and 1,000 episodes of 10 shows
run_one 2000 --movie-sections 1 --movies 1000 --collections 5 \
	--shows 10 --seasons 5 --episodes 20
rss_small=$rss
# 20,000 items: 10,000 movies in two sections and 10,000 episodes of 50 shows
run_one 20000 --movie-sections 2 --movies 5000 --collections 5 \
	--shows 50 --seasons 10 --episodes 20
rss_large=$rss

ratio=$(awk -v a="$rss_small" -v b="$rss_large" 'BEGIN { printf "%.3f", b / a }')
echo "peak RSS 20000/2000 = $ratio (must be <= 1.20)"
awk -v r="$ratio" 'BEGIN { exit !(r <= 1.20) }'
