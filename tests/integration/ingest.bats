#!/usr/bin/env bats
# ingest.bats: plex-ingest against the fake Plex: full metadata, paging, request counts, failures, sample mode.

load helpers

ING="$PLEXPIPE_BIN/plex-ingest"
LIB=(--movie-sections 2 --movies 12 --collections 2 --shows 2 --seasons 3
	--episodes 3 --music-section)

setup() {
	export PLEX_TOKEN=$FAKE_PLEX_TOKEN
	unset PLEX_URL PLEX_SECTIONS PLEX_TYPES PLEX_CHUNK_SIZE PLEX_LIMIT \
		PLEX_SAMPLE_DIR PLEX_UPDATED_SINCE PLEX_TOKEN_FILE
}

teardown() {
	fake_stop
}

# ingest ARGS...: runs plex-ingest (bounded), stdout to $out, stderr to $err, status in $rc.
ingest() {
	out=$BATS_TEST_TMPDIR/out.ndjson err=$BATS_TEST_TMPDIR/err.txt
	rc=0
	timeout 60 "$ING" "$@" >"$out" 2>"$err" || rc=$?
}

# check_library CHUNK: every movie and episode of the fake library exactly once,
# in full form, collections and music out, episodes with their shows.
check_library() {
	local c=$1
	ingest --plex-url "$FAKE_PLEX" --plex-chunk-size "$c" --retries 1
	[ "$rc" -eq 0 ] || { cat "$err"; false; }
	fake_library '[.sections[] | (.movies // []), (.episodes // [])] | add | sort' \
		>"$BATS_TEST_TMPDIR/want"
	jq -cs '[.[] | select(.kind == "plex") | .items[].ratingKey] | sort' "$out" \
		>"$BATS_TEST_TMPDIR/got"
	[ "$(jq length "$BATS_TEST_TMPDIR/want")" -eq 42 ]
	diff "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
	# the end record lists the same keys, once each, and is complete
	[ "$(tail -n 1 "$out" | jq -c '.rating_keys | sort')" = "$(cat "$BATS_TEST_TMPDIR/want")" ]
	[ "$(tail -n 1 "$out" | jq -c "[.kind, .complete, .items]")" = "[\"end\",true,42]" ]
	# batches: seq from 0, at most CHUNK items, only movies and episodes
	jq -se --argjson c "$c" '[.[] | select(.kind == "plex")] |
		(map(.seq) == [range(0; length)]) and
		all(.[]; (.items | length) >= 1 and (.items | length) <= $c) and
		all(.[].items[]; .type == "movie" or .type == "episode")' "$out"
	# full metadata: every tag entry has the details-only "id" (listings carry
	# only "tag"), and each item has Guid or a legacy-agent guid
	jq -se '[.[] | select(.kind == "plex") | .items[]] |
		all(.[]; (.Role | length) >= 1 and all(.Role[]; has("id") and has("tagKey"))) and
		all(.[]; (.Guid | length) > 0 or (.guid | startswith("com.plexapp.agents."))) and
		any(.[]; (.Role | length) > 3)' "$out"
	# episodes: their show, with its Guid, is in the same batch
	jq -se '[.[] | select(.kind == "plex") | . as $b | .items[] |
		select(.type == "episode") | $b.shows[.grandparentRatingKey].Guid | length > 0] |
		length == 18 and all' "$out"
}

@test "plex-ingest: --help, --version, --list-options, unknown flag" {
	run "$ING" --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"--plex-chunk-size"* ]]
	[[ "$output" == *"--updated-since"* ]]
	[[ "$output" == *"Exit status"* ]]
	run "$ING" --version
	[ "$status" -eq 0 ]
	[ "$output" = "plex-ingest plexpipe 0.1.0" ]
	run "$ING" --list-options
	[ "$status" -eq 0 ]
	for o in plex-url= plex-token= plex-token-file= section= types= \
		plex-chunk-size= updated-since= limit= sample-dir= timeout= retries= \
		verbose quiet log-format= insecure cacert= help version; do
		grep -qx -- "$o" <<<"$output"
	done
	run "$ING" --no-such-flag
	[ "$status" -eq 2 ]
	[[ "$output" == *"unknown option '--no-such-flag'"* ]]
	run "$ING" --plex-chunk-size 0 --sample-dir "$PLEXPIPE_TOP/sample"
	[ "$status" -eq 2 ]
	run "$ING" --types movie,film --sample-dir "$PLEXPIPE_TOP/sample"
	[ "$status" -eq 2 ]
	[[ "$output" == *film* ]]
}

