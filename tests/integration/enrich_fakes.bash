# tests/integration/enrich_fakes.bash: what the meta-enrich files share (load after helpers): set-up, the fake TMDb key, meta-enrich and plex-ingest against the fakes.
# shellcheck shell=bash

# The fakes' TMDb key: 32 hex, so sent as api_key= (a v3 key).
KEY=0123456789abcdef0123456789abcdef

setup() {
	cd "$BATS_TEST_TMPDIR" || return
	export TMDB_API_KEY=$KEY
}

teardown() {
	fake_stop
}

# enrich ARGS...: meta-enrich against the fakes (or the URLs in TMDB and
# IMDB, when a test sets them), bounded in time.
enrich() {
	timeout 120 "$PLEXPIPE_BIN/meta-enrich" --tmdb-url "${TMDB:-$FAKE_TMDB}" \
		--imdb-url "${IMDB:-$FAKE_IMDB}" --imdb-queue "$BATS_TEST_TMPDIR/queue.json" "$@"
}

# ingest OUT: the fake Plex library as plex-ingest writes it (its stderr in ingest.err).
ingest() {
	timeout 60 "$PLEXPIPE_BIN/plex-ingest" --plex-url "$FAKE_PLEX" --plex-token "$FAKE_PLEX_TOKEN" >"$1" 2>ingest.err
}
