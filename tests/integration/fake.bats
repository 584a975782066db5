#!/usr/bin/env bats
# fake.bats: self-tests of the fake services (tests/fake/fakesvc.py), driven with curl and jq.

load helpers

K=0123456789abcdef0123456789abcdef

setup_file() {
	fake_start --movie-sections 2 --movies 150 --collections 5 --shows 4 --seasons 3 \
		--episodes 5 --odd-keys 1 --music-section
}

teardown_file() {
	fake_stop
}

setup() {
	fake_reset '{"knobs":true}'
}

# page_all SECTION TYPE SIZE: every ratingKey of a listing, paged with the headers.
# (jq costs ~50 ms a start, so the loop counts rows in bash and one jq checks the pages at the end.)
page_all() {
	local sec=$1 type=$2 size=$3 start=0 total=1 out rest n pages
	pages=$BATS_TEST_TMPDIR/pages.$sec.$type.$size
	: >"$pages"
	while [ "$start" -lt "$total" ]; do
		out=$(plex_get "/library/sections/$sec/all?type=$type&includeGuids=1" \
			-H "X-Plex-Container-Start: $start" -H "X-Plex-Container-Size: $size") || return 1
		[[ "$out" =~ \"totalSize\":([0-9]+) ]] || return 1
		total=${BASH_REMATCH[1]}
		rest=${out//\"ratingKey\":/}
		n=$(((${#out} - ${#rest}) / 12))
		[ "$n" -gt 0 ] || return 1
		printf '%s\n' "$out" >>"$pages"
		start=$((start + n))
	done
	# every page: offset = rows before it, size = its rows, size <= requested size
	jq -sr --argjson want "$size" '
		(reduce .[] as $p ({ok: true, at: 0};
			.ok = (.ok and $p.MediaContainer.offset == .at
				and $p.MediaContainer.size == ($p.MediaContainer.Metadata|length)
				and $p.MediaContainer.size <= $want)
			| .at += $p.MediaContainer.size)) as $r
		| if $r.ok then .[].MediaContainer.Metadata[].ratingKey else error("bad paging") end' "$pages"
}

q() { # q METHOD PATH [JSON]: Qdrant call, body on stdout, HTTP status on the last line
	curl -sS --max-time 10 -X "$1" -H 'Content-Type: application/json' -w '\n%{http_code}' \
		${3:+--data-binary "$3"} "$FAKE_QDRANT$2"
}

@test "port file lists every service and each answers" {
	for n in plex tmdb imdb qdrant embed control; do
		url=$(fake_url "$n")
		[[ "$url" =~ ^http://127\.0\.0\.1:[0-9]+$ ]]
	done
	run curl -sS --max-time 5 "$FAKE_CONTROL/health"
	[ "$status" -eq 0 ]
	[ "$(jq -r .ok <<<"$output")" = true ]
	run curl -sS --max-time 5 "$FAKE_QDRANT/"
	[ "$(jq -r .version <<<"$output")" = 1.19.0 ]
}

@test "plex: 401 HTML without token; token in the URL works but is counted" {
	run curl -sS --max-time 5 -w '\n%{http_code} %{content_type}' "$FAKE_PLEX/library/sections"
	[[ "${lines[-1]}" == "401 text/html"* ]]
	[[ "$output" == *"<html>"* ]]
	[ "$(fake_stats .plex.token_in_url)" -eq 0 ]
	run curl -sS --max-time 5 -H 'Accept: application/json' "$FAKE_PLEX/library/sections?X-Plex-Token=$FAKE_PLEX_TOKEN"
	[ "$(jq -r '.MediaContainer.size' <<<"$output")" -eq 4 ]
	[ "$(fake_stats .plex.token_in_url)" -eq 1 ]
	run curl -sS --max-time 5 -H 'X-Plex-Token: wrong' -w '\n%{http_code}' "$FAKE_PLEX/library/sections"
	[ "${lines[-1]}" = 401 ]
}

@test "plex: sections list movie, show and artist sections with string keys" {
	run plex_get /library/sections
	[ "$status" -eq 0 ]
	[ "$(jq -r '[.MediaContainer.Directory[].type]|join(",")' <<<"$output")" = movie,movie,show,artist ]
	[ "$(jq -r '[.MediaContainer.Directory[].key|type]|unique|join(",")' <<<"$output")" = string ]
	[ "$(jq -r '.MediaContainer.Directory[0].hidden' <<<"$output")" = 0 ]
}

@test "plex: XML without Accept: application/json" {
	run curl -sS --max-time 5 -H "X-Plex-Token: $FAKE_PLEX_TOKEN" -w '\n%{content_type}' "$FAKE_PLEX/library/sections"
	[[ "${lines[-1]}" == text/xml* ]]
	[[ "$output" == *'<MediaContainer size="4"'* ]]
	[[ "$output" == *'<Directory '*'key="1"'* ]]
}

@test "plex: listing without X-Plex-Container-Size is 400 HTML; Size=0 gives only the total" {
	run plex_get '/library/sections/1/all?type=1' -w '\n%{http_code} %{content_type}'
	[[ "${lines[-1]}" == "400 text/html"* ]]
	run plex_get '/library/sections/1/all?type=1&X-Plex-Container-Start=0&X-Plex-Container-Size=0'
	[ "$(jq -r '.MediaContainer.totalSize' <<<"$output")" -eq 155 ]
	[ "$(jq -r '.MediaContainer.Metadata|length' <<<"$output")" -eq 0 ]
	run plex_get '/library/sections/1/all?type=1' -D - -H 'X-Plex-Container-Start: 5' -H 'X-Plex-Container-Size: 2'
	[[ "$output" == *"X-Plex-Container-Total-Size: 155"* ]]
}

@test "plex: paging movies (with collections) at sizes 1, 7, 200 loses nothing" {
	expected=$(fake_library '.sections[0] | (.movies + .collections)[]' | sort)
	[ "$(wc -l <<<"$expected")" -eq 155 ]
	p1=$(page_all 1 1 1)
	p7=$(page_all 1 1 7)
	p200=$(page_all 1 1 200)
	[ "$(sort <<<"$p1")" = "$expected" ]
	[ "$p7" = "$p1" ]
	[ "$p200" = "$p1" ]
	[ -z "$(sort <<<"$p1" | uniq -d)" ]
	# collections are mixed in, not appended
	run plex_get '/library/sections/1/all?type=1' -H 'X-Plex-Container-Start: 0' -H 'X-Plex-Container-Size: 60'
	[ "$(jq '[.MediaContainer.Metadata[]|select(.type=="collection")]|length' <<<"$output")" -ge 1 ]
	[ "$(jq -r '[.MediaContainer.Metadata[]|select(.type=="collection")][0].minYear|type' <<<"$output")" = string ]
}

@test "plex: episodes (type=4) and shows (type=2) page without loss; episodes carry parent fields" {
	expected=$(fake_library '.sections[2].episodes[]' | sort)
	[ "$(wc -l <<<"$expected")" -eq 60 ]
	[ "$(page_all 3 4 7 | sort)" = "$expected" ]
	[ "$(page_all 3 2 1 | sort)" = "$(fake_library '.sections[2].shows[]' | sort)" ]
	run plex_get '/library/sections/3/all?type=4&includeGuids=1' -H 'X-Plex-Container-Start: 0' -H 'X-Plex-Container-Size: 3'
	ep=$(jq -c '.MediaContainer.Metadata[0]' <<<"$output")
	for f in grandparentRatingKey parentRatingKey grandparentTitle parentTitle index parentIndex Guid; do
		[ "$(jq --arg f "$f" 'has($f)' <<<"$ep")" = true ]
	done
	[ "$(jq -r '.grandparentRatingKey|type' <<<"$ep")" = string ]
	[ "$(jq -r '.MediaContainer.nocache' <<<"$output")" = true ]
}

@test "plex: listings truncate tags (tag only), details are full" {
	run plex_get '/library/sections/1/all?type=1' -H 'X-Plex-Container-Start: 0' -H 'X-Plex-Container-Size: 200'
	list=$output
	[ "$(jq '[.MediaContainer.Metadata[]|(.Role//[]|length)]|max' <<<"$list")" -le 3 ]
	[ "$(jq '[.MediaContainer.Metadata[]|(.Genre//[]|length)]|max' <<<"$list")" -le 2 ]
	[ "$(jq '[.MediaContainer.Metadata[]|(.Writer//[]|length)]|max' <<<"$list")" -le 2 ]
	[ "$(jq '[.MediaContainer.Metadata[]|.Role[]?|keys[]]|unique|join(",")' <<<"$list")" = '"tag"' ]
	[ "$(jq '[.MediaContainer.Metadata[]|select(has("Producer"))]|length' <<<"$list")" -eq 0 ]
	# no Guid without includeGuids=1
	[ "$(jq '[.MediaContainer.Metadata[]|select(has("Guid"))]|length' <<<"$list")" -eq 0 ]
	# pick a movie whose details have more than 3 roles
	keys=$(jq -r '[.MediaContainer.Metadata[]|select(.type=="movie")|.ratingKey][:40]|join(",")' <<<"$list")
	run plex_get "/library/metadata/$keys"
	det=$output
	[ "$(jq '.MediaContainer.size' <<<"$det")" -eq 40 ]
	[ "$(jq '[.MediaContainer.Metadata[]|(.Role|length)]|max' <<<"$det")" -gt 3 ]
	r=$(jq -c '.MediaContainer.Metadata[0].Role[0]' <<<"$det")
	for f in id tag tagKey role; do
		[ "$(jq --arg f "$f" 'has($f)' <<<"$r")" = true ]
	done
	[ "$(jq -r '.id|type' <<<"$r")" = number ]
	[ "$(jq '[.MediaContainer.Metadata[]|select(has("Producer"))]|length' <<<"$det")" -gt 0 ]
	[ "$(jq -r '.MediaContainer.Metadata[0].Media[0].Part[0].size|type' <<<"$det")" = number ]
	# listing truncation keeps the same first tags as the details
	k1=$(jq -r '.MediaContainer.Metadata[0].ratingKey' <<<"$det")
	[ "$(jq -c --arg k "$k1" '.MediaContainer.Metadata[]|select(.ratingKey==$k)|[.Role[:3][].tag]' <<<"$det")" = \
		"$(jq -c --arg k "$k1" '.MediaContainer.Metadata[]|select(.ratingKey==$k)|[.Role[].tag]' <<<"$list")" ]
}

@test "plex: metadata omits unknown keys, all-unknown is 404 HTML, keys matched by ratingKey" {
	a=$(fake_library '.sections[0].movies[3]')
	b=$(fake_library '.sections[2].episodes[7]')
	run plex_get "/library/metadata/$b,424242,$a"
	[ "$(jq -r '[.MediaContainer.Metadata[].ratingKey]|sort|join(",")' <<<"$output")" = "$(printf '%s\n' "$a" "$b" | sort | paste -sd,)" ]
	run plex_get "/library/metadata/424242,999" -w '\n%{http_code} %{content_type}'
	[[ "${lines[-1]}" == "404 text/html"* ]]
}

@test "plex: legacy-agent movies have a guid with the imdb id and no Guid array; odd keys work" {
	leg=$(fake_library '.legacy_agent[0]')
	run plex_get "/library/metadata/$leg"
	[[ "$(jq -r '.MediaContainer.Metadata[0].guid' <<<"$output")" =~ ^com\.plexapp\.agents\.imdb://tt[0-9]+\?lang=en$ ]]
	[ "$(jq '.MediaContainer.Metadata[0]|has("Guid")' <<<"$output")" = false ]
	odd=$(fake_library '.sections[0].movies[0]')
	[[ "$odd" == odd-* ]]
	run plex_get "/library/metadata/$odd"
	[ "$(jq -r '.MediaContainer.Metadata[0].ratingKey' <<<"$output")" = "$odd" ]
}

@test "plex: fail_after 3 answers 500 from the 4th listing page on" {
	fake_config '{"plex":{"fail_after":3}}'
	for i in 0 1 2; do
		run plex_get '/library/sections/1/all?type=1' -o /dev/null -w '%{http_code}' -H "X-Plex-Container-Start: $((i * 10))" -H 'X-Plex-Container-Size: 10'
		[ "$output" = 200 ]
	done
	run plex_get '/library/sections/1/all?type=1' -o /dev/null -w '%{http_code}' -H 'X-Plex-Container-Start: 30' -H 'X-Plex-Container-Size: 10'
	[ "$output" = 500 ]
	# other endpoints are not affected unless fail_path says so
	run plex_get /library/sections -o /dev/null -w '%{http_code}'
	[ "$output" = 200 ]
	[ "$(fake_stats '.plex.status_counts["500"]')" -eq 1 ]
}

@test "plex: rps_limit answers 429 with Retry-After and counts it" {
	fake_config '{"plex":{"rps_limit":3}}'
	codes=""
	for i in 1 2 3 4 5 6; do
		codes+="$(plex_get /library/sections -o /dev/null -w '%{http_code}') "
	done
	[[ "$codes" == *429* ]]
	[[ "$codes" == 200* ]]
	run plex_get /library/sections -D - -o /dev/null
	[[ "$output" == *"Retry-After: 1"* ]]
	[ "$(fake_stats .plex.status_429)" -ge 3 ]
	[ "$(fake_stats .plex.peak_rps)" -ge 4 ]
}

@test "tmdb: api_key or Bearer; otherwise 401 status_code 7" {
	run curl -sS --max-time 5 -w '\n%{http_code}' "$FAKE_TMDB/3/movie/100004"
	[ "${lines[-1]}" = 401 ]
	[ "$(head -1 <<<"$output" | jq -r .status_code)" = 7 ]
	run curl -sS --max-time 5 -w '\n%{http_code}' "$FAKE_TMDB/3/movie/100004?api_key=$K"
	[ "${lines[-1]}" = 200 ]
	run curl -sS --max-time 5 -w '\n%{http_code}' -H "Authorization: Bearer $K" "$FAKE_TMDB/3/movie/100004"
	[ "${lines[-1]}" = 200 ]
	run curl -sS --max-time 5 -w '\n%{http_code}' -H "Authorization: Bearer nope" "$FAKE_TMDB/3/movie/100004"
	[ "${lines[-1]}" = 401 ]
}

@test "tmdb: movies agree with the Plex library; reviews only when appended; unknown id 404/34" {
	rk=$(fake_library '.sections[0].movies[5]')
	tm=$(fake_library ".movies[\"$rk\"].tmdb")
	im=$(fake_library ".movies[\"$rk\"].imdb")
	px=$(plex_get "/library/metadata/$rk")
	run curl -sS --max-time 5 "$FAKE_TMDB/3/movie/$tm?api_key=$K&append_to_response=reviews"
	[ "$(jq -r .title <<<"$output")" = "$(jq -r '.MediaContainer.Metadata[0].title' <<<"$px")" ]
	[ "$(jq -r .imdb_id <<<"$output")" = "$im" ]
	[ "$(jq -r '.release_date[:4]' <<<"$output")" = "$(jq -r '.MediaContainer.Metadata[0].year' <<<"$px")" ]
	[ "$(jq -r '.reviews|has("results")' <<<"$output")" = true ]
	run curl -sS --max-time 5 "$FAKE_TMDB/3/movie/$tm?api_key=$K"
	[ "$(jq 'has("reviews")' <<<"$output")" = false ]
	run curl -sS --max-time 5 -w '\n%{http_code}' "$FAKE_TMDB/3/movie/999999999?api_key=$K"
	[ "${lines[-1]}" = 404 ]
	[ "$(head -1 <<<"$output" | jq -r .status_code)" = 34 ]
	# somewhere in the library a review has \r\n, curly quotes and a null rating
	all=""
	for tm in $(fake_library '.movies as $m | .sections[0].movies[:40][] | $m[.].tmdb'); do
		all+=$(curl -sS --max-time 5 "$FAKE_TMDB/3/movie/$tm?api_key=$K&append_to_response=reviews")
	done
	[[ "$all" == *'\r\n'* ]]
	# shellcheck disable=SC1112 # the curly quote is what is looked for
	[[ "$all" == *'’'* ]]
	[[ "$all" == *'"rating":null'* ]]
}

@test "tmdb: review_words lengthens each non-empty review by that many words, nothing else" {
	# a movie with at least one non-empty review
	for tm in $(fake_library '.movies as $m | .sections[0].movies[:40][] | $m[.].tmdb'); do
		base=$(curl -sS --max-time 5 "$FAKE_TMDB/3/movie/$tm?api_key=$K&append_to_response=reviews")
		[ "$(jq '[.reviews.results[] | select(.content != "")] | length' <<<"$base")" -gt 0 ] && break
	done
	fake_config '{"tmdb":{"review_words":200}}'
	long=$(curl -sS --max-time 5 "$FAKE_TMDB/3/movie/$tm?api_key=$K&append_to_response=reviews")
	# every non-empty review gained 200 words; empty ones stay empty; other fields are equal
	run jq -n --argjson a "$base" --argjson b "$long" '
		def words: [splits("\\s+") | select(length > 0)] | length;
		[range($a.reviews.results|length) | [$a.reviews.results[.].content, $b.reviews.results[.].content]
		 | if .[0] == "" then .[1] == "" else (.[1] | words) - (.[0] | words) == 200 end] | all
		and ($a | del(.reviews)) == ($b | del(.reviews))'
	[ "$output" = true ]
	fake_config '{"tmdb":{"review_words":null}}'
	[ "$(curl -sS --max-time 5 "$FAKE_TMDB/3/movie/$tm?api_key=$K&append_to_response=reviews")" = "$base" ]
}

@test "tmdb: tv with appended seasons matches Plex episodes; >20 appends is 400/27" {
	srk=$(fake_library '.sections[2].shows[1]')
	tv=$(fake_library ".shows[\"$srk\"].tmdb")
	run curl -sS --max-time 5 "$FAKE_TMDB/3/tv/$tv?api_key=$K&append_to_response=reviews,season/1,season/3,season/9"
	[ "$(jq -r '[.seasons[].season_number]|map(select(.>0))|join(",")' <<<"$output")" = 1,2,3 ]
	[ "$(jq -r 'has("season/1") and has("season/3") and (has("season/9")|not)' <<<"$output")" = true ]
	eids=$(jq -r '.["season/1"].episodes[].id' <<<"$output" | sort)
	# the Plex episodes of season 1 carry the same tmdb:// episode ids
	keys=$(fake_library ".sections[2].episodes | map(select(startswith(\"${srk:0:5}\")))[]" | head -200 | paste -sd,)
	pids=$(plex_get "/library/metadata/$keys" | jq -r --arg s "$srk" '.MediaContainer.Metadata[]|select(.grandparentRatingKey==$s and .parentRatingKey==(($s|tonumber)+6|tostring))|.Guid[]|select(.id|startswith("tmdb://"))|.id[7:]' | sort)
	[ -n "$eids" ]
	[ "$eids" = "$pids" ]
	run curl -sS --max-time 5 "$FAKE_TMDB/3/tv/$tv/season/2/episode/3?api_key=$K"
	[ "$(jq -r '.season_number,.episode_number' <<<"$output" | paste -sd,)" = 2,3 ]
	[ "$(jq -r '.crew|type' <<<"$output")" = array ]
	apps=$(seq -s, 1 21 | sed 's/[0-9][0-9]*/season\/&/g')
	run curl -sS --max-time 5 -w '\n%{http_code}' "$FAKE_TMDB/3/tv/$tv?api_key=$K&append_to_response=$apps"
	[ "${lines[-1]}" = 400 ]
	[ "$(head -1 <<<"$output" | jq -r .status_code)" = 27 ]
}

@test "tmdb: year-numbered Plex seasons map to TMDb seasons by air year" {
	srk=$(fake_library '.shows|to_entries[]|select(.value.year_seasons)|.key' | head -1)
	[ -n "$srk" ]
	years=$(fake_library ".shows[\"$srk\"].season_numbers|join(\",\")")
	[ "${years%%,*}" -ge 1900 ]
	tv=$(fake_library ".shows[\"$srk\"].tmdb")
	run curl -sS --max-time 5 "$FAKE_TMDB/3/tv/$tv?api_key=$K"
	[ "$(jq -r '[.seasons[]|select(.season_number>0)|.air_date[:4]]|join(",")' <<<"$output")" = "$years" ]
	run curl -sS --max-time 5 -o /dev/null -w '%{http_code}' "$FAKE_TMDB/3/tv/$tv/season/${years%%,*}?api_key=$K"
	[ "$output" = 404 ]
}

@test "tmdb: find by imdb_id and tvdb_id; unknown external id gives empty arrays" {
	rk=$(fake_library '.sections[0].movies[2]')
	im=$(fake_library ".movies[\"$rk\"].imdb")
	tm=$(fake_library ".movies[\"$rk\"].tmdb")
	run curl -sS --max-time 5 "$FAKE_TMDB/3/find/$im?api_key=$K&external_source=imdb_id"
	[ "$(jq -r '.movie_results[0].id' <<<"$output")" = "$tm" ]
	srk=$(fake_library '.sections[2].shows[0]')
	run curl -sS --max-time 5 "$FAKE_TMDB/3/find/$(fake_library ".shows[\"$srk\"].tvdb")?api_key=$K&external_source=tvdb_id"
	[ "$(jq -r '.tv_results[0].id' <<<"$output")" = "$(fake_library ".shows[\"$srk\"].tmdb")" ]
	run curl -sS --max-time 5 "$FAKE_TMDB/3/find/tt0000001?api_key=$K&external_source=imdb_id"
	[ "$(jq -c '[.[]|length]|add' <<<"$output")" = 0 ]
	run curl -sS --max-time 5 -o /dev/null -w '%{http_code}' "$FAKE_TMDB/3/find/tt0000001?api_key=$K"
	[ "$output" = 400 ]
}

@test "imdb: batchGet (repeated ids, max 5, unknown omitted, poison id 400) and /titles/{id}" {
	a=$(fake_library '.movies|to_entries|map(.value.imdb)|map(select(startswith("tt99")|not))|.[0]')
	b=$(fake_library '.movies|to_entries|map(.value.imdb)|map(select(startswith("tt99")))|.[0]')
	[ -n "$b" ]
	run curl -sS --max-time 5 "$FAKE_IMDB/titles:batchGet?titleIds=$a&titleIds=$b"
	[ "$(jq -r '[.titles[].id]|join(",")' <<<"$output")" = "$a" ]
	[ "$(jq -r '.titles[0]|has("isAdult")' <<<"$output")" = false ]
	run curl -sS --max-time 5 -w '\n%{http_code}' "$FAKE_IMDB/titles:batchGet?titleIds=tt0000001&titleIds=tt0000002&titleIds=tt0000003&titleIds=tt0000004&titleIds=tt0000005&titleIds=tt0000006"
	[ "${lines[-1]}" = 400 ]
	[ "$(head -1 <<<"$output" | jq -r .code)" = 3 ]
	fake_config "{\"imdb\":{\"poison_ids\":[\"$a\"]}}"
	run curl -sS --max-time 5 -o /dev/null -w '%{http_code}' "$FAKE_IMDB/titles:batchGet?titleIds=tt0000001&titleIds=$a"
	[ "$output" = 400 ]
	run curl -sS --max-time 5 -o /dev/null -w '%{http_code}' "$FAKE_IMDB/titles:batchGet?titleIds=tt0000001"
	[ "$output" = 200 ]
	run curl -sS --max-time 5 -w '\n%{http_code}' "$FAKE_IMDB/titles/$b"
	[ "${lines[-1]}" = 404 ]
	run curl -sS --max-time 5 "$FAKE_IMDB/titles/tt0000001"
	[ "$(jq -r '.id' <<<"$output")" = tt0000001 ]
}

@test "qdrant: create, 409 on re-create, exists, info, payload index, delete" {
	run q PUT /collections/c1 '{"vectors":{"dense":{"size":4,"distance":"Cosine"}},"sparse_vectors":{"sparse":{"modifier":"idf"}}}'
	[ "${lines[-1]}" = 200 ]
	run q PUT /collections/c1 '{"vectors":{"dense":{"size":4,"distance":"Cosine"}}}'
	[ "${lines[-1]}" = 409 ]
	[[ "$(head -1 <<<"$output" | jq -r .status.error)" == *"already exists"* ]]
	run q GET /collections/c1/exists
	[ "$(head -1 <<<"$output" | jq -r .result.exists)" = true ]
	run q PUT '/collections/c1/index?wait=true' '{"field_name":"year","field_schema":"integer"}'
	[ "${lines[-1]}" = 200 ]
	run q PUT /collections/c1/index '{"field_name":"title","field_schema":{"type":"text","tokenizer":"word","min_token_len":2,"lowercase":true}}'
	[ "${lines[-1]}" = 200 ]
	run q GET /collections/c1
	info=$(head -1 <<<"$output")
	[ "$(jq -r .result.config.params.vectors.dense.size <<<"$info")" = 4 ]
	[ "$(jq -r .result.config.params.sparse_vectors.sparse.modifier <<<"$info")" = idf ]
	[ "$(jq -r .result.payload_schema.year.data_type <<<"$info")" = integer ]
	[ "$(jq -r .result.payload_schema.title.params.tokenizer <<<"$info")" = word ]
	run q DELETE /collections/c1
	run q GET /collections/c1/exists
	[ "$(head -1 <<<"$output" | jq -r .result.exists)" = false ]
	run q GET /collections/c1
	[ "${lines[-1]}" = 404 ]
}

@test "qdrant: upsert validation rejects bad id, wrong dim, duplicate sparse index, unknown vector" {
	q PUT /collections/c2 '{"vectors":{"dense":{"size":3,"distance":"Cosine"}},"sparse_vectors":{"sparse":{}}}' >/dev/null
	run q PUT /collections/c2/points '{"points":[{"id":"42","vector":{"dense":[1,0,0]}}]}'
	[ "${lines[-1]}" = 400 ]
	[[ "$output" == *"not a valid point ID"* ]]
	run q PUT /collections/c2/points '{"points":[{"id":-3,"vector":{"dense":[1,0,0]}}]}'
	[ "${lines[-1]}" = 400 ]
	run q PUT /collections/c2/points '{"points":[{"id":1,"vector":{"dense":[1,0]}}]}'
	[ "${lines[-1]}" = 400 ]
	[[ "$output" == *"expected dim: 3, got 2"* ]]
	run q PUT /collections/c2/points '{"points":[{"id":1,"vector":{"sparse":{"indices":[5,5],"values":[1,2]}}}]}'
	[ "${lines[-1]}" = 422 ]
	run q PUT /collections/c2/points '{"points":[{"id":1,"vector":{"sparse":{"indices":[5,6],"values":[1]}}}]}'
	[ "${lines[-1]}" = 422 ]
	run q PUT /collections/c2/points '{"points":[{"id":1,"vector":{"bm25":{"indices":[5],"values":[1]}}}]}'
	[ "${lines[-1]}" = 400 ]
	[[ "$output" == *"Not existing vector name"* ]]
	run q PUT /collections/c2/points '{"points":[{"id":1,"vector":{"dense":{"text":"x","model":"BAAI/bge-small-en-v1.5"}}}]}'
	[ "${lines[-1]}" = 500 ]
	# valid: integer id, UUID (any case) and a bm25 Document for the sparse vector
	run q PUT '/collections/c2/points?wait=true' '{"points":[{"id":7,"vector":{"dense":[1,0,0],"sparse":{"text":"chocolate chip cookies","model":"Qdrant/bm25"}},"payload":{"a":1}},{"id":"550E8400-E29B-41D4-A716-446655440000","vector":{"dense":[0,1,0]},"payload":null}]}'
	[ "${lines[-1]}" = 200 ]
	[ "$(head -1 <<<"$output" | jq -r .result.status)" = completed ]
	run q POST /collections/c2/points '{"ids":["550e8400-e29b-41d4-a716-446655440000",7,8],"with_vector":["sparse"]}'
	[ "$(head -1 <<<"$output" | jq -c '[.result[].id]|sort_by(type)')" = '[7,"550e8400-e29b-41d4-a716-446655440000"]' ]
	[ "$(head -1 <<<"$output" | jq '.result[]|select(.id==7)|.vector.sparse.indices|length')" -eq 3 ]
	# the sum of points stays: the rejected batches wrote nothing
	run q POST /collections/c2/points/count '{"exact":true}'
	[ "$(head -1 <<<"$output" | jq .result.count)" -eq 2 ]
}

@test "qdrant: scroll pages with next_page_offset, filters, count and delete by filter" {
	q PUT /collections/c3 '{"vectors":{"dense":{"size":2,"distance":"Dot"}}}' >/dev/null
	pts=$(jq -nc '[range(1;26)|{id:.,vector:{dense:[.,1]},payload:{type:(if .%2==0 then "movie" else "episode" end),n:.,genres:(if .%5==0 then ["Drama","Crime"] else ["Comedy"] end),data:{plex:{rating_key:(.|tostring)}}}}]|{points:.}')
	run q PUT '/collections/c3/points?wait=true' "$pts"
	[ "${lines[-1]}" = 200 ]
	seen="" off=null pages=0
	while :; do
		out=$(q POST /collections/c3/points/scroll "{\"limit\":7,\"offset\":$off,\"with_payload\":[\"n\"]}" | head -1)
		seen+="$(jq -r '.result.points[].payload.n' <<<"$out") "
		off=$(jq -c .result.next_page_offset <<<"$out")
		pages=$((pages + 1))
		[ "$off" != null ] || break
		[ "$pages" -lt 10 ]
	done
	[ "$pages" -eq 4 ]
	[ "$(tr ' ' '\n' <<<"$seen" | grep -c .)" -eq 25 ]
	run q POST /collections/c3/points/count '{"filter":{"must":[{"key":"type","match":{"value":"movie"}}],"must_not":[{"key":"genres","match":{"any":["Drama"]}}]}}'
	[ "$(head -1 <<<"$output" | jq .result.count)" -eq 10 ]
	run q POST /collections/c3/points/count '{"filter":{"should":[{"has_id":[1,2,3]},{"key":"n","range":{"gte":24}}]}}'
	[ "$(head -1 <<<"$output" | jq .result.count)" -eq 5 ]
	run q POST '/collections/c3/points/delete?wait=true' '{"filter":{"must":[{"key":"data.plex.rating_key","match":{"any":["1","2"]}}]}}'
	[ "${lines[-1]}" = 200 ]
	run q POST '/collections/c3/points/delete?wait=true' '{"points":[3,4]}'
	run q POST /collections/c3/points/count '{}'
	[ "$(head -1 <<<"$output" | jq .result.count)" -eq 21 ]
	# a dotted with_payload path selects inside objects, as Qdrant does
	out=$(q POST /collections/c3/points/scroll '{"limit":1,"with_payload":["data.plex.rating_key","type"]}' | head -1)
	[ "$(jq -c '.result.points[0].payload' <<<"$out")" = '{"data":{"plex":{"rating_key":"5"}},"type":"episode"}' ]
	# except over many values stays an exact "not one of"
	ex=$(jq -nc '[range(0;10000)|tostring] - ["7"]')
	run q POST /collections/c3/points/count "{\"filter\":{\"must\":[{\"key\":\"data.plex.rating_key\",\"match\":{\"except\":$ex}}]}}"
	[ "$(head -1 <<<"$output" | jq .result.count)" -eq 1 ]
}

@test "qdrant: RRF hybrid query returns the matching point first with score 1.0" {
	q PUT /collections/c4 '{"vectors":{"dense":{"size":384,"distance":"Cosine"}},"sparse_vectors":{"sparse":{"modifier":"idf"}}}' >/dev/null
	texts='["a lighthouse keeper hides a secret","two thieves plan a winter heist","a choir sings at the harbor festival"]'
	emb=$(curl -sS --max-time 10 "$FAKE_EMBED/v1/embeddings" -d "{\"model\":\"BAAI/bge-small-en-v1.5\",\"input\":$texts}")
	pts=$(jq -nc --argjson t "$texts" --argjson e "$emb" '{points:[range(0;3) as $i|{id:(100+$i),vector:{dense:$e.data[$i].embedding,sparse:{text:$t[$i],model:"qdrant/bm25"}},payload:{title:$t[$i]}}]}')
	run q PUT '/collections/c4/points?wait=true' "$pts"
	[ "${lines[-1]}" = 200 ]
	qv=$(curl -sS --max-time 10 "$FAKE_EMBED/v1/embeddings" -d '{"model":"BAAI/bge-small-en-v1.5","input":"two thieves plan a winter heist"}' | jq -c '.data[0].embedding')
	body=$(jq -nc --argjson v "$qv" '{prefetch:[{query:$v,using:"dense",limit:10},{query:{text:"winter heist",model:"qdrant/bm25"},using:"sparse",limit:10}],query:{fusion:"rrf"},limit:3,with_payload:true}')
	run q POST /collections/c4/points/query "$body"
	r=$(head -1 <<<"$output")
	[ "$(jq -r '.result.points[0].id' <<<"$r")" = 101 ]
	[ "$(jq -r '.result.points[0].score' <<<"$r")" = 1 ]
	[ "$(jq -r '.result.points[0].payload.title' <<<"$r")" = "two thieves plan a winter heist" ]
	# without with_payload the query API returns no payload
	run q POST /collections/c4/points/query "$(jq -c 'del(.with_payload)' <<<"$body")"
	[ "$(head -1 <<<"$output" | jq '.result.points[0]|has("payload")')" = false ]
}

@test "qdrant: api-key check answers 401 plain text" {
	# a second fake for this test only (the file's fake keeps running; test variables are local)
	fake_start --dir "$BATS_TEST_TMPDIR/k" --qdrant-key s3cret --movies 1 --shows 0
	run curl -sS --max-time 5 -w '\n%{http_code} %{content_type}' "$FAKE_QDRANT/collections"
	[[ "${lines[-1]}" == "401 text/plain"* ]]
	run curl -sS --max-time 5 -o /dev/null -w '%{http_code}' -H 'api-key: s3cret' "$FAKE_QDRANT/collections"
	[ "$output" = 200 ]
	run curl -sS --max-time 5 -o /dev/null -w '%{http_code}' -H 'api-key: wrong' "$FAKE_QDRANT/collections"
	[ "$output" = 401 ]
	fake_stop
}

@test "qdrant: fail_rate 0.3 / 503 hits about 30% of upserts, reproducibly; other calls unaffected" {
	q PUT /collections/c5 '{"vectors":{"dense":{"size":2,"distance":"Cosine"}}}' >/dev/null
	fake_config '{"qdrant":{"fail_rate":0.3,"fail_status":503}}'
	run1=""
	for i in $(seq 40); do
		run1+=$(q PUT /collections/c5/points "{\"points\":[{\"id\":$i,\"vector\":{\"dense\":[1,$i]}}]}" | tail -1)" "
	done
	n503=$(grep -o 503 <<<"$run1" | wc -l)
	[ "$n503" -ge 5 ]
	[ "$n503" -le 20 ]
	run q GET /collections/c5/exists
	[ "${lines[-1]}" = 200 ]
	fake_reset
	run2=""
	for i in $(seq 40); do
		run2+=$(q PUT /collections/c5/points "{\"points\":[{\"id\":$i,\"vector\":{\"dense\":[1,$i]}}]}" | tail -1)" "
	done
	[ "$run1" = "$run2" ]
	[ "$(fake_stats '.qdrant.status_counts["503"]')" -eq "$n503" ]
}

@test "knobs: down and drop_rate close the connection, stall_ms and latency_ms delay" {
	fake_config '{"qdrant":{"down":true}}'
	run curl -sS --max-time 5 "$FAKE_QDRANT/collections"
	[ "$status" -eq 52 ] || [ "$status" -eq 56 ]
	fake_config '{"qdrant":{"down":null},"imdb":{"drop_rate":1.0}}'
	run curl -sS --max-time 5 -o /dev/null -w '%{http_code}' "$FAKE_QDRANT/collections"
	[ "$output" = 200 ]
	run curl -sS --max-time 5 "$FAKE_IMDB/titles/tt0000001"
	[ "$status" -eq 52 ] || [ "$status" -eq 56 ]
	[ "$(fake_stats .imdb.dropped)" -eq 1 ]
	fake_config '{"tmdb":{"stall_ms":3000}}'
	run curl -sS --max-time 1 "$FAKE_TMDB/3/movie/100004?api_key=$K"
	[ "$status" -eq 28 ]
	fake_config '{"tmdb":{"stall_ms":null,"latency_ms":400}}'
	t=$(curl -sS --max-time 5 -o /dev/null -w '%{time_total}' "$FAKE_TMDB/3/movie/100004?api_key=$K")
	awk -v t="$t" 'BEGIN{exit !(t >= 0.39)}'
	run curl -sS --max-time 5 -X POST -d '{"tmdb":{"no_such_knob":1}}' -o /dev/null -w '%{http_code}' "$FAKE_CONTROL/config"
	[ "$output" = 400 ]
}

@test "embed: dimension per model, L2-normalised, a text is nearest to itself" {
	for m in BAAI/bge-small-en-v1.5:384 BAAI/bge-base-en-v1.5:768 BAAI/bge-large-en-v1.5:1024 \
		text-embedding-3-small:1536 text-embedding-3-large:3072 whatever:384; do
		run curl -sS --max-time 10 "$FAKE_EMBED/v1/embeddings" -d "{\"model\":\"${m%:*}\",\"input\":\"hello\"}"
		[ "$(jq '.data[0].embedding|length' <<<"$output")" -eq "${m##*:}" ]
	done
	run curl -sS --max-time 10 "$FAKE_EMBED/v1/embeddings" -d '{"model":"BAAI/bge-small-en-v1.5","input":["red fox jumps","blue whale sings","red fox jumps"]}'
	[ "$(jq -r '.object,.data[1].object,.data[2].index' <<<"$output" | paste -sd,)" = list,embedding,2 ]
	[ "$(jq '.data[0].embedding|map(.*.)|add|.*1000|round' <<<"$output")" -eq 1000 ]
	[ "$(jq '[.data[0].embedding,.data[2].embedding]|transpose|map(.[0]*.[1])|add*1000|round' <<<"$output")" -eq 1000 ]
	[ "$(jq '[.data[0].embedding,.data[1].embedding]|transpose|map(.[0]*.[1])|add*1000|round' <<<"$output")" -lt 900 ]
	run curl -sS --max-time 10 -o /dev/null -w '%{http_code}' "$FAKE_EMBED/v1/embeddings" -d '{"model":"x"}'
	[ "$output" = 400 ]
}

@test "stats: per-endpoint counts, peak concurrency with parallel clients, reset" {
	fake_config '{"tmdb":{"latency_ms":300}}'
	for i in 1 2 3 4; do
		curl -sS --max-time 5 -o /dev/null "$FAKE_TMDB/3/movie/10000$i?api_key=$K" &
	done
	wait
	[ "$(fake_stats '.tmdb.by_endpoint["GET /3/movie/{n}"]')" -eq 4 ]
	[ "$(fake_stats .tmdb.peak_concurrency)" -ge 3 ]
	[ "$(fake_stats .tmdb.peak_rps)" -ge 4 ]
	[ "$(fake_stats .tmdb.requests)" -eq 4 ]
	fake_reset
	[ "$(fake_stats .tmdb.requests)" -eq 0 ]
	[ "$(fake_stats '.tmdb.by_endpoint|length')" -eq 0 ]
}

@test "timeline: each request's arrival and status, in order; reset empties it" {
	fake_config '{"tmdb":{"rps_limit":2,"retry_after":1}}'
	for i in 1 2 3; do
		curl -sS --max-time 5 -o /dev/null "$FAKE_TMDB/3/movie/10000$i?api_key=$K"
		sleep 0.1
	done
	tl=$(curl -sS -f --max-time 10 "$FAKE_CONTROL/timeline")
	[ "$(jq '.tmdb | length' <<<"$tl")" -eq 3 ]
	# the third within a second of the first two is refused
	[ "$(jq -c '[.tmdb[][1]]' <<<"$tl")" = '[200,200,429]' ]
	# arrivals 0.1 s or more apart, in order
	jq -e '.tmdb as $t | ($t[1][0] - $t[0][0]) >= 0.09 and ($t[2][0] - $t[1][0]) >= 0.09' <<<"$tl"
	[ "$(jq '.imdb | length' <<<"$tl")" -eq 0 ]
	fake_reset
	[ "$(curl -sS -f --max-time 10 "$FAKE_CONTROL/timeline" | jq '.tmdb | length')" -eq 0 ]
}

@test "reset with data:true empties Qdrant" {
	q PUT /collections/c6 '{"vectors":{"dense":{"size":2,"distance":"Cosine"}}}' >/dev/null
	fake_reset '{"data":true}'
	run q GET /collections/c6/exists
	[ "$(head -1 <<<"$output" | jq -r .result.exists)" = false ]
}

@test "--library-dir serves a sample library directory" {
	d=$BATS_TEST_TMPDIR/lib
	mkdir -p "$d/metadata"
	echo '{"MediaContainer":{"size":1,"Directory":[{"key":"7","type":"movie","title":"Films","uuid":"u-7"}]}}' >"$d/sections.json"
	jq -nc '{MediaContainer:{size:5,librarySectionID:7,Metadata:[range(5)|{ratingKey:("70"+tostring),type:"movie",title:("T"+tostring),Role:[{tag:"A"}]}]}}' >"$d/section-7-type1.json"
	echo '{"MediaContainer":{"size":1,"Metadata":[{"ratingKey":"702","type":"movie","title":"T2","Role":[{"id":1,"tag":"A","role":"B"}]}]}}' >"$d/metadata/702.json"
	old=$FAKE_PORT_FILE
	mkdir -p "$BATS_TEST_TMPDIR/f2"
	python3 "$FAKESVC" --port-file "$BATS_TEST_TMPDIR/f2/p.json" --library-dir "$d" --max-seconds 30 3>&- &
	pid=$!
	for i in $(seq 100); do [ -s "$BATS_TEST_TMPDIR/f2/p.json" ] && break; sleep 0.1; done
	P=$(jq -r .plex "$BATS_TEST_TMPDIR/f2/p.json")
	run curl -sS --max-time 5 -H "X-Plex-Token: $FAKE_PLEX_TOKEN" -H 'Accept: application/json' \
		-H 'X-Plex-Container-Start: 2' -H 'X-Plex-Container-Size: 2' "$P/library/sections/7/all?type=1"
	[ "$(jq -c '[.MediaContainer.totalSize,.MediaContainer.offset,[.MediaContainer.Metadata[].ratingKey]]' <<<"$output")" = '[5,2,["702","703"]]' ]
	run curl -sS --max-time 5 -H "X-Plex-Token: $FAKE_PLEX_TOKEN" -H 'Accept: application/json' "$P/library/metadata/702,703"
	[ "$(jq -c '[.MediaContainer.Metadata[].Role[0].role]' <<<"$output")" = '["B"]' ]
	kill -TERM "$pid"
	wait "$pid"
	[ "$old" = "$FAKE_PORT_FILE" ]
}

@test "fakesvc exits by itself after --max-seconds and on SIGTERM" {
	python3 "$FAKESVC" --port-file "$BATS_TEST_TMPDIR/m.json" --max-seconds 1 3>&- &
	pid=$!
	for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	! kill -0 "$pid" 2>/dev/null || false
	[ -s "$BATS_TEST_TMPDIR/m.json" ]
	run python3 "$FAKESVC" --port-file "$BATS_TEST_TMPDIR/bad.json" --movies -1
	[ "$status" -eq 2 ]
}

@test "tmdb and imdb also answer for ids from the recorded fixtures (synthesised)" {
	skip_without_shared
	f=$SHARED/fixtures/mcp-plex-sample-data/plex-100-movies.json
	[ -f "$f" ] || skip "no plex-100-movies.json under $SHARED"
	ids=$(jq -r '[.MediaContainer.Metadata[]|.Guid[]?|.id|select(startswith("tmdb://"))|.[7:]][:5][]' "$f")
	[ -n "$ids" ]
	for id in $ids; do
		run curl -sS --max-time 5 -o /dev/null -w '%{http_code}' "$FAKE_TMDB/3/movie/$id?api_key=$K&append_to_response=reviews"
		[ "$output" = 200 ]
	done
	im=$(jq -r '[.MediaContainer.Metadata[]|.Guid[]?|.id|select(startswith("imdb://"))|.[7:]][0]' "$f")
	run curl -sS --max-time 5 "$FAKE_IMDB/titles/$im"
	[ "$(jq -r .id <<<"$output")" = "$im" ]
}
