#!/usr/bin/env bash
# Runs an official protocol conformance suite against examples/conformance.
#
# usage: test/conformance/run.sh [engine.io|socket.io] [suites-dir]
#
#   suite       engine.io (default): engine.io-protocol/v4-test-suite, served at /engine.io/
#               socket.io:           socket.io-protocol/v5-test-suite, served at /socket.io/
#   suites-dir  where the fetched suites live (default /work/suites/docs, or $SUITES_DIR)
#
# The suite is copied to a temporary directory and its npm dependencies are
# installed there; nothing is written to the repository. The suites talk to
# http://localhost:3000, so the server listens on 127.0.0.1:3000.
# Prints "conformance <suite>: N passing, N failing" and exits non-zero on failure.
set -euo pipefail

suite=${1:-engine.io}
suites_dir=${2:-${SUITES_DIR:-/work/suites/docs}}
addr=127.0.0.1:3000

case "$suite" in
  engine.io) src="$suites_dir/engine.io-protocol/v4-test-suite" ;;
  socket.io) src="$suites_dir/socket.io-protocol/v5-test-suite" ;;
  *) echo "unknown suite '$suite' (engine.io or socket.io)" >&2; exit 2 ;;
esac
[ -f "$src/test-suite.js" ] || { echo "suite not found: $src" >&2; exit 2; }

repo=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

cp -r "$src/." "$work/suite"
echo "installing the $suite suite's npm dependencies..."
(cd "$work/suite" && npm install --no-audit --no-fund --loglevel=error >/dev/null)

# Build first, then run the binary: killing `go run` would not stop its child.
(cd "$repo" && go build -o "$work/conformance" ./examples/conformance)
if (exec 3<>"/dev/tcp/${addr%:*}/${addr#*:}") 2>/dev/null; then
  echo "something already listens on $addr" >&2
  exit 1
fi
"$work/conformance" -addr "$addr" &
server_pid=$!
for _ in $(seq 100); do
  (exec 3<>"/dev/tcp/${addr%:*}/${addr#*:}") 2>/dev/null && break
  kill -0 "$server_pid" 2>/dev/null || { echo "conformance server exited" >&2; exit 1; }
  sleep 0.1
done

set +e
(cd "$work/suite" && npx mocha --reporter spec test-suite.js) | tee "$work/out.txt"
status=${PIPESTATUS[0]}
set -e

passing=$(grep -Eo '[0-9]+ passing' "$work/out.txt" | grep -Eo '[0-9]+' || echo 0)
failing=$(grep -Eo '[0-9]+ failing' "$work/out.txt" | grep -Eo '[0-9]+' || echo 0)
echo "conformance $suite: $passing passing, $failing failing"
exit "$status"
