#!/usr/bin/env bats
# install-deps.bats: scripts/install-deps on a system it cannot query (no dpkg-query) must not block make.

load helpers

setup() {
	TOP=$PLEXPIPE_TOP
	# a PATH with the basic tools but no dpkg-query and no apt-get
	mkdir "$BATS_TEST_TMPDIR/bin"
	for t in bash grep id cat printf; do
		p=$(command -v "$t") || continue
		[ "${p#/}" != "$p" ] || continue	# a builtin: nothing to link
		ln -s "$p" "$BATS_TEST_TMPDIR/bin/$t"
	done
}

@test "install-deps --check-or-install without dpkg-query: warns, names the packages, exits 0" {
	run env PATH="$BATS_TEST_TMPDIR/bin" "$BATS_TEST_TMPDIR/bin/bash" \
		"$TOP/scripts/install-deps" --check-or-install
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *dpkg-query* ]]
	[[ "$output" == *libjson-c-dev* ]]
}

@test "install-deps without dpkg-query, asked directly: exits 1 with the list" {
	run env PATH="$BATS_TEST_TMPDIR/bin" "$BATS_TEST_TMPDIR/bin/bash" \
		"$TOP/scripts/install-deps"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *libjson-c-dev* ]]
}
