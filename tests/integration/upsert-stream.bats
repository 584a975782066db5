#!/usr/bin/env bats
# upsert-stream.bats: qdrant-upsert's input loop: it sleeps while requests are in flight, and sends records stdio already holds without waiting for earlier batches.

load helpers

GEN="$PLEXPIPE_TOP/tests/integration/upsert-gen-points.py"

setup_file() {
	fake_start --dir "$BATS_FILE_TMPDIR"
}

teardown_file() {
	fake_stop
}

setup() {
	fake_reset '{"data":true,"knobs":true}'
	cd "$BATS_TEST_TMPDIR"
	# four small points: all of them fit in stdio's first read of the pipe
	python3 "$GEN" --movies 4 --bare | jq -c 'if .id then del(.payload.data) |
		.vector.dense.text = "t" | .vector.sparse.text = "t" else . end' >points.ndjson
	# the collection exists first, so the slow run below makes few requests
	timeout 60 "$PLEXPIPE_BIN/qdrant-upsert" --qdrant-url "$FAKE_QDRANT" \
		--dense none points.ndjson >/dev/null 2>&1
	fake_reset '{}'
}

# slow_upsert LATENCY_MS: the four points in one write, then the pipe stays
# open 6 s (past the collection check and the first upserts) before the end
# record; qdrant-upsert's voluntary context switches
# (its sleeps and wake-ups) land in ./nvcsw.
slow_upsert() {
	fake_config "{\"qdrant\":{\"latency_ms\":$1}}"
	{ head -4 points.ndjson; sleep 6; tail -1 points.ndjson; } |
		timeout 60 python3 -c '
import resource, subprocess, sys
rc = subprocess.run(sys.argv[1:]).returncode
with open("nvcsw", "w") as f:
    print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_nvcsw, file=f)
sys.exit(rc)' "$PLEXPIPE_BIN/qdrant-upsert" --qdrant-url "$FAKE_QDRANT" \
		--dense none --no-skip-unchanged --batch-size 1 >out.ndjson 2>err.log
}

@test "upsert-stream: points already read go out together, not one batch after another" {
	slow_upsert 1000
	[ "$(jq -s 'map(select(.kind == "result")) | length' out.ndjson)" -eq 4 ]
	# the old loop sent the next point only when the batch before was done
	[ "$(fake_stats '.qdrant.peak_concurrency')" -ge 3 ]
}

@test "upsert-stream: waiting on a slow Qdrant with the input open does not spin" {
	slow_upsert 2000
	[ "$(jq -s 'map(select(.kind == "summary"))[0].upserted' out.ndjson)" -eq 4 ]
	# 8 s of waiting: the old 2 ms poll slices made hundreds of wake-ups
	echo "# voluntary context switches: $(cat nvcsw)" >&3
	[ "$(cat nvcsw)" -lt 400 ]
}

@test "upsert-stream: --max-read-ahead stops reading while that many bytes wait, so the writer waits too" {
	python3 "$GEN" --movies 1000 --bare >many.ndjson
	fake_config '{"qdrant":{"latency_ms":300}}'
	# the writer notes when the pipe took its last byte
	python3 -c '
import sys, time
with open(sys.argv[1], "rb") as f:
    sys.stdout.buffer.write(f.read())
sys.stdout.flush()
open(sys.argv[2], "w").write("%f\n" % time.time())' many.ndjson written |
		timeout 120 "$PLEXPIPE_BIN/qdrant-upsert" --qdrant-url "$FAKE_QDRANT" \
		--dense none --no-skip-unchanged --max-read-ahead 65536 \
		>out.ndjson 2>err.log &
	start=$(date +%s.%N)
	wait
	[ "$(jq -s 'map(select(.kind == "summary"))[0].upserted' out.ndjson)" -eq 1000 ]
	# 1.5 MB of points: the old count limit (9 batches of 128) took them all
	# at once; 64 KiB of read-ahead lets one batch at a time in, each
	# upsert 300 ms, so the writer waits on the pipe for seconds
	run python3 -c 'import sys; print(float(open("written").read()) - float(sys.argv[1]))' "$start"
	echo "# writer done after ${output} s" >&3
	python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) > 1.5 else 1)' "$output"
	# and the option has its environment mirror, checked like the others
	run env QDRANT_UPSERT_READ_AHEAD=12 "$PLEXPIPE_BIN/qdrant-upsert" --dry-run many.ndjson
	[ "$status" -eq 2 ]
	[[ "$output" == *QDRANT_UPSERT_READ_AHEAD* ]]
}

@test "upsert-stream: a points line is parsed a point at a time, not as one tree" {
	# 4,000 points in one 6 MB line: its json-c tree alone took ~75 MB
	python3 "$GEN" --movies 4000 --batch 4000 >big.ndjson
	# ASan's quarantine would keep what is freed (no effect without ASan)
	ASAN_OPTIONS="${ASAN_OPTIONS:-}:quarantine_size_mb=0" timeout 120 python3 -c '
import resource, subprocess, sys
rc = subprocess.run(sys.argv[1:], stdout=open("out.ndjson", "w")).returncode
print(rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)' \
		"$PLEXPIPE_BIN/qdrant-upsert" --dry-run --dense none --batch-size 16 \
		--reject-file '' big.ndjson >rss 2>err.log
	read -r rc mb <rss
	echo "# peak RSS ${mb} MB" >&3
	[ "$rc" -eq 0 ]
	[ "$(jq -s 'map(select(.kind == "summary"))[0].upserted' out.ndjson)" -eq 4000 ]
	[ "$mb" -lt 60 ]
}
