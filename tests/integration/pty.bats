#!/usr/bin/env bats
# pty.bats: plex-load as a person sees it, in a real terminal (tmux): one live status line, no JSON on screen, a clean Ctrl-C; off a terminal, plain progress lines.

load helpers

setup() {
	command -v tmux >/dev/null || skip "tmux is not installed"
	T=$BATS_TEST_TMPDIR
	cd "$T" || return
	unset LOG_LEVEL LOG_FORMAT QDRANT_URL EMBED_URL TMDB_API_KEY PLEX_URL PLEX_TOKEN
}

teardown() {
	tmux -S "$T/tmux.sock" kill-server 2>/dev/null || true
	fake_stop
}

# start_fakes: a library big enough to be watched for a few seconds
start_fakes() {
	fake_start --movies 600 --shows 4 --seasons 1 --episodes 8
	fake_config '{"tmdb":{"latency_ms":30},"qdrant":{"latency_ms":60}}'
	cat >"$T/run.sh" <<EOS
export XDG_STATE_HOME='$T/state' PLEXPIPE_BIN='$PLEXPIPE_BIN' PATH='$PATH'
export PLEX_URL='$FAKE_PLEX' PLEX_TOKEN='$FAKE_PLEX_TOKEN' TMDB_API_KEY='$FAKE_TMDB_KEY'
export QDRANT_URL='$FAKE_QDRANT' EMBED_URL='$FAKE_EMBED' PLEXLOAD_PROGRESS_SECONDS=1
'$PLEXPIPE_TOP/scripts/plex-load' --tmdb-url '$FAKE_TMDB' --imdb-url '$FAKE_IMDB' --tmdb-rps 400 \\
    --cache-dir '$T/cache' --upsert-buffer-size 32 -j2 "\$@"
echo "EXIT=\$?" >'$T/exit'
EOS
}

# in_tmux: plex-load in a 160x40 terminal; its raw output in $T/raw
in_tmux() {
	tmux -S "$T/tmux.sock" new-session -d -s pl -x 160 -y 40 "bash '$T/run.sh'; sleep 300"
	tmux -S "$T/tmux.sock" pipe-pane -t pl -o "cat >>'$T/raw'"
}

screen() { tmux -S "$T/tmux.sock" capture-pane -p -t pl -J; }

show() { printf '# screen: %s\n' "${1//$'\n'/$'\n'# screen: }" >&3; }

# wait_for SECONDS REGEX: until the screen shows REGEX
wait_for() {
	local end=$((SECONDS + $1))
	until screen | grep -qE -- "$2"; do
		if [ "$SECONDS" -ge "$end" ]; then
			show "$(screen)"
			return 1
		fi
		sleep 0.2
	done
}

wait_exit() {
	local end=$((SECONDS + $1))
	until [ -s "$T/exit" ]; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.2
	done
}

LIVE='^plex-load: listed [0-9]+/[0-9]+, enriched [0-9]+, loaded [1-9][0-9]*, [0-9]+\.[0-9]/s, ETA ([0-9]+ s|[0-9]+:[0-9]{2})'

@test "pty: one live status line (done/total, rate, ETA), no JSON on screen, then a clean Ctrl-C: exit 130, one line of what was kept" {
	start_fakes
	in_tmux
	wait_for 90 "$LIVE"
	line=$(screen | grep -E "$LIVE" | tail -n 1)
	echo "# live: $line" >&3
	# one status line, not a scroll of them
	[ "$(screen | grep -c '^plex-load: listed ')" -eq 1 ]
	! screen | grep -q '{"' || false
	tmux -S "$T/tmux.sock" send-keys -t pl C-c
	wait_exit 60
	[ "$(cat "$T/exit")" = EXIT=130 ]
	s=$(screen)
	show "$s"
	[ "$(grep -c 'stopped by SIGINT' <<<"$s")" -eq 1 ]
	grep 'stopped by SIGINT' <<<"$s" | grep -q 'points already in Qdrant are kept'
	grep -q 'run the same command again to resume cheaply' <<<"$s"
	# no shell noise, no JSON, no blame on upstream, no stale status line
	! grep -qE '/proc/|No such file|Terminated|line [0-9]+:|upstream failed|\{"' <<<"$s" || false
	! grep -q '^plex-load: listed ' <<<"$s" || false
}

@test "pty: a whole run: the status line is redrawn at most 4 times a second, cleared at the end; one summary block" {
	start_fakes
	in_tmux
	t0=$SECONDS
	wait_exit 120
	secs=$((SECONDS - t0 + 1))
	[ "$(cat "$T/exit")" = EXIT=0 ]
	s=$(screen)
	show "$s"
	draws=$(grep -o $'\r\033\[Kplex-load: listed' "$T/raw" | wc -l)
	echo "# $draws redraws in about $secs s" >&3
	[ "$draws" -ge 2 ]
	[ "$draws" -le $((4 * secs + 1)) ]
	grep -qE '^plex-load: done in .*every stage succeeded' <<<"$s"
	grep -qE '^  items +[0-9]+ listed, [0-9]+ enriched' <<<"$s"
	grep -qE '^  requests +plex [0-9]+, tmdb [1-9][0-9]*, imdb [0-9]+, qdrant [1-9][0-9]*, embeddings [1-9]' <<<"$s"
	grep -qE '^  points +[1-9][0-9]* upserted, 0 unchanged \(skipped\), 0 dead-lettered, 0 deleted' <<<"$s"
	# no per-stage key=value summaries, no JSON records, no leftover status line
	! grep -qE 'summary:|\{"|^plex-load: listed' <<<"$s" || false
}

@test "pty: off a terminal: a plain progress line every PLEXLOAD_PROGRESS_SECONDS, results on stdout; -q: none" {
	start_fakes
	bash "$T/run.sh" >"$T/out" 2>"$T/err"
	[ "$(cat "$T/exit")" = EXIT=0 ]
	grep -qE '^plex-load: progress: listed [0-9]+' "$T/err"
	! grep -q $'\r' "$T/err" || false
	grep -q '"kind":"result"' "$T/out"
	rm -f "$T/exit"
	bash "$T/run.sh" -q >"$T/out" 2>"$T/err"
	[ "$(cat "$T/exit")" = EXIT=0 ]
	[ ! -s "$T/err" ]
}

@test "pty: --log-format json: every line on stderr is a JSON record, the stages' summaries and plex-load's among them" {
	start_fakes
	bash "$T/run.sh" --log-format json >"$T/out" 2>"$T/err"
	[ "$(cat "$T/exit")" = EXIT=0 ]
	jq -e -c . "$T/err" >/dev/null
	[ "$(jq -r 'select(.msg == "summary") | .prog' "$T/err" | sort | tr '\n' ' ')" = "meta-enrich plex-ingest plex-load qdrant-upsert " ]
}
