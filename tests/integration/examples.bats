#!/usr/bin/env bats
# examples.bats: the examples of plex-load --help and the README's marked recipes run as printed, from a clone and after make install.

load helpers

setup() {
	TOP=$PLEXPIPE_TOP
	BIN=$PLEXPIPE_BIN
	export XDG_STATE_HOME="$BATS_TEST_TMPDIR/state"
	unset LOG_LEVEL LOG_FORMAT PLEXPIPE_BIN QDRANT_URL EMBED_URL QDRANT_UPSERT_DENSE
	# a clone as a person has it after make: bin/ holds the programs under test
	C=$BATS_TEST_TMPDIR/clone
	mkdir -p "$C"
	ln -s "$BIN" "$C/bin"
	ln -s "$TOP/scripts" "$C/scripts"
	ln -s "$TOP/sample" "$C/sample"
}

# commands FILE: the shell commands of a block, continuation lines joined, one per line
commands() {
	awk '{ line = line $0 "\n"; q = line; nq = gsub(/\047/, "", q) }
	     nq % 2 == 1 || /(\\|\|)[ \t]*$/ { next }
	     { gsub(/\n/, " ", line); gsub(/\\ /, " ", line); print line; line = "" }' "$1"
}

# run_examples FILE: runs each command in the clone; one whose comment says
# "exit N" must exit N, every other one 0
run_examples() {
	local cmd want n=0
	while IFS= read -r cmd; do
		[ -n "${cmd// /}" ] || continue
		want=0
		if [[ $cmd =~ \#.*exit\ ([0-9]+) ]]; then want=${BASH_REMATCH[1]}; fi
		echo "# \$ $cmd" >&3
		status=0
		(cd "$C" && timeout 60 bash -o pipefail -c "$cmd") >"$BATS_TEST_TMPDIR/ex.out" 2>"$BATS_TEST_TMPDIR/ex.err" || status=$?
		if [ "$status" -ne "$want" ]; then
			echo "# exit $status, want $want:" >&3
			sed 's/^/#   /' "$BATS_TEST_TMPDIR/ex.err" >&3
			return 1
		fi
		n=$((n + 1))
	done < <(commands "$1")
	[ "$n" -gt 0 ]
}

@test "examples: every README block marked <!-- example --> runs as printed in a clone" {
	# the indented block after each marker
	awk '/<!-- example -->/ { grab = 1; started = 0; next }
	     grab && /^    / { started = 1; print substr($0, 5); next }
	     grab && started && !/^    / { grab = 0; print "" }' "$TOP/README.md" >"$BATS_TEST_TMPDIR/readme.sh"
	[ "$(grep -c . "$BATS_TEST_TMPDIR/readme.sh")" -ge 5 ]
	run_examples "$BATS_TEST_TMPDIR/readme.sh"
	# they did what they say: requests for the filtered sample, the recording replayed
	[ -s "$C/requests.ndjson" ]
	cmp <(grep -v '"seconds"' "$C/rec/points.ndjson") <(grep -v '"seconds"' "$C/points.ndjson")
}

@test "examples: no README command calls a stage bare (bin/, scripts/ or after make install)" {
	# indented lines that start a pipeline with a bare stage name
	# (but for the overview's picture of the pipeline, line 9)
	pic='    plex-ingest | meta-enrich -j4 | qdrant-upsert'
	[ "$(grep -cxF -- "$pic" "$TOP/README.md")" -eq 1 ]
	run grep -nE '^    (plex-ingest|meta-enrich|qdrant-upsert|plex-load) ' "$TOP/README.md"
	[ "$output" = "9:$pic" ]
	run bash -c "grep -vxF -- '$pic' '$TOP/README.md' | grep -nE '^    .*\\| *(meta-enrich|qdrant-upsert)( |\$)'"
	[ "$status" -eq 1 ]
}

# help_example PROG-PATH: the first EXAMPLES command of plex-load --help
help_example() {
	"$1" --help | awk '/^EXAMPLES/ { on = 1; next } on && /--sample-dir/ { sub(/^ +/, ""); print; exit }'
}

@test "examples: plex-load --help's sample example runs as printed from a clone" {
	cmd=$(cd "$C" && help_example scripts/plex-load)
	[[ "$cmd" == "scripts/plex-load --sample-dir sample/plex "* ]]
	(cd "$C" && timeout 60 bash -c "$cmd") >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err"
	grep -q '"kind":"request"' "$BATS_TEST_TMPDIR/out"
	# no dense source: said once, not an error
	[ "$(grep -c 'dense vectors are left out' "$BATS_TEST_TMPDIR/err")" -eq 1 ]
}

@test "examples: plex-load --help's sample example runs as printed after make install" {
	D=$BATS_TEST_TMPDIR/dest
	case $BIN in
	"$TOP/bin") build=build/release ;;
	*) build=$(dirname "$BIN") ;;
	esac
	make -s -C "$TOP" -o all -o "$BIN/plex-ingest" -o "$BIN/meta-enrich" -o "$BIN/qdrant-upsert" install BUILD="$build" BIN="$BIN" DESTDIR="$D" PREFIX=/usr >/dev/null
	export PATH="$D/usr/bin:$PATH"
	cmd=$(cd "$BATS_TEST_TMPDIR" && help_example plex-load)
	[[ "$cmd" == "plex-load --sample-dir $D/usr/share/plexpipe/sample/plex "* ]]
	(cd "$BATS_TEST_TMPDIR" && timeout 60 bash -c "$cmd") >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err"
	grep -q '"kind":"request"' "$BATS_TEST_TMPDIR/out"
}
