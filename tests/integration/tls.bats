#!/usr/bin/env bats
# tls.bats: every stage over HTTPS against the fakes, with a private CA made by openssl at test time; gzip-encoded answers.

load helpers

# A CA, a server certificate it signs (for 127.0.0.1 and localhost), and an
# unrelated CA, all in the file's tmp dir; then the fakes over HTTPS.
setup_file() {
	command -v openssl >/dev/null || skip "openssl not installed (scripts/install-deps installs it)"
	local d=$BATS_FILE_TMPDIR
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=plexpipe test CA" \
	    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
	    -keyout "$d/ca.key" -out "$d/ca.pem" 2>"$d/openssl.err"
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=some other CA" \
	    -keyout "$d/other.key" -out "$d/other-ca.pem" 2>>"$d/openssl.err"
	openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
	    -keyout "$d/server.key" -out "$d/server.csr" 2>>"$d/openssl.err"
	printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" "basicConstraints=CA:FALSE" \
	    "extendedKeyUsage=serverAuth" >"$d/server.ext"
	openssl x509 -req -days 2 -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
	    -CAcreateserial -extfile "$d/server.ext" -out "$d/server.pem" 2>>"$d/openssl.err"
	fake_start --dir "$d" --movies 12 --collections 1 --shows 2 --seasons 1 --episodes 2 \
	    --tls-cert "$d/server.pem" --tls-key "$d/server.key"
	# the URLs the fakes wrote are https (control stays http)
	[[ "$FAKE_PLEX" == https://127.0.0.1:* ]]
}

teardown_file() {
	fake_stop
}

setup() {
	T=$BATS_TEST_TMPDIR
	CA=$BATS_FILE_TMPDIR/ca.pem
	need_stages
	unset_pipeline_env
	export_fake_env
	ENRICH_OPTS=(--tmdb-url "$FAKE_TMDB" --imdb-url "$FAKE_IMDB" --tmdb-rps 1000
	    --cache-dir "$T/cache" --imdb-queue "$T/imdb_queue.json")
	fake_reset '{"data":true,"knobs":true}'
}

# host:port of a fake's URL
hostport() { echo "${1#https://}"; }

# The pipeline through plex-load with the given extra options; $status, stderr in $T/err.
load_all() {
	status=0
	timeout "$(tscale 120)" "$PLEXPIPE_TOP/scripts/plex-load" "${ENRICH_OPTS[@]}" \
	    --dead-letter "$T/dead.ndjson" "$@" >"$T/out" 2>"$T/err" || status=$?
}

# Every point in the fake Qdrant as {id, payload} without the hash, sorted (over HTTPS, with the CA).
qdrant_points() {
	curl -sS -f --compressed --max-time 30 --cacert "$CA" -X POST -H 'Content-Type: application/json' \
	    --data-binary '{"limit":1000,"with_payload":true}' \
	    "$FAKE_QDRANT/collections/media-items/points/scroll" |
	    jq -S -c '.result.points[] | {id, payload: (.payload | del(.content_hash))}' | sort
}

@test "--cacert: the whole pipeline over HTTPS with a private CA lands every point, no warning" {
	load_all --cacert "$CA" --record "$T/rec"
	[ "$status" -eq 0 ]
	# 12 movies and 2 x 1 x 2 episodes, each with TMDb and IMDb data where the fake has them
	[ "$(qdrant_points | wc -l)" -eq 16 ]
	[ "$(jq -c 'select(.kind == "points") | .points[]' "$T/rec/points.ndjson" | wc -l)" -eq 16 ]
	[ "$(jq -c 'select(.kind == "points") | .points[] | select(.payload.data.tmdb != null)' \
	    "$T/rec/points.ndjson" | wc -l)" -gt 0 ]
	# every service was reached over TLS, and no handshake failed
	for s in plex tmdb imdb qdrant embed; do
		[ "$(fake_stats ".$s.requests")" -gt 0 ]
		[ "$(fake_stats ".$s.tls_failures")" -eq 0 ]
	done
	if grep -q -- '--insecure' "$T/err"; then false; fi
}

@test "a certificate the CA did not sign: each stage exits 1 with a message naming the host" {
	other=$BATS_FILE_TMPDIR/other-ca.pem
	# plex-ingest: with the wrong CA, and with the system's CAs (no --cacert)
	for ca in "--cacert=$other" ""; do
		run timeout 60 "$PLEXPIPE_BIN/plex-ingest" ${ca:+"$ca"}
		echo "$output"
		[ "$status" -eq 1 ]
		[[ "$output" == *"certificate"*"$(hostport "$FAKE_PLEX")"* ]]
	done
	# qdrant-upsert: points that meta-enrich made offline from nothing but the Plex items
	run timeout 60 "$PLEXPIPE_BIN/qdrant-upsert" --cacert "$other" --dead-letter "$T/dead.ndjson" \
	    <<<'{"id":1,"vector":{},"payload":{"type":"movie","title":"T","data":{"plex":{"rating_key":"1","type":"movie"}}}}'
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"certificate"*"$(hostport "$FAKE_QDRANT")"* ]]
	# meta-enrich: a failed TMDb lookup says which host refused (IMDb failures
	# go to the retry queue; the circuit breaker then writes both off, saying why)
	timeout 60 "$PLEXPIPE_BIN/plex-ingest" --cacert "$CA" >"$T/plex.ndjson" 2>/dev/null
	status=0
	timeout 60 "$PLEXPIPE_BIN/meta-enrich" --cacert "$other" "${ENRICH_OPTS[@]}" \
	    <"$T/plex.ndjson" >"$T/points.ndjson" 2>"$T/err.e" || status=$?
	cat "$T/err.e"
	grep -q "certificate.*$(hostport "$FAKE_TMDB")" "$T/err.e"
	# when IMDb is written off as down (only if its failures lasted 2 s, so
	# not on every run), that line says why, host included
	if grep -q "imdb: every attempt failed" "$T/err.e"; then
		grep -q "imdb: every attempt failed.*counted as down.*certificate.*$(hostport "$FAKE_IMDB")" "$T/err.e"
	fi
	# and no point got data it could not verify
	[ "$(jq -c 'select(.kind == "points") | .points[] | select(.payload.data.tmdb != null or .payload.data.imdb != null)' \
	    "$T/points.ndjson" | wc -l)" -eq 0 ]
	[ "$(fake_stats '.tmdb.tls_failures')" -gt 0 ]
}

