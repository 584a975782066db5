#!/bin/bash
# bench/incremental.sh: a warm re-run of an unchanged 20,000-item library through plex-load, full (--full) versus incremental (listing state): wall time and requests per service.
#
# Usage: bench/incremental.sh [ITEMS]   (PLEXPIPE_BIN: programs, default bin/)
# ITEMS is 20000 (default) or 2000 for a quick look. A cold run first fills
# the caches and the collection; then the same library is loaded again with
# --full (every item's metadata fetched, every TMDb/IMDb answer from the
# cache, every point's content hash checked) and incrementally (sections and
# listings only). The incremental run must take under 10% of the warm full
# run's wall time (exit 1 when it does not).
#
# Plex runs alone in one fake process, TMDb, IMDb, Qdrant and embeddings in
# a second: in one Python process the 20,000 stored points and the cached
# TMDb answers slow every Plex answer down (one interpreter lock, a garbage
# collector walking them all), which no real deployment has (these are
# separate servers). The second process synthesises TMDb and IMDb answers
# for the ids it does not know.
set -euo pipefail

size=${1:-20000}
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

case $size in
20000)	# 10,000 movies in two sections and 10,000 episodes of 50 shows
	start_fake --movie-sections 2 --movies 5000 --collections 5 \
		--shows 50 --seasons 10 --episodes 20 ;;
2000)	start_fake --movie-sections 1 --movies 1000 --collections 5 \
		--shows 10 --seasons 5 --episodes 20 ;;
*)	echo "bench/incremental.sh: ITEMS is 20000 or 2000" >&2; exit 2 ;;
esac
control=$(fake_url control)
# the second fake: its TMDb, IMDb, Qdrant and embeddings
python3 "$top/tests/fake/fakesvc.py" --port-file "$work/ports-q.json" \
	--max-seconds 1800 --movies 1 --shows 0 >"$work/fake-q.log" 2>&1 &
fake_q_pid=$!
trap 'kill -TERM "$fake_q_pid" 2>/dev/null || true; wait "$fake_q_pid" 2>/dev/null || true; bench_cleanup' EXIT
for _ in $(seq 150); do
	[ -s "$work/ports-q.json" ] && break
	sleep 0.1
done
qurl() { jq -er --arg n "$1" '.[$n]' "$work/ports-q.json"; }
qcontrol=$(qurl control)
export PLEX_URL PLEX_TOKEN=plex-test-token TMDB_API_KEY=0123456789abcdef0123456789abcdef
export QDRANT_URL EMBED_URL
PLEX_URL=$(fake_url plex) QDRANT_URL=$(qurl qdrant) EMBED_URL=$(qurl embed)
opts=(--tmdb-url "$(qurl tmdb)" --imdb-url "$(qurl imdb)" --tmdb-rps 0
	--cache-dir "$work/cache" --imdb-queue "$work/imdb_queue.json"
	--dead-letter "$work/dead.ndjson" --state-dir "$work/state" --record "$work/rec")

tck=$(getconf CLK_TCK)
# cpu_of PID: the process's user+system CPU so far, in clock ticks
cpu_of() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# run LABEL ARGS...: one plex-load run; prints its lines, sets secs and cpu
# (CPU seconds of the stages and both fakes: what the run cost, whatever
# else the machine was doing)
run() {
	local label=$1 t0 t1 stats f0 q0 stages fplex fother
	shift
	curl -sS -f --max-time 10 -X POST --data-binary '{}' "$control/reset" >/dev/null
	curl -sS -f --max-time 10 -X POST --data-binary '{}' "$qcontrol/reset" >/dev/null
	f0=$(cpu_of "$fake_pid") q0=$(cpu_of "$fake_q_pid")
	t0=$(date +%s.%N)
	PLEXPIPE_BIN=$bin /usr/bin/time -f '%U %S' -o "$work/time" timeout 1800 \
		"$top/scripts/plex-load" "${opts[@]}" "$@" \
		>/dev/null 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
	t1=$(date +%s.%N)
	secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
	stages=$(awk '{ printf "%.2f", $1 + $2 }' "$work/time")
	fplex=$(awk -v f=$(($(cpu_of "$fake_pid") - f0)) -v t="$tck" 'BEGIN { printf "%.2f", f / t }')
	fother=$(awk -v q=$(($(cpu_of "$fake_q_pid") - q0)) -v t="$tck" 'BEGIN { printf "%.2f", q / t }')
	cpu=$(awk -v s="$stages" -v f="$fplex" -v q="$fother" 'BEGIN { printf "%.2f", s + f + q }')
	stats=$(jq -s '{plex: .[0].plex} + (.[1] | {tmdb, imdb, qdrant, embed})' \
		<(curl -sS -f --max-time 10 "$control/stats") <(curl -sS -f --max-time 10 "$qcontrol/stats"))
	printf '%-12s %8s s  plex %6s (listing %s, metadata %s)  tmdb %6s  imdb %6s  embeddings %5s  qdrant %5s (upserts %s)  emitted %s  upserted %s\n' \
		"$label" "$secs" \
		"$(jq '.plex.requests' <<<"$stats")" \
		"$(jq '.plex.by_endpoint["GET /library/sections/{key}/all"] // 0' <<<"$stats")" \
		"$(jq '.plex.by_endpoint["GET /library/metadata/{ids}"] // 0' <<<"$stats")" \
		"$(jq '.tmdb.requests' <<<"$stats")" "$(jq '.imdb.requests' <<<"$stats")" \
		"$(jq '.embed.by_endpoint["POST /v1/embeddings"] // 0' <<<"$stats")" "$(jq '.qdrant.requests' <<<"$stats")" \
		"$(jq '.qdrant.by_endpoint["PUT /collections/{c}/points"] // 0' <<<"$stats")" \
		"$(jq -s '[.[] | select(.kind == "plex") | .items | length] | add // 0' "$work/rec/plex.ndjson")" \
		"$(jq -s 'map(select(.kind == "summary"))[0].upserted' "$work/rec/results.ndjson")"
	# each stage's own seconds, from its summary line
	printf '%-12s CPU %s s (stages %s s, fake Plex %s s, other fakes %s s); stage seconds:' \
		"" "$cpu" "$stages" "$fplex" "$fother"
	for s in plex-ingest meta-enrich qdrant-upsert; do
		printf ' %s %s' "$s" "$(sed -n "s/^$s: summary: .* seconds=\([0-9.]*\).*/\1/p" "$work/err" | tail -n 1)"
	done
	echo
}

echo "plex-load, $size-item library on the fakes (no latency), -j4, 2 cores shared"
run cold --full
run "warm full" --full
full=$secs full_cpu=$cpu
run incremental
incr=$secs incr_cpu=$cpu
ratio=$(awk -v a="$full" -v b="$incr" 'BEGIN { printf "%.3f", b / a }')
echo "incremental / warm full CPU time = $(awk -v a="$full_cpu" -v b="$incr_cpu" 'BEGIN { printf "%.3f", b / a }')"
echo "incremental / warm full wall time = $ratio (must be < 0.10)"
awk -v r="$ratio" 'BEGIN { exit !(r < 0.10) }'
