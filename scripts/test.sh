#!/usr/bin/env bash
# The test suite (what `npm test` and CI run): typecheck, then the tests in two lanes side by side,
# the Frama-C proofs (tests/c-proof-*.test.ts) and everything else. One lane after the other left a
# core idle most of the time (WP's simplifier is single-threaded); side by side the suite takes
# about as long as the proofs. Each lane's lines are prefixed with its name; exit 1 if either fails.
set -uo pipefail
cd "$(dirname "$0")/.."
npx tsc -p tsconfig.json --noEmit || exit 1
lane() {
  local name=$1
  shift
  node --import tsx node_modules/uvu/bin.js tests '\.test\.ts$' "$@" 2>&1 | sed -u "s/^/[$name] /"
  return "${PIPESTATUS[0]}"
}
lane proofs -i '^(?!c-proof-)' &
proofs=$!
lane rest -i '^c-proof-' &
rest=$!
status=0
wait "$proofs" || status=1
wait "$rest" || status=1
echo "test lanes (proofs, rest): exit $status"
exit $status
