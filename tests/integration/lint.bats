#!/usr/bin/env bats
# lint.bats: every shell script of the project passes shellcheck, and C builds warning-free.

setup() {
	cd "$PLEXPIPE_TOP" || return 1
}

@test "shellcheck: scripts, CI, test runner, benchmarks and test helpers" {
	command -v shellcheck >/dev/null || skip "shellcheck not installed (scripts/install-deps installs it)"
	files=(scripts/plex-load scripts/demo scripts/install-deps .ci/run tests/run bench/run
		bench/*.sh tests/integration/helpers.bash tests/integration/enrich_fakes.bash tests/integration/fake-stages/* tests/valgrind/run tests/fuzz/run)
	run shellcheck -x "${files[@]}"
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "shellcheck: the bats files themselves (as bash)" {
	command -v shellcheck >/dev/null || skip "shellcheck not installed"
	run shellcheck -s bash -e SC2034,SC2030,SC2031,SC2164,SC1091,SC2154,SC2016 tests/integration/*.bats
	echo "$output"
	[ "$status" -eq 0 ]
}