@test "plex-ingest: no URL or no token is a usage error" {
	unset PLEX_TOKEN
	run "$ING" --plex-url http://127.0.0.1:9
	[ "$status" -eq 2 ]
	[[ "$output" == *token* ]]
	PLEX_TOKEN=x run "$ING"
	[ "$status" -eq 2 ]
	[[ "$output" == *PLEX_URL* ]]
	run "$ING" --plex-url http://127.0.0.1:9 --updated-since yesterday-ish
	[ "$status" -eq 2 ]
}

@test "plex-ingest: full metadata, no collections, episodes with shows, chunk 200" {
	fake_start "${LIB[@]}"
	check_library 200
	[ "$(fake_stats .plex.token_in_url)" -eq 0 ]
}

@test "plex-ingest: paging at chunk 7 and chunk 1 loses and doubles nothing" {
	fake_start "${LIB[@]}"
	check_library 7
	check_library 1
}

@test "plex-ingest: requests stay within ceil(rows/C) per listing, plus as many metadata" {
	fake_start "${LIB[@]}"
	local c
	for c in 1 7 200; do
		fake_reset
		ingest --plex-url "$FAKE_PLEX" --plex-chunk-size "$c"
		[ "$rc" -eq 0 ]
		# listing rows include the collections the server mixes in
		local bound
		bound=$(tail -n 1 "$out" | jq --argjson c "$c" \
			'[.sections[].total | (. + $c - 1) / $c | floor] | add')
		local sections listing meta
		sections=$(fake_stats '.plex.by_endpoint["GET /library/sections"] // 0')
		listing=$(fake_stats '.plex.by_endpoint["GET /library/sections/{key}/all"] // 0')
		meta=$(fake_stats '.plex.by_endpoint["GET /library/metadata/{ids}"] // 0')
		echo "# chunk $c: sections $sections listing $listing (bound $bound) metadata $meta" >&3
		[ "$sections" -eq 1 ]
		[ "$listing" -le "$bound" ]
		# at most one metadata request per page: parent shows ride along
		[ "$meta" -le "$bound" ]
		[ "$meta" -lt 42 ] || [ "$c" -eq 1 ]
		# the program's own count agrees with the server's
		[ "$(tail -n 1 "$out" | jq '.stats["plex-ingest"].requests')" -eq \
			$((sections + listing + meta)) ]
	done
}

@test "plex-ingest: a 500 after the third page exits 1, no end record, earlier batches intact" {
	fake_start "${LIB[@]}"
	fake_config '{"plex":{"fail_after":3,"fail_status":500}}'
	ingest --plex-url "$FAKE_PLEX" --plex-chunk-size 5 --retries 1
	cat "$err"
	[ "$rc" -eq 1 ]
	[ "$(wc -l <"$out")" -eq 3 ]
	jq -se 'length == 3 and all(.[]; .kind == "plex") and (map(.seq) == [0,1,2])' "$out"
	! grep -q '"kind":"end"' "$out" || false
	grep -q '500' "$err"
	grep -q 'no end record' "$err"
	# the HTML error page was not taken for JSON
	! grep -qi 'not a MediaContainer' "$err" || false
}

