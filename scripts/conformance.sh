#!/usr/bin/env bash
# scripts/conformance.sh — LOCAL USE ONLY (not part of scripts/test.sh or CI).
#
# Runs the official Engine.IO v4 and Socket.IO v5 protocol test suites against
# herald's conformance server (./test/conformance, on localhost:3000).
#
# The suites are NOT in this repository (never commit them). Copy them first
# from the socket.io monorepo:
#   docs/engine.io-protocol/v4-test-suite  ->  $CONFORMANCE_DIR/engine.io-v4
#   docs/socket.io-protocol/v5-test-suite  ->  $CONFORMANCE_DIR/socket.io-v5
# CONFORMANCE_DIR defaults to /tmp/sio-conformance.
#
# Usage:
#   scripts/conformance.sh                 # both suites
#   scripts/conformance.sh socket.io-v5    # just one
# Environment:
#   CONFORMANCE_DIR     where the suites are (default /tmp/sio-conformance)
#   CONFORMANCE_SERVER  command to run instead of the built ./test/conformance
#                       (e.g. a reference server, to check the suites themselves)
#   MOCHA_ARGS          extra mocha arguments, e.g. MOCHA_ARGS='--grep upgrade'
#
# The server is built with `go build` and run as a binary (equivalent to
# `go run ./test/conformance`, but a killed `go run` leaves its child running
# and holding the port). Logs: $CONFORMANCE_DIR/logs/.

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="/usr/local/go/bin:$PATH"

DIR=${CONFORMANCE_DIR:-/tmp/sio-conformance}
PORT=3000 # hard-coded in the suites (http://localhost:3000)
if [ $# -gt 0 ]; then
	SUITES=("$@")
else
	SUITES=(engine.io-v4 socket.io-v5)
fi
LOGS=$DIR/logs

die() {
	printf 'conformance.sh: %s\n' "$*" >&2
	exit 1
}

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }

for s in "${SUITES[@]}"; do
	[ -f "$DIR/$s/test-suite.js" ] ||
		die "$DIR/$s/test-suite.js not found: copy the official suite there (see the header of this script)"
done
command -v node >/dev/null 2>&1 || die "node not found"
mkdir -p "$LOGS"

# npm ci when node_modules is missing or older than the lock file
for s in "${SUITES[@]}"; do
	stamp=$DIR/$s/node_modules/.herald-installed
	want=$(cat "$DIR/$s/package.json" "$DIR/$s/package-lock.json" | sha256sum | cut -d' ' -f1)
	if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
		echo "==== npm ci in $DIR/$s"
		(cd "$DIR/$s" && npm ci --no-audit --no-fund --loglevel=error) >"$LOGS/npm-ci-$s.log" 2>&1 ||
			{
				cat "$LOGS/npm-ci-$s.log" >&2
				die "npm ci failed in $DIR/$s"
			}
		echo "$want" >"$stamp"
	fi
done

if listening; then
	die "something already listens on port $PORT; stop it first (the suites can only use localhost:$PORT)"
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/herald-conformance.XXXXXX")
SERVER_PID=
# shellcheck disable=SC2317 # invoked by trap
cleanup() {
	local rc=$?
	if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
		kill -TERM "$SERVER_PID" 2>/dev/null || true
		for _ in $(seq 50); do
			kill -0 "$SERVER_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
	fi
	rm -rf "$WORK"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ -n "${CONFORMANCE_SERVER:-}" ]; then
	echo "==== starting: $CONFORMANCE_SERVER"
	bash -c "exec $CONFORMANCE_SERVER" >"$LOGS/server.log" 2>&1 &
else
	echo "==== go build ./test/conformance"
	go build -o "$WORK/conformance" ./test/conformance
	echo "==== starting the conformance server on localhost:$PORT"
	"$WORK/conformance" >"$LOGS/server.log" 2>&1 &
fi
SERVER_PID=$!
for _ in $(seq 150); do
	listening && break
	kill -0 "$SERVER_PID" 2>/dev/null || {
		cat "$LOGS/server.log" >&2
		die "the server exited before listening on port $PORT"
	}
	sleep 0.1
done
listening || die "the server does not listen on port $PORT after 15s (log: $LOGS/server.log)"

declare -A RESULT
failed=0
for s in "${SUITES[@]}"; do
	echo
	echo "==== $s: npm test"
	rc=0
	# shellcheck disable=SC2086 # MOCHA_ARGS is split on purpose
	(cd "$DIR/$s" && npm test --silent -- ${MOCHA_ARGS:-}) 2>&1 | tee "$LOGS/$s.log" || rc=$?
	passing=$(grep -Eo '[0-9]+ passing' "$LOGS/$s.log" | tail -1 | cut -d' ' -f1 || true)
	failing=$(grep -Eo '[0-9]+ failing' "$LOGS/$s.log" | tail -1 | cut -d' ' -f1 || true)
	pending=$(grep -Eo '[0-9]+ pending' "$LOGS/$s.log" | tail -1 | cut -d' ' -f1 || true)
	RESULT[$s]="${passing:-0} passing, ${failing:-0} failing${pending:+, $pending pending} (mocha exit $rc)"
	[ "$rc" -eq 0 ] || failed=1
	if ! kill -0 "$SERVER_PID" 2>/dev/null; then
		echo "!! the server died during $s; see $LOGS/server.log" >&2
		failed=1
		break
	fi
done

echo
echo "==== conformance summary (logs in $LOGS)"
for s in "${SUITES[@]}"; do
	printf '  %-14s %s\n' "$s" "${RESULT[$s]:-not run}"
done
exit "$failed"
