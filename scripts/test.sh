#!/usr/bin/env bash
# scripts/test.sh — run herald's whole test suite. This is THE test command
# (CI's .ci/run calls exactly this). Works on a fresh Debian machine:
#
#   scripts/test.sh
#
# What it does, in order:
#   1. installs what is missing, idempotently and quietly (apt: redis-server,
#      nodejs/npm, chromium for the browser test, Ruby with Rails 6.1, Devise
#      and redis-actionpack for the Rails tests; npm ci in test/interop and
#      test/browser when node_modules is missing or stale)
#   2. starts a throwaway redis-server on 127.0.0.1:6390 (unless one already
#      answers there) and exports HERALD_TEST_REDIS; stops it at exit if it
#      started it
#   3. gofmt -l (must print nothing), go vet ./...
#   4. go test -race -shuffle=on -count=1 ./...
#   5. every Go fuzz target, briefly: -fuzztime=${FUZZTIME:-5s} each
# It runs every check even after a failure and exits non-zero if any failed.
#
# Environment:
#   FUZZTIME           per fuzz target (default 5s; e.g. FUZZTIME=30s, or 100x)
#   HERALD_REDIS_PORT  port of the throwaway redis (default 6390)
# Runs as root (CI) or via sudo when not root, for apt-get only.

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD

FUZZTIME=${FUZZTIME:-5s}
REDIS_PORT=${HERALD_REDIS_PORT:-6390}

# ------------------------------------------------------------------ helpers

section() { printf '\n==== %s ====\n' "$*"; }
info() { printf '  %s\n' "$*"; }
die() {
	printf 'test.sh: %s\n' "$*" >&2
	exit 1
}

as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		die "need root (or sudo) to run: $*"
	fi
}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/herald-test.XXXXXX")
REDIS_STARTED=

cleanup() {
	local rc=$?
	if [ -n "$REDIS_STARTED" ]; then
		redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
		# redis removes its pidfile when it exits; kill it if it did not
		for _ in $(seq 50); do [ -e "$WORK/redis.pid" ] || break; sleep 0.1; done
		if [ -s "$WORK/redis.pid" ]; then
			kill "$(cat "$WORK/redis.pid")" 2>/dev/null || true
		fi
		echo "test.sh: stopped the redis-server it started on port $REDIS_PORT"
	fi
	rm -rf "$WORK"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# run_quiet LOGNAME CMD...: run CMD with its output in a log, shown on failure.
run_quiet() {
	local log="$WORK/$1.log"
	shift
	if ! "$@" >"$log" 2>&1; then
		cat "$log" >&2
		die "failed: $*"
	fi
}

FAILED=()
PASSED=()
# step NAME CMD...: run a check; record the result; never abort the script.
step() {
	local name=$1
	shift
	section "$name"
	local start=$SECONDS
	if "$@"; then
		PASSED+=("$name")
		info "-> ok: $name ($((SECONDS - start))s)"
	else
		FAILED+=("$name")
		info "-> FAILED: $name ($((SECONDS - start))s)"
	fi
}

# ------------------------------------------------------------------ setup

section "setup: system packages"
export PATH="/usr/local/go/bin:$PATH"
# command -> Debian package that provides it
declare -A NEED=(
	[redis-server]=redis-server
	[redis-cli]=redis-server
	[node]=nodejs
	[npm]=npm
	[ruby]=ruby
)
missing=()
for cmd in "${!NEED[@]}"; do
	if ! command -v "$cmd" >/dev/null 2>&1; then
		pkg=${NEED[$cmd]}
		[[ " ${missing[*]-} " == *" $pkg "* ]] || missing+=("$pkg")
	fi
done
# The browser test (test/browser) drives Debian's Chromium at this path;
# playwright-core never downloads a browser.
if [ ! -x /usr/bin/chromium ]; then
	missing+=(chromium)
fi
# Debian packages with no command of their own, checked by name: the gems of
# the end-to-end test with a real Rails + Devise app (test/rails), which runs
# on Debian's Rails 6.1 with no Bundler and no network.
RUBY_PKGS=(ruby-rails ruby-devise ruby-redis-actionpack ruby-sqlite3)
for pkg in "${RUBY_PKGS[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$pkg")
	fi