@test "plex-ingest: a rejected token exits 2 and is never printed" {
	fake_start "${LIB[@]}"
	PLEX_TOKEN=wrong-secret-token-4711 ingest --plex-url "$FAKE_PLEX" --retries 0
	cat "$err"
	[ "$rc" -eq 2 ]
	grep -q 'token rejected' "$err"
	! grep -q 'wrong-secret-token-4711' "$err" "$out" || false
	[ ! -s "$out" ]
	# from a file too
	printf 'wrong-secret-token-4711\n' >"$BATS_TEST_TMPDIR/tok"
	unset PLEX_TOKEN
	ingest --plex-url "$FAKE_PLEX" --plex-token-file "$BATS_TEST_TMPDIR/tok" -v
	[ "$rc" -eq 2 ]
	! grep -q 'wrong-secret-token-4711' "$err" "$out" || false
}

@test "plex-ingest: an unreachable server exits 1 after the retries, with no output" {
	ingest --plex-url http://127.0.0.1:9 --retries 1 --timeout 2
	[ "$rc" -eq 1 ]
	[ ! -s "$out" ]
	grep -q 'plex' "$err"
}

@test "plex-ingest: --section, --types show, --limit and --updated-since" {
	fake_start "${LIB[@]}"
	ingest --plex-url "$FAKE_PLEX" --section "Movies 2"
	[ "$rc" -eq 0 ]
	fake_library '[.sections[] | select(.title == "Movies 2") | .movies[]] | sort' >"$BATS_TEST_TMPDIR/want"
	jq -cs '[.[] | select(.kind == "plex") | .items[].ratingKey] | sort' "$out" >"$BATS_TEST_TMPDIR/got"
	diff "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
	# the other sections' points could be taken for stale: the run is not complete
	[ "$(tail -n 1 "$out" | jq -c '[.complete, (.sections | map(.key))]')" = '[false,["2"]]' ]
	grep -q 'leaves out 2 other sections' "$err"
	# naming every movie and show section is a complete run again
	mapfile -t every < <(fake_library '.sections[] | select(.type == "movie" or .type == "show") | "--section=" + .key')
	[ "${#every[@]}" -eq 3 ]
	ingest --plex-url "$FAKE_PLEX" "${every[@]}"
	[ "$rc" -eq 0 ]
	[ "$(tail -n 1 "$out" | jq .complete)" = true ]

	ingest --plex-url "$FAKE_PLEX" --section Music
	[ "$rc" -eq 2 ]
	grep -q artist "$err"
	ingest --plex-url "$FAKE_PLEX" --section Nowhere
	[ "$rc" -eq 2 ]

	ingest --plex-url "$FAKE_PLEX" --types show
	[ "$rc" -eq 0 ]
	fake_library '[.sections[] | (.shows // [])[]] | sort' >"$BATS_TEST_TMPDIR/want"
	jq -cs '[.[] | select(.kind == "plex") | .items[] | select(.type == "show") | .ratingKey] | sort' "$out" >"$BATS_TEST_TMPDIR/got"
	diff "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"

	PLEX_LIMIT=5 ingest --plex-url "$FAKE_PLEX" --plex-chunk-size 3
	[ "$rc" -eq 0 ]
	[ "$(tail -n 1 "$out" | jq -c '[.complete, .items, (.rating_keys | length)]')" = '[false,5,5]' ]
	[ "$(jq -s '[.[] | select(.kind == "plex") | .items[]] | length' "$out")" -eq 5 ]

	ingest --plex-url "$FAKE_PLEX" --updated-since 7d
	[ "$rc" -eq 0 ]
	[ "$(tail -n 1 "$out" | jq .complete)" = false ]
}

