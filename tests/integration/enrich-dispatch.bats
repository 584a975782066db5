#!/usr/bin/env bats
# enrich-dispatch.bats: meta-enrich's parent cuts batches into small jobs and writes each points record whole, in order.

load helpers
load enrich_fakes

# jobs_of SEQ FILE: the item counts of batch SEQ's jobs, from the -vv lines in FILE.
jobs_of() {
	sed -n "s/.*batch $1: job [0-9]* of [0-9]*, \([0-9]*\) items.*/\1/p" "$2" | tr '\n' ' '
}

# jq: an item's IMDb id as a worker finds it (Guid, else a legacy agent guid), or null.
IMDB_OF='def imdb_of: first(((.Guid // [])[] | .id | select(startswith("imdb://")) | ltrimstr("imdb://")),
	((.guid // "") | capture("imdb://(?<t>tt[0-9]+)") | .t)) // null;'

# imdb_per_job SEQ SIZES: the distinct IMDb ids of each job of plex batch SEQ (jobs of SIZES items, in order).
imdb_per_job() {
	jq -c --argjson sizes "[$(tr ' ' ',' <<<"${2% }")]" "$IMDB_OF select(.kind==\"plex\" and .seq==$1)
		| [.items[] | imdb_of] as \$ids
		| [foreach \$sizes[] as \$n ({e: 0}; {s: .e, e: (.e + \$n)}; \$ids[.s:.e] | map(select(. != null)) | unique | length)]" in.ndjson
}

@test "meta-enrich dispatch: a batch goes to workers as jobs of 20 items or more; its points record is the same as from one job" {
	fake_start --movies 70 --shows 2 --seasons 1 --episodes 30 --collections 0
	ingest in.ndjson
	enrich -j3 -vv --enrichment-batch-size 100 --cache-dir c <in.ndjson >o3 2>e3
	# the movies (70) and the episodes of two shows (2 x 30) are one batch each
	[ "$(jq -s -c '[.[] | select(.kind=="points") | [.seq, (.points | length)]]' o3)" = "[[0,70],[1,60]]" ]
	for seq in 0 1; do
		sizes=$(jobs_of "$seq" e3)
		echo "# batch $seq: jobs of $sizes items; distinct IMDb ids $(imdb_per_job "$seq" "$sizes")" >&3
		# every job but the last has 20 items or more; together they are the batch
		n=$(wc -w <<<"$sizes") k=0 sum=0
		for s in $sizes; do
			k=$((k + 1)) sum=$((sum + s))
			[ "$k" -eq "$n" ] || [ "$s" -ge 20 ]
		done
		[ "$sum" -eq "$(jq -s "[.[] | select(.kind==\"points\" and .seq==$seq) | .points[]] | length" o3)" ]
		# every job but the last ends after a multiple of 5 IMDb ids (one batchGet asks for 5)
		[ "$(imdb_per_job "$seq" "$sizes" | jq '.[:-1] | all(. % 5 == 0)')" = true ]
	done
	[ "$(jobs_of 0 e3 | wc -w)" -ge 3 ]
	# a show's episodes are never cut: a job of batch 1 ends after 30 or 60 items
	sum=0
	for s in $(jobs_of 1 e3); do
		sum=$((sum + s))
		[ "$sum" -eq 30 ] || [ "$sum" -eq 60 ]
	done
	# so no more IMDb requests than whole batches make
	bound=$(jq -s "$IMDB_OF"' [.[] | select(.kind=="plex") | [.items[] | imdb_of | select(. != null)]
		| unique | length | (. + 4) / 5 | floor] | add' in.ndjson)
	echo "# IMDb requests $(fake_stats .imdb.requests), bound $bound" >&3
	[ "$(fake_stats .imdb.requests)" -le "$bound" ]
	# the same bytes from one worker, and with batches small enough to be one job each
	enrich -j1 --offline --enrichment-batch-size 100 --cache-dir c <in.ndjson >o1 2>e1
	cmp o3 o1
	enrich -j1 --offline --enrichment-batch-size 15 --cache-dir c <in.ndjson >s1 2>/dev/null
	enrich -j4 --offline --enrichment-batch-size 15 --cache-dir c <in.ndjson >s4 2>/dev/null
	cmp s1 s4
	[ "$(jq -s '[.[] | select(.kind=="points") | .points[]] | length' s1)" -eq 130 ]
}

@test "meta-enrich dispatch: a plex line is split on its items, not parsed whole: the same bytes as a whole parse, and 1,000 items in bounded memory" {
	fake_start --movies 1000 --shows 3 --seasons 2 --episodes 10 --collections 0
	timeout 60 "$PLEXPIPE_BIN/plex-ingest" --plex-url "$FAKE_PLEX" --plex-token "$FAKE_PLEX_TOKEN" \
		--plex-chunk-size 1000 >in.ndjson 2>ingest.err
	[ "$(jq -s '[.[] | select(.kind=="plex") | .items | length] | max' in.ndjson)" -eq 1000 ]
	# the same library with a surrogate-pair escape in every plex record, which
	# jparse_split() leaves to the whole parse; the escape and the raw
	# character are the same string, so the output must be the same bytes
	jq -c 'if .kind == "plex" then .items[0].title += " \ud83c\udfac" else . end' in.ndjson >raw.ndjson
	sed 's/\xf0\x9f\x8e\xac/\\ud83c\\udfac/' raw.ndjson >esc.ndjson
	if cmp -s raw.ndjson esc.ndjson; then false; fi
	for f in raw esc; do
		enrich -j2 -vv --offline --enrichment-batch-size 100 --cache-dir c <"$f.ndjson" >"$f.out" 2>"$f.err"
	done
	cmp raw.out esc.out
	[ "$(jq -s '[.[] | select(.kind=="points") | .points[]] | length' raw.out)" -eq 1060 ]
	grep -q '"title":"[^"]* 🎬"' raw.out
	# which path each took
	if grep -q 'plex record parsed whole' raw.err; then false; fi
	[ "$(grep -c 'plex record parsed whole' esc.err)" -eq "$(grep -c '"kind":"plex"' esc.ndjson)" ]
	# one 1,000-item line: its tree alone took ~75 MB (ASan's quarantine
	# would keep what is freed; no effect without ASan)
	ASAN_OPTIONS="${ASAN_OPTIONS:-}:quarantine_size_mb=0" timeout 120 python3 -c '
import resource, subprocess, sys
rc = subprocess.run(sys.argv[1:], stdin=open("in.ndjson"), stdout=open("big.out", "w")).returncode
print(rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)' \
		"$PLEXPIPE_BIN/meta-enrich" -j2 --offline --cache-dir c --imdb-queue q.json >rss 2>big.err
	read -r rc mb <rss
	echo "# $(wc -c <in.ndjson) bytes of plex records, 1,000 items in one line: peak RSS ${mb} MB" >&3
	[ "$rc" -eq 0 ]
	[ "$(jq -s '[.[] | select(.kind=="points") | .points[]] | length' big.out)" -eq 1060 ]
	[ "$mb" -lt 60 ]
}

@test "meta-enrich dispatch: SIGTERM in a batch of several jobs: the batch is finished and written whole, the rest is not, exit 143" {
	fake_start --movies 120 --shows 0 --collections 0
	ingest in.ndjson
	fake_config '{"tmdb":{"latency_ms":300}}'
	jq -c 'select(.kind=="plex") | .items[]' in.ndjson >bare.ndjson
	timeout 120 "$PLEXPIPE_BIN/meta-enrich" --tmdb-url "$FAKE_TMDB" -j2 -vv \
		--enrichment-batch-size 60 --cache-dir c --no-imdb \
		--imdb-queue "$BATS_TEST_TMPDIR/queue.json" <bare.ndjson >o 2>e &
	pid=$!
	# both workers are in the first jobs of batch 0
	for _ in $(seq 100); do
		[ "$(fake_stats .tmdb.requests)" -ge 4 ] && break
		sleep 0.1
	done
	[ "$(fake_stats .tmdb.requests)" -ge 4 ]
	[ ! -s o ]
	kill -TERM "$pid"
	rc=0
	wait "$pid" || rc=$?
	[ "$rc" -eq 143 ]
	# the jobs of batch 0 not yet handed out went out after the signal, from the cache
	[ "$(jobs_of 0 e | wc -w)" -ge 3 ]
	# every line whole; batches in order from 0, each of its 60 points (batch 1 only if it had started)
	jq -e . o >/dev/null
	[ "$(jq -s '[.[].seq] == [range(0; length)] and length >= 1' o)" = true ]
	[ "$(jq -s 'map(.points | length) | all(. == 60)' o)" = true ]
	[ "$(jq -s '[.[0].points[] | select(.degraded == ["tmdb"])] | length' o)" -gt 0 ]
	[ "$(fake_stats .tmdb.requests)" -lt 60 ]
}