done
if [ ${#missing[@]} -gt 0 ]; then
	info "installing with apt-get: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	run_quiet apt-update as_root apt-get update -qq
	run_quiet apt-install as_root env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
	info "all present: ${!NEED[*]} /usr/bin/chromium ${RUBY_PKGS[*]}"
fi

command -v go >/dev/null 2>&1 ||
	die "the Go toolchain was not found: install Go (see go.mod for the version) to /usr/local/go"
info "$(go version); node $(node --version); $(redis-server --version | cut -d' ' -f1-3); $(ruby --version | cut -d' ' -f1-2)"

# npm_ci DIR: npm ci in DIR unless its node_modules was installed from the
# same package.json and package-lock.json (a stamp holds their hash).
npm_ci() {
	local dir=$ROOT/$1 want stamp
	stamp=$dir/node_modules/.herald-installed
	want=$(cat "$dir/package.json" "$dir/package-lock.json" | sha256sum | cut -d' ' -f1)
	if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
		info "node_modules up to date"
	else
		info "running npm ci"
		(cd "$dir" && run_quiet "npm-ci-${1//\//-}" npm ci --no-audit --no-fund --loglevel=error)
		echo "$want" >"$stamp"
	fi
}

section "setup: npm ci in test/interop"
npm_ci test/interop

section "setup: npm ci in test/browser"
# playwright-core only: it downloads no browser (test/browser uses /usr/bin/chromium).
npm_ci test/browser

section "setup: redis-server on 127.0.0.1:$REDIS_PORT"
if [ "$(redis-cli -p "$REDIS_PORT" ping 2>/dev/null)" = "PONG" ]; then
	info "a redis-server already answers on port $REDIS_PORT: using it (and leaving it running)"
else
	redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
		--daemonize yes --notify-keyspace-events KEA \
		--dir "$WORK" --pidfile "$WORK/redis.pid" --logfile "$WORK/redis.log"
	REDIS_STARTED=1
	for _ in $(seq 100); do
		[ "$(redis-cli -p "$REDIS_PORT" ping 2>/dev/null)" = "PONG" ] && break
		sleep 0.1
	done
	if [ "$(redis-cli -p "$REDIS_PORT" ping 2>/dev/null)" != "PONG" ]; then
		cat "$WORK/redis.log" >&2 || true
		die "redis-server did not answer on port $REDIS_PORT within 10s"
	fi
	info "started (pid $(cat "$WORK/redis.pid"))"
fi
export HERALD_TEST_REDIS="redis://127.0.0.1:$REDIS_PORT/0"
info "HERALD_TEST_REDIS=$HERALD_TEST_REDIS"
# Everything the tests need is installed now: a test that would skip for a
# missing part fails instead (internal/testenv).
export HERALD_TEST_STRICT=1

# ------------------------------------------------------------------ checks

check_gofmt() {
	local files out rc=0
	mapfile -t files < <(find . \( -name .git -o -name node_modules \) -prune -o -type f -name '*.go' -print)
	if [ ${#files[@]} -eq 0 ]; then
		info "no Go files"
		return 0
	fi
	out=$(gofmt -l "${files[@]}") || rc=$?
	if [ -n "$out" ]; then
		echo "these files need gofmt -w:"
		echo "$out"
		return 1
	fi
	return "$rc"
}

check_fuzz() {
	local listing rc=0 line pkg name log ran=0 failed=0
	local -a names=() targets=()
	# `go test -list` prints each package's matching names, then its "ok" line.
	listing=$(go test -list '^Fuzz' ./... 2>&1) || rc=$?
	while IFS= read -r line; do
		case $line in
		Fuzz*) names+=("$line") ;;
		ok*)
			pkg=$(awk '{print $2}' <<<"$line")
			for name in "${names[@]+"${names[@]}"}"; do targets+=("$pkg $name"); done
			names=()
			;;
		*) names=() ;;
		esac
	done <<<"$listing"
	if [ "$rc" -ne 0 ]; then
		echo "go test -list failed (fuzz targets of the packages below were not discovered):"
		grep -vE '^(Fuzz|ok |\? )' <<<"$listing" || true
		failed=1
	fi
	if [ ${#targets[@]} -eq 0 ]; then
		info "no fuzz targets found"
		return "$failed"
	fi
	info "${#targets[@]} fuzz target(s), -fuzztime=$FUZZTIME each"
	for t in "${targets[@]}"; do
		pkg=${t% *}
		name=${t#* }
		log=$WORK/fuzz-$ran.log
		ran=$((ran + 1))
		echo "--- fuzz $pkg $name"
		if go test -run='^$' -fuzz="^${name}\$" -fuzztime="$FUZZTIME" "$pkg" 2>&1 | tee "$log"; then
			continue
		fi
		# Go's fuzz coordinator can fail a duration-bounded run with a bare
		# "context deadline exceeded" as -fuzztime expires (golang/go#75804),
		# with no failing input. That is not a finding: report, don't fail.
		if grep -qx '[[:space:]]*context deadline exceeded' "$log" &&
			! grep -q 'Failing input written to' "$log" && ! grep -q '^panic:' "$log"; then
			echo "--- WARNING: fuzz $pkg $name: bare 'context deadline exceeded' at -fuzztime expiry" \
				"(Go fuzzing coordinator race, golang/go#75804), no failing input: not counted as a failure"
			continue
		fi
		echo "--- FAILED: fuzz $pkg $name (a failing input, if any, is in the package's testdata/fuzz/$name/)"
		failed=1
	done
	return "$failed"
}

step "gofmt -l" check_gofmt
step "go vet ./..." go vet ./...
step "go test -race -shuffle=on -count=1 ./..." go test -race -shuffle=on -count=1 ./...
step "fuzz (-fuzztime=$FUZZTIME per target)" check_fuzz

# ------------------------------------------------------------------ summary

section "summary"
for s in "${PASSED[@]+"${PASSED[@]}"}"; do info "ok      $s"; done
for s in "${FAILED[@]+"${FAILED[@]}"}"; do info "FAILED  $s"; done
if [ ${#FAILED[@]} -gt 0 ]; then
	echo "test.sh: FAILED (${#FAILED[@]} of $((${#PASSED[@]} + ${#FAILED[@]})) checks)"
	exit 1
fi
echo "test.sh: all checks passed"
