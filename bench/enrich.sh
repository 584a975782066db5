#!/bin/bash
# bench/enrich.sh: meta-enrich figures: -j1 vs -j4 on 400 movies with 50 ms fake latency, request counts cold and warm, warm items/s per worker.
set -euo pipefail

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

start_fake --movies 400 --collections 0 --shows 0
plex=$(fake_url plex) tmdb=$(fake_url tmdb) imdb=$(fake_url imdb) control=$(fake_url control)
stats() { curl -sS -f --max-time 10 "$control/stats" | jq -cr "$1"; }
reset() { curl -sS -f --max-time 10 -X POST --data-binary '{}' "$control/reset" >/dev/null; }
curl -sS -f --max-time 10 -X POST --data-binary '{"tmdb":{"latency_ms":50},"imdb":{"latency_ms":50}}' \
	"$control/config" >/dev/null

timeout 120 "$bin/plex-ingest" --plex-url "$plex" --plex-token plex-test-token >"$work/in.ndjson" 2>/dev/null
items=$(jq -s '[.[] | select(.kind=="plex") | .items[]] | length' "$work/in.ndjson")
export TMDB_API_KEY=0123456789abcdef0123456789abcdef

# run J CACHE: prints seconds
run() {
	local t0 t1
	t0=$(date +%s.%N)
	timeout 600 "$bin/meta-enrich" -j "$1" --enrichment-batch-size 10 --tmdb-rps 0 \
		--tmdb-url "$tmdb" --imdb-url "$imdb" --imdb-queue "$work/q.json" \
		--cache-dir "$2" <"$work/in.ndjson" >"$work/out-$1.ndjson" 2>"$work/err-$1"
	t1=$(date +%s.%N)
	echo "$t1 - $t0" | bc -l
}

echo "meta-enrich benchmark: $items movies, fake TMDb/IMDb latency 50 ms, no rate limit, batches of 10"
reset
s1=$(run 1 "$work/c1")
r1="tmdb=$(stats .tmdb.requests) imdb=$(stats .imdb.requests)"
reset
s4=$(run 4 "$work/c4")
r4="tmdb=$(stats .tmdb.requests) imdb=$(stats .imdb.requests)"
cmp -s "$work/out-1.ndjson" "$work/out-4.ndjson" && same=identical || same=DIFFERENT
printf 'cold -j1: %6.2f s  %6.1f items/s  requests %s\n' "$s1" "$(echo "$items / $s1" | bc -l)" "$r1"
printf 'cold -j4: %6.2f s  %6.1f items/s  requests %s\n' "$s4" "$(echo "$items / $s4" | bc -l)" "$r4"
printf 'speed-up -j4 / -j1: %.2fx (target >= 3x); -j1 and -j4 output %s\n' "$(echo "$s1 / $s4" | bc -l)" "$same"
for j in 1 4; do
	reset
	s=$(run "$j" "$work/c4")
	printf 'warm -j%d: %6.3f s  %8.1f items/s  %8.1f items/s per worker  requests tmdb=%s imdb=%s\n' \
		"$j" "$s" "$(echo "$items / $s" | bc -l)" "$(echo "$items / $s / $j" | bc -l)" \
		"$(stats .tmdb.requests)" "$(stats .imdb.requests)"
done
