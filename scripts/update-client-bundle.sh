#!/usr/bin/env bash
# scripts/update-client-bundle.sh — refresh the socket.io-client browser
# bundle that the demo page loads (herald serves it at /socket.io.min.js).
#
#   scripts/update-client-bundle.sh          # the version pinned below
#   scripts/update-client-bundle.sh 4.8.5    # another version
#
# It fetches socket.io-client from the npm registry (npm pack), copies its
# dist/socket.io.min.js (which starts with its MIT license header) to
# internal/demo/static/, and writes the package's LICENSE next to it. Keep
# the version in step with test/interop/package.json, then run
# `go test ./internal/demo ./test/browser` and commit both files.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
VERSION=${1:-4.8.4}
DEST=internal/demo/static

command -v npm >/dev/null 2>&1 || {
	echo "update-client-bundle.sh: npm not found (apt-get install npm)" >&2
	exit 1
}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/herald-bundle.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

tarball=$(cd "$TMP" && npm pack --silent "socket.io-client@$VERSION" | tail -n1)
tar -xzf "$TMP/$tarball" -C "$TMP"
pkg=$TMP/package
got=$(node -p 'require(process.argv[1]).version' "$pkg/package.json")
[ "$got" = "$VERSION" ] || {
	echo "update-client-bundle.sh: npm gave socket.io-client $got, not $VERSION" >&2
	exit 1
}
head -c 300 "$pkg/dist/socket.io.min.js" | grep -q "Socket.IO v$VERSION" &&
	head -c 300 "$pkg/dist/socket.io.min.js" | grep -q "MIT License" || {
	echo "update-client-bundle.sh: dist/socket.io.min.js lacks its 'Socket.IO v$VERSION ... MIT License' header" >&2
	exit 1
}

mkdir -p "$DEST"
cp "$pkg/dist/socket.io.min.js" "$DEST/socket.io.min.js"
{
	echo "socket.io-client $VERSION (https://github.com/socketio/socket.io, packages/socket.io-client),"
	echo "vendored as static/socket.io.min.js by scripts/update-client-bundle.sh."
	echo
	cat "$pkg/LICENSE"
	echo
} >"$DEST/LICENSE.socket.io-client"

echo "socket.io-client $VERSION -> $DEST/socket.io.min.js ($(wc -c <"$DEST/socket.io.min.js") bytes, sha256 $(sha256sum "$DEST/socket.io.min.js" | cut -c1-16)…)"