@test "--insecure: every stage warns once, and works against the unknown CA" {
	load_all --insecure
	cat "$T/err"
	[ "$status" -eq 0 ]
	[ "$(qdrant_points | wc -l)" -eq 16 ]
	for p in plex-ingest meta-enrich qdrant-upsert; do
		[ "$(grep -c "^$p: warning: --insecure: TLS certificates are not verified" "$T/err")" -eq 1 ]
	done
}

@test "--cacert naming a missing file: exit 2 before any request, naming the file" {
	run timeout 30 "$PLEXPIPE_BIN/plex-ingest" --cacert "$T/no-such-ca.pem"
	echo "$output"
	[ "$status" -eq 2 ]
	[[ "$output" == *"$T/no-such-ca.pem"* ]]
	[ "$(fake_stats '.plex.requests')" -eq 0 ]
}

@test "gzip: answers gzip-encoded by every service are decoded to the same points" {
	fake_config '{"plex":{"gzip":"never"},"tmdb":{"gzip":"never"},"imdb":{"gzip":"never"},"qdrant":{"gzip":"never"},"embed":{"gzip":"never"}}'
	load_all --cacert "$CA" --record "$T/plain"
	[ "$status" -eq 0 ]
	qdrant_points >"$T/plain.points"
	[ "$(wc -l <"$T/plain.points")" -eq 16 ]
	[ "$(fake_stats '[.[] | .gzipped] | add')" -eq 0 ]

	# the same load, every answer gzip-encoded (even the small ones), into an empty Qdrant and cache
	fake_reset '{"data":true}'
	fake_config '{"plex":{"gzip":"always"},"tmdb":{"gzip":"always"},"imdb":{"gzip":"always"},"qdrant":{"gzip":"always"},"embed":{"gzip":"always"}}'
	rm -rf "$T/cache"
	load_all --cacert "$CA" --record "$T/gzip"
	[ "$status" -eq 0 ]
	for s in plex tmdb imdb qdrant embed; do
		[ "$(fake_stats ".$s.gzipped")" -eq "$(fake_stats ".$s.requests")" ]
		[ "$(fake_stats ".$s.requests")" -gt 0 ]
	done
	# the same records, the end records' timings aside
	untimed='if .kind == "end" then del(.stats) else . end'
	for f in plex points; do
		cmp <(jq -c "$untimed" "$T/plain/$f.ndjson") <(jq -c "$untimed" "$T/gzip/$f.ndjson")
	done
	qdrant_points | cmp "$T/plain.points" -
}