@test "plex-ingest: sample mode on the bundled library emits every movie and episode in full" {
	local dir=$PLEXPIPE_TOP/sample
	[ -f "$dir/plex/sections.json" ] || skip "no bundled sample library in $dir"
	unset PLEX_TOKEN
	ingest --sample-dir "$dir" --plex-chunk-size 4
	[ "$rc" -eq 0 ]
	# every movie/episode details file, and nothing else
	local k want=()
	for f in "$dir"/plex/metadata/*.json; do
		k=$(jq -r '.MediaContainer.Metadata[0] | select(.type == "movie" or .type == "episode") | .ratingKey' "$f")
		[ -n "$k" ] && want+=("$k")
	done
	printf '%s\n' "${want[@]}" | sort >"$BATS_TEST_TMPDIR/want"
	jq -r 'select(.kind == "plex") | .items[].ratingKey' "$out" | sort >"$BATS_TEST_TMPDIR/got"
	diff "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
	# items are the details answers themselves
	jq -c 'select(.kind == "plex") | .items[]' "$out" | while read -r it; do
		k=$(jq -r .ratingKey <<<"$it")
		[ "$(jq -cS . <<<"$it")" = "$(jq -cS '.MediaContainer.Metadata[0]' "$dir/plex/metadata/$k.json")" ]
	done
	[ "$(tail -n 1 "$out" | jq .complete)" = true ]
	jq -se '[.[] | select(.kind == "plex") | . as $b | .items[] | select(.type == "episode") |
		$b.shows[.grandparentRatingKey] != null] | all' "$out"
}

@test "plex-ingest: PLEX_SECTIONS is a comma list; blanks around the commas are not part of a title" {
	local dir=$PLEXPIPE_TOP/sample
	[ -f "$dir/plex/sections.json" ] || skip "no bundled sample library in $dir"
	PLEX_SECTIONS="Movies , TV Shows" ingest --sample-dir "$dir"
	[ "$rc" -eq 0 ]
	[ "$(tail -n 1 "$out" | jq -c '[.sections[].key]')" = '["1","2"]' ]
	PLEX_SECTIONS=" TV Shows" ingest --sample-dir "$dir"
	[ "$rc" -eq 0 ]
	[ "$(tail -n 1 "$out" | jq -c '[.sections[].key]')" = '["2"]' ]
	PLEX_SECTIONS="Movies, Nope" ingest --sample-dir "$dir"
	[ "$rc" -eq 2 ]
	grep -q '"Nope"' "$err"
}

@test "plex-ingest: sample mode on the mcp-plex fixtures emits the recorded movie, episode and listings" {
	skip_without_shared
	local dir=$SHARED/fixtures/mcp-plex-sample-data
	unset PLEX_TOKEN
	ingest --sample-dir "$dir"
	[ "$rc" -eq 0 ]
	# 74 listed movies + the detailed one; 100 listed episodes + the detailed one
	local movies episodes
	movies=$(jq -s '[.[] | select(.kind == "plex") | .items[] | select(.type == "movie")] | length' "$out")
	episodes=$(jq -s '[.[] | select(.kind == "plex") | .items[] | select(.type == "episode")] | length' "$out")
	[ "$movies" -eq 75 ]
	[ "$episodes" -eq 101 ]
	[ "$(jq -s '[.[] | select(.kind == "plex") | .items[] | select(.type == "collection")] | length' "$out")" -eq 0 ]
	# the recorded details, with their full cast
	[ "$(jq -s '[.[] | select(.kind == "plex") | .items[] | select(.ratingKey == "49915") | .Role | length] | .[0]' "$out")" -eq 62 ]
	jq -se '[.[] | select(.kind == "plex") | .items[] | select(.ratingKey == "61960")] | length == 1' "$out"
	# listed keys all there (the listing files, filtered to movies/episodes)
	jq -r '.MediaContainer.Metadata[] | select(.type != "collection") | .ratingKey' \
		"$dir/plex-100-movies.json" "$dir/plex-100-episodes.json" | sort >"$BATS_TEST_TMPDIR/want"
	printf '49915\n61960\n' >>"$BATS_TEST_TMPDIR/want"
	sort -o "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/want"
	jq -r 'select(.kind == "end") | .rating_keys[]' "$out" | sort >"$BATS_TEST_TMPDIR/got"
	diff "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
	# an excerpt of a library is never a complete run
	[ "$(tail -n 1 "$out" | jq .complete)" = false ]
	jq -se '[.[] | select(.kind == "plex") | . as $b | .items[] | select(.type == "episode") |
		$b.shows[.grandparentRatingKey].title != null] | all' "$out"
}

@test "plex-ingest: --plex-token wins over PLEX_TOKEN_FILE in the environment" {
	fake_start "${LIB[@]}"
	printf 'stale-token-from-env-file\n' >"$BATS_TEST_TMPDIR/old"
	unset PLEX_TOKEN
	PLEX_TOKEN_FILE=$BATS_TEST_TMPDIR/old ingest --plex-url "$FAKE_PLEX" \
		--plex-token "$FAKE_PLEX_TOKEN" --retries 0 --types movie --limit 1
	cat "$err"
	[ "$rc" -eq 0 ]
	tail -n 1 "$out" | jq -e '.kind == "end"'
}

@test "plex-ingest: a write error on stdout says so, with no empty error line" {
	rc=0
	timeout 60 "$ING" --sample-dir "$PLEXPIPE_TOP/sample" --plex-chunk-size 2 \
		>/dev/full 2>"$BATS_TEST_TMPDIR/err" || rc=$?
	cat "$BATS_TEST_TMPDIR/err"
	[ "$rc" -eq 1 ]
	grep -q 'No space left' "$BATS_TEST_TMPDIR/err"
	! grep -Eq 'error: *$' "$BATS_TEST_TMPDIR/err" || false
}

@test "plex-ingest: a broken metadata file in a sample exits 1, no end record (not a vanished item)" {
	cp -r "$PLEXPIPE_TOP/sample/plex" "$BATS_TEST_TMPDIR/"
	f=$(find "$BATS_TEST_TMPDIR/plex/metadata" -name '*.json' | sort | head -n 1)
	printf '{"MediaContainer":' >"$f"
	ingest --sample-dir "$BATS_TEST_TMPDIR/plex"
	cat "$err"
	[ "$rc" -eq 1 ]
	! grep -q '"kind":"end"' "$out" || false
	grep -q "$(basename "$f")" "$err"
}

@test "plex-ingest: a URL of the wrong scheme is refused without echoing its credentials" {
	ingest --plex-url 'ftp://me:hunter2secret@127.0.0.1:9'
	cat "$err"
	[ "$rc" -eq 2 ]
	grep -q 'http' "$err"
	! grep -q 'hunter2secret' "$err" || false
}

@test "plex-ingest: an item deleted after page 1 loses no live item, and one added then is emitted" {
	# issue 9 #1: 20 items a page, the first movie deleted after page 1
	fake_start --movie-sections 1 --movies 45 --collections 0 --shows 0
	local first
	first=$(fake_library '.sections[0].movies[0]')
	fake_config "{\"plex\":{\"mutate\":{\"after_pages\":1,\"delete\":[\"$first\"]}}}"
	ingest --plex-url "$FAKE_PLEX" --plex-chunk-size 20 --retries 0
	cat "$err"
	[ "$rc" -eq 0 ]
	# every movie still on the server was emitted (the deleted one may be too)
	fake_library '.sections[0].movies' | jq -c --arg f "$first" 'map(select(. != $f)) | sort' \
		>"$BATS_TEST_TMPDIR/want"
	[ "$(jq length "$BATS_TEST_TMPDIR/want")" -eq 44 ]
	jq -cs --arg f "$first" '[.[] | select(.kind == "plex") | .items[].ratingKey | select(. != $f)] | sort' \
		"$out" >"$BATS_TEST_TMPDIR/got"
	diff "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
	# re-read once, found steady: complete, and the end lists every live key
	[ "$(tail -n 1 "$out" | jq .complete)" = true ]
	tail -n 1 "$out" | jq -e --slurpfile w "$BATS_TEST_TMPDIR/want" '$w[0] - .rating_keys == []'
	grep -q 'changed while it was read' "$err"

	# an item added at the top after page 1 is emitted too
	fake_reset '{"knobs":true}'
	local added
	added=$(fake_library '.sections[0].movies[0]')
	fake_config "{\"plex\":{\"deleted\":[\"$added\"],\"mutate\":{\"after_pages\":1,\"add\":[\"$added\"]}}}"
	ingest --plex-url "$FAKE_PLEX" --plex-chunk-size 20 --retries 0
	[ "$rc" -eq 0 ]
	fake_library '.sections[0].movies | sort' >"$BATS_TEST_TMPDIR/want"
	jq -cs '[.[] | select(.kind == "plex") | .items[].ratingKey] | sort' "$out" >"$BATS_TEST_TMPDIR/got"
	diff "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
	[ "$(tail -n 1 "$out" | jq .complete)" = true ]
}

@test "plex-ingest: --state fetches only new and changed items; the end record still lists every key" {
	fake_start "${LIB[@]}"
	local st=$BATS_TEST_TMPDIR/state
	ingest --plex-url "$FAKE_PLEX" --plex-chunk-size 7 --state "$st" --state-out "$st"
	[ "$rc" -eq 0 ]
	grep -q 'no listing state yet' "$err"
	[ "$(stat -c %a "$st")" = 600 ]
	head -n 1 "$st" | grep -q '^plexpipe-listing-state 1 items=42 movie=24 episode=18 show=0$'
	tail -n 1 "$out" | jq -c '.rating_keys | sort' >"$BATS_TEST_TMPDIR/all"

	# unchanged: listings only, nothing written but the end record
	fake_reset
	ingest --plex-url "$FAKE_PLEX" --plex-chunk-size 7 --state "$st" --state-out "$st.2"
	[ "$rc" -eq 0 ]
	[ "$(fake_stats '.plex.by_endpoint["GET /library/metadata/{ids}"] // 0')" -eq 0 ]
	! grep -q '"kind":"plex"' "$out" || false
	[ "$(tail -n 1 "$out" | jq -c '.rating_keys | sort')" = "$(cat "$BATS_TEST_TMPDIR/all")" ]
	[ "$(tail -n 1 "$out" | jq -c '[.complete, .items, .stats["plex-ingest"].unchanged]')" = '[true,42,42]' ]
	cmp "$st" "$st.2"

	# one movie edited, one show edited (its 9 episodes follow), one movie deleted
	local movie gone show
	movie=$(fake_library '.sections[0].movies[2]')
	gone=$(fake_library '.sections[0].movies[3]')
	show=$(fake_library '[.sections[] | select(.type == "show")][0].shows[0]')
	fake_config "{\"plex\":{\"edits\":{\"$movie\":{\"updatedAt\":1900000000},\"$show\":{\"updatedAt\":1900000001}},\"deleted\":[\"$gone\"]}}"
	fake_reset
	ingest --plex-url "$FAKE_PLEX" --plex-chunk-size 7 --state "$st.2" --state-out "$st.3"
	[ "$rc" -eq 0 ]
	jq -r 'select(.kind == "plex") | .items[] | select(.type == "movie") | .ratingKey' "$out" >"$BATS_TEST_TMPDIR/movies"
	[ "$(cat "$BATS_TEST_TMPDIR/movies")" = "$movie" ]
	jq -se --arg s "$show" '[.[] | select(.kind == "plex") | . as $b | .items[] | select(.type == "episode") |
		.grandparentRatingKey == $s and $b.shows[$s].updatedAt == 1900000001] | length == 9 and all' "$out"
	tail -n 1 "$out" | jq -e --arg g "$gone" '.complete and .items == 41 and (.rating_keys | index($g) == null)'
	# metadata for the 10 changed items only (in few requests)
	[ "$(fake_stats '.plex.by_endpoint["GET /library/metadata/{ids}"] // 0')" -le 3 ]
	grep -q "^$movie	m	1900000000	" "$st.3"
	! grep -q "^$gone	" "$st.3" || false

	# a state that cannot be read is a full run, with a warning naming the line
	printf 'plexpipe-listing-state 1 items=1\nbroken\n' >"$st.bad"
	ingest --plex-url "$FAKE_PLEX" --state "$st.bad"
	[ "$rc" -eq 0 ]
	grep -q "warning: listing state unusable.*$st.bad:2:" "$err"
	[ "$(jq -s '[.[] | select(.kind == "plex") | .items[]] | length' "$out")" -eq 41 ]
}
