#!/usr/bin/env bats
# ref.bats: meta-enrich's points against mcp-plex: data validated with its AggregatedItem schema (../shared/specs), the embedding text.

load helpers

# python_with MODULE: a python3 that imports MODULE (Debian packages live in /usr/bin/python3).
python_with() {
	local p
	for p in "${PLEXPIPE_PYTHON:-}" python3 /usr/bin/python3; do
		if [ -n "$p" ] && "$p" -c "import $1" 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	echo "no python3 imports $1 (scripts/install-deps installs python3-$1)" >&2
	return 1
}

setup() {
	REF=$PLEXPIPE_TOP/tests/ref/mcp_plex_ref.py
	VALIDATE=$PLEXPIPE_TOP/tests/ref/validate_data.py
	cd "$BATS_TEST_TMPDIR"
}

# needs_schema: the schema in ../shared (or a skip saying why) and a python3 with jsonschema.
needs_schema() {
	skip_without_shared
	SCHEMA=$SHARED/specs/mcp-plex-aggregated-item.schema.json
	PY=$(python_with jsonschema)
}

# bundled_points: the bundled sample library through meta-enrich, one point a line, in points.ndjson.
bundled_points() {
	"$PLEXPIPE_BIN/plex-ingest" --sample-dir "$PLEXPIPE_TOP/sample/plex" >plex.ndjson 2>/dev/null
	"$PLEXPIPE_BIN/meta-enrich" --offline --cache-dir "$PLEXPIPE_TOP/sample/cache" <plex.ndjson 2>err |
		jq -c 'select(.kind=="points") | .points[]' >points.ndjson
	[ "$(wc -l <points.ndjson)" -eq 13 ]
}

@test "ref: the embedding text is mcp-plex's _build_point_text of the data, both taglines included" {
	bundled_points
	jq -c '.payload.data' points.ndjson | python3 "$REF" point-text >want.txt
	jq -c '.vector.dense.text' points.ndjson >dense.txt
	jq -c '.vector.sparse.text' points.ndjson >sparse.txt
	diff -u want.txt dense.txt
	diff -u want.txt sparse.txt
	# an item whose Plex and TMDb taglines are equal: twice in the text, once in the payload
	p=$(jq -c 'select(.payload.data.plex.tagline != null and .payload.data.plex.tagline == .payload.data.tmdb.tagline)' points.ndjson | head -1)
	[ -n "$p" ]
	tl=$(jq -r '.payload.tagline' <<<"$p")
	[ "$(jq -r '.vector.dense.text' <<<"$p" | grep -cxF "$tl")" -eq 2 ]
	[ "$(jq -r '.payload.tagline' <<<"$p")" = "$(jq -r '.payload.data.plex.tagline' <<<"$p")" ]
}

@test "ref: the mcp-plex sample data in sample mode: every data object is a valid AggregatedItem" {
	needs_schema
	fx=$SHARED/fixtures/mcp-plex-sample-data
	# the recorded TMDb and IMDb answers of its movie and episode, so those models are checked too
	mkdir -p c/tmdb/movie c/tmdb/tv c/imdb
	cp "$fx/movie/tmdb.json" c/tmdb/movie/522627.json
	cp "$fx/movie/imdb.json" c/imdb/tt8367814.json
	cp "$fx/episode/tmdb.tv.json" c/tmdb/tv/157239.json
	cp "$fx/episode/imdb.tv.json" c/imdb/tt32572896.json
	"$PLEXPIPE_BIN/plex-ingest" --sample-dir "$fx" >plex.ndjson 2>/dev/null
	"$PLEXPIPE_BIN/meta-enrich" --offline --cache-dir c <plex.ndjson >points.ndjson 2>err
	[ "$(jq -s '[.[] | select(.kind=="points") | .points[]] | length' points.ndjson)" -eq 176 ]
	# both carry IMDb data; the movie TMDb (the episode's series id would come from its show)
	[ "$(jq -s '[.[] | select(.kind=="points") | .points[] | select(.payload.data.imdb != null)] | length' points.ndjson)" -eq 2 ]
	[ "$(jq -s '[.[] | select(.kind=="points") | .points[] | select(.payload.data.tmdb != null)] | length' points.ndjson)" -eq 1 ]
	run "$PY" "$VALIDATE" "$SCHEMA" points.ndjson
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = "0 of 176 data objects fail the schema" ]
}

@test "ref: the bundled sample library: every data object is a valid AggregatedItem" {
	needs_schema
	bundled_points
	run "$PY" "$VALIDATE" "$SCHEMA" points.ndjson
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = "0 of 13 data objects fail the schema" ]
}

@test "ref: people without ids, no guid, a bare TMDb answer: still valid (ids 0, strings \"\")" {
	needs_schema
	mkdir -p c/tmdb/movie
	echo '{"id":77,"overview":"No title here."}' >c/tmdb/movie/77.json
	jq -nc '{ratingKey:"9001",type:"movie",title:"Nameless",Guid:[{id:"tmdb://77"}],
		Role:[{tag:"A"},{id:"12",tag:"B"},{id:"x",tag:"C"},{id:null,tag:"D"},{id:5,tag:"E"}],
		Director:[{tag:"F"}],Writer:[{id:" 7 ",tag:"G"}]}' >in.ndjson
	"$PLEXPIPE_BIN/meta-enrich" --offline --cache-dir c <in.ndjson >points.ndjson 2>err || true
	p=$(jq -c 'select(.kind=="points") | .points[]' points.ndjson | head -1)
	[ -n "$p" ] || { cat err; false; }
	[ "$(jq -c '[.payload.data.plex.actors[].id]' <<<"$p")" = '[0,12,0,0,5]' ]
	[ "$(jq -c '[.payload.data.plex.directors[].id, .payload.data.plex.writers[].id]' <<<"$p")" = '[0,7]' ]
	[ "$(jq -c '.payload.data.plex.guid' <<<"$p")" = '""' ]
	[ "$(jq -c '.payload.data.tmdb.title' <<<"$p")" = '""' ]
	run "$PY" "$VALIDATE" "$SCHEMA" <<<"$p"
	echo "$output"
	[ "$status" -eq 0 ]
	# the validator does fail what mcp-plex refuses (the test can fail)
	run "$PY" "$VALIDATE" "$SCHEMA" <<<"$(jq -c '.payload.data.plex.actors[0].id = null | .payload.data.plex.guid = null' <<<"$p")"
	echo "$output"
	[ "$status" -eq 1 ]
	[ "${lines[-1]}" = "1 of 1 data objects fail the schema" ]
}
