#!/usr/bin/env bash
# bench/compare.sh — Go benchmarks of two revisions, compared with benchstat.
#
#   bench/compare.sh OLD [NEW]
#
# OLD and NEW are git revisions (NEW defaults to the working tree, with its
# uncommitted changes). Each is checked out in a temporary worktree; the
# benchmarks run alternately (old, new, old, new, ...) so that a change in
# machine load hits both sides alike, then benchstat prints the comparison.
#
# Settings (environment): PKGS (the hot paths: ./engineio ./socketio
# ./internal/notify ./internal/auth/redissession), BENCH (.), COUNT (6),
# BENCHTIME (default of go test), OUT (a directory to keep old.txt and
# new.txt in; default a temporary one). The session-lookup benchmarks need
# HERALD_TEST_REDIS (scripts/test.sh starts one), or they skip.
#
#   bench/compare.sh HEAD~1
#   PKGS=./internal/notify BENCH=Parse bench/compare.sh main~3 main
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="/usr/local/go/bin:$PATH"
[ $# -ge 1 ] || { sed -n '2,16p' "$0" >&2; exit 2; }
OLD=$1
NEW=${2:-}
PKGS=${PKGS:-./engineio ./socketio ./internal/notify ./internal/auth/redissession}
BENCH=${BENCH:-.}
COUNT=${COUNT:-6}
BENCHSTAT=golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da

WORK=$(mktemp -d)
OUT=${OUT:-$WORK}
mkdir -p "$OUT"
cleanup() {
	git worktree remove --force "$WORK/old" >/dev/null 2>&1 || true
	[ -z "$NEW" ] || git worktree remove --force "$WORK/new" >/dev/null 2>&1 || true
	[ "$OUT" = "$WORK" ] || rm -rf "$WORK"
}
trap cleanup EXIT

git worktree add --detach "$WORK/old" "$OLD" >/dev/null
NEWDIR=$PWD
if [ -n "$NEW" ]; then
	git worktree add --detach "$WORK/new" "$NEW" >/dev/null
	NEWDIR=$WORK/new
fi
args=(test -run '^$' -bench "$BENCH" -benchmem -count 1)
[ -z "${BENCHTIME:-}" ] || args+=(-benchtime "$BENCHTIME")
: >"$OUT/old.txt"
: >"$OUT/new.txt"
for i in $(seq "$COUNT"); do
	echo "run $i/$COUNT" >&2
	# shellcheck disable=SC2086 # PKGS is a list
	(cd "$WORK/old" && go "${args[@]}" $PKGS) >>"$OUT/old.txt"
	# shellcheck disable=SC2086
	(cd "$NEWDIR" && go "${args[@]}" $PKGS) >>"$OUT/new.txt"
done
echo "raw results: $OUT/old.txt $OUT/new.txt" >&2
go run "$BENCHSTAT" "$OUT/old.txt" "$OUT/new.txt"
