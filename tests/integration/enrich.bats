#!/usr/bin/env bats
# enrich.bats: meta-enrich offline on the bundled sample library: golden points, options, bad input, exit codes.

load helpers

ME() { "$PLEXPIPE_BIN/meta-enrich" "$@"; }

# sample_input OUT: the sample library as two plex batches (movies; episodes with their shows) and an end record.
sample_input() {
	local md=$PLEXPIPE_TOP/sample/plex/metadata
	jq -s -c '[.[].MediaContainer.Metadata[0]] as $all
		| ($all | map(select(.type=="movie")) | sort_by(.ratingKey)) as $mv
		| ($all | map(select(.type=="episode")) | sort_by(.ratingKey)) as $ep
		| ($all | map(select(.type=="show")) | map({key: .ratingKey, value: .}) | from_entries) as $sh
		| {kind:"plex",v:1,seq:0,section:{key:"1",title:"Movies",type:"movie",uuid:"u1"},items:$mv,shows:{}},
		  {kind:"plex",v:1,seq:1,section:{key:"2",title:"TV Shows",type:"show",uuid:"u2"},items:$ep,shows:$sh},
		  {kind:"end",v:1,complete:true,items:(($mv|length)+($ep|length)),sections:[],rating_keys:[],stats:{}}' \
		"$md"/*.json >"$1"
}

setup() {
	cd "$BATS_TEST_TMPDIR"
	sample_input in.ndjson
}

@test "meta-enrich: --version, --help, unknown flag, --list-options" {
	run ME --version
	[ "$status" -eq 0 ]
	[ "$output" = "meta-enrich plexpipe 0.1.0" ]
	run ME --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"--enrichment-workers"* ]]
	[[ "$output" == *"--imdb-queue"* ]]
	run ME --no-such-flag
	[ "$status" -eq 2 ]
	run ME --list-options
	[ "$status" -eq 0 ]
	grep -qx 'tmdb-api-key=' <<<"$output"
	grep -qx 'offline' <<<"$output"
	grep -qx 'enrichment-workers=' <<<"$output"
	run ME -j 0
	[ "$status" -eq 2 ]
}

