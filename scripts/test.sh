#!/usr/bin/env bash
# The test suite (what `npm test` and CI run): typecheck, then the tests in three lanes side by side:
# the Frama-C proofs of the runtime structures (tests/c-proof-runtime.test.ts), the other Frama-C
# proofs (generated NFs, packet.h, lemmas) and everything else. WP's simplifier is single-threaded,
# so one lane of proofs left a core mostly idle once the other tests were done: in session 7's CI
# (two lanes) the rest ended after 488 s and the proofs after 987 s, using 1.1 of the 2 cores in
# between. Each lane's lines are prefixed with its name; exit 1 if any fails.
set -uo pipefail
cd "$(dirname "$0")/.."
npx tsc -p tsconfig.json --noEmit || exit 1
lane() {
  local name=$1
  shift
  node --import tsx node_modules/uvu/bin.js tests '\.test\.ts$' "$@" 2>&1 | sed -u "s/^/[$name] /"
  return "${PIPESTATUS[0]}"
}
lane runtime-proofs -i '^(?!c-proof-runtime\.)' &
runtime_proofs=$!
lane proofs -i '^(?!c-proof-)|^c-proof-runtime\.' &
proofs=$!
lane rest -i '^c-proof-' &
rest=$!
status=0
wait "$runtime_proofs" || status=1
wait "$proofs" || status=1
wait "$rest" || status=1
echo "test lanes (runtime-proofs, proofs, rest): exit $status"
exit $status
