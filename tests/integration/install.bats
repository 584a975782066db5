#!/usr/bin/env bats
# install.bats: make install PREFIX DESTDIR puts programs, man pages (help2man) and bash completion in place; uninstall removes them.

load helpers

setup() {
	TOP=$PLEXPIPE_TOP
	BIN=$PLEXPIPE_BIN
	command -v help2man >/dev/null || skip "help2man is not installed (scripts/install-deps lists it)"
	D=$BATS_TEST_TMPDIR/dest
	case $BIN in
	"$TOP/bin") BUILD=build/release ;;
	*) BUILD=$(dirname "$BIN") ;;
	esac
	unset LOG_LEVEL LOG_FORMAT
}

# the programs under test are installed as built: make must not relink them
minstall() {
	make -s -C "$TOP" -o all -o "$BIN/plex-ingest" -o "$BIN/meta-enrich" -o "$BIN/qdrant-upsert" \
		BUILD="$BUILD" BIN="$BIN" DESTDIR="$D" PREFIX=/opt/pp "$@" >/dev/null
}

@test "install: programs, man pages and completion under PREFIX in DESTDIR" {
	minstall install
	for n in plex-ingest meta-enrich qdrant-upsert plex-load; do
		[ -x "$D/opt/pp/bin/$n" ]
		m=$D/opt/pp/share/man/man1/$n.1
		[ -s "$m" ]
		# a real page: its title, a NAME line, the program's own options
		grep -q "^\.TH ${n^^} \"1\"" "$m"
		grep -q "^$n \\\\- " "$m"
		grep -q 'log\\-level' "$m"
		[ -s "$D/opt/pp/share/bash-completion/completions/$n" ]
	done
	grep -q 'plex\\-url' "$D/opt/pp/share/man/man1/plex-ingest.1"
	grep -q 'dead\\-letter' "$D/opt/pp/share/man/man1/qdrant-upsert.1"
	# plex-load's page names the installed sample, not the build tree
	grep -q '/opt/pp/share/plexpipe/sample/plex' "$D/opt/pp/share/man/man1/plex-load.1"
	! grep -q "$TOP" "$D/opt/pp/share/man/man1/plex-load.1" || false
	if command -v man >/dev/null; then
		MANWIDTH=80 man -l "$D/opt/pp/share/man/man1/meta-enrich.1" 2>/dev/null | grep -q 'enrichment-workers'
	fi
}

# complete LINE...: what the installed completion offers for the last word
complete_words() {
	PATH="$D/opt/pp/bin:$PATH" bash -c '
		source "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		_plexpipe "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
		printf "%s\n" "${COMPREPLY[@]}"' _ "$D/opt/pp/share/bash-completion/completions/qdrant-upsert" "$@"
}

@test "install: bash completion offers each program's options (from --list-options) and their values" {
	minstall install
	run complete_words qdrant-upsert --den
	[ "$status" -eq 0 ]
	grep -qx -- --dense <<<"$output"
	grep -qx -- --dense-size <<<"$output"
	run complete_words qdrant-upsert --dense ''
	[ "$(sort <<<"$output" | tr '\n' ' ')" = "endpoint none server " ]
	run complete_words meta-enrich --log-level w
	[ "$output" = warning ]
	run complete_words plex-ingest --plex-
	grep -qx -- --plex-url <<<"$output"
	! grep -q -- --dense <<<"$output" || false
	run complete_words plex-load --dry
	grep -qx -- --dry-run <<<"$output"
}

@test "install: uninstall removes what install put there" {
	minstall install
	minstall uninstall
	[ -z "$(find "$D" -type f)" ]
}