@test "meta-enrich: golden points (legacy guid, non-numeric rating key, year-numbered season)" {
	ME --offline --cache-dir "$PLEXPIPE_TOP/sample/cache" -j2 <in.ndjson >out.ndjson 2>err
	for f in "$PLEXPIPE_TOP"/tests/data/enrich/*.expected.json; do
		rk=$(jq -r '.payload.data.plex.rating_key' "$f")
		jq -c --arg rk "$rk" 'select(.kind=="points") | .points[] | select(.payload.data.plex.rating_key==$rk)' \
			out.ndjson >got.json
		[ -s got.json ] || { echo "no point for $rk"; false; }
		# the same JSON, and the payload keys in DESIGN.md's order
		jq -S . got.json >a.json
		jq -S . "$f" >b.json
		diff -u b.json a.json
		[ "$(jq -c '.payload|keys_unsorted' got.json)" = "$(jq -c '.payload|keys_unsorted' "$f")" ]
		[ "$(jq -c '.payload.data.plex|keys_unsorted' got.json)" = "$(jq -c '.payload.data.plex|keys_unsorted' "$f")" ]
	done
}

@test "meta-enrich: points in input order, end forwarded with stats, identical for -j1 and -j8" {
	ME --offline --cache-dir "$PLEXPIPE_TOP/sample/cache" -j1 --enrichment-batch-size 2 <in.ndjson >o1 2>/dev/null
	ME --offline --cache-dir "$PLEXPIPE_TOP/sample/cache" -j8 --enrichment-batch-size 2 <in.ndjson >o8 2>/dev/null
	cmp o1 o8
	# every rating key once, in input order
	diff <(jq -r 'select(.kind=="plex") | .items[].ratingKey' in.ndjson) \
		<(jq -r 'select(.kind=="points") | .points[].payload.data.plex.rating_key' o1)
	# 6 movies in chunks of 2; the 4 + 3 episodes are never cut inside a show
	[ "$(jq -r 'select(.kind=="points") | .seq' o1 | tr '\n' ' ')" = "0 1 2 3 4 " ]
	[ "$(jq -r 'select(.kind=="points") | .points | length' o1 | tr '\n' ' ')" = "2 2 2 4 3 " ]
	[ "$(tail -n 1 o1 | jq -r .kind)" = end ]
	[ "$(tail -n 1 o1 | jq -r '.stats["meta-enrich"].items')" = 13 ]
}

@test "meta-enrich: bare items are re-batched; other kinds pass through in place" {
	{
		jq -c 'select(.kind=="plex") | .items[0]' in.ndjson
		echo '{"kind":"note","v":1,"text":"keep me"}'
		jq -c 'select(.kind=="plex") | .items[1]' in.ndjson
		tail -n 1 in.ndjson
	} >bare.ndjson
	run ME --offline --cache-dir "$PLEXPIPE_TOP/sample/cache" -j2 <bare.ndjson
	[ "$status" -eq 0 ]
	kinds=$(grep '^{' <<<"$output" | jq -r .kind | tr '\n' ' ')
	[ "$kinds" = "points note points end " ]
}

@test "meta-enrich: bad records go to the reject file with their line number; exit 4; --strict exit 3" {
	{
		head -n 1 in.ndjson
		echo '{"kind":"plex","v":1,"items":'
		echo '{"no":"kind"}'
		tail -n 2 in.ndjson
	} >bad.ndjson
	run ME --offline --cache-dir "$PLEXPIPE_TOP/sample/cache" --reject-file rej.ndjson <bad.ndjson
	[ "$status" -eq 4 ]
	[ "$(jq -s length rej.ndjson)" -eq 2 ]
	[ "$(jq -r .line rej.ndjson | tr '\n' ' ')" = "2 3 " ]
	[ "$(jq -r .record rej.ndjson | sed -n 2p)" = '{"no":"kind"}' ]
	# the good records still went through
	[ "$(grep -c '"kind":"points"' <<<"$output")" -ge 2 ]
	run ME --offline --cache-dir "$PLEXPIPE_TOP/sample/cache" --strict <bad.ndjson
	[ "$status" -eq 3 ]
}

@test "meta-enrich: a plex record of the wrong shape is rejected with its reason, split on its items or parsed whole alike" {
	# line 3 has a surrogate-pair escape, which leaves it to the whole parse
	cat >bad.ndjson <<-'EOF'
	{"kind":"plex","v":1,"seq":5,"items":[1,{"ratingKey":"9"}]}
	{"kind":"plex","v":2,"items":[]}
	{"kind":"plex","v":1,"seq":6,"x":"\ud83c\udfac","items":[{"ratingKey":"9"},"a"]}
	{"kind":"plex","items":[],"shows":[]}
	{"kind":"plex","items":{}}
	{"kind":"plex","section":"Movies","items":[{"ratingKey":"9"}]}
	{"kind":"end","v":1,"complete":true,"items":0}
	EOF
	run ME -vv --offline --cache-dir c --reject-file rej.ndjson <bad.ndjson
	[ "$status" -eq 4 ]
	[ "$(jq -r '"\(.line) \(.error)"' rej.ndjson)" = "1 plex record: an item is not an object
2 plex record: v is not 1
3 plex record: an item is not an object
4 plex record: shows is not an object
5 plex record: items is not an array
6 plex record: section is not an object" ]
	# each record is kept as it was read
	[ "$(jq -r .record rej.ndjson)" = "$(head -n 6 bad.ndjson)" ]
	[ "$(grep -c 'plex record parsed whole' <<<"$output")" -eq 2 ]
}

@test "meta-enrich: lines are split by the shared NDJSON reader: CRLF, an unfinished line, no final newline" {
	{
		head -n 1 in.ndjson | sed 's/$/\r/'
		printf '%s\r\n' '{"kind":"note","text":"passes"}'
		echo '{"kind":"plex","v":1,"items":[1,'
		sed -n 2p in.ndjson
		tail -n 1 in.ndjson | tr -d '\n'
	} >mixed.ndjson
	run ME --offline --cache-dir "$PLEXPIPE_TOP/sample/cache" --reject-file rej.ndjson <mixed.ndjson
	[ "$status" -eq 4 ]
	# the reader's reasons (common/ndjson_read.c), the line counted as read
	[ "$(jq -r '"\(.line) \(.error)"' rej.ndjson)" = "3 JSON value not finished at end of line" ]
	# the CR belongs to the line ending: the pass-through record is written without it
	grep -qx '{"kind":"note","text":"passes"}' <<<"$output"
	# the same points as from the plain input, and the last line without newline is the end
	ME --offline --cache-dir "$PLEXPIPE_TOP/sample/cache" <in.ndjson >plain.out 2>/dev/null
	diff <(grep '"kind":"points"' plain.out) <(grep '"kind":"points"' <<<"$output")
	[ "$(grep -c '"kind":"end"' <<<"$output")" -eq 1 ]
}

@test "meta-enrich: input without an end record is processed, no end written, exit 5" {
	head -n 2 in.ndjson >trunc.ndjson
	run ME --offline --cache-dir "$PLEXPIPE_TOP/sample/cache" <trunc.ndjson
	[ "$status" -eq 5 ]
	[ "$(grep -c '"kind":"points"' <<<"$output")" -eq 2 ]
	! grep -q '"kind":"end"' <<<"$output" || false
}

@test "meta-enrich: no TMDb key: a warning, no TMDb data beyond the cache, items still written" {
	mkdir empty
	run env -u TMDB_API_KEY "$PLEXPIPE_BIN/meta-enrich" --no-imdb --cache-dir empty --imdb-queue q.json <in.ndjson
	[ "$status" -eq 0 ]
	[[ "$output" == *"no TMDb key"* ]]
	[ "$(grep '"kind":"points"' <<<"$output" | jq '[.points[] | select(.payload.data.tmdb != null)] | length' | paste -sd+ | bc)" -eq 0 ]
	[ "$(grep '"kind":"points"' <<<"$output" | jq '.points | length' | paste -sd+ | bc)" -eq 13 ]
}

@test "meta-enrich: legacy imdb_cache.json import" {
	mkdir c
	echo '{"tt9100001":{"id":"tt9100001","type":"movie","primaryTitle":"Imported","plot":"From the legacy cache."},"tt9100002":null}' >legacy.json
	# no IMDb server is reachable: the import alone must fill the cache
	run ME --no-tmdb --imdb-url http://127.0.0.1:9 --imdb-max-retries 0 --cache-dir c --imdb-cache legacy.json --imdb-queue q.json </dev/null
	[ "$status" -eq 5 ]
	[ "$(jq -r .plot c/imdb/tt9100001.json)" = "From the legacy cache." ]
	[ "$(cat c/imdb/tt9100002.json)" = null ]
}

@test "meta-enrich: mcp-plex recorded movie and episode go through with every payload key" {
	skip_without_shared
	fx=$SHARED/fixtures/mcp-plex-sample-data
	mkdir -p c/tmdb/movie c/tmdb/tv c/imdb
	cp "$fx/movie/tmdb.json" c/tmdb/movie/522627.json
	cp "$fx/movie/imdb.json" c/imdb/tt8367814.json
	cp "$fx/episode/tmdb.tv.json" c/tmdb/tv/157239.json
	cp "$fx/episode/imdb.tv.json" c/imdb/tt32572896.json
	jq -c '.MediaContainer.Metadata[0]' "$fx/movie/plex.json" >rec.ndjson
	jq -c '{kind:"plex",v:1,seq:1,section:{key:"2",title:"TV",type:"show",uuid:"u"},
		items:[.MediaContainer.Metadata[0]],
		shows:{(.MediaContainer.Metadata[0].grandparentRatingKey):{ratingKey:.MediaContainer.Metadata[0].grandparentRatingKey,
			type:"show",title:.MediaContainer.Metadata[0].grandparentTitle,Guid:[{id:"tmdb://157239"}]}}}' \
		"$fx/episode/plex.tv.json" >>rec.ndjson
	echo '{"kind":"end","v":1,"complete":true,"items":2,"sections":[],"rating_keys":[],"stats":{}}' >>rec.ndjson
	ME --offline --cache-dir c <rec.ndjson >out.ndjson
	jq -c 'select(.kind=="points") | .points[]' out.ndjson >pts
	[ "$(wc -l <pts)" -eq 2 ]
	mv=$(sed -n 1p pts)
	for k in data title type title_slug actors directors writers genres summary overview plot tagline reviews year added_at; do
		jq -e --arg k "$k" '.payload | has($k)' <<<"$mv" >/dev/null || { echo "movie lacks $k"; false; }
	done
	[ "$(jq -r '.id' <<<"$mv")" = 49915 ]
	[ "$(jq -r '.payload.data.tmdb.id|type' <<<"$mv")" = number ]
	[ "$(jq -r '.payload.reviews|map(type)|unique|join(",")' <<<"$mv")" = string ]
	[ "$(jq -r '.payload.data.plex.rating_key|type' <<<"$mv")" = string ]
	ep=$(sed -n 2p pts)
	for k in data title type title_slug show_title show_title_slug season_title season_number episode_number actors directors writers summary overview plot year added_at; do
		jq -e --arg k "$k" '.payload | has($k)' <<<"$ep" >/dev/null || { echo "episode lacks $k"; false; }
	done
	[ "$(jq -r '.payload.show_title_slug' <<<"$ep")" = alien-earth ]
	[[ "$(jq -r '.vector.dense.text' <<<"$ep")" == "Alien: Earth - S01E04 - Observation"* ]]
}
